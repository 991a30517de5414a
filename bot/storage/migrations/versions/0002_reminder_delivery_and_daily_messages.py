"""reminder delivery and daily messages

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 15:28:16.205250
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.storage.types


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.add_column(sa.Column('agenda_sent_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('nudge_sent_on', sa.Date(), nullable=True))

    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.add_column(sa.Column('not_before', bot.storage.types.UTCDateTime(timezone=True), nullable=True))




def downgrade() -> None:

    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.drop_column('not_before')

    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_column('nudge_sent_on')
        batch_op.drop_column('agenda_sent_on')


