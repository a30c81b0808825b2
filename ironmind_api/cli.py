"""Operator commands: `flask users …`, `flask tokens purge`, `flask db …` and `flask db check`.

`flask --app wsgi <command>` builds the app with these commands only (see create_app), and a
command sets up the database on it just before it runs. So `--help` imports neither SQLAlchemy
nor alembic, and a command only what it uses: hence the imports inside the functions below.
"""

import copy
import functools

import click
from flask.cli import AppGroup, FlaskGroup, ScriptInfo, with_appcontext

from config import ConfigError, finalize_database

from .auth.roles import DEFAULT_ROLE, MAX_ROLE_LENGTH, ROLE_LIST

PURGE_BATCH = 1000  # rows deleted per transaction by `tokens purge`


class CommandError(click.ClickException):
    """One line on stderr, `error: …`, and exit status 1: no traceback."""

    def show(self, file=None):
        click.echo(f"error: {self.format_message()}", err=True)


def loading_for_commands():
    """Is the `flask` command loading the app to find one of the app's commands, or list them?

    FlaskGroup loads the app in its own context for that (`flask --app wsgi users …`, `--help`);
    its own `run`, `shell` and `routes` load it in theirs, and get the whole app.
    """
    ctx = click.get_current_context(silent=True)
    return ctx is not None and isinstance(ctx.command, FlaskGroup)


def set_up_database(app):
    """Give an app built for its commands the database; an app built whole has it already."""
    if "sqlalchemy" in app.extensions:  # Flask-SQLAlchemy's own key: db.init_app has run
        return
    from .db import close_session, db

    finalize_database(app.config)
    db.init_app(app)
    app.teardown_appcontext(close_session)


def set_up_passwords(app):
    set_up_database(app)
    if "passwords" not in app.extensions:
        from .auth import passwords

        passwords.init_app(app)


def set_up_migrations(app):
    """The database, Flask-Migrate and the migrations' head, as create_app sets them up."""
    set_up_database(app)
    if "migrate" in app.extensions:
        return
    from . import migration_check
    from .db import db
    from .extensions import migrate

    migrate.init_app(app, db)
    app.cli.add_command(database)  # Migrate.init_app registered its own group as `db` again
    migration_check.init_app(app)


def operator_command(set_up):
    """Set up what the command uses just before it runs (not for its --help), and turn a
    database that does not answer, or has no schema yet, into one line."""

    def decorate(callback):
        @functools.wraps(callback)
        def wrapper(*args, **kwargs):
            from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
            from sqlalchemy.exc import TimeoutError as PoolTimeoutError

            from . import migration_check
            from .db import describe_database_error

            app = click.get_current_context().ensure_object(ScriptInfo).load_app()
            try:
                set_up(app)
                return callback(*args, **kwargs)
            except ConfigError as error:
                raise CommandError(str(error)) from None
            except DBAPIError as error:
                if migration_check.is_missing_table(error):
                    behind = f"{describe_database_error(error)}: the schema is behind"
                    raise CommandError(f"{behind}; {migration_check.UPGRADE_HINT}") from None
                if isinstance(error, OperationalError | InterfaceError) or (
                    error.connection_invalidated
                ):
                    raise database_unreachable(app, error) from None
                raise
            except PoolTimeoutError as error:
                raise database_unreachable(app, error) from None

        return wrapper

    return decorate


def database_unreachable(app, error):
    from sqlalchemy import make_url

    from .db import describe_database_error

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).render_as_string(hide_password=True)
    return CommandError(f"cannot reach the database at {url}: {describe_database_error(error)}")


class MigrationCommands(click.Group):
    """`flask db`: stands in for Flask-Migrate's group (see migration_group), which is imported,
    with alembic and SQLAlchemy, when `db` is used rather than to list the `flask` commands."""

    def make_context(self, info_name, args, parent=None, **extra):
        # The context, and so the options, help and commands parsed, are the real group's.
        return migration_group().make_context(info_name, args, parent=parent, **extra)

    def invoke(self, ctx):
        return ctx.command.invoke(ctx)


@functools.cache
def migration_group():
    """A copy of Flask-Migrate's `db` group (its own stays as it is) whose commands set up and
    report as the others here do, with our `check` in place of its own."""
    from flask_migrate.cli import db as flask_migrate_group

    group = copy.copy(flask_migrate_group)
    group.commands = {}
    for name, command in flask_migrate_group.commands.items():
        group.commands[name] = ours = copy.copy(command)
        ours.callback = operator_command(set_up_migrations)(command.callback)
    group.add_command(db_check)
    return group


users = AppGroup("users", help="Create accounts, set their roles, disable them, end sessions.")
tokens = AppGroup("tokens", help="Maintain the revocation list and the sessions table.")
# Only its line in `flask --help` is its own (Flask-Migrate's words); `db --help` is the group's.
database = MigrationCommands("db", short_help="Perform database migrations.")


def check_role(ctx, param, value):
    """One role or several, comma-separated, as the tokens' ``role`` claim writes them."""
    if value is None or (len(value) <= MAX_ROLE_LENGTH and ROLE_LIST.fullmatch(value)):
        return value
    raise click.BadParameter(
        f"roles are letters, digits, '_' and '-', separated by commas, {MAX_ROLE_LENGTH} "
        "characters in all"
    )


def find_user(email_or_id):
    from .auth import maintenance

    found = maintenance.find_user(email_or_id)
    if found is None:
        raise CommandError(f"no user with the id or email {email_or_id!r}")
    return found


def local_account(email_or_id):
    """The API's own account named by an email or id; a Better Auth user's role and ban are
    Better Auth's to change (its admin plugin), so naming one is an error."""
    from .auth.models import is_better_auth_user

    found = find_user(email_or_id)
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
@operator_command(set_up_passwords)
def create_user(email, name, role, password):
    """Create an account, checked and hashed exactly as signup does."""
    from marshmallow import ValidationError

    from .auth import service
    from .auth.schemas import signup_schema
    from .errors import ApiError

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
@operator_command(set_up_database)
def revoke_sessions(user):
    """End every session of a user: their access and refresh tokens are refused from now on."""
    from .auth import maintenance

    found = find_user(user)
    count = maintenance.revoke_sessions(found)
    click.echo(f"revoked {count} session(s) of {describe(found)}")


@users.command("set-role")
@click.argument("user", metavar="EMAIL|ID")
@click.argument("role", callback=check_role)
@operator_command(set_up_database)
def set_role(user, role):
    """Change an account's role; the tokens issued from now on carry it."""
    from .auth import maintenance

    found = local_account(user)
    maintenance.set_role(found, role)
    click.echo(f"{describe(found)} now has the role {role}")


@users.command("disable")
@click.argument("user", metavar="EMAIL|ID")
@operator_command(set_up_database)
def disable_user(user):
    """Stop an account: no signin or refresh, and every token it holds is refused at once."""
    from .auth import maintenance

    found = local_account(user)
    count = maintenance.disable(found)
    click.echo(f"disabled {describe(found)}; revoked {count} session(s)")


@users.command("enable")
@click.argument("user", metavar="EMAIL|ID")
@operator_command(set_up_database)
def enable_user(user):
    """Let a disabled account sign in again."""
    from .auth import maintenance

    found = local_account(user)
    maintenance.enable(found)
    click.echo(f"enabled {describe(found)}")


@tokens.command("purge")
@click.option("--batch-size", default=PURGE_BATCH, show_default=True, type=int)
@operator_command(set_up_database)
def purge_tokens(batch_size):
    """Delete expired revocations and spent sessions; safe to run from cron while serving."""
    from .auth import maintenance

    revocations, sessions = maintenance.purge(batch_size=max(batch_size, 1))
    click.echo(f"purged {revocations} expired revocation(s) and {sessions} spent session(s)")


@click.command("check")
@with_appcontext
@operator_command(set_up_migrations)
def db_check():
    """Exit 0 when the database is at the migrations' head, 1 when `db upgrade` is needed."""
    from . import migration_check
    from .db import db

    try:
        current = migration_check.check()
    except migration_check.SchemaBehind as behind:
        raise CommandError(str(behind)) from None
    finally:
        db.session.remove()
    click.echo(f"database schema at head ({', '.join(sorted(current))})")


def register_commands(app):
    """Add the operator commands (`db` in front of the group Flask-Migrate registered)."""
    for group in (users, tokens, database):
        app.cli.add_command(group)
