"""/api/protected: the integration check a frontend calls to see its token accepted."""

from flask import current_app
from marshmallow import Schema, fields

from .auth.guard import auth_required
from .blueprint import Blueprint

blp = Blueprint(
    "protected", __name__, url_prefix="/api/protected", description="Integration check."
)


class ProtectedSchema(Schema):
    message = fields.String(required=True)
    user_id = fields.String(required=True)


@blp.route("", methods=["GET"])
@auth_required
@blp.response(200, ProtectedSchema)
def protected(identity):
    """Confirm that the bearer token is accepted and name its subject."""
    # A Response passes flask-smorest's decorator as it is; ProtectedSchema documents it.
    return current_app.json.response(
        {"message": "Access granted to a protected resource.", "user_id": identity.subject}
    )
