"""What `flask --app wsgi …` imports: each command only what it uses (issue 25).

Behaviour, not timing (the timings are bench/'s): a module listed here for a command is one it
has no use for, and importing it is what made every command start in ~2 s of CPU.
"""

import sys

import pytest

from tests.conftest import run_command

SECRET = "s" * 48
# Set, so that an app built whole would install tracing (and import the OpenTelemetry SDK).
TRACING = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}
HTTP_SIDE = {"flask_smorest", "apispec", "webargs", "prometheus_client", "opentelemetry"}
DATABASE = {"sqlalchemy", "flask_sqlalchemy", "psycopg", "alembic", "flask_migrate", "argon2"}
NOT_IMPORTED = {
    # Listing commands, or a group's: nothing of the database or of the HTTP side.
    ("--help",): HTTP_SIDE | DATABASE | {"marshmallow", "jwt", "cryptography"},
    ("users", "--help"): HTTP_SIDE | DATABASE | {"marshmallow", "jwt", "cryptography"},
    ("tokens", "--help"): HTTP_SIDE | DATABASE | {"marshmallow", "jwt", "cryptography"},
    ("db", "--help"): HTTP_SIDE | {"psycopg", "jwt", "argon2"},
    # A command that uses the database: no migrations, no tokens, no HTTP side.
    ("tokens", "purge"): HTTP_SIDE | {"alembic", "flask_migrate", "jwt", "argon2"},
    ("users", "set-role", "nobody@example.com", "user"): HTTP_SIDE | {"alembic", "jwt"},
    ("db", "current"): HTTP_SIDE | {"argon2"},
}
ENVIRONMENTS = {
    "development": {},
    "production": {"APP_ENV": "production", "BETTER_AUTH_SECRET": SECRET},
}


def imported_packages(*args, **env):
    """The top-level packages a real `flask --app wsgi …` imported, from `-X importtime`."""
    result = run_command(
        sys.executable, "-X", "importtime", "-m", "flask", "--app", "wsgi", *args, **env
    )
    lines = [line for line in result.stderr.splitlines() if line.startswith("import time:")]
    assert lines, result.stderr
    return result, {line.rsplit("|", 1)[1].strip().split(".")[0] for line in lines}


@pytest.mark.usefixtures("app")  # the test database, migrated
@pytest.mark.parametrize("environment", ENVIRONMENTS)
@pytest.mark.parametrize("command", NOT_IMPORTED, ids=" ".join)
def test_a_command_imports_only_what_it_uses(database_uri, environment, command):
    result, imported = imported_packages(
        *command, DATABASE_URL=database_uri, **ENVIRONMENTS[environment], **TRACING
    )

    # set-role on an unknown user fails as it should; any other command succeeds.
    assert result.returncode == (1 if "set-role" in command else 0), result.stderr
    assert "Traceback" not in result.stderr
    assert imported & NOT_IMPORTED[command] == set()


def test_the_flask_built_in_commands_still_get_the_whole_app(database_uri):
    result = run_command("flask", "--app", "wsgi", "routes", DATABASE_URL=database_uri)

    assert result.returncode == 0, result.stderr
    assert "/api/tasks" in result.stdout and "/metrics" in result.stdout
