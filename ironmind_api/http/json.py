"""Flask's JSON responses written by orjson: the same documents, several times cheaper.

Output stays what Flask's default provider writes in production: keys sorted, compact, a
trailing newline after a response body, and Flask's own conversions (dates as HTTP dates,
``__html__``, decimals, dataclasses) for any value orjson does not take as is. Non-ASCII text is
written as UTF-8 instead of ``\\u`` escapes (the same JSON; responses are ``charset=utf-8``).
Anything orjson cannot write (an int wider than 64 bits) and a debug app's indented output go
to Flask's provider unchanged, as does ``dumps`` (non-compact, for callers outside responses).
Request bodies are still parsed by the standard library: what a client may send is unchanged.
"""

import weakref

import orjson
from flask.json.provider import DefaultJSONProvider

OPTIONS = (
    orjson.OPT_APPEND_NEWLINE
    | orjson.OPT_SORT_KEYS
    | orjson.OPT_NON_STR_KEYS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


class OrjsonProvider(DefaultJSONProvider):
    """Responses (``jsonify``, flask-smorest, error bodies) via orjson; ``dumps`` as Flask's."""

    def __init__(self, app):
        super().__init__(app)
        self.app = weakref.proxy(app)  # as Flask's provider keeps it: usable outside a request

    def response(self, *args, **kwargs):
        if args and kwargs:
            return super().response(*args, **kwargs)  # Flask's own TypeError
        obj = (args[0] if len(args) == 1 else list(args)) if args else (kwargs or None)
        compact = self.compact or (self.compact is None and not self.app.debug)
        if compact and self.sort_keys:
            try:
                body = orjson.dumps(obj, default=self.default, option=OPTIONS)
            except orjson.JSONEncodeError:
                pass
            else:
                return self.app.response_class(body, mimetype=self.mimetype)
        return super().response(*args, **kwargs)
