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
4. *Claims*: ``sub`` is a non-blank string of at most 255 characters; a refresh token is
   not an access token.
5. *Revocation*: neither the token nor its session (``fam``) is on the revocation list
   (``token_revoked``).

Refresh tokens (signout, refresh) go through the same verification with the secret only:
the API issues them, nobody else.
"""

from dataclasses import dataclass
from typing import Any

import jwt
from flask import current_app

from ..errors import InvalidToken, MissingToken, TokenExpired, TokenRevoked
from . import revocation
from .jwks import key_set

BEARER = "bearer"
HMAC_ALGORITHM = "HS256"
MAX_SUBJECT_LENGTH = 255
REQUIRED_CLAIMS = ("exp", "sub")


@dataclass(frozen=True)
class Identity:
    """Who a verified access token speaks for, and everything it says."""

    user_id: str
    claims: dict[str, Any]


class TokenPolicy:
    """One app's verification settings, read once from its config."""

    def __init__(self, config):
        self.secret = config["JWT_SECRET_KEY"]
        self.leeway = config["JWT_DECODE_LEEWAY"]
        self.max_bytes = config["MAX_TOKEN_BYTES"]
        self.issuer = config["JWT_ISSUER"]
        self.audience = config["JWT_AUDIENCE"]
        self.keys = key_set(config)


def init_app(app):
    app.extensions["tokens"] = TokenPolicy(app.config)


def verify_access_token(authorization):
    """The identity of the ``Authorization`` header's bearer token, or a 401 (or 503) error."""
    policy = _policy()
    claims = _decode(_bearer_token(authorization, policy), policy, "access")
    if claims.get("type") == "refresh":
        raise InvalidToken(message="The access token is invalid: a refresh token was sent.")
    if revocation.is_revoked(claims):
        raise TokenRevoked()
    return Identity(user_id=claims["sub"], claims=claims)


def verify_refresh_token(token, allow_expired=False):
    """The claims of one of the API's own refresh tokens, or a 401 error."""
    policy = _policy()
    _check_size(token, policy)
    claims = _decode(token, policy, "refresh", allow_expired=allow_expired, hmac_only=True)
    if claims.get("type") != "refresh":
        raise InvalidToken(message="A refresh token is required.")
    return claims


def _policy():
    return current_app.extensions["tokens"]


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
    """Verify the token with the key its algorithm calls for; PyJWT's errors become 401s."""
    try:
        key, algorithm, expected = _key_for(token, policy, hmac_only)
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
    if not _acceptable_subject(claims.get("sub")):
        raise InvalidToken(message=f"The {kind} token's claims are not acceptable.")
    return claims


def _key_for(token, policy, hmac_only):
    """(key, algorithm, expected iss/aud) for this token: the secret unless a JWKS key is due."""
    if hmac_only or policy.keys is None:
        return policy.secret, HMAC_ALGORITHM, {}
    header = jwt.get_unverified_header(token)
    algorithm = header.get("alg")
    if algorithm not in policy.keys.algorithms:
        # HS256, or an algorithm PyJWT then refuses as not allowed.
        return policy.secret, HMAC_ALGORITHM, {}
    expected = {"issuer": policy.issuer, "audience": policy.audience}
    return policy.keys.key(header.get("kid")), algorithm, expected


def _acceptable_subject(sub):
    return isinstance(sub, str) and 0 < len(sub) <= MAX_SUBJECT_LENGTH and sub.strip() != ""
