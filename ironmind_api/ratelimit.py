"""Flask-Limiter on the endpoints that take credentials, answered in the contract's shape."""

import functools
import math
import time

from flask import current_app
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded

from .errors import error_response
from .extensions import limiter

# Per client address and per endpoint; the limit is read per request, so it is config.
auth_rate_limit = limiter.limit(lambda: current_app.config["RATELIMIT_AUTH"])


def handle_rate_limited(exc):
    retry_after = _seconds_until_reset()
    return error_response(
        429,
        "rate_limited",
        f"Too many requests; try again in {retry_after} seconds.",
        headers={"Retry-After": str(retry_after)},
    )


def _seconds_until_reset():
    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, math.ceil(current.reset_at - time.time()))


# Settings under which Flask-Limiter's per-request hook would have limits of its own to apply.
GLOBAL_LIMIT_SETTINGS = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META")


def configure_rate_limits(app):
    limiter.init_app(app)
    app.register_error_handler(RateLimitExceeded, handle_rate_limited)
    if not any(app.config.get(name) for name in GLOBAL_LIMIT_SETTINGS):
        # Only decorated views are limited, and their decorator checks the limit itself; the
        # before_request hook would resolve an empty set of limits on every other request.
        app.before_request_funcs[None].remove(limiter._check_request_limit)
        if not limiter._headers_enabled:
            # Its after_request hook only adds X-RateLimit-* headers (off) and applies
            # deduct_when limits (the API's one decorated limit has none), and its teardown
            # resets a per-request context that is dropped with the request anyway: on every
            # request they only created that context (~20 us). These are Flask-Limiter's
            # private names (pinned in requirements.txt); tests/test_rate_limits.py fails
            # loudly when they are not found.
            after, teardown = limiter_response_hooks(app)
            app.after_request_funcs[None].remove(after)
            app.teardown_request_funcs[None].remove(teardown)


def limiter_response_hooks(app):
    """Flask-Limiter's after_request and teardown_request hooks on ``app``."""
    inject = Limiter._Limiter__inject_headers
    release = Limiter._Limiter__release_context
    after = next(
        f
        for f in app.after_request_funcs[None]
        if isinstance(f, functools.partial) and f.func is inject
    )
    teardown = next(
        f for f in app.teardown_request_funcs[None] if getattr(f, "__func__", None) is release
    )
    return after, teardown
