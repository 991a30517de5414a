"""Telegram users, processed updates and group-chat notices."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, exists, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.models import (
    ConversationState,
    GroupNotice,
    HandledTap,
    Member,
    Notice,
    ProcessedUpdate,
    Team,
    User,
)


@dataclass(frozen=True)
class AccountRow:
    """A person as one update needs them: the user, their membership of the team they point
    at (active or not) and that team, their pending flow, and whether the update was handled."""

    user: User
    member: Member | None
    team: Team | None
    flow: ConversationState | None
    processed: bool


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)

    async def add(self, user: User) -> User:
        self.session.add(user)
        await self.session.flush()
        return user

    async def mark_blocked(self, user_id: int, blocked: bool) -> bool:
        user = await self.get(user_id)
        if user is None or user.bot_blocked == blocked:
            return False
        user.bot_blocked = blocked
        self.session.add(user)
        return True

    async def account(self, user_id: int, update_id: int) -> AccountRow | None:
        """Everything the account loader reads, in one statement (None: a new person)."""
        handled = exists().where(col(ProcessedUpdate.update_id) == update_id)
        rows = await self.session.exec(  # type: ignore[call-overload]  # five entities
            sa_select(User, Member, Team, ConversationState, handled.label("handled"))
            .outerjoin(
                Member,
                and_(
                    col(Member.team_id) == col(User.team_id), col(Member.user_id) == col(User.id)
                ),
            )
            .outerjoin(Team, col(Team.id) == col(User.team_id))
            .outerjoin(ConversationState, col(ConversationState.user_id) == col(User.id))
            .where(col(User.id) == user_id)
        )
        row = rows.first()
        if row is None:
            return None
        user, member, team, flow, processed = row
        return AccountRow(user, member, team, flow, bool(processed))

    async def is_processed(self, update_id: int) -> bool:
        return await self.session.get(ProcessedUpdate, update_id) is not None

    async def forget_processed_before(self, moment: datetime) -> None:
        """Handled update ids and tap keys older than `moment` are forgotten."""
        await self.session.exec(delete(ProcessedUpdate).where(col(ProcessedUpdate.at) < moment))
        await self.session.exec(delete(HandledTap).where(col(HandledTap.at) < moment))

    async def forget_idle_flows(self, before: datetime) -> int:
        """Conversation states untouched since `before` (abandoned: what was typed goes)."""
        result = await self.session.exec(
            delete(ConversationState).where(col(ConversationState.updated_at) < before)
        )
        return int(result.rowcount or 0)

    async def forget_strangers(self, seen_before: datetime) -> int:
        """People who wrote to the bot but never joined a team, last seen before
        `seen_before`: nothing of theirs is kept."""
        strangers = select(User.id).where(
            col(User.team_id).is_(None),
            col(User.last_seen_at) < seen_before,
            col(User.id).not_in(select(Member.user_id)),
            col(User.id).not_in(select(Notice.user_id)),
        )
        ids = [int(row) for row in await self.session.exec(strangers)]
        if not ids:
            return 0
        await self.session.exec(
            delete(ConversationState).where(col(ConversationState.user_id).in_(ids))
        )
        await self.session.exec(delete(User).where(col(User.id).in_(ids)))
        return len(ids)

    async def opened_card(self, user_id: int, deal_id: int, now: datetime) -> None:
        await self.session.exec(
            update(User)
            .where(col(User.id) == user_id)
            .values(open_deal_id=deal_id, open_deal_at=now)
        )

    async def is_handled_tap(self, key: str) -> bool:
        return await self.session.get(HandledTap, key) is not None

    async def claim_tap(self, key: str, now: datetime) -> bool:
        """True the first time a key is seen (a tap of one button of one message, or an
        edited message): the caller acts once and answers every repeat with "already done"."""
        if await self.is_handled_tap(key):
            return False
        self.session.add(HandledTap(key=key, at=now))
        await self.session.flush()
        return True

    async def claim_group_notice(self, chat_id: int, now: datetime) -> bool:
        """True the first time a group chat is seen: it is told once and then ignored."""
        if await self.session.get(GroupNotice, chat_id) is not None:
            return False
        self.session.add(GroupNotice(chat_id=chat_id, at=now))
        await self.session.flush()
        return True
