"""Running bot processes (see `bot.storage.models.Worker`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.models import Worker


class WorkerRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def started(self, worker: Worker) -> None:
        self.session.add(worker)
        await self.session.flush()

    async def ticked(self, worker_id: str, now: datetime, *, sender: bool) -> None:
        """Record this process's tick (and whether it is the active sender now)."""
        await self.session.exec(
            update(Worker).where(col(Worker.id) == worker_id).values(ticked_at=now, sender=sender)
        )

    async def stopped(self, worker_id: str) -> None:
        await self.session.exec(delete(Worker).where(col(Worker.id) == worker_id))

    async def last_tick(self) -> datetime | None:
        """The latest tick of any running process."""
        result = await self.session.exec(select(func.max(Worker.ticked_at)))
        return result.one()

    async def running(self) -> list[Worker]:
        return list(await self.session.exec(select(Worker).order_by(col(Worker.started_at))))
