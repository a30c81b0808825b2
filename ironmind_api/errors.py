"""The contract's single error shape, the errors views raise, and every handler."""

import logging

from flask import g, jsonify
from marshmallow import Schema, fields
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException

from .db import describe_database_error, rollback_quietly

log = logging.getLogger(__name__)

# The code and message of an error raised without its own (werkzeug's, the framework's). Only
# contract codes (docs/API.md); a 409 is always raised with its code (email_taken).
DEFAULT_CODES = {
    400: ("bad_request", "The request could not be understood."),
    401: ("invalid_token", "The access token is invalid."),
    403: ("forbidden", "This request is not allowed for the caller."),
    404: ("not_found", "The requested resource was not found."),
    405: ("method_not_allowed", "The method is not allowed for this resource."),
    413: ("payload_too_large", "The request body is too large."),
    415: ("unsupported_media_type", "Request bodies must be application/json."),
    422: ("validation_error", "The request body is invalid."),
    429: ("rate_limited", "Too many requests; try again later."),
    500: ("internal_error", "An unexpected error occurred."),
    503: ("service_unavailable", "The service is temporarily unavailable."),
}


class ErrorSchema(Schema):
    error = fields.String(required=True)
    message = fields.String(required=True)
    request_id = fields.String(required=True)
    fields_ = fields.Dict(
        data_key="fields", keys=fields.String(), values=fields.List(fields.String())
    )


class ApiError(Exception):
    """An error answered with a contract code: raise a new instance (or a subclass) each time.

    A subclass fixes ``status``, ``error`` and ``message``; the arguments override them.
    """

    status = 500
    error = "internal_error"
    message = "An unexpected error occurred."

    def __init__(self, status=None, error=None, message=None, headers=None):
        self.status = status or self.status
        self.error = error or self.error
        self.message = message or self.message
        self.headers = headers
        super().__init__(self.message)


class BadRequest(ApiError):
    status, error = 400, "bad_request"


class NotFound(ApiError):
    status, error, message = 404, *DEFAULT_CODES[404]


class Unauthorized(ApiError):
    status, error = 401, "invalid_token"


class Forbidden(ApiError):
    status, error, message = 403, "forbidden", "This needs the admin role."


class ServiceUnavailable(ApiError):
    status, error = 503, "service_unavailable"


class MissingToken(Unauthorized):
    error, message = "missing_token", "A bearer access token is required."


class InvalidToken(Unauthorized):
    error, message = "invalid_token", "The access token is invalid."


class TokenExpired(Unauthorized):
    error, message = "token_expired", "The access token has expired."


class TokenRevoked(Unauthorized):
    error, message = "token_revoked", "The token has been revoked."


class InvalidCredentials(Unauthorized):
    error, message = "invalid_credentials", "Invalid email or password."


class AccountDisabled(ApiError):
    status, error = 403, "account_disabled"
    message = "The account is disabled."


class EmailTaken(ApiError):
    status, error = 409, "email_taken"
    message = "An account with this email already exists."


def error_response(status, error=None, message=None, fields=None, headers=None):
    """Build the one JSON error body the contract allows, with its status and headers."""
    default_error, default_message = DEFAULT_CODES.get(status, DEFAULT_CODES[500])
    body = {
        "error": error or default_error,
        "message": message or default_message,
        "request_id": g.get("request_id"),
    }
    if status == 422:
        body["fields"] = fields or {}
    g.error_code = body["error"]  # the access line (http/lifecycle.py) logs it
    response = jsonify(body)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = _bearer_challenge(body["error"])
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _bearer_challenge(error):
    # RFC 6750 3.1: no error attribute when the request carried no credentials.
    if error in ("missing_token", "invalid_credentials"):
        return 'Bearer realm="ironmind"'
    return f'Bearer realm="ironmind", error="invalid_token", error_description="{error}"'


def _validation_fields(messages):
    """Flatten webargs' {location: {field: [msg]}} into {field: [msg]}."""
    fields = {}
    for location_messages in (messages or {}).values():
        if isinstance(location_messages, dict):
            fields.update(location_messages)
        else:
            fields["_body"] = location_messages
    return fields


def handle_http_exception(exc):
    status = exc.code or 500
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages")
    headers = dict(data.get("headers") or {})
    if status == 405:
        headers["Allow"] = ", ".join(exc.valid_methods or [])
    if status == 422:
        return error_response(422, fields=_validation_fields(messages), headers=headers)
    message = None
    if status == 400 and messages:
        message = _describe(messages)
    return error_response(status, message=message, headers=headers)


def _describe(messages):
    """One readable sentence from webargs messages for a 400 answer."""
    parts = []
    for location, location_messages in messages.items():
        if isinstance(location_messages, dict):
            for field, errors in location_messages.items():
                errors = errors if isinstance(errors, list) else [errors]
                parts.append(f"{field}: " + "; ".join(map(str, errors)))
        elif location == "json":
            parts.append("Malformed JSON body.")
        else:
            parts.append(str(location_messages))
    return "Invalid request: " + " ".join(parts)


def handle_api_error(exc):
    return error_response(exc.status, exc.error, exc.message, headers=exc.headers)


def handle_database_unavailable(exc):
    rollback_quietly()
    log.error("database unavailable: %s", describe_database_error(exc))
    return error_response(503, message="The database is unavailable; try again shortly.")


def handle_unexpected(exc):
    rollback_quietly()
    log.exception("unhandled error")
    return error_response(500)


def handle_database_error(exc):
    if exc.connection_invalidated:
        return handle_database_unavailable(exc)
    # No traceback: its last line is the driver's whole message, whose detail lines can quote
    # row values (PostgreSQL's "Key (email)=(…) already exists.").
    rollback_quietly()
    log.error("database error: %s", describe_database_error(exc))
    return error_response(500)


def register_error_handlers(app):
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(ApiError, handle_api_error)
    # Connection lost, refused, timed out or cancelled by statement_timeout; no pooled
    # connection free within pool_timeout (sqlalchemy.exc.TimeoutError): all are 503.
    app.register_error_handler(OperationalError, handle_database_unavailable)
    app.register_error_handler(InterfaceError, handle_database_unavailable)
    app.register_error_handler(PoolTimeoutError, handle_database_unavailable)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(Exception, handle_unexpected)
