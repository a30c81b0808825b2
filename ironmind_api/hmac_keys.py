"""HS256/384/512 with the secret's checks done once, not on every token.

Before every HMAC signature check PyJWT's ``HMACAlgorithm.prepare_key`` makes sure the secret
is not an asymmetric key (PEM and SSH markers, three DER parsers, a JSON parse): some 35 us per
request, for a verdict that depends only on the secret's bytes, which are the same for every
token. The subclass below keeps that verdict per secret: a secret that passed is returned as
the same bytes PyJWT would return; one that fails still raises every time (nothing cached).
The signature itself, the algorithm allow-list and the claims are checked on every decode as
before. It is installed through PyJWT's public ``register_algorithm``.
"""

from functools import lru_cache

import jwt
from jwt.algorithms import HMACAlgorithm
from jwt.utils import force_bytes

# The API has one HMAC secret; a few more (tests with other configurations) fit.
MEMO_SIZE = 8
HASHES = {
    "HS256": HMACAlgorithm.SHA256,
    "HS384": HMACAlgorithm.SHA384,
    "HS512": HMACAlgorithm.SHA512,
}


class CheckedOnceHMAC(HMACAlgorithm):
    def prepare_key(self, key):
        return _prepared(force_bytes(key))  # a key neither str nor bytes: PyJWT's TypeError


@lru_cache(maxsize=MEMO_SIZE)
def _prepared(key_bytes):
    # The verdict does not depend on the hash, so one plain instance answers for all three.
    return _CHECKER.prepare_key(key_bytes)


_CHECKER = HMACAlgorithm(HMACAlgorithm.SHA256)


def install():
    """Use the checked-once HMAC for PyJWT's module-level encode/decode (idempotent)."""
    for name, hash_alg in HASHES.items():
        if isinstance(jwt.get_algorithm_by_name(name), CheckedOnceHMAC):
            continue
        jwt.unregister_algorithm(name)
        jwt.register_algorithm(name, CheckedOnceHMAC(hash_alg))
