"""GET /metrics: Prometheus' text format, what each counter counts, and who may read it."""

import sys

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from config import ConfigError
from ironmind_api.auth import maintenance, revocation_cache
from ironmind_api.auth.models import User
from ironmind_api.db import db as _db
from tests import services
from tests.conftest import bearer, mint, require_service, run_command
from tests.reliability.harness import migrate
from tests.security.jwks import EC_KEY, serving_jwks
from tests.services import postgres_problem, postgres_url, scratch_database
from tests.test_revocation_cache import SYNC_BOUND, wait_until

PASSWORD = "correct horse battery"


def scrape(client, **environ):
    """{(sample name, sorted labels): value} of one GET /metrics, which must answer 200."""
    response = client.get("/metrics", environ_base=environ)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.content_type.startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def delta(before, after, name, **labels):
    return value(after, name, **labels) - value(before, name, **labels)


def test_requests_are_counted_by_route_template_and_status(client, auth_headers):
    before = scrape(client)
    created = client.post("/api/tasks", json={"title": "Count me"}, headers=auth_headers)
    client.get(f"/api/tasks/{created.get_json()['id']}", headers=auth_headers)
    client.get("/api/tasks/no-such-task", headers=auth_headers)
    client.get("/no/such/path")
    after = scrape(client)

    route = "/api/tasks/<task_id>"
    assert delta(before, after, "ironmind_http_requests_total",
                 method="POST", route="/api/tasks", status="201") == 1
    assert delta(before, after, "ironmind_http_requests_total",
                 method="GET", route=route, status="200") == 1
    assert delta(before, after, "ironmind_http_requests_total",
                 method="GET", route=route, status="404") == 1
    assert delta(before, after, "ironmind_http_requests_total",
                 method="GET", route="unmatched", status="404") == 1
    # No raw path ever becomes a label value.
    assert not any("no-such-task" in str(labels) for _, labels in after)
    assert delta(before, after, "ironmind_http_request_duration_seconds_count",
                 method="GET", route=route) == 2
    assert delta(before, after, "ironmind_http_request_duration_seconds_bucket",
                 method="GET", route=route, le="5.0") == 2
    # The scrape before this one is counted too: /metrics is a request like any other.
    assert delta(before, after, "ironmind_http_requests_total",
                 method="GET", route="/metrics", status="200") == 1


def test_an_unknown_method_is_counted_as_other(client):
    before = scrape(client)
    assert client.open("/health", method="BREW").status_code == 405
    after = scrape(client)
    assert delta(before, after, "ironmind_http_requests_total",
                 method="other", route="unmatched", status="405") == 1


def test_refused_tokens_are_counted_by_error_code(client, user, signin):
    before = scrape(client)
    client.get("/api/protected")
    client.get("/api/protected", headers=bearer("not-a-jwt"))
    client.get("/api/protected", headers=bearer(mint(exp=1_000_000)))
    pair = signin()
    client.post("/api/auth/signout", headers=bearer(pair["token"]), json={})
    client.get("/api/protected", headers=bearer(pair["token"]))
    client.post("/api/auth/signin", json={"email": "ada@example.com", "password": "wrong one"})
    after = scrape(client)

    for code in ("missing_token", "invalid_token", "token_expired", "token_revoked"):
        assert delta(before, after, "ironmind_tokens_refused_total", code=code) == 1, code
    # Wrong credentials are a refused sign-in, not a refused token.
    assert ("ironmind_tokens_refused_total", (("code", "invalid_credentials"),)) not in after


def test_signins_are_counted_by_outcome(make_app, db, signup):
    signup()
    limited = make_app(RATELIMIT_AUTH="2 per minute")
    client = limited.test_client()
    before = scrape(client)
    credentials = {"email": "ada@example.com", "password": PASSWORD}
    assert client.post("/api/auth/signin", json=credentials).status_code == 200
    wrong = {**credentials, "password": "not the password"}
    assert client.post("/api/auth/signin", json=wrong).status_code == 401
    assert client.post("/api/auth/signin", json=credentials).status_code == 429
    after = scrape(client)

    assert delta(before, after, "ironmind_signins_total", outcome="success") == 1
    assert delta(before, after, "ironmind_signins_total", outcome="invalid_credentials") == 1
    assert delta(before, after, "ironmind_signins_total", outcome="rate_limited") == 1


def test_a_disabled_accounts_signin_is_a_signin_outcome_not_a_refused_token(client, user, app):
    with app.app_context():
        maintenance.disable(_db.session.get(User, user["id"]))
        _db.session.commit()
    before = scrape(client)
    response = client.post("/api/auth/signin",
                           json={"email": "ada@example.com", "password": PASSWORD})
    assert response.get_json()["error"] == "account_disabled"
    after = scrape(client)
    assert delta(before, after, "ironmind_signins_total", outcome="account_disabled") == 1
    assert delta(before, after, "ironmind_tokens_refused_total", code="account_disabled") == 0


def test_a_token_the_database_could_not_check_is_refused_as_unavailable(make_app, db, client):
    """The database unreachable: a request with a token is a refused token (503), one
    without is not; the alert on unavailable databases counts on that."""
    port = services.free_port()  # bindable, so nothing listens there
    down = make_app(SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://postgres@127.0.0.1:{port}/x",
                    REVOCATION_LISTEN=False).test_client()
    before = scrape(down)
    with_token = down.get("/api/protected", headers=bearer(mint()))
    assert with_token.get_json()["error"] == "service_unavailable"
    without = down.post("/api/auth/signin", json={"email": "a@example.com", "password": "x" * 9})
    assert without.get_json()["error"] == "service_unavailable"
    after = scrape(down)
    assert delta(before, after, "ironmind_tokens_refused_total", code="service_unavailable") == 1
    assert delta(before, after, "ironmind_signins_total", outcome="service_unavailable") == 1


def test_refresh_reuse_is_counted_once_per_detection(client, user, signin):
    first = signin()["refresh_token"]
    second = client.post("/api/auth/refresh", json={"refresh_token": first}).get_json()
    client.post("/api/auth/refresh", json={"refresh_token": second["refresh_token"]})
    before = scrape(client)
    # Two rotations ago: outside the grace, which only covers the token replaced last.
    reused = client.post("/api/auth/refresh", json={"refresh_token": first})
    assert reused.get_json()["error"] == "token_revoked"
    again = client.post("/api/auth/refresh", json={"refresh_token": first})
    assert again.get_json()["error"] == "token_revoked"  # the session is already revoked
    after = scrape(client)

    assert delta(before, after, "ironmind_refresh_reuse_detected_total") == 1
    assert delta(before, after, "ironmind_tokens_refused_total", code="token_revoked") == 2


@pytest.fixture(scope="module")
def jwks_server():
    with serving_jwks() as server:
        yield server


def test_jwks_fetches_are_counted_ok_and_failed(make_app, app, db, jwks_server):
    base = f"http://127.0.0.1:{jwks_server.server_port}"
    good = make_app(BETTER_AUTH_URL=base).test_client()
    before = scrape(good)
    token = mint(sub="ba-user", algorithm="ES256", headers={"kid": "ec-1"}, secret=EC_KEY,
                 iss=base, aud=base)
    assert good.get("/api/protected", headers=bearer(token)).status_code == 200
    middle = scrape(good)
    assert delta(before, middle, "ironmind_jwks_fetches_total", outcome="ok") == 1
    assert delta(before, middle, "ironmind_jwks_fetches_total", outcome="failed") == 0

    broken = make_app(BETTER_AUTH_URL=base, BETTER_AUTH_JWKS_URL=f"{base}/no/jwks").test_client()
    response = broken.get("/api/protected", headers=bearer(token))
    assert response.status_code == 503
    after = scrape(broken)
    assert delta(middle, after, "ironmind_jwks_fetches_total", outcome="failed") == 1
    assert delta(middle, after, "ironmind_tokens_refused_total", code="service_unavailable") == 1


def test_app_info_names_the_version(client, app):
    samples = scrape(client)
    assert value(samples, "ironmind_app_info", version=app.config["API_VERSION"]) == 1


def test_pool_gauges_show_connections_checked_out_at_scrape_time(client, app):
    assert value(scrape(client), "ironmind_db_pool_in_use") == 0
    with app.app_context():
        connection = _db.engine.connect()
        try:
            held = scrape(client)
        finally:
            connection.close()
    assert value(held, "ironmind_db_pool_in_use") == 1
    assert value(held, "ironmind_db_pool_overflow") <= 0
    assert value(scrape(client), "ironmind_db_pool_in_use") == 0


def test_revocation_copy_gauges_are_exposed(client):
    samples = scrape(client)
    # On SQLite there is no copy: not synced, and never a lag.
    assert ("ironmind_revocation_copy_synced", ()) in samples
    assert ("ironmind_revocation_copy_lag_seconds", ()) in samples
    assert ("ironmind_revocation_copy_reconnects_total", ()) in samples


NOT_FOUND = {"error": "not_found", "message": "The requested resource was not found."}


def assert_like_an_unknown_path(response):
    assert response.status_code == 404
    body = response.get_json()
    assert {k: body[k] for k in NOT_FOUND} == NOT_FOUND
    assert body["request_id"] == response.headers["X-Request-ID"]


@pytest.mark.parametrize("address", ["10.0.0.7", "192.0.2.1", "::2", "203.0.113.9"])
def test_other_addresses_get_the_404_of_an_unknown_path(client, address):
    assert_like_an_unknown_path(client.get("/metrics", environ_base={"REMOTE_ADDR": address}))
    assert_like_an_unknown_path(client.get("/no/such/path"))


@pytest.mark.parametrize("address", ["127.0.0.1", "127.8.9.10", "::1"])
def test_loopback_is_allowed_by_default(client, address):
    assert value(scrape(client, REMOTE_ADDR=address), "ironmind_app_info",
                 version="1.0.0") == 1


def test_allowed_networks_are_configurable(make_app, db):
    client = make_app(METRICS_ALLOWED_NETWORKS="10.0.5.0/24, 2001:db8::/32").test_client()
    scrape(client, REMOTE_ADDR="10.0.5.9")
    scrape(client, REMOTE_ADDR="2001:db8::1")
    assert_like_an_unknown_path(client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}))


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(make_app, db):
    direct = make_app().test_client()
    spoofed = direct.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"},
                         environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert_like_an_unknown_path(spoofed)

    behind = make_app(TRUSTED_PROXIES=1, TRUSTED_PROXY_ADDRESSES="10.0.0.2").test_client()
    # The proxy itself is not loopback; the client it names is.
    scrape_through = behind.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"},
                                environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert scrape_through.status_code == 200
    outside = behind.get("/metrics", headers={"X-Forwarded-For": "198.51.100.4"},
                         environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert_like_an_unknown_path(outside)


def test_metrics_can_be_switched_off(make_app, db, client):
    off = make_app(METRICS_ENABLED=False).test_client()
    before = scrape(client)
    assert off.get("/health").status_code == 200
    assert_like_an_unknown_path(off.get("/metrics"))
    after = scrape(client)
    assert delta(before, after, "ironmind_http_requests_total",
                 method="GET", route="/health", status="200") == 0


def test_access_lines_name_the_route_template(client, auth_headers, log_lines):
    client.get("/api/tasks/no-such-task", headers=auth_headers)
    client.get("/no/such/path")
    lines = [line for line in log_lines() if line.get("message") == "request"]
    assert [(line["path"], line["route"]) for line in lines[-2:]] == [
        ("/api/tasks/no-such-task", "/api/tasks/<task_id>"),
        ("/no/such/path", "unmatched"),
    ]
    # Tracing is off in the suite's app: the keys are there, null.
    assert all(line["trace_id"] is None and line["span_id"] is None for line in lines)


@pytest.mark.parametrize("value", ["everyone", "10.0.0.0/33", "127.0.0.1/8"])
def test_a_bad_allowed_network_is_refused_at_start(make_app, value):
    with pytest.raises(ConfigError, match="METRICS_ALLOWED_NETWORKS"):
        make_app(METRICS_ALLOWED_NETWORKS=value)


def test_a_command_leaves_no_per_worker_gauges_behind(tmp_path):
    """A `flask` command run where PROMETHEUS_MULTIPROC_DIR is set (a container's environment)
    must not leave a pid in the live gauges that gunicorn's workers report."""
    directory = tmp_path / "metrics"  # not there yet: the app makes it
    result = run_command(sys.executable, "-m", "flask", "--app", "wsgi", "routes",
                         PROMETHEUS_MULTIPROC_DIR=str(directory),
                         DATABASE_URL=f"sqlite:///{tmp_path}/cli.db")
    assert result.returncode == 0, result.stderr
    assert "/metrics" in result.stdout
    written = sorted(path.name for path in directory.iterdir())
    assert any(name.startswith("counter_") for name in written), written  # multiprocess mode
    assert not any(name.startswith("gauge_liveall_") for name in written), written


@pytest.fixture(scope="module")
def pg_app(make_app):
    """An app on a migrated PostgreSQL database of its own, so it keeps a revocation copy."""
    url = postgres_url()
    require_service(postgres_problem(url))
    with scratch_database(url, "ironmind_metrics") as database:
        migrate(database)
        app = make_app(SQLALCHEMY_DATABASE_URI=database)
        try:
            yield app
        finally:
            revocation_cache.stop(database)
            with app.app_context():
                _db.engine.dispose()


def test_revocation_copy_gauges_follow_a_lost_listener(pg_app):
    """PostgreSQL: synced and fresh; the listener's connection killed; counted, then synced."""
    client = pg_app.test_client()
    pg = pg_app.extensions["revocation_cache"]
    assert wait_until(lambda: pg.synced, SYNC_BOUND)
    before = scrape(client)
    assert value(before, "ironmind_revocation_copy_synced") == 1
    assert value(before, "ironmind_revocation_copy_lag_seconds") < revocation_cache.STALE_AFTER
    with pg_app.app_context(), _db.engine.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pg.listener_pid})
    assert wait_until(lambda: not pg.synced, 2)
    assert wait_until(lambda: pg.synced, SYNC_BOUND)
    after = scrape(client)
    assert delta(before, after, "ironmind_revocation_copy_reconnects_total") >= 1
    assert value(after, "ironmind_revocation_copy_synced") == 1
    assert value(after, "ironmind_revocation_copy_lag_seconds") < revocation_cache.STALE_AFTER
