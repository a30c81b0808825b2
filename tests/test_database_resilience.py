"""Engine settings that bound database waits, and the 503 a lost database produces."""

import time

import pytest

from config import Config, TestingConfig
from ironmind_api import create_app

from .conftest import bearer, mint
from .services import free_port

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:{port}/ironmind"


def closed_port():
    return free_port()  # bindable, so nothing listens there


def test_postgresql_engine_is_bounded_and_sized_to_gunicorn_threads():
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=POSTGRES_URL.format(port=5432),
                     DB_POOL_SIZE=8)
    options = app.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["pool_size"] == 8
    assert options["max_overflow"] == Config.DB_MAX_OVERFLOW
    assert options["pool_timeout"] == Config.DB_POOL_TIMEOUT
    assert options["pool_pre_ping"] is True
    assert options["connect_args"]["connect_timeout"] == Config.DB_CONNECT_TIMEOUT
    assert options["connect_args"]["options"] == (
        f"-c statement_timeout={Config.DB_STATEMENT_TIMEOUT_MS}"
    )
    # The documented bound covers a pool wait, a stalled ping and a reconnect.
    assert Config.DB_POOL_TIMEOUT + 2 * Config.DB_CONNECT_TIMEOUT <= Config.DB_REQUEST_BOUND


def test_behind_a_transaction_pooler_nothing_is_prepared_or_sent_at_connect():
    direct = POSTGRES_URL.format(port=5432)
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=POSTGRES_URL.format(port=6432),
                     DATABASE_TRANSACTION_POOLING=True, DATABASE_LISTEN_URL=direct)
    connect_args = app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]
    assert connect_args["prepare_threshold"] is None
    assert "options" not in connect_args  # PgBouncer refuses the startup parameter
    assert app.config["DATABASE_LISTEN_URL"] == direct


def test_the_listener_connects_where_the_app_does_unless_told_otherwise():
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=POSTGRES_URL.format(port=5432))
    assert app.config["DATABASE_LISTEN_URL"] == POSTGRES_URL.format(port=5432)
    assert "prepare_threshold" not in app.config["SQLALCHEMY_ENGINE_OPTIONS"]["connect_args"]


def test_explicit_engine_options_win_over_derived_ones():
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=POSTGRES_URL.format(port=5432),
                     SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "pool_pre_ping": True})
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_size"] == 1


def test_sqlite_keeps_its_engine_defaults():
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI="sqlite:///:memory:")
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"] == Config.SQLALCHEMY_ENGINE_OPTIONS


@pytest.fixture
def unreachable_client():
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=POSTGRES_URL.format(port=closed_port()))
    return app.test_client()


def assert_service_unavailable(response):
    assert response.status_code == 503
    body = response.get_json()
    assert set(body) == {"error", "message", "request_id"}
    assert body["error"] == "service_unavailable"
    assert body["request_id"] == response.headers["X-Request-ID"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("get", "/api/tasks", None),
        ("post", "/api/tasks", {"title": "lost?"}),
        ("get", "/api/auth/me", None),
        ("post", "/api/auth/signin", {"email": "a@example.com", "password": "long enough"}),
    ],
)
def test_unreachable_database_is_a_fast_503(unreachable_client, method, path, body):
    started = time.monotonic()
    response = getattr(unreachable_client, method)(path, json=body, headers=bearer(mint()))
    assert time.monotonic() - started < Config.DB_REQUEST_BOUND
    assert_service_unavailable(response)


def test_unreachable_database_leaves_liveness_up_and_readiness_down(unreachable_client):
    assert unreachable_client.get("/health").status_code == 200
    ready = unreachable_client.get("/health/ready")
    assert ready.status_code == 503
    assert ready.get_json() == {"status": "unavailable", "database": "error"}


def test_no_free_pooled_connection_is_a_503(make_app, app, db):
    """All pooled connections busy past pool_timeout: sqlalchemy.exc.TimeoutError -> 503."""
    starved = make_app(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0,
                                                  "pool_timeout": 0.2})
    with starved.app_context():
        from ironmind_api.db import db as starved_db

        held = starved_db.engine.connect()
        try:
            response = starved.test_client().get("/api/tasks", headers=bearer(mint()))
        finally:
            held.close()
    assert_service_unavailable(response)
