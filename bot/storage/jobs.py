"""Heavy work in the background (see `bot.storage.models.Job`): queued by a handler, claimed
with a lease by a job worker, one running job per team at a time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import JobKind, JobStatus
from bot.storage import leases
from bot.storage.models import Job

ACTIVE = (JobStatus.PENDING, JobStatus.RUNNING)


class JobRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, job_id: int) -> Job | None:
        return await self.session.get(Job, job_id)

    async def add(
        self,
        kind: JobKind,
        *,
        team_id: int,
        member_id: int,
        chat_id: int,
        now: datetime,
        params: dict[str, Any],
    ) -> Job:
        job = Job(
            kind=kind,
            team_id=team_id,
            requester_member_id=member_id,
            chat_id=chat_id,
            params=params,
            created_at=now,
        )
        self.session.add(job)
        await self.session.flush()
        return job

    async def active_for_team(self, team_id: int, kind: JobKind) -> Job | None:
        """The team's job of this kind that is waiting or running, if any."""
        rows = await self.session.exec(
            select(Job)
            .where(Job.team_id == team_id, Job.kind == kind, col(Job.status).in_(ACTIVE))
            .limit(1)
        )
        return rows.first()

    async def created_since(self, team_id: int, since: datetime) -> list[datetime]:
        """When the team's jobs of the window were asked for, oldest first."""
        rows = await self.session.exec(
            select(Job.created_at)
            .where(Job.team_id == team_id, col(Job.created_at) >= since)
            .order_by(col(Job.created_at))
        )
        return list(rows)

    async def next_ids(self, now: datetime, limit: int) -> list[int]:
        """Jobs that can start: due, oldest first, of teams with no job running under a live
        lease (one running heavy job per team). PostgreSQL skips rows other workers lock."""
        running = (
            select(col(Job.team_id))
            .where(col(Job.status) == JobStatus.RUNNING, col(Job.lease_until) >= now)
            .scalar_subquery()
        )
        first_per_team = (
            select(func.min(col(Job.id)))
            .where(leases.claimable(Job, now))
            .group_by(col(Job.team_id))
            .scalar_subquery()
        )
        rows = await self.session.exec(
            select(col(Job.id))
            .where(
                col(Job.id).in_(first_per_team),
                col(Job.team_id).not_in(running),
            )
            .order_by(col(Job.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [int(row or 0) for row in rows]

    async def claim(self, job_id: int, *, worker: str, now: datetime, until: datetime) -> bool:
        taken = await leases.claim(
            self.session, Job, [job_id], worker=worker, now=now, until=until
        )
        return bool(taken)

    async def done(self, job_id: int, *, worker: str, now: datetime) -> bool:
        """Mark the job done (True), unless this worker no longer holds it."""
        finished = await leases.finish(
            self.session, Job, [job_id], worker=worker, status=JobStatus.DONE, finished_at=now
        )
        return bool(finished)

    async def failed(self, job_id: int, *, worker: str, now: datetime, error: str) -> None:
        await leases.finish(
            self.session,
            Job,
            [job_id],
            worker=worker,
            status=JobStatus.FAILED,
            finished_at=now,
            error=error[:200],
        )

    async def release(self, job_id: int, *, worker: str, not_before: datetime) -> None:
        await leases.release(self.session, Job, [job_id], worker=worker, not_before=not_before)
