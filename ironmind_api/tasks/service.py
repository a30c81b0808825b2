"""Task ownership and keyset pagination."""

from datetime import datetime

from flask import current_app, g
from itsdangerous import BadData, URLSafeSerializer
from sqlalchemy import literal, select, tuple_
from werkzeug.exceptions import abort

from ..errors import ApiError
from ..extensions import UTCDateTime, db
from .models import Task


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
    """One page, newest first, and the cursor of the next page (None on the last)."""
    query = select(Task).where(Task.user_id == user_id)
    if completed is not None:
        query = query.where(Task.completed == completed)
    if cursor is not None:
        created_at, task_id = _decode_cursor(cursor)
        query = query.where(
            tuple_(Task.created_at, Task.id) < tuple_(literal(created_at, UTCDateTime), task_id)
        )
    query = query.order_by(Task.created_at.desc(), Task.id.desc()).limit(limit + 1)
    tasks = db.session.scalars(query).all()
    if len(tasks) <= limit:
        return tasks, None
    last = tasks[limit - 1]
    return tasks[:limit], _serializer().dumps([last.created_at.isoformat(), last.id])


def _decode_cursor(cursor):
    try:
        created_at, task_id = _serializer().loads(cursor)
        return datetime.fromisoformat(created_at), str(task_id)
    except (BadData, ValueError, TypeError):
        raise ApiError(400, "bad_request", "The cursor is not valid.") from None


def _serializer():
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="tasks-cursor")
