"""Carry a fund's cut over to the grant's next milestone: what each final amount carried, and where

Revision ID: 3c1a9e7f2b10
Revises: 7bd56c99380a
Create Date: 2026-12-08 03:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3c1a9e7f2b10'
down_revision = '7bd56c99380a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('settlement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('carried', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('carried_to_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_settlement_carried_to_id_milestone'), 'milestone', ['carried_to_id'], ['id'])


def downgrade():
    with op.batch_alter_table('settlement', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_settlement_carried_to_id_milestone'), type_='foreignkey')
        batch_op.drop_column('carried_to_id')
        batch_op.drop_column('carried')
