"""Better Auth JWT-plugin tokens' public keys: the JWKS, fetched and cached per process."""

import logging
import threading
import time

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from jwt import PyJWKClient
from jwt.exceptions import InvalidTokenError, PyJWKClientError, PyJWKSetError

from ..errors import ServiceUnavailable
from ..metrics import jwks_fetches

log = logging.getLogger(__name__)


class KeySet:
    """The JWKS's signing keys by ``kid``: cached, and fetched at most once per interval.

    A fetch happens when the cache is older than ``max_age`` or a token names an unknown
    ``kid`` (a key rotation), but never twice within ``refetch_interval``: a flood of
    made-up ``kid``s costs the auth server one request per interval and per process.
    When the JWKS cannot be fetched, keys already known keep working.
    """

    def __init__(self, url, algorithms, fetch_timeout, refetch_interval, max_age):
        # PyJWT does the HTTP and JWK parsing; its own cache is off because this class
        # decides when to fetch (its cooldown only covers unknown kids, not failures).
        self._client = PyJWKClient(url, cache_jwk_set=False, timeout=fetch_timeout)
        self.algorithms = frozenset(algorithms)
        self._refetch_interval = refetch_interval
        self._max_age = max_age
        self._keys = {}
        self._fetched_at = None
        self._attempted_at = None
        self._reachable = True
        self._lock = threading.Lock()

    def key(self, kid):
        """The key for ``kid``; 401 for a ``kid`` the JWKS lacks, 503 if it cannot be fetched."""
        key = self._keys.get(kid)
        if key is not None and not self._stale():
            return key
        with self._lock:
            # Another request may have fetched while this one waited for the lock.
            key = self._keys.get(kid)
            if (key is None or self._stale()) and self._may_fetch():
                self._fetch()
            key = self._keys.get(kid)
        if key is not None:
            return key
        if not self._reachable:
            raise ServiceUnavailable(
                message="The token's signing keys cannot be fetched right now; try again shortly.",
                headers={"Retry-After": str(max(1, round(self._refetch_interval)))},
            )
        raise InvalidTokenError("no key in the JWKS matches the token's kid")

    def _stale(self):
        return self._fetched_at is None or time.monotonic() - self._fetched_at >= self._max_age

    def _may_fetch(self):
        last = self._attempted_at
        return last is None or time.monotonic() - last >= self._refetch_interval

    def _fetch(self):
        self._attempted_at = time.monotonic()
        try:
            keys = self._client.get_signing_keys(refresh=True)
        except (PyJWKClientError, PyJWKSetError, OSError, ValueError) as exc:
            self._reachable = False
            jwks_fetches.labels("failed").inc()
            log.warning("jwks fetch failed: %s", type(exc).__name__)
            return
        fetched = {key.key_id: key for key in keys if key.algorithm_name in self.algorithms}
        # A key that did not change keeps its object: the tokens it verified stay verified
        # (auth/verified_tokens.py compares a token's key by identity on every use).
        for kid, key in fetched.items():
            known = self._keys.get(kid)
            if known is not None and _same_public_key(known, key):
                fetched[kid] = known
        self._keys = fetched
        self._fetched_at = self._attempted_at
        self._reachable = True
        jwks_fetches.labels("ok").inc()
        log.info("jwks fetched: %d signing keys", len(self._keys))


def _same_public_key(one, other):
    if one.algorithm_name != other.algorithm_name:
        return False
    return _public_bytes(one) == _public_bytes(other)


def _public_bytes(jwk):
    return jwk.key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def key_set(config):
    """The app's JWKS key set when Better Auth JWT-plugin tokens are enabled, else None."""
    if not config["JWKS_URL"]:
        return None
    return KeySet(
        config["JWKS_URL"],
        config["JWKS_ALGORITHMS"],
        fetch_timeout=config["JWKS_FETCH_TIMEOUT"],
        refetch_interval=config["JWKS_REFETCH_INTERVAL"],
        max_age=config["JWKS_MAX_AGE"],
    )
