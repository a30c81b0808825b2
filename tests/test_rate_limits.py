"""Rate limits on the endpoints that take credentials, per client address."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import redis

from ironmind_api.http import ratelimit
from tests.conftest import bearer, mint, require_service
from tests.services import free_port, redis_problem

ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = "redis://127.0.0.1:6379/4"
# Bindable, so nothing listens there; the password must never reach a log line.
UNREACHABLE_REDIS = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
AUTH_ENDPOINTS = {
    "/api/auth/signup": {"email": "x@example.com", "password": "short"},
    "/api/auth/signin": {"email": "nobody@example.com", "password": "wrong password"},
    "/api/auth/refresh": {"refresh_token": "not-a-token"},
}


@pytest.fixture
def limited(make_app, db):
    """Build apps with a low limit; each app counts in a storage of its own (memory:// here)."""
    return lambda **overrides: make_app(RATELIMIT_AUTH="2 per minute", **overrides)


def post(client, path, **environ):
    return client.post(path, json=AUTH_ENDPOINTS[path], environ_base=environ)


def assert_rate_limited(response):
    assert response.status_code == 429
    body = response.get_json()
    assert body["error"] == "rate_limited"
    assert body["request_id"] == response.headers["X-Request-ID"]
    # The window is a minute; rounding up may add the second in progress.
    assert 1 <= int(response.headers["Retry-After"]) <= 61


@pytest.mark.parametrize("path", AUTH_ENDPOINTS)
def test_auth_endpoints_answer_429_with_retry_after_over_the_limit(limited, path):
    client = limited().test_client()
    first, second = post(client, path), post(client, path)
    assert first.status_code != 429 and second.status_code != 429
    assert_rate_limited(post(client, path))


def test_limit_is_per_client_address(limited):
    client = limited().test_client()
    for _ in range(2):
        post(client, "/api/auth/signin", REMOTE_ADDR="10.0.0.1")
    assert_rate_limited(post(client, "/api/auth/signin", REMOTE_ADDR="10.0.0.1"))
    assert post(client, "/api/auth/signin", REMOTE_ADDR="10.0.0.2").status_code == 401


def test_forwarded_for_is_ignored_without_trusted_proxies(limited):
    client = limited().test_client()
    for n in range(2):
        client.post(
            "/api/auth/signin",
            json=AUTH_ENDPOINTS["/api/auth/signin"],
            headers={"X-Forwarded-For": f"203.0.113.{n}"},
        )
    response = client.post(
        "/api/auth/signin",
        json=AUTH_ENDPOINTS["/api/auth/signin"],
        headers={"X-Forwarded-For": "203.0.113.99"},
    )
    assert_rate_limited(response)


def test_forwarded_for_names_the_client_behind_a_trusted_proxy(limited, log_lines):
    client = limited(TRUSTED_PROXIES=1, TRUSTED_PROXY_ADDRESSES="127.0.0.1").test_client()

    def signin_from(address):
        return client.post(
            "/api/auth/signin",
            json=AUTH_ENDPOINTS["/api/auth/signin"],
            headers={"X-Forwarded-For": f"198.51.100.7, {address}"},
        )

    signin_from("203.0.113.1")
    signin_from("203.0.113.1")
    assert_rate_limited(signin_from("203.0.113.1"))
    # Only the last hop, added by the one trusted proxy, counts; a spoofed first hop does not.
    assert signin_from("203.0.113.2").status_code == 401


def test_other_endpoints_are_not_limited(limited):
    client = limited().test_client()
    for _ in range(5):
        assert client.get("/health").status_code == 200


@pytest.mark.parametrize("strategy", ["fixed-window", "moving-window"])
def test_redis_storage_is_shared_between_processes(limited, strategy):
    require_service(redis_problem(REDIS_URL))
    store = redis.Redis.from_url(REDIS_URL)
    address = f"10.{uuid.uuid4().int % 250}.0.9"
    settings = {"RATELIMIT_STORAGE_URI": REDIS_URL, "RATELIMIT_STRATEGY": strategy}
    try:
        one = limited(**settings).test_client()
        post(one, "/api/auth/signin", REMOTE_ADDR=address)
        post(one, "/api/auth/signin", REMOTE_ADDR=address)
        # A second app on the same Redis sees the same count, as another worker would.
        two = limited(**settings).test_client()
        assert_rate_limited(post(two, "/api/auth/signin", REMOTE_ADDR=address))
        assert any(address in key.decode() for key in store.scan_iter("LIMITS:*"))
    finally:
        for key in store.scan_iter(f"LIMITS:*{address}*"):
            store.delete(key)


def test_testing_config_is_not_limited_by_accident(client):
    for _ in range(15):
        assert post(client, "/api/auth/signin").status_code == 401


@pytest.mark.parametrize("path", AUTH_ENDPOINTS)
def test_storage_down_refuses_the_call_with_503_and_one_warning(limited, log_lines, path):
    client = limited(RATELIMIT_STORAGE_URI=UNREACHABLE_REDIS).test_client()

    response = post(client, path)

    assert response.status_code == 503
    assert response.get_json()["error"] == "service_unavailable"
    assert response.headers["Retry-After"] == "1"
    (line,) = [line for line in log_lines() if line["level"] != "INFO"]
    assert line["level"] == "WARNING"
    assert line["message"] == "rate-limit storage unavailable: ConnectionError"
    assert "hunter2" not in str(log_lines()) and "Traceback" not in str(log_lines())


def test_routes_without_a_limit_never_reach_the_storage(limited):
    # The storage is down: only a route that asked it could notice.
    client = limited(RATELIMIT_STORAGE_URI=UNREACHABLE_REDIS).test_client()
    token = bearer(mint())
    assert client.get("/health").status_code == 200
    assert client.get("/api/protected", headers=token).status_code == 200
    assert post(client, "/api/auth/signin").status_code == 503


def test_rate_limiting_adds_no_request_hook(limited):
    app = limited()
    hooks = [
        func
        for registry in (app.before_request_funcs, app.after_request_funcs,
                         app.teardown_request_funcs, app.url_value_preprocessors)
        for chain in registry.values()
        for func in chain
    ] + app.teardown_appcontext_funcs
    modules = {getattr(getattr(func, "func", func), "__module__", None) or "" for func in hooks}
    # The hooks were found: the request lifecycle's and the session teardown are among them.
    assert {"ironmind_api.http.lifecycle", "ironmind_api.db"} <= modules
    assert ratelimit.__name__ not in modules
    assert not [name for name in modules if name.startswith(("limits", "flask_limiter"))]
    assert "flask_limiter" not in sys.modules


def test_routes_without_a_limit_are_never_limited(limited):
    client = limited().test_client()
    assert {client.get("/health").status_code for _ in range(5)} == {200}


def test_development_allows_rerunning_the_postman_collection_production_keeps_10(tmp_path):
    # Class attributes are read from the environment at import: ask a fresh interpreter with
    # RATELIMIT_AUTH empty, as .env.example leaves it (a set variable also wins over any .env).
    env = {k: v for k, v in os.environ.items() if not k.startswith("RATELIMIT")}
    env["RATELIMIT_AUTH"] = ""
    env["PYTHONPATH"] = str(ROOT)
    code = (
        "from config import DevelopmentConfig, ProductionConfig; "
        "print(DevelopmentConfig.RATELIMIT_AUTH); print(ProductionConfig.RATELIMIT_AUTH)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True,
        check=True,
    ).stdout.splitlines()
    assert out == ["100 per minute", "10 per minute"]


@pytest.mark.parametrize("strategy", ["fixed-window", "moving-window"])
def test_the_signin_limit_answers_429_with_retry_after(limited, strategy):
    client = limited(RATELIMIT_STRATEGY=strategy).test_client()
    statuses = [post(client, "/api/auth/signin").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]
    assert_rate_limited(post(client, "/api/auth/signin"))

