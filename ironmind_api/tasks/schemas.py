from marshmallow import Schema, fields, pre_load, validate

from ..dumping import compile_dumper
from ..schemas import StrictBoolean, Text, Timestamp

READ_ONLY_FIELDS = ("id", "userId", "createdAt", "updatedAt")


class TaskSchema(Schema):
    id = fields.String(dump_only=True)
    title = Text(required=True, trim=True, validate=validate.Length(1, 200))
    description = Text(allow_none=True, load_default=None, validate=validate.Length(max=2000))
    completed = StrictBoolean(load_default=False)
    userId = fields.String(attribute="user_id", dump_only=True)
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
# List pages select exactly these attributes as plain rows and dump them with this function,
# compiled from task_schema (tests/test_dumping.py keeps the two equal).
TASK_ROW_ATTRIBUTES, dump_task_row = compile_dumper(task_schema)
