"""Flask-Limiter on the endpoints that take credentials, answered in the contract's shape."""

import math
import time

from flask import current_app, request
from flask_limiter.errors import RateLimitExceeded

from ..errors import error_response
from ..extensions import limiter

# Settings under which Flask-Limiter would have limits of its own for every route.
GLOBAL_LIMIT_SETTINGS = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META")

# Per client address and per endpoint; the limit is read per request, so it is config.
_auth_limit = limiter.limit(lambda: current_app.config["RATELIMIT_AUTH"])


def auth_rate_limit(view):
    """Limit a view that takes credentials to RATELIMIT_AUTH per client address."""
    view = _auth_limit(view)
    view.rate_limited = True
    return view


def unlimited_route():
    """Flask-Limiter's request filter: True (exempt) for a route no limit applies to.

    Without a global limit only views marked by ``auth_rate_limit`` have limits, so every other
    request is spared resolving an empty set of them (some 90 us per request).
    """
    if current_app.extensions["ironmind_global_limits"]:
        return False
    view = current_app.view_functions.get(request.endpoint)
    return not getattr(view, "rate_limited", False)


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


def init_app(app):
    limiter.init_app(app)
    app.extensions["ironmind_global_limits"] = any(
        app.config.get(name) for name in GLOBAL_LIMIT_SETTINGS
    )
    app.register_error_handler(RateLimitExceeded, handle_rate_limited)


limiter.request_filter(unlimited_route)
