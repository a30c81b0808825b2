"""users.role and users.disabled_at: roles for the API's own accounts, and disabled accounts

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 19:55:00.000000

Every existing account becomes a "user" (the server default); none is disabled.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    # batch_alter_table: SQLite can add these columns in place, but drops them only by a copy.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column(
            'role', sa.String(length=64), nullable=False, server_default='user'
        ))
        batch_op.add_column(sa.Column('disabled_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('disabled_at')
        batch_op.drop_column('role')
