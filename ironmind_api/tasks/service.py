"""Task ownership and keyset pagination."""

from datetime import datetime

from flask import current_app, g
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import literal, select, tuple_
from werkzeug.exceptions import abort

from ..errors import ApiError
from ..extensions import UTCDateTime, db
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


def list_page(user_id, limit, cursor=None, completed=None):
    """One page, newest first, and the cursor of the next page (None on the last).

    The page is plain rows of TASK_ROW_ATTRIBUTES (a Core select: no ORM objects to build),
    for dump_task_row.
    """
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
