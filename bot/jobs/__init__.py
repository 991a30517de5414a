"""The background job worker: heavy work (an import's parse and write, an export, a report file)
that a handler queued in the `job` table instead of doing it while the person waits.

Jobs are claimed with a lease like reminders (`bot.storage.leases`), so a job a crashed process
was running is taken again once its lease expires, and a restart finishes it. At most one job
per team runs at a time (the claim skips teams with a job running under a live lease) and at
most `CONCURRENCY` in this process. A job that fails is retried with backoff; after
`MAX_ATTEMPTS` the requester is told it could not be done. CPU-bound parts of the work run off
the event loop (a child process or a thread, see the job kinds), so the bot keeps answering.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telegram import Bot
from telegram.error import TelegramError

from bot.domain import JobKind
from bot.i18n import Translator
from bot.runtime import Runtime
from bot.services.reminders import backoff
from bot.storage.models import Job, Member, Team, User
from bot.storage.unit_of_work import UnitOfWork

log = logging.getLogger(__name__)

CONCURRENCY = 2
MAX_ATTEMPTS = 3


@dataclass
class JobContext:
    """What a job kind gets: the job, who asked for it (in their language), and the bot."""

    runtime: Runtime
    bot: Bot
    job: Job
    team: Team
    member: Member
    user: User
    t: Translator

    @property
    def chat_id(self) -> int:
        return self.job.chat_id

    async def finish_in(self, uow: UnitOfWork) -> bool:
        """Mark the job done inside the caller's own transaction (a write that must happen
        exactly once commits together with the job's end); False if the job is not ours."""
        return await uow.jobs.done(
            self.job.id or 0, worker=self.runtime.worker_id, now=self.runtime.clock.now()
        )

    async def send(self, text: str, **kwargs: Any) -> None:
        await self.bot.send_message(self.chat_id, text, **kwargs)


JobRunner = Callable[[JobContext], Awaitable[None]]


class JobWorker:
    def __init__(
        self, runtime: Runtime, bot: Bot, runners: dict[JobKind, JobRunner], *, poll: float
    ) -> None:
        self.runtime = runtime
        self.bot = bot
        self.runners = runners
        self.poll = poll
        self._wake = asyncio.Event()
        self._loop: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()

    def start(self) -> None:
        if self._loop is None:
            self._loop = asyncio.create_task(self._run(), name="job-worker")

    def kick(self) -> None:
        """A job was queued: look for work now instead of at the next poll."""
        self._wake.set()

    async def idle(self) -> None:
        """Wait until no job of this process is running (for tests and shutdown)."""
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)

    async def stop(self) -> None:
        """Stop taking jobs; jobs still running are cancelled and their claims given back
        (the lease keeper releases them), so another process or the next start redoes them."""
        loop, self._loop = self._loop, None
        if loop is not None:
            loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await loop
        for task in list(self._running):
            task.cancel()
        await asyncio.gather(*list(self._running), return_exceptions=True)

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll)
            self._wake.clear()
            try:
                await self.take_jobs()
            except Exception:
                log.warning("could not look for jobs", exc_info=True)

    async def take_jobs(self) -> int:
        """Claim what can start now, up to the free slots; returns how many started."""
        free = CONCURRENCY - len(self._running)
        if free <= 0:
            return 0
        runtime = self.runtime
        now = runtime.clock.now()
        started = 0
        async with runtime.uow() as uow:
            for job_id in await uow.jobs.next_ids(now, free):
                if await uow.jobs.claim(
                    job_id, worker=runtime.worker_id, now=now, until=runtime.lease_until(now)
                ):
                    job = await uow.jobs.get(job_id)
                    assert job is not None
                    await uow.session.refresh(job)
                    task = asyncio.create_task(self._execute(job), name=f"job-{job_id}")
                    self._running.add(task)
                    task.add_done_callback(self._done)
                    started += 1
            await uow.commit()
        return started

    def _done(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._wake.set()  # a slot is free, and the team may have more work queued

    async def _execute(self, job: Job) -> None:
        runtime = self.runtime
        context = await self._context(job)
        if context is None:
            await self._fail(job, "requester gone", tell=None)
            return
        runner = self.runners.get(JobKind(job.kind))
        if runner is None:
            await self._fail(job, f"no runner for {job.kind}", tell=context)
            return
        try:
            await runner(context)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.exception("job %s (%s) failed", job.id, job.kind)
            if job.attempts >= MAX_ATTEMPTS:
                await self._fail(job, type(error).__name__, tell=context)
            else:
                async with runtime.uow() as uow:
                    await uow.jobs.release(
                        job.id or 0,
                        worker=runtime.worker_id,
                        not_before=runtime.clock.now() + backoff(job.attempts),
                    )
                    await uow.commit()
            return
        async with runtime.uow() as uow:
            await uow.jobs.done(job.id or 0, worker=runtime.worker_id, now=runtime.clock.now())
            await uow.commit()

    async def _context(self, job: Job) -> JobContext | None:
        async with self.runtime.uow() as uow:
            team = await uow.teams.get(job.team_id)
            member = await uow.teams.member_by_id(job.requester_member_id)
            user = await uow.users.get(member.user_id) if member else None
        if team is None or member is None or user is None or not member.active:
            return None
        t = self.runtime.i18n.translator(user.language, team.timezone)
        return JobContext(self.runtime, self.bot, job, team, member, user, t)

    async def _fail(self, job: Job, error: str, *, tell: JobContext | None) -> None:
        runtime = self.runtime
        async with runtime.uow() as uow:
            await uow.jobs.failed(
                job.id or 0, worker=runtime.worker_id, now=runtime.clock.now(), error=error
            )
            await uow.commit()
        if tell is not None:
            text = tell.t._(
                "😕 I couldn't prepare that, sorry: something went wrong on my side. "
                "Please try again later."
            )
            try:
                await tell.send(text)
            except TelegramError:
                log.warning("could not tell %s that job %s failed", tell.chat_id, job.id)
