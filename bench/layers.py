"""Where a request's CPU goes: in-process cost of GET /api/protected with one layer removed at a
time. A profiling aid for docs/PERFORMANCE.md, not part of bench/run:

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/ironmind_bench \
        .venv/bin/python -m bench.layers

Each line is the best of several batches of CPU time (time.process_time) per request through
the WSGI app without gunicorn, so a busy machine moves it far less than req/s. Removing a layer,
or putting back one the app has dropped (the per-request revocation query, the cookie session,
Flask-Limiter's hook on every route), is a measurement only on a throwaway app; nothing in
ironmind_api changes. On PostgreSQL the revocation copy is synced before measuring.
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

BATCH, BATCHES = 1000, 6


def cpu_us_per_request(app, path, headers=None, batch=BATCH, batches=BATCHES):
    environ = EnvironBuilder(path=path, headers=headers or {}).get_environ()
    for _ in range(min(batch, 200)):
        run_wsgi_app(app, dict(environ))
    best = float("inf")
    for _ in range(batches):
        started = time.process_time()
        for _ in range(batch):
            body, status, _ = run_wsgi_app(app, dict(environ))
            b"".join(body)
        best = min(best, (time.process_time() - started) / batch * 1e6)
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


def with_cookie_session(app):
    """Flask's default session interface, as before the API installed NoSessions."""
    from flask.sessions import SecureCookieSessionInterface

    app.session_interface = SecureCookieSessionInterface()
    return app


def with_limiter_hook(app):
    """Flask-Limiter's before_request check on every route, as before it was dropped."""
    from ironmind_api.extensions import limiter

    app.before_request_funcs[None].append(limiter._check_request_limit)
    return app


def without_revocation_check(app):
    from ironmind_api.extensions import jwt

    jwt.token_in_blocklist_loader(lambda header, data: False)
    return app


def synced(app, path, headers):
    """Make one request, so the revocation listener starts, then wait until it has synced."""
    cpu_us_per_request(app, path, headers, batch=1, batches=1)
    cache = app.extensions.get("revocation_cache")
    deadline = time.monotonic() + 10
    while cache is not None and not cache.synced and time.monotonic() < deadline:
        time.sleep(0.05)
    return app


def main():
    import logging

    from flask_jwt_extended import create_access_token

    from bench.bare_app import app as bare
    from ironmind_api.auth import revocation
    from ironmind_api.extensions import jwt

    base = make_app()
    with base.app_context():
        token = create_access_token(identity="bench-subject", additional_claims={"fam": "f" * 32})
    auth = {"Authorization": f"Bearer {token}"}
    path = "/api/protected"
    synced(base, path, auth)
    access_log = logging.getLogger("ironmind_api.access")

    def no_revocation_check():
        jwt.token_in_blocklist_loader(lambda header, data: False)

    def no_access_line():
        access_log.disabled = True

    cases = [
        ("bare Flask app (ceiling)", bare, "/", None, None),
        ("GET /health", base, "/health", None, None),
        ("GET /api/protected (as shipped)", base, path, auth, None),
        ("  with the per-request revocation query (REVOCATION_LISTEN=false)",
         make_app(REVOCATION_LISTEN=False), path, auth, None),
        ("  with Flask's cookie session opened again",
         with_cookie_session(make_app()), path, auth, None),
        ("  with Flask-Limiter's per-request hook again",
         with_limiter_hook(make_app()), path, auth, None),
        ("  without the JSON access line", base, path, auth, no_access_line),
        ("  without flask-cors' after_request", without_cors(make_app()), path, auth, None),
        ("  without any revocation check", base, path, auth, no_revocation_check),
    ]
    # Round robin, best batch per case: drift on a shared machine hits every case alike.
    # The blocklist loader and the access logger are shared by every app: set per case.
    best = {name: float("inf") for name, *_ in cases}
    for _ in range(BATCHES):
        for name, app, case_path, headers, switch in cases:
            jwt.token_in_blocklist_loader(revocation.is_revoked)
            access_log.disabled = False
            if switch:
                switch()
            best[name] = min(best[name], cpu_us_per_request(app, case_path, headers, batches=1))
    jwt.token_in_blocklist_loader(revocation.is_revoked)
    access_log.disabled = False
    print("| request | CPU us/request (in-process, no gunicorn) |")
    print("|---|---:|")
    for name, us in best.items():
        print(f"| {name} | {us} |")


if __name__ == "__main__":
    main()
