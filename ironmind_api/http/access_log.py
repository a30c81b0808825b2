"""One JSON access line per request, and the request id every response and line carries."""

import logging
import re
import time
import uuid

from flask import g, request

from .. import metrics, tracing

REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,128}")
access_log = logging.getLogger("ironmind_api.access")
NO_TRACE = (None, None)


def init_app(app):
    app.before_request(start_request)
    # Decided once per app: with metrics or tracing off, their per-request work is not done.
    record = metrics.record_request if app.config["METRICS_ENABLED"] else None
    trace_ids = tracing.current_ids if app.config["OTEL_TRACES_URL"] else None

    def finish(response):
        return finish_request(response, record, trace_ids)

    app.after_request(finish)


def start_request():
    g.request_started = time.perf_counter()
    supplied = request.headers.get("X-Request-ID", "")
    g.request_id = supplied if REQUEST_ID_PATTERN.fullmatch(supplied) else uuid.uuid4().hex
    g.user_id = None
    g.error_code = None  # set by errors.error_response, so the access line says why


def finish_request(response, record=None, trace_ids=None):
    response.headers["X-Request-ID"] = request_id = g.request_id
    started = g.get("request_started")
    seconds = time.perf_counter() - started if started else None
    rule = request.url_rule
    route = rule.rule if rule is not None else metrics.UNMATCHED
    method, status, error = request.method, response.status_code, g.get("error_code")
    if record is not None and seconds is not None:
        record(method, route, status, seconds, request.endpoint, error)
    trace_id, span_id = trace_ids() if trace_ids is not None else NO_TRACE
    access_log.info(
        "request",
        extra={
            "method": method,
            "path": request.path,
            "route": route,
            "status": status,
            "duration_ms": round(seconds * 1000, 2) if seconds is not None else None,
            "remote_addr": request.remote_addr,
            "request_id": request_id,
            "user_id": g.get("user_id"),
            "error": error,
            "trace_id": trace_id,
            "span_id": span_id,
        },
    )
    return response
