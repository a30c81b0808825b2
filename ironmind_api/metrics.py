"""Prometheus metrics (prometheus_client): what is counted, where, and GET /metrics.

Under gunicorn every worker is a process of its own: with ``PROMETHEUS_MULTIPROC_DIR`` set
(gunicorn.conf.py sets it) prometheus_client's multiprocess mode keeps each worker's values in
files there, and a scrape of any worker adds up every worker's counters and histograms, while
the per-worker gauges carry a ``pid`` label (``liveall``: only live workers). Without it (the
development server, tests, one process) the metrics live in the default registry.

Per request, one call (``record_request``, from the access line's after_request, with its
timing) counts the request, its latency, a refused token and a sign-in's outcome; label
children are cached, so that costs a dict lookup and a few increments.
"""

import atexit
import os

from flask import Response, current_app, g, request
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead

from .blueprint import Blueprint
from .errors import NotFound
from .http.proxies import is_in
from .openapi import document, error_ref

# prometheus_client decides the same way, when it is first imported.
MULTIPROCESS = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
# Any other method (BREW, …) is counted as "other": a client cannot mint label values.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # the route label of a request no URL rule matched (404, 405)
SIGNIN_ENDPOINT = "auth.signin"
SIGNIN_OUTCOMES = ("success", "invalid_credentials", "account_disabled", "rate_limited")
# The error codes that refuse a token (docs/API.md). A 503 (service_unavailable) refuses one
# when a bearer token was sent and never accepted: the JWKS or the database could not be asked.
TOKEN_REFUSALS = frozenset(
    {"missing_token", "invalid_token", "token_expired", "token_revoked", "account_disabled",
     "forbidden"}
)

if MULTIPROCESS:
    # prometheus_client writes into the directory from the first metric on. A process that
    # ends (a worker, or a `flask` command run where the variable is set) takes its per-process
    # gauges with it, or they would stay in the scrapes as a live pid forever; gunicorn's
    # child_exit hook does the same for a worker that could not run this (SIGKILL).
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
    atexit.register(lambda: mark_process_dead(os.getpid()))

http_requests = Counter(
    "ironmind_http_requests_total",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
http_duration = Histogram(
    "ironmind_http_request_duration_seconds",
    "Time from the first before_request hook to the access line, by method and route template.",
    ["method", "route"],
    buckets=BUCKETS,
)
tokens_refused = Counter(
    "ironmind_tokens_refused_total", "Tokens refused, by the answer's error code.", ["code"]
)
refresh_reuse = Counter(
    "ironmind_refresh_reuse_detected_total",
    "Spent refresh tokens presented again outside the grace period (their session is revoked).",
)
signins = Counter("ironmind_signins_total", "POST /api/auth/signin by outcome.", ["outcome"])
revocation_synced = Gauge(
    "ironmind_revocation_copy_synced",
    "1 while this worker's copy of the revocation list is trusted, else 0 (also with no copy).",
    multiprocess_mode="liveall",
)
revocation_lag = Gauge(
    "ironmind_revocation_copy_lag_seconds",
    "Seconds since this worker's revocation copy last heard from the database.",
    multiprocess_mode="liveall",
)
revocation_reconnects = Counter(
    "ironmind_revocation_copy_reconnects_total",
    "Times a revocation listener's connection failed or was lost, each followed by a reconnect.",
)
jwks_fetches = Counter(
    "ironmind_jwks_fetches_total", "Fetches of the Better Auth JWKS, by outcome.", ["outcome"]
)
pool_in_use = Gauge(
    "ironmind_db_pool_in_use",
    "Database connections this worker has checked out of its pool.",
    multiprocess_mode="liveall",
)
pool_overflow = Gauge(
    "ironmind_db_pool_overflow",
    "Connections this worker has open beyond DB_POOL_SIZE (negative: pool not yet full).",
    multiprocess_mode="liveall",
)
app_info = Gauge(
    "ironmind_app_info", "Always 1; the version is the label.", ["version"],
    multiprocess_mode="max",
)

# Every known label value exists from the start, at 0, so a rate() has a series to work on.
for _outcome in SIGNIN_OUTCOMES:
    signins.labels(_outcome)
for _code in (*TOKEN_REFUSALS, "service_unavailable"):
    tokens_refused.labels(_code)
for _outcome in ("ok", "failed"):
    jwks_fetches.labels(_outcome)

# No ``*_created`` series: the single-process output has the same series as the multiprocess one.
disable_created_metrics()
_request_children: dict = {}

blp = Blueprint("metrics", __name__, url_prefix="/metrics", description="Prometheus metrics.")


def init_app(app):
    """Returns the pool gauges (None with metrics off), for the teardown that closes the
    request's session to update once the connection is back in the pool (db.close_session)."""
    app_info.labels(app.config["API_VERSION"]).set(1)
    if not app.config["METRICS_ENABLED"]:
        return None
    gauges = app.extensions["metrics_pool"] = PoolGauges(_pool_of(app))
    return gauges


def _pool_of(app):
    from .db import db

    with app.app_context():
        pool = db.engine.pool
    # QueuePool (every database the API runs on) counts its connections; other pools do not.
    return pool if hasattr(pool, "checkedout") and hasattr(pool, "overflow") else None


class PoolGauges:
    """This worker's pool gauges, written only when a value changed: in multiprocess mode
    every write is a locked write to a file, and most requests leave the pool as it was."""

    def __init__(self, pool):
        self.pool, self.seen = pool, None

    def update(self, force=False):
        if self.pool is None:
            return
        seen = (self.pool.checkedout(), self.pool.overflow())
        if force or seen != self.seen:
            self.seen = seen
            pool_in_use.set(seen[0])
            pool_overflow.set(seen[1])


def record_request(method, route, status, seconds, endpoint, error_code):
    """Count one answered request: the access line's after_request calls this once."""
    method = method if method in METHODS else "other"  # also keeps the cache's keys bounded
    key = (method, route, status)
    children = _request_children.get(key)
    if children is None:
        children = _request_children[key] = (
            http_requests.labels(method, route, str(status)),
            http_duration.labels(method, route),
        )
    children[0].inc()
    children[1].observe(seconds)
    if endpoint == SIGNIN_ENDPOINT:
        # Its account_disabled refuses a password, not a token: a sign-in outcome only.
        signins.labels("success" if status == 200 else error_code or "error").inc()
    elif error_code in TOKEN_REFUSALS or (
        error_code == "service_unavailable" and _bearer_token_unaccepted()
    ):
        tokens_refused.labels(error_code).inc()


def _bearer_token_unaccepted():
    # The guard sets g.user_id once it has accepted the token.
    return g.get("user_id") is None and "Authorization" in request.headers


def record_revocation_copy(cache):
    """Set this worker's revocation-copy gauges (its listener thread calls this, and scrapes)."""
    revocation_synced.set(1 if cache.synced else 0)
    revocation_lag.set(cache.lag())


@blp.route("", methods=["GET"])
@document(
    responses={
        200: {
            "description": "Prometheus' text format; only to METRICS_ALLOWED_NETWORKS.",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
        404: error_ref(404),
    },
)
def metrics():
    """Expose the metrics in Prometheus' text format to an allowed address, else 404."""
    config = current_app.config
    if not config["METRICS_ENABLED"] or not is_in(request.remote_addr, config["METRICS_NETWORKS"]):
        raise NotFound()
    # The scraped worker's gauges as of now; the others' as of their last update.
    current_app.extensions["metrics_pool"].update(force=True)
    cache = current_app.extensions.get("revocation_cache")
    if cache is not None:
        record_revocation_copy(cache)
    registry = REGISTRY
    if MULTIPROCESS:
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    # The classic text format (0.0.4), which every Prometheus version scrapes.
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_PLAIN_0_0_4)
