"""Request bodies: JSON only, parsed strictly (no duplicate keys), before any view sees them."""

import json
import re

from flask import request
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import RequestEntityTooLarge

from ..errors import ApiError, BadRequest

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MALFORMED = "Invalid request: Malformed JSON body."
# Wider than any number the API stores (a 64-bit integer has 19 digits), and far below the
# 4,300 digits past which Python refuses to convert a string to an int at all.
MAX_INTEGER_DIGITS = 20
# Only a \u escape can put a lone surrogate or a NUL into a parsed string.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class StrictJsonParser(FlaskParser):
    """webargs' parser, refusing what json.loads accepts but the API cannot use: duplicate
    keys, NaN and Infinity, integers too long to convert, and lone surrogates, which are
    not Unicode text (no database stores one)."""

    def load_json(self, req, schema):
        if not is_json_request(req):
            return core.missing
        body = req.get_data(cache=True)
        if not body:
            return core.missing  # the Blueprint answers "a JSON request body is required"
        try:
            document = json.loads(
                body.decode("utf-8"),
                object_pairs_hook=_unique_keys,
                parse_int=_integer,
                parse_constant=_not_json,
            )
            unicode = b"\\u" not in body or not _holds_lone_surrogate(document)
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise BadRequest(message=MALFORMED) from None
        except RecursionError:
            raise BadRequest(message="The JSON body is nested too deeply.") from None
        if not unicode:
            raise BadRequest(message="The JSON body holds a lone surrogate (\\ud800-\\udfff).")
        return document


def _unique_keys(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise BadRequest(message=f"Duplicate key {key!r} in the JSON body.")
        result[key] = value
    return result


def _integer(digits):
    if len(digits.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise BadRequest(message=f"A JSON integer is over {MAX_INTEGER_DIGITS} digits long.")
    return int(digits)


def _not_json(constant):
    raise BadRequest(message=f"{constant} is not JSON.")


def _holds_lone_surrogate(value):
    if isinstance(value, str):
        return LONE_SURROGATE.search(value) is not None
    if isinstance(value, dict):
        return any(_holds_lone_surrogate(k) or _holds_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_lone_surrogate(item) for item in value)
    return False


def require_json_body():
    """Refuse a body that is not JSON before any view tries to parse it: run before the view
    of every request whose method has a body (BODY_METHODS; http/lifecycle.py).

    A chunked body is read here, up to one byte past MAX_CONTENT_LENGTH: werkzeug stops a
    streamed body at the limit without a word, which would make a too-large body look like
    truncated JSON (a 400) instead of the 413 it is.
    """
    if request.routing_exception is not None:
        return
    chunked = "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    has_body = bool(request.content_length) or chunked
    if (has_body or request.content_type) and not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Request bodies must be application/json.")
    limit = request.max_content_length
    if chunked and request.content_length is None and limit is not None:
        request.max_content_length = limit + 1
        if len(request.get_data(cache=True)) > limit:
            raise RequestEntityTooLarge()
