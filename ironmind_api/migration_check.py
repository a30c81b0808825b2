"""Is the database at the migrations' head? The head is read once per app; one query asks."""

import logging
from pathlib import Path

import click
from flask import current_app
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from .db import db, describe_database_error, rollback_quietly

log = logging.getLogger(__name__)

UPGRADE_HINT = "run `flask --app wsgi db upgrade`"
CURRENT_SQL = text("SELECT version_num FROM alembic_version")
UNDEFINED_TABLE = "42P01"  # PostgreSQL's SQLSTATE for a missing table


class SchemaBehind(Exception):
    """The database answers but is not at the head of the migrations."""

    def __init__(self, current, heads):
        self.current, self.heads = current, heads
        at = ", ".join(sorted(current)) or "no migration"
        super().__init__(
            f"database schema is not at the latest migration (at {at}, head is "
            f"{', '.join(sorted(heads))}): {UPGRADE_HINT}"
        )


def init_app(app):
    app.extensions["schema_heads"] = migration_heads(app)
    if app.config["SCHEMA_CHECK_AT_START"] and _serving():
        log_if_behind(app)


def migration_heads(app):
    """The head revision(s) of the migrations directory, or None when it cannot be read."""
    # alembic (~0.15 s to import) only where heads are read: not for every `flask` command.
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    directory = Path(app.extensions["migrate"].directory)
    if not directory.is_absolute() and not directory.is_dir():
        directory = Path(app.root_path).parent / directory
    try:
        return frozenset(ScriptDirectory(str(directory)).get_heads())
    except CommandError as error:
        log.warning("schema checks are off: no migrations at %s (%s)", directory, error)
        return None


def check():
    """The current revisions; SchemaBehind when not the head, SQLAlchemyError when no answer."""
    heads = current_app.extensions["schema_heads"]
    current = current_revisions()
    if heads is not None and current != heads:
        raise SchemaBehind(current, heads)
    return current


def current_revisions():
    """The revisions in alembic_version (none when the table is missing): one query."""
    try:
        return frozenset(db.session.scalars(CURRENT_SQL))
    except SQLAlchemyError as error:
        rollback_quietly()
        if is_missing_table(error):
            return frozenset()
        raise


def log_if_behind(app):
    """At start-up: one error line when the schema needs `db upgrade`; never stop the start."""
    with app.app_context():
        try:
            check()
        except SchemaBehind as behind:
            log.error("%s", behind)
        except SQLAlchemyError as error:
            log.warning("schema not checked at start: %s", describe_database_error(error))
        finally:
            db.session.remove()


def _serving():
    """True for a server start (gunicorn, `flask run`), not for other `flask` commands.

    `flask db upgrade` must not complain about the schema it is about to bring up to date;
    `flask db check` asks explicitly.
    """
    ctx = click.get_current_context(silent=True)
    return ctx is None or ctx.info_name == "run"


def is_missing_table(error):
    orig = getattr(error, "orig", None)
    if getattr(orig, "sqlstate", None) == UNDEFINED_TABLE:
        return True
    return "no such table" in str(orig)

