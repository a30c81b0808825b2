"""/health and /health/ready: liveness, and readiness (database answers, schema at head)."""

import logging

from flask import current_app
from marshmallow import Schema, fields, validate
from sqlalchemy.exc import SQLAlchemyError

from . import migration_check
from .blueprint import Blueprint
from .db import db, describe_database_error

blp = Blueprint("health", __name__, url_prefix="/health", description="Liveness and readiness.")
log = logging.getLogger(__name__)


class HealthSchema(Schema):
    status = fields.String(required=True)


class ReadySchema(HealthSchema):
    database = fields.String(required=True, validate=validate.OneOf(["ok", "error"]))
    schema = fields.String(
        validate=validate.OneOf(["behind"]),
        metadata={
            "description": "Present, as `behind`, when the database answers but is not at the "
            "migrations' head (run `flask --app wsgi db upgrade`)."
        },
    )


@blp.route("", methods=["GET"])
@blp.response(200, HealthSchema)
def health():
    """Report that the process is alive, without touching the database."""
    # A Response passes flask-smorest's decorator as it is; HealthSchema documents it.
    return current_app.json.response({"status": "ok"})


@blp.route("/ready", methods=["GET"])
@blp.response(200, ReadySchema)
@blp.alt_response(503, schema=ReadySchema)
def ready():
    """Report whether the database answers and is at the migrations' head."""
    try:
        migration_check.check()
    except migration_check.SchemaBehind as behind:
        log.warning("readiness check failed: %s", behind)
        return {"status": "unavailable", "database": "ok", "schema": "behind"}, 503
    except SQLAlchemyError as exc:  # any failure to answer means not ready
        log.warning("readiness check failed: %s", describe_database_error(exc))
        return {"status": "unavailable", "database": "error"}, 503
    finally:
        db.session.remove()
    return {"status": "ok", "database": "ok"}
