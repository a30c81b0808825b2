"""The benchmark harness behind bench/run: seed, serve with gunicorn as production does, load
with wrk from a separate process, measure, and write bench/results/<date>.json and the report.

Everything it starts (gunicorn for the API, the API behind TRUSTED_PROXIES, the bare app and
the floor app, the JWKS server, granian, uvicorn, wrk, py-spy) runs in its own process group
and is stopped by id on exit, on an error and on SIGINT/SIGTERM.
"""

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import report, seed, token_pool  # noqa: E402
from bench.token_pool import TokenPool  # noqa: E402

BENCH_DIR = ROOT / "bench"
LUA = BENCH_DIR / "wrk" / "bench.lua"
TMP = BENCH_DIR / "results" / "tmp"
CONNECTIONS = (1, 16, 64)
# Scenario 7 is argon2-bound by design; it is reported apart from the others.
SCENARIOS = (
    ("ceiling", "1. ceiling: bare Flask app, fixed JSON"),
    ("health", "2. GET /health"),
    ("protected_hs256", "3. GET /api/protected, HS256 token"),
    ("protected_eddsa", "4. GET /api/protected, EdDSA token via cached JWKS"),
    ("tasks_first_page", "5a. GET /api/tasks?limit=50, first page"),
    ("tasks_deep_page", "5b. GET /api/tasks?limit=50, 5,000 tasks deep (cursor)"),
    ("tasks_create", "6. POST /api/tasks"),
    ("signin", "7. POST /api/auth/signin (argon2id)"),
)
# The scenario runs were 6 s until issue 25's cases joined the side-by-side rounds: 4 s keeps
# the whole run under 10 minutes (each run still sees >= 1,600 responses but for sign-in).
FULL = {
    "users": 1000, "tasks": 1_000_000, "heavy_tasks": 10_000, "duration_s": 4,
    "warmup_s": 1, "rss_first": 10_000, "rss_total": 100_000, "rss_time_limit_s": 260,
    "compare_rounds": 3, "compare_s": 3,
}
QUICK = {
    "users": 100, "tasks": 50_000, "heavy_tasks": 10_000, "duration_s": 1,
    "warmup_s": 1, "rss_first": 1_000, "rss_total": 5_000, "rss_time_limit_s": 30,
    "compare_rounds": 1, "compare_s": 1,
}
# The side-by-side phase: each case once per round, rounds alternate (start rotates), c=16.
# "server" picks the process tree measured: bare/floor/api (gunicorn), granian (the API under
# granian's WSGI server, 2 workers), peer (bench/peer_app.py on uvicorn, 2 workers).
# The floor (bench/floor_app.py, issue 17) is bare Flask + one jwt.decode + one access line.
# "distinct": every request a token never sent before in the run (bench/token_pool.py), so no
# cache can help; "proxy": the API behind TRUSTED_PROXIES as behind nginx (issue 25), its
# requests carrying X-Forwarded-For and X-Forwarded-Proto.
COMPARE = (
    ("ceiling", "bare", "GET / (bare Flask, gunicorn)"),
    ("floor_hs256", "floor", "GET /api/protected HS256, the floor app on gunicorn"),
    ("protected_gunicorn", "api", "GET /api/protected HS256, the API on gunicorn"),
    ("floor_eddsa", "floor", "GET /api/protected-eddsa, the floor app (one EdDSA verify)"),
    ("protected_eddsa_gunicorn", "api", "GET /api/protected EdDSA, the API on gunicorn"),
    ("floor_hs256_distinct", "floor", "the floor, HS256, a fresh token every request"),
    ("protected_distinct_gunicorn", "api", "the API, HS256, a fresh token every request"),
    ("floor_eddsa_distinct", "floor", "the floor, EdDSA, a fresh token every request"),
    ("protected_eddsa_distinct_gunicorn", "api", "the API, EdDSA, a fresh token every request"),
    ("protected_proxy_gunicorn", "proxy", "GET /api/protected HS256, the API behind a proxy"),
    ("protected_eddsa_proxy_gunicorn", "proxy", "GET /api/protected EdDSA, behind a proxy"),
    ("protected_granian", "granian", "GET /api/protected HS256, the API on granian"),
    ("protected_peer", "peer", "GET /api/protected HS256, the FastAPI peer"),
    ("list_gunicorn", "api", "GET /api/tasks?limit=50, the API on gunicorn"),
    # (list_granian went when issue 25's cases came: the list is database-bound on granian too)
    ("list_peer", "peer", "GET /api/tasks?limit=50, the FastAPI peer"),
    ("create_gunicorn", "api", "POST /api/tasks, the API on gunicorn"),
)
# With --before REV: the same routes served by the API as of that commit, for before/after.
BEFORE_CASES = ("protected_gunicorn", "protected_eddsa_gunicorn", "protected_distinct_gunicorn",
                "protected_eddsa_distinct_gunicorn", "list_gunicorn", "create_gunicorn")
# What nginx adds to every request it passes on (docker/nginx/default.conf.template), for the
# "proxy" cases.
PROXY_HEADERS = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
# `flask --app wsgi --help`, run this many times for its CPU time (issue 25: <= 1 s).
STARTUP_RUNS = 5
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
DEEP_PAGES = 100  # pages of 50 skipped: the deep page starts 5,000 tasks in
PAGE = 50

_processes = []


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- processes -------------------------------------------------------------------------

def _die_with_parent():
    """In the child: get SIGTERM if the harness itself dies (even by SIGKILL)."""
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def start(name, cmd, env, cwd=ROOT):
    TMP.mkdir(parents=True, exist_ok=True)
    out = open(TMP / f"{name}.log", "wb")  # noqa: SIM115 (lives as long as the process)
    proc = subprocess.Popen(
        cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    proc.bench_name = name
    _processes.append(proc)
    return proc


def stop(proc, grace=15):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)
        except ProcessLookupError:
            pass
    if proc in _processes:
        _processes.remove(proc)


def stop_all():
    for proc in reversed(list(_processes)):
        stop(proc)


def _on_signal(signum, frame):
    raise SystemExit(128 + signum)


def wait_http(url, timeout=40, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            req = urllib.request.Request(url, headers=headers)  # noqa: S310 (127.0.0.1)
            with urllib.request.urlopen(req, timeout=2) as resp:  # noqa: S310 (127.0.0.1)
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer 200 within {timeout} s")


def worker_pids(master_pid):
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    return sorted(int(pid) for pid in children)


def process_tree(pid):
    """pid and all its descendants (granian and uvicorn workers are grandchildren-free, but
    their supervisors are not gunicorn's)."""
    pids, todo = [], [pid]
    while todo:
        current = todo.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                todo.extend(int(c) for c in (task / "children").read_text().split())
            except FileNotFoundError:
                continue
    return sorted(set(pids))


def cpu_ticks(pids):
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime + stime
    return total


def wait_idle(masters, timeout=30):
    """Wait until the workers stop burning CPU: a run's queued requests must not leak into
    the next run's numbers. Returns the seconds waited."""
    started = time.monotonic()
    pids = [pid for master in masters for pid in worker_pids(master)]
    previous = cpu_ticks(pids)
    while time.monotonic() - started < timeout:
        time.sleep(0.3)
        current = cpu_ticks(pids)
        if current - previous <= 2:
            break
        previous = current
    return round(time.monotonic() - started, 2)


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


# --- HTTP helpers for setup --------------------------------------------------------------

def http(method, url, body=None, token=None, headers=None):
    headers = {"Accept": "application/json", **(headers or {})}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:  # noqa: S310 (127.0.0.1)
            return resp.status, dict(resp.headers), json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read() or b"null")


def signin(base, email):
    status, _, body = http(
        "POST", f"{base}/api/auth/signin", {"email": email, "password": seed.BENCH_PASSWORD}
    )
    if status != 200:
        raise RuntimeError(f"signin for {email} answered {status}: {body}")
    return body["token"]


def walk_to_deep_page(base, token):
    """Follow rel=next DEEP_PAGES times; return the deep page's path and cursor."""
    url = f"{base}/api/tasks?limit={PAGE}"
    for _ in range(DEEP_PAGES):
        status, headers, body = http("GET", url, token=token)
        if status != 200 or "Link" not in headers:
            raise RuntimeError(f"walking pages: {url} answered {status} without a next link")
        # Relative unless the API has a PUBLIC_URL: resolved against the page it came with.
        url = urllib.parse.urljoin(url, re.match(r"<([^>]+)>", headers["Link"]).group(1))
    parsed = urllib.parse.urlsplit(url)
    cursor = urllib.parse.parse_qs(parsed.query)["cursor"][0]
    status, _, body = http("GET", url, token=token)
    if status != 200 or len(body) != PAGE:
        raise RuntimeError(f"deep page answered {status} with {len(body or [])} tasks")
    return f"{parsed.path}?{parsed.query}", cursor, body[0]["title"]


# --- Better Auth-style EdDSA token and its JWKS ------------------------------------------

def eddsa_token_and_jwks(issuer, subject, email):
    """A Better Auth-style EdDSA token, the JWKS serving its key, and what minted it:
    (token, jwks, {"key", "kid", "claims"}) for the distinct-token pool."""
    import jwt
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from jwt.algorithms import OKPAlgorithm

    key = Ed25519PrivateKey.generate()
    kid = "bench-" + secrets.token_hex(8)
    jwk = json.loads(OKPAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid=kid, alg="EdDSA")
    now = int(time.time())
    claims = {
        "sub": subject, "id": subject, "email": email, "name": "Bench User 0",
        "iat": now, "exp": now + 3600, "iss": issuer, "aud": issuer,
    }
    token = jwt.encode(claims, key, algorithm="EdDSA", headers={"kid": kid})
    return token, json.dumps({"keys": [jwk]}), {"key": key, "kid": kid, "claims": claims}


def token_pools(secret, hs_token, signer, first_window):
    """The distinct-token pools: HS256 with the claims of the sign-in token ``hs_token`` (the
    API's own shape, which the floor accepts too), EdDSA with those of the same-token case;
    each holding ``first_window`` tokens to start with (bench/token_pool.py tops them up)."""
    import jwt

    template = jwt.decode(hs_token, secret, algorithms=["HS256"])
    pools = {"hs256": token_pool.hs256_pool(secret, template),
             "eddsa": token_pool.eddsa_pool(signer["key"], signer["kid"], signer["claims"])}
    for pool in pools.values():
        pool.ensure(first_window)
    return pools


# --- wrk --------------------------------------------------------------------------------

def run_wrk(url, requests, connections, duration_s, stop_after=0, timeout_s=10):
    """One bounded wrk run from its own process; returns the parsed BENCHJSON summary.

    requests: (method, path, token, body[, headers]) tuples. A token that is a TokenPool makes
    the run send a fresh token from that pool with every request (one request type only).
    """
    TMP.mkdir(parents=True, exist_ok=True)
    request_file = TMP / "requests.tsv"
    pool = next((r[2] for r in requests if isinstance(r[2], TokenPool)), None)
    if pool is not None and len(requests) != 1:
        raise ValueError("a distinct-token run sends one request type")
    request_file.write_text("".join(_request_line(*r) for r in requests))
    threads = min(connections, 2)
    done_file = TMP / "wrk-threads-done"
    done_file.unlink(missing_ok=True)
    duration_s = max(1, round(duration_s))  # wrk takes whole seconds
    env = dict(os.environ, BENCH_REQUESTS=str(request_file), BENCH_STOP_AFTER=str(stop_after),
               BENCH_DONE_FILE=str(done_file), BENCH_THREADS=str(threads), BENCH_TOKENS="")
    if pool is not None:
        # More than any server here answers; what is not sent stays in the pool.
        token_file = TMP / "tokens.txt"
        offered = pool.write_window(token_file, token_pool.WINDOW_RPS * duration_s)
        env["BENCH_TOKENS"] = str(token_file)
    cmd = [
        "wrk", "-t", str(threads), "-c", str(connections), "-d", f"{duration_s}s",
        "--timeout", f"{timeout_s}s", "-s", str(LUA), url,
    ]
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True, text=True, preexec_fn=_die_with_parent,
    )
    _processes.append(proc)
    try:
        if stop_after:
            _interrupt_when_threads_done(proc, done_file, threads)
        out, _ = proc.communicate(timeout=duration_s + timeout_s + 30)
    finally:
        stop(proc)
    line = next((ln for ln in out.splitlines() if ln.startswith("BENCHJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{out}")
    stats = json.loads(line[len("BENCHJSON "):])
    seconds = stats["duration_us"] / 1e6
    stats.update(
        connections=connections, threads=threads,
        rps=round(stats["responses"] / seconds, 1) if seconds else 0.0,
        p50_ms=round(stats["latency_us"]["p50"] / 1000, 2),
        p99_ms=round(stats["latency_us"]["p99"] / 1000, 2),
        # A thread out of fresh tokens stopped early: the run is an error, not a number.
        errors=(stats["non2xx"] + sum(stats["socket_errors"].values())
                + stats["tokens_exhausted"]),
    )
    if pool is not None:
        pool.spend(stats["tokens_used"], threads, stats["tokens_exhausted"])
        stats["tokens"] = {"offered": offered, "taken": sum(stats["tokens_used"]),
                           "pool_left": pool.remaining()}
        if stats["tokens_exhausted"]:
            log(f"{pool.kind} tokens ran out: {offered} offered to this run, "
                f"{stats['tokens_exhausted']} requests without one (counted as errors)")
    return stats


def _request_line(method, path, token, body, headers=None):
    """One line of bench.lua's request file; a TokenPool's place is the {token} marker."""
    token = "{token}" if isinstance(token, TokenPool) else token or ""
    extra = "|".join(f"{name}: {value}" for name, value in (headers or {}).items())
    return f"{method}\t{path}\t{token}\t{body or ''}\t{extra}\n"


def _interrupt_when_threads_done(proc, done_file, threads):
    """wrk sleeps out its -d even when every thread has stopped; SIGINT ends it with stats."""
    while proc.poll() is None:
        if done_file.exists() and len(done_file.read_text().splitlines()) >= threads:
            os.kill(proc.pid, signal.SIGINT)
            return
        time.sleep(0.05)


# --- the phases -------------------------------------------------------------------------

def ensure_database(pg, name):
    import psycopg

    with psycopg.connect(f"{pg}/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    return not exists


def gunicorn_settings(env):
    """The settings gunicorn.conf.py yields under this environment, for the record. Read in a
    fresh interpreter: the file imports config, whose settings are read once per process."""
    keys = ("workers", "threads", "worker_class", "keepalive", "timeout", "forwarded_allow_ips")
    code = ("import json, runpy; conf = runpy.run_path('gunicorn.conf.py'); "
            f"print(json.dumps({{k: conf.get(k) for k in {keys!r}}}))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=dict(os.environ, **env),
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def measure_rss(master_pid, label):
    pids = worker_pids(master_pid)
    per_worker = {str(pid): rss_kib(pid) for pid in pids}
    log(f"RSS {label}: " + ", ".join(f"{pid}={kib // 1024} MiB" for pid, kib in per_worker.items()))
    return {"pids": pids, "rss_kib": per_worker, "total_kib": sum(per_worker.values())}


def rss_phase(api, master_pid, mix, settings):
    """Mixed load in two legs (first N, then up to the total); worker RSS after each."""
    first = settings["rss_first"]
    rest = settings["rss_total"] - first
    limit = settings["rss_time_limit_s"]
    log(f"RSS phase: {first:,} mixed requests, then {rest:,} more (each leg <= {limit} s)")
    leg1 = run_wrk(api, mix, 16, limit, stop_after=-(-first // 2))
    wait_idle([master_pid])
    after_first = measure_rss(master_pid, f"after {leg1['responses']:,} requests")
    leg2 = run_wrk(api, mix, 16, limit, stop_after=-(-rest // 2))
    wait_idle([master_pid])
    total = leg1["responses"] + leg2["responses"]
    after_total = measure_rss(master_pid, f"after {total:,} requests")
    growth = {
        pid: round(after_total["rss_kib"][pid] / kib - 1, 4)
        for pid, kib in after_first["rss_kib"].items()
        if pid in after_total["rss_kib"]
    }
    return {
        "mix": [f"{m} {p.split('?')[0]}" for m, p, _, _ in mix],
        "first_leg": {k: leg1[k] for k in ("responses", "rps", "errors", "non2xx_by_status")},
        "second_leg": {k: leg2[k] for k in ("responses", "rps", "errors", "non2xx_by_status")},
        "target_requests": [first, settings["rss_total"]],
        "requests_at_first": leg1["responses"],
        "requests_at_total": total,
        "after_first": after_first,
        "after_total": after_total,
        "workers_restarted": after_first["pids"] != after_total["pids"],
        "growth_per_worker": growth,
        "total_growth": round(after_total["total_kib"] / after_first["total_kib"] - 1, 4),
    }


def compare_phase(servers, cases, settings):
    """Alternating rounds at 16 connections: the API beside the ceiling and the peer.

    servers: name -> (base URL, master pid); cases: name -> (server, requests). Server CPU is
    the whole process tree's (user + system), so supervisors count too.
    """
    names = list(cases)
    runs = {name: [] for name in names}
    for round_no in range(settings["compare_rounds"]):
        order = names[round_no % len(names):] + names[: round_no % len(names)]
        for name in order:
            server, reqs = cases[name]
            url, master = servers[server]
            tree = process_tree(master)
            ticks = cpu_ticks(tree)
            stats = run_wrk(url, reqs, 16, settings["compare_s"])
            stats["drain_s"] = wait_idle([m for _, m in servers.values()])
            stats["server_cpu_ms_per_req"] = round(
                (cpu_ticks(tree) - ticks) * 1000 / CLOCK_TICKS / max(stats["responses"], 1), 3
            )
            runs[name].append({k: stats[k] for k in (
                "rps", "p50_ms", "p99_ms", "errors", "non2xx_by_status", "responses",
                "server_cpu_ms_per_req", "tokens") if k in stats})
            log(f"compare r{round_no + 1} {name:<34} {stats['rps']:>8.1f} req/s  "
                f"cpu {stats['server_cpu_ms_per_req']:.3f} ms/req  errors {stats['errors']}")
    summary = {}
    for name in names:
        rows = runs[name]
        summary[name] = {
            "runs": rows,
            "rps": _median([r["rps"] for r in rows]),
            "server_cpu_ms_per_req": _median([r["server_cpu_ms_per_req"] for r in rows]),
            "p50_ms": _median([r["p50_ms"] for r in rows]),
            "errors": sum(r["errors"] for r in rows),
        }
    return summary


def probe_distinct(api, floor, pools):
    """One fresh token of each pool at the API and at the floor: each must answer 200."""
    probes = {}
    for kind, pool in pools.items():
        floor_path = "/api/protected-eddsa" if kind == "eddsa" else "/api/protected"
        for name, url in (("api", f"{api}/api/protected"), ("floor", f"{floor}{floor_path}")):
            status, _, body = http("GET", url, token=pool.take())
            probes[f"{name} {kind}"] = {"status": status, "body": body}
            if status != 200:
                raise RuntimeError(f"{name} answered {status} to a fresh {kind} token: {body}")
    log("a fresh token of each pool is accepted by the API and the floor")
    return probes


def probe_proxy(proxy, token, env):
    """The API behind TRUSTED_PROXIES must answer 200 and log the forwarded client address."""
    status, _, body = http("GET", f"{proxy}/api/protected", token=token, headers=PROXY_HEADERS)
    if status != 200:
        raise RuntimeError(f"the API behind TRUSTED_PROXIES answered {status}: {body}")
    client = PROXY_HEADERS["X-Forwarded-For"]
    deadline = time.monotonic() + 5
    while client not in (TMP / "api-proxy.log").read_text():
        if time.monotonic() > deadline:
            raise RuntimeError(f"the API behind TRUSTED_PROXIES did not log {client} as the "
                               "client: X-Forwarded-For was not applied")
        time.sleep(0.1)
    settings = gunicorn_settings(env)
    log(f"API behind TRUSTED_PROXIES logs the client {client}; gunicorn forwarded_allow_ips "
        f"{settings['forwarded_allow_ips']!r}")
    return {"status": status, "headers": PROXY_HEADERS, "gunicorn": settings,
            "env": {k: env[k] for k in ("TRUSTED_PROXIES", "TRUSTED_PROXY_ADDRESSES")}}


def unpack(rev, result):
    """The tree at ``rev`` in TMP/before (git archive), for --before."""
    before_dir = TMP / "before"
    shutil.rmtree(before_dir, ignore_errors=True)
    before_dir.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(before_dir)], input=archive, check=True)
    result["before"] = {"rev": subprocess.run(
        ["git", "rev-parse", "--short", rev], cwd=ROOT, capture_output=True,
        text=True).stdout.strip()}
    return before_dir


def startup_cpu(env, cwd=ROOT, runs=STARTUP_RUNS):
    """CPU seconds (user + system of the process and its children) of `flask --app wsgi
    --help` from ``cwd``, each run and the median; or {"error": ...}."""
    seconds = []
    log_file = TMP / "startup.log"
    for _ in range(runs):
        with open(log_file, "wb") as err:
            proc = subprocess.Popen(
                ["flask", "--app", "wsgi", "--help"], cwd=cwd, env=env,
                stdout=subprocess.DEVNULL, stderr=err, preexec_fn=_die_with_parent,
            )
            deadline = time.monotonic() + 60
            while True:  # wait4: the child's rusage, its own children's included
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    break
                if time.monotonic() > deadline:
                    proc.kill()
                    pid, status, usage = os.wait4(proc.pid, 0)
                    break
                time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            tail = log_file.read_text(errors="replace").strip().splitlines()[-1:] or ["?"]
            return {"error": f"exit status {proc.returncode}: {tail[0]}"}
        seconds.append(round(usage.ru_utime + usage.ru_stime, 3))
    return {"runs": seconds, "median": _median(seconds)}


def _median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return round((ordered[middle - 1] + ordered[middle]) / 2, 3)


def in_process_cpu(env, cwd=ROOT):
    """python -m bench.layers --core --json: CPU us per request through the WSGI app.

    Returns ({case: us}, None), or ({}, why) when it cannot run (bench/layers.py reaches into
    the package's private parts, which move): the report then says so instead of losing the run.
    """
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "bench.layers", "--core", "--json"], cwd=cwd, env=env,
            capture_output=True, text=True, timeout=300,
        )
        if proc.returncode:
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
            return {}, f"exit status {proc.returncode}: {tail[0]}"
        return json.loads(proc.stdout.strip().splitlines()[-1]), None
    except (subprocess.TimeoutExpired, ValueError, IndexError) as exc:
        return {}, f"{type(exc).__name__}: {exc}"


def explain_list_query(database_url, secret, user_id, cursor):
    """EXPLAIN (ANALYZE, BUFFERS) of the exact SQL the app's list_page runs."""
    from flask import g
    from sqlalchemy import event

    from config import ProductionConfig
    from ironmind_api import create_app
    from ironmind_api.db import db
    from ironmind_api.tasks.service import list_page

    app = create_app(
        ProductionConfig, SQLALCHEMY_DATABASE_URI=database_url, BETTER_AUTH_SECRET=secret,
        LOG_LEVEL="WARNING",
    )
    plans = {}
    with app.test_request_context():
        g.user_id = user_id
        for label, page_cursor in (("first_page", None), ("deep_page", cursor)):
            captured = []

            def capture(conn, cur, statement, parameters, context, executemany, sink=captured):
                sink.append((statement, parameters))

            event.listen(db.engine, "before_cursor_execute", capture)
            try:
                list_page(user_id, PAGE, cursor=page_cursor)
            finally:
                event.remove(db.engine, "before_cursor_execute", capture)
            statement, parameters = captured[-1]
            conn = db.session.connection()
            conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)  # warm
            rows = conn.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
            ).scalars().all()
            plans[label] = {"sql": statement, "parameters": _printable(parameters), "plan": rows}
        db.session.rollback()
    return plans


def _printable(parameters):
    return {k: str(v) for k, v in (parameters or {}).items()}


def profile_run(api, master_pid, requests, connections, duration_s, out_path):
    """py-spy over every worker during one extra wrk run; returns the top frames."""
    py_spy = shutil.which("py-spy")
    if not py_spy:
        return {"error": "py-spy not installed"}
    proc = start(
        "py-spy",
        [py_spy, "record", "--pid", str(master_pid), "--subprocesses", "--format", "raw",
         "--rate", "250", "--duration", str(duration_s + 1), "--nonblocking", "-o", str(out_path)],
        dict(os.environ),
    )
    time.sleep(1)
    stats = run_wrk(api, requests, connections, duration_s)
    try:
        proc.wait(duration_s + 30)
    finally:
        stop(proc)
    summary = report.summarise_profile(out_path)
    summary["under_load"] = {k: stats[k] for k in ("rps", "p50_ms", "p99_ms", "errors")}
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small data, 1 s runs: a smoke test")
    parser.add_argument("--db", default=os.environ.get("BENCH_DB", "ironmind_bench"))
    parser.add_argument(
        "--pg", default=os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432"),
        help="PostgreSQL server URL without a database name",
    )
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("BENCH_PORT", "18700")),
        help="first of the 127.0.0.1 ports: API, +1 bare app, +2 JWKS, +3 granian, +4 peer, "
             "+5 the API before (--before), +6 the floor app, +7 bench.layers' OTLP sink, "
             "+8 the API behind TRUSTED_PROXIES",
    )
    parser.add_argument("--duration", type=float, help="seconds per measured run")
    parser.add_argument("--profile", action="store_true",
                        help="also py-spy the workers during scenario 3 at 16 connections")
    parser.add_argument("--skip-seed", action="store_true", help="reuse the seeded data")
    parser.add_argument("--label", default="", help="a note stored with the results")
    parser.add_argument("--scenarios", help="comma-separated subset, e.g. ceiling,protected_hs256")
    parser.add_argument("--connections", help="comma-separated subset of 1,16,64")
    parser.add_argument("--no-rss", action="store_true", help="skip the worker-memory phase")
    parser.add_argument("--no-compare", action="store_true",
                        help="skip the side-by-side phase (ceiling, gunicorn, granian, peer)")
    parser.add_argument("--before", metavar="REV",
                        help="also serve the API as of this commit (git archive, same gunicorn "
                             "settings, port+5) in the side-by-side rounds, and measure its "
                             "start-up and in-process CPU: before/after")
    parser.add_argument("--no-layers", action="store_true",
                        help="skip the in-process CPU measurement (python -m bench.layers)")
    args = parser.parse_args(argv)

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        return run(args)
    finally:
        stop_all()


def run(args):
    started = time.monotonic()
    TMP.mkdir(parents=True, exist_ok=True)
    settings = dict(QUICK if args.quick else FULL)
    if args.duration:
        settings["duration_s"] = args.duration
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    out_dir = TMP if args.quick else BENCH_DIR / "results"
    api_port, bare_port, jwks_port = args.port, args.port + 1, args.port + 2
    floor_port = args.port + 6
    api, bare = f"http://127.0.0.1:{api_port}", f"http://127.0.0.1:{bare_port}"
    floor = f"http://127.0.0.1:{floor_port}"
    issuer = f"http://127.0.0.1:{jwks_port}"
    dsn = f"{args.pg}/{args.db}"
    before_dir = None  # the API as of --before, unpacked by the side-by-side phase
    database_url = dsn.replace("postgresql://", "postgresql+psycopg://", 1)
    secret = secrets.token_urlsafe(36)  # 48 characters, new every run
    server_env = dict(
        os.environ,
        APP_ENV="production",
        BETTER_AUTH_SECRET=secret,
        DATABASE_URL=database_url,
        BETTER_AUTH_URL=issuer,
        # Signin is measured as a scenario; the production limit (10/minute) would turn it
        # into a 429 benchmark, so the limit is raised for the run.
        RATELIMIT_AUTH="1000000 per minute",
        PYTHONUNBUFFERED="1",
    )
    result = {
        "stamp": stamp, "quick": args.quick, "label": args.label, "settings": settings,
        "machine": machine_info(), "scenarios": {}, "notes": [],
    }

    created = ensure_database(args.pg, args.db)
    log(f"database {args.db} {'created' if created else 'exists'}; migrating")
    subprocess.run(
        ["flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=server_env, check=True,
        stdout=subprocess.DEVNULL,
    )
    if args.skip_seed:
        result["seed"] = {"skipped": True}
    else:
        log(f"seeding {settings['tasks']:,} tasks over {settings['users']:,} users")
        result["seed"] = seed.seed(dsn, settings["users"], settings["tasks"],
                                   settings["heavy_tasks"])
        log(f"seeded in {result['seed']['insert_s']} s "
            f"(+ {result['seed']['vacuum_analyze_s']} s VACUUM ANALYZE): {result['seed']}")

    heavy_id = seed.heavy_user_id()
    ed_token, jwks, signer = eddsa_token_and_jwks(issuer, heavy_id, seed.user_email(0))
    (TMP / "jwks.json").write_text(jwks)
    jwks_proc = start("jwks", [sys.executable, "-m", "bench.jwks_server", str(jwks_port),
                               str(TMP / "jwks.json")], server_env)
    wait_http(f"{issuer}/api/auth/jwks?harness-ready-check")

    result["gunicorn"] = gunicorn_settings({"GUNICORN_BIND": f"127.0.0.1:{api_port}"})
    bare_proc = start("bare", ["gunicorn", "-c", "gunicorn.conf.py", "bench.bare_app:app"],
                      dict(server_env, GUNICORN_BIND=f"127.0.0.1:{bare_port}"))
    # The floor runs from the start (idle until the side-by-side rounds), so that a floor which
    # does not answer 200 stops the run now, not minutes in.
    floor_proc = start("floor", ["gunicorn", "-c", "gunicorn.conf.py", "bench.floor_app:app"],
                       dict(server_env, GUNICORN_BIND=f"127.0.0.1:{floor_port}",
                            FLOOR_JWKS_FILE=str(TMP / "jwks.json")))
    api_proc = start("api", ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                     dict(server_env, GUNICORN_BIND=f"127.0.0.1:{api_port}"))
    wait_http(f"{bare}/")
    wait_http(f"{api}/health")
    log(f"gunicorn up: API pid {api_proc.pid} workers {worker_pids(api_proc.pid)}, "
        f"bare pid {bare_proc.pid}; settings {result['gunicorn']}")

    hs_token = signin(api, seed.user_email(0))
    writer_token = signin(api, seed.user_email(1))  # POSTs go to another user: pages stay put
    deep_path, deep_cursor, deep_first_title = walk_to_deep_page(api, hs_token)
    result["deep_page"] = {"path": deep_path, "skipped_tasks": DEEP_PAGES * PAGE,
                           "first_title": deep_first_title}
    requests = {
        "ceiling": (bare, [("GET", "/", None, None)]),
        "health": (api, [("GET", "/health", None, None)]),
        "protected_hs256": (api, [("GET", "/api/protected", hs_token, None)]),
        "protected_eddsa": (api, [("GET", "/api/protected", ed_token, None)]),
        "tasks_first_page": (api, [("GET", f"/api/tasks?limit={PAGE}", hs_token, None)]),
        "tasks_deep_page": (api, [("GET", deep_path, hs_token, None)]),
        "tasks_create": (api, [("POST", "/api/tasks", writer_token,
                                '{"title": "Bench task", "description": "Made under load."}')]),
        "signin": (api, [("POST", "/api/auth/signin", None, json.dumps(
            {"email": seed.user_email(2), "password": seed.BENCH_PASSWORD}))]),
    }
    status, _, body = http("GET", f"{api}/api/protected", token=ed_token)
    result["eddsa_probe"] = {"status": status, "body": body}
    log(f"EdDSA probe: {status} {body}")
    wait_http(f"{floor}/api/protected", token=hs_token)
    result["floor_probe"] = {}
    for path, token in (("/api/protected", hs_token), ("/api/protected-eddsa", ed_token)):
        status, _, body = http("GET", f"{floor}{path}", token=token)
        result["floor_probe"][path] = {"status": status, "body": body}
        if status != 200:
            raise RuntimeError(f"the floor app answered {status} to {path}: {body}")
    log(f"floor app (pid {floor_proc.pid}) answers 200 with both tokens")
    pools = {}
    if not args.no_compare:
        pools = token_pools(secret, hs_token, signer, token_pool.WINDOW_RPS * settings["compare_s"])
        log("distinct-token pools: minted " + ", ".join(
            f"{len(pool.tokens):,} {pool.kind} in {pool.mint_s} s" for pool in pools.values()))
        result["distinct_probe"] = probe_distinct(api, floor, pools)

    mix = [r for name in ("health", "protected_hs256", "protected_eddsa", "tasks_first_page",
                          "tasks_deep_page", "tasks_create") for r in requests[name][1]]
    if not args.no_rss:
        result["rss"] = rss_phase(api, api_proc.pid, mix, settings)
    chosen = [(n, t) for n, t in SCENARIOS
              if not args.scenarios or n in args.scenarios.split(",")]
    levels = [c for c in CONNECTIONS
              if not args.connections or str(c) in args.connections.split(",")]
    partial = (len(chosen) < len(SCENARIOS) or len(levels) < len(CONNECTIONS) or args.no_rss
               or args.no_compare or args.no_layers)
    # A partial run is an experiment: it never replaces the report of a full run.
    if partial:
        out_dir = TMP

    masters = (api_proc.pid, bare_proc.pid)
    log("warm-up: every scenario once at 16 connections")
    for name, _ in chosen:
        url, reqs = requests[name]
        run_wrk(url, reqs, 16, settings["warmup_s"])
        wait_idle(masters)

    for connections in levels:
        result["machine"].setdefault("loadavg_before_level", {})[str(connections)] = load_avg()
        for name, _ in chosen:
            url, reqs = requests[name]
            workers = worker_pids(bare_proc.pid if url == bare else api_proc.pid)
            ticks = cpu_ticks(workers)
            stats = run_wrk(url, reqs, connections, settings["duration_s"])
            stats["drain_s"] = wait_idle(masters)
            # Server CPU per request: far less sensitive to a busy machine than req/s.
            stats["server_cpu_ms_per_req"] = round(
                (cpu_ticks(workers) - ticks) * 1000 / CLOCK_TICKS / max(stats["responses"], 1), 3
            )
            result["scenarios"].setdefault(name, {})[str(connections)] = stats
            log(f"{name:<17} c={connections:<3} {stats['rps']:>8.1f} req/s  "
                f"p50 {stats['p50_ms']:>8.2f} ms  p99 {stats['p99_ms']:>8.2f} ms  "
                f"cpu {stats['server_cpu_ms_per_req']:.3f} ms/req  "
                f"errors {stats['errors']} {stats['non2xx_by_status'] or ''}")

    if not args.no_compare:
        granian_port, peer_port = args.port + 3, args.port + 4
        granian = f"http://127.0.0.1:{granian_port}"
        peer = f"http://127.0.0.1:{peer_port}"
        granian_proc = start("granian", [
            "granian", "--interface", "wsgi", "--workers", "2", "--host", "127.0.0.1",
            "--port", str(granian_port), "--no-log", "wsgi:app"], server_env)
        peer_proc = start("peer", [
            "uvicorn", "bench.peer_app:app", "--workers", "2", "--loop", "uvloop", "--http",
            "httptools", "--no-access-log", "--log-level", "warning", "--host", "127.0.0.1",
            "--port", str(peer_port)], server_env)
        # The API again, as behind nginx: ProxyFix on, gunicorn's forwarded_allow_ips derived
        # from TRUSTED_PROXY_ADDRESSES by gunicorn.conf.py.
        proxy_port = args.port + 8
        proxy = f"http://127.0.0.1:{proxy_port}"
        proxy_env = dict(server_env, GUNICORN_BIND=f"127.0.0.1:{proxy_port}",
                         TRUSTED_PROXIES="1", TRUSTED_PROXY_ADDRESSES="127.0.0.1")
        proxy_proc = start("api-proxy", ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                           proxy_env)
        wait_http(f"{granian}/health")
        wait_http(f"{peer}/health")
        wait_http(f"{proxy}/health")
        result["proxy"] = probe_proxy(proxy, hs_token, proxy_env)
        servers = {"bare": (bare, bare_proc.pid), "floor": (floor, floor_proc.pid),
                   "api": (api, api_proc.pid), "granian": (granian, granian_proc.pid),
                   "peer": (peer, peer_proc.pid), "proxy": (proxy, proxy_proc.pid)}
        before_proc = None
        if args.before:
            before_dir = unpack(args.before, result)
            before_url = f"http://127.0.0.1:{args.port + 5}"
            before_proc = start("before", ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                                dict(server_env, GUNICORN_BIND=f"127.0.0.1:{args.port + 5}"),
                                cwd=before_dir)
            wait_http(f"{before_url}/health")
            servers["before"] = (before_url, before_proc.pid)
        protected = [("GET", "/api/protected", hs_token, None)]
        page = [("GET", f"/api/tasks?limit={PAGE}", hs_token, None)]
        hs_pool, ed_pool = pools["hs256"], pools["eddsa"]
        cases = {
            "ceiling": ("bare", [("GET", "/", None, None)]),
            "floor_hs256": ("floor", protected),
            "protected_gunicorn": ("api", protected),
            "floor_eddsa": ("floor", [("GET", "/api/protected-eddsa", ed_token, None)]),
            "protected_eddsa_gunicorn": ("api", [("GET", "/api/protected", ed_token, None)]),
            "floor_hs256_distinct": ("floor", [("GET", "/api/protected", hs_pool, None)]),
            "protected_distinct_gunicorn": ("api", [("GET", "/api/protected", hs_pool, None)]),
            "floor_eddsa_distinct": ("floor", [("GET", "/api/protected-eddsa", ed_pool, None)]),
            "protected_eddsa_distinct_gunicorn": (
                "api", [("GET", "/api/protected", ed_pool, None)]),
            "protected_proxy_gunicorn": (
                "proxy", [("GET", "/api/protected", hs_token, None, PROXY_HEADERS)]),
            "protected_eddsa_proxy_gunicorn": (
                "proxy", [("GET", "/api/protected", ed_token, None, PROXY_HEADERS)]),
            "protected_granian": ("granian", protected),
            "protected_peer": ("peer", protected),
            "list_gunicorn": ("api", page),
            "list_peer": ("peer", page),
            "create_gunicorn": ("api", [("POST", "/api/tasks", writer_token,
                                         '{"title": "Bench task", "description": "Paired."}')]),
        }
        if before_proc is not None:
            for name in BEFORE_CASES:
                cases[name.replace("_gunicorn", "_before")] = ("before", cases[name][1])
        # Warm every worker of every server: one run per server of all its cases' requests in
        # turn. A distinct-token case shares its route and server with a same-token one warmed
        # here, and its tokens are kept for the measured rounds.
        for server, (url, _) in servers.items():
            warm = [r for case_server, reqs in cases.values() if case_server == server
                    for r in reqs if not isinstance(r[2], TokenPool)]
            if warm:
                run_wrk(url, warm, 16, settings["warmup_s"])
        wait_idle([m for _, m in servers.values()])
        log(f"side by side: {settings['compare_rounds']} alternating rounds of "
            f"{settings['compare_s']} s per case at 16 connections")
        result["compare"] = compare_phase(servers, cases, settings)
        result["token_pools"] = {kind: pool.summary() for kind, pool in pools.items()}
        stop(granian_proc)
        stop(peer_proc)
        stop(proxy_proc)
        if before_proc is not None:
            stop(before_proc)

    if args.profile:
        log("profiling scenario 3 at 16 connections with py-spy")
        wait_idle(masters)
        url, reqs = requests["protected_hs256"]
        result["profile"] = profile_run(
            url, api_proc.pid, reqs, 16, max(settings["duration_s"], 5),
            TMP / f"{stamp}-profile-protected_hs256.txt",  # raw stacks: large, not kept
        )

    if "rss" in result:
        result["rss"]["final"] = measure_rss(api_proc.pid, "at the end")
    log("EXPLAIN (ANALYZE, BUFFERS) of the list query")
    try:
        result["explain"] = explain_list_query(database_url, secret, heavy_id, deep_cursor)
    except Exception as exc:  # the report says so rather than losing the whole run
        result["explain"] = {"error": f"{type(exc).__name__}: {exc}"}

    stop(api_proc)
    stop(bare_proc)
    stop(floor_proc)
    stop(jwks_proc)
    if args.before and before_dir is None:
        before_dir = unpack(args.before, result)
    log(f"start-up: `flask --app wsgi --help`, {STARTUP_RUNS} runs")
    result["startup_cpu_s"] = startup_cpu(server_env)
    log(f"start-up CPU: {result['startup_cpu_s']}")
    if before_dir is not None:
        result["startup_cpu_before_s"] = startup_cpu(server_env, cwd=before_dir)
        log(f"start-up CPU before ({args.before}): {result['startup_cpu_before_s']}")
    layers_env = {"BENCH_OTLP_PORT": str(args.port + 7), **server_env}
    if not args.no_layers:
        log("in-process CPU per request (python -m bench.layers --core)")
        result["in_process_us"], error = in_process_cpu(layers_env)
        if error:
            result["in_process_error"] = error
        log(f"in-process: {result['in_process_us'] or error}")
        if before_dir is not None:
            # This tree's layers.py (it copes with older trees) measuring the API as of --before.
            (before_dir / "bench").mkdir(exist_ok=True)
            for name in ("__init__.py", "layers.py", "bare_app.py", "token_pool.py"):
                if name != "__init__.py" or not (before_dir / "bench" / name).exists():
                    shutil.copy2(BENCH_DIR / name, before_dir / "bench" / name)
            log(f"in-process CPU per request of the API before ({args.before})")
            result["in_process_before_us"], error = in_process_cpu(layers_env, cwd=before_dir)
            if error:
                result["in_process_before_error"] = error
            log(f"in-process before: {result['in_process_before_us'] or error}")
    result["jwks_fetches"] = sum(
        1 for line in (TMP / "jwks.log").read_text().splitlines()
        if "jwks-fetch" in line and "harness-ready-check" not in line
    )
    result["machine"]["loadavg_end"] = load_avg()
    result["elapsed_s"] = round(time.monotonic() - started, 1)

    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / f"{stamp}.json"
    json_path.write_text(json.dumps(result, indent=2) + "\n")
    scratch = args.quick or out_dir == TMP
    doc = TMP / "PERFORMANCE.md" if scratch else ROOT / "docs" / "PERFORMANCE.md"
    chart = TMP / "performance.png" if scratch else ROOT / "docs" / "performance.png"
    report.write(result, json_path, doc, chart)
    log(f"wrote {json_path.relative_to(ROOT)}, {doc.relative_to(ROOT)}, "
        f"{chart.relative_to(ROOT)} in {result['elapsed_s']} s")
    for line in report.target_lines(result):
        log(line)
    return 0


def load_avg():
    return Path("/proc/loadavg").read_text().split()[:3]


def machine_info():
    def version(cmd):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            return (out.stdout or out.stderr).splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return None

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    dirty = bool(subprocess.run(["git", "status", "--porcelain", "--", "ironmind_api",
                                 "config.py", "gunicorn.conf.py"], cwd=ROOT,
                                capture_output=True, text=True).stdout.strip())
    return {
        "cpus": os.cpu_count(), "python": platform.python_version(),
        "platform": platform.platform(), "wrk": version(["wrk", "--version"]),
        "postgres": version(["psql", "--version"]), "git_commit": commit,
        "app_code_uncommitted_changes": dirty, "loadavg_start": load_avg(),
    }


if __name__ == "__main__":
    sys.exit(main())
