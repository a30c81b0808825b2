"""Two API instances on one PostgreSQL (through a transaction-pooling PgBouncer) and one Redis.

As docker-compose.yml scales the API: two production gunicorns (2 workers x 4 threads each)
whose DATABASE_URL is Debian's pgbouncer in transaction pooling (DATABASE_TRANSACTION_POOLING),
whose revocation listener connects directly (DATABASE_LISTEN_URL), and whose rate-limit counts
live in Redis. A client that talks to either instance must not be able to tell them apart:
a sign-out on one is refused on the other, the auth limit is one limit, and concurrent writes
spread over both are each stored once.
"""

import os
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from sqlalchemy import make_url

from tests import services
from tests.conftest import require_service
from tests.pgbouncer import PgBouncer
from tests.reliability.harness import ROOT, Client, Server, server_env

# PgBouncer and the two gunicorns, each on the first free port of the range when it starts.
PORTS = range(18640, 18650)
POOL_SIZE = 5  # PgBouncer's server connections, for 2 x 2 workers x (4 + 2) client connections
CREATES = 2000
CONCURRENCY = 32
REVOCATION_BOUND = 1.0  # s: a sign-out on A is refused on B within this
CREATES_BOUND = 240  # s for all the creates, on the 2-core CI machine
STATEMENT_TIMEOUT_MS = 2000


def redis_url():
    return os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/8"


def client_address():
    """A made-up client address per run: its rate-limit counts in Redis are its own."""
    return f"10.{uuid.uuid4().int % 250 + 1}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"


def migrate(env):
    """flask db upgrade, through PgBouncer like the container's entrypoint."""
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="module")
def bouncer(database):
    require_service(services.pgbouncer_reason(services.pgbouncer_binary() is not None))
    require_service(services.redis_problem(redis_url()))
    pgbouncer = PgBouncer(
        database, services.free_port(PORTS, reuse_address=True), pool_size=POOL_SIZE,
        connect_query=f"SET statement_timeout = {STATEMENT_TIMEOUT_MS}",
    )
    try:
        yield pgbouncer.start()
    finally:
        pgbouncer.stop()


@pytest.fixture(scope="module")
def instances(database, bouncer):
    """Instances A and B, both through PgBouncer; the listener direct to PostgreSQL."""
    settings = {
        "DATABASE_TRANSACTION_POOLING": "true",
        "DATABASE_LISTEN_URL": database,
        "REVOCATION_LISTEN": "true",
        "RATELIMIT_STORAGE_URI": redis_url(),
        "RATELIMIT_AUTH": "5 per minute",
        # Every request carries a made-up X-Forwarded-For, believed from the test client only.
        "TRUSTED_PROXIES": "1",
        "TRUSTED_PROXY_ADDRESSES": "127.0.0.1",
    }
    migrate(server_env(bouncer.url, 0, **settings))
    servers = []
    try:
        for _ in range(2):
            port = services.free_port(PORTS, reuse_address=True)
            servers.append(Server(bouncer.url, port, **settings).start())
        yield servers
    finally:
        for server in servers:
            server.stop()
            server.remove_log()


def forwarded(address):
    return {"X-Forwarded-For": address}


def signed_in(server, address):
    """A new user, signed up and in on ``server``: its token pair."""
    client = Client(server.port)
    email = f"scale-{uuid.uuid4().hex[:10]}@example.com"
    credentials = {"email": email, "password": "scale-password-1"}
    assert client.post("/api/auth/signup", credentials, headers=forwarded(address)).status == 201
    response = client.post("/api/auth/signin", credentials, headers=forwarded(address))
    assert response.status == 200, response
    return response.json()


def test_the_statement_timeout_holds_on_pgbouncers_server_connections(bouncer):
    # DATABASE_TRANSACTION_POOLING sends no startup options: PgBouncer's connect_query sets it.
    with psycopg.connect(bouncer.dsn(), prepare_threshold=None) as conn:
        assert conn.execute("SHOW statement_timeout").fetchone() == ("2s",)


def test_a_sign_out_on_one_instance_is_refused_on_the_other_within_a_second(instances):
    a, b = instances
    address = client_address()
    tokens = signed_in(a, address)
    on_a, on_b = Client(a.port, tokens["token"]), Client(b.port, tokens["token"])
    # B's workers check tokens from their copies, once synced: warm both before the sign-out.
    for _ in range(8):
        assert on_b.get("/api/protected").status == 200
        on_b.close()

    assert on_a.post("/api/auth/signout", {}).status == 200
    signed_out = time.monotonic()
    refused = None
    while time.monotonic() - signed_out < REVOCATION_BOUND:
        response = on_b.get("/api/protected")
        if response.status == 401:
            refused = time.monotonic() - signed_out
            break
        time.sleep(0.01)

    assert refused is not None, f"B still accepted the token {REVOCATION_BOUND} s after sign-out"
    assert response.json()["error"] == "token_revoked"
    print(f"refused on B {refused * 1000:.0f} ms after the sign-out on A")
    # The listeners run on direct connections: every worker's copy synced.
    for server in (a, b):
        synced = [r for r in server.log_records() if r.get("message", "").startswith(
            "revocation cache synced")]
        assert synced, server.log_text()[-2000:]


def test_the_auth_rate_limit_counts_requests_to_both_instances(instances):
    a, b = instances
    address = client_address()
    wrong = {"email": f"nobody-{uuid.uuid4().hex[:8]}@example.com", "password": "wrong-password"}
    for _ in range(5):
        response = Client(a.port).post("/api/auth/signin", wrong, headers=forwarded(address))
        assert response.status == 401, response

    sixth = Client(b.port).post("/api/auth/signin", wrong, headers=forwarded(address))

    assert sixth.status == 429, sixth
    assert sixth.json()["error"] == "rate_limited"
    assert int(sixth.headers["Retry-After"]) >= 1
    # Another address still has its own five.
    other = Client(b.port).post("/api/auth/signin", wrong, headers=forwarded(client_address()))
    assert other.status == 401


def test_concurrent_creates_spread_over_both_instances_are_each_stored_once(
    instances, database
):
    a, b = instances
    token = signed_in(a, client_address())["token"]
    local = threading.local()
    started = time.monotonic()

    def create(number):
        if time.monotonic() - started > CREATES_BOUND:
            return number, None, None
        server = (a, b)[number % 2]
        clients = local.__dict__.setdefault("clients", {})
        client = clients.setdefault(server.port, Client(server.port, token))
        response = client.post("/api/tasks", {"title": f"task {number}"})
        return number, response.status, response.json().get("id")

    with ThreadPoolExecutor(CONCURRENCY) as pool:
        results = list(pool.map(create, range(CREATES)))
    elapsed = time.monotonic() - started
    print(f"{CREATES} creates over two instances in {elapsed:.1f} s")

    assert elapsed <= CREATES_BOUND
    assert [number for number, status, _ in results if status != 201] == []
    ids = [task_id for _, _, task_id in results]
    assert len(set(ids)) == CREATES
    with psycopg.connect(make_url(database).set(drivername="postgresql").render_as_string(
        False
    )) as conn:
        rows, titles = conn.execute(
            "SELECT count(*), count(DISTINCT title) FROM tasks"  # only this test creates tasks
        ).fetchone()
        # 2 x 2 workers, each with up to 6 pooled connections, shared PgBouncer's few: the
        # database saw at most its pool, the four listeners and this connection.
        backends = conn.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND backend_type = 'client backend'"
        ).fetchone()[0]
    assert (rows, titles) == (CREATES, CREATES)
    assert backends <= POOL_SIZE + 4 + 1
