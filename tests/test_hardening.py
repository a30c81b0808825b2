"""Security headers, production start-up refusals, and password hashing policy."""

import statistics
import time

import pytest
from argon2 import PasswordHasher
from argon2.profiles import RFC_9106_LOW_MEMORY
from sqlalchemy import select

from config import DEVELOPMENT_SECRET, DevelopmentConfig, ProductionConfig, TestingConfig
from ironmind_api import create_app
from ironmind_api.auth.models import User

STRONG_SECRET = "s" * 40


# --- headers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [("GET", "/health"), ("GET", "/api/protected"), ("GET", "/nowhere"), ("DELETE", "/health")],
)
def test_every_response_carries_nosniff_and_a_referrer_policy(client, method, path):
    response = client.open(path, method=method)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_auth_and_task_responses_are_not_stored(client, auth_headers):
    responses = [
        client.post("/api/auth/signin", json={"email": "ada@example.com", "password": "x"}),
        client.get("/api/auth/me", headers=auth_headers),
        client.get("/api/tasks", headers=auth_headers),
        client.post("/api/tasks", json={"title": "t"}, headers=auth_headers),
        client.get("/api/tasks"),
    ]
    for response in responses:
        assert response.headers["Cache-Control"] == "no-store", response.request.path


def test_signin_token_pair_is_not_stored(client, user):
    response = client.post(
        "/api/auth/signin", json={"email": "ada@example.com", "password": "correct horse battery"}
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_no_hsts_over_plain_http_or_from_an_untrusted_forwarded_proto(client):
    assert "Strict-Transport-Security" not in client.get("/health").headers
    spoofed = client.get("/health", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in spoofed.headers


def test_hsts_when_a_trusted_proxy_says_https(make_app):
    # The test client's peer is 127.0.0.1.
    client = make_app(TRUSTED_PROXIES=1, TRUSTED_PROXY_ADDRESSES="127.0.0.1").test_client()
    response = client.get("/health", headers={"X-Forwarded-Proto": "https"})
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    plain = client.get("/health", headers={"X-Forwarded-Proto": "http"})
    assert "Strict-Transport-Security" not in plain.headers


def test_hsts_when_served_over_https_directly(client):
    response = client.get("/health", base_url="https://localhost")
    assert "max-age=" in response.headers["Strict-Transport-Security"]


# --- production configuration --------------------------------------------------------------


@pytest.mark.parametrize(
    "secret",
    ["", None, "too-short", "x" * 31, " " * 40, DEVELOPMENT_SECRET],
    ids=["empty", "missing", "short", "31-chars", "blank", "development-default"],
)
def test_production_refuses_to_start_with_a_weak_secret(secret):
    with pytest.raises(RuntimeError, match="BETTER_AUTH_SECRET"):
        create_app(ProductionConfig, BETTER_AUTH_SECRET=secret, SQLALCHEMY_DATABASE_URI="sqlite://")


def test_production_starts_with_a_strong_secret_and_debug_off():
    app = create_app(
        ProductionConfig, BETTER_AUTH_SECRET=STRONG_SECRET, SQLALCHEMY_DATABASE_URI="sqlite://"
    )
    assert app.debug is False
    assert app.config["JWT_SECRET_KEY"] == STRONG_SECRET


def test_production_refuses_debug():
    with pytest.raises(RuntimeError, match="DEBUG"):
        create_app(
            ProductionConfig,
            BETTER_AUTH_SECRET=STRONG_SECRET,
            DEBUG=True,
            SQLALCHEMY_DATABASE_URI="sqlite://",
        )


def test_production_refuses_flask_debug_from_the_environment(monkeypatch):
    # `flask run --debug` exports FLASK_DEBUG and flips app.debug after the factory returns.
    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(RuntimeError, match="DEBUG"):
        create_app(
            ProductionConfig, BETTER_AUTH_SECRET=STRONG_SECRET, SQLALCHEMY_DATABASE_URI="sqlite://"
        )


def test_debug_is_off_in_every_config_class():
    for config in (ProductionConfig, DevelopmentConfig, TestingConfig):
        assert config.DEBUG is False


# --- password hashing ----------------------------------------------------------------------


@pytest.mark.parametrize("config", [ProductionConfig, DevelopmentConfig])
def test_argon2id_parameters_meet_owasp_minimum_outside_testing(config):
    assert config.ARGON2_MEMORY_COST >= 19 * 1024
    assert config.ARGON2_TIME_COST >= 2
    assert config.ARGON2_PARALLELISM >= 1


def test_production_hashes_are_argon2id_with_those_parameters():
    app = create_app(
        ProductionConfig, BETTER_AUTH_SECRET=STRONG_SECRET, SQLALCHEMY_DATABASE_URI="sqlite://"
    )
    hasher, dummy_hash = app.extensions["passwords"]
    assert dummy_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert hasher.hash("a password").startswith("$argon2id$v=19$m=19456,t=2,p=1$")


def test_signin_rehashes_a_password_stored_with_old_parameters(make_app, client, db, user):
    old = PasswordHasher(
        time_cost=1, memory_cost=512, parallelism=1, hash_len=RFC_9106_LOW_MEMORY.hash_len
    )
    row = db.session.get(User, user["id"])
    row.password_hash = old.hash("correct horse battery")
    db.session.commit()

    response = client.post(
        "/api/auth/signin", json={"email": "ada@example.com", "password": "correct horse battery"}
    )
    assert response.status_code == 200
    db.session.expire_all()
    stored = db.session.scalar(select(User.password_hash).where(User.id == user["id"]))
    assert stored.startswith("$argon2id$v=19$m=1024,t=1,p=1$")


def test_signin_keeps_a_hash_whose_parameters_are_current(client, db, user):
    before = db.session.scalar(select(User.password_hash))
    client.post(
        "/api/auth/signin", json={"email": "ada@example.com", "password": "correct horse battery"}
    )
    db.session.expire_all()
    assert db.session.scalar(select(User.password_hash)) == before


def median_signin_seconds(client, email, password, runs):
    durations = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.post("/api/auth/signin", json={"email": email, "password": password})
        durations.append(time.perf_counter() - started)
        assert response.status_code == 401
    return statistics.median(durations)


def test_unknown_email_costs_about_as_much_as_a_wrong_password(make_app, db):
    # Production-strength hashing, so the argon2 verify dominates both paths as it would live.
    client = make_app(ARGON2_MEMORY_COST=19456, ARGON2_TIME_COST=2).test_client()
    signup = {"email": "ada@example.com", "password": "correct horse battery"}
    assert client.post("/api/auth/signup", json=signup).status_code == 201
    median_signin_seconds(client, "ada@example.com", "warm up", 1)
    wrong_password = median_signin_seconds(client, "ada@example.com", "wrong password", 7)
    unknown_email = median_signin_seconds(client, "nobody@example.com", "wrong password", 7)
    # Without the dummy verify the unknown email would be an order of magnitude faster.
    assert 0.5 < unknown_email / wrong_password < 2.0, (unknown_email, wrong_password)
