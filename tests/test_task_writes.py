"""Creating a task costs one INSERT ... RETURNING (then the COMMIT); the user row is written
only when a token's subject has none yet."""

import re

import pytest
from sqlalchemy import event, func, select

from ironmind_api.auth.models import User, better_auth_user_id
from ironmind_api.tasks.models import Task
from tests.conftest import bearer, mint


@pytest.fixture
def statements(db):
    """The SQL statements on the tasks and users tables, in order, while the test runs."""
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if re.search(r"\b(tasks|users)\b", statement):
            seen.append(" ".join(statement.split()))

    engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_a_known_users_task_is_one_insert_returning(client, db, user, auth_headers, statements):
    statements.clear()
    response = client.post("/api/tasks", json={"title": "One trip"}, headers=auth_headers)
    assert response.status_code == 201
    assert len(statements) == 1
    assert statements[0].startswith("INSERT INTO tasks") and "RETURNING" in statements[0]
    task = response.get_json()
    stored = db.session.get(Task, task["id"])
    assert (stored.title, stored.user_id, stored.completed) == ("One trip", user["id"], False)
    assert task["createdAt"] == stored.created_at.isoformat() == task["updatedAt"]


def test_a_new_subject_is_provisioned_on_its_first_write_only(client, db, statements):
    headers = bearer(mint(sub="ba-new-subject", email="New@Example.com", name="Newcomer"))
    first = client.post("/api/tasks", json={"title": "first"}, headers=headers)
    assert first.status_code == 201
    assert any(s.startswith("INSERT INTO users") for s in statements)
    user = db.session.get(User, better_auth_user_id("ba-new-subject"))
    assert (user.email, user.name) == ("new@example.com", "Newcomer")
    statements.clear()
    second = client.post("/api/tasks", json={"title": "second"}, headers=headers)
    assert second.status_code == 201
    assert [s.split()[0:3] for s in statements] == [["INSERT", "INTO", "tasks"]]
    count = db.session.scalar(
        select(func.count()).where(Task.user_id == better_auth_user_id("ba-new-subject"))
    )
    assert count == 2
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


@pytest.fixture
def isolation(db):
    """(statement start, the connection's isolation level) for each tasks/users statement."""
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if re.search(r"\b(tasks|users)\b", statement):
            seen.append((statement.split()[0], conn.get_execution_options().get("isolation_level")))

    event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    event.remove(db.engine, "before_cursor_execute", record)


def test_one_statement_requests_run_without_begin_and_commit(app, db, user, isolation):
    """With no transaction begun yet (the revocation copy answered), the INSERT and the page
    SELECT each run in autocommit: no BEGIN/COMMIT round trips; the row is durable."""
    from flask import g

    from ironmind_api.tasks.service import insert_task, list_page

    db.session.remove()
    with app.test_request_context("/api/tasks", method="POST"):
        g.user_id = user["id"]
        row = insert_task(user["id"], {"title": "autocommitted", "description": None,
                                       "completed": False})
        db.session.remove()
    with app.test_request_context("/api/tasks"):
        g.user_id = user["id"]
        rows, cursor = list_page(user["id"], 50)
        db.session.remove()
    assert isolation == [("INSERT", "AUTOCOMMIT"), ("SELECT", "AUTOCOMMIT")]
    assert [r[0] for r in rows] == [row[0]] and cursor is None
    assert db.session.get(Task, row[0]).title == "autocommitted"


def test_a_begun_transaction_is_kept(app, db, user, isolation):
    from flask import g

    from ironmind_api.tasks.service import insert_task

    db.session.remove()
    with app.test_request_context("/api/tasks", method="POST"):
        g.user_id = user["id"]
        db.session.scalar(select(func.count()).select_from(User))  # e.g. the revocation lookup
        insert_task(user["id"], {"title": "in a transaction"})
        db.session.remove()
    assert isolation[-1][0] == "INSERT" and isolation[-1][1] != "AUTOCOMMIT"
    assert db.session.scalar(select(func.count()).where(Task.title == "in a transaction")) == 1
