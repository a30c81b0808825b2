"""docker-compose.yml has what a production start needs (no Docker engine here to run it)."""

import logging
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def api(compose):
    return compose["services"]["api"]


def test_compose_runs_api_postgres_and_redis(compose):
    assert set(compose["services"]) == {"api", "postgres", "redis", "frontend"}
    # The example frontend starts only when asked for (docker compose --profile frontend up).
    profiles = {name: service.get("profiles") for name, service in compose["services"].items()}
    assert profiles == {"api": None, "postgres": None, "redis": None, "frontend": ["frontend"]}


@pytest.fixture(scope="module")
def frontend(compose):
    return compose["services"]["frontend"]


def test_frontend_is_built_from_the_example_app(frontend):
    context = ROOT / frontend["build"]
    assert context == ROOT / "examples" / "nextjs"
    assert (context / "Dockerfile").is_file()
    assert (context / "app" / "api" / "auth" / "backend-token" / "route.ts").is_file()


def test_frontend_signs_with_the_apis_secret(api, frontend):
    # The same interpolation, so both refuse to start without it and can never differ.
    assert frontend["environment"]["BETTER_AUTH_SECRET"] == api["environment"]["BETTER_AUTH_SECRET"]
    assert frontend["environment"]["API_TOKEN_MODE"] == "exchange"


def test_frontend_reaches_the_api_it_waits_for(api, frontend):
    env = frontend["environment"]
    assert env["API_URL"].endswith("localhost:8000}")  # the API's published port, for the browser
    assert "8000:8000" in api["ports"]
    assert frontend["depends_on"]["api"] == {"condition": "service_healthy"}
    # Its Better Auth tables live in a database of their own on the compose PostgreSQL.
    assert env["AUTH_DATABASE_URL"].startswith("postgresql://")
    assert env["AUTH_DATABASE_URL"].endswith("@postgres:5432/ironmind_frontend")
    assert frontend["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert "3000:3000" in frontend["ports"]


def test_api_waits_until_postgres_and_redis_are_healthy(api):
    assert api["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }


@pytest.mark.parametrize(
    ("service", "probe"),
    [("api", "docker/healthcheck.py"), ("postgres", "pg_isready"), ("redis", "redis-cli ping")],
)
def test_every_service_has_a_healthcheck(compose, service, probe):
    test = compose["services"][service]["healthcheck"]["test"]
    assert probe in " ".join(test[1:])


def test_api_healthcheck_probes_health_on_the_served_port():
    source = (ROOT / "docker" / "healthcheck.py").read_text()
    assert "/health" in source and "PORT" in source


def test_postgres_keeps_its_data_in_a_named_volume(compose):
    volume = compose["services"]["postgres"]["volumes"][0]
    name, target = volume.split(":")
    assert target == "/var/lib/postgresql/data"
    assert name in compose["volumes"]


def test_api_reads_dotenv_and_requires_the_secret(api):
    assert api["env_file"] == ".env"
    assert api["environment"]["BETTER_AUTH_SECRET"].startswith("${BETTER_AUTH_SECRET:?")


def test_api_runs_in_production_on_postgres_with_redis_limits(api):
    env = api["environment"]
    assert env["APP_ENV"] == "production"
    assert env["DATABASE_URL"].startswith("postgresql+psycopg://")
    assert "@postgres:5432/" in env["DATABASE_URL"]
    assert env["RATELIMIT_STORAGE_URI"].startswith("redis://redis:6379/")
    assert "REDIS_URL" not in env  # nothing reads it: revocation is in PostgreSQL


def test_api_publishes_port_8000_the_frontend_expects(api):
    assert "8000:8000" in api["ports"]


def test_api_stops_slower_than_gunicorns_graceful_timeout(api):
    grace = int(api["stop_grace_period"].rstrip("s"))
    config = {}
    try:
        exec((ROOT / "gunicorn.conf.py").read_text(), config)  # noqa: S102 (our own file)
    finally:
        logging.captureWarnings(False)
    assert grace > config["graceful_timeout"]
