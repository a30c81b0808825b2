"""Turn a bench/results/<date>.json into the generated part of docs/PERFORMANCE.md and a chart.

Regenerate from a stored run: python -m bench.report bench/results/<date>.json
Only the text between the bench:begin and bench:end markers is replaced; the hand-written
analysis around it stays.
"""

import json
import re
import sys
from collections import Counter
from pathlib import Path

BEGIN, END = "<!-- bench:begin -->", "<!-- bench:end -->"
ROOT = Path(__file__).resolve().parent.parent
LEVELS = ("1", "16", "64")
CHART_LABELS = {
    "ceiling": "1. ceiling\n(bare Flask)", "health": "2. GET\n/health",
    "protected_hs256": "3. protected\nHS256", "protected_eddsa": "4. protected\nEdDSA/JWKS",
    "tasks_first_page": "5a. tasks\nfirst page", "tasks_deep_page": "5b. tasks\n5,000 deep",
    "tasks_create": "6. POST\n/api/tasks", "signin": "7. POST signin\n(argon2id)",
}
# Buckets for the profile summary: a sample counts towards every bucket one of its frames hits.
PROFILE_BUCKETS = {
    "JSON access logging (logging, python-json-logger, ironmind_api/logs.py)": (
        "logging/", "pythonjsonlogger/", "ironmind_api/logs.py",
    ),
    "JWT verify (flask_jwt_extended, PyJWT)": ("flask_jwt_extended/", "jwt/"),
    "flask-smorest / marshmallow / webargs": ("flask_smorest/", "marshmallow/", "webargs/"),
    "SQLAlchemy / psycopg": ("sqlalchemy/", "psycopg/", "flask_sqlalchemy/"),
    "flask-cors": ("flask_cors/",),
    "werkzeug (routing, request, response)": ("werkzeug/",),
    "gunicorn (accept, parse, write)": ("gunicorn/",),
}


def titles():
    from bench.harness import SCENARIOS

    return dict(SCENARIOS)


def _stat(result, name, level):
    return result["scenarios"].get(name, {}).get(level)


def _ratio(a, b):
    return round(a / b, 3) if a is not None and b else None


def targets(result):
    """Every target of issue 7 with its measured value and whether it was met."""
    rows = []
    ceiling = _stat(result, "ceiling", "16")
    for name, factor in (("protected_hs256", 0.75), ("protected_eddsa", 0.7)):
        stat = _stat(result, name, "16")
        ratio = _ratio(stat and stat["rps"], ceiling and ceiling["rps"])
        met = ratio is not None and ratio >= factor and stat["errors"] == 0
        detail = f"{stat['rps']} vs {ceiling['rps']} req/s" if stat and ceiling else "not run"
        if stat and ceiling and stat.get("server_cpu_ms_per_req"):
            cpu, ceiling_cpu = stat["server_cpu_ms_per_req"], ceiling["server_cpu_ms_per_req"]
            detail += (f"; server CPU per request {cpu} vs {ceiling_cpu} ms, a cost ratio of "
                       f"{_ratio(ceiling_cpu, cpu)}x")
        if stat and stat["errors"]:
            detail += f"; {stat['errors']} error responses {stat['non2xx_by_status']}"
        rows.append({
            "target": f"scenario {'3' if name == 'protected_hs256' else '4'} throughput at "
                      f"16 connections >= {factor}x ceiling",
            "measured": f"{ratio}x ({detail})", "met": met,
        })
    deep_rows = []
    all_met = True
    for level in LEVELS:
        first = _stat(result, "tasks_first_page", level)
        deep = _stat(result, "tasks_deep_page", level)
        if not first or not deep:
            all_met = False
            continue
        ratio = _ratio(deep["p50_ms"], first["p50_ms"])
        all_met &= ratio is not None and ratio <= 1.25
        deep_rows.append(f"c={level}: {ratio}x ({deep['p50_ms']} vs {first['p50_ms']} ms)")
    rows.append({"target": "deep page p50 <= 1.25x first page p50 (at 1, 16 and 64 connections)",
                 "measured": "; ".join(deep_rows), "met": all_met})
    failing = [
        f"{name} c={level}: {stat['errors']} {stat['non2xx_by_status'] or stat['socket_errors']}"
        for name, levels in result["scenarios"].items() for level, stat in levels.items()
        if stat["errors"]
    ]
    rows.append({"target": "no error responses in any scenario",
                 "measured": "none" if not failing else "; ".join(failing), "met": not failing})
    rss = result.get("rss")
    if rss:
        worst = max(rss["growth_per_worker"].values(), default=None)
        met = (worst is not None and worst <= 0.10 and rss["total_growth"] <= 0.10
               and not rss["workers_restarted"] and not _short_of(rss))
        rows.append({
            "target": f"worker RSS after {rss['requests_at_total']:,} requests within 10% of "
                      f"RSS after {rss['requests_at_first']:,}",
            "measured": f"worst worker {_pct(worst)}, all workers {_pct(rss['total_growth'])}"
                        + (" (a worker restarted)" if rss["workers_restarted"] else "")
                        + _short_of(rss),
            "met": met,
        })
    seed = result.get("seed", {})
    if "insert_s" in seed:
        rows.append({"target": f"seeding {seed['tasks']:,} tasks < 60 s",
                     "measured": f"{seed['insert_s']} s (+ {seed['vacuum_analyze_s']} s "
                                 "VACUUM ANALYZE)", "met": seed["insert_s"] < 60})
    rows.append({"target": "bench/run < 10 minutes", "measured": f"{result['elapsed_s']} s",
                 "met": result["elapsed_s"] < 600})
    return rows


COMPARE_TITLES = {
    "ceiling": "bare Flask (ceiling), gunicorn",
    "floor_hs256": "`GET /api/protected` HS256, the floor app (bench/floor_app.py), gunicorn",
    "floor_eddsa": "`GET /api/protected-eddsa`, the floor app (one EdDSA verify), gunicorn",
    "protected_gunicorn": "`GET /api/protected` HS256, the API on gunicorn",
    "protected_eddsa_gunicorn": "`GET /api/protected` EdDSA via JWKS, the API on gunicorn",
    "floor_hs256_distinct": "the floor app, HS256, a fresh token every request",
    "floor_eddsa_distinct": "the floor app, EdDSA, a fresh token every request",
    "protected_distinct_gunicorn": "`GET /api/protected` HS256, a fresh token every request, "
                                   "the API on gunicorn",
    "protected_eddsa_distinct_gunicorn": "`GET /api/protected` EdDSA, a fresh token every "
                                         "request, the API on gunicorn",
    "protected_proxy_gunicorn": "`GET /api/protected` HS256, the API behind TRUSTED_PROXIES "
                                "(X-Forwarded-For/-Proto sent), gunicorn",
    "protected_eddsa_proxy_gunicorn": "`GET /api/protected` EdDSA, the API behind "
                                      "TRUSTED_PROXIES, gunicorn",
    "protected_granian": "`GET /api/protected` HS256, the API on granian (WSGI, 2 workers)",
    "protected_peer": "`GET /api/protected` HS256, FastAPI peer (uvicorn, 2 workers)",
    "list_gunicorn": "`GET /api/tasks?limit=50`, the API on gunicorn",
    "list_granian": "`GET /api/tasks?limit=50`, the API on granian (WSGI, 2 workers)",
    "list_peer": "`GET /api/tasks?limit=50`, FastAPI peer (uvicorn, 2 workers)",
    "create_gunicorn": "`POST /api/tasks`, the API on gunicorn",
    "protected_before": "`GET /api/protected` HS256, the API before (`--before`), gunicorn",
    "protected_eddsa_before": "`GET /api/protected` EdDSA, the API before, gunicorn",
    "protected_distinct_before": "`GET /api/protected` HS256, fresh tokens, the API before",
    "protected_eddsa_distinct_before": "`GET /api/protected` EdDSA, fresh tokens, the API "
                                       "before",
    "list_before": "`GET /api/tasks?limit=50`, the API before, gunicorn",
    "create_before": "`POST /api/tasks`, the API before, gunicorn",
}


FLOOR = "bare Flask + one HS256 `jwt.decode` + one JSON access line"
IN_PROCESS_PROTECTED = "GET /api/protected (as shipped)"
IN_PROCESS_DISTINCT = "  with distinct tokens (a fresh HS256 token every request: no cache hit)"


def _against_floor(cmp_, name, floor_name):
    """(req/s ratio, text) of one side-by-side case over its floor's, or None if either is
    missing. The CPU ratio is the floor's CPU per request over the case's: like the req/s
    ratio, above 1 means the case does less work per request than the floor."""
    stat, floor = cmp_.get(name), cmp_.get(floor_name)
    if not stat or not floor:
        return None
    ratio = _ratio(stat["rps"], floor["rps"])
    cpu, floor_cpu = stat["server_cpu_ms_per_req"], floor["server_cpu_ms_per_req"]
    text = (f"{ratio}x req/s ({stat['rps']:.0f} vs {floor['rps']:.0f}), "
            f"CPU {_ratio(floor_cpu, cpu)}x ({cpu} vs {floor_cpu} ms/request)")
    errors = stat["errors"] + floor["errors"]
    if errors:
        text += f"; {errors} error responses"
        ratio = None  # a run with errors measures nothing
    return ratio, text


def issue25_targets(result):
    """Issue 25's targets, one row per target: measured, the API at --before, met."""
    cmp_ = result.get("compare") or {}
    rev = (result.get("before") or {}).get("rev")
    missing = ("not measured (not in this run's side-by-side rounds)" if cmp_ else
               "not measured (no side-by-side phase: --no-compare)")
    rounds = len(next(iter(cmp_.values()))["runs"]) if cmp_ else 0
    rows = []

    def ratio_row(target, factor, pairs):
        """pairs: (label, case, floor case, the case before or None); met if every case is
        >= factor x its floor."""
        measured, before, met = [], [], True
        for label, name, floor_name, before_name in pairs:
            if rev and before_name:
                old = _against_floor(cmp_, before_name, floor_name)
                before.append(f"{label}{old[1] if old else missing}")
            found = _against_floor(cmp_, name, floor_name)
            if found is None:
                measured.append(f"{label}{missing}")
                met = False
                continue
            ratio, text = found
            measured.append(f"{label}{text}")
            met &= ratio is not None and ratio >= factor
        if rev and not any(before_name for *_, before_name in pairs):
            before.append("not measured (the API before is not served behind a proxy)")
        rows.append({"target": f"{target} >= {factor:.2f}x" + (" each" if len(pairs) > 1 else ""),
                     "measured": "; ".join(measured), "before": "; ".join(before) or None,
                     "met": met})

    ratio_row("`/api/protected` HS256, same token, vs the floor (req/s ratio, c=16)", 1.10,
              [("", "protected_gunicorn", "floor_hs256", "protected_before")])
    ratio_row("`/api/protected` EdDSA, same token, vs the EdDSA floor", 1.20,
              [("", "protected_eddsa_gunicorn", "floor_eddsa", "protected_eddsa_before")])
    ratio_row("the same two behind TRUSTED_PROXIES (X-Forwarded-For/-Proto, as behind nginx)",
              1.00, [("HS256: ", "protected_proxy_gunicorn", "floor_hs256", None),
                     ("EdDSA: ", "protected_eddsa_proxy_gunicorn", "floor_eddsa", None)])
    ratio_row("`/api/protected` HS256 and EdDSA, distinct tokens (a fresh one every request), "
              "vs their floors with distinct tokens", 0.85,
              [("HS256: ", "protected_distinct_gunicorn", "floor_hs256_distinct",
                "protected_distinct_before"),
               ("EdDSA: ", "protected_eddsa_distinct_gunicorn", "floor_eddsa_distinct",
                "protected_eddsa_distinct_before")])

    target = "in-process CPU per request, `/api/protected`, cache hit (`bench.layers --core`)"
    in_process = result.get("in_process_us") or {}
    hit = in_process.get(IN_PROCESS_PROTECTED)
    if hit is None:
        why = result.get("in_process_error") or "--no-layers, or no protected case"
        rows.append({"target": f"{target} <= 150 us", "measured": f"not measured ({why})",
                     "before": None, "met": False})
    else:
        def hit_and_miss(figures):
            miss = figures.get(IN_PROCESS_DISTINCT)
            return (f"{figures.get(IN_PROCESS_PROTECTED)} us (the same token every request)"
                    + (f"; distinct tokens {miss} us" if miss is not None else ""))

        before = None
        if rev:
            old = result.get("in_process_before_us") or {}
            before = (hit_and_miss(old) if IN_PROCESS_PROTECTED in old else
                      f"not measured ({result.get('in_process_before_error', 'no case')})")
        rows.append({"target": f"{target} <= 150 us",
                     "measured": f"{hit_and_miss(in_process)}; bare Flask "
                                 f"{in_process.get('bare Flask app (ceiling)')} us",
                     "before": before, "met": hit <= 150})

    cpu = {name: (cmp_.get(f"{name}_gunicorn") or {}) for name in ("list", "create")}
    target = "server CPU per request, list (50) and create (c=16, gunicorn) <= 1.8 ms each"
    if not all(cpu.values()):
        rows.append({"target": target, "measured": missing, "before": None, "met": False})
    else:
        errors = sum(stat["errors"] for stat in cpu.values())
        measured = (f"list {cpu['list']['server_cpu_ms_per_req']} ms, create "
                    f"{cpu['create']['server_cpu_ms_per_req']} ms (medians, rounds: {rounds})"
                    + (f"; {errors} error responses" if errors else ""))
        before = None
        if rev:
            old = {name: cmp_.get(f"{name}_before") for name in ("list", "create")}
            before = ", ".join(f"{name} {stat['server_cpu_ms_per_req']} ms" if stat else
                               f"{name} not served" for name, stat in old.items())
        rows.append({"target": target, "measured": measured, "before": before,
                     "met": not errors and all(stat["server_cpu_ms_per_req"] <= 1.8
                                               for stat in cpu.values())})

    target = ("`flask --app wsgi --help`, CPU (user + system, with children; median of "
              "5 runs, production env) <= 1.0 s")
    startup = result.get("startup_cpu_s")

    def startup_text(figures):
        if not figures:
            return "not measured"
        if "error" in figures:
            return f"not measured ({figures['error']})"
        return f"{figures['median']} s (runs: {', '.join(map(str, figures['runs']))})"

    rows.append({"target": target, "measured": startup_text(startup),
                 "before": startup_text(result.get("startup_cpu_before_s")) if rev else None,
                 "met": bool(startup) and "median" in startup and startup["median"] <= 1.0})
    return rows


def _in_process_protected(in_process):
    """The protected route's in-process figure (by prefix, should layers.py rename the case)."""
    if IN_PROCESS_PROTECTED in in_process:
        return in_process[IN_PROCESS_PROTECTED]
    return next((us for name, us in in_process.items()
                 if name.startswith("GET /api/protected")), None)


def floor_targets(result):
    """The targets of issue 17: the API against the floor, the least the contract allows.

    Each row also shows the API as of ``--before`` (served in the same rounds) when given.
    """
    rows = []
    cmp_ = result.get("compare") or {}
    rev = (result.get("before") or {}).get("rev")
    missing = ("not measured (not in this run's side-by-side rounds)" if cmp_ else
               "not measured (no side-by-side phase: --no-compare)")

    def cpu(stat):
        return stat["server_cpu_ms_per_req"]

    def vs_floor(name, floor_name, before_name, factor, target):
        stat, floor = cmp_.get(name), cmp_.get(floor_name)
        target = f"{target}, req/s ratio >= {factor}x"
        if not stat or not floor:
            rows.append({"target": target, "measured": missing, "met": False})
            return
        ratio = _ratio(stat["rps"], floor["rps"])
        measured = (f"{ratio}x ({stat['rps']} vs {floor['rps']} req/s, medians of "
                    f"{len(stat['runs'])} alternating rounds; server CPU {cpu(stat)} vs "
                    f"{cpu(floor)} ms/request)")
        if stat["errors"] or floor["errors"]:
            measured += f"; error responses: {stat['errors']}, floor {floor['errors']}"
        before = cmp_.get(before_name)
        if before:
            measured += (f"; before (`{rev}`): {_ratio(before['rps'], floor['rps'])}x "
                         f"({before['rps']} req/s, server CPU {cpu(before)} ms/request)")
        rows.append({"target": target, "measured": measured,
                     "met": ratio is not None and ratio >= factor
                     and not stat["errors"] and not floor["errors"]})

    vs_floor("protected_gunicorn", "floor_hs256", "protected_before", 0.95,
             "`/api/protected` HS256 vs the floor app (same gunicorn, c=16)")
    vs_floor("protected_eddsa_gunicorn", "floor_eddsa", "protected_eddsa_before", 0.90,
             "`/api/protected` EdDSA vs the floor app doing one EdDSA verify (same gunicorn, "
             "c=16)")

    target = "in-process CPU per request, `/api/protected` <= 200 us"
    in_process = result.get("in_process_us") or {}
    protected_us = _in_process_protected(in_process)
    if protected_us is None:
        why = result.get("in_process_error") or "--no-layers, or no protected case"
        rows.append({"target": target, "measured": f"not measured ({why})", "met": False})
    else:
        measured = (f"{protected_us} us (bare Flask {in_process.get('bare Flask app (ceiling)')}"
                    " us; `python -m bench.layers --core`)")
        if rev:
            before_us = _in_process_protected(result.get("in_process_before_us") or {})
            measured += (f"; before (`{rev}`): {before_us} us" if before_us is not None else
                         f"; before (`{rev}`): not measured "
                         f"({result.get('in_process_before_error', 'no protected case')})")
        rows.append({"target": target, "measured": measured, "met": protected_us <= 200})
    rows.append(session_check_target(in_process, result.get("in_process_error")))

    for name, scenario, label in (("list", "tasks_first_page", "list (`GET /api/tasks?limit=50`)"),
                                  ("create", "tasks_create", "create (`POST /api/tasks`)")):
        target = f"server CPU per request, {label} <= 2.0 ms"
        stat = cmp_.get(f"{name}_gunicorn")
        if not stat:
            rows.append({"target": target, "measured": missing, "met": False})
            continue
        measured = (f"{cpu(stat)} ms (median of {len(stat['runs'])} alternating rounds, "
                    "gunicorn, c=16")
        alone = _stat(result, scenario, "16")
        if alone and alone.get("server_cpu_ms_per_req"):
            measured += f"; its scenario alone {alone['server_cpu_ms_per_req']} ms"
        measured += ")"
        if stat["errors"]:
            measured += f"; {stat['errors']} error responses"
        before = cmp_.get(f"{name}_before")
        if before:
            measured += (f"; before (`{rev}`): {cpu(before)} ms "
                         f"(now {_ratio(cpu(stat), cpu(before))}x of it)")
        rows.append({"target": target, "measured": measured,
                     "met": cpu(stat) <= 2.0 and not stat["errors"]})

    ceiling = cmp_.get("ceiling")
    parts = []
    for floor_name, label in (("floor_hs256", "HS256 floor"), ("floor_eddsa", "EdDSA floor")):
        floor = cmp_.get(floor_name)
        if floor and ceiling:
            parts.append(f"{label} {_ratio(floor['rps'], ceiling['rps'])}x ({floor['rps']} vs "
                         f"{ceiling['rps']} req/s; server CPU {cpu(floor)} vs {cpu(ceiling)} "
                         "ms/request)")
    rows.append({"target": "bare Flask -> floor: the floor's req/s over bare Flask's (same "
                           "gunicorn, c=16), for information",
                 "measured": "; ".join(parts) or missing, "met": None})
    return rows


METRICS_OFF = "  with metrics off (METRICS_ENABLED=false)"
TRACING_ON = "  with tracing on (every request sampled, spans exported over OTLP/HTTP)"
SHIPPED_BESIDE_TRACING = "  as shipped (tracing off), in the rounds beside tracing on"


def observability_targets(result):
    """Issue 21: what metrics (on by default) and tracing (off by default) cost in-process."""
    in_process = result.get("in_process_us") or {}
    shipped = _in_process_protected(in_process)
    off, traced = in_process.get(METRICS_OFF), in_process.get(TRACING_ON)
    why = result.get("in_process_error") or "--no-layers, or a tree without the case"
    target = "metrics on (the default) add <= 30 us per request in-process, `/api/protected`"
    if shipped is None or off is None:
        rows = [{"target": target, "measured": f"not measured ({why})", "met": False}]
    else:
        rows = [{"target": target,
                 "measured": f"{shipped - off:+} us ({shipped} us as shipped vs {off} us with "
                             "METRICS_ENABLED=false, prometheus_client in multiprocess mode; "
                             "`python -m bench.layers --core`)",
                 "met": shipped - off <= 30}]
    target = "tracing off (the default) costs nothing measurable"
    if traced is None:
        rows.append({"target": target, "measured": f"not measured ({why})", "met": False})
    else:
        beside = in_process.get(SHIPPED_BESIDE_TRACING)
        rows.append({"target": target,
                     "measured": "off, no OpenTelemetry module is even loaded (bench.layers "
                                 f"checks), so off is not installed; for information, tracing "
                                 f"on: {traced} us vs {beside} us in the same rounds",
                     "met": True})
    return rows


def session_check_target(in_process, error=None):
    """Issue 20: the Better Auth session check on a cache hit, side by side with it off."""
    target = "Better Auth session check on a cache hit adds <= 50 us per request (in-process)"
    off = next((us for name, us in in_process.items() if "session check off" in name), None)
    on = next((us for name, us in in_process.items() if "session check (" in name), None)
    if off is None or on is None:
        why = error or "no session cases: layers.py needs PostgreSQL and issue 20's module"
        return {"target": target, "measured": f"not measured ({why})", "met": False}
    return {"target": target,
            "measured": f"{on - off:+d} us ({on} us with the check, {off} us without; the same "
                        "frontend token with sid, `python -m bench.layers --core`)",
            "met": on - off <= 50}


def lean_targets(result):
    """The targets of issue 11 (a lean request path), each with its measured value."""
    rows = []
    cmp_ = result.get("compare") or {}
    ceiling = cmp_.get("ceiling")

    def vs_ceiling(name, factor, label):
        stat = cmp_.get(name)
        if not stat or not ceiling:
            return
        ratio = _ratio(stat["rps"], ceiling["rps"])
        rows.append({
            "target": f"{label}, req/s vs bare Flask (same gunicorn, c=16) >= {factor}x",
            "measured": f"{ratio}x ({stat['rps']} vs {ceiling['rps']} req/s, medians of "
                        f"{len(stat['runs'])} alternating rounds; server CPU "
                        f"{stat['server_cpu_ms_per_req']} vs "
                        f"{ceiling['server_cpu_ms_per_req']} ms/request)",
            "met": ratio is not None and ratio >= factor and not stat["errors"],
        })

    vs_ceiling("protected_gunicorn", 0.75, "`/api/protected` HS256")
    vs_ceiling("protected_eddsa_gunicorn", 0.7, "`/api/protected` EdDSA via cached JWKS")
    in_process = result.get("in_process_us") or {}
    protected_us = in_process.get("GET /api/protected (as shipped)")
    if protected_us is not None:
        rows.append({
            "target": "in-process CPU per request, `/api/protected` <= 200 us",
            "measured": f"{protected_us} us (bare Flask "
                        f"{in_process.get('bare Flask app (ceiling)')} us; "
                        "`python -m bench.layers --core`)",
            "met": protected_us <= 200,
        })
    for name, label in (("tasks_first_page", "`GET /api/tasks?limit=50`"),
                        ("tasks_create", "`POST /api/tasks`")):
        stat = _stat(result, name, "16")
        if stat and stat.get("server_cpu_ms_per_req"):
            cpu = stat["server_cpu_ms_per_req"]
            rows.append({"target": f"server CPU per request, {label} <= 1.8 ms",
                         "measured": f"{cpu} ms (c=16, gunicorn)", "met": cpu <= 1.8})
    for ours, label in (("list", "task list"), ("protected", "protected route")):
        mine, peer = cmp_.get(f"{ours}_gunicorn"), cmp_.get(f"{ours}_peer")
        if not mine or not peer:
            continue
        granian = cmp_.get(f"{ours}_granian")
        cost = _ratio(mine["server_cpu_ms_per_req"], peer["server_cpu_ms_per_req"])
        text = (f"{cost}x the peer's CPU per request on gunicorn ({mine['server_cpu_ms_per_req']}"
                f" vs {peer['server_cpu_ms_per_req']} ms; {mine['rps']} vs {peer['rps']} req/s)")
        if granian:
            g_cpu = granian["server_cpu_ms_per_req"]
            text += (f"; {_ratio(g_cpu, peer['server_cpu_ms_per_req'])}x on granian "
                     f"({g_cpu} ms, {granian['rps']} req/s)")
        rows.append({"target": f"{label} vs the FastAPI peer, server CPU per request: "
                               "project <= peer",
                     "measured": text, "met": cost is not None and cost <= 1.0})
    return rows


def _compare(result):
    cmp_ = result.get("compare")
    if not cmp_:
        return []
    settings = result["settings"]
    ceiling = cmp_.get("ceiling")
    out = [
        "### Side by side: ceiling, floor, the API (gunicorn, behind TRUSTED_PROXIES, granian), "
        "the FastAPI peer",
        "",
        f"{settings.get('compare_rounds')} rounds; in each, every row ran once for "
        f"{settings.get('compare_s')} s at 16 connections, the order rotating from round to "
        "round; medians shown. Server CPU is the whole server process tree's (supervisor "
        "included). gunicorn runs gunicorn.conf.py (as deployed); granian and the peer run 2 "
        "worker processes.",
        "",
        "| server and route | req/s | vs ceiling | p50 ms | server CPU ms/req | errors | "
        "req/s per round |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, title in COMPARE_TITLES.items():
        stat = cmp_.get(name)
        if not stat:
            continue
        per_round = ", ".join(f"{r['rps']:.0f}" for r in stat["runs"])
        out.append(f"| {title} | {stat['rps']:.0f} | "
                   f"{_ratio(stat['rps'], ceiling and ceiling['rps'])}x | {stat['p50_ms']} | "
                   f"{stat['server_cpu_ms_per_req']} | {stat['errors']} | {per_round} |")
    before = result.get("before")
    if before and cmp_.get("protected_before"):
        out += ["", f"Before/after in the same rounds: the API at commit `{before['rev']}` "
                "(before this work) and as measured, both on gunicorn.conf.py:", "",
                "| route | before: server CPU ms/req | after | after/before | before: req/s | "
                "after | ",
                "|---|---:|---:|---:|---:|---:|"]
        for route, label in (("protected", "`GET /api/protected` HS256"),
                             ("protected_eddsa", "`GET /api/protected` EdDSA"),
                             ("protected_distinct", "`GET /api/protected` HS256, fresh tokens"),
                             ("protected_eddsa_distinct",
                              "`GET /api/protected` EdDSA, fresh tokens"),
                             ("list", "`GET /api/tasks?limit=50`"),
                             ("create", "`POST /api/tasks`")):
            b, a = cmp_.get(f"{route}_before"), cmp_.get(f"{route}_gunicorn")
            if not b or not a:
                continue
            out.append(f"| {label} | {b['server_cpu_ms_per_req']} | "
                       f"{a['server_cpu_ms_per_req']} | "
                       f"{_ratio(a['server_cpu_ms_per_req'], b['server_cpu_ms_per_req'])}x | "
                       f"{b['rps']:.0f} | {a['rps']:.0f} |")
    in_process = result.get("in_process_us")
    before_us = result.get("in_process_before_us") or {}
    if in_process:
        out += ["", "In-process CPU per request (`python -m bench.layers --core`: through the WSGI "
                "app without a server, best of 6 batches, round robin):", ""]
        if before_us:
            out += [f"| request | before (`{result['before']['rev']}`): CPU us/request | "
                    "CPU us/request |", "|---|---:|---:|"]
            out += [f"| {name} | {before_us.get(name, '')} | {us} |"
                    for name, us in in_process.items()]
        else:
            out += ["| request | CPU us/request |", "|---|---:|"]
            out += [f"| {name} | {us} |" for name, us in in_process.items()]
    for key, what in (("in_process_error", "this tree"),
                      ("in_process_before_error", "the API before")):
        if result.get(key):
            out += ["", f"`python -m bench.layers --core --json` could not run for {what}: "
                    f"`{result[key]}`."]
    return out + [""]


def _short_of(rss):
    wanted = rss.get("target_requests", [0, 0])[1]
    if rss["requests_at_total"] >= wanted:
        return ""
    return f"; only {rss['requests_at_total']:,} of {wanted:,} requests within the time limit"


def _pct(value):
    return "n/a" if value is None else f"{value * 100:+.1f}%"


def _verdict(met):
    return "INFO   " if met is None else "MET    " if met else "NOT MET"


def target_lines(result):
    """Issue 25's rows first, then issue 17's (against the floor), 21's, 11's and 7's."""
    rev = (result.get("before") or {}).get("rev")
    return [f"{_verdict(r['met'])} {r['target']}: {r['measured']}"
            + (f" | before (`{rev}`): {r['before']}" if r.get("before") else "")
            for r in issue25_targets(result) + floor_targets(result)
            + observability_targets(result) + lean_targets(result) + targets(result)]


def _target_table(rows, before=None):
    """The rows as a Markdown table; with ``before`` (a revision) a column of its values."""
    cell = {None: "info", True: "**yes**", False: "**NO**"}
    if before:
        return ([f"| target | measured | before (`{before}`) | met? |", "|---|---|---|---|"]
                + [f"| {r['target']} | {r['measured']} | {r.get('before') or ''} | "
                   f"{cell[r['met']]} |" for r in rows])
    return (["| target | measured | met? |", "|---|---|---|"]
            + [f"| {r['target']} | {r['measured']} | {cell[r['met']]} |" for r in rows])


def markdown(result, json_path, chart_name):
    m, g = result["machine"], result["gunicorn"]
    names = titles()
    out = [
        f"## Latest run: {result['stamp']}" + (" (quick mode)" if result["quick"] else ""),
        "",
        f"Commit `{m['git_commit']}`"
        + (" with uncommitted app changes" if m["app_code_uncommitted_changes"] else "")
        + f"; {m['cpus']} CPUs; Python {m['python']}; {m['postgres']}; {m['wrk']}.",
        f"gunicorn: `{g['worker_class']}`, {g['workers']} workers x {g['threads']} threads "
        f"(from gunicorn.conf.py). Load average at start {' / '.join(m['loadavg_start'])}, "
        f"at end {' / '.join(m.get('loadavg_end', ['?']))}. "
        f"Whole run {result['elapsed_s']} s. Raw numbers: `{json_path}`."
        + (f" Note: {result['label']}" if result.get("label") else ""),
        "",
        "### Targets: issue 25, the request path past the floor",
        "",
        "The floor (`bench/floor_app.py`) is the least `GET /api/protected` the contract "
        f"allows: {FLOOR} (python-json-logger's orjson formatter on stdout, as the API's), or "
        "one EdDSA verify with a key built once from the run's JWKS. It runs under the same "
        "gunicorn.conf.py in the same alternating rounds as the API "
        f"(rounds: {result['settings'].get('compare_rounds')}, each case "
        f"{result['settings'].get('compare_s')} s at 16 connections; medians). "
        "\"Same token\": every request carries one token, as a client reusing its token does; "
        "\"distinct tokens\": every request a token never sent before in the run "
        "(`bench/token_pool.py`), so no cache can help, at the floor as at the API. \"Behind "
        "TRUSTED_PROXIES\": the API served again with `TRUSTED_PROXIES=1 "
        "TRUSTED_PROXY_ADDRESSES=127.0.0.1`, its requests carrying `X-Forwarded-For` and "
        "`X-Forwarded-Proto` as nginx's do; the floor reads neither. Each ratio is req/s over "
        "the floor's, then \"CPU\": the floor's server CPU per request over the API's (above 1: "
        "the API does less work per request than the floor), which moves less with machine "
        "load than req/s"
        + (f". \"Before\" is the API at `{result['before']['rev']}` (`--before`), in the same "
           "rounds and from the same tree's `bench.layers`" if result.get("before") else "")
        + ".",
        "",
        *_target_table(issue25_targets(result),
                       before=(result.get("before") or {}).get("rev")),
        "",
        *_token_pools(result),
        "### Earlier targets: issue 17 (the API against the floor) and issue 21 (metrics, "
        "tracing)",
        "",
        *_target_table(floor_targets(result) + observability_targets(result)),
        "",
        "### Earlier targets (issue 11: against bare Flask; issue 7)",
        "",
        *_target_table(lean_targets(result) + targets(result)),
    ]
    out += [
        "",
        "### Every scenario",
        "",
        f"Each cell is one wrk run of {result['settings']['duration_s']} s "
        "(wrk on the same machine, 2 threads). Errors are non-2xx responses (by status) plus "
        "socket errors and timeouts, counted by the Lua `response` hook. Server CPU ms/req is "
        "the gunicorn workers' user+system CPU time (`/proc/<pid>/stat`) over the run divided "
        "by the responses: unlike req/s it barely moves when other processes share the CPUs.",
        "",
        "| scenario | conns | req/s | p50 ms | p99 ms | vs ceiling | server CPU ms/req | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, title in names.items():
        if name == "signin":
            continue
        out += _rows(result, name, title)
    out += [
        "",
        "Sign-in is bound by argon2id (19 MiB, 2 passes, per the OWASP minimum) by design, so "
        "it is reported on its own; the rate limit was raised for the run "
        "(`RATELIMIT_AUTH=1000000 per minute`).",
        "",
        "| scenario | conns | req/s | p50 ms | p99 ms | vs ceiling | server CPU ms/req | errors |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    out += _rows(result, "signin", names["signin"])
    out += ["", f"![throughput and latency per scenario]({chart_name})", ""]
    out += _compare(result)
    out += _seed_and_rss(result)
    out += _explain(result)
    out += _profile(result)
    return "\n".join(out) + "\n"


def _token_pools(result):
    """One sentence on the distinct-token pools: minted, spent, how long, none short."""
    pools = result.get("token_pools")
    if not pools:
        return []
    names = {"hs256": "HS256", "eddsa": "EdDSA"}
    parts = [f"{names.get(kind, kind)}: {p['minted']:,} minted in {p['mint_s']} s, "
             f"{p['spent']:,} spent"
             + ("" if p.get("all_distinct", True) else " (**some alike**)")
             for kind, p in pools.items()]
    short = sum(p["runs_out_of_tokens"] for p in pools.values())
    proxy = (result.get("proxy") or {}).get("gunicorn", {}).get("forwarded_allow_ips")
    return [f"Distinct tokens ({'; '.join(parts)}): "
            + ("no run ran short of them." if not short else
               f"**{short} requests found their thread's tokens spent** (counted as errors).")
            + (f" Behind TRUSTED_PROXIES, gunicorn's forwarded_allow_ips was `{proxy}`."
               if proxy is not None else ""), ""]


def _rows(result, name, title):
    rows = []
    for level in LEVELS:
        stat = _stat(result, name, level)
        if not stat:
            continue
        ceiling = _stat(result, "ceiling", level)
        vs = _ratio(stat["rps"], ceiling and ceiling["rps"])
        errors = str(stat["errors"]) if not stat["errors"] else (
            f"**{stat['errors']}** {json.dumps(stat['non2xx_by_status'])}"
        )
        rows.append(f"| {title} | {level} | {stat['rps']:.0f} | {stat['p50_ms']} | "
                    f"{stat['p99_ms']} | {vs if vs is not None else ''}x | "
                    f"{stat.get('server_cpu_ms_per_req', '')} | {errors} |")
    return rows


def _seed_and_rss(result):
    out = ["### Data and memory", ""]
    seed = result.get("seed", {})
    if "insert_s" in seed:
        out.append(
            f"Seeded {seed['tasks']:,} tasks over {seed['users']:,} users (one user holds "
            f"{seed['heavy_user_tasks']:,}) with `INSERT ... SELECT generate_series` in "
            f"{seed['insert_s']} s, indexes rebuilt after the load, then `VACUUM (ANALYZE)` in "
            f"{seed['vacuum_analyze_s']} s."
        )
    else:
        out.append("Seeding was skipped (`--skip-seed`): the data of an earlier run was reused.")
    deep = result.get("deep_page")
    if deep:
        out.append(f"The deep page was reached by following `Link: rel=\"next\"` "
                   f"{deep['skipped_tasks'] // 50} times ({deep['skipped_tasks']:,} tasks in); "
                   f"its first task is \"{deep['first_title']}\".")
    probe = result.get("eddsa_probe")
    if probe:
        out.append(f"Probe of the EdDSA token before the run: HTTP {probe['status']} "
                   f"`{json.dumps(probe['body'])}`. The API fetched the JWKS "
                   f"{result.get('jwks_fetches', '?')} time(s) during the whole run.")
    rss = result.get("rss")
    if rss:
        out += [
            "",
            f"Worker memory (VmRSS from `/proc/<pid>/status`) under a mixed load "
            f"({', '.join(rss['mix'])}) at 16 connections on a freshly started server:",
            "",
            "| worker pid | after " + f"{rss['requests_at_first']:,} | after "
            f"{rss['requests_at_total']:,} | growth |",
            "|---|---:|---:|---:|",
        ]
        for pid, kib in rss["after_first"]["rss_kib"].items():
            later = rss["after_total"]["rss_kib"].get(pid)
            out.append(f"| {pid} | {kib / 1024:.1f} MiB | "
                       f"{'' if later is None else f'{later / 1024:.1f} MiB'} | "
                       f"{_pct(rss['growth_per_worker'].get(pid))} |")
        out.append(f"| all | {rss['after_first']['total_kib'] / 1024:.1f} MiB | "
                   f"{rss['after_total']['total_kib'] / 1024:.1f} MiB | "
                   f"{_pct(rss['total_growth'])} |")
        for leg in ("first_leg", "second_leg"):
            if rss[leg]["errors"]:
                out.append(f"\n{leg.replace('_', ' ')}: {rss[leg]['errors']} error responses "
                           f"{json.dumps(rss[leg]['non2xx_by_status'])} (see scenario 4).")
    out.append("")
    return out


def _explain(result):
    plans = result.get("explain") or {}
    out = ["### The list query: `EXPLAIN (ANALYZE, BUFFERS)`", ""]
    if "error" in plans:
        return out + [f"Could not run: `{plans['error']}`", ""]
    out.append("The exact statement the app's `list_page` sends (captured from SQLAlchemy), "
               "for the 10,000-task user, run twice and the second plan kept:")
    for label in ("first_page", "deep_page"):
        plan = plans.get(label)
        if not plan:
            continue
        out += ["", f"**{label.replace('_', ' ')}**", "", "```sql", plan["sql"].strip(), "```",
                "", "```text", *plan["plan"], "```"]
    return out + [""]


def _profile(result):
    prof = result.get("profile")
    if not prof:
        return []
    if "error" in prof:
        return ["### Profile", "", f"py-spy could not run: {prof['error']}", ""]
    load = prof.get("under_load", {})
    out = [
        "### Profile: scenario 3 at 16 connections (py-spy, every worker)",
        "",
        f"{prof['samples']:,} samples of busy threads while serving {load.get('rps')} req/s "
        f"(raw stacks, not committed: `{prof['file']}`). Share of samples spent inside:",
        "",
        "| inside | share |",
        "|---|---:|",
    ]
    out += [f"| {name} | {share * 100:.1f}% |" for name, share in prof["buckets"].items()]
    out += ["", "Top functions by inclusive share:", "", "| function | share |", "|---|---:|"]
    out += [f"| `{name}` | {share * 100:.1f}% |" for name, share in prof["top_inclusive"]]
    return out + [""]


def summarise_profile(path):
    """Shares of py-spy raw (collapsed) stacks spent in each bucket and top functions."""
    path = Path(path)
    inclusive, buckets, total = Counter(), Counter(), 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        count = int(count)
        total += count
        # The first frames name the process and the thread; only code frames count.
        frames = [f for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        names, files = set(), set()
        for frame in frames:
            match = re.match(r"(.*) \((.*?)(?::\d+)?\)$", frame)
            if match:
                func, file = match.groups()
                names.add(f"{func} ({_short(file)})")
                files.add(_short(file))
        for name in names:
            inclusive[name] += count
        for bucket, prefixes in PROFILE_BUCKETS.items():
            if any(file.startswith(prefixes) for file in files):
                buckets[bucket] += count
    total = total or 1
    return {
        "file": str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path),
        "samples": total,
        "buckets": {b: round(buckets[b] / total, 4) for b in PROFILE_BUCKETS},
        "top_inclusive": [(n, round(c / total, 4)) for n, c in inclusive.most_common(25)],
    }


def _short(file):
    if "/ironmind_api/" in file:
        return "ironmind_api/" + file.split("/ironmind_api/")[-1]
    return re.split(r"site-packages/|lib/python3\.\d+/", file)[-1]


def chart(result, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = titles()
    keys = [k for k in names if k in result["scenarios"]]
    labels = [CHART_LABELS[k] for k in keys]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 8), sharex=True)
    width = 0.27
    for i, level in enumerate(LEVELS):
        xs = [j + (i - 1) * width for j in range(len(keys))]
        rps = [(_stat(result, k, level) or {}).get("rps", 0) for k in keys]
        p99 = [(_stat(result, k, level) or {}).get("p99_ms", 0) for k in keys]
        p50 = [(_stat(result, k, level) or {}).get("p50_ms", 0) for k in keys]
        top.bar(xs, rps, width, label=f"{level} connection{'s' if level != '1' else ''}")
        bottom.bar(xs, p99, width, color=f"C{i}", alpha=0.45)
        bottom.bar(xs, p50, width, color=f"C{i}")
    top.set_ylabel("requests / s")
    top.set_title(f"IRONMIND API under wrk, {result['stamp']}"
                  + (" (quick mode)" if result["quick"] else ""))
    top.legend()
    bottom.set_yscale("log")
    bottom.set_ylabel("latency ms (solid p50, light p99)")
    bottom.set_xticks(range(len(keys)), labels, fontsize=8)
    for key_index, key in enumerate(keys):
        errors = sum(s["errors"] for s in result["scenarios"][key].values())
        if errors:
            top.annotate(f"{errors:,} errors", (key_index, 0), textcoords="offset points",
                         xytext=(0, 4), ha="center", color="red", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write(result, json_path, doc_path, chart_path):
    json_rel = json_path.relative_to(ROOT) if json_path.is_relative_to(ROOT) else json_path
    chart(result, chart_path)
    generated = markdown(result, json_rel, chart_path.name)
    doc_path = Path(doc_path)
    existing = doc_path.read_text() if doc_path.exists() else (
        f"# Performance\n\nGenerated by `bench/run`; see bench/README.md."
        f"\n\n{BEGIN}\n{END}\n"
    )
    if BEGIN not in existing:
        existing += f"\n{BEGIN}\n{END}\n"
    head, _, rest = existing.partition(BEGIN)
    _, _, tail = rest.partition(END)
    doc_path.write_text(f"{head}{BEGIN}\n{generated}{END}{tail}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    source = Path(sys.argv[1]).resolve()
    data = json.loads(source.read_text())
    quick_dir = ROOT / "bench" / "results" / "tmp"
    write(data, source,
          quick_dir / "PERFORMANCE.md" if data["quick"] else ROOT / "docs" / "PERFORMANCE.md",
          quick_dir / "performance.png" if data["quick"] else ROOT / "docs" / "performance.png")
