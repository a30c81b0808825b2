"""The schema comes only from migrations, and they match the models exactly."""

import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from ironmind_api.db import db as _db
from tests.services import scratch_database


def test_migrations_produce_exactly_the_models_schema(app):
    # The session's database was built by `flask db upgrade` (see conftest.reset_schema).
    with app.app_context(), _db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, _db.metadata)

    assert differences == []


def test_the_tasks_listing_index_exists(app):
    with app.app_context():
        indexes = _db.inspect(_db.engine).get_indexes("tasks")

    assert any(ix["column_names"] == ["user_id", "created_at", "id"] for ix in indexes)


@pytest.fixture
def fresh_database_uri(database_uri, tmp_path):
    """A database no migration has run on, of the suite's kind (SQLite or PostgreSQL)."""
    if not database_uri.startswith("postgresql"):
        yield f"sqlite:///{tmp_path}/fresh.db"
        return
    with scratch_database(database_uri, "ironmind_migration") as url:
        yield url


ROWS_AT_0002 = [
    # (id, email, password_hash): two local accounts, two Better Auth users (no password).
    ("0f" * 16, "ａｄａ@example.com", "$argon2id$local"),
    ("1e" * 16, "bob@example.com", "$argon2id$local"),
    ("ba-grace", "grace@example.com", None),
    ("ba-mallory", "ＢＯＢ@example.com", None),
]


def test_0003_keeps_every_owner_and_normalises_emails(make_app, fresh_database_uri):
    app = make_app(SQLALCHEMY_DATABASE_URI=fresh_database_uri, REVOCATION_LISTEN=False)
    with app.app_context():
        upgrade(revision="0002")
        with _db.engine.begin() as conn:
            for user_id, email, password_hash in ROWS_AT_0002:
                conn.execute(text(
                    "INSERT INTO users (id, email, password_hash, created_at) "
                    "VALUES (:id, :email, :hash, CURRENT_TIMESTAMP)"
                ), {"id": user_id, "email": email, "hash": password_hash})
                conn.execute(text(
                    "INSERT INTO tasks (id, user_id, title, completed, created_at, updated_at) "
                    "VALUES (:task, :id, :title, false, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ), {"task": str(uuid.uuid4()), "id": user_id, "title": f"task of {user_id}"})
        upgrade()
        with _db.engine.connect() as conn:
            users = dict(conn.execute(text("SELECT id, email FROM users")).all())
            owners = dict(conn.execute(text("SELECT title, user_id FROM tasks")).all())
        _db.engine.dispose()

    assert users == {
        "0f" * 16: "ada@example.com",
        "1e" * 16: "bob@example.com",
        "ba:ba-grace": "grace@example.com",
        # Its normalised address is a local account's: kept as it was, for the operator.
        "ba:ba-mallory": "ＢＯＢ@example.com",
    }
    assert owners == {
        f"task of {user_id}": ("ba:" if password_hash is None else "") + user_id
        for user_id, _, password_hash in ROWS_AT_0002
    }


def test_0004_gives_every_account_the_user_role_and_downgrades_cleanly(
    make_app, fresh_database_uri
):
    app = make_app(SQLALCHEMY_DATABASE_URI=fresh_database_uri, REVOCATION_LISTEN=False)
    with app.app_context():
        upgrade(revision="0003")
        with _db.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO users (id, email, password_hash, created_at) "
                "VALUES ('0f0f', 'ada@example.com', '$argon2id$local', CURRENT_TIMESTAMP)"
            ))
        upgrade()
        with _db.engine.connect() as conn:
            at_head = conn.execute(text("SELECT id, role, disabled_at FROM users")).all()
        downgrade(revision="0003")
        with _db.engine.connect() as conn:
            columns = {c["name"] for c in _db.inspect(conn).get_columns("users")}
            kept = conn.execute(text("SELECT id, email FROM users")).all()
        upgrade()
        with _db.engine.connect() as conn:
            again = conn.execute(text("SELECT id, role FROM users")).all()
        _db.engine.dispose()

    assert at_head == [("0f0f", "user", None)]
    assert "role" not in columns and "disabled_at" not in columns
    assert kept == [("0f0f", "ada@example.com")]
    assert again == [("0f0f", "user")]
