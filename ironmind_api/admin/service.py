"""Every account read and admin action, for the acting user id the caller names; audit lines.

``last_activity`` is derived from rows the API writes anyway, so no request pays a write for
it: the latest of the account's tasks' ``updated_at`` (a task created or changed) and its
sessions' ``created_at`` (a signin) or ``rotated_at`` (a refresh). Deleted tasks and sessions
`flask tokens purge` has dropped no longer count.
"""

import logging

from sqlalchemy import func, select

from ..auth import maintenance
from ..auth.models import BETTER_AUTH_NAMESPACE, TokenFamily, User, is_better_auth_user
from ..db import db
from ..errors import Forbidden, NotFound
from ..pagination import KeysetCursor
from ..tasks.models import Task

audit_log = logging.getLogger("ironmind_api.audit")
CURSOR = KeysetCursor(salt="admin-users-cursor")

TASK_COUNT = (
    select(func.count(Task.id)).where(Task.user_id == User.id).correlate(User).scalar_subquery()
)
LAST_TASK_WRITE = (
    select(func.max(Task.updated_at)).where(Task.user_id == User.id).correlate(User)
    .scalar_subquery()
)
LAST_SESSION_USE = (
    select(func.max(func.coalesce(TokenFamily.rotated_at, TokenFamily.created_at)))
    .where(TokenFamily.user_id == User.id)
    .correlate(User)
    .scalar_subquery()
)


def list_page(limit, cursor=None):
    """One page of accounts, newest first, and the cursor of the next page (None on the last)."""
    query = select(User, TASK_COUNT, LAST_TASK_WRITE, LAST_SESSION_USE)
    if cursor is not None:
        query = query.where(CURSOR.older_than(cursor, User.created_at, User.id))
    query = query.order_by(User.created_at.desc(), User.id.desc()).limit(limit + 1)
    rows = db.session.execute(query).all()
    accounts = [account_json(*row) for row in rows[:limit]]
    if len(rows) <= limit:
        return accounts, None
    last = rows[limit - 1][0]
    return accounts, CURSOR.after(last.created_at, last.id)


def account(user_id):
    """One account as the list shows it."""
    row = db.session.execute(
        select(User, TASK_COUNT, LAST_TASK_WRITE, LAST_SESSION_USE).where(User.id == user_id)
    ).one()
    return account_json(*row)


def account_json(user, task_count, last_task_write, last_session_use):
    local = not is_better_auth_user(user.id)
    activity = [moment for moment in (last_task_write, last_session_use) if moment is not None]
    return {
        "id": user.public_id,
        "email": user.email,
        "name": user.name,
        "role": user.role if local else None,
        "disabled": user.disabled_at is not None,
        "created_at": user.created_at,
        "task_count": task_count,
        "last_activity": max(activity, default=None),
    }


def get_target(actor_id, user_id):
    """The API's own account with this id, or 404: a Better Auth user's are Better Auth's.

    Never the actor's own: an admin who disabled themselves would be locked out, and one who
    revoked their own sessions would lose the token they called with (signout ends a session).
    """
    if user_id.startswith(BETTER_AUTH_NAMESPACE) or len(user_id) > User.id.type.length:
        raise NotFound(message="No account of this API has this id.")
    user = db.session.get(User, user_id) if "\x00" not in user_id else None
    if user is None:
        raise NotFound(message="No account of this API has this id.")
    if user.id == actor_id:
        raise Forbidden(message="An admin action cannot target the caller's own account.")
    return user


def revoke_sessions(actor_id, user_id):
    """End every session of the account; returns how many were live."""
    user = get_target(actor_id, user_id)
    count = maintenance.revoke_sessions(user)
    _audit("revoke_sessions", actor_id, user.id, sessions=count)
    return count


def disable(actor_id, user_id):
    user = get_target(actor_id, user_id)
    count = maintenance.disable(user)
    _audit("disable", actor_id, user.id, sessions=count)
    return account(user.id)


def enable(actor_id, user_id):
    user = get_target(actor_id, user_id)
    maintenance.enable(user)
    _audit("enable", actor_id, user.id)
    return account(user.id)


def _audit(action, actor_id, target_id, **details):
    """One line per admin action; ids as the users table holds them (``ba:<sub>`` for a
    Better Auth user), so an actor is never mistaken for a local account of the same id."""
    audit_log.info(
        "admin_action", extra={"action": action, "actor_id": actor_id, "target_id": target_id,
                               **details}
    )
