"""Operator commands: `flask users …`, `flask tokens purge`, `flask db check`."""

import functools

import click
from flask.cli import AppGroup, ScriptInfo, with_appcontext
from marshmallow import ValidationError
from sqlalchemy import make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from . import migration_check
from .auth import maintenance, service
from .auth.schemas import signup_schema
from .db import db, describe_database_error
from .errors import ApiError

DATABASE_DOWN = (OperationalError, InterfaceError, PoolTimeoutError)

users = AppGroup("users", help="Create accounts and end their sessions.")
tokens = AppGroup("tokens", help="Maintain the revocation list and the sessions table.")


class CommandError(click.ClickException):
    """One line on stderr, `error: …`, and exit status 1: no traceback."""

    def show(self, file=None):
        click.echo(f"error: {self.format_message()}", err=True)


def database_unreachable(error):
    app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).render_as_string(hide_password=True)
    return CommandError(f"cannot reach the database at {url}: {describe_database_error(error)}")


def reports_database_errors(callback):
    """Turn a database that does not answer, or has no schema yet, into one line."""

    @functools.wraps(callback)
    def wrapper(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        except DBAPIError as error:
            if migration_check.is_missing_table(error):
                behind = f"{describe_database_error(error)}: the schema is behind"
                raise CommandError(f"{behind}; {migration_check.UPGRADE_HINT}") from None
            if isinstance(error, DATABASE_DOWN) or error.connection_invalidated:
                raise database_unreachable(error) from None
            raise
        except PoolTimeoutError as error:
            raise database_unreachable(error) from None

    wrapper.reports_database_errors = True
    return wrapper


@users.command("create")
@click.argument("email")
@click.option("--name", default=None, help="Display name.")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Prompted for (hidden) when not given; 8 to 128 characters.",
)
def create_user(email, name, password):
    """Create an account, checked and hashed exactly as signup does."""
    try:
        fields = signup_schema.load({"email": email, "password": password, "name": name})
    except ValidationError as error:
        problems = "; ".join(
            f"{field}: {' '.join(map(str, messages))}"
            for field, messages in sorted(error.messages.items())
        )
        raise CommandError(problems) from None
    try:
        user = service.create_user(**fields)
    except ApiError as error:
        raise CommandError(f"{error.message.rstrip('.')}: {fields['email']}") from None
    click.echo(f"created user {user.id} <{user.email}>")


@users.command("revoke-sessions")
@click.argument("user", metavar="EMAIL|ID")
def revoke_sessions(user):
    """End every session of a user: their access and refresh tokens are refused from now on."""
    found = maintenance.find_user(user)
    if found is None:
        raise CommandError(f"no user with the id or email {user!r}")
    count = maintenance.revoke_sessions(found)
    click.echo(f"revoked {count} session(s) of user {found.id} <{found.email or 'no email'}>")


@tokens.command("purge")
@click.option("--batch-size", default=maintenance.PURGE_BATCH, show_default=True, type=int)
def purge_tokens(batch_size):
    """Delete expired revocations and spent sessions; safe to run from cron while serving."""
    revocations, sessions = maintenance.purge(batch_size=max(batch_size, 1))
    click.echo(f"purged {revocations} expired revocation(s) and {sessions} spent session(s)")


@click.command("check")
@with_appcontext
def db_check():
    """Exit 0 when the database is at the migrations' head, 1 when `db upgrade` is needed."""
    try:
        current = migration_check.check()
    except migration_check.SchemaBehind as behind:
        raise CommandError(str(behind)) from None
    finally:
        db.session.remove()
    click.echo(f"database schema at head ({', '.join(sorted(current))})")


def register_commands(app):
    """Add the operator commands; each reports an unreachable database in one line."""
    for group in (users, tokens):
        app.cli.add_command(group)
    db_group = app.cli.commands["db"]  # Flask-Migrate's, registered by migrate.init_app
    # Replaces Flask-Migrate's `db check` (model changes not yet in a migration, which needs
    # an up-to-date database anyway): operators need to know whether to run `db upgrade`.
    db_group.add_command(db_check)
    commands = (*users.commands.values(), *tokens.commands.values(), *db_group.commands.values())
    for command in commands:
        if not getattr(command.callback, "reports_database_errors", False):
            command.callback = reports_database_errors(command.callback)
