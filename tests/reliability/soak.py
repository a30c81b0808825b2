"""Soak: a bounded mixed load on the production gunicorn, with worker memory sampled.

    python -m tests.reliability.soak [--seconds 120] [--clients 6]

Starts its own throw-away PostgreSQL cluster and gunicorn (ports RELIABILITY_PORT_BASE+40/41),
runs reads, writes and sign-ins for the given time, samples every worker's RSS, prints a JSON
report and exits non-zero on any 5xx or a worker whose RSS grew more than --max-growth after
warm-up. Everything it starts is stopped before it exits. Not part of CI (it takes minutes).
"""

import argparse
import json
import random
import statistics
import sys
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor

from .harness import PORT_BASE, Client, Cluster, Server, migrate, mint, rss_kib, subject

PASSWORD = "soak password 123"


def signup_users(port, count):
    client, emails = Client(port), []
    for i in range(count):
        email = f"soak{i}-{subject('u')}@example.com"
        response = client.post("/api/auth/signup", {"email": email, "password": PASSWORD})
        assert response.status == 201, response
        emails.append(email)
    client.close()
    return emails


def run_client(port, emails, deadline, seed, record):
    """One user's session: mostly reads, some writes, the odd sign-in; bounded by deadline."""
    rng = random.Random(seed)
    client, task_ids = Client(port, mint(subject("soak"))), []
    for n in range(100_000):
        if time.monotonic() >= deadline:
            break
        if n % 50 == 49:
            client.close()  # reconnect now and then, so both workers get connections
        roll = rng.random()
        if roll < 0.10 or not task_ids:
            kind, response = "create", client.post("/api/tasks", {"title": f"soak {rng.random()}"})
            if response.status == 201:
                task_ids.append(response.json()["id"])
        elif roll < 0.20:
            kind, response = "update", client.patch(f"/api/tasks/{rng.choice(task_ids)}",
                                                    {"completed": rng.random() < 0.5})
        elif roll < 0.23 and len(task_ids) > 5:
            kind = "delete"
            response = client.request("DELETE", f"/api/tasks/{task_ids.pop(0)}")
        elif roll < 0.35:
            kind, response = "signin", client.post(
                "/api/auth/signin", {"email": rng.choice(emails), "password": PASSWORD})
        elif roll < 0.55:
            kind, response = "me", client.get("/api/auth/me")
        elif roll < 0.75:
            kind, response = "get", client.get(f"/api/tasks/{rng.choice(task_ids)}")
        else:
            kind, response = "list", client.get("/api/tasks?limit=20")
        record(kind, response)
    client.close()


def sample_memory(server, stop, interval, samples, started):
    while not stop.wait(interval):
        samples.append({"t": round(time.monotonic() - started, 1),
                        "rss_kib": {pid: rss_kib(pid) for pid in server.worker_pids()}})


def percentile(values, q):
    if len(values) < 2:
        return 0
    return round(statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000, 1)


def soak(seconds, clients, warmup, max_growth):
    cluster = Cluster(PORT_BASE + 40)
    server = Server(cluster.url, PORT_BASE + 41)
    statuses, latencies, lock = Counter(), defaultdict(list), threading.Lock()

    def record(kind, response):
        with lock:
            statuses[(kind, response.status)] += 1
            latencies[kind].append(response.elapsed)

    try:
        cluster.create()
        migrate(cluster.url)
        server.start()
        emails = signup_users(server.port, 4)
        samples, stop = [], threading.Event()
        started = time.monotonic()
        deadline = started + seconds
        sampler = threading.Thread(target=sample_memory,
                                   args=(server, stop, 5, samples, started), daemon=True)
        sampler.start()
        with ThreadPoolExecutor(clients) as pool:
            for future in [pool.submit(run_client, server.port, emails, deadline, seed, record)
                           for seed in range(clients)]:
                future.result()
        stop.set()
        sampler.join(timeout=10)
        elapsed = time.monotonic() - started
        unhandled = len(server.unhandled_errors())
    finally:
        server.stop()
        server.remove_log()
        cluster.destroy()

    after_warmup = [s for s in samples if s["t"] >= warmup] or samples
    growth = {}
    for pid in after_warmup[0]["rss_kib"]:
        series = [s["rss_kib"][pid] for s in after_warmup if pid in s["rss_kib"]]
        growth[pid] = {"first_kib": series[0], "last_kib": series[-1], "max_kib": max(series),
                       "growth_pct": round(100 * (series[-1] - series[0]) / series[0], 1)}
    total = sum(statuses.values())
    server_errors = sum(n for (_, status), n in statuses.items() if status >= 500)
    report = {
        "seconds": round(elapsed, 1),
        "clients": clients,
        "requests": total,
        "requests_per_second": round(total / elapsed, 1),
        "statuses": {f"{kind} {status}": n for (kind, status), n in sorted(statuses.items())},
        "5xx": server_errors,
        "unhandled_error_log_lines": unhandled,
        "latency_ms": {kind: {"p50": percentile(v, 50), "p95": percentile(v, 95),
                              "p99": percentile(v, 99), "max": round(max(v) * 1000, 1)}
                       for kind, v in sorted(latencies.items())},
        "worker_rss_after_warmup": growth,
        "rss_samples": samples,
    }
    flat = all(g["growth_pct"] <= max_growth for g in growth.values())
    return report, server_errors == 0 and unhandled == 0 and flat


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--warmup", type=float, default=30, help="s before RSS must be flat")
    parser.add_argument("--max-growth", type=float, default=10.0, help="allowed RSS growth, %%")
    args = parser.parse_args(argv)
    report, passed = soak(args.seconds, args.clients, args.warmup, args.max_growth)
    print(json.dumps(report, indent=2))
    print("PASS" if passed else "FAIL", file=sys.stderr)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
