"""One database transaction per piece of work, with the repositories bound to it.

Repositories never commit; the unit of work does. When it is created for a Telegram update it
records the update id in the same transaction, so a replayed update (after a crash, polling
hands the last batch out again) finds its writes already done and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.storage.analytics import AnalyticsRepository
from bot.storage.audit import AuditRepository
from bot.storage.conversations import ConversationRepository
from bot.storage.daily import DailySendRepository
from bot.storage.db import WriteLock
from bot.storage.deals import DealRepository
from bot.storage.erasure import ErasureRepository
from bot.storage.jobs import JobRepository
from bot.storage.models import HandledTap, ProcessedUpdate
from bot.storage.notices import NoticeRepository
from bot.storage.reminders import ReminderRepository
from bot.storage.reporting import ReportRepository
from bot.storage.teams import TeamRepository
from bot.storage.users import UserRepository
from bot.storage.workers import WorkerRepository

# Advisory lock keys of people: Telegram user ids (below 2^52) shifted out of the way of the
# bot's own lock keys (`bot.leader.SENDER_KEY`, `bot.storage.migrate.MIGRATIONS_KEY`).
PERSON_LOCKS = 1 << 60


class DuplicateUpdate(Exception):
    """The update's writes were committed before: nothing to do."""


class DuplicateTap(Exception):
    """The same button of the same message was tapped before and acted on: nothing to do."""


class UnitOfWork:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        update_id: int | None = None,
        tap_key: str | None = None,
        person: int | None = None,
        on_recorded: Callable[[], None] | None = None,
        write_lock: WriteLock | None = None,
    ) -> None:
        self._sessions = sessions
        self._write_lock = write_lock
        self._holding = False
        self._on_recorded = on_recorded
        self.clock = clock
        self.update_id = update_id
        self.tap_key = tap_key
        self.person = person
        self.update_recorded = False

    async def __aenter__(self) -> UnitOfWork:
        if self._write_lock is not None:
            await self._write_lock.acquire()
            self._holding = True
        try:
            return await self._open()
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        if self._holding:
            self._holding = False
            assert self._write_lock is not None
            self._write_lock.release()

    async def _open(self) -> UnitOfWork:
        self.session = self._sessions()
        self.teams = TeamRepository(self.session)
        self.users = UserRepository(self.session)
        self.conversations = ConversationRepository(self.session)
        self.deals = DealRepository(self.session)
        self.reminders = ReminderRepository(self.session)
        self.analytics = AnalyticsRepository(self.session)
        self.reporting = ReportRepository(self.session)
        self.daily = DailySendRepository(self.session)
        self.notices = NoticeRepository(self.session)
        self.jobs = JobRepository(self.session)
        self.workers = WorkerRepository(self.session)
        self.erasure = ErasureRepository(self.session)
        self.audit = AuditRepository(self.session)
        if self.person is not None:
            await self._serialise_person()
        return self

    async def _serialise_person(self) -> None:
        """On PostgreSQL, one person's updates never write at the same time in two processes:
        this transaction holds that person's advisory lock until it ends (a lock held on a
        pooled connection for a whole update would deadlock the pool once enough updates wait)."""
        connection = await self.session.connection()
        if connection.dialect.name != "postgresql":
            return
        await connection.execute(
            text("SELECT pg_advisory_xact_lock(:key)"),
            {"key": PERSON_LOCKS + int(self.person or 0)},
        )

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Closing ends (rolls back) unfinished work without expiring the loaded objects, which
        # callers go on reading after the unit of work is over.
        try:
            await self.session.close()
        finally:
            self._release()

    async def commit(self) -> None:
        """Commit; for an update, record its id (and the tapped button's key) in the same
        transaction, so a replay or a double tap finds the writes done and changes nothing."""
        if self.update_recorded or (self.update_id is None and self.tap_key is None):
            await self.session.commit()
            return
        now = self.clock.now()
        if self.tap_key is not None:
            if await self.users.is_handled_tap(self.tap_key):
                await self.session.rollback()
                raise DuplicateTap(self.tap_key)
            self.session.add(HandledTap(key=self.tap_key, at=now))
        if self.update_id is not None:
            self.session.add(ProcessedUpdate(update_id=self.update_id, at=now))
        try:
            await self.session.commit()
        except IntegrityError as error:
            await self.session.rollback()
            if self.tap_key is not None and await self._tap_seen():
                raise DuplicateTap(self.tap_key) from error
            raise DuplicateUpdate(self.update_id) from error
        self.update_recorded = True
        if self._on_recorded is not None:
            self._on_recorded()

    async def _tap_seen(self) -> bool:
        assert self.tap_key is not None
        async with self._sessions() as session:
            return await session.get(HandledTap, self.tap_key) is not None
