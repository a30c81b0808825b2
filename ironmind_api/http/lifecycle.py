"""Each request's one before and one after hook: its id, the body check, headers, metrics and
the JSON access line, each value computed once."""

import logging
import re
import secrets
import time

from flask import g, request

from .. import metrics, tracing
from . import headers
from .parsing import BODY_METHODS, require_json_body

REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,128}")
access_log = logging.getLogger("ironmind_api.access")
NO_TRACE = (None, None)


def init_app(app):
    # Decided once per app: with metrics or tracing off, their per-request work is not done.
    record = metrics.record_request if app.config["METRICS_ENABLED"] else None
    trace_ids = tracing.current_ids if app.config["OTEL_TRACES_URL"] else None
    cors = headers.cors_options(app)

    def finish(response):
        return finish_request(response, cors, record, trace_ids)

    app.before_request(start_request)
    app.after_request(finish)


def start_request():
    g.request_started = time.perf_counter()
    environ = request.environ
    supplied = environ.get("HTTP_X_REQUEST_ID", "")
    g.request_id = supplied if REQUEST_ID_PATTERN.fullmatch(supplied) else secrets.token_hex(16)
    g.user_id = None
    g.error_code = None  # set by errors.error_response, so the access line says why
    if environ["REQUEST_METHOD"] in BODY_METHODS:
        require_json_body()


def finish_request(response, cors, record=None, trace_ids=None):
    environ, path, rule = request.environ, request.path, request.url_rule
    headers.add_headers(response, environ, path, cors)
    response.headers["X-Request-ID"] = request_id = g.request_id
    seconds = time.perf_counter() - g.request_started
    route, endpoint = (rule.rule, rule.endpoint) if rule is not None else (metrics.UNMATCHED, None)
    method, status, error = environ["REQUEST_METHOD"], response.status_code, g.error_code
    if record is not None:
        record(method, route, status, seconds, endpoint, error)
    trace_id, span_id = trace_ids() if trace_ids is not None else NO_TRACE
    access_log.info(
        "request",
        extra={
            "method": method,
            "path": path,
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 2),
            "remote_addr": environ.get("REMOTE_ADDR"),
            "request_id": request_id,
            "user_id": g.user_id,
            "error": error,
            "trace_id": trace_id,
            "span_id": span_id,
        },
    )
    return response
