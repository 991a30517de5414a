"""What every handler needs, built once per process: settings, database, catalogs, clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.i18n import I18n
from bot.storage.db import Database
from bot.storage.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from bot.dispatcher import Dispatcher


@dataclass
class Runtime:
    settings: Settings
    db: Database
    i18n: I18n
    clock: Clock = field(default_factory=SystemClock)
    bot_username: str = ""
    dispatcher: Dispatcher | None = None

    def uow(self, *, update_id: int | None = None) -> UnitOfWork:
        return UnitOfWork(self.db.sessions, self.clock, update_id=update_id)

    def reader(self) -> UnitOfWork:
        """A unit of work for reading only (figures, reports): it never blocks writers."""
        return UnitOfWork(self.db.read_sessions, self.clock)

    def link(self, payload: str) -> str:
        """A deep link that opens this bot with `/start <payload>`."""
        return f"https://t.me/{self.bot_username}?start={payload}"
