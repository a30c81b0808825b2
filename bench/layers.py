"""Where a request's CPU goes: in-process cost of GET /api/protected with one layer removed at a
time. A profiling aid for docs/PERFORMANCE.md, not part of bench/run:

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/ironmind_bench \
        .venv/bin/python -m bench.layers

On PostgreSQL it also measures the Better Auth session check (issue 20) on a cache hit, side by
side with the same frontend token on an app without it, against ``<name>_better_auth`` on the
same server (made if missing, with the columns Better Auth creates and one live session).

"Distinct tokens" (issue 25) sends a fresh HS256 token with every request (the local account's
token with a new jti, minted before the timed loop), so a verified-token cache never hits: the
in-process cost of a miss, beside "as shipped" (the same token every request: a hit).

A case that takes a layer out finds it in the app first; if the layer is not there (the app was
restructured), the case is skipped with the reason on stderr, and the other cases still run.

Each line is the best of several batches of CPU time (time.process_time) per request through
the WSGI app without gunicorn, so a busy machine moves it far less than req/s. Removing a layer,
or putting back one the app has dropped (the per-request revocation query, the cookie session),
is a measurement only on a throwaway app; nothing in ironmind_api changes. On PostgreSQL the
revocation copy is synced before measuring.

Metrics are recorded as under gunicorn: prometheus_client's multiprocess mode, its values in
files of a directory made for the run (issue 21: "with metrics off" is the difference). With
tracing off (OTEL_EXPORTER_OTLP_ENDPOINT unset, as shipped) no OpenTelemetry module is loaded
at all, which main() checks before it builds the one traced app, whose spans go over OTLP/HTTP
to a sink thread on 127.0.0.1:$BENCH_OTLP_PORT (18707) that only reads them.
"""

import atexit
import io
import os
import shutil
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault(
    "DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/ironmind_bench"
)
os.environ.update(APP_ENV="production", BETTER_AUTH_SECRET="b" * 48)
# Before ironmind_api (and so prometheus_client) is imported: multiprocess mode, as gunicorn runs.
METRICS_DIR = tempfile.mkdtemp(prefix="ironmind-layers-metrics-")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = METRICS_DIR
atexit.register(shutil.rmtree, METRICS_DIR, ignore_errors=True)
OTLP_PORT = int(os.environ.get("BENCH_OTLP_PORT", "18707"))

from werkzeug.test import EnvironBuilder, run_wsgi_app  # noqa: E402

BATCH, BATCHES = 1000, 6


class LayerMissing(Exception):
    """What a case would take out (or measure) is not in this app: the case is skipped."""


def cpu_us_per_request(app, path, headers=None, batch=BATCH, batches=BATCHES, method="GET",
                       json=None, tokens=None):
    """CPU us per request, best batch. ``tokens``: an iterator of bearer tokens, one taken per
    request (never one twice), replacing the Authorization header."""
    environ = EnvironBuilder(path=path, headers=headers or {}, method=method,
                             json=json).get_environ()
    body_bytes = environ["wsgi.input"].read()

    def fresh():
        env = dict(environ)
        env["wsgi.input"] = io.BytesIO(body_bytes)
        if tokens is not None:
            env["HTTP_AUTHORIZATION"] = f"Bearer {next(tokens)}"
        return env

    for _ in range(min(batch, 200)):
        run_wsgi_app(app, fresh())
    best = float("inf")
    for _ in range(batches):
        started = time.process_time()
        for _ in range(batch):
            body, status, _ = run_wsgi_app(app, fresh())
            b"".join(body)
        best = min(best, (time.process_time() - started) / batch * 1e6)
    if not status.startswith(("200", "201")):
        raise RuntimeError(f"{path} answered {status}")
    return round(best)


def make_app(**overrides):
    import logging

    from ironmind_api import create_app

    app = create_app(**overrides)
    # Access lines go to a file, as under gunicorn with stdout redirected: the app's JSON
    # handler (app.extensions["log_handler"], else every stream handler on the root logger).
    handler = app.extensions.get("log_handler")
    handlers = [handler] if handler is not None else [
        h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler)
    ]
    for handler in handlers:
        handler.setStream(open(os.devnull, "w"))  # noqa: SIM115
    return app


def without_cors(app):
    """flask-cors' after_request dropped; LayerMissing if the app has none (e.g. CORS is
    consulted from another hook only when an Origin is sent)."""
    hooks = app.after_request_funcs.get(None, [])
    kept = [f for f in hooks if "flask_cors" not in _module_of(f)]
    if len(kept) == len(hooks):
        raise LayerMissing("no flask-cors after_request hook in the app")
    app.after_request_funcs[None] = kept
    return app


def _module_of(func):
    return getattr(getattr(func, "func", func), "__module__", "") or ""


def with_cookie_session(app):
    """Flask's default session interface, as before the API installed NoSessions."""
    from flask.sessions import SecureCookieSessionInterface

    app.session_interface = SecureCookieSessionInterface()
    return app


def synced(app, path, headers):
    """Make one request, so the revocation listener starts, then wait until it has synced."""
    cpu_us_per_request(app, path, headers, batch=1, batches=1)
    cache = app.extensions.get("revocation_cache")
    deadline = time.monotonic() + 10
    while cache is not None and not cache.synced and time.monotonic() < deadline:
        time.sleep(0.05)
    return app


def _seed_tasks(subject, count):
    """The list case's user and at least ``count`` tasks (a page of 50 and a next cursor)."""
    from ironmind_api.auth.models import ensure_user
    from ironmind_api.db import db
    from ironmind_api.tasks.models import Task

    ensure_user(subject, email=None, name=None)
    db.session.commit()
    have = db.session.query(Task).filter_by(user_id=subject).count()
    for i in range(have, count):
        db.session.add(Task(user_id=subject, title=f"Layer task {i}", description="x" * (i % 40)))
    db.session.commit()


def with_flask_json(app):
    """Flask's own JSON provider, as before orjson wrote the responses."""
    from flask.json.provider import DefaultJSONProvider

    app.json = DefaultJSONProvider(app)
    return app


METRICS_OFF = "  with metrics off (METRICS_ENABLED=false)"
TRACING_ON = "  with tracing on (every request sampled, spans exported over OTLP/HTTP)"
SHIPPED_BESIDE_TRACING = "  as shipped (tracing off), in the rounds beside tracing on"


class OtlpSink(BaseHTTPRequestHandler):
    """Reads an OTLP/HTTP export and answers 200, as a collector would (no decoding)."""

    def do_POST(self):  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def traced_app():
    """The one app with tracing on (built last: its instrumentations are process-wide)."""
    loaded = sorted(name for name in sys.modules if name.startswith("opentelemetry"))
    if loaded:
        raise RuntimeError(f"tracing is off, yet OpenTelemetry is loaded: {loaded[:3]}")
    sink = ThreadingHTTPServer(("127.0.0.1", OTLP_PORT), OtlpSink)
    threading.Thread(target=sink.serve_forever, daemon=True).start()
    return make_app(OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{OTLP_PORT}")


SESSION_OFF = "GET /api/protected, frontend token with sid (session check off)"
SESSION_ON = "  with the Better Auth session check (BETTER_AUTH_DATABASE_URL), cache hit"
DISTINCT = "  with distinct tokens (a fresh HS256 token every request: no cache hit)"
CORE = ("bare Flask app (ceiling)", "GET /health", "GET /api/protected (as shipped)", DISTINCT,
        METRICS_OFF, "GET /api/tasks?limit=50", "POST /api/tasks", SESSION_OFF, SESSION_ON)
BETTER_AUTH_TABLES = (
    # The columns Better Auth 1.7 creates with the admin plugin (tests/interop make the real
    # ones with Better Auth's own migrations); the session check reads id, userId, expiresAt,
    # banned, banExpires and role.
    'CREATE TABLE IF NOT EXISTS "user" (id text PRIMARY KEY, name text NOT NULL,'
    ' email text NOT NULL UNIQUE, "emailVerified" boolean NOT NULL, image text,'
    ' "createdAt" timestamptz NOT NULL DEFAULT now(), "updatedAt" timestamptz NOT NULL'
    ' DEFAULT now(), role text, banned boolean, "banReason" text, "banExpires" timestamptz)',
    'CREATE TABLE IF NOT EXISTS "session" (id text PRIMARY KEY, "expiresAt" timestamptz NOT NULL,'
    ' token text NOT NULL UNIQUE, "createdAt" timestamptz NOT NULL DEFAULT now(),'
    ' "updatedAt" timestamptz NOT NULL DEFAULT now(), "ipAddress" text, "userAgent" text,'
    ' "userId" text NOT NULL REFERENCES "user"(id) ON DELETE CASCADE, "impersonatedBy" text)',
    "INSERT INTO \"user\" (id, name, email, \"emailVerified\", role, banned)"
    " VALUES ('bench-ba-user', 'Bench', 'bench-ba@example.com', true, 'user', false)"
    " ON CONFLICT (id) DO NOTHING",
    "INSERT INTO \"session\" (id, \"expiresAt\", token, \"userId\")"
    " VALUES ('bench-ba-session', now() + interval '1 day', 'bench-ba-token', 'bench-ba-user')"
    " ON CONFLICT (id) DO UPDATE SET \"expiresAt\" = excluded.\"expiresAt\"",
)


def better_auth_database():
    """A Better Auth database beside the bench's (``<name>_better_auth``, made if missing) with
    one live session; its URL as a frontend writes it, or None off PostgreSQL."""
    from sqlalchemy import create_engine, make_url, text

    url = make_url(os.environ["DATABASE_URL"])
    if url.get_backend_name() != "postgresql":
        return None
    name = f"{url.database}_better_auth"
    server = create_engine(url, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if found.first() is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    better_auth = url.set(database=name)
    engine = create_engine(better_auth)
    with engine.begin() as conn:
        for statement in BETTER_AUTH_TABLES:
            conn.execute(text(statement))
    engine.dispose()
    return better_auth.set(drivername="postgresql").render_as_string(hide_password=False)


def session_cases(path):
    """The protected route with a frontend token carrying sid, without and with the check."""
    try:
        from ironmind_api.auth import better_auth_sessions  # noqa: F401 (absent before issue 20)
    except ImportError:
        return []
    url = better_auth_database()
    if url is None:
        return []
    import jwt

    now = int(time.time())
    claims = {"sub": "bench-ba-user", "sid": "bench-ba-session", "iat": now, "exp": now + 900}
    token = jwt.encode(claims, os.environ["BETTER_AUTH_SECRET"], algorithm="HS256")
    frontend = {"Authorization": f"Bearer {token}"}
    return [
        (SESSION_OFF, make_app(), path, frontend, None),
        (SESSION_ON, make_app(BETTER_AUTH_DATABASE_URL=url), path, frontend, None),
    ]


def main(argv=None):
    """``--core``: only the ceiling, /health, protected (as shipped, distinct tokens, metrics
    off, tracing on), list, create and the session check; ``--json``: print {case: us} as JSON
    (bench/run uses both); ``--smoke``: 20 requests per case, once (numbers meaningless)."""
    import json
    import logging

    argv = sys.argv[1:] if argv is None else argv

    import jwt
    from flask_jwt_extended import create_access_token

    from bench import token_pool
    from bench.bare_app import app as bare
    from ironmind_api.auth import revocation

    base = make_app()
    with base.app_context():
        claims = {"fam": "f" * 32, "iss": revocation.API_ISSUER}  # a local account's token
        token = create_access_token(identity="bench-subject", additional_claims=claims)
    auth = {"Authorization": f"Bearer {token}"}
    path = "/api/protected"
    synced(base, path, auth)
    smoke = "--smoke" in argv  # a check that every case runs: 20 requests each, one round
    core = "--core" in argv
    rounds = 1 if smoke else BATCHES
    # The distinct-token case: per round a warm-up (<= 200) and a batch, each request a token
    # of the same shape as `token`, never sent before.
    secret = os.environ["BETTER_AUTH_SECRET"]
    per_round = 40 if smoke else min(BATCH, 200) + BATCH
    fresh_tokens = iter(token_pool.mint_hs256(
        secret, jwt.decode(token, secret, algorithms=["HS256"]), int(time.time()), 0,
        rounds * per_round))
    access_log = logging.getLogger("ironmind_api.access")
    is_revoked = getattr(revocation, "any_revoked", None)

    def no_revocation_check():
        revocation.any_revoked = lambda keys, copy: False

    def no_access_line():
        access_log.disabled = True

    def optional(name, build, *rest):
        """A case whose layer may be gone: (name, app, ...), or None with the reason printed."""
        if core and name not in CORE:
            return None
        try:
            return (name, build(), *rest)
        except LayerMissing as why:
            print(f"[layers] skipped {name.strip()!r}: {why}", file=sys.stderr)
            return None

    def needs(found, why):
        def check():
            if not found:
                raise LayerMissing(why)
            return base
        return check

    with base.app_context():
        _seed_tasks("bench-subject", 60)
    write = {"method": "POST", "json": {"title": "Bench task", "description": "In-process."},
             "batch": 200}
    page = {"batch": 200}
    cases = [
        ("bare Flask app (ceiling)", bare, "/", None, None),
        ("GET /health", base, "/health", None, None),
        ("GET /api/protected (as shipped)", base, path, auth, None),
        # An app of its own: the misses must not evict the shipped case's one token.
        (DISTINCT, make_app(), path, auth, None, {"tokens": fresh_tokens}),
        ("  with the per-request revocation query (REVOCATION_LISTEN=false)",
         make_app(REVOCATION_LISTEN=False), path, auth, None),
        ("  with Flask's cookie session opened again",
         with_cookie_session(make_app()), path, auth, None),
        optional("  without the JSON access line", needs(
            "ironmind_api.access" in logging.Logger.manager.loggerDict,
            "no ironmind_api.access logger"), path, auth, no_access_line),
        optional("  without flask-cors' after_request", lambda: without_cors(make_app()),
                 path, auth, None),
        optional("  without any revocation check", needs(
            is_revoked is not None, "no ironmind_api.auth.revocation.any_revoked"),
            path, auth, no_revocation_check),
        ("  with Flask's own JSON provider again", with_flask_json(make_app()), path, auth, None),
        (METRICS_OFF, make_app(METRICS_ENABLED=False), path, auth, None),
        ("GET /api/tasks?limit=50", base, "/api/tasks?limit=50", auth, None, page),
        ("POST /api/tasks", base, "/api/tasks", auth, None, write),
        # A positive answer is reused for 1 s: a batch (~0.3 s) pays one query at most.
        *session_cases(path),
    ]
    cases = [case for case in cases if case is not None]
    if core:
        cases = [case for case in cases if case[0] in CORE]
    # Round robin, best batch per case: drift on a shared machine hits every case alike.
    # The revocation check and the access logger are shared by every app: set per case.
    best = {name: float("inf") for name, *_ in cases}

    def measure(cases):
        for _ in range(rounds):
            for name, app, case_path, headers, switch, *extra in cases:
                if is_revoked is not None:
                    revocation.any_revoked = is_revoked
                access_log.disabled = False
                if switch:
                    switch()
                kwargs = dict(extra[0]) if extra else {}
                if smoke:
                    kwargs["batch"] = 20
                us = cpu_us_per_request(app, case_path, headers, batches=1, **kwargs)
                best[name] = min(best.get(name, float("inf")), us)
        if is_revoked is not None:
            revocation.any_revoked = is_revoked
        access_log.disabled = False

    measure(cases)
    # Last, in rounds of its own beside the shipped app: the instrumentations are process-wide
    # (every Engine.connect becomes a span), so no earlier case may run with them installed.
    measure([(TRACING_ON, traced_app(), path, auth, None),
             (SHIPPED_BESIDE_TRACING, base, path, auth, None)])
    if "--json" in argv:
        print(json.dumps(best))
        return
    print("| request | CPU us/request (in-process, no gunicorn) |")
    print("|---|---:|")
    for name, us in best.items():
        print(f"| {name} | {us} |")


if __name__ == "__main__":
    main()
