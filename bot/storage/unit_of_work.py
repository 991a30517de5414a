"""One database transaction per piece of work, with the repositories bound to it.

Repositories never commit; the unit of work does. When it is created for a Telegram update it
records the update id in the same transaction, so a replayed update (after a crash, polling
hands the last batch out again) finds its writes already done and changes nothing.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.clock import Clock
from bot.storage.analytics import AnalyticsRepository
from bot.storage.conversations import ConversationRepository
from bot.storage.deals import DealRepository
from bot.storage.models import ProcessedUpdate
from bot.storage.reminders import ReminderRepository
from bot.storage.reporting import ReportRepository
from bot.storage.teams import TeamRepository
from bot.storage.users import UserRepository


class DuplicateUpdate(Exception):
    """The update's writes were committed before: nothing to do."""


class UnitOfWork:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Clock,
        *,
        update_id: int | None = None,
    ) -> None:
        self._sessions = sessions
        self.clock = clock
        self.update_id = update_id
        self.update_recorded = False

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._sessions()
        self.teams = TeamRepository(self.session)
        self.users = UserRepository(self.session)
        self.conversations = ConversationRepository(self.session)
        self.deals = DealRepository(self.session)
        self.reminders = ReminderRepository(self.session)
        self.analytics = AnalyticsRepository(self.session)
        self.reporting = ReportRepository(self.session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Closing ends (rolls back) unfinished work without expiring the loaded objects, which
        # callers go on reading after the unit of work is over.
        await self.session.close()

    async def commit(self) -> None:
        if self.update_id is not None and not self.update_recorded:
            self.session.add(ProcessedUpdate(update_id=self.update_id, at=self.clock.now()))
            try:
                await self.session.commit()
            except IntegrityError as error:
                await self.session.rollback()
                raise DuplicateUpdate(self.update_id) from error
            self.update_recorded = True
            return
        await self.session.commit()
