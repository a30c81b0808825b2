"""Every token the API accepts: where it is read, which key verifies it, why it is refused.

An access token passes these steps, in this order, once per request:

1. *Read*: the ``Authorization`` header's ``Bearer`` credential (the scheme in any case,
   RFC 9110 11.1), at most ``MAX_TOKEN_BYTES`` long. No header or another scheme is
   ``missing_token``; anything else wrong from here on is ``invalid_token``.
2. *Key*: an ``HS256`` token is verified with the shared secret (``BETTER_AUTH_SECRET``: the
   API's own tokens and the frontend's token exchange). With a JWKS configured, a token whose
   ``alg`` is one of ``JWKS_ALGORITHMS`` is verified with the JWKS key its ``kid`` names, and
   must carry the configured issuer and audience. The key's family always follows the token's
   ``alg``: an HMAC token never meets a public key, an asymmetric one never the secret.
3. *Verify*: one ``jwt.decode`` (PyJWT's public API): the signature, ``exp`` (required),
   ``nbf`` and ``iat`` within ``JWT_DECODE_LEEWAY``, ``iss``/``aud`` for JWKS tokens.
   An expired token is ``token_expired``. The token is parsed once; only with a JWKS
   configured is its header read first (``jwt.get_unverified_header``), to choose the key.
4. *Claims*: ``exp``, ``iat`` and ``nbf`` are integers between 0 and 9999-12-31, and the
   token lives at most ``MAX_TOKEN_LIFETIME`` (``exp - iat``, or ``exp - now`` without
   ``iat``); ``sub`` is a non-blank string of at most 255 characters, and neither it nor
   ``jti``/``fam``/``sid`` holds a control character or a lone surrogate (no database stores
   one); ``role``, when present, is such a string too (``"user,admin"`` names two roles); a
   refresh token is not an access token.
5. *Revocation*: neither the token nor its session (``fam``) is on the revocation list
   (``token_revoked``), asked on every request.
6. *Owner*: identity is (issuer, subject). The API's own tokens (HS256 with
   ``iss: ironmind-api``) speak for the local account ``sub``; every other token (the
   frontend's HS256 exchange, a JWKS token) for the Better Auth user ``sub``, whose data is
   kept under ``ba:<sub>`` (auth/models.py), so neither kind can reach the other's rows.
   Its roles are the ``role`` claim: written at issue time from the account's ``role``
   column for the API's own tokens, the frontend's for the others (``guard.roles_required``).
7. *Session*: with ``BETTER_AUTH_DATABASE_URL`` set, a frontend token carrying ``sid`` is
   accepted only while that Better Auth session lives and its user is not banned, and its
   role is the user row's (auth/better_auth_sessions.py): ``token_revoked``,
   ``account_disabled`` (403), or ``service_unavailable`` (503) when that database is down.
   ``BETTER_AUTH_REQUIRE_SESSION`` refuses frontend tokens without ``sid``.

Steps 2 to 4 and the owner of step 6 depend only on the token's text and the key, so an access
token that passed them is kept (auth/verified_tokens.py, ``TOKEN_CACHE_SIZE`` per process) and
a client sending it again skips the parse and the signature: on such a hit the token's expiry
(with the leeway) is compared again, a JWKS token's key must still be the one the key set
holds for its ``kid`` (a key that left the key set refuses it, as it would refuse a new one),
and steps 5 and 7 and the roles run as for a new token. The cache belongs to the app's
verification settings: another secret is another app, whose cache starts empty.

Refresh tokens (signout, refresh) go through the same verification with the secret only:
the API issues them, nobody else; their lifetime is bounded by ``REFRESH_TOKEN_TTL``.
"""

import re
import time
from dataclasses import dataclass
from typing import Any

import jwt
from flask import current_app

from ..errors import InvalidToken, MissingToken, TokenExpired, TokenRevoked
from . import revocation
from .jwks import key_set
from .models import MAX_USER_ID_LENGTH, better_auth_user_id, is_better_auth_user
from .verified_tokens import Verified, VerifiedTokens

BEARER = "bearer"
HMAC_ALGORITHM = "HS256"
MAX_SUBJECT_LENGTH = MAX_USER_ID_LENGTH
REQUIRED_CLAIMS = ("exp", "sub")
# Better Auth's admin plugin writes several roles as one comma-separated string.
MAX_ROLE_CLAIM_LENGTH = 255
TIME_CLAIMS = ("exp", "iat", "nbf")
# 9999-12-31T23:59:59Z: the last second a datetime (and so the revocation list) can hold.
MAX_NUMERIC_DATE = 253402300799
# C0 and C1 controls (NUL included) and lone surrogates: PostgreSQL stores none of them.
UNSAFE_TEXT = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclass(frozen=True)
class Identity:
    """Who a verified access token speaks for, and everything it says.

    ``user_id`` owns rows (a local account's id, or ``ba:<sub>`` for a Better Auth user);
    ``subject`` is the token's ``sub``, the id shown to the caller and written to logs;
    ``role`` is the token's ``role`` claim (one role, or several separated by commas).
    """

    user_id: str
    subject: str
    claims: dict[str, Any]
    role: str | None = None


class TokenPolicy:
    """One app's verification settings, read once from its config."""

    def __init__(self, config, sessions=None, revocation_copy=None):
        self.secret = config["JWT_SECRET_KEY"]
        self.leeway = config["JWT_DECODE_LEEWAY"]
        self.max_bytes = config["MAX_TOKEN_BYTES"]
        self.issuer = config["JWT_ISSUER"]
        self.audience = config["JWT_AUDIENCE"]
        self.max_lifetime = {
            "access": config["MAX_TOKEN_LIFETIME"],
            "refresh": config["REFRESH_TOKEN_TTL"],
        }
        self.keys = key_set(config)
        self.verified = VerifiedTokens(config["TOKEN_CACHE_SIZE"])
        self.sessions = sessions  # better_auth_sessions.SessionCheck, or None
        self.revocation_copy = revocation_copy  # revocation_cache.RevocationCache, or None


def init_app(app, sessions=None, revocation_copy=None):
    """Verify the app's tokens; ``sessions`` and ``revocation_copy`` are what those modules'
    init_app returned."""
    app.extensions["tokens"] = TokenPolicy(app.config, sessions, revocation_copy)


def verify_access_token(authorization):
    """The identity of the ``Authorization`` header's bearer token, or a 401 (or 503) error."""
    policy = _policy()
    token = _bearer_token(authorization, policy)
    verified = policy.verified.get(token, time.time())
    if verified is None or not _key_still_current(verified, policy):
        verified = _verify_access(token, policy)
    if revocation.any_revoked(verified.revocation_keys, policy.revocation_copy):
        raise TokenRevoked()
    identity = verified.identity
    if policy.sessions is not None and is_better_auth_user(identity.user_id):  # the frontend's
        return policy.sessions.check(identity)
    return identity


def _verify_access(token, policy):
    """Steps 2 to 4 and the owner, for a token not verified before; kept for its next use."""
    claims, jwks_key = _decode(token, policy, "access")
    identity = Identity(
        user_id=_owner(claims, jwks_key is None),
        subject=claims["sub"],
        claims=claims,
        role=claims.get("role"),
    )
    verified = Verified(
        identity=identity,
        revocation_keys=revocation.revocation_keys(claims),
        expires_at=claims["exp"] + policy.leeway,
        jwks_key=jwks_key,
    )
    policy.verified.add(token, verified)
    return verified


def _key_still_current(verified, policy):
    """A JWKS token's key must still be the key set's for its kid; the secret is fixed."""
    if verified.jwks_key is None:
        return True
    kid, key = verified.jwks_key
    try:
        return policy.keys.key(kid) is key
    except jwt.PyJWTError:  # the kid left the key set: verified again, and refused there
        return False


def verify_refresh_token(token, allow_expired=False):
    """The claims of one of the API's own refresh tokens, or a 401 error."""
    policy = _policy()
    _check_size(token, policy)
    claims, _ = _decode(token, policy, "refresh", allow_expired=allow_expired, hmac_only=True)
    if claims.get("type") != "refresh":
        raise InvalidToken(message="A refresh token is required.")
    return claims


def _policy():
    return current_app.extensions["tokens"]


def _owner(claims, hmac_signed):
    """The user id that owns the token's rows: issuer and subject together."""
    subject = claims["sub"]
    if not _from_frontend(claims, hmac_signed):
        return subject
    if hmac_signed and "fam" in claims:
        # A session token of this API minted before it named itself: a refresh mints one
        # that does, instead of this one being read as a Better Auth user's.
        raise InvalidToken(message="The access token is invalid: refresh it for a current one.")
    user_id = better_auth_user_id(subject)
    if len(user_id) > MAX_USER_ID_LENGTH:
        raise InvalidToken(message="The access token's claims are not acceptable.")
    return user_id


def _from_frontend(claims, hmac_signed):
    """Whether a Better Auth frontend minted the token: all but the API's own."""
    return not (hmac_signed and claims.get("iss") == revocation.API_ISSUER)


def _bearer_token(authorization, policy):
    if not authorization:
        raise MissingToken()
    _check_size(authorization, policy)
    parts = authorization.split()
    if not parts or parts[0].lower() != BEARER:
        raise MissingToken()
    if len(parts) != 2:
        raise InvalidToken(message="The access token is invalid: expected 'Bearer <token>'.")
    return parts[1]


def _check_size(token, policy):
    if len(token) > policy.max_bytes:
        raise InvalidToken(message="The token is too large.")


def _decode(token, policy, kind, allow_expired=False, hmac_only=False):
    """Verify the token with the key its algorithm calls for; PyJWT's errors become 401s.

    Returns the claims and, for a JWKS token, the (kid, key) that verified it (None: the secret).
    """
    try:
        key, algorithm, expected, kid = _key_for(token, policy, hmac_only)
        claims = jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            leeway=policy.leeway,
            options={
                "require": list(REQUIRED_CLAIMS),
                "verify_exp": not allow_expired,
                # HS256 tokens name no audience: the shared secret is what binds them to us.
                "verify_aud": "audience" in expected,
            },
            **expected,
        )
    except jwt.ExpiredSignatureError:
        raise TokenExpired(message=f"The {kind} token has expired.") from None
    except jwt.PyJWTError as error:
        reason = str(error).rstrip(".") or type(error).__name__
        raise InvalidToken(message=f"The {kind} token is invalid: {reason}.") from None
    if kind == "access" and claims.get("type") == "refresh":
        raise InvalidToken(message="The access token is invalid: a refresh token was sent.")
    if not (_acceptable_times(claims, policy.max_lifetime[kind]) and _acceptable_text(claims)):
        raise InvalidToken(message=f"The {kind} token's claims are not acceptable.")
    return claims, (None if algorithm == HMAC_ALGORITHM else (kid, key))


def _key_for(token, policy, hmac_only):
    """(key, algorithm, expected iss/aud, kid) for this token: the secret (kid None) unless a
    JWKS key is due."""
    if hmac_only or policy.keys is None:
        return policy.secret, HMAC_ALGORITHM, {}, None
    header = jwt.get_unverified_header(token)
    algorithm = header.get("alg")
    if algorithm not in policy.keys.algorithms:
        # HS256, or an algorithm PyJWT then refuses as not allowed.
        return policy.secret, HMAC_ALGORITHM, {}, None
    expected = {"issuer": policy.issuer, "audience": policy.audience}
    kid = header.get("kid")
    return policy.keys.key(kid), algorithm, expected, kid


def _acceptable_times(claims, max_lifetime):
    """Integer times a datetime can hold, and a lifetime within the ceiling."""
    for name in TIME_CLAIMS:
        value = claims.get(name, 0)
        # type() rather than isinstance(): true and false are ints to Python, not to JSON.
        if type(value) is not int or not 0 <= value <= MAX_NUMERIC_DATE:
            return False
    start = claims["iat"] if "iat" in claims else int(time.time())
    return claims["exp"] - start <= max_lifetime


def _acceptable_text(claims):
    """A usable ``sub``, and no claim the API stores or looks up holding what no row can."""
    sub = claims.get("sub")
    if not (isinstance(sub, str) and 0 < len(sub) <= MAX_SUBJECT_LENGTH and sub.strip()):
        return False
    role = claims.get("role")
    if "role" in claims and not (isinstance(role, str) and len(role) <= MAX_ROLE_CLAIM_LENGTH):
        return False
    values = (sub, claims.get("jti"), claims.get("fam"), claims.get("sid"), role)
    return not any(isinstance(value, str) and UNSAFE_TEXT.search(value) for value in values)
