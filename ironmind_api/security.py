"""The one guard every protected route uses, and flask-jwt-extended's loaders."""

from functools import wraps

from flask import current_app, g, request
from flask_jwt_extended import get_jwt, verify_jwt_in_request
from jwt.exceptions import PyJWTError

from . import hmac_keys, jwks, jws_parse
from .auth.revocation import is_revoked
from .errors import ApiError, error_response
from .openapi import SECURITY_SCHEME, document, error_ref

MAX_SUBJECT_LENGTH = 255


def auth_required(fn):
    """Require a valid access token; expose its subject as ``g.user_id``."""

    @wraps(fn)
    def wrapper(*args, **kwargs):
        check_token_size(request.headers.get("Authorization", ""))
        verify_jwt_in_request()
        g.user_id = get_jwt()["sub"]
        return fn(*args, **kwargs)

    # Every guarded operation is documented as needing the bearer token and answering 401.
    return document(wrapper, security=[{SECURITY_SCHEME: []}], responses={401: error_ref(401)})


def check_token_size(token):
    if len(token) > current_app.config["MAX_TOKEN_BYTES"]:
        raise ApiError(401, "invalid_token", "The token is too large.")


def claims_are_acceptable(jwt_header, jwt_data):
    """Claims every accepted token must carry, whoever issued it."""
    sub = jwt_data.get("sub")
    return (
        "exp" in jwt_data
        and isinstance(sub, str)
        and 0 < len(sub) <= MAX_SUBJECT_LENGTH
        and sub.strip() != ""
    )


def _unauthorized(reason):
    return error_response(401, "missing_token", "A bearer access token is required.")


def _invalid(reason):
    return error_response(401, "invalid_token", f"The access token is invalid: {reason}.")


def _claims_rejected(jwt_header, jwt_data):
    return error_response(401, "invalid_token", "The access token's claims are not acceptable.")


def _expired(jwt_header, jwt_data):
    return error_response(401, "token_expired", "The access token has expired.")


def _revoked(jwt_header, jwt_data):
    return error_response(401, "token_revoked", "The token has been revoked.")


def configure_jwt(jwt, app):
    # flask-jwt-extended parses each token four times; PyJWT's parse is memoised (pure parse
    # of identical bytes only, verification still runs in full): see jws_parse.
    jws_parse.install()
    # The HMAC secret's "is it an asymmetric key?" checks, once per secret: see hmac_keys.
    hmac_keys.install()
    jwks.init_app(app)
    jwt.decode_key_loader(jwks.decode_key)
    jwt.token_verification_loader(claims_are_acceptable)
    jwt.unauthorized_loader(_unauthorized)
    jwt.invalid_token_loader(_invalid)
    jwt.token_verification_failed_loader(_claims_rejected)
    jwt.expired_token_loader(_expired)
    jwt.token_in_blocklist_loader(is_revoked)
    jwt.revoked_token_loader(_revoked)
    # PyJWT errors flask-jwt-extended does not map (e.g. an unusable key) are still 401.
    app.register_error_handler(PyJWTError, lambda exc: _invalid(type(exc).__name__))
