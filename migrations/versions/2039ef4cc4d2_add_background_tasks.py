"""Add background tasks

Revision ID: 2039ef4cc4d2
Revises: 231925bc283f
Create Date: 2026-11-25 09:31:33.372704

"""
from alembic import op
import sqlalchemy as sa

import grants.core.models


# revision identifiers, used by Alembic.
revision = '2039ef4cc4d2'
down_revision = '231925bc283f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('background_task',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('kind', sa.Enum('what_if', 'export_disbursements', 'export_milestones', name='taskkind', native_enum=False, length=30), nullable=False),
    sa.Column('owner_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('state', sa.Enum('queued', 'running', 'done', 'failed', name='taskstate', native_enum=False, length=20), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('file_name', sa.String(length=100), nullable=True),
    sa.Column('error', sa.String(length=500), nullable=True),
    sa.Column('created_at', grants.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', grants.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', grants.core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', grants.core.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_background_task_owner_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_background_task'))
    )
    with op.batch_alter_table('background_task', schema=None) as batch_op:
        batch_op.create_index('ix_background_task_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_background_task_owner_id_created_at', ['owner_id', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('background_task', schema=None) as batch_op:
        batch_op.drop_index('ix_background_task_owner_id_created_at')
        batch_op.drop_index('ix_background_task_created_at')

    op.drop_table('background_task')
