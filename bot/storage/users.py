"""Telegram users, processed updates and group-chat notices."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.models import GroupNotice, ProcessedUpdate, User


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
        rows = await self.session.exec(
            select(ProcessedUpdate).where(col(ProcessedUpdate.at) < moment)
        )
        for row in rows:
            await self.session.delete(row)

    async def claim_group_notice(self, chat_id: int, now: datetime) -> bool:
        """True the first time a group chat is seen: it is told once and then ignored."""
        if await self.session.get(GroupNotice, chat_id) is not None:
            return False
        self.session.add(GroupNotice(chat_id=chat_id, at=now))
        await self.session.flush()
        return True
