"""The revocation check without a database round trip: a per-process copy kept by LISTEN/NOTIFY.

PostgreSQL only (SQLite has no NOTIFY and keeps the per-request query). The cross-process test
runs two real gunicorn instances of 2 workers each on a fresh database.
"""

import time
import uuid
from datetime import timedelta

import jwt as pyjwt
import psycopg
import pytest
from sqlalchemy import event, make_url, text

from ironmind_api.auth import revocation_cache
from ironmind_api.db import db as _db
from ironmind_api.db import utcnow
from tests.conftest import bearer, require_service
from tests.reliability.harness import Client, Server, migrate
from tests.services import postgres_problem, postgres_url, scratch_database

PORTS = (18950, 18951)
SYNC_BOUND = 10  # s for a fresh listener to connect, listen and load
NOTIFY_BOUND = 1.0  # s for a revocation committed elsewhere to be enforced


@pytest.fixture(scope="module")
def database():
    """A migrated PostgreSQL database of this module's own (the suite may run on SQLite)."""
    url = postgres_url()
    require_service(postgres_problem(url))
    with scratch_database(url, "ironmind_revocation") as database:
        try:
            migrate(database)
            yield database
        finally:
            revocation_cache.stop(database)


@pytest.fixture(scope="module")
def pg_app(make_app, database):
    app = make_app(SQLALCHEMY_DATABASE_URI=database)
    with app.app_context():
        yield app
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture
def client(pg_app):
    return pg_app.test_client()


@pytest.fixture
def pg(pg_app):
    return pg_app.extensions["revocation_cache"]


@pytest.fixture
def signin(client):
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    password = "correct horse battery"
    signup = client.post("/api/auth/signup", json={"email": email, "password": password})
    assert signup.status_code == 201

    def login():
        response = client.post("/api/auth/signin", json={"email": email, "password": password})
        assert response.status_code == 200
        return response.get_json()

    return login


@pytest.fixture
def token(signin):
    return signin()["token"]


def wait_until(condition, bound, step=0.02):
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(step)
    return condition()


def psycopg_dsn(url):
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def revoke_elsewhere(url, key, notify=True):
    """Revoke a key as another process would: its own connection, its own transaction."""
    expires = utcnow() + timedelta(hours=1)
    with psycopg.connect(psycopg_dsn(url)) as conn:
        conn.execute("INSERT INTO revoked_tokens (key, expires_at) VALUES (%s, %s)", (key, expires))
        if notify:
            conn.execute(
                "SELECT pg_notify(%s, %s)",
                (revocation_cache.CHANNEL, revocation_cache.payload(key, expires)),
            )


def jti(token):
    return pyjwt.decode(token, options={"verify_signature": False})["jti"]


def statements_during(engine, fn):
    seen = []

    def record(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        result = fn()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return result, seen


def test_synced_copy_answers_protected_requests_without_any_sql(client, pg, token):
    assert wait_until(lambda: pg.synced, SYNC_BOUND)
    response, statements = statements_during(
        _db.engine, lambda: client.get("/api/protected", headers=bearer(token))
    )
    assert response.status_code == 200
    assert statements == []


def test_revocation_committed_by_another_process_is_enforced_within_a_second(
    pg_app, client, pg, token
):
    assert wait_until(lambda: pg.synced, SYNC_BOUND)
    assert client.get("/api/protected", headers=bearer(token)).status_code == 200
    revoke_elsewhere(pg_app.config["SQLALCHEMY_DATABASE_URI"], jti(token))
    started = time.monotonic()
    assert wait_until(lambda: pg.answer([jti(token)]) is True, NOTIFY_BOUND)
    print(f"notified after {(time.monotonic() - started) * 1000:.1f} ms")
    response = client.get("/api/protected", headers=bearer(token))
    assert response.status_code == 401
    assert response.get_json()["error"] == "token_revoked"


def test_signout_is_in_this_process_copy_before_any_notification(client, pg, token):
    assert wait_until(lambda: pg.synced, SYNC_BOUND)
    assert client.post("/api/auth/signout", json={}, headers=bearer(token)).status_code == 200
    assert pg.answer([jti(token)]) is True
    assert client.get("/api/protected", headers=bearer(token)).status_code == 401


def test_killed_listener_falls_back_to_the_query_and_resyncs_with_what_it_missed(
    pg_app, client, pg, token, signin
):
    url = pg_app.config["SQLALCHEMY_DATABASE_URI"]
    assert wait_until(lambda: pg.synced, SYNC_BOUND)
    with _db.engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pg.listener_pid})
    assert wait_until(lambda: not pg.synced, 2), "the lost connection went unnoticed"

    # Revoked while nobody listens, and without any notification: only the table knows.
    missed = signin()["token"]
    revoke_elsewhere(url, jti(missed), notify=False)
    if not pg.synced:  # usually: the listener is still backing off
        response, statements = statements_during(
            _db.engine, lambda: client.get("/api/protected", headers=bearer(missed))
        )
        assert response.status_code == 401 and statements, "not answered by the query"
    assert client.get("/api/protected", headers=bearer(token)).status_code == 200

    assert wait_until(lambda: pg.synced, SYNC_BOUND), "the listener did not re-sync"
    assert pg.answer([jti(missed)]) is True
    assert pg.answer([jti(token)]) is False
    assert client.get("/api/protected", headers=bearer(missed)).status_code == 401
    assert client.get("/api/protected", headers=bearer(token)).status_code == 200


def test_a_stale_entry_never_rejects_a_token_the_table_does_not_list(client, pg, token):
    assert wait_until(lambda: pg.synced, SYNC_BOUND)
    pg.add(jti(token), time.time() + 60)  # e.g. from a signout whose transaction rolled back
    assert client.get("/api/protected", headers=bearer(token)).status_code == 200


def test_expired_entries_are_purged_from_the_copy(pg):
    pg.add("long-expired", time.time() - 3600)
    pg.add("still-valid", time.time() + 3600)
    pg._purge()
    assert pg.answer(["long-expired"]) in (False, None)
    assert "long-expired" not in pg._entries and "still-valid" in pg._entries


def test_sqlite_keeps_the_per_request_query(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'lite.db'}")
    assert "revocation_cache" not in app.extensions


def test_the_copy_can_be_switched_off(make_app, database):
    app = make_app(SQLALCHEMY_DATABASE_URI=database, REVOCATION_LISTEN=False)
    assert "revocation_cache" not in app.extensions


# --- across processes: two gunicorn instances, 2 workers each ---------------------------------


def synced_workers(server):
    return {
        record.get("pid")
        for record in server.log_records()
        if str(record.get("message", "")).startswith("revocation cache synced")
    }


def get_fresh(server, path, token):
    """One request on a new connection, so successive requests spread over the workers."""
    client = Client(server.port, token, timeout=5)
    try:
        return client.get(path)
    finally:
        client.close()


@pytest.fixture
def two_instances(database):
    servers = [Server(database, port, GUNICORN_WORKERS=2) for port in PORTS]
    try:
        yield [server.start() for server in servers]
    finally:
        for server in servers:
            server.stop()
            server.remove_log()


def test_signout_on_one_instance_is_enforced_by_every_worker_of_another(two_instances):
    a, b = two_instances
    password = "correct horse battery"
    signup = Client(a.port).post(
        "/api/auth/signup", {"email": "ada@example.com", "password": password}
    )
    assert signup.status == 201
    session = Client(a.port).post(
        "/api/auth/signin", {"email": "ada@example.com", "password": password}
    ).json()
    token = session["token"]

    # Every worker of B starts its listener on its first check and must have synced.
    deadline = time.monotonic() + SYNC_BOUND
    while len(synced_workers(b)) < 2 and time.monotonic() < deadline:
        assert get_fresh(b, "/api/protected", token).status == 200
        time.sleep(0.05)
    assert len(synced_workers(b)) == 2, b.log_text()[-2000:]

    assert Client(a.port, token).post("/api/auth/signout", {}).status == 200
    started = time.monotonic()
    while get_fresh(b, "/api/protected", token).status != 401:
        assert time.monotonic() - started < NOTIFY_BOUND, "B still accepts the signed-out token"
    # Every worker of B refuses it (new connections until both have answered, bounded).
    for _ in range(100):
        response = get_fresh(b, "/api/protected", token)
        assert response.status == 401 and response.json()["error"] == "token_revoked"
        if refused_by(b) == synced_workers(b):
            break
    assert refused_by(b) == synced_workers(b), "not every worker of B was asked"
    assert not a.unhandled_errors() and not b.unhandled_errors()


def refused_by(server):
    return {
        record["pid"]
        for record in server.log_records()
        if record.get("logger") == "ironmind_api.access" and record.get("status") == 401
    }
