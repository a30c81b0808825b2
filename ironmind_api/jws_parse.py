"""Parse each token once per request: a memo of PyJWT's pure token parse.

flask-jwt-extended parses the same token four times per request (the unverified header for
the view decorator, an unverified decode and the header for the decode-key loader, then the
verified decode), and PyJWT 2.15 checks every base64url character in Python
(GHSA-hxm8-2xgr-2p9m), so each parse costs some 40-55 us. flask-jwt-extended offers no public
hook to hand it an already parsed token, so this wraps PyJWT's private ``PyJWS._load``, the one
function all four calls go through, with a small LRU memo.

What is cached is only the parse of exact token bytes into (payload bytes, signing input,
header, signature bytes): a pure function of those bytes. Nothing about verification is kept:
PyJWT still checks the algorithm, the signature with the key of the moment, exp/nbf/iat and
the audience on every decode, and a token whose bytes differ in any way (a forged signature
included) is a different key and parsed afresh. Parse errors are not cached: a malformed token
raises every time, as before. Each caller gets its own copy of the header dict.

This is a private API of PyJWT, so requirements.txt pins PyJWT and tests/test_jws_parse.py
fails loudly when the version, the signature or the behaviour of ``_load`` changes.
"""

import copy
from functools import lru_cache

from jwt.api_jws import PyJWS

# Written against this PyJWT; tests/test_jws_parse.py compares it with the installed one.
PYJWT_VERSION = "2.15.1"
# The memo only has to span one request's four parses per thread; 64 entries of tokens of at
# most MAX_TOKEN_BYTES (8 KiB, checked before decoding) bound it to about 1.5 MiB per process.
MEMO_SIZE = 64

_original_load = PyJWS._load
_parser = PyJWS()


@lru_cache(maxsize=MEMO_SIZE)
def _parse(token):
    return _original_load(_parser, token)


def _memoized_load(self, jwt):
    if type(self) is not PyJWS or not isinstance(jwt, str | bytes):
        return _original_load(self, jwt)  # other parsers and the type error stay PyJWT's own
    token = jwt.encode("utf-8") if isinstance(jwt, str) else jwt
    payload, signing_input, header, signature = _parse(token)
    return payload, signing_input, _copy_header(header), signature


def _copy_header(header):
    # Callers may change the dict they get; the memo's copy must stay as parsed.
    return {
        name: copy.deepcopy(value) if isinstance(value, dict | list) else value
        for name, value in header.items()
    }


def install():
    """Route PyJWT's token parsing through the memo (idempotent)."""
    PyJWS._load = _memoized_load


def uninstall():
    PyJWS._load = _original_load
    _parse.cache_clear()


def installed():
    return PyJWS._load is _memoized_load
