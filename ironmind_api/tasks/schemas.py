"""What /api/tasks reads and answers, and the one way a task becomes JSON."""

from marshmallow import Schema, fields, pre_load, validate

from ..auth.models import public_user_id
from ..fields import StrictBoolean, Text, Timestamp

READ_ONLY_FIELDS = ("id", "userId", "createdAt", "updatedAt")


class TaskSchema(Schema):
    id = fields.String(dump_only=True)
    title = Text(required=True, trim=True, validate=validate.Length(1, 200))
    description = Text(allow_none=True, load_default=None, validate=validate.Length(max=2000))
    completed = StrictBoolean(load_default=False)
    # The owner as callers know it (a Better Auth user's is their token's sub).
    userId = fields.Function(
        lambda task: public_user_id(task.user_id), dump_only=True, metadata={"type": "string"}
    )
    createdAt = Timestamp("created_at")
    updatedAt = Timestamp("updated_at")

    @pre_load
    def drop_read_only_fields(self, data, **kwargs):
        # A client may send back a Task exactly as it received it; its read-only
        # fields (a userId included) are ignored, while truly unknown keys are still 422.
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if k not in READ_ONLY_FIELDS}
        return data


class TaskQuerySchema(Schema):
    completed = fields.Boolean()
    limit = fields.Integer(strict=False, load_default=50, validate=validate.Range(1, 100))
    cursor = fields.String(validate=validate.Length(1, 512))


task_schema = TaskSchema()
tasks_schema = TaskSchema(many=True)
task_patch_schema = TaskSchema(partial=True)
# An instance: given a class, webargs would build a new schema for every request.
task_query_schema = TaskQuerySchema()


def task_json(task):
    """A task (a ``Task`` or a row of the tasks table) as JSON: exactly ``task_schema.dump``.

    Every route answers a task through this function; the schema documents it and parses
    what clients send. Plain code, because marshmallow's dump costs about four times as much
    per task on the list route (docs/PERFORMANCE.md); tests/test_tasks.py holds the two equal.
    """
    return {
        "completed": task.completed,
        "createdAt": task.created_at.isoformat(),
        "description": task.description,
        "id": task.id,
        "title": task.title,
        "updatedAt": task.updated_at.isoformat(),
        "userId": public_user_id(task.user_id),
    }
