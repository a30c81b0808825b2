"""Operator commands: `flask users create|revoke-sessions`, `tokens purge`, `db check`."""

import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from ironmind_api.auth.models import RevokedToken, TokenFamily, User
from ironmind_api.db import utcnow
from tests.conftest import bearer, run_command

PASSWORD = "correct horse battery"


def flask_command(*args, database_uri, **env):
    """Run the real `flask --app wsgi …` in a subprocess, as an operator would."""
    return run_command("flask", "--app", "wsgi", *args, DATABASE_URL=database_uri, **env)


def until(condition, seconds=5.0):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def runner(app, db):
    return app.test_cli_runner()


def status_of(client, token):
    response = client.get("/api/protected", headers=bearer(token))
    return response.status_code, (response.get_json() or {}).get("error")


def refresh_status(client, refresh_token):
    response = client.post("/api/auth/refresh", json={"refresh_token": refresh_token})
    return response.status_code, (response.get_json() or {}).get("error")


# -- users create --------------------------------------------------------------------------


def test_users_create_makes_an_account_that_can_sign_in(runner, client, db):
    result = runner.invoke(
        args=["users", "create", "  Ada@Example.COM ", "--name", " Ada ", "--password", PASSWORD]
    )

    assert result.exit_code == 0, result.output
    assert "created user" in result.output and "ada@example.com" in result.output
    user = db.session.scalar(select(User).where(User.email == "ada@example.com"))
    assert user.name == "Ada"
    assert user.password_hash.startswith("$argon2id$")
    answer = client.post(
        "/api/auth/signin", json={"email": "ADA@example.com", "password": PASSWORD}
    )
    assert answer.status_code == 200


def test_users_create_prompts_for_the_password_without_echoing_it(runner, client):
    result = runner.invoke(args=["users", "create", "ada@example.com"], input=f"{PASSWORD}\n" * 2)

    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    answer = client.post(
        "/api/auth/signin", json={"email": "ada@example.com", "password": PASSWORD}
    )
    assert answer.status_code == 200


def test_users_create_refuses_a_taken_email(runner, user):
    result = runner.invoke(args=["users", "create", "ADA@example.com", "--password", PASSWORD])

    assert result.exit_code == 1
    assert result.output.strip() == (
        "error: An account with this email already exists: ada@example.com"
    )


@pytest.mark.parametrize(
    "email, password, expected",
    [
        ("not-an-email", PASSWORD, "email: Not a valid email address."),
        ("ada@example.com", "short", "password: Length must be between 8 and 128."),
    ],
)
def test_users_create_validates_like_signup(runner, db, email, password, expected):
    result = runner.invoke(args=["users", "create", email, "--password", password])

    assert result.exit_code == 1
    assert expected in result.output
    assert db.session.scalar(select(User)) is None


# -- users revoke-sessions -----------------------------------------------------------------


@pytest.mark.parametrize("by", ["email", "id"])
def test_revoke_sessions_ends_every_session_of_the_user_only(
    runner, client, user, signin, signup, by
):
    first, second = signin(), signin()
    signup(email="bob@example.com", name="Bob")
    bob = signin(email="bob@example.com")

    who = "ADA@example.com" if by == "email" else user["id"]
    result = runner.invoke(args=["users", "revoke-sessions", who])

    assert result.exit_code == 0, result.output
    assert f"revoked 2 session(s) of user {user['id']}" in result.output
    for pair in (first, second):
        assert status_of(client, pair["token"]) == (401, "token_revoked")
        assert refresh_status(client, pair["refresh_token"]) == (401, "token_revoked")
    assert status_of(client, bob["token"]) == (200, None)
    assert signin()["token"]  # a new signin opens a new session


def test_revoke_sessions_of_an_unknown_user_fails(runner):
    result = runner.invoke(args=["users", "revoke-sessions", "nobody@example.com"])

    assert result.exit_code == 1
    assert result.output.strip() == "error: no user with the id or email 'nobody@example.com'"


def test_revoke_sessions_as_a_separate_process_reaches_the_serving_app(
    app, client, user, signin, database_uri
):
    pair = signin()
    assert status_of(client, pair["token"]) == (200, None)
    # PostgreSQL: the serving app answers from its LISTEN/NOTIFY copy once synced, so the
    # command's revocation must arrive as a notification, not through the fallback query.
    copy = app.extensions.get("revocation_cache")
    if copy is not None:
        assert until(lambda: copy.synced), "the revocation copy never synced"

    result = flask_command("users", "revoke-sessions", user["id"], database_uri=database_uri)

    assert result.returncode == 0, result.stderr
    assert "revoked 1 session(s)" in result.stdout
    assert until(lambda: status_of(client, pair["token"]) == (401, "token_revoked"))
    assert refresh_status(client, pair["refresh_token"]) == (401, "token_revoked")


# -- tokens purge --------------------------------------------------------------------------


def add_rows(db, user_id):
    now = utcnow()
    db.session.add_all(
        [
            RevokedToken(key="long-expired", expires_at=now - timedelta(hours=1)),
            # Inside the margin beyond expiry: a token within the decode leeway still needs it.
            RevokedToken(key="just-expired", expires_at=now - timedelta(seconds=30)),
            RevokedToken(key="still-valid", expires_at=now + timedelta(minutes=10)),
            TokenFamily(
                id="expired", user_id=user_id, refresh_jti="a", expires_at=now - timedelta(hours=1)
            ),
            TokenFamily(
                id="live", user_id=user_id, refresh_jti="b", expires_at=now + timedelta(days=1)
            ),
        ]
    )
    db.session.commit()


def test_tokens_purge_deletes_only_what_no_token_can_need(runner, client, db, user, signin):
    signed_out = signin()
    response = client.post(
        "/api/auth/signout",
        headers=bearer(signed_out["token"]),
        json={"refresh_token": signed_out["refresh_token"]},
    )
    assert response.status_code == 200
    add_rows(db, user["id"])  # after signout, whose own purge would take the expired ones

    result = runner.invoke(args=["tokens", "purge", "--batch-size", "1"])

    assert result.exit_code == 0, result.output
    assert "purged 1 expired revocation(s) and 2 spent session(s)" in result.output
    db.session.expire_all()
    keys = set(db.session.scalars(select(RevokedToken.key)))
    assert {"just-expired", "still-valid"} <= keys and "long-expired" not in keys
    assert set(db.session.scalars(select(TokenFamily.id))) == {"live"}
    # The signed-out session's row is gone, but its tokens are still refused as revoked.
    assert status_of(client, signed_out["token"]) == (401, "token_revoked")
    assert refresh_status(client, signed_out["refresh_token"]) == (401, "token_revoked")


def test_tokens_purge_is_idempotent(runner, db, user):
    add_rows(db, user["id"])
    runner.invoke(args=["tokens", "purge"])

    result = runner.invoke(args=["tokens", "purge"])

    assert result.exit_code == 0
    assert "purged 0 expired revocation(s) and 0 spent session(s)" in result.output


def test_tokens_purge_keeps_live_sessions_working(runner, client, user, signin):
    pair = signin()

    assert runner.invoke(args=["tokens", "purge"]).exit_code == 0

    assert status_of(client, pair["token"]) == (200, None)
    assert refresh_status(client, pair["refresh_token"]) == (200, None)


# -- db check ------------------------------------------------------------------------------


def test_db_check_at_head_exits_zero(runner):
    result = runner.invoke(args=["db", "check"])

    assert result.exit_code == 0, result.output
    assert result.output.strip() == "database schema at head (0004)"


def test_db_check_on_a_database_without_migrations_says_to_upgrade(empty_database_app):
    result = empty_database_app.test_cli_runner().invoke(args=["db", "check"])

    assert result.exit_code == 1
    assert result.output.strip() == (
        "error: database schema is not at the latest migration (at no migration, head is 0004):"
        " run `flask --app wsgi db upgrade`"
    )


def test_db_check_behind_an_older_revision_names_both(runner, app):
    heads = app.extensions["schema_heads"]
    app.extensions["schema_heads"] = frozenset({"0005"})
    try:
        result = runner.invoke(args=["db", "check"])
    finally:
        app.extensions["schema_heads"] = heads

    assert result.exit_code == 1
    assert "(at 0004, head is 0005)" in result.output


def test_db_check_as_a_process(database_uri, tmp_path):
    at_head = flask_command("db", "check", database_uri=database_uri)
    fresh = flask_command("db", "check", database_uri=f"sqlite:///{tmp_path}/fresh.db")

    assert at_head.returncode == 0, at_head.stderr
    assert "at head" in at_head.stdout
    assert fresh.returncode == 1
    assert "run `flask --app wsgi db upgrade`" in fresh.stderr
    assert "Traceback" not in fresh.stderr


def test_db_upgrade_does_not_warn_about_the_schema_it_upgrades(tmp_path):
    fresh = f"sqlite:///{tmp_path}/fresh.db"

    upgrade = flask_command("db", "upgrade", database_uri=fresh)

    assert upgrade.returncode == 0, upgrade.stderr
    assert "Running upgrade 0001 -> 0002" in upgrade.stdout
    assert "not at the latest migration" not in upgrade.stdout + upgrade.stderr
    assert flask_command("db", "check", database_uri=fresh).returncode == 0


def test_a_command_on_a_database_without_migrations_says_to_upgrade(empty_database_app):
    runner = empty_database_app.test_cli_runner()

    result = runner.invoke(args=["users", "create", "ada@example.com", "--password", PASSWORD])

    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert line.startswith("error: ") and "users" in line
    assert line.endswith(": the schema is behind; run `flask --app wsgi db upgrade`")
