"""What every handler needs, built once per process: settings, database, catalogs, clock."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.i18n import I18n
from bot.metrics import Metrics, worker_label
from bot.storage.db import Database
from bot.storage.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from bot.dispatcher import Dispatcher
    from bot.jobs import JobWorker
    from bot.leases import LeaseKeeper
    from bot.web import WebServer


@dataclass
class Runtime:
    settings: Settings
    db: Database
    i18n: I18n
    clock: Clock = field(default_factory=SystemClock)
    bot_username: str = ""
    dispatcher: Dispatcher | None = None
    jobs: JobWorker | None = None
    leases: LeaseKeeper | None = None
    web: WebServer | None = None
    # Names this process's claims on shared work (never a pid: pids repeat across restarts
    # and hosts); a new one at every start.
    worker_id: str = field(default_factory=lambda: secrets.token_hex(8))
    # Updates whose handling failed for a reason that may pass (the database away): the
    # webhook answers them 500, so Telegram delivers them again.
    transient_failures: set[int] = field(default_factory=set)
    # The admins were told the daily backup failed (again only after one worked).
    backup_failure_told: bool = False
    ticked_at: float | None = None  # time.monotonic() of this process's last tick
    metrics: Metrics = field(init=False)

    def __post_init__(self) -> None:
        self.metrics = Metrics(worker=worker_label(self.settings, self.worker_id))

    def uow(
        self,
        *,
        update_id: int | None = None,
        tap_key: str | None = None,
        person: int | None = None,
        on_recorded: Callable[[], None] | None = None,
    ) -> UnitOfWork:
        return UnitOfWork(
            self.db.sessions,
            self.clock,
            update_id=update_id,
            tap_key=tap_key,
            person=person,
            on_recorded=on_recorded,
            write_lock=self.db.write_lock,
        )

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.settings.lease_seconds)

    def lease_until(self, now: datetime) -> datetime:
        return now + self.lease

    def reader(self) -> UnitOfWork:
        """A unit of work for reading only (figures, reports): it never blocks writers."""
        return UnitOfWork(self.db.read_sessions, self.clock)

    def link(self, payload: str) -> str:
        """A deep link that opens this bot with `/start <payload>`."""
        return f"https://t.me/{self.bot_username}?start={payload}"
