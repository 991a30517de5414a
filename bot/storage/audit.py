"""The audit's rows: appended, read a page at a time, newest first (see `bot.services.audit`).
Nothing here changes or deletes a row; the database would refuse it (migration 0010)."""

from __future__ import annotations

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.models import AuditEntry


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, entry: AuditEntry) -> AuditEntry:
        self.session.add(entry)
        await self.session.flush()
        return entry

    async def page(self, team_id: int, offset: int, limit: int) -> list[AuditEntry]:
        rows = await self.session.exec(
            select(AuditEntry)
            .where(col(AuditEntry.team_id) == team_id)
            .order_by(col(AuditEntry.id).desc())
            .offset(offset)
            .limit(limit)
        )
        return list(rows)

    async def count(self, team_id: int) -> int:
        rows = await self.session.exec(
            select(func.count()).select_from(AuditEntry).where(col(AuditEntry.team_id) == team_id)
        )
        return int(rows.one())
