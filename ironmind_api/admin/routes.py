"""Routes under /api/admin: the accounts the API knows, for callers with the admin role."""

from flask import current_app, url_for

from ..auth.guard import auth_required, roles_required
from ..blueprint import Blueprint
from ..tasks.routes import NEXT_PAGE_HEADER
from . import service
from .schemas import (
    RevokedSessionsSchema,
    admin_user_query_schema,
    admin_user_schema,
    admin_users_schema,
)

ADMIN_ROLE = "admin"

blp = Blueprint(
    "admin", __name__, url_prefix="/api/admin", description="Accounts, for the admin role."
)


@blp.route("/users", methods=["GET"])
@auth_required
@roles_required(ADMIN_ROLE)
@blp.arguments(admin_user_query_schema, location="query", error_status_code=400)
@blp.response(200, admin_users_schema, headers=NEXT_PAGE_HEADER)
def list_users(query, identity):
    """List every account the API knows, newest first, with task counts and last activity."""
    accounts, next_cursor = service.list_page(**query)
    if next_cursor is None:
        return accounts
    return accounts, 200, {"Link": f'<{_next_url(query["limit"], next_cursor)}>; rel="next"'}


@blp.route("/users/<user_id>/revoke-sessions", methods=["POST"])
@auth_required
@roles_required(ADMIN_ROLE)
@blp.response(200, RevokedSessionsSchema)
def revoke_sessions(user_id, identity):
    """End every session of one of the API's own accounts, as `flask users revoke-sessions`."""
    return {"revoked": service.revoke_sessions(identity.user_id, user_id)}


@blp.route("/users/<user_id>/disable", methods=["POST"])
@auth_required
@roles_required(ADMIN_ROLE)
@blp.response(200, admin_user_schema)
def disable_user(user_id, identity):
    """Disable one of the API's own accounts and end its sessions, as `flask users disable`."""
    return service.disable(identity.user_id, user_id)


@blp.route("/users/<user_id>/enable", methods=["POST"])
@auth_required
@roles_required(ADMIN_ROLE)
@blp.response(200, admin_user_schema)
def enable_user(user_id, identity):
    """Let a disabled account sign in again, as `flask users enable`."""
    return service.enable(identity.user_id, user_id)


def _next_url(limit, cursor):
    # Relative, or on PUBLIC_URL: never on the request's Host header (tasks/routes.py).
    return current_app.config["PUBLIC_URL"] + url_for(
        "admin.list_users", limit=limit, cursor=cursor
    )
