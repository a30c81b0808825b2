"""Extension instances, created unbound and attached in create_app."""

import logging
import sqlite3
from datetime import UTC, datetime

from argon2 import PasswordHasher
from argon2.profiles import RFC_9106_LOW_MEMORY
from flask import current_app
from flask_cors import CORS
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, TypeDecorator, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase

from .schemas import ErrorSchema


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC timestamp, also on SQLite, which stores none."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


@event.listens_for(Engine, "connect")
def _enforce_sqlite_foreign_keys(dbapi_connection, connection_record):
    # SQLite ignores foreign keys unless asked, per connection.
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("PRAGMA foreign_keys=ON")


def describe_database_error(exc):
    """For logs: the class and the driver's first line, the cause without SQL or parameters.

    Parameters never reach exception text anyway (hide_parameters=True in config.py), and
    the database URL is not part of a driver's message.
    """
    cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{type(exc).__name__}: {cause[0]}" if cause else type(exc).__name__


def utcnow():
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Passwords:
    """argon2id hashing configured per app from its settings."""

    def init_app(self, app):
        hasher = PasswordHasher(
            time_cost=app.config["ARGON2_TIME_COST"],
            memory_cost=app.config["ARGON2_MEMORY_COST"],
            parallelism=app.config["ARGON2_PARALLELISM"],
            hash_len=RFC_9106_LOW_MEMORY.hash_len,
            salt_len=RFC_9106_LOW_MEMORY.salt_len,
        )
        # Verified against when the email is unknown, so both paths cost one argon2 verify.
        app.extensions["passwords"] = (hasher, hasher.hash("ironmind-dummy-password"))

    @property
    def hasher(self):
        return current_app.extensions["passwords"][0]

    @property
    def dummy_hash(self):
        return current_app.extensions["passwords"][1]


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
jwt = JWTManager()
cors = CORS()
api = Api()
# Keyed by request.remote_addr, which ProxyFix rewrites only when TRUSTED_PROXIES says so.
limiter = Limiter(key_func=get_remote_address)
# Every error response is documented explicitly (see openapi.py), in the contract's shape.
api.ERROR_SCHEMA = ErrorSchema
api.DEFAULT_ERROR_RESPONSE_NAME = None
passwords = Passwords()


def statements_autocommit():
    """Let the request's next statements run each in its own transaction, if none has begun.

    For a request that needs exactly one statement (a list page, a task INSERT): the driver
    then sends no BEGIN and no COMMIT/ROLLBACK, so the statement is one round trip. A session
    that already began (e.g. the revocation lookup ran) keeps its transaction.
    """
    session = db.session()
    if not session.in_transaction():
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def close_session(exc):
    """Close the request's session; a connection lost meanwhile must not turn into a 500.

    Registered after Flask-SQLAlchemy's own teardown, so it runs first: closing rolls back,
    and on a connection the database just dropped that rollback raises, after the response
    (perhaps a 201 for a committed row) was already built.
    """
    try:
        db.session.remove()
    except SQLAlchemyError as error:
        logging.getLogger(__name__).warning(
            "session close failed: %s", describe_database_error(error)
        )
        db.session.registry.clear()
