"""Better Auth users under "ba:" ids; emails NFKC-normalised and case-folded

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 18:05:00.000000

Identity is (issuer, subject) from this revision on (ironmind_api/auth/tokens.py): a Better
Auth user's rows live under "ba:<sub>", a local account's under its own id. Users until now
were told apart by how they came to be: signup (and `flask users create`) always store a
password hash, while a Better Auth user's row is provisioned from a token without one. Those
rows, and their tasks, move to the namespaced id, so every owner keeps its rows and no
Better Auth subject can name a local account's.

Stored emails are normalised as signup now stores them (NFKC, then case-folded), oldest row
first. A row whose normalised address another row already holds keeps its own unchanged,
and is named in a warning for the operator to resolve.
"""
import logging
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

NAMESPACE = "ba:"
MAX_USER_ID_LENGTH = 255
OWNED = (("tasks", "user_id"), ("token_families", "user_id"))
log = logging.getLogger("alembic.runtime.migration")


def upgrade():
    connection = op.get_bind()
    better_auth_users = connection.execute(sa.text(
        "SELECT id FROM users WHERE password_hash IS NULL AND id NOT LIKE 'ba:%'"
    )).scalars().all()
    for user_id in better_auth_users:
        if len(NAMESPACE + user_id) > MAX_USER_ID_LENGTH:
            log.warning("user %s: id too long for the ba: namespace; left as it is", user_id)
            continue
        _move_user(connection, user_id, NAMESPACE + user_id)
    _normalise_emails(connection)


def downgrade():
    connection = op.get_bind()
    namespaced = connection.execute(
        sa.text("SELECT id FROM users WHERE id LIKE 'ba:%'")
    ).scalars().all()
    for user_id in namespaced:
        _move_user(connection, user_id, user_id[len(NAMESPACE):])
    # Normalised emails stay normalised: the earlier code compared them in lower case too.


def _move_user(connection, old_id, new_id):
    """Give a user a new id: a copy of the row, its rows moved over, the old row gone.

    The foreign keys have no ON UPDATE CASCADE, so the id cannot simply be updated; the email
    (unique) moves last, once the old row no longer holds it.
    """
    ids = {"old": old_id, "new": new_id}
    email = connection.execute(
        sa.text("SELECT email FROM users WHERE id = :old"), ids
    ).scalar_one()
    connection.execute(sa.text(
        "INSERT INTO users (id, email, name, password_hash, created_at) "
        "SELECT :new, NULL, name, password_hash, created_at FROM users WHERE id = :old"
    ), ids)
    for table, column in OWNED:
        connection.execute(
            sa.text(f"UPDATE {table} SET {column} = :new WHERE {column} = :old"), ids
        )
    connection.execute(sa.text("DELETE FROM users WHERE id = :old"), ids)
    connection.execute(
        sa.text("UPDATE users SET email = :email WHERE id = :new"), {**ids, "email": email}
    )


def _normalise_emails(connection):
    rows = connection.execute(sa.text(
        "SELECT id, email FROM users WHERE email IS NOT NULL ORDER BY created_at, id"
    )).all()
    taken = {email for _, email in rows}
    for user_id, email in rows:
        normal = unicodedata.normalize("NFKC", email).casefold()
        if normal == email:
            continue
        if normal in taken:
            log.warning("user %s: email normalises to one another account holds; "
                        "left as it is", user_id)
            continue
        connection.execute(
            sa.text("UPDATE users SET email = :email WHERE id = :id"),
            {"email": normal, "id": user_id},
        )
        taken.discard(email)
        taken.add(normal)
