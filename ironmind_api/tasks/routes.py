from flask import current_app, g, url_for

from ..extensions import db
from ..openapi import Blueprint
from ..security import auth_required
from .schemas import (
    TaskQuerySchema,
    TaskSchema,
    dump_task_row,
    task_patch_schema,
    task_schema,
    tasks_schema,
)
from .service import get_own_task, insert_task, list_page

blp = Blueprint("tasks", __name__, url_prefix="/api/tasks", description="The current user's tasks.")

NEXT_PAGE_HEADER = {
    "Link": {
        "description": 'The next page, as `<url>; rel="next"`; absent on the last page.',
        "schema": {"type": "string"},
    }
}
LOCATION_HEADER = {
    "Location": {
        "description": "The new task's URL.",
        "required": True,
        "schema": {"type": "string", "format": "uri"},
    }
}


@blp.route("", methods=["GET"])
@auth_required
@blp.arguments(TaskQuerySchema, location="query", error_status_code=400)
@blp.response(200, tasks_schema, headers=NEXT_PAGE_HEADER)
def list_tasks(query):
    """List the current user's tasks, newest first, a page at a time."""
    rows, next_cursor = list_page(g.user_id, **query)
    # tasks_schema documents this page; dump_task_row is its dump compiled once (a Response
    # passes flask-smorest's decorator as it is).
    page = current_app.json.response([dump_task_row(row) for row in rows])
    if next_cursor is None:
        return page
    return page, 200, {"Link": f'<{_next_url(query, next_cursor)}>; rel="next"'}


@blp.route("", methods=["POST"])
@auth_required
@blp.arguments(task_schema)
@blp.response(201, task_schema, headers=LOCATION_HEADER)
def create_task(body):
    """Create a task for the current user."""
    task = dump_task_row(insert_task(g.user_id, body))
    location = url_for("tasks.get_task", task_id=task["id"], _external=True)
    return current_app.json.response(task), 201, {"Location": location}


@blp.route("/<task_id>", methods=["GET"])
@auth_required
@blp.response(200, task_schema)
def get_task(task_id):
    """Return one of the current user's tasks."""
    return get_own_task(task_id)


@blp.route("/<task_id>", methods=["PUT"])
@auth_required
@blp.arguments(TaskSchema)
@blp.response(200, task_schema)
def replace_task(body, task_id):
    """Replace a task's writable fields."""
    return _update(get_own_task(task_id, for_update=True), body)


@blp.route("/<task_id>", methods=["PATCH"])
@auth_required
@blp.arguments(task_patch_schema)
@blp.response(200, task_schema)
def update_task(body, task_id):
    """Change some of a task's writable fields."""
    return _update(get_own_task(task_id, for_update=True), body)


@blp.route("/<task_id>", methods=["DELETE"])
@auth_required
@blp.response(204)
def delete_task(task_id):
    """Delete a task."""
    db.session.delete(get_own_task(task_id))
    db.session.commit()


def _update(task, changes):
    for name, value in changes.items():
        setattr(task, name, value)
    db.session.commit()
    return task


def _next_url(query, cursor):
    params = {"limit": query["limit"], "cursor": cursor}
    if query.get("completed") is not None:
        params["completed"] = "true" if query["completed"] else "false"
    return url_for("tasks.list_tasks", _external=True, **params)
