"""The OpenAPI document: flask-smorest's Api, the contract's error responses, Swagger UI.

Views stay thin: a JSON body, a path parameter or ``auth_required`` is enough for an
operation to be documented with the error responses the contract gives it.
"""

import http
from importlib.resources import files

import flask_smorest
from apispec import BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask import Blueprint as FlaskBlueprint
from flask import send_from_directory
from marshmallow import validate

from .errors import ErrorSchema
from .fields import WHITESPACE, EmailAddress, Text

SECURITY_SCHEME = "bearerAuth"
# fields.WHITESPACE as the inside of a character class, in escapes ECMA-262 and Python share.
SPACE = "".join(f"\\u{ord(character):04x}" for character in WHITESPACE)
SWAGGER_UI_ASSETS = files("flask_swagger_ui") / "dist"

# The contract's error codes by status; each becomes a reusable response in the document.
ERROR_RESPONSES = {
    400: ("BadRequest", ["bad_request"], "Malformed JSON or a bad query parameter."),
    401: (
        "Unauthorized",
        ["missing_token", "invalid_token", "token_expired", "token_revoked",
         "invalid_credentials"],
        "No acceptable bearer token, or wrong credentials.",
    ),
    403: (
        "Forbidden",
        ["forbidden", "account_disabled"],
        "The caller lacks the role, or the account is disabled.",
    ),
    404: ("NotFound", ["not_found"], "No such resource (or not the caller's)."),
    405: ("MethodNotAllowed", ["method_not_allowed"], "The method is not allowed here."),
    409: ("Conflict", ["email_taken"], "An account with this email already exists."),
    413: ("PayloadTooLarge", ["payload_too_large"], "The body exceeds MAX_CONTENT_LENGTH."),
    415: ("UnsupportedMediaType", ["unsupported_media_type"], "The body is not JSON."),
    422: ("ValidationFailed", ["validation_error"], "The body does not validate."),
    429: ("RateLimited", ["rate_limited"], "Too many requests; retry later."),
    500: ("InternalError", ["internal_error"], "An unexpected error."),
    503: (
        "ServiceUnavailable",
        ["service_unavailable"],
        "The database, the JWKS, the Better Auth database or the rate-limit storage is "
        "unreachable.",
    ),
}
ERROR_CODES = {str(status) for status in ERROR_RESPONSES}
BODY_ERRORS = (400, 413, 415, 422)
NO_DATABASE_TAGS = {"health", "docs", "metrics"}

ASSET_PARAMETER = {
    "in": "path",
    "name": "filename",
    "required": True,
    "schema": {"type": "string"},
    "example": "swagger-ui.css",
}
REQUEST_ID_HEADER = {
    "description": "The caller's X-Request-ID when acceptable, otherwise a generated one.",
    "required": True,
    "schema": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,128}$"},
}
ERROR_HEADERS = {
    401: {
        "WWW-Authenticate": {
            "description": "RFC 6750 bearer challenge.",
            "required": True,
            "schema": {"type": "string"},
        }
    },
    503: {
        "Retry-After": {
            "description": "Seconds to wait: sent when the JWKS, the Better Auth database or "
            "the rate-limit storage is unreachable.",
            "required": False,
            "schema": {"type": "string"},
        }
    },
    429: {
        "Retry-After": {
            "description": "Seconds to wait before retrying.",
            "required": True,
            "schema": {"type": "string"},
        }
    },
}


class Api(flask_smorest.Api):
    """flask-smorest's Api; every error response is documented explicitly, in the contract's
    shape (ContractResponsesPlugin below), so none of its own default error responses."""

    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None


# Here rather than in extensions.py, which `flask db …` imports for Flask-Migrate: a command
# has no use for flask-smorest, apispec and webargs.
api = Api()


def document(**operation):
    """A decorator merging raw OpenAPI ``operation`` fields into a view's documentation.

    flask-smorest's ``Blueprint.doc`` (a static method), so any blueprint that registers the
    view reads them.
    """
    return flask_smorest.Blueprint.doc(**operation)


def error_responses(*statuses):
    """Document error statuses a view answers beyond the ones derived from its shape."""

    return document(responses={status: error_ref(status) for status in statuses})


def error_ref(status):
    return ERROR_RESPONSES[status][0]


def schema_name(schema):
    """Component names: ``TaskSchema`` is Task, its ``partial=True`` variant TaskPatch."""
    name = resolve_schema_cls(schema).__name__.removesuffix("Schema")
    return name + "Patch" if getattr(schema, "partial", False) else name


class ContractResponsesPlugin(BasePlugin):
    """Completes every operation with the responses and headers the contract implies."""

    def init_spec(self, spec):
        self.spec = spec
        spec.components.security_scheme(
            SECURITY_SCHEME,
            {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
             "description": "An access token from /api/auth/signin or the frontend."},
        )
        marshmallow = next(p for p in spec.plugins if isinstance(p, MarshmallowPlugin))
        marshmallow.converter.add_attribute_function(text_properties)
        spec.components.schema("Error", schema=ErrorSchema)
        for status, (name, codes, description) in ERROR_RESPONSES.items():
            spec.components.response(name, _error_response(status, codes, description))

    def operation_helper(self, path=None, operations=None, **kwargs):
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for status in self._implied_errors(path, method, operation):
                responses.setdefault(status, error_ref(status))
            for status, response in list(responses.items()):
                if str(status) in ERROR_CODES and isinstance(response, str):
                    # flask-smorest's own refs (e.g. UNPROCESSABLE_ENTITY) carry its error shape.
                    responses[status] = error_ref(int(status))
                elif isinstance(response, dict):
                    response.setdefault("headers", {})["X-Request-ID"] = REQUEST_ID_HEADER

    @staticmethod
    def _implied_errors(path, method, operation):
        statuses = [500]
        if not NO_DATABASE_TAGS & set(operation.get("tags", ())):
            statuses.append(503)
        if "requestBody" in operation:
            statuses.extend(BODY_ERRORS)
        if "{" in path:
            statuses.append(404)
        return statuses


def text_properties(converter, field, ret, **kwargs):
    """Describe a Text field exactly: no NUL, and a trimmed one's length after trimming.

    Whitespace is the explicit class ``fields.WHITESPACE``, the very characters a trimmed
    field strips: a pattern's ``\\s`` means another set to JSON Schema (ECMA-262) than to
    Python. An email address is printable ASCII (auth/schemas.py).
    """
    if not isinstance(field, Text):
        return {}
    if not field.trim:
        return {"pattern": "^[^\\x00]*$"}
    low, high = _length_bounds(field)
    ret.pop("minLength", None)
    ret.pop("maxLength", None)
    if isinstance(field, EmailAddress):
        character = visible = "[\\x21-\\x7e]"
    else:
        character, visible = "[^\\x00]", f"[^{SPACE}\\x00]"
    inner = f"{character}{{0,{high - 2}}}" if high is not None else f"{character}*"
    core = f"{visible}(?:{inner}{visible})?"
    if not low:
        core = f"(?:{core})?"
    suffix = f" {high} characters at most after trimming." if high else ""
    return {"pattern": f"^[{SPACE}]*{core}[{SPACE}]*$", "description": "Trimmed." + suffix}


def _length_bounds(field):
    validators = list(field.validators)
    for validator in list(validators):
        validators.extend(getattr(validator, "validators", ()))
    for validator in validators:
        if isinstance(validator, validate.Length):
            return validator.min, validator.max
    return None, None


def _error_response(status, codes, description):
    schema = {
        "allOf": [
            {"$ref": "#/components/schemas/Error"},
            {"type": "object", "properties": {"error": {"type": "string", "enum": codes}}},
        ]
    }
    # The contract: `fields` appears on 422 and only there.
    schema["allOf"][1]["required" if status == 422 else "not"] = (
        ["fields"] if status == 422 else {"required": ["fields"]}
    )
    return {
        "description": f"{http.HTTPStatus(status).phrase}: {description}",
        "content": {"application/json": {"schema": schema}},
        "headers": {"X-Request-ID": REQUEST_ID_HEADER, **ERROR_HEADERS.get(status, {})},
    }


def spec_kwargs():
    """Fresh plugins for each app's APISpec."""
    return {
        "marshmallow_plugin": MarshmallowPlugin(schema_name_resolver=schema_name),
        "extra_plugins": [ContractResponsesPlugin()],
    }


def register_docs(app, api):
    """Serve Swagger UI's assets from the installed package, and document the docs routes."""
    assets = FlaskBlueprint("docs-assets", __name__, url_prefix=app.config["OPENAPI_URL_PREFIX"])
    asset_path = "/" + app.config["OPENAPI_SWAGGER_UI_PATH"] + "/assets/<path:filename>"

    @assets.route(asset_path, endpoint="asset")
    def swagger_ui_asset(filename):
        return send_from_directory(SWAGGER_UI_ASSETS, filename, max_age=86400)

    app.register_blueprint(assets)
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith(("api-docs.", "docs-assets.")):
            api.spec.path(
                rule=rule,
                operations=_docs_operations(rule.endpoint),
                parameters=[ASSET_PARAMETER] if "filename" in rule.arguments else None,
            )


def _docs_operations(endpoint):
    if endpoint.endswith("openapi_json"):
        summary, content = "This OpenAPI document.", {"application/json": {"schema": {
            "type": "object"}}}
    elif endpoint.endswith("asset"):
        summary, content = "A Swagger UI asset.", {"*/*": {"schema": {
            "type": "string", "format": "binary"}}}
    else:
        summary, content = "Browse this API in Swagger UI.", {"text/html": {"schema": {
            "type": "string"}}}
    ok = {"description": "OK", "content": content}
    return {"get": {"summary": summary, "tags": ["docs"], "responses": {200: ok}}}
