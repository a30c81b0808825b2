"""Tasks: ownership, every write and keyset pagination, for the user id the caller names."""

import functools
import uuid
from datetime import datetime
from typing import NamedTuple, cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.exc import IntegrityError

from ..auth.service import provision_user
from ..db import db, statements_autocommit, utcnow
from ..errors import NotFound
from ..pagination import KeysetCursor
from .models import Task

TASKS = cast(Table, Task.__table__)
CURSOR = KeysetCursor(salt="tasks-cursor")


class TaskRow(NamedTuple):
    """A task as the list and insert statements read it: columns as attributes.

    SQLAlchemy's Row answers a lookup by name some 0.3 us slower than a NamedTuple; a page of
    50 tasks makes 350 of them (docs/PERFORMANCE.md).
    """

    id: str
    user_id: str
    title: str
    description: str | None
    completed: bool
    created_at: datetime
    updated_at: datetime


# The statements select exactly TaskRow's fields, in its order.
ROW_COLUMNS = tuple(TASKS.c[name] for name in TaskRow.__annotations__)
# Built once; its columns are the keys of the values it is executed with.
INSERT_TASK = insert(TASKS).returning(*ROW_COLUMNS)


def get_own_task(user_id, task_id, for_update=False):
    """The user's task, or 404: another user's task looks like a missing one.

    for_update locks the row until commit, so concurrent writers apply one after another
    to the latest state instead of mixing their fields.
    """
    if "\x00" in task_id or len(task_id) > Task.id.type.length:
        # No stored id looks like this, and PostgreSQL refuses NUL in a query (a 500).
        raise NotFound()
    query = select(Task).where(Task.id == task_id, Task.user_id == user_id)
    task = db.session.scalar(query.with_for_update() if for_update else query)
    if task is None:
        raise NotFound()
    return task


def insert_task(user_id, fields, claims=None):
    """Insert a task and return its stored TaskRow, committed.

    One INSERT ... RETURNING, committed by itself (no BEGIN/COMMIT round trips when the
    request has not begun a transaction). The user's row is provisioned from ``claims`` only
    when the insert finds it missing (the foreign key refuses it: a first write of a Better
    Auth subject), then the insert runs again.
    """
    statements_autocommit()
    now = utcnow()
    values = {"id": str(uuid.uuid4()), "user_id": user_id, "created_at": now, "updated_at": now}
    values.update(fields)
    try:
        row = db.session.execute(INSERT_TASK, values).one()
    except IntegrityError:
        db.session.rollback()
        provision_user(user_id, claims or {})
        row = db.session.execute(INSERT_TASK, values).one()
    db.session.commit()
    return TaskRow(*row)


def update_task(user_id, task_id, changes):
    """Apply ``changes`` to the user's task under a row lock; returns the committed task."""
    task = get_own_task(user_id, task_id, for_update=True)
    for name, value in changes.items():
        setattr(task, name, value)
    db.session.commit()
    return task


def delete_task(user_id, task_id):
    db.session.delete(get_own_task(user_id, task_id))
    db.session.commit()


def list_page(user_id, limit, cursor=None, completed=None):
    """One page, newest first, and the cursor of the next page (None on the last).

    The page is TaskRows (a Core select: no ORM objects to build), read by one statement (no
    BEGIN/ROLLBACK round trips), built once per shape and given its values as parameters.
    """
    statements_autocommit()
    params = {"user_id": user_id, "limit": limit + 1, "completed": completed}
    if cursor is not None:
        params["after_created_at"], params["after_id"] = CURSOR.position(cursor)
    statement = _page_statement(completed is not None, cursor is not None)
    rows = [TaskRow(*row) for row in db.session.execute(statement, params).all()]
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], CURSOR.after(last.created_at, last.id)


@functools.cache
def _page_statement(by_completion, after_cursor):
    c = TASKS.c
    query = select(*ROW_COLUMNS).where(c.user_id == bindparam("user_id"))
    if by_completion:
        query = query.where(c.completed == bindparam("completed"))
    if after_cursor:
        query = query.where(CURSOR.older_than_position(c.created_at, c.id))
    return query.order_by(c.created_at.desc(), c.id.desc()).limit(bindparam("limit"))
