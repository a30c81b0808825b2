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


def test_compose_runs_nginx_api_pgbouncer_postgres_and_redis(compose):
    # The example frontend and the observability stack start only when asked for
    # (docker compose --profile frontend / --profile observability up).
    profiles = {name: service.get("profiles") for name, service in compose["services"].items()}
    observability = ["observability"]
    assert profiles == {
        "nginx": None, "api": None, "migrate": None, "pgbouncer": None, "postgres": None,
        "redis": None, "frontend": ["frontend"], "prometheus": observability,
        "grafana": observability, "otel-collector": observability, "jaeger": observability,
    }


def test_the_api_runs_as_replicas_two_by_default(api):
    assert api["deploy"]["replicas"] == "${API_REPLICAS:-2}"
    # A fixed container name or a published port would allow one replica only.
    assert "container_name" not in api and "ports" not in api


def test_the_schema_is_migrated_once_before_any_replica_starts(compose, api):
    migrate = compose["services"]["migrate"]
    assert migrate["entrypoint"] == ["flask", "--app", "wsgi", "db", "upgrade"]
    assert migrate["image"] == api["image"]
    assert "@postgres:5432/" in migrate["environment"]["DATABASE_URL"]  # DDL: not via PgBouncer
    assert migrate["restart"] == "no"
    assert api["entrypoint"] == ["gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]


@pytest.fixture(scope="module")
def nginx(compose):
    return compose["services"]["nginx"]


def published(service):
    """The host ports a service publishes ("8000:8000" -> "8000")."""
    return [str(mapping).rsplit(":", 1)[0] for mapping in service.get("ports", [])]


def test_only_nginx_publishes_a_port_of_the_api(compose, nginx):
    """gunicorn is reachable through the proxy only (docs/DEPLOYMENT.md)."""
    always_on = {n: s for n, s in compose["services"].items() if not s.get("profiles")}
    assert {name: published(s) for name, s in always_on.items() if published(s)} == {
        "nginx": ["8000"]
    }
    assert "ports" not in compose["services"]["api"]
    assert "expose" not in compose["services"]["api"]


def test_nginx_is_the_official_image_at_a_pinned_version(nginx):
    name, _, tag = nginx["image"].partition(":")
    assert name == "nginx"
    assert tag[:1].isdigit() and "latest" not in tag


def test_nginx_renders_the_repositorys_template_in_front_of_gunicorn(api, nginx):
    source, target, mode = nginx["volumes"][0].split(":")
    assert (ROOT / source).resolve() == ROOT / "docker" / "nginx" / "default.conf.template"
    # The official image renders /etc/nginx/templates/*.template into /etc/nginx/conf.d/.
    assert (target, mode) == ("/etc/nginx/templates/default.conf.template", "ro")
    env = nginx["environment"]
    assert env["API_UPSTREAM"] == f"api:{api['environment']['PORT']}"
    # The service name, looked up again by Docker's embedded DNS: every replica, as they change.
    assert env["NGINX_RESOLVER"] == "127.0.0.11"
    assert nginx["ports"] == [f"8000:{env['NGINX_PORT']}"]
    # The API's body limit, from the same .env value and default.
    assert env["MAX_CONTENT_LENGTH"] == "${MAX_CONTENT_LENGTH:-1048576}"
    assert nginx["depends_on"] == {"api": {"condition": "service_healthy"}}


def test_the_api_believes_forwarded_headers_from_nginxs_network_only(compose, api, nginx):
    subnet = compose["networks"]["proxy"]["ipam"]["config"][0]["subnet"]
    assert nginx["networks"] == ["proxy"]
    assert sorted(api["networks"]) == ["default", "observability", "proxy"]
    # Nothing else joins the proxy network: every peer there is nginx (or the API itself).
    others = [n for n, s in compose["services"].items() if n not in ("api", "nginx")]
    assert all("proxy" not in compose["services"][n].get("networks", []) for n in others)
    assert api["environment"]["TRUSTED_PROXIES"] == "1"
    assert api["environment"]["TRUSTED_PROXY_ADDRESSES"] == subnet


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


def test_frontend_reaches_the_api_it_waits_for(nginx, frontend):
    env = frontend["environment"]
    assert env["API_URL"].endswith("localhost:8000}")  # the API's published port, for the browser
    assert "8000:8000" in nginx["ports"]
    assert frontend["depends_on"]["nginx"] == {"condition": "service_healthy"}
    # Its Better Auth tables live in a database of their own on the compose PostgreSQL.
    assert env["AUTH_DATABASE_URL"].startswith("postgresql://")
    assert env["AUTH_DATABASE_URL"].endswith("@postgres:5432/ironmind_frontend")
    assert frontend["depends_on"]["postgres"] == {"condition": "service_healthy"}
    assert "3000:3000" in frontend["ports"]


def test_api_waits_for_the_migration_and_until_pgbouncer_and_redis_are_healthy(compose, api):
    assert api["depends_on"] == {
        "migrate": {"condition": "service_completed_successfully"},
        "pgbouncer": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert compose["services"]["pgbouncer"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"}
    }


@pytest.mark.parametrize(
    ("service", "probe"),
    [
        ("nginx", "http://127.0.0.1:8000/health"),
        ("api", "docker/healthcheck.py"),
        ("pgbouncer", "/dev/tcp/127.0.0.1/6432"),
        ("postgres", "pg_isready"),
        ("redis", "redis-cli ping"),
    ],
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
    # Queries through PgBouncer in transaction pooling; LISTEN on a direct session.
    assert "@pgbouncer:6432/" in env["DATABASE_URL"]
    assert env["DATABASE_TRANSACTION_POOLING"] == "true"
    assert "@postgres:5432/" in env["DATABASE_LISTEN_URL"]
    ini = (ROOT / "docker" / "pgbouncer" / "pgbouncer.ini").read_text()
    assert "pool_mode = transaction" in ini
    assert "connect_query='SET statement_timeout = 2000'" in ini
    assert env["RATELIMIT_STORAGE_URI"].startswith("redis://redis:6379/")
    assert "REDIS_URL" not in env  # nothing reads it: revocation is in PostgreSQL


def test_nginx_publishes_port_8000_the_frontend_expects(nginx):
    assert "8000:8000" in nginx["ports"]


def test_api_stops_slower_than_gunicorns_graceful_timeout(api):
    grace = int(api["stop_grace_period"].rstrip("s"))
    config = {}
    try:
        exec((ROOT / "gunicorn.conf.py").read_text(), config)  # noqa: S102 (our own file)
    finally:
        logging.captureWarnings(False)
    assert grace > config["graceful_timeout"]
