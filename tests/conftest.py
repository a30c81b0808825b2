"""Fixtures: one migrated database per session, emptied after every test."""

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import jwt as pyjwt
import pytest
from flask_migrate import upgrade
from jwt.api_jws import PyJWS
from sqlalchemy import text

from config import TestingConfig
from ironmind_api import create_app
from ironmind_api.db import db as _db
from tests import services

SECRET = TestingConfig.BETTER_AUTH_SECRET
ROOT = Path(__file__).resolve().parent.parent
# Variables config.py or gunicorn.conf.py read: a subprocess gets only the ones a test sets.
APP_VARIABLES = ("APP_ENV", "BETTER_AUTH", "DATABASE_URL", "FLASK_", "GUNICORN_", "JWT_", "DB_")
IN_CI = os.environ.get("CI", "").lower() == "true"


def run_command(*args, timeout=60, **env):
    """Run a real entry point (flask, gunicorn, the container's script) from the project root."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(APP_VARIABLES)}
    environment["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{environment['PATH']}"
    environment.update(REVOCATION_LISTEN="false", **env)
    return subprocess.run(
        args, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=timeout
    )


def require(available, reason):
    """Skip a test whose outside service is missing, except in CI, where that fails."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def only_on_postgresql(database_uri, what):
    """Skip a PostgreSQL-only test when the suite runs on SQLite, in CI too: CI's SQLite run
    skips it and its PostgreSQL run (.ci/steps/30-tests-postgres.sh) runs it."""
    if not database_uri.startswith("postgresql"):
        pytest.skip(services.postgresql_suite_reason(what))


def require_service(problem):
    """``require`` for the ``tests.services`` checks: ``problem`` is None or the reason."""
    require(problem is None, problem)


def database_url(tmp_path_factory):
    return os.environ.get("TEST_DATABASE_URL") or (
        "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.db")
    )


def reset_schema(app):
    """Drop everything, then build the schema the way production does: by migrating."""
    with app.app_context():
        _db.drop_all()
        with _db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()


@pytest.fixture(scope="session")
def database_uri(tmp_path_factory):
    return database_url(tmp_path_factory)


@pytest.fixture(scope="session")
def make_app(database_uri):
    """Build an app on the test database, with any setting overridden."""

    def factory(**overrides):
        settings = {"SQLALCHEMY_DATABASE_URI": database_uri, **overrides}
        return create_app(TestingConfig, **settings)

    return factory


@pytest.fixture(scope="session")
def app(make_app):
    app = make_app()
    reset_schema(app)
    return app


@pytest.fixture
def empty_database_settings(database_uri, tmp_path):
    """Settings for an app on a database where no migration has run."""
    if database_uri.startswith("sqlite"):
        return {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/empty.db"}
    # PostgreSQL: the test database, seen through a search_path with no table in it.
    options = {"options": "-c search_path=ironmind_no_such_schema"}
    return {
        "SQLALCHEMY_ENGINE_OPTIONS": {"hide_parameters": True, "connect_args": options},
        "REVOCATION_LISTEN": False,
    }


@pytest.fixture
def empty_database_app(make_app, empty_database_settings):
    return make_app(**empty_database_settings)


@pytest.fixture
def db(app):
    with app.app_context():
        yield _db
        _db.session.remove()
        for table in reversed(_db.metadata.sorted_tables):
            _db.session.execute(table.delete())
        _db.session.commit()
        _db.session.remove()


@pytest.fixture
def client(app, db):
    return app.test_client()


@pytest.fixture
def log_lines(app):
    """The JSON lines the app logs during the test, parsed."""
    handler = app.extensions["log_handler"]
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    lines = []

    def read():
        lines[:] = [json.loads(line) for line in buffer.getvalue().splitlines() if line]
        return lines

    yield read
    handler.setStream(previous)


def mint(sub="user-1", secret=SECRET, algorithm="HS256", headers=None, **claims):
    """A token minted outside the API the way the frontend does: sub, iat and exp only."""
    now = int(time.time())
    payload = {"sub": sub, "iat": now, "exp": now + 900}
    payload.update(claims)
    payload = {k: v for k, v in payload.items() if v is not None}
    return pyjwt.encode(payload, secret, algorithm=algorithm, headers=headers)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def signup(client):
    def create(email="ada@example.com", password="correct horse battery", name="Ada"):
        response = client.post(
            "/api/auth/signup", json={"email": email, "password": password, "name": name}
        )
        assert response.status_code == 201, response.get_json()
        return response.get_json()["user"]

    return create


@pytest.fixture
def signin(client):
    def login(email="ada@example.com", password="correct horse battery"):
        response = client.post("/api/auth/signin", json={"email": email, "password": password})
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    return login


@pytest.fixture
def user(signup):
    return signup()


@pytest.fixture
def auth_headers(user, signin):
    return bearer(signin()["token"])


@pytest.fixture
def other_headers(signup, signin):
    signup(email="bob@example.com", name="Bob")
    return bearer(signin(email="bob@example.com")["token"])


@pytest.fixture
def pyjwt_calls(monkeypatch):
    """Count PyJWT's verifications (every decode goes through PyJWS.decode_complete) and its
    public header reads (jwt.get_unverified_header) while the test runs."""
    calls = {"verify": 0, "header": 0}
    verify, header = PyJWS.decode_complete, pyjwt.get_unverified_header

    def counted_verify(self, *args, **kwargs):
        calls["verify"] += 1
        return verify(self, *args, **kwargs)

    def counted_header(*args, **kwargs):
        calls["header"] += 1
        return header(*args, **kwargs)

    monkeypatch.setattr(PyJWS, "decode_complete", counted_verify)
    monkeypatch.setattr(pyjwt, "get_unverified_header", counted_header)
    return calls
