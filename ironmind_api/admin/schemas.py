"""What /api/admin reads and answers: an account as an admin sees it, and the page query."""

from marshmallow import Schema, fields, validate


class AdminUserSchema(Schema):
    id = fields.String(required=True)
    email = fields.String(required=True, allow_none=True)
    name = fields.String(required=True, allow_none=True)
    # A local account's roles; null for a Better Auth user, whose roles its tokens carry.
    role = fields.String(required=True, allow_none=True)
    disabled = fields.Boolean(required=True)
    created_at = fields.DateTime(format="iso", required=True)
    task_count = fields.Integer(required=True)
    last_activity = fields.DateTime(format="iso", required=True, allow_none=True)


class AdminUserQuerySchema(Schema):
    limit = fields.Integer(strict=False, load_default=50, validate=validate.Range(1, 100))
    cursor = fields.String(validate=validate.Length(1, 512))


class RevokedSessionsSchema(Schema):
    revoked = fields.Integer(required=True, metadata={"description": "Sessions ended."})


admin_user_schema = AdminUserSchema()
admin_users_schema = AdminUserSchema(many=True)
# An instance: given a class, webargs would build a new schema for every request.
admin_user_query_schema = AdminUserQuerySchema()
