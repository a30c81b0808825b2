"""RATELIMIT_AUTH on the endpoints that take credentials, counted by the `limits` library."""

import logging
import math
import time
from functools import wraps

from flask import current_app, request
from limits import parse
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

from ..errors import ApiError, ServiceUnavailable

log = logging.getLogger(__name__)

STRATEGIES = {"fixed-window": FixedWindowRateLimiter, "moving-window": MovingWindowRateLimiter}


class AuthLimit:
    """One app's limit, parsed once, and the limiter that counts it in RATELIMIT_STORAGE_URI."""

    def __init__(self, config):
        self.item = parse(config["RATELIMIT_AUTH"])
        # Wrapped, every storage failure is one exception class: StorageError.
        storage = storage_from_string(config["RATELIMIT_STORAGE_URI"], wrap_exceptions=True)
        self.limiter = STRATEGIES[config["RATELIMIT_STRATEGY"]](storage)

    def hit(self, *identifiers):
        """Count one call; raise the contract's 429, or a 503 when the counts cannot be read."""
        try:
            if self.limiter.hit(self.item, *identifiers):
                return
            reset_time = self.limiter.get_window_stats(self.item, *identifiers).reset_time
        except StorageError as error:
            # Fail closed: no count, no call. The class only: the message may name the host.
            log.warning("rate-limit storage unavailable: %s", type(error.storage_error).__name__)
            raise ServiceUnavailable(
                message="Request limits cannot be checked right now; try again shortly.",
                headers={"Retry-After": "1"},
            ) from None
        retry_after = max(1, math.ceil(reset_time - time.time()))
        raise ApiError(
            429,
            "rate_limited",
            f"Too many requests; try again in {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
        )


def auth_rate_limit(view):
    """Limit a view that takes credentials to RATELIMIT_AUTH per client address."""

    @wraps(view)
    def limited(*args, **kwargs):
        # In Redis: LIMITS:LIMITER/<address>/<endpoint>/<amount>/<multiples>/<granularity>. No
        # address (a unix socket) counts as 127.0.0.1's, as Flask-Limiter's get_remote_address.
        address = request.remote_addr or "127.0.0.1"
        current_app.extensions["rate_limits"].hit(address, request.endpoint)
        return view(*args, **kwargs)

    return limited


def init_app(app):
    app.extensions["rate_limits"] = AuthLimit(app.config)
