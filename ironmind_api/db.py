"""The database: the SQLAlchemy instance, its column types and the session helpers."""

import logging
import sqlite3
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, TypeDecorator, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase

log = logging.getLogger(__name__)

# INSERT … ON CONFLICT DO NOTHING is dialect-specific; these are the two the API runs on.
INSERTS = {"postgresql": pg_insert, "sqlite": sqlite_insert}


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)

# The models' base class: Flask-SQLAlchemy builds db.Model at run time, which a type checker
# cannot follow; to one, it is the declarative Base it extends.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model


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


def utcnow():
    return datetime.now(UTC)


def insert_ignoring_conflicts(model):
    """An INSERT into ``model`` that skips rows whose key already exists, on this dialect."""
    return INSERTS[db.session.get_bind().dialect.name](model).on_conflict_do_nothing()


def describe_database_error(exc):
    """For logs: the class and the driver's first line, the cause without SQL or parameters.

    Parameters never reach exception text anyway (hide_parameters=True in config.py), and
    the database URL is not part of a driver's message.
    """
    cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return f"{type(exc).__name__}: {cause[0]}" if cause else type(exc).__name__


def statements_autocommit():
    """Let the request's next statements run each in its own transaction, if none has begun.

    For a request that needs exactly one statement (a list page, a task INSERT): the driver
    then sends no BEGIN and no COMMIT/ROLLBACK, so the statement is one round trip. A session
    that already began (e.g. the revocation lookup ran) keeps its transaction.
    """
    session = db.session()
    if not session.in_transaction():
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def rollback_quietly():
    """Roll the session back; on a connection that is already gone, discard the session."""
    try:
        db.session.rollback()
    except Exception:  # whatever the dead connection raises, the answer must still be JSON
        log.warning("rollback failed; the session is discarded")
        db.session.remove()


def close_session(exc, pool_gauges=None):
    """Close the request's session; a connection lost meanwhile must not turn into a 500.

    Registered after Flask-SQLAlchemy's own teardown, so it runs first: closing rolls back,
    and on a connection the database just dropped that rollback raises, after the response
    (perhaps a 201 for a committed row) was already built. Then the pool gauges (metrics.py)
    are updated, with the request's connection back in the pool.
    """
    try:
        db.session.remove()
    except SQLAlchemyError as error:
        log.warning("session close failed: %s", describe_database_error(error))
        db.session.registry.clear()
    if pool_gauges is not None:
        pool_gauges.update()
