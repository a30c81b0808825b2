"""IRONMIND API: the Flask backend of a Next.js application whose users sign in with Better Auth.

The HTTP side is imported inside the functions below, not at the top: an app that the `flask`
command builds for its own commands (see create_app) never needs it.
"""

import functools

from flask import Flask

from config import config_from_env, finalize, finalize_database

from .cli import loading_for_commands, register_commands
from .http.json import OrjsonProvider
from .logs import configure_logging


def create_app(config_class=None, **overrides):
    app = Flask(__name__, static_folder=None)
    # No redirects from routing: werkzeug would answer "//" in a path or a missing trailing
    # slash with a 308, an HTML body and a Location built from the client's Host header. A
    # path that is not a route is a JSON 404 instead; set before any rule is added.
    app.url_map.merge_slashes = False
    app.url_map.strict_slashes = False
    app.json = OrjsonProvider(app)
    app.config.from_object(config_class or config_from_env())
    app.config.update(overrides)
    finalize(app.config)
    configure_logging(app)
    if loading_for_commands():
        # `flask --app wsgi <command>` and its --help: the command sets up the database
        # when it runs (cli.py); blueprints, metrics and the rest are for serving.
        register_commands(app)
        return app
    from . import migration_check

    finalize_database(app.config)
    configure_http(app)
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    migration_check.init_app(app)
    return app


def configure_http(app):
    from .http import lifecycle, proxies, sessions

    sessions.init_app(app)
    proxies.init_app(app)
    lifecycle.init_app(app)  # request id, body check, headers and CORS, metrics, access line


def register_extensions(app):
    from . import metrics, openapi, tracing
    from .auth import better_auth_sessions, passwords, revocation, tokens
    from .db import close_session, db
    from .extensions import jwt, migrate
    from .http import ratelimit
    from .openapi import api

    db.init_app(app)
    pool_gauges = metrics.init_app(app)
    app.teardown_appcontext(functools.partial(close_session, pool_gauges=pool_gauges))
    tracing.init_app(app)
    migrate.init_app(app, db)
    jwt.init_app(app)
    sessions = better_auth_sessions.init_app(app)
    tokens.init_app(app, sessions, revocation.init_app(app))
    passwords.init_app(app)
    ratelimit.init_app(app)
    api.init_app(app, spec_kwargs=openapi.spec_kwargs())
    openapi.register_docs(app, api)


def register_blueprints(app):
    from .admin.routes import blp as admin_blp
    from .auth.routes import blp as auth_blp
    from .health import blp as health_blp
    from .metrics import blp as metrics_blp
    from .openapi import api
    from .protected import blp as protected_blp
    from .tasks.routes import blp as tasks_blp

    for blueprint in (health_blp, metrics_blp, auth_blp, protected_blp, tasks_blp, admin_blp):
        api.register_blueprint(blueprint)


def register_error_handlers(app):
    from . import errors

    errors.register_error_handlers(app)
