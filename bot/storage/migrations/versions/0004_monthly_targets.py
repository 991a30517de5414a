"""monthly targets

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 16:02:51.554206
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.storage.types


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('target_deals', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('target_minor', sa.BigInteger(), nullable=True))

    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.add_column(sa.Column('target_deals', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('target_minor', sa.BigInteger(), nullable=True))




def downgrade() -> None:

    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.drop_column('target_minor')
        batch_op.drop_column('target_deals')

    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_column('target_minor')
        batch_op.drop_column('target_deals')


