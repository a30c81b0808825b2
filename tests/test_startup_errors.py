"""A setting the app refuses ends every entry point with one `error: …` line, never a traceback."""

import pytest

from tests.conftest import run_command
from tests.services import free_port

CLOSED_PORT = free_port()  # bindable, so nothing listens there (and nothing here gets to bind)
WEAK_SECRET = (
    "error: BETTER_AUTH_SECRET must be set to a value of at least 32 characters (not the "
    "development default) when APP_ENV=production; generate one with: "
    'python -c "import secrets; print(secrets.token_urlsafe(48))"'
)
GUNICORN = ("gunicorn", "-c", "gunicorn.conf.py", "wsgi:app")
FLASK_RUN = ("flask", "--app", "wsgi", "run", "--port", str(CLOSED_PORT))
DB_UPGRADE = ("flask", "--app", "wsgi", "db", "upgrade")


def assert_one_error_line(result, expected):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.strip().splitlines() == [expected]


@pytest.mark.parametrize("secret", ["too-short", "  padded-but-short  " + " " * 20])
def test_production_with_a_weak_secret_stops_flask_run(tmp_path, secret):
    env = {"APP_ENV": "production", "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite"}

    result = run_command(*FLASK_RUN, BETTER_AUTH_SECRET=secret, **env)

    assert_one_error_line(result, WEAK_SECRET)


@pytest.mark.parametrize("command", [FLASK_RUN, DB_UPGRADE, ("flask", "--app", "wsgi", "routes")])
def test_production_without_a_secret_stops_every_flask_command(tmp_path, command):
    env = {"APP_ENV": "production", "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite"}

    assert_one_error_line(run_command(*command, **env), WEAK_SECRET)


def test_production_without_a_secret_stops_gunicorn_once(tmp_path):
    result = run_command(
        *GUNICORN,
        APP_ENV="production",
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite",
        GUNICORN_BIND=f"127.0.0.1:{CLOSED_PORT}",
        GUNICORN_WORKERS="2",
    )

    assert_one_error_line(result, WEAK_SECRET)


def test_the_container_entrypoint_stops_before_serving(tmp_path):
    result = run_command(
        "sh",
        "docker/entrypoint.sh",
        APP_ENV="production",
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite",
        GUNICORN_BIND=f"127.0.0.1:{CLOSED_PORT}",
    )

    assert_one_error_line(result, WEAK_SECRET)


@pytest.mark.parametrize(
    "variable, value, expected",
    [
        ("ACCESS_TOKEN_TTL", "15m", "error: ACCESS_TOKEN_TTL must be a whole number; got '15m'."),
        ("JWKS_MAX_AGE", "soon", "error: JWKS_MAX_AGE must be a number; got 'soon'."),
        (
            "APP_ENV",
            "staging",
            "error: APP_ENV must be one of development, testing, production; got 'staging'.",
        ),
        (
            "DATABASE_URL",
            "postgres//user:hunter2@db/x",
            "error: DATABASE_URL must be a SQLAlchemy database URL, such as "
            "postgresql+psycopg://user:password@host:5432/name or sqlite:///ironmind.db.",
        ),
        (
            "TRUSTED_PROXY_ADDRESSES",
            "nginx",
            "error: TRUSTED_PROXY_ADDRESSES must be IP addresses or networks, comma-separated "
            "(such as 172.16.18.0/24, 10.0.0.7); 'nginx' does not appear to be an IPv4 or IPv6 "
            "network.",
        ),
        (
            "BETTER_AUTH_DATABASE_URL",
            "postgres//ironmind:hunter2@db/auth",
            "error: BETTER_AUTH_DATABASE_URL must be a PostgreSQL connection string, such as "
            "postgresql://user:password@host:5432/name (the frontend's own works as is).",
        ),
        (
            "BETTER_AUTH_DATABASE_URL",
            "mysql://ironmind:hunter2@db/auth",
            "error: BETTER_AUTH_DATABASE_URL must be a PostgreSQL connection string, such as "
            "postgresql://user:password@host:5432/name (the frontend's own works as is).",
        ),
        (
            "BETTER_AUTH_REDIS_URL",
            "redis://127.0.0.1:6379/0",
            "error: BETTER_AUTH_REDIS_URL is not supported: set session.storeSessionInDatabase: "
            "true in the frontend's Better Auth options (sessions then live in its database too) "
            "and unset BETTER_AUTH_REDIS_URL.",
        ),
        (
            "BETTER_AUTH_REQUIRE_SESSION",
            "true",
            "error: BETTER_AUTH_REQUIRE_SESSION=true needs BETTER_AUTH_DATABASE_URL, the Better "
            "Auth database the sessions are checked in.",
        ),
        (
            "RATELIMIT_STRATEGY",
            "sliding-window",
            "error: RATELIMIT_STRATEGY must be one of fixed-window, moving-window; "
            "got 'sliding-window'.",
        ),
        (
            "RATELIMIT_AUTH",
            "ten a minute",
            "error: RATELIMIT_AUTH must be a limit such as '10 per minute'; got 'ten a minute'.",
        ),
        (
            "TRUSTED_PROXIES",
            "1",
            "error: Set TRUSTED_PROXIES (how many proxies append to X-Forwarded-For) and "
            "TRUSTED_PROXY_ADDRESSES (the addresses they connect from) together, or neither; "
            "got TRUSTED_PROXIES=1 and TRUSTED_PROXY_ADDRESSES=''.",
        ),
    ],
)
@pytest.mark.parametrize("command", [DB_UPGRADE, GUNICORN])
def test_a_bad_value_names_the_variable(tmp_path, command, variable, value, expected):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite", variable: value}

    result = run_command(*command, GUNICORN_BIND=f"127.0.0.1:{CLOSED_PORT}", **env)

    assert_one_error_line(result, expected)


def test_a_bad_gunicorn_setting_names_the_variable():
    result = run_command(*GUNICORN, GUNICORN_WORKERS="four")

    assert_one_error_line(result, "error: GUNICORN_WORKERS must be a whole number; got 'four'.")


def test_db_upgrade_on_an_unreachable_database_says_where_without_the_password():
    url = f"postgresql+psycopg://ironmind:hunter2@127.0.0.1:{CLOSED_PORT}/ironmind"

    result = run_command(*DB_UPGRADE, DATABASE_URL=url)

    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(
        f"error: cannot reach the database at postgresql+psycopg://ironmind:***@127.0.0.1:"
        f"{CLOSED_PORT}/ironmind: OperationalError: connection failed:"
    )
    assert "Connection refused" in line
    assert "hunter2" not in result.stderr + result.stdout


def test_flask_run_debug_in_production_is_refused(tmp_path):
    result = run_command(
        *FLASK_RUN,
        "--debug",
        APP_ENV="production",
        BETTER_AUTH_SECRET="x" * 40,
        DATABASE_URL=f"sqlite:///{tmp_path}/db.sqlite",
    )

    expected = "error: DEBUG cannot be on when APP_ENV=production: unset FLASK_DEBUG, drop --debug."
    assert_one_error_line(result, expected)
