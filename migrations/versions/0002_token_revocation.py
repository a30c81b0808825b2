"""token families and the revocation list

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 22:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('token_families',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=False),
    sa.Column('refresh_jti', sa.String(length=36), nullable=False),
    sa.Column('previous_jti', sa.String(length=36), nullable=True),
    sa.Column('rotated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('token_families', schema=None) as batch_op:
        batch_op.create_index('ix_token_families_user_id', ['user_id'], unique=False)
        batch_op.create_index('ix_token_families_expires_at', ['expires_at'], unique=False)

    op.create_table('revoked_tokens',
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    with op.batch_alter_table('revoked_tokens', schema=None) as batch_op:
        batch_op.create_index('ix_revoked_tokens_expires_at', ['expires_at'], unique=False)


def downgrade():
    with op.batch_alter_table('revoked_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_revoked_tokens_expires_at')
    op.drop_table('revoked_tokens')

    with op.batch_alter_table('token_families', schema=None) as batch_op:
        batch_op.drop_index('ix_token_families_expires_at')
        batch_op.drop_index('ix_token_families_user_id')
    op.drop_table('token_families')
