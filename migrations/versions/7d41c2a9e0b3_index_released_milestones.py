"""Index released milestones

Revision ID: 7d41c2a9e0b3
Revises: 2039ef4cc4d2
Create Date: 2026-11-25 09:40:00.000000

"""
from alembic import op
import sqlalchemy as sa

import grants.core.models


# revision identifiers, used by Alembic.
revision = '7d41c2a9e0b3'
down_revision = '2039ef4cc4d2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.add_column(sa.Column('released_at', grants.core.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_milestone_state_released_at_due_date', ['state', 'released_at', 'due_date'], unique=False)
    # Milestones released before the column existed take their disbursement's time.
    op.execute(
        "UPDATE milestone SET released_at = (SELECT disbursement.released_at FROM disbursement"
        " WHERE disbursement.milestone_id = milestone.id)"
        " WHERE EXISTS (SELECT 1 FROM disbursement WHERE disbursement.milestone_id = milestone.id)"
    )


def downgrade():
    with op.batch_alter_table('milestone', schema=None) as batch_op:
        batch_op.drop_index('ix_milestone_state_released_at_due_date')
        batch_op.drop_column('released_at')
