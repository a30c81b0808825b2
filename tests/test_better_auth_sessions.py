"""The session check's settings, and its answers when the Better Auth database is not there.

Scenarios against a real Better Auth on PostgreSQL: tests/interop/test_better_auth_sessions.py.
"""

import time

import pytest

from config import ConfigError, better_auth_database_url
from tests.conftest import bearer, mint
from tests.services import free_port

CLOSED_PORT = free_port()  # bindable, so nothing listens there


@pytest.mark.parametrize(
    "given",
    [
        "postgresql://ba:secret@db.internal:5432/auth",
        "postgres://ba:secret@db.internal:5432/auth",
        "postgresql+psycopg://ba:secret@db.internal:5432/auth",
    ],
)
def test_the_frontends_connection_string_is_taken_as_is(given):
    url = better_auth_database_url(given)

    assert url.render_as_string(hide_password=False) == (
        "postgresql+psycopg://ba:secret@db.internal:5432/auth"
    )


@pytest.mark.parametrize(
    "given", ["sqlite:///auth.db", "postgresql://db.internal", "host=db dbname=auth", "auth"]
)
def test_anything_but_a_postgresql_url_is_refused_without_echoing_it(given):
    with pytest.raises(ConfigError) as refused:
        better_auth_database_url(given)

    assert str(refused.value).startswith("BETTER_AUTH_DATABASE_URL must be a PostgreSQL")
    assert given not in str(refused.value)


@pytest.fixture
def unreachable(make_app, db):
    url = f"postgresql://ba@127.0.0.1:{CLOSED_PORT}/auth"
    return make_app(BETTER_AUTH_DATABASE_URL=url).test_client()


def test_token_with_sid_is_503_when_the_database_does_not_answer(unreachable):
    started = time.monotonic()
    response = unreachable.get("/api/protected", headers=bearer(mint("ba-1", sid="s-1")))

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.get_json()["error"] == "service_unavailable"
    assert time.monotonic() - started < 3


def test_the_refusal_is_not_remembered_and_is_logged(unreachable, log_lines):
    token = bearer(mint("ba-1", sid="s-1"))

    statuses = [unreachable.get("/api/protected", headers=token).status_code for _ in range(3)]

    assert statuses == [503, 503, 503]
    failures = [line for line in log_lines() if line["message"].startswith("better auth database")]
    assert len(failures) == 3
    assert failures[0]["message"].startswith("better auth database unavailable: OperationalError")


def test_tokens_that_need_no_check_keep_working(unreachable, signup, signin):
    signup()
    own = bearer(signin()["token"])

    me = unreachable.get("/api/auth/me", headers=own)
    without_sid = unreachable.get("/api/protected", headers=bearer(mint("ba-1")))

    assert me.status_code == 200
    assert without_sid.status_code == 200


@pytest.mark.parametrize("sid", [17, "", "x" * 256, "s\x00id", ["s-1"]])
def test_unusable_sid_is_an_invalid_token(unreachable, sid):
    response = unreachable.get("/api/protected", headers=bearer(mint("ba-1", sid=sid)))

    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"


def test_without_the_database_url_sid_is_not_checked(client):
    response = client.get("/api/protected", headers=bearer(mint("ba-1", sid="s-1")))

    assert response.status_code == 200
