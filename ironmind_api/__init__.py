"""IRONMIND API: the Flask backend of a Next.js + Better Auth application."""

from flask import Flask, request

from config import config_from_env, finalize

from . import openapi, schema
from .auth import revocation
from .cli import register_commands
from .errors import ApiError, register_error_handlers
from .extensions import api, close_session, cors, db, jwt, migrate, passwords
from .headers import configure_http
from .json_provider import OrjsonProvider
from .logs import configure_logging
from .ratelimit import configure_rate_limits
from .security import configure_jwt

BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
SYNC_MEMO_SIZE = 1024


class IronmindFlask(Flask):
    """Flask, with ``ensure_sync``'s answer kept per function.

    Flask calls ``ensure_sync`` for every hook and view of every request (about a dozen per
    request here), and each call asks ``inspect.iscoroutinefunction`` again: some 25 us per
    request for an answer that never changes for a given function. Flask documents
    ``ensure_sync`` as the method to override; a coroutine function still goes through
    Flask's own ``async_to_sync``, once per request as before (its wrapper is not kept).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._sync_functions = {}

    def ensure_sync(self, func):
        try:
            if self._sync_functions.get(func):
                return func
        except TypeError:  # an unhashable callable: ask Flask every time
            return super().ensure_sync(func)
        synced = super().ensure_sync(func)
        if synced is func:
            if len(self._sync_functions) >= SYNC_MEMO_SIZE:
                self._sync_functions.clear()  # hooks are registered once; this only bounds it
            self._sync_functions[func] = True
        return synced


def create_app(config_class=None, **overrides):
    app = IronmindFlask(__name__, static_folder=None)
    app.json = OrjsonProvider(app)
    app.config.from_object(config_class or config_from_env())
    app.config.update(overrides)
    finalize(app.config)
    configure_logging(app)
    configure_http(app)
    register_request_hooks(app)
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    configure_rate_limits(app)
    register_commands(app)
    schema.init_app(app)
    return app


def register_extensions(app):
    db.init_app(app)
    app.teardown_appcontext(close_session)
    migrate.init_app(app, db)
    jwt.init_app(app)
    configure_jwt(jwt, app)
    revocation.init_app(app)
    passwords.init_app(app)
    cors.init_app(
        app,
        origins=app.config["CORS_ORIGINS"],
        # A request without an Origin is not a CORS request: it gets no CORS headers (they
        # grant a browser nothing there), which spares flask-cors building them per request.
        # Responses say "Vary: Origin" instead (headers.py), so no cache mixes the two.
        always_send=False,
        supports_credentials=True,
        allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
        expose_headers=["X-Request-ID", "Link", "Location", "Retry-After"],
    )
    api.init_app(app, spec_kwargs=openapi.spec_kwargs())
    openapi.register_docs(app, api)


def register_blueprints(app):
    from .auth.routes import blp as auth_blp
    from .health import blp as health_blp
    from .protected import blp as protected_blp
    from .tasks.routes import blp as tasks_blp

    for blueprint in (health_blp, auth_blp, protected_blp, tasks_blp):
        api.register_blueprint(blueprint)


def register_request_hooks(app):
    app.before_request(require_json_body)


def require_json_body():
    """Refuse a body that is not JSON before any view tries to parse it."""
    if request.method not in BODY_METHODS or request.routing_exception is not None:
        return
    has_body = bool(request.content_length) or "chunked" in request.headers.get(
        "Transfer-Encoding", ""
    )
    if (has_body or request.content_type) and not request.is_json:
        raise ApiError(415, "unsupported_media_type", "Request bodies must be application/json.")
