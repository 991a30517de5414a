"""digest bookkeeping and undo index

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 15:48:23.282021
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.storage.types


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    with op.batch_alter_table('dealevent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dealevent_undoes_event_id'), ['undoes_event_id'], unique=False)

    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('digest_day', sa.Date(), nullable=True))




def downgrade() -> None:

    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_column('digest_day')

    with op.batch_alter_table('dealevent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dealevent_undoes_event_id'))


