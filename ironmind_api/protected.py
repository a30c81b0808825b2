from flask import g
from marshmallow import Schema, fields

from .openapi import Blueprint
from .security import auth_required

blp = Blueprint(
    "protected", __name__, url_prefix="/api/protected", description="Integration check."
)


class ProtectedSchema(Schema):
    message = fields.String(required=True)
    user_id = fields.String(required=True)


@blp.route("", methods=["GET"])
@auth_required
@blp.response(200, ProtectedSchema)
def protected():
    """Confirm that the bearer token is accepted and name its subject."""
    return {"message": "Access granted to a protected resource.", "user_id": g.user_id}
