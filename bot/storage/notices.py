"""Notices: messages to other people that must arrive (see `bot.storage.models.Notice`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import NoticeKind, SendStatus
from bot.storage import leases
from bot.storage.models import Notice, User


class NoticeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(
        self,
        user_id: int,
        kind: NoticeKind,
        now: datetime,
        *,
        team_id: int | None = None,
        **params: Any,
    ) -> Notice:
        """Queue a notice in the same transaction as the change it tells about."""
        notice = Notice(user_id=user_id, team_id=team_id, kind=kind, params=params, created_at=now)
        self.session.add(notice)
        await self.session.flush()
        return notice

    async def due(self, now: datetime, limit: int) -> list[tuple[Notice, User]]:
        """Notices that can go out now, to people who have not blocked the bot, oldest first."""
        rows = await self.session.exec(
            select(Notice, User)
            .join(User, col(User.id) == col(Notice.user_id))
            .where(leases.claimable(Notice, now), col(User.bot_blocked).is_(False))
            .order_by(col(Notice.id))
            .limit(limit)
        )
        return list(rows)

    async def claim(
        self, ids: Sequence[int], *, worker: str, now: datetime, until: datetime
    ) -> list[int]:
        return await leases.claim(self.session, Notice, ids, worker=worker, now=now, until=until)

    async def sent(self, notice_id: int, *, worker: str, now: datetime) -> None:
        await leases.finish(
            self.session, Notice, [notice_id], worker=worker, status=SendStatus.SENT, sent_at=now
        )

    async def failed(self, notice_id: int, *, worker: str) -> None:
        await leases.finish(
            self.session, Notice, [notice_id], worker=worker, status=SendStatus.FAILED
        )

    async def release(self, notice_id: int, *, worker: str, not_before: datetime | None) -> None:
        await leases.release(
            self.session, Notice, [notice_id], worker=worker, not_before=not_before
        )
