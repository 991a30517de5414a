"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 14:39:05.898714
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import bot.storage.types


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('conversationstate',
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('flow', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('step', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('updated_at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_conversationstate'))
    )
    op.create_table('groupnotice',
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.Column('at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('chat_id', name=op.f('pk_groupnotice'))
    )
    op.create_table('processedupdate',
    sa.Column('update_id', sa.BigInteger(), nullable=False),
    sa.Column('at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('update_id', name=op.f('pk_processedupdate'))
    )
    with op.batch_alter_table('processedupdate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_processedupdate_at'), ['at'], unique=False)

    op.create_table('team',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('timezone', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('country', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
    sa.Column('digest_hour', sa.Integer(), nullable=False),
    sa.Column('work_days', sa.Integer(), nullable=False),
    sa.Column('work_start_minute', sa.Integer(), nullable=False),
    sa.Column('work_end_minute', sa.Integer(), nullable=False),
    sa.Column('invite_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('deal_counter', sa.Integer(), nullable=False),
    sa.Column('created_at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_team')),
    sa.UniqueConstraint('invite_code', name=op.f('uq_team_invite_code'))
    )
    op.create_table('app_user',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('first_name', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('last_name', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
    sa.Column('language_chosen', sa.Boolean(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=True),
    sa.Column('bot_blocked', sa.Boolean(), nullable=False),
    sa.Column('created_at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_app_user_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_user'))
    )
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_app_user_team_id'), ['team_id'], unique=False)

    op.create_table('client',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('company', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('created_at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_client_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client'))
    )
    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_team_id'), ['team_id'], unique=False)
        batch_op.create_index('ix_client_team_id_phone', ['team_id', 'phone'], unique=False)

    op.create_table('lossreason',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('winback_days', sa.Integer(), nullable=True),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_lossreason_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lossreason'))
    )
    with op.batch_alter_table('lossreason', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lossreason_team_id'), ['team_id'], unique=False)

    op.create_table('stage',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('limit_days', sa.Integer(), nullable=True),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_stage_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stage'))
    )
    with op.batch_alter_table('stage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stage_team_id'), ['team_id'], unique=False)

    op.create_table('member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('role', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('morning_agenda', sa.Boolean(), nullable=False),
    sa.Column('joined_at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deactivated_at', bot.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_member_team_id_team')),
    sa.ForeignKeyConstraint(['user_id'], ['app_user.id'], name=op.f('fk_member_user_id_app_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member')),
    sa.UniqueConstraint('team_id', 'user_id', name=op.f('uq_member_team_id_user_id'))
    )
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_member_team_id'), ['team_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_member_user_id'), ['user_id'], unique=False)

    op.create_table('deal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('owner_member_id', sa.Integer(), nullable=False),
    sa.Column('stage_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('value_minor', sa.BigInteger(), nullable=True),
    sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
    sa.Column('next_contact_at', bot.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('next_step', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('last_note', sa.Text(), nullable=True),
    sa.Column('loss_reason_id', sa.Integer(), nullable=True),
    sa.Column('loss_comment', sa.Text(), nullable=True),
    sa.Column('winback_at', bot.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('handover_at', bot.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('stage_entered_at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', bot.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['client.id'], name=op.f('fk_deal_client_id_client')),
    sa.ForeignKeyConstraint(['loss_reason_id'], ['lossreason.id'], name=op.f('fk_deal_loss_reason_id_lossreason')),
    sa.ForeignKeyConstraint(['owner_member_id'], ['member.id'], name=op.f('fk_deal_owner_member_id_member')),
    sa.ForeignKeyConstraint(['stage_id'], ['stage.id'], name=op.f('fk_deal_stage_id_stage')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_deal_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deal')),
    sa.UniqueConstraint('team_id', 'number', name=op.f('uq_deal_team_id_number'))
    )
    with op.batch_alter_table('deal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deal_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deal_owner_member_id'), ['owner_member_id'], unique=False)
        batch_op.create_index('ix_deal_team_id_next_contact_at', ['team_id', 'next_contact_at'], unique=False)
        batch_op.create_index('ix_deal_team_id_status_owner', ['team_id', 'status', 'owner_member_id'], unique=False)

    op.create_table('dealevent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('deal_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_member_id', sa.Integer(), nullable=True),
    sa.Column('owner_member_id', sa.Integer(), nullable=True),
    sa.Column('from_stage_id', sa.Integer(), nullable=True),
    sa.Column('to_stage_id', sa.Integer(), nullable=True),
    sa.Column('activity', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('amount_minor', sa.BigInteger(), nullable=True),
    sa.Column('reason_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('due_at', bot.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('undoes_event_id', sa.Integer(), nullable=True),
    sa.Column('data', sa.JSON(), nullable=True),
    sa.ForeignKeyConstraint(['actor_member_id'], ['member.id'], name=op.f('fk_dealevent_actor_member_id_member')),
    sa.ForeignKeyConstraint(['deal_id'], ['deal.id'], name=op.f('fk_dealevent_deal_id_deal')),
    sa.ForeignKeyConstraint(['from_stage_id'], ['stage.id'], name=op.f('fk_dealevent_from_stage_id_stage')),
    sa.ForeignKeyConstraint(['owner_member_id'], ['member.id'], name=op.f('fk_dealevent_owner_member_id_member')),
    sa.ForeignKeyConstraint(['reason_id'], ['lossreason.id'], name=op.f('fk_dealevent_reason_id_lossreason')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_dealevent_team_id_team')),
    sa.ForeignKeyConstraint(['to_stage_id'], ['stage.id'], name=op.f('fk_dealevent_to_stage_id_stage')),
    sa.ForeignKeyConstraint(['undoes_event_id'], ['dealevent.id'], name=op.f('fk_dealevent_undoes_event_id_dealevent')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dealevent'))
    )
    with op.batch_alter_table('dealevent', schema=None) as batch_op:
        batch_op.create_index('ix_dealevent_deal_id_at', ['deal_id', 'at'], unique=False)
        batch_op.create_index('ix_dealevent_team_id_kind_at', ['team_id', 'kind', 'at'], unique=False)

    op.create_table('reminder',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('deal_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('due_at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('claimed_at', bot.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sent_at', bot.storage.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('chat_message_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', bot.storage.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['deal_id'], ['deal.id'], name=op.f('fk_reminder_deal_id_deal')),
    sa.ForeignKeyConstraint(['member_id'], ['member.id'], name=op.f('fk_reminder_member_id_member')),
    sa.ForeignKeyConstraint(['team_id'], ['team.id'], name=op.f('fk_reminder_team_id_team')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reminder'))
    )
    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reminder_deal_id'), ['deal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reminder_member_id'), ['member_id'], unique=False)
        batch_op.create_index('ix_reminder_status_due_at', ['status', 'due_at'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('reminder', schema=None) as batch_op:
        batch_op.drop_index('ix_reminder_status_due_at')
        batch_op.drop_index(batch_op.f('ix_reminder_member_id'))
        batch_op.drop_index(batch_op.f('ix_reminder_deal_id'))

    op.drop_table('reminder')
    with op.batch_alter_table('dealevent', schema=None) as batch_op:
        batch_op.drop_index('ix_dealevent_team_id_kind_at')
        batch_op.drop_index('ix_dealevent_deal_id_at')

    op.drop_table('dealevent')
    with op.batch_alter_table('deal', schema=None) as batch_op:
        batch_op.drop_index('ix_deal_team_id_status_owner')
        batch_op.drop_index('ix_deal_team_id_next_contact_at')
        batch_op.drop_index(batch_op.f('ix_deal_owner_member_id'))
        batch_op.drop_index(batch_op.f('ix_deal_client_id'))

    op.drop_table('deal')
    with op.batch_alter_table('member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_member_user_id'))
        batch_op.drop_index(batch_op.f('ix_member_team_id'))

    op.drop_table('member')
    with op.batch_alter_table('stage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stage_team_id'))

    op.drop_table('stage')
    with op.batch_alter_table('lossreason', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_lossreason_team_id'))

    op.drop_table('lossreason')
    with op.batch_alter_table('client', schema=None) as batch_op:
        batch_op.drop_index('ix_client_team_id_phone')
        batch_op.drop_index(batch_op.f('ix_client_team_id'))

    op.drop_table('client')
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_app_user_team_id'))

    op.drop_table('app_user')
    op.drop_table('team')
    with op.batch_alter_table('processedupdate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_processedupdate_at'))

    op.drop_table('processedupdate')
    op.drop_table('groupnotice')
    op.drop_table('conversationstate')

