"""Metrics and tracing under the real gunicorn with two workers (prometheus_client's
multiprocess mode, OTLP export from forked workers), on PostgreSQL."""

import os
import signal
import threading
import time
import uuid

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests import services
from tests.reliability.harness import Client, Server, migrate
from tests.test_tracing import Receiver, ReceiverHandler

RECEIVER_PORTS = range(18635, 18636)
SERVER_PORTS = range(18636, 18640)  # docs/DEVELOPMENT.md, Ports
BURST = 40  # requests per burst, each refused for want of a token; bursts until both workers
MAX_BURSTS = 10  # served some (bounded: 400 requests)


def start_server(database, **overrides):
    port = services.free_port(SERVER_PORTS, reuse_address=True)
    return Server(database, port, GUNICORN_WORKERS="2", **overrides).start()


@pytest.fixture(scope="module")
def server(database):
    migrate(database)
    server = start_server(database)
    try:
        yield server
    finally:
        server.stop()
        server.remove_log()


def scrape(server):
    """(pid of the worker that answered, {(name, sorted labels): value})."""
    client = Client(server.port)
    response = client.get("/metrics")
    client.close()
    assert response.status == 200, response
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.body)
        for sample in family.samples
    }
    line = next(line for line in server.lines() if line.get("request_id") == response.request_id)
    return line["pid"], samples


def scrapes_from_both_workers(server, seconds=20):
    """{pid: samples}: scrape on new connections until two workers have answered."""
    answers = {}
    deadline = time.monotonic() + seconds
    while len(answers) < 2 and time.monotonic() < deadline:
        pid, samples = scrape(server)
        answers[pid] = samples
    assert len(answers) == 2, "one worker answered every scrape"
    return answers


def refuse_many(server, count):
    """``count`` requests without a token, on new connections from 8 threads."""
    statuses = []

    def send(share):
        for _ in range(share):
            client = Client(server.port)
            statuses.append(client.get("/api/protected").status)
            client.close()

    threads = [threading.Thread(target=send, args=(count // 8,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert statuses == [401] * count


REFUSED_KEY = ("ironmind_http_requests_total",
               (("method", "GET"), ("route", "/api/protected"), ("status", "401")))


def served_by(server):
    return {
        line["pid"] for line in server.lines()
        if line.get("message") == "request" and line.get("route") == "/api/protected"
    }


def test_every_worker_reports_the_sum_over_all_workers(server):
    sent = 0
    while sent < BURST * MAX_BURSTS and served_by(server) != set(server.worker_pids()):
        refuse_many(server, BURST)
        sent += BURST
    assert served_by(server) == set(server.worker_pids()), "the requests did not reach both"

    for pid, samples in scrapes_from_both_workers(server).items():
        assert samples[REFUSED_KEY] == sent, pid
        assert samples[("ironmind_tokens_refused_total", (("code", "missing_token"),))] == sent
        assert samples[("ironmind_http_request_duration_seconds_count",
                        (("method", "GET"), ("route", "/api/protected")))] == sent
        assert samples[("ironmind_app_info", (("version", "1.0.0"),))] == 1


def gauge_pids(samples, name):
    return {dict(labels)["pid"]: value for (sample, labels), value in samples.items()
            if sample == name}


def test_worker_gauges_carry_the_pid_of_each_live_worker(server):
    workers = {str(pid) for pid in server.worker_pids()}
    deadline = time.monotonic() + 20
    while True:
        answers = scrapes_from_both_workers(server)
        synced = [gauge_pids(samples, "ironmind_revocation_copy_synced")
                  for samples in answers.values()]
        # Each scrape starts (at the latest) that worker's listener; both sync within moments.
        if all(s == dict.fromkeys(workers, 1.0) for s in synced) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    for samples in answers.values():
        assert gauge_pids(samples, "ironmind_revocation_copy_synced") == dict.fromkeys(workers, 1)
        assert all(lag < 5 for lag in
                   gauge_pids(samples, "ironmind_revocation_copy_lag_seconds").values())
        assert gauge_pids(samples, "ironmind_db_pool_in_use") == dict.fromkeys(workers, 0)
        assert set(gauge_pids(samples, "ironmind_db_pool_overflow")) == workers


def test_a_replaced_worker_leaves_the_gauges_and_its_counts_stay(server):
    before = dict(next(iter(scrapes_from_both_workers(server).values())))
    old = server.worker_pids()[0]
    os.kill(old, signal.SIGTERM)
    deadline = time.monotonic() + 30
    while (old in server.worker_pids() or len(server.worker_pids()) < 2) and (
        time.monotonic() < deadline
    ):
        time.sleep(0.2)
    assert old not in server.worker_pids() and len(server.worker_pids()) == 2
    for samples in scrapes_from_both_workers(server).values():
        assert str(old) not in gauge_pids(samples, "ironmind_db_pool_in_use")
        # What the old worker counted is still in the sums.
        assert samples[REFUSED_KEY] == before[REFUSED_KEY] > 0


def test_a_traceparent_is_continued_by_a_gunicorn_worker(database):
    receiver = Receiver(("127.0.0.1", services.free_port(RECEIVER_PORTS, reuse_address=True)),
                        ReceiverHandler)
    receiver.spans, receiver.paths = [], []
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    server = start_server(
        database,
        OTEL_EXPORTER_OTLP_ENDPOINT=f"http://127.0.0.1:{receiver.server_port}",
        OTEL_BSP_SCHEDULE_DELAY="100",
    )
    try:
        trace_id, parent_id = uuid.uuid4().hex, uuid.uuid4().hex[:16]
        client = Client(server.port)
        response = client.get("/health/ready",
                              headers={"traceparent": f"00-{trace_id}-{parent_id}-01"})
        client.close()
        assert response.status == 200
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            spans = [s for _, _, s in receiver.spans if s.trace_id.hex() == trace_id]
            if any(s.parent_span_id.hex() == parent_id for s in spans) and len(spans) >= 2:
                break
            time.sleep(0.1)
        (root,) = [s for s in spans if s.parent_span_id.hex() == parent_id]
        assert any(s.parent_span_id == root.span_id for s in spans), "no SQL span under it"
        line = next(line for line in server.lines() if line.get("request_id") ==
                    response.request_id)
        assert (line["trace_id"], line["span_id"]) == (trace_id, root.span_id.hex())
    finally:
        server.stop()
        server.remove_log()
        receiver.shutdown()
        receiver.server_close()
