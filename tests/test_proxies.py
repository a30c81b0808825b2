"""Forwarded headers count only from the proxies' addresses; the two settings go together."""

import json
import sys

import pytest

from config import ConfigError, TestingConfig
from ironmind_api import create_app
from tests.conftest import run_command

FORGED = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}


@pytest.fixture
def behind_proxy(make_app):
    return make_app(TRUSTED_PROXIES=1, TRUSTED_PROXY_ADDRESSES="10.0.0.0/24, 192.0.2.7")


def remote_addr(log_lines, response):
    request_id = response.headers["X-Request-ID"]
    return next(line["remote_addr"] for line in log_lines() if line.get("request_id") == request_id)


@pytest.mark.parametrize("peer", ["10.0.0.5", "192.0.2.7", "::ffff:10.0.0.5"])
def test_a_request_from_a_proxy_address_gets_the_forwarded_client_and_scheme(
    behind_proxy, peer, log_lines
):
    response = behind_proxy.test_client().get(
        "/health", headers=FORGED, environ_base={"REMOTE_ADDR": peer}
    )
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert remote_addr(log_lines, response) == "203.0.113.9"


@pytest.mark.parametrize("peer", ["10.0.1.5", "192.0.2.8", "127.0.0.1", "unix-socket"])
def test_a_request_from_any_other_peer_keeps_its_own_address_and_scheme(
    behind_proxy, peer, log_lines
):
    response = behind_proxy.test_client().get(
        "/health", headers=FORGED, environ_base={"REMOTE_ADDR": peer}
    )
    assert "Strict-Transport-Security" not in response.headers
    assert remote_addr(log_lines, response) == peer


@pytest.mark.parametrize(
    "settings",
    [{"TRUSTED_PROXIES": 1}, {"TRUSTED_PROXY_ADDRESSES": "10.0.0.2"}],
    ids=["count-without-addresses", "addresses-without-count"],
)
def test_the_proxy_count_and_addresses_are_set_together(settings):
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES .* TRUSTED_PROXY_ADDRESSES"):
        create_app(TestingConfig, SQLALCHEMY_DATABASE_URI="sqlite://", **settings)


@pytest.mark.parametrize("addresses", ["nginx", "10.0.0.5/24", "10.0.0.300"])
def test_an_address_that_is_not_an_ip_or_network_is_refused_by_name(addresses):
    with pytest.raises(ConfigError, match="TRUSTED_PROXY_ADDRESSES must be IP addresses"):
        create_app(
            TestingConfig, SQLALCHEMY_DATABASE_URI="sqlite://", TRUSTED_PROXIES=1,
            TRUSTED_PROXY_ADDRESSES=addresses,
        )


def gunicorn_settings(**env):
    """gunicorn.conf.py's forwarded_allow_ips and secure_scheme_headers, read in a fresh
    process (config.py reads the environment once, at import) with ``env``."""
    env = {"TRUSTED_PROXIES": "", "TRUSTED_PROXY_ADDRESSES": "", **env}
    script = (
        "import json, runpy; s = runpy.run_path('gunicorn.conf.py'); "
        "print(json.dumps([s['forwarded_allow_ips'], s['secure_scheme_headers']]))"
    )
    result = run_command(sys.executable, "-c", script, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_gunicorn_trusts_no_peer_by_default():
    """gunicorn's own default, 127.0.0.1, believed X-Forwarded-Proto from any local client."""
    assert gunicorn_settings() == ["", {"X-FORWARDED-PROTO": "https"}]


def test_gunicorn_trusts_the_apis_proxy_addresses():
    allowed, _ = gunicorn_settings(
        TRUSTED_PROXIES="1", TRUSTED_PROXY_ADDRESSES="172.16.18.0/24, 10.0.0.7"
    )
    assert allowed == "172.16.18.0/24,10.0.0.7/32"


def test_gunicorn_trusts_no_one_when_the_addresses_do_not_parse():
    # gunicorn's on_starting then refuses to start, naming the variable (test_startup_errors).
    allowed, _ = gunicorn_settings(TRUSTED_PROXIES="1", TRUSTED_PROXY_ADDRESSES="nginx")
    assert allowed == ""
