"""The database goes away for 5 s under load: fast honest 503s, nothing acknowledged lost,
and the API serves again without a restart."""

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from config import Config, TestingConfig
from ironmind_api import create_app
from ironmind_api.db import db

from .harness import Client, is_service_unavailable, mint, subject

pytestmark = pytest.mark.reliability

CLIENTS = 8
OUTAGE = 5.0  # s the cluster stays down
BOUND = Config.DB_REQUEST_BOUND  # s: no request may take longer (docs/RELIABILITY.md)
READY_BOUND = 2.5  # s: /health/ready answers within 2 s, plus scheduling margin
RECOVERY = 5.0  # s after PostgreSQL accepts connections again


def keep_creating(port, sub, stop):
    """Create tasks until told to stop (at most 2,000, so the loop is bounded)."""
    client, results = Client(port, mint(sub)), []
    for n in range(2000):
        if stop.is_set():
            break
        body = {"title": f"{sub} #{n}"}
        response = client.post("/api/tasks", body)
        results.append((time.monotonic(), body, response))
        if response.status != 201:
            time.sleep(0.05)  # a real client backs off a little
    client.close()
    return results


def keep_probing(port, stop):
    client, probes = Client(port), []
    while not stop.is_set():
        for path in ("/health", "/health/ready"):
            sent_at = time.monotonic()
            probes.append((sent_at, path, client.get(path)))
        time.sleep(0.2)
    client.close()
    return probes


def wait_for_recovery(port, sub, deadline):
    client = Client(port, mint(sub))
    try:
        while time.monotonic() < deadline:
            if client.post("/api/tasks", {"title": "after the outage"}).status == 201:
                return time.monotonic()
            time.sleep(0.1)
    finally:
        client.close()
    return None


# fast: PostgreSQL ends every session and stops cleanly, as `pg_ctlcluster stop` does;
# immediate: it dies without cleanup, like a crash, and recovers from its WAL on start.
@pytest.mark.parametrize("stop_mode", ["fast", "immediate"])
def test_outage_fails_fast_with_503_loses_nothing_and_recovers(server, empty_db, stop_mode):
    subs = [subject(f"outage{i}") for i in range(CLIENTS)]
    stop = threading.Event()
    with ThreadPoolExecutor(CLIENTS + 1) as pool:
        writers = [pool.submit(keep_creating, server.port, sub, stop) for sub in subs]
        prober = pool.submit(keep_probing, server.port, stop)
        try:
            time.sleep(1.5)
            empty_db.stop(stop_mode)
            stopped_at = time.monotonic()
            time.sleep(OUTAGE)
            restart_at = time.monotonic()
            empty_db.start()
            up_at = time.monotonic()
            recovered_at = wait_for_recovery(server.port, subs[0], up_at + RECOVERY)
            time.sleep(1.0)  # load continues on the recovered database
        finally:
            stop.set()
            results = [item for writer in writers for item in writer.result()]
            probes = prober.result()

    assert recovered_at is not None, f"no 201 within {RECOVERY} s of PostgreSQL's restart"
    statuses = Counter(r.status for _, _, r in results)
    print(f"outage ({stop_mode}): {len(results)} requests, {statuses[201]} x 201, "
          f"{statuses[503]} x 503, slowest {max(r.elapsed for _, _, r in results):.2f} s, "
          f"recovered {recovered_at - up_at:.2f} s after restart")

    responses = [response for _, _, response in results]
    acknowledged = {r.json()["id"]: body for _, body, r in results if r.status == 201}
    failures = [r for r in responses if r.status != 201]
    assert failures, "the outage produced no failure: the test did not test anything"
    assert not server.unhandled_errors(), server.unhandled_errors()[0]
    assert all(is_service_unavailable(r) for r in failures), (
        [r for r in failures if not is_service_unavailable(r)][:3],
        [r for r in server.log_records() if r.get("level") in ("ERROR", "CRITICAL", None)
         and r.get("message") != "database unavailable: OperationalError"][:5],
    )
    assert max(r.elapsed for r in responses) <= BOUND, max(responses, key=lambda r: r.elapsed)
    assert any(t > recovered_at and r.status == 201 for t, _, r in results)

    rows = dict(empty_db.rows("SELECT id, title FROM tasks"))
    assert all(rows.get(task_id) == body["title"] for task_id, body in acknowledged.items())

    during = [(path, r) for t, path, r in probes if stopped_at < t and t + r.elapsed < restart_at]
    assert during, "no probe ran during the outage"
    assert all(r.status == 200 for path, r in during if path == "/health")
    ready = [r for path, r in during if path == "/health/ready"]
    assert ready and all(r.status == 503 for r in ready)
    assert all(r.json() == {"status": "unavailable", "database": "error"} for r in ready)
    assert max(r.elapsed for r in ready) <= READY_BOUND
    last_ready = [r for t, path, r in probes if path == "/health/ready" and t > recovered_at]
    assert last_ready and last_ready[-1].status == 200


def test_connection_dropped_before_session_cleanup_is_not_an_error(cluster):
    """The request is done, then the database drops its connection: teardown stays quiet."""
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=cluster.url)
    context = app.app_context()
    context.push()
    backend = db.session.execute(text("SELECT pg_backend_pid()")).scalar()  # opens a transaction
    cluster.execute("SELECT pg_terminate_backend(%s)", backend)
    time.sleep(0.2)
    context.pop()  # closing the session rolls back on the dead connection

    with app.app_context():
        assert db.session.execute(text("SELECT 1")).scalar() == 1  # the pool recovered
