"""Telegram users, processed updates and group-chat notices."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.models import (
    ConversationState,
    GroupNotice,
    HandledTap,
    Member,
    Notice,
    ProcessedUpdate,
    User,
)


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
