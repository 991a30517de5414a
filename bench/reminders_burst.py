"""A burst of reminders all due in the same minute, sent by the real bot to a fake Bot API.

    python -m bench.reminders_burst [--db sqlite|postgresql] [--reminders 10000] [--people 500]

Three processes, so that what is measured is the bot alone:

* a child process serves the fake Bot API (`tests.fakes.telegram_server.FakeTelegram`) with
  Telegram's limits: 30 messages a second in all (burst 30), one a second per chat (burst 3);
  it records every message it accepts and every 429 it hands out;
* another child migrates and seeds the database in bulk (teams, people, clients, deals and one
  pending reminder per deal, all due at the same moment) and exits;
* this process runs the real Application (built like `tests/harness.py` does) and times the
  reminder dispatcher until every reminder is out: wall time, messages a second, CPU seconds and
  memory of this process.

Then it checks that every reminder row is SENT, every reminder arrived exactly once and in its
owner's chat, every person got their share, and prints a table with a verdict against the targets
(at least 25 messages a second, under 150 MB peak RSS). Exit status 0 only when all of it holds.

The bot's clock stands at Monday 23 November 2026 09:00 UTC (when every reminder is due) until the
first tick, then moves with real time, so claims, "late" marks and retries see real durations.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import multiprocessing
import os
import platform
import random
import resource
import secrets
import shutil
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from bench.postgres import reset_postgres

if TYPE_CHECKING:
    from bot.app import BotApplication

# Heavy imports (the bot, SQLAlchemy, aiohttp) happen inside functions: the child processes
# import this module too and should load only what they use.

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # a Monday; every reminder is due then
FIRST_USER_ID = 700_000_001
TARGET_RATE = 25.0  # messages a second, at least
TARGET_RSS_MB = 150.0  # peak resident memory of the bot process, under
TICK_SECONDS = 15.0  # the production tick interval, between ticks if one is not enough
# Its own database (created if missing), so a benchmark never wipes the test suite's `test`.
POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/crm_bench"
)
LANGUAGES = ("en", "pl", "ru", "ro")
FIRST_NAMES = ("Jan", "Anna", "Ivan", "Maria", "Andrei", "Olga", "Piotr", "Elena", "Tom", "Ewa")
LAST_NAMES = ("Kowalski", "Popescu", "Ivanova", "Smith", "Nowak", "Ionescu", "Petrov", "Brown")
Order = Literal["shuffled", "by-person", "round-robin"]


# ------------------------------------------------------------------------------------------------
# What is seeded


@dataclass(frozen=True)
class SeedSpec:
    reminders: int
    people: int
    team_size: int
    order: Order
    seed: int

    @property
    def teams(self) -> int:
        return -(-self.people // self.team_size)

    def user_id(self, person: int) -> int:
        return FIRST_USER_ID + person

    def team_of(self, person: int) -> int:
        return person // self.team_size

    def owners(self) -> list[int]:
        """The person (0-based) whose reminder each reminder id (1-based, list index + 1) is.

        Everyone gets the same share (±1). The order decides which reminders the dispatcher
        fetches together (it takes them by due time, then id): `shuffled` is how reminders
        created over weeks by many people line up, `by-person` puts each person's reminders
        next to each other (the worst case for the one-message-a-second-per-chat limit),
        `round-robin` the best case.
        """
        share, extra = divmod(self.reminders, self.people)
        counts = [share + (1 if person < extra else 0) for person in range(self.people)]
        if self.order == "round-robin":
            owners: list[int] = []
            round_ = 0
            while len(owners) < self.reminders:
                owners.extend(p for p in range(self.people) if counts[p] > round_)
                round_ += 1
            return owners
        owners = [person for person in range(self.people) for _ in range(counts[person])]
        if self.order == "shuffled":
            random.Random(self.seed).shuffle(owners)
        return owners


def _seed_process(db_url: str, spec: SeedSpec) -> None:
    asyncio.run(_seed(db_url, spec))


async def _seed(db_url: str, spec: SeedSpec) -> None:
    """Migrate, then insert every row in bulk (the services would take minutes for 10,000)."""
    from sqlalchemy import insert, text

    from bot.domain import (
        DEFAULT_LOSS_REASONS,
        DEFAULT_STAGE_KEYS,
        DealStatus,
        ReminderKind,
        ReminderStatus,
        Role,
    )
    from bot.services.teams import defaults_for
    from bot.services.working_hours import ALL_DAYS, MINUTES_PER_DAY, WorkingHours
    from bot.storage.db import Database
    from bot.storage.migrate import upgrade
    from bot.storage.models import Client, Deal, LossReason, Member, Reminder, Stage, Team, User

    if db_url.startswith("postgres"):
        await reset_postgres(db_url)
    database = Database(db_url)
    await upgrade(database)

    long_ago = START - timedelta(days=60)
    teams: list[dict[str, Any]] = []
    stages: list[dict[str, Any]] = []
    reasons: list[dict[str, Any]] = []
    users: list[dict[str, Any]] = []
    members: list[dict[str, Any]] = []
    today: dict[int, date] = {}
    for team in range(spec.teams):
        language = LANGUAGES[team % len(LANGUAGES)]
        defaults = defaults_for(language)
        # Working around the clock, every day: nothing waits for working hours.
        hours = WorkingHours(defaults.timezone, ALL_DAYS, 0, MINUTES_PER_DAY)
        today[team] = hours.local_day(START)
        teams.append(
            {
                "id": team + 1,
                "name": f"Showroom {team + 1}",
                "timezone": defaults.timezone,
                "currency": defaults.currency,
                "country": defaults.country,
                "digest_hour": 18,
                "work_days": hours.days,
                "work_start_minute": hours.start_minute,
                "work_end_minute": hours.end_minute,
                "invite_code": secrets.token_urlsafe(12),
                "deal_counter": 0,
                "created_at": long_ago,
            }
        )
        for position, key in enumerate(DEFAULT_STAGE_KEYS):
            stages.append(
                {
                    "id": len(stages) + 1,
                    "team_id": team + 1,
                    "key": key,
                    "name": None,
                    "position": position,
                    "limit_days": None,
                    "retired": False,
                }
            )
        for position, (key, days) in enumerate(DEFAULT_LOSS_REASONS):
            reasons.append(
                {
                    "id": len(reasons) + 1,
                    "team_id": team + 1,
                    "key": key,
                    "name": None,
                    "position": position,
                    "winback_days": days,
                    "retired": False,
                }
            )
    for person in range(spec.people):
        team = spec.team_of(person)
        users.append(
            {
                "id": spec.user_id(person),
                "first_name": f"Seller {person + 1}",
                "last_name": None,
                "username": None,
                "language": LANGUAGES[team % len(LANGUAGES)],
                "language_chosen": True,
                "team_id": team + 1,
                "bot_blocked": False,
                "created_at": long_ago,
                "last_seen_at": START - timedelta(hours=1),
            }
        )
        members.append(
            {
                "id": person + 1,
                "team_id": team + 1,
                "user_id": spec.user_id(person),
                "role": Role.MANAGER if person % spec.team_size == 0 else Role.SALESPERSON,
                "active": True,
                "morning_agenda": True,
                # Today's agenda, nudge and digest already went out: the only messages are
                # the reminders (a column the schema does not have is left out below).
                "agenda_sent_on": today[team],
                "nudge_sent_on": today[team],
                "digest_day": today[team],
                "joined_at": long_ago,
                "deactivated_at": None,
            }
        )

    clients: list[dict[str, Any]] = []
    deals: list[dict[str, Any]] = []
    reminders: list[dict[str, Any]] = []
    rng = random.Random(spec.seed + 1)
    for index, person in enumerate(spec.owners()):
        row_id = index + 1
        team = spec.team_of(person)
        teams[team]["deal_counter"] += 1
        name = f"{FIRST_NAMES[index % 10]} {LAST_NAMES[(index // 10) % 8]} {row_id}"
        created = START - timedelta(days=rng.randint(1, 40), minutes=rng.randint(0, 600))
        clients.append(
            {
                "id": row_id,
                "team_id": team + 1,
                "name": name,
                "phone": f"+4477009{row_id % 100_000:05d}",
                "company": None,
                "email": None,
                "source": None,
                "created_at": created,
            }
        )
        deals.append(
            {
                "id": row_id,
                "team_id": team + 1,
                "number": teams[team]["deal_counter"],
                "client_id": row_id,
                "owner_member_id": person + 1,
                "stage_id": team * len(DEFAULT_STAGE_KEYS) + rng.randrange(5) + 1,
                "status": DealStatus.OPEN,
                "value_minor": rng.randrange(1_000_000, 10_000_000),
                "currency": teams[team]["currency"],
                "next_contact_at": START,
                "next_step": "call about the test drive & leasing",
                "last_note": "Wants an estate <for the family>; trade-in of a 2015 Octavia",
                "loss_reason_id": None,
                "loss_comment": None,
                "winback_at": None,
                "handover_at": None,
                "stage_entered_at": created,
                "created_at": created,
                "updated_at": created,
                "closed_at": None,
            }
        )
        reminders.append(
            {
                "id": row_id,
                "team_id": team + 1,
                "deal_id": row_id,
                "member_id": person + 1,
                "kind": ReminderKind.NEXT_CONTACT,
                "due_at": START,  # exactly the clock's "now" at the first tick: not late
                "status": ReminderStatus.PENDING,
                "note": None,
                "attempts": 0,
                "not_before": None,
                "claimed_at": None,
                "sent_at": None,
                "chat_message_id": None,
                "created_at": created,
            }
        )

    tables: list[tuple[type[Any], list[dict[str, Any]]]] = [
        (Team, teams),
        (Stage, stages),
        (LossReason, reasons),
        (User, users),
        (Member, members),
        (Client, clients),
        (Deal, deals),
        (Reminder, reminders),
    ]
    async with database.engine.begin() as connection:
        for model, rows in tables:
            # Only the columns the table has; columns added since get their model defaults.
            columns = set(model.__table__.columns.keys())
            rows = [{k: v for k, v in row.items() if k in columns} for row in rows]
            for start in range(0, len(rows), 2000):
                await connection.execute(insert(model), rows[start : start + 2000])
        if not database.is_sqlite:
            # Ids were given explicitly: move the sequences past them.
            for model, _ in tables:
                name = model.__tablename__
                if name == "app_user":
                    continue
                await connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT MAX(id) FROM {name}))"
                    )
                )
    if not database.is_sqlite:
        async with database.engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text("ANALYZE"))
    await database.dispose()


# ------------------------------------------------------------------------------------------------
# The fake Bot API, in its own process


@dataclass
class ServerReport:
    """What the fake Bot API saw, sent back to the bot process at the end."""

    rids_by_chat: dict[int, list[list[int]]]  # per chat, per message: the reminder ids it carries
    late_messages: int
    other_messages: Counter[str]  # messages carrying no reminder: their first line -> count
    flood_errors: Counter[str]  # scope -> count of 429s
    other_errors: Counter[str]  # description -> count
    requests: Counter[str]  # method -> count
    send_stamps: list[float]  # monotonic moments of accepted sendMessage calls
    cpu_seconds: float
    peak_rss_mb: float


def _fake_server_process(conn: Connection, user_ids: list[int]) -> None:
    asyncio.run(_serve_fake(conn, user_ids))


async def _serve_fake(conn: Connection, user_ids: list[int]) -> None:
    from tests.fakes.telegram_server import FakeTelegram

    # Telegram's limits: 30 messages a second in all, one a second per chat (default burst).
    fake = FakeTelegram(flood_limits=True, global_rate=30.0, global_burst=30)
    stamps: list[float] = []
    send_message = fake._methods["sendmessage"]

    async def timed_send(params: Any) -> dict[str, Any]:
        result = await send_message(params)
        stamps.append(time.monotonic())
        return result

    fake._methods["sendmessage"] = timed_send
    await fake.start()
    users = [fake.user(uid, f"Seller {uid}", language_code="en", started=True) for uid in user_ids]
    conn.send({"base_url": fake.base_url, "token": fake.token})
    await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # wait for "stop"

    rids_by_chat: dict[int, list[list[int]]] = {}
    late = 0
    other: Counter[str] = Counter()
    for user in users:
        per_message: list[list[int]] = []
        for message in user.messages:
            rids = {
                int(button.callback_data.split(":")[2])
                for row in message.buttons
                for button in row
                if button.callback_data and button.callback_data.startswith("r:")
            }
            per_message.append(sorted(rids))
            late += "⌛" in message.text
            if not rids:
                kind = "photo: " if message.photo is not None else ""
                other[kind + (message.text.split("\n", 1)[0][:60] or "(no text)")] += 1
        rids_by_chat[user.id] = per_message
    usage = resource.getrusage(resource.RUSAGE_SELF)
    report = ServerReport(
        rids_by_chat=rids_by_chat,
        late_messages=late,
        other_messages=other,
        flood_errors=Counter(error.scope for error in fake.flood_errors),
        other_errors=Counter(desc for _, code, desc in fake.errors if code != 429),
        requests=Counter(method for method, _ in fake.requests),
        send_stamps=stamps,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        peak_rss_mb=usage.ru_maxrss / 1024,
    )
    await fake.stop()
    conn.send(report)


# ------------------------------------------------------------------------------------------------
# The bot, in this process


class RunningClock:
    """Stands at `start` until `run()`, then moves forward with real time."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self._origin: float | None = None

    def run(self) -> None:
        self._origin = time.monotonic()

    def now(self) -> datetime:
        if self._origin is None:
            return self.start
        return self.start + timedelta(seconds=time.monotonic() - self._origin)


def current_rss_mb() -> float:
    """Resident memory of this process now (Linux /proc; the peak so far elsewhere)."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return peak_rss_mb()


def peak_rss_mb() -> float:
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss / 2**20 if sys.platform == "darwin" else maxrss / 1024  # bytes on macOS


@dataclass
class BotReport:
    sent: int = 0
    ticks: int = 0
    seconds: float = 0.0  # the ticks, daily messages included
    clear_seconds: float = 0.0  # from the first tick to the last reminder marked sent
    cpu_seconds: float = 0.0
    rss_after_imports_mb: float = 0.0
    rss_started_mb: float = 0.0
    rss_tick_peak_mb: float = 0.0
    rss_timeline: list[tuple[float, float]] = field(default_factory=list)  # (seconds, MB)
    peak_rss_mb: float = 0.0
    tracemalloc_peak_mb: float | None = None
    statuses: Counter[str] = field(default_factory=Counter)
    sent_events: Counter[int] = field(default_factory=Counter)
    timed_out: bool = False
    tick_errors: list[str] = field(default_factory=list)


async def _sample_rss(report: BotReport, stop: asyncio.Event) -> None:
    started = time.perf_counter()
    while not stop.is_set():
        rss = current_rss_mb()
        report.rss_tick_peak_mb = max(report.rss_tick_peak_mb, rss)
        report.rss_timeline.append((time.perf_counter() - started, rss))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.25)


async def _start_bot(app: BotApplication) -> None:
    """What `run_polling` does, inside this event loop (as `tests/harness.py` does)."""
    from telegram import Update

    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1, allowed_updates=Update.ALL_TYPES)


async def _stop_bot(app: BotApplication) -> None:
    assert app.updater is not None
    await app.updater.stop()
    await app.stop()
    await app.shutdown()
    if app.post_shutdown is not None:
        await app.post_shutdown(app)


async def _unsent(app: BotApplication) -> int:
    from sqlmodel import col, func, select

    from bot.app import runtime_of
    from bot.domain import ReminderStatus
    from bot.storage.models import Reminder

    async with runtime_of(app).uow() as uow:
        count = await uow.session.exec(
            select(func.count())
            .select_from(Reminder)
            .where(col(Reminder.status).in_([ReminderStatus.PENDING, ReminderStatus.SENDING]))
        )
        return int(count.one())


async def _run_bot(
    db_url: str, api_base_url: str, token: str, args: argparse.Namespace
) -> BotReport:
    import cProfile
    import pstats
    import tracemalloc

    from sqlmodel import col, func, select

    from bot.app import build_application, runtime_of
    from bot.config import Settings
    from bot.domain import EventKind
    from bot.storage.models import DealEvent, Reminder

    report = BotReport(rss_after_imports_mb=current_rss_mb())
    if args.tracemalloc:
        tracemalloc.start()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=token,
        telegram_api_base_url=api_base_url,
        database_url=db_url,
        log_level="WARNING",
        # The benchmark runs the ticks itself; the job queue's would come an hour later.
        reminder_tick_seconds=3600,
    )
    clock = RunningClock(START)
    app = build_application(settings, clock=clock)
    await _start_bot(app)
    try:
        dispatcher = runtime_of(app).dispatcher
        assert dispatcher is not None
        report.rss_started_mb = current_rss_mb()
        stop_sampling = asyncio.Event()
        sampler = asyncio.create_task(_sample_rss(report, stop_sampling))
        profiler = cProfile.Profile() if args.profile else None
        if args.tracemalloc:
            tracemalloc.reset_peak()
        deadline = time.perf_counter() + args.timeout
        if profiler is not None:
            profiler.enable()
        cpu_start, wall_start = time.process_time(), time.perf_counter()
        clock.run()
        while True:
            try:
                report.sent += await dispatcher.tick()
            except Exception as error:
                # As under the job queue: logged, and the next tick carries on.
                logging.getLogger(__name__).exception("the tick failed")
                first_line = (str(error).splitlines() or [""])[0]
                report.tick_errors.append(f"{type(error).__name__}: {first_line}"[:120])
            report.ticks += 1
            report.seconds = time.perf_counter() - wall_start
            report.cpu_seconds = time.process_time() - cpu_start
            if await _unsent(app) == 0:
                break
            if time.perf_counter() > deadline:
                report.timed_out = True
                break
            await asyncio.sleep(TICK_SECONDS)  # what is left goes out at the next tick
        if profiler is not None:
            profiler.disable()
        stop_sampling.set()
        await sampler
        report.peak_rss_mb = peak_rss_mb()
        if args.tracemalloc:
            report.tracemalloc_peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        if profiler is not None:
            profiler.dump_stats(args.profile)
            print(f"cProfile of the sending loop written to {args.profile}; top 20 by own time:")
            pstats.Stats(profiler).sort_stats("tottime").print_stats(20)

        async with runtime_of(app).uow() as uow:
            by_status = await uow.session.exec(
                select(Reminder.status, func.count()).group_by(col(Reminder.status))
            )
            report.statuses = Counter({str(status): int(n) for status, n in by_status})
            events = await uow.session.exec(
                select(DealEvent.data).where(col(DealEvent.kind) == EventKind.REMINDER_SENT)
            )
            report.sent_events = Counter(int((data or {})["reminder"]) for data in events)
            last_sent = (
                await uow.session.exec(
                    select(Reminder.sent_at)
                    .where(col(Reminder.sent_at).is_not(None))
                    .order_by(col(Reminder.sent_at).desc())
                    .limit(1)
                )
            ).first()
            if last_sent is not None:
                # The bot's clock read START at the first tick and then followed real time.
                report.clear_seconds = (last_sent - START).total_seconds()
    finally:
        await _stop_bot(app)
    return report


# ------------------------------------------------------------------------------------------------
# Checks and the table


@dataclass
class Check:
    name: str
    value: str
    ok: bool | None = None  # None: information only


def _max_in_window(stamps: list[float], window: float = 1.0) -> int:
    best, first = 0, 0
    for last, moment in enumerate(stamps):
        while moment - stamps[first] >= window:
            first += 1
        best = max(best, last - first + 1)
    return best


def evaluate(
    spec: SeedSpec, args: argparse.Namespace, bot: BotReport, server: ServerReport
) -> list[Check]:
    owners = spec.owners()
    expected_per_chat = Counter(spec.user_id(person) for person in owners)
    delivered: Counter[int] = Counter()
    wrong_chat = 0
    bundles = 0
    reminder_messages = 0
    per_chat_messages: dict[int, int] = {}
    for chat_id, messages in server.rids_by_chat.items():
        per_chat_messages[chat_id] = len(messages)
        for rids in messages:
            bundles += len(rids) > 1
            reminder_messages += bool(rids)
            for rid in rids:
                delivered[rid] += 1
                if spec.user_id(owners[rid - 1]) != chat_id:
                    wrong_chat += 1
    missing = spec.reminders - sum(1 for rid in range(1, spec.reminders + 1) if delivered[rid])
    twice = sum(1 for n in delivered.values() if n > 1)
    events_twice = sum(1 for n in bot.sent_events.values() if n > 1)
    wrong_counts = sum(
        1 for chat_id, n in expected_per_chat.items() if per_chat_messages.get(chat_id, 0) != n
    )
    counts = list(per_chat_messages.values()) or [0]
    sent_rows = bot.statuses.get("sent", 0)
    seconds = bot.clear_seconds or float("inf")
    # Counted from the database and the fake API, not from tick() (a failed tick returns none).
    reminder_rate, rate = sent_rows / seconds, reminder_messages / seconds
    stamps = sorted(server.send_stamps)
    server_rate = (len(stamps) - 1) / (stamps[-1] - stamps[0]) if len(stamps) > 1 else 0.0
    floods = sum(server.flood_errors.values())
    share, extra = divmod(spec.reminders, spec.people)
    share_text = f"{share}" if not extra else f"{share}-{share + 1}"
    checks = [
        Check("reminders", f"{spec.reminders}"),
        Check("people", f"{spec.people} ({spec.teams} teams of up to {spec.team_size})"),
        Check("database", args.db),
        Check("reminder order (by id)", spec.order),
        Check(
            "seconds to clear (last reminder sent)",
            f"{bot.clear_seconds:.1f}  (tick(s): {bot.ticks}, {bot.seconds:.1f} s)",
            not bot.timed_out,
        ),
        Check(
            "ticks that failed",
            f"{len(bot.tick_errors)}" + "".join(f"\n    {text}" for text in bot.tick_errors[:3]),
            not bot.tick_errors,
        ),
        Check("reminders/s", f"{reminder_rate:.2f}"),
        Check(
            "messages/s",
            f"{rate:.2f}  (target >= {TARGET_RATE:.0f})",
            rate >= TARGET_RATE,
        ),
        Check("messages/s at the fake API, first..last", f"{server_rate:.2f}"),
        Check(
            "most messages in any 1 s (API)",
            f"{_max_in_window(stamps)}  (bucket: 30/s, burst 30)",
        ),
        Check(
            "429s received",
            f"{floods}" + (f"  {dict(server.flood_errors)}" if floods else ""),
        ),
        Check("CPU s (bot process, during the ticks)", f"{bot.cpu_seconds:.1f}"),
        Check(
            "CPU per message / share of a core",
            f"{1000 * bot.cpu_seconds / max(reminder_messages, 1):.2f} ms / "
            f"{100 * bot.cpu_seconds / max(bot.seconds, 1e-9):.0f} %",
        ),
        Check(
            "peak RSS MB (bot process)",
            f"{bot.peak_rss_mb:.1f}  (target < 150)",
            bot.peak_rss_mb < TARGET_RSS_MB,
        ),
        Check(
            "RSS MB: imports / started / tick peak",
            f"{bot.rss_after_imports_mb:.1f} / {bot.rss_started_mb:.1f} / "
            f"{bot.rss_tick_peak_mb:.1f} (growth {bot.rss_tick_peak_mb - bot.rss_started_mb:.1f})",
        ),
    ]
    if bot.rss_timeline:
        quarters = [
            bot.rss_timeline[min(len(bot.rss_timeline) - 1, len(bot.rss_timeline) * q // 4)][1]
            for q in (1, 2, 3, 4)
        ]
        checks.append(
            Check("RSS MB at 1/4, 1/2, 3/4, end", " / ".join(f"{mb:.1f}" for mb in quarters))
        )
    if bot.tracemalloc_peak_mb is not None:
        checks.append(Check("tracemalloc peak MB (sending)", f"{bot.tracemalloc_peak_mb:.1f}"))
    checks += [
        Check(
            "reminder rows SENT",
            f"{sent_rows}/{spec.reminders}"
            + (f"  {dict(bot.statuses)}" if sent_rows != spec.reminders else ""),
            sent_rows == spec.reminders,
        ),
        Check(
            "delivered exactly once",
            f"{spec.reminders - missing}/{spec.reminders}, missing {missing}, twice {twice}",
            missing == 0 and twice == 0,
        ),
        Check(
            "in the owner's chat",
            f"{'yes' if not wrong_chat else f'{wrong_chat} not'}",
            wrong_chat == 0,
        ),
        Check(
            "messages per person",
            f"{min(counts)}..{max(counts)} (expected {share_text}), {wrong_counts} wrong",
            # Reminders over 10 minutes late go out bundled (by design): then counts differ.
            wrong_counts == 0 if not server.late_messages else None,
        ),
        Check(
            "REMINDER_SENT events",
            f"{sum(bot.sent_events.values())}, {events_twice} reminders twice",
            sum(bot.sent_events.values()) == spec.reminders and events_twice == 0,
        ),
        Check(
            "late / bundled messages",
            f"{server.late_messages} / {bundles}"
            + ("  (due over 10 min before they went out)" if server.late_messages else ""),
        ),
        Check(
            "other messages (not reminders)",
            f"{sum(server.other_messages.values())}"
            + "".join(f"\n    {n} × {text}" for text, n in server.other_messages.most_common(5)),
            not server.other_messages,
        ),
        Check(
            "other API errors",
            f"{sum(server.other_errors.values())}"
            + (f"  {dict(server.other_errors)}" if server.other_errors else ""),
        ),
        Check(
            "fake API process (not counted)",
            f"{server.cpu_seconds:.1f} CPU s, {server.peak_rss_mb:.0f} MB peak RSS",
        ),
    ]
    return checks


def print_table(title: str, checks: list[Check]) -> bool:
    width = max(len(check.name) for check in checks)
    print(title)
    print("-" * len(title))
    for check in checks:
        mark = "" if check.ok is None else ("  ok" if check.ok else "  FAIL")
        print(f"{check.name:<{width}}  {check.value}{mark}")
    passed = all(check.ok is not False for check in checks)
    print(f"{'verdict':<{width}}  {'PASS' if passed else 'FAIL'}")
    return passed


# ------------------------------------------------------------------------------------------------
# Main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.reminders_burst",
        description="Reminders all due in the same minute, sent against a flood-limited fake "
        "Bot API: throughput, time to clear, CPU and memory of the bot, and delivery checks.",
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--people", type=int, default=500)
    parser.add_argument("--team-size", type=int, default=10, help="people per team (10)")
    parser.add_argument(
        "--order",
        choices=("shuffled", "by-person", "round-robin"),
        default="shuffled",
        help="how the reminders' ids interleave people (default shuffled; by-person is the "
        "worst case for the per-chat limit)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed of the data (1)")
    parser.add_argument(
        "--postgres-url",
        default=POSTGRES_URL,
        help="with --db postgresql: the database (created if missing) whose `public` schema "
        "is DROPPED and recreated (default $BENCH_POSTGRES_URL or %(default)s)",
    )
    parser.add_argument("--timeout", type=float, help="give up after this many seconds of sending")
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also trace Python allocations while sending (slower; inflates CPU seconds)",
    )
    parser.add_argument(
        "--profile", metavar="FILE", help="cProfile the sending loop into FILE (inflates CPU)"
    )
    args = parser.parse_args(argv)
    if args.reminders < 1 or args.people < 1 or args.team_size < 1:
        parser.error("--reminders, --people and --team-size must be positive")
    if args.people > args.reminders:
        parser.error("--people must not exceed --reminders")
    if args.timeout is None:
        args.timeout = args.reminders / 20 + 120
    return args


def _receive(conn: Connection, process: Any, what: str, timeout: float) -> Any:
    deadline = time.monotonic() + timeout
    while not conn.poll(0.5):
        if not process.is_alive():
            raise SystemExit(f"the {what} process died (exit code {process.exitcode})")
        if time.monotonic() > deadline:
            raise SystemExit(f"no answer from the {what} process in {timeout:.0f} s")
    return conn.recv()


def code_version() -> str:
    """The commit the bot's code is at (and whether bot/ has changes on top), if known."""
    import subprocess

    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "bot"], cwd=root, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        return "unknown"
    return (head or "unknown") + (" + uncommitted changes in bot/" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    spec = SeedSpec(args.reminders, args.people, args.team_size, args.order, args.seed)
    context = multiprocessing.get_context("spawn")
    workdir: Path | None = None
    if args.db == "sqlite":
        workdir = Path(tempfile.mkdtemp(prefix="reminders-burst-"))
        db_url = f"sqlite:///{workdir / 'crm.sqlite3'}"
    else:
        db_url = args.postgres_url

    conn, child_conn = context.Pipe()
    user_ids = [spec.user_id(person) for person in range(spec.people)]
    server = context.Process(
        target=_fake_server_process, args=(child_conn, user_ids), name="fake-bot-api", daemon=True
    )
    server.start()
    try:
        api = _receive(conn, server, "fake Bot API", 60)

        started = time.perf_counter()
        seeder = context.Process(target=_seed_process, args=(db_url, spec), name="seed")
        seeder.start()
        seeder.join()
        if seeder.exitcode != 0:
            raise SystemExit(f"seeding failed (exit code {seeder.exitcode})")
        seeded_in = time.perf_counter() - started
        print(
            f"seeded {spec.reminders} reminders for {spec.people} people on {args.db} in "
            f"{seeded_in:.1f} s; sending (about {spec.reminders / 28:.0f} s at 28/s)…",
            flush=True,
        )

        bot = asyncio.run(_run_bot(db_url, api["base_url"], api["token"], args))
        conn.send("stop")
        report: ServerReport = _receive(conn, server, "fake Bot API", 120)
        server.join(10)
    finally:
        if server.is_alive():
            server.terminate()
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)

    title = (
        f"Reminder burst, {datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, "
        f"{platform.node()} ({os.cpu_count()} CPUs), Python {platform.python_version()}, "
        f"bot at {code_version()}"
    )
    print()
    passed = print_table(title, evaluate(spec, args, bot, report))
    print(
        "Memory and CPU are this process only: the bot and the benchmark's driver. The fake Bot "
        "API and the seeding ran in child processes."
    )
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
