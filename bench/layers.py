"""Where a request's CPU goes: in-process cost of GET /api/protected with one layer removed at a
time. A profiling aid for docs/PERFORMANCE.md, not part of bench/run:

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/ironmind_bench \
        .venv/bin/python -m bench.layers

Each line is the best of several batches of CPU time (time.process_time) per request through
the WSGI app without gunicorn, so a busy machine moves it far less than req/s. Removing a layer
here is a measurement only (monkeypatching a throwaway app); nothing in ironmind_api changes.
"""

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault(
    "DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/ironmind_bench"
)
os.environ.update(APP_ENV="production", BETTER_AUTH_SECRET="b" * 48)

from werkzeug.test import EnvironBuilder, run_wsgi_app  # noqa: E402

BATCH, BATCHES = 2000, 8


def cpu_us_per_request(app, path, headers=None):
    environ = EnvironBuilder(path=path, headers=headers or {}).get_environ()
    for _ in range(200):
        run_wsgi_app(app, dict(environ))
    best = float("inf")
    for _ in range(BATCHES):
        started = time.process_time()
        for _ in range(BATCH):
            body, status, _ = run_wsgi_app(app, dict(environ))
            b"".join(body)
        best = min(best, (time.process_time() - started) / BATCH * 1e6)
    if not status.startswith("200"):
        raise RuntimeError(f"{path} answered {status}")
    return round(best)


def make_app(**overrides):
    from ironmind_api import create_app

    app = create_app(**overrides)
    # Access lines go to a file, as under gunicorn with stdout redirected.
    app.extensions["log_handler"].setStream(open(os.devnull, "w"))  # noqa: SIM115
    return app


def without_cors(app):
    app.after_request_funcs[None] = [
        f for f in app.after_request_funcs[None] if "flask_cors" not in f.__module__
    ]
    return app


def without_session(app):
    from flask.sessions import SecureCookieSessionInterface

    class NoSession(SecureCookieSessionInterface):
        def open_session(self, app, request):
            return self.null_session_class()

        def save_session(self, app, session, response):
            return None

    app.session_interface = NoSession()
    return app


def use_single_decode():
    """The guard's verify replaced by one PyJWT decode (what a one-parse guard would cost)."""
    import jwt
    from flask import current_app, g, request

    from ironmind_api import security

    def verify():
        token = request.headers["Authorization"].split(" ", 1)[1]
        config = current_app.config
        g._jwt_extended_jwt = jwt.decode(
            token, config["JWT_SECRET_KEY"], algorithms=config["JWT_DECODE_ALGORITHMS"],
            leeway=config["JWT_DECODE_LEEWAY"],
        )

    security.verify_jwt_in_request = verify


def main():
    from flask_jwt_extended import create_access_token

    from bench.bare_app import app as bare

    base = make_app()
    with base.app_context():
        token = create_access_token(identity="bench-subject")
    auth = {"Authorization": f"Bearer {token}"}
    import ironmind_api.security as security

    original_verify = security.verify_jwt_in_request
    rows = [
        ("bare Flask app (ceiling)", cpu_us_per_request(bare, "/")),
        ("GET /health", cpu_us_per_request(base, "/health")),
        ("GET /api/protected (as shipped)", cpu_us_per_request(base, "/api/protected", auth)),
        ("  without the JSON access line (LOG_LEVEL=WARNING)",
         cpu_us_per_request(make_app(LOG_LEVEL="WARNING"), "/api/protected", auth)),
        ("  without flask-cors' after_request",
         cpu_us_per_request(without_cors(make_app()), "/api/protected", auth)),
        ("  without opening Flask's cookie session",
         cpu_us_per_request(without_session(make_app()), "/api/protected", auth)),
    ]
    use_single_decode()
    rows.append(("  with one PyJWT decode instead of flask-jwt-extended's",
                 cpu_us_per_request(make_app(), "/api/protected", auth)))
    rows.append(("  with all four removed",
                 cpu_us_per_request(without_session(without_cors(make_app(LOG_LEVEL="WARNING"))),
                                    "/api/protected", auth)))
    security.verify_jwt_in_request = original_verify
    print("| request | CPU us/request (in-process, no gunicorn) |")
    print("|---|---:|")
    for name, us in rows:
        print(f"| {name} | {us} |")


if __name__ == "__main__":
    main()
