"""Routes under /api/tasks: the signed-in user's tasks."""

from flask import current_app, url_for

from ..auth.guard import auth_required
from ..blueprint import Blueprint
from . import service
from .schemas import (
    task_json,
    task_patch_schema,
    task_query_schema,
    task_schema,
    tasks_schema,
)

blp = Blueprint("tasks", __name__, url_prefix="/api/tasks", description="The current user's tasks.")

NEXT_PAGE_HEADER = {
    "Link": {
        "description": 'The next page, as `<url>; rel="next"` (a relative URL, or absolute on '
        "PUBLIC_URL when set); absent on the last page.",
        "schema": {"type": "string"},
    }
}
LOCATION_HEADER = {
    "Location": {
        "description": "The new task's URL: relative, or absolute on PUBLIC_URL when set.",
        "required": True,
        "schema": {"type": "string", "format": "uri-reference"},
    }
}
# Views answer with task_json (a Response passes flask-smorest's decorator as it is); the
# schemas in @blp.response document those answers.


@blp.route("", methods=["GET"])
@auth_required
@blp.arguments(task_query_schema, location="query", error_status_code=400)
@blp.response(200, tasks_schema, headers=NEXT_PAGE_HEADER)
def list_tasks(query, identity):
    """List the current user's tasks, newest first, a page at a time."""
    rows, next_cursor = service.list_page(identity.user_id, **query)
    page = current_app.json.response([task_json(row) for row in rows])
    if next_cursor is None:
        return page
    return page, 200, {"Link": f'<{_next_url(query, next_cursor)}>; rel="next"'}


@blp.route("", methods=["POST"])
@auth_required
@blp.arguments(task_schema)
@blp.response(201, task_schema, headers=LOCATION_HEADER)
def create_task(body, identity):
    """Create a task for the current user."""
    task = service.insert_task(identity.user_id, body, identity.claims)
    return _task_response(task), 201, {"Location": _public_url("tasks.get_task", task_id=task.id)}


@blp.route("/<task_id>", methods=["GET"])
@auth_required
@blp.response(200, task_schema)
def get_task(task_id, identity):
    """Return one of the current user's tasks."""
    return _task_response(service.get_own_task(identity.user_id, task_id))


@blp.route("/<task_id>", methods=["PUT"])
@auth_required
@blp.arguments(task_schema)
@blp.response(200, task_schema)
def replace_task(body, task_id, identity):
    """Replace a task's writable fields."""
    return _task_response(service.update_task(identity.user_id, task_id, body))


@blp.route("/<task_id>", methods=["PATCH"])
@auth_required
@blp.arguments(task_patch_schema)
@blp.response(200, task_schema)
def update_task(body, task_id, identity):
    """Change some of a task's writable fields."""
    return _task_response(service.update_task(identity.user_id, task_id, body))


@blp.route("/<task_id>", methods=["DELETE"])
@auth_required
@blp.response(204)
def delete_task(task_id, identity):
    """Delete a task."""
    service.delete_task(identity.user_id, task_id)


def _task_response(task):
    return current_app.json.response(task_json(task))


def _next_url(query, cursor):
    params = {"limit": query["limit"], "cursor": cursor}
    if query.get("completed") is not None:
        params["completed"] = "true" if query["completed"] else "false"
    return _public_url("tasks.list_tasks", **params)


def _public_url(endpoint, **values):
    """A URL the API writes: relative, or on PUBLIC_URL; never on the request's Host header,
    which the client chose (a server following Link with its token would follow it there)."""
    return current_app.config["PUBLIC_URL"] + url_for(endpoint, **values)
