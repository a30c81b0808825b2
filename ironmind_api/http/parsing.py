"""Request bodies: JSON only, parsed strictly (no duplicate keys), before any view sees them."""

import json

from flask import request
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from ..errors import ApiError, BadRequest

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
MALFORMED = "Invalid request: Malformed JSON body."


class StrictJsonParser(FlaskParser):
    """webargs' parser, refusing what json.loads silently accepts: duplicate keys."""

    def load_json(self, req, schema):
        if not is_json_request(req):
            return core.missing
        body = req.get_data(cache=True)
        if not body:
            return core.missing  # the Blueprint answers "a JSON request body is required"
        try:
            return json.loads(body.decode("utf-8"), object_pairs_hook=_unique_keys)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise BadRequest(message=MALFORMED) from None
        except RecursionError:
            raise BadRequest(message="The JSON body is nested too deeply.") from None


def _unique_keys(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise BadRequest(message=f"Duplicate key {key!r} in the JSON body.")
        result[key] = value
    return result


def require_json_body():
    """Refuse a body that is not JSON before any view tries to parse it (a before_request)."""
    if request.method not in BODY_METHODS or request.routing_exception is not None:
        return
    has_body = bool(request.content_length) or "chunked" in request.headers.get(
        "Transfer-Encoding", ""
    )
    if (has_body or request.content_type) and not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Request bodies must be application/json.")
