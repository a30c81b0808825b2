"""One JSON access line per request, and the request id every response and line carries."""

import logging
import re
import time
import uuid

from flask import g, request

REQUEST_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,128}")
access_log = logging.getLogger("ironmind_api.access")


def init_app(app):
    app.before_request(start_request)
    app.after_request(finish_request)


def start_request():
    g.request_started = time.perf_counter()
    supplied = request.headers.get("X-Request-ID", "")
    g.request_id = supplied if REQUEST_ID_PATTERN.fullmatch(supplied) else uuid.uuid4().hex
    g.user_id = None
    g.error_code = None  # set by errors.error_response, so the access line says why


def finish_request(response):
    response.headers["X-Request-ID"] = request_id = g.request_id
    started = g.get("request_started")
    duration_ms = round((time.perf_counter() - started) * 1000, 2) if started else None
    access_log.info(
        "request",
        extra={
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": duration_ms,
            "remote_addr": request.remote_addr,
            "request_id": request_id,
            "user_id": g.get("user_id"),
            "error": g.get("error_code"),
        },
    )
    return response
