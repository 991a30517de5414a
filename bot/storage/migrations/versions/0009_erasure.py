"""erasure

`client.erased_at`, `client.erased_by_member_id`: a client whose personal data was erased on
request (GDPR Art. 17). `erasure`: who erased whose data and when (nothing personal).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 15:30:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.storage.types


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('erased_at', bot.storage.types.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column('erased_by_member_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_client_erased_by_member_id_member'),
            'member',
            ['erased_by_member_id'],
            ['id'],
        )
    op.create_table('erasure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('client_created_at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('by_member_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['by_member_id'], ['member.id'], name=op.f('fk_erasure_by_member_id_member')),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], name=op.f('fk_erasure_client_id_client')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_erasure_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_erasure'))
    )
    with op.batch_alter_table('erasure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_erasure_team_id'), ['team_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('erasure', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_erasure_team_id'))
    op.drop_table('erasure')
    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_client_erased_by_member_id_member'), type_='foreignkey'
        )
        batch_op.drop_column('erased_by_member_id')
        batch_op.drop_column('erased_at')
