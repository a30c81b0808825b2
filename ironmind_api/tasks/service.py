"""Task ownership, creation and keyset pagination."""

import uuid
from datetime import datetime

from flask import current_app, g
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import insert, literal, select, tuple_
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import abort

from ..auth.service import provision_current_user
from ..errors import ApiError
from ..extensions import UTCDateTime, db, statements_autocommit, utcnow
from .models import Task
from .schemas import TASK_ROW_ATTRIBUTES

TASKS = Task.__table__
ROW_COLUMNS = tuple(TASKS.c[name] for name in TASK_ROW_ATTRIBUTES)
CREATED_AT = TASK_ROW_ATTRIBUTES.index("created_at")
ID = TASK_ROW_ATTRIBUTES.index("id")


def get_own_task(task_id, for_update=False):
    """The current user's task, or 404 — another user's task looks like a missing one.

    for_update locks the row until commit, so concurrent writers apply one after another
    to the latest state instead of mixing their fields.
    """
    if "\x00" in task_id or len(task_id) > Task.id.type.length:
        # No stored id looks like this, and PostgreSQL refuses NUL in a query (a 500).
        abort(404)
    query = select(Task).where(Task.id == task_id, Task.user_id == g.user_id)
    task = db.session.scalar(query.with_for_update() if for_update else query)
    if task is None:
        abort(404)
    return task


def insert_task(user_id, fields):
    """Insert a task and return its stored row (TASK_ROW_ATTRIBUTES), committed.

    One INSERT ... RETURNING, committed by itself (no BEGIN/COMMIT round trips when the
    request has not begun a transaction). The token's user row is provisioned only when the
    insert finds it missing (the foreign key refuses it: a first write of a Better Auth
    subject), then the insert runs again.
    """
    statements_autocommit()
    now = utcnow()
    statement = (
        insert(TASKS)
        .values(id=str(uuid.uuid4()), user_id=user_id, created_at=now, updated_at=now, **fields)
        .returning(*ROW_COLUMNS)
    )
    try:
        row = db.session.execute(statement).one()
    except IntegrityError:
        db.session.rollback()
        provision_current_user()
        row = db.session.execute(statement).one()
    db.session.commit()
    return row


def list_page(user_id, limit, cursor=None, completed=None):
    """One page, newest first, and the cursor of the next page (None on the last).

    The page is plain rows of TASK_ROW_ATTRIBUTES (a Core select: no ORM objects to build),
    for dump_task_row, read by one statement (no BEGIN/ROLLBACK round trips).
    """
    statements_autocommit()
    c = TASKS.c
    query = select(*ROW_COLUMNS).where(c.user_id == user_id)
    if completed is not None:
        query = query.where(c.completed == completed)
    if cursor is not None:
        created_at, task_id = _decode_cursor(cursor)
        query = query.where(
            tuple_(c.created_at, c.id) < tuple_(literal(created_at, UTCDateTime), task_id)
        )
    query = query.order_by(c.created_at.desc(), c.id.desc()).limit(limit + 1)
    rows = db.session.execute(query).all()
    if len(rows) <= limit:
        return rows, None
    last = rows[limit - 1]
    return rows[:limit], _serializer().dumps([last[CREATED_AT].isoformat(), last[ID]])


def _decode_cursor(cursor):
    try:
        created_at, task_id = _serializer().loads(cursor)
        return datetime.fromisoformat(created_at), str(task_id)
    except (BadData, ValueError, TypeError):
        raise ApiError(400, "bad_request", "The cursor is not valid.") from None


def _serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="tasks-cursor")
