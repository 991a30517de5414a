"""What an operator scrapes: `GET /metrics` in Prometheus' text format on METRICS_LISTEN.

Counters and histograms are kept in this process as things happen (updates handled, handler
time, errors, reminders sent, late or failed, Telegram's 429s). Gauges that come from the
database (reminders due, the last good backup) are read by the tick and kept here, so a
scrape never queries the database; only the active sender exports them (on a standby they
would repeat the sender's figures). Every series carries a `worker` label (the host and the
process's worker id), so N workers scraped on their own addresses stay apart.

Label values come from bounded sets: the update kind, the command (one of the bot's own, or
`other`) or the callback prefix (the letters before the first `:`, or `other`) — never a user,
a chat, a team or a deal.
"""

from __future__ import annotations

import asyncio
import re
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from telegram import Update

from bot.backup import newest

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.runtime import Runtime
    from bot.storage.unit_of_work import UnitOfWork

disable_created_metrics()  # no `_created` series beside every counter
CONTENT_TYPE = CONTENT_TYPE_LATEST
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_PREFIX = re.compile(r"^[a-z]{1,4}(?=:|$)")
OTHER = "other"


def update_labels(
    update: object, commands: frozenset[str], callbacks: frozenset[str] = frozenset()
) -> tuple[str, str]:
    """(kind, name) of an update: ("command", "today"), ("callback", "d"), ("message", "").
    Names are the bot's own commands and button prefixes, anything else `other`."""
    if not isinstance(update, Update):
        return OTHER, ""
    if update.callback_query is not None:
        match = _PREFIX.match(update.callback_query.data or "")
        return "callback", match.group(0) if match and match.group(0) in callbacks else OTHER
    message = update.message
    if message is not None:
        text = message.text or ""
        if text.startswith("/"):
            name = text[1:].split(maxsplit=1)[0].split("@", 1)[0].lower() if len(text) > 1 else ""
            return "command", name if name in commands else OTHER
        if message.document is not None:
            return "document", ""
        if message.photo or message.voice or message.video or message.audio:
            return "media", ""
        return "message", ""
    if update.edited_message is not None:
        return "edited_message", ""
    if update.my_chat_member is not None:
        return "my_chat_member", ""
    return OTHER, ""


@dataclass
class DatabaseFigures:
    """What the tick last read from the database (None: not read yet)."""

    reminders_due: int | None = None
    reminders_overdue: int | None = None
    backup_last_success: float | None = None  # unix time


@dataclass(eq=False)  # registered by identity
class _Gauges(Collector):
    """The database gauges, exported only while this process is the active sender."""

    worker: str
    figures: DatabaseFigures
    is_sender: Callable[[], bool]

    def collect(self) -> Iterable[Any]:
        if not self.is_sender():
            return
        values = (
            ("reminders_due", "Reminders due now and not yet sent", self.figures.reminders_due),
            (
                "reminders_overdue",
                "Reminders due more than five minutes ago and not yet sent",
                self.figures.reminders_overdue,
            ),
            (
                "backup_last_success_timestamp",
                "Unix time of the last backup that was made and verified",
                self.figures.backup_last_success,
            ),
        )
        for name, help_text, value in values:
            if value is None:
                continue
            family = GaugeMetricFamily(name, help_text, labels=["worker"])
            family.add_metric([self.worker], float(value))
            yield family
        if self.figures.backup_last_success is not None:
            family = GaugeMetricFamily(
                "backup_age_seconds", "Seconds since the last good backup", labels=["worker"]
            )
            family.add_metric([self.worker], time.time() - self.figures.backup_last_success)
            yield family


@dataclass
class Metrics:
    worker: str
    commands: frozenset[str] = frozenset()
    callbacks: frozenset[str] = frozenset()  # the prefixes of the bot's buttons
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    figures: DatabaseFigures = field(default_factory=DatabaseFigures)

    def __post_init__(self) -> None:
        r = self.registry
        self.updates = Counter(
            "telegram_updates", "Updates handled", ["worker", "kind", "name"], registry=r
        )
        self.latency = Histogram(
            "handler_latency_seconds",
            "Time from an update's arrival to the end of its handlers",
            ["worker", "kind"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.errors = Counter(
            "handler_errors", "Handler failures (answered with an apology)", ["worker"], registry=r
        )
        self.transient = Counter(
            "transient_failures",
            "Updates that failed for a passing reason (database away) and were left to retry",
            ["worker"],
            registry=r,
        )
        self.reminders = Counter(
            "reminders",
            "Reminders by outcome: sent, late (sent over five minutes after due), failed",
            ["worker", "outcome"],
            registry=r,
        )
        self.too_many = Counter(
            "telegram_429", "Telegram answered 429 Too Many Requests", ["worker"], registry=r
        )
        self.send_queue = Gauge(
            "send_queue_depth", "Sends waiting for the send budget", ["worker"], registry=r
        )
        self.tick_age = Gauge(
            "tick_age_seconds",
            "Seconds since this process's tick loop last ran",
            ["worker"],
            registry=r,
        )
        self.pool_in_use = Gauge(
            "db_pool_in_use", "Database connections checked out", ["worker"], registry=r
        )
        self.pool_size = Gauge(
            "db_pool_size", "Database connections the pool keeps", ["worker"], registry=r
        )
        self.is_sender = Gauge(
            "sender_active",
            "1 when this process sends reminders and digests",
            ["worker"],
            registry=r,
        )
        self._sender: Callable[[], bool] = lambda: True
        r.register(_Gauges(self.worker, self.figures, lambda: self._sender()))
        # Pre-create the counters' series so a rate() works from the first scrape.
        for outcome in ("sent", "late", "failed"):
            self.reminders.labels(self.worker, outcome)
        self.errors.labels(self.worker)
        self.too_many.labels(self.worker)
        self.transient.labels(self.worker)

    # --- live values, read at scrape time from this process (no database) ------------------
    def watch(
        self,
        *,
        queue_depth: Callable[[], float],
        tick_age: Callable[[], float],
        pool: Callable[[], tuple[float, float]],
        sender: Callable[[], bool],
    ) -> None:
        self.send_queue.labels(self.worker).set_function(queue_depth)
        self.tick_age.labels(self.worker).set_function(tick_age)
        self.pool_in_use.labels(self.worker).set_function(lambda: pool()[0])
        self.pool_size.labels(self.worker).set_function(lambda: pool()[1])
        self.is_sender.labels(self.worker).set_function(lambda: 1.0 if sender() else 0.0)
        self._sender = sender

    # --- events --------------------------------------------------------------------------------
    def handled(self, update: object, seconds: float) -> None:
        kind, name = update_labels(update, self.commands, self.callbacks)
        self.updates.labels(self.worker, kind, name).inc()
        self.latency.labels(self.worker, kind).observe(seconds)

    def error(self) -> None:
        self.errors.labels(self.worker).inc()

    def transient_failure(self) -> None:
        self.transient.labels(self.worker).inc()

    def reminder(self, outcome: str, count: int = 1) -> None:
        self.reminders.labels(self.worker, outcome).inc(count)

    def retry_after(self) -> None:
        self.too_many.labels(self.worker).inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)


OVERDUE_AFTER = timedelta(minutes=5)


def worker_label(settings: Settings, worker_id: str) -> str:
    """The `worker` label: this host and the address its metrics are scraped on (stable across
    restarts), or the process's worker id when it serves none."""
    host = socket.gethostname()
    if settings.metrics_listen:
        return f"{host}:{settings.address(settings.metrics_listen)[1]}"
    return f"{host}/{worker_id}"


async def refresh_figures(runtime: Runtime, uow: UnitOfWork) -> None:
    """The database's figures, read by the tick (never by a scrape)."""
    now = runtime.clock.now()
    figures = runtime.metrics.figures
    figures.reminders_due = await uow.reminders.waiting(now)
    figures.reminders_overdue = await uow.reminders.waiting(now - OVERDUE_AFTER)
    figures.backup_last_success = await asyncio.to_thread(newest, runtime.settings.backup_dir)


def watch_runtime(runtime: Runtime) -> None:
    """The live values a scrape reads from this process: the send queue, the tick's age, the
    pool, whether this process is the active sender."""
    dispatcher = runtime.dispatcher

    def queue_depth() -> float:
        return float(dispatcher.budget.waiting) if dispatcher is not None else 0.0

    def tick_age() -> float:
        ticked = runtime.ticked_at
        return time.monotonic() - ticked if ticked is not None else float("nan")

    def pool() -> tuple[float, float]:
        engine_pool = runtime.db.engine.pool
        checked_out = getattr(engine_pool, "checkedout", None)
        size = getattr(engine_pool, "size", None)
        return (
            float(checked_out()) if callable(checked_out) else 0.0,
            float(size()) if callable(size) else 0.0,
        )

    def sender() -> bool:
        return dispatcher is None or dispatcher.sender is None or dispatcher.sender.holding

    runtime.metrics.watch(queue_depth=queue_depth, tick_age=tick_age, pool=pool, sender=sender)
