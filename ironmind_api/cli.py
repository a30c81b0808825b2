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
from .auth.models import is_better_auth_user
from .auth.roles import DEFAULT_ROLE, MAX_ROLE_LENGTH, ROLE_LIST
from .auth.schemas import signup_schema
from .db import db, describe_database_error
from .errors import ApiError

DATABASE_DOWN = (OperationalError, InterfaceError, PoolTimeoutError)

users = AppGroup("users", help="Create accounts, set their roles, disable them, end sessions.")
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


def check_role(ctx, param, value):
    """One role or several, comma-separated, as the tokens' ``role`` claim writes them."""
    if value is None or (len(value) <= MAX_ROLE_LENGTH and ROLE_LIST.fullmatch(value)):
        return value
    raise click.BadParameter(
        f"roles are letters, digits, '_' and '-', separated by commas, {MAX_ROLE_LENGTH} "
        "characters in all"
    )


def local_account(email_or_id):
    """The API's own account named by an email or id; a Better Auth user's role and ban are
    Better Auth's to change (its admin plugin), so naming one is an error."""
    found = maintenance.find_user(email_or_id)
    if found is None:
        raise CommandError(f"no user with the id or email {email_or_id!r}")
    if is_better_auth_user(found.id):
        raise CommandError(
            f"user {found.id} is a Better Auth user: change their role or ban them in Better Auth"
        )
    return found


def describe(user):
    return f"user {user.id} <{user.email or 'no email'}>"


@users.command("create")
@click.argument("email")
@click.option("--name", default=None, help="Display name.")
@click.option(
    "--role", default=DEFAULT_ROLE, show_default=True, callback=check_role,
    help="Written into the account's access tokens; 'admin' may call /api/admin.",
)
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Prompted for (hidden) when not given; 8 to 128 characters.",
)
def create_user(email, name, role, password):
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
        user = service.create_user(**fields, role=role)
    except ApiError as error:
        raise CommandError(f"{error.message.rstrip('.')}: {fields['email']}") from None
    click.echo(f"created user {user.id} <{user.email}> with role {user.role}")


@users.command("revoke-sessions")
@click.argument("user", metavar="EMAIL|ID")
def revoke_sessions(user):
    """End every session of a user: their access and refresh tokens are refused from now on."""
    found = maintenance.find_user(user)
    if found is None:
        raise CommandError(f"no user with the id or email {user!r}")
    count = maintenance.revoke_sessions(found)
    click.echo(f"revoked {count} session(s) of user {found.id} <{found.email or 'no email'}>")


@users.command("set-role")
@click.argument("user", metavar="EMAIL|ID")
@click.argument("role", callback=check_role)
def set_role(user, role):
    """Change an account's role; the tokens issued from now on carry it."""
    found = local_account(user)
    maintenance.set_role(found, role)
    click.echo(f"{describe(found)} now has the role {role}")


@users.command("disable")
@click.argument("user", metavar="EMAIL|ID")
def disable_user(user):
    """Stop an account: no signin or refresh, and every token it holds is refused at once."""
    found = local_account(user)
    count = maintenance.disable(found)
    click.echo(f"disabled {describe(found)}; revoked {count} session(s)")


@users.command("enable")
@click.argument("user", metavar="EMAIL|ID")
def enable_user(user):
    """Let a disabled account sign in again."""
    found = local_account(user)
    maintenance.enable(found)
    click.echo(f"enabled {describe(found)}")


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
