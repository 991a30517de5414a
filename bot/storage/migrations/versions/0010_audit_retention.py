"""audit, retention

`audit`: the append-only record of team-level actions (exports, imports, erasures, role and
access changes, hand-overs, settings); triggers refuse an UPDATE or DELETE of its rows on both
databases. `team.erase_closed_years`: a team's retention (off when NULL).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 20:00:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.storage.types


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSAL = 'the audit is append-only'


def upgrade() -> None:
    op.create_table('audit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_member_id', sa.Integer(), nullable=True),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('count', sa.Integer(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['actor_member_id'], ['member.id'], name=op.f('fk_audit_actor_member_id_member')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_audit_member_id_member')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_audit_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit'))
    )
    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.create_index('ix_audit_team_id_id', ['team_id', 'id'], unique=False)
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erase_closed_years', sa.Integer(), nullable=True))
    if op.get_bind().dialect.name == 'sqlite':
        for event in ('UPDATE', 'DELETE'):
            op.execute(
                f"CREATE TRIGGER audit_no_{event.lower()} BEFORE {event} ON audit "
                f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
            )
    else:
        op.execute(
            "CREATE FUNCTION audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{REFUSAL}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('DROP TRIGGER IF EXISTS audit_no_update')
        op.execute('DROP TRIGGER IF EXISTS audit_no_delete')
    else:
        op.execute('DROP TRIGGER IF EXISTS audit_append_only ON audit')
        op.execute('DROP FUNCTION IF EXISTS audit_append_only()')
    with op.batch_alter_table('team', schema=None) as batch_op:
        batch_op.drop_column('erase_closed_years')
    with op.batch_alter_table('audit', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_team_id_id')
    op.drop_table('audit')
