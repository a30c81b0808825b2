"""SIGTERM under load: requests already being served finish; gunicorn exits in time."""

import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from .harness import Client, mint, subject

pytestmark = pytest.mark.reliability

GRACEFUL_TIMEOUT = 10  # s, GUNICORN_GRACEFUL_TIMEOUT for this server
HELD = 1.5  # s the in-flight requests stay blocked after SIGTERM
IN_FLIGHT = 4


def wait_for_lock_waiters(cluster, count, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        waiting = cluster.rows(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
        )[0][0]
        if waiting >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"only {waiting} of {count} requests reached the database lock")


def keep_reading(port, token, stop):
    """GET the task list until stopped; each outcome is a response or a connection error."""
    client, outcomes = Client(port, token, timeout=GRACEFUL_TIMEOUT + 10), []
    for _ in range(5000):
        if stop.is_set():
            break
        try:
            outcomes.append(client.get("/api/tasks?limit=5"))
        except OSError as exc:  # refused once the listener is closed, or reset
            exc.request_id = client.last_request_id
            outcomes.append(exc)
            time.sleep(0.05)
    client.close()
    return outcomes


def test_sigterm_lets_in_flight_requests_finish(own_server, cluster):
    server = own_server(GUNICORN_GRACEFUL_TIMEOUT=GRACEFUL_TIMEOUT, GUNICORN_THREADS=8,
                        DB_STATEMENT_TIMEOUT_MS=20000)
    token = mint(subject("shutdown"))
    client = Client(server.port, token)
    task = client.post("/api/tasks", {"title": "before"}).json()
    client.close()

    stop = threading.Event()
    with psycopg.connect(cluster.dsn) as holder, ThreadPoolExecutor(IN_FLIGHT + 4) as pool:
        # Hold the task's row lock so the PATCHes are provably inside the app when SIGTERM comes.
        holder.execute("SELECT id FROM tasks WHERE id = %s FOR UPDATE", (task["id"],))

        def patch(i):
            return Client(server.port, token).patch(f"/api/tasks/{task['id']}",
                                                    {"title": f"in flight {i}"})

        readers = [pool.submit(keep_reading, server.port, token, stop) for _ in range(4)]
        time.sleep(0.5)
        patches = [pool.submit(patch, i) for i in range(IN_FLIGHT)]
        wait_for_lock_waiters(cluster, IN_FLIGHT)
        time.sleep(0.3)
        signalled = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        time.sleep(HELD)
        holder.commit()
        server.process.wait(timeout=GRACEFUL_TIMEOUT + 10)
        exited = time.monotonic() - signalled
        stop.set()
        patched = [future.result() for future in patches]
        outcomes = [outcome for reader in readers for outcome in reader.result()]

    assert server.process.returncode == 0
    assert HELD <= exited < GRACEFUL_TIMEOUT, exited
    assert [r.status for r in patched] == [200] * IN_FLIGHT, patched
    assert {r.json()["title"] for r in patched} <= {f"in flight {i}" for i in range(IN_FLIGHT)}

    served = {r.get("request_id") for r in server.log_records() if r.get("message") == "request"}
    answered = [o for o in outcomes if not isinstance(o, Exception)]
    failed = [o for o in outcomes if isinstance(o, Exception)]
    assert answered and all(r.status == 200 for r in answered)
    # Every request the app started was answered; a connection error only ever hit a
    # request the server had not taken up (refused, or left in the closed listen queue).
    assert {r.request_id for r in answered} <= served
    assert {r.request_id for r in patched} <= served
    assert not {e.request_id for e in failed} & served
    print(f"shutdown: exited {exited:.2f} s after SIGTERM; {len(answered)} answered, "
          f"{len(failed)} not taken up ({sorted({type(e).__name__ for e in failed})})")
