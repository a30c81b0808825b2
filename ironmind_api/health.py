import logging

from marshmallow import Schema, fields
from sqlalchemy import text

from .extensions import db
from .openapi import Blueprint

blp = Blueprint("health", __name__, url_prefix="/health", description="Liveness and readiness.")
log = logging.getLogger(__name__)


class HealthSchema(Schema):
    status = fields.String(required=True)


class ReadySchema(HealthSchema):
    database = fields.String(required=True)


@blp.route("", methods=["GET"])
@blp.response(200, HealthSchema)
def health():
    """Report that the process is alive, without touching the database."""
    return {"status": "ok"}


@blp.route("/ready", methods=["GET"])
@blp.response(200, ReadySchema)
@blp.alt_response(503, schema=ReadySchema)
def ready():
    """Report whether the database answers."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to answer means not ready
        db.session.rollback()
        log.warning("readiness check failed: %s", type(exc).__name__)
        return {"status": "unavailable", "database": "error"}, 503
    finally:
        db.session.remove()
    return {"status": "ok", "database": "ok"}
