"""Several real bot processes on one PostgreSQL database, in webhook mode behind a round-robin
proxy, against the fake Bot API (which delivers the updates to the webhook as Telegram does).

    python -m bench.scale_out [--part burst|load|both] [--reminders 10000] [--people 500]
                              [--rate 20] [--duration 30] [--processes 1,2,3]

Two parts:

* **burst**: two processes; N reminders for P people (`bench.reminders_burst`'s seeding), all due
  at once. After about a quarter went out, the active sender (the `worker` table's `sender`
  column names its pid) is killed with SIGKILL. It measures whether every reminder arrived, how
  many twice, how long the standby took to send again, messages a second before and after, the
  busiest second at the fake API, its 429s, and the CPU of each process (/proc/<pid>/stat).
* **load**: 1, 2 and 3 processes behind the proxy (`tests.test_scale_out`'s `Proxy`), the same
  constant offered load (default 20 updates a second, under the 30-a-second cap) from simulated
  salespeople: each one in turn sends a one-line `/new`, taps "Tomorrow morning" on the answer,
  then asks for `/today`. It measures the latency of every action (from the update queued at the
  fake to the bot's answer there: p50/p95/p99) and the CPU seconds of the bot processes per
  update handled, in all and per process. The goal: three processes cost no more per update
  than one.

The bot processes are started as `tests.test_scale_out.Bots` does (`run_bot.py` in webhook
mode), with the tick and lease of a deployment (15 s and 30 s; the test uses 1 s and 4 s). The
fake API, the proxy and this driver share this process; their CPU is not the bot's.

The database (default `crm_bench_scale`, or `$BENCH_SCALE_POSTGRES_URL`) is created if missing
and its `public` schema is DROPPED before each run. Never point it at the test suite's `test`.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import itertools
import math
import os
import platform
import random
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from sqlmodel import col, func, select

from bench import reminders_burst
from bench.postgres import reset_postgres
from bench.reminders_burst import Check, SeedSpec, code_version, print_table
from bot.dispatcher import WORKERS
from bot.domain import EventKind, ReminderStatus
from bot.storage.db import Database
from bot.storage.models import DealEvent, Reminder, Worker
from tests.fakes.telegram_server import BotMessage, FakeTelegram, FakeUser
from tests.test_scale_out import PUBLIC, Bots, Proxy, _seed_team

POSTGRES_URL = os.environ.get(
    "BENCH_SCALE_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/crm_bench_scale"
)
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
FIRST_LOAD_USER = 7000  # `_seed_team`'s user ids
REPLY_TIMEOUT = 30.0  # an action without an answer after this long counts as lost
TAKEOVER_TARGET = 30.0  # seconds from the kill to the standby's first accepted send
API_CAP = 30  # messages the fake (and Telegram) accepts in any second
NAMES = ("Jan Kowalski", "Anna Nowak", "Ivan Petrov", "Maria Popescu", "Tom Brown", "Ewa Smith")


# ------------------------------------------------------------------------------------------------
# Processes and their CPU


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a live process (/proc/<pid>/stat); None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime: fields 14 and 15


def cpu_of(pids: list[int]) -> list[float]:
    return [cpu_seconds(pid) or 0.0 for pid in pids]


class BenchBots(Bots):
    """`tests.test_scale_out.Bots` with a chosen tick and lease in place of the test's (1 s and
    4 s, so that a takeover is quick), which are not a deployment's: every process would ask the
    database what is due every second."""

    def __init__(
        self,
        fake: FakeTelegram,
        db_url: str,
        folder: Path,
        *,
        tick_seconds: float,
        lease_seconds: float,
    ) -> None:
        super().__init__(fake, db_url, folder)
        self.settings = {
            "REMINDER_TICK_SECONDS": f"{tick_seconds:g}",
            "LEASE_SECONDS": f"{lease_seconds:g}",
        }

    async def start_one(self, **extra: str) -> asyncio.subprocess.Process:
        return await super().start_one(**{**self.settings, **extra})


@dataclass
class Cluster:
    """The fake API, k bot processes and the proxy in front of them."""

    fake: FakeTelegram
    bots: BenchBots
    proxy: Proxy

    @property
    def pids(self) -> list[int]:
        return [process.pid for process in self.bots.processes]

    async def stop(self) -> None:
        await self.bots.stop()
        await self.proxy.stop()
        await self.fake.stop()


async def start_cluster(
    args: argparse.Namespace, folder: Path, count: int, user_ids: list[int]
) -> Cluster:
    """Telegram's limits (30 a second, one a second per chat), every user known to the fake."""
    fake = FakeTelegram(webhook_queues="chat")
    await fake.start()
    for user_id in user_ids:
        fake.user(user_id, f"U{user_id}", language_code="en", started=True)
    bots = BenchBots(
        fake,
        args.postgres_url,
        folder,
        tick_seconds=args.tick_seconds,
        lease_seconds=args.lease_seconds,
    )
    proxy = Proxy(bots.ports)  # the same list: the ports as the processes start
    cluster = Cluster(fake, bots, proxy)
    try:
        await proxy.start()  # at once: its port, like the bots', could be taken meanwhile
        await bots.start(count)
        fake.route_webhook(PUBLIC, f"http://127.0.0.1:{proxy.port}/telegram/hook")
        await bots.ready()
    except BaseException:
        await cluster.stop()
        raise
    return cluster


async def postgres_backend_cpu(url: str) -> dict[int, float]:
    """CPU seconds of every server process connected to the benchmark's database."""
    import asyncpg

    name = url.rpartition("/")[2]
    connection = await asyncpg.connect(url, timeout=10)
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()",
            name,
        )
    finally:
        await connection.close()
    cpu = {int(row["pid"]): cpu_seconds(int(row["pid"])) for row in rows}
    return {pid: seconds for pid, seconds in cpu.items() if seconds is not None}


async def postgres_version(url: str) -> str:
    """The server's version, asked of its `postgres` database (the benchmark's may not exist)."""
    import asyncpg

    connection = await asyncpg.connect(url.rpartition("/")[0] + "/postgres", timeout=10)
    try:
        return str(await connection.fetchval("SHOW server_version"))
    finally:
        await connection.close()


def postgres_cpu_between(before: dict[int, float], after: dict[int, float]) -> float:
    """A backend that is new counts whole; one that ended in between is missed."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def busiest(stamps: list[float], seconds: float) -> tuple[int, float]:
    """The most stamps within any `seconds` (a half-open window), and where that window starts."""
    best, start = 0, stamps[0] if stamps else 0.0
    for index, moment in enumerate(stamps):
        count = bisect.bisect_left(stamps, moment + seconds) - index
        if count > best:
            best, start = count, moment
    return best, start


def longest_gap(stamps: list[float]) -> float:
    return max((b - a for a, b in itertools.pairwise(stamps)), default=0.0)


def percentile(values: list[float], share: float) -> float:
    """Nearest rank; nan when there is nothing."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(1, math.ceil(len(ordered) * share)) - 1]


# ------------------------------------------------------------------------------------------------
# Part 1: the burst with failover


@dataclass
class BurstRun:
    spec: SeedSpec
    seed_seconds: float = 0.0
    pids: list[int] = field(default_factory=list)
    killed: int = -1  # index of the process killed
    cpu_ready: list[float] = field(default_factory=list)
    cpu_kill: list[float] = field(default_factory=list)
    cpu_end: list[float] = field(default_factory=list)  # the killed one: its value at the kill
    killed_at: float = 0.0
    accepted_at_kill: int = 0
    accepted_at_reaped: int = 0
    finished_at: float = 0.0
    timed_out: bool = False
    survivor_died: bool = False
    statuses: Counter[str] = field(default_factory=Counter)
    sent_events: Counter[int] = field(default_factory=Counter)


async def _sender(database: Database, bots: Bots) -> int | None:
    """The index of the live process the `worker` table names the active sender."""
    async with database.sessions() as session:
        rows = list(await session.exec(select(Worker).where(col(Worker.sender))))
    live = {
        process.pid: index
        for index, process in enumerate(bots.processes)
        if process.returncode is None
    }
    named = sorted(
        (row for row in rows if row.pid in live),
        key=lambda row: row.ticked_at or row.started_at,
        reverse=True,
    )
    return live[named[0].pid] if named else None


async def _unsent(database: Database) -> int:
    waiting = [ReminderStatus.PENDING, ReminderStatus.SENDING]
    async with database.sessions() as session:
        count = await session.exec(
            select(func.count()).select_from(Reminder).where(col(Reminder.status).in_(waiting))
        )
        return int(count.one())


async def _database_report(database: Database, run: BurstRun) -> None:
    async with database.sessions() as session:
        by_status = await session.exec(
            select(Reminder.status, func.count()).group_by(col(Reminder.status))
        )
        run.statuses = Counter({str(status): int(n) for status, n in by_status})
        events = await session.exec(
            select(DealEvent.data).where(col(DealEvent.kind) == EventKind.REMINDER_SENT)
        )
        run.sent_events = Counter(int((data or {})["reminder"]) for data in events)


async def run_burst(args: argparse.Namespace, folder: Path) -> bool:
    spec = SeedSpec(args.reminders, args.people, args.team_size, "shuffled", args.seed)
    run = BurstRun(spec)
    started = time.perf_counter()
    # `_seed` dates every row from this module global: all reminders due now, and today's
    # agenda, nudge and digest already sent (the clock of the bot processes is the real one).
    original_start = reminders_burst.START
    reminders_burst.START = datetime.now(UTC).replace(microsecond=0)
    try:
        await reminders_burst._seed(args.postgres_url, spec)  # resets the schema first
    finally:
        reminders_burst.START = original_start
    run.seed_seconds = time.perf_counter() - started
    print(
        f"burst: seeded {spec.reminders} reminders for {spec.people} people in "
        f"{run.seed_seconds:.1f} s; two processes, the sender killed after "
        f"{round(spec.reminders * args.kill_at)} messages (about {spec.reminders / 26:.0f} s "
        "at 26/s)…",
        flush=True,
    )
    user_ids = [spec.user_id(person) for person in range(spec.people)]
    cluster = await start_cluster(args, folder, 2, user_ids)
    fake, bots = cluster.fake, cluster.bots
    database = Database(args.postgres_url)
    deadline = time.monotonic() + args.timeout
    try:
        run.pids = cluster.pids
        run.cpu_ready = cpu_of(run.pids)
        kill_after = max(1, round(spec.reminders * args.kill_at))
        while len(fake.accepted) < kill_after:
            if time.monotonic() > deadline or any(
                p.returncode is not None for p in bots.processes
            ):
                raise SystemExit(
                    f"only {len(fake.accepted)} sent before the kill:\n{bots.log_text()}"
                )
            await asyncio.sleep(0.05)
        active = await _sender(database, bots)
        if active is None:
            raise SystemExit("no live process is marked the sender in the worker table")
        run.killed = active
        run.cpu_kill = cpu_of(run.pids)
        run.killed_at = fake.clock()
        run.accepted_at_kill = len(fake.accepted)
        bots.processes[active].send_signal(signal.SIGKILL)
        await bots.processes[active].wait()
        run.accepted_at_reaped = len(fake.accepted)
        print(
            f"burst: killed process {active} (pid {run.pids[active]}, the sender) after "
            f"{run.accepted_at_kill} messages; waiting for the rest…",
            flush=True,
        )
        survivor = bots.processes[1 - active]
        while await _unsent(database):
            if survivor.returncode is not None:
                run.survivor_died = True
                break
            if time.monotonic() > deadline:
                run.timed_out = True
                break
            await asyncio.sleep(1.0)
        run.finished_at = fake.clock()
        run.cpu_end = cpu_of(run.pids)
        run.cpu_end[active] = run.cpu_kill[active]
        await _database_report(database, run)
    finally:
        await database.dispose()
        await cluster.stop()
    return print_table(_burst_title(args), _burst_checks(run, fake))


def _burst_title(args: argparse.Namespace) -> str:
    return (
        f"Burst with failover: {args.reminders} reminders / {args.people} people, 2 processes "
        f"(tick {args.tick_seconds:g} s, lease {args.lease_seconds:g} s)"
    )


def _burst_checks(run: BurstRun, fake: FakeTelegram) -> list[Check]:
    spec = run.spec
    owners = spec.owners()
    delivered: Counter[int] = Counter()
    wrong_chat = late = bundles = 0
    for person in range(spec.people):
        chat_id = spec.user_id(person)
        for message in fake.user(chat_id, "").messages:
            rids = {
                int(button.callback_data.split(":")[2])
                for row in message.buttons
                for button in row
                if button.callback_data and button.callback_data.startswith("r:")
            }
            bundles += len(rids) > 1
            late += "⌛" in message.text
            for rid in rids:
                delivered[rid] += 1
                wrong_chat += spec.user_id(owners[rid - 1]) != chat_id
    missing = sum(1 for rid in range(1, spec.reminders + 1) if not delivered[rid])
    doubles = sum(n - 1 for n in delivered.values())
    stamps = sorted(at for at, _ in fake.accepted)
    first = stamps[0] if stamps else 0.0
    before = [at for at in stamps if at <= run.killed_at]
    after_reaping = [at for at, _ in fake.accepted[run.accepted_at_reaped :]]
    takeover_at = after_reaping[0] if after_reaping else float("inf")
    takeover = takeover_at - run.killed_at
    after = sorted(after_reaping)
    rate_before = len(before) / (run.killed_at - first) if before else 0.0
    rate_after = (len(after) - 1) / (after[-1] - after[0]) if len(after) > 1 else 0.0
    window, window_at = busiest(stamps, 1.0)
    window3, window3_at = busiest(stamps, 3.0)
    floods = Counter(error.scope for error in fake.flood_errors)
    too_many = sum(1 for _, code, _ in fake.errors if code == 429)
    others = Counter(f"{method}: {text}" for method, code, text in fake.errors if code != 429)
    k, s = run.killed, 1 - run.killed
    burst_cpu = [end - ready for end, ready in zip(run.cpu_end, run.cpu_ready, strict=True)]
    total_cpu = sum(burst_cpu)
    sender_before = run.cpu_kill[k] - run.cpu_ready[k]
    standby_before = run.cpu_kill[s] - run.cpu_ready[s]
    survivor_after = run.cpu_end[s] - run.cpu_kill[s]
    clear = run.finished_at - first if stamps else 0.0
    sent_rows = run.statuses.get("sent", 0)
    events_twice = sum(1 for n in run.sent_events.values() if n > 1)
    return [
        Check("seeding", f"{run.seed_seconds:.1f} s"),
        Check(
            "reminders delivered (distinct ids)",
            f"{spec.reminders - missing}/{spec.reminders}, missing {missing}",
            missing == 0 and not run.timed_out and not run.survivor_died,
        ),
        Check(
            "doubles (extra copies)",
            f"{doubles} on {sum(1 for n in delivered.values() if n > 1)} reminders  "
            f"(at most the {WORKERS} a sender has in flight)",
            doubles <= WORKERS,
        ),
        Check(
            "in the owner's chat", "yes" if not wrong_chat else f"{wrong_chat} not", not wrong_chat
        ),
        Check(
            "reminder rows SENT",
            f"{sent_rows}/{spec.reminders}"
            + (f"  {dict(run.statuses)}" if sent_rows != spec.reminders else ""),
            sent_rows == spec.reminders,
        ),
        Check(
            "REMINDER_SENT events",
            f"{sum(run.sent_events.values())}, {events_twice} reminders twice",
        ),
        Check("messages accepted / late / bundles", f"{len(stamps)} / {late} / {bundles}"),
        Check(
            "killed",
            f"process {k} (the sender) after {run.accepted_at_kill} messages, "
            f"{run.killed_at - first:.1f} s into the burst; "
            f"{run.accepted_at_reaped - run.accepted_at_kill} accepted before it was reaped",
        ),
        Check(
            "takeover (first send after the kill)",
            f"{takeover:.1f} s  (target <= {TAKEOVER_TARGET:.0f})",
            takeover <= TAKEOVER_TARGET,
        ),
        Check("messages/s before the kill", f"{rate_before:.2f}"),
        Check("messages/s after the takeover", f"{rate_after:.2f}"),
        Check(
            "longest pause before / after takeover",
            f"{longest_gap(before):.1f} s / {longest_gap(after):.1f} s",
        ),
        Check("seconds to clear (first to last send)", f"{clear:.1f}"),
        Check(
            "busiest 1 s at the API",
            f"{window}  at {window_at - run.killed_at:+.1f} s from the kill (cap {API_CAP})",
            window <= API_CAP,
        ),
        Check("busiest 3 s at the API", f"{window3}  at {window3_at - run.killed_at:+.1f} s"),
        Check(
            "429s",
            f"{too_many}" + (f"  {dict(floods)}" if floods else ""),
            too_many == 0,
        ),
        Check(
            "other API errors",
            f"{sum(others.values())}"
            + "".join(f"\n    {n} × {text[:100]}" for text, n in others.most_common(3)),
        ),
        Check(
            "CPU s, sender (killed) / standby",
            f"start-up {run.cpu_ready[k]:.1f} / {run.cpu_ready[s]:.1f}; "
            f"until the kill {sender_before:.1f} / {standby_before:.1f}; "
            f"after it - / {survivor_after:.1f}",
        ),
        Check(
            "CPU ms per message: sender before / survivor after",
            f"{1000 * sender_before / max(len(before), 1):.1f} / "
            f"{1000 * survivor_after / max(len(after), 1):.1f}",
        ),
        Check(
            "CPU s of the burst, both / per reminder",
            f"{total_cpu:.1f} / {1000 * total_cpu / spec.reminders:.1f} ms",
        ),
    ]


# ------------------------------------------------------------------------------------------------
# Part 2: the same offered load on 1, 2, 3 processes

Kind = Literal["new", "tap", "today"]
CYCLE: tuple[Kind, ...] = ("new", "tap", "today")


@dataclass
class Salesperson:
    """One simulated salesperson: `/new` (one line), the "Tomorrow morning" tap on its answer,
    `/today`, and again. People start at random points of the cycle, so every second mixes the
    three (and the proxy's turns do not line up with them); a tap with nothing to tap on (the
    first round, or after a lost answer) becomes a `/today`."""

    user: FakeUser
    index: int
    step: int = 0  # where in CYCLE the next action is
    saved: BotMessage | None = None  # the answer to the last /new, with its "when" buttons
    deals: int = 0


@dataclass
class Sample:
    kind: Kind
    started: float
    finished: float | None  # None: no answer within REPLY_TIMEOUT

    @property
    def latency(self) -> float | None:
        return None if self.finished is None else self.finished - self.started


async def act(person: Salesperson, samples: list[Sample]) -> None:
    """The person's next action, timed from the update queued to the answer at the fake."""
    kind = CYCLE[person.step % len(CYCLE)]
    person.step += 1
    if kind == "tap" and person.saved is None:
        kind = "today"
    user = person.user
    started = time.monotonic()
    finished: float | None = None
    try:
        if kind == "new":
            person.deals += 1
            name = NAMES[(person.index + person.deals) % len(NAMES)]
            await user.send(f"/new {name} {40_000 + 500 * person.deals} Octavia")
            person.saved = await user.expect("Saved as deal", timeout=REPLY_TIMEOUT)
        elif kind == "tap":
            saved, person.saved = person.saved, None
            assert saved is not None
            card = saved.message_id  # the answer to /new becomes the deal's card
            await user.tap("Tomorrow morning", message=saved)
            await user.expect(
                predicate=lambda m: m.event == "edit" and m.message_id == card,
                timeout=REPLY_TIMEOUT,
            )
        else:
            await user.send("/today")
            await user.expect("Your day", timeout=REPLY_TIMEOUT)
        finished = time.monotonic()
    except AssertionError:
        user.skip_all()
        person.saved = None
    samples.append(Sample(kind, started, finished))


@dataclass
class LoadRun:
    processes: int
    round_: int = 0  # 1, 2, … when the sweep is repeated
    updates: int = 0  # answered 200 by a bot process within the window
    per_process: list[int] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # each process, within the window
    idle_cpu: list[float] = field(default_factory=list)  # each process, per second idle
    postgres_cpu: float = 0.0
    driver_cpu: float = 0.0  # this process (fake API, proxy, driver), within the window
    samples: list[Sample] = field(default_factory=list)  # started within the window
    late_starts: int = 0  # actions started over 0.1 s after their slot (this loop was late)
    nobody_free: int = 0  # slots that found every salesperson still waiting for an answer
    timeouts: int = 0
    floods: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    webhook_failures: int = 0
    undelivered: int = 0  # updates the webhook had not taken at the end
    other_statuses: Counter[int] = field(default_factory=Counter)
    window: float = 0.0

    @property
    def label(self) -> str:
        return f"{self.processes}" + (f" r{self.round_}" if self.round_ else "")

    @property
    def cpu_per_update(self) -> float:
        return sum(self.cpu) / max(self.updates, 1)

    @property
    def net_cpu_per_update(self) -> float:
        """Less what the processes use idle (ticks, lease renewals, the standby's checks)."""
        return (sum(self.cpu) - sum(self.idle_cpu) * self.window) / max(self.updates, 1)

    def latencies(self, kind: Kind | None = None) -> list[float]:
        return [
            latency
            for sample in self.samples
            if kind in (None, sample.kind) and (latency := sample.latency) is not None
        ]


async def run_load_once(
    args: argparse.Namespace, folder: Path, processes: int, round_: int
) -> LoadRun:
    run = LoadRun(processes, round_)
    await reset_postgres(args.postgres_url)
    await _seed_team(args.postgres_url, args.load_people)
    user_ids = [FIRST_LOAD_USER + n for n in range(args.load_people)]
    cluster = await start_cluster(args, folder, processes, user_ids)
    fake, proxy = cluster.fake, cluster.proxy
    try:
        pids = cluster.pids
        await asyncio.sleep(2.0)  # start-up settles (menus, first lock checks)
        idle_from = cpu_of(pids)
        await asyncio.sleep(args.idle)
        run.idle_cpu = [
            (now - then) / args.idle for now, then in zip(cpu_of(pids), idle_from, strict=True)
        ]
        rng = random.Random(args.seed)
        people = [
            Salesperson(fake.user(user_id, ""), index, step=rng.randrange(len(CYCLE)))
            for index, user_id in enumerate(user_ids)
        ]
        free: deque[Salesperson] = deque(people)
        freed = asyncio.Event()
        samples: list[Sample] = []
        running: set[asyncio.Task[None]] = set()

        async def one(person: Salesperson) -> None:
            await act(person, samples)
            free.append(person)
            freed.set()

        loop = asyncio.get_running_loop()
        interval = 1.0 / args.rate
        start = loop.time() + 0.1
        window_from = start + args.warmup
        window_to = window_from + args.duration
        marks: dict[str, tuple[list[float], int, dict[int, float], float]] = {}

        async def mark(name: str, at: float) -> None:
            await asyncio.sleep(max(0.0, at - loop.time()))
            marks[name] = (
                cpu_of(pids),
                len(proxy.answers),
                await postgres_backend_cpu(args.postgres_url),
                time.process_time(),
            )

        markers = [
            asyncio.create_task(mark("from", window_from)),
            asyncio.create_task(mark("to", window_to)),
        ]
        slot = 0
        while (at := start + slot * interval) < window_to:
            await asyncio.sleep(max(0.0, at - loop.time()))
            if not free and at >= window_from:
                run.nobody_free += 1
            while not free:
                freed.clear()
                await freed.wait()
            if loop.time() - at > 0.1 and at >= window_from:
                run.late_starts += 1
            task = asyncio.create_task(one(free.popleft()))
            running.add(task)
            task.add_done_callback(running.discard)
            slot += 1
        await asyncio.gather(*markers)
        if running:
            await asyncio.wait(running, timeout=REPLY_TIMEOUT + 5)
        with contextlib.suppress(AssertionError):  # what is left is counted below
            await fake.wait_delivered(timeout=REPLY_TIMEOUT)
        run.undelivered = len(fake.pending_updates)
    finally:
        await cluster.stop()

    cpu_from, answers_from, pg_from, driver_from = marks["from"]
    cpu_to, answers_to, pg_to, driver_to = marks["to"]
    run.window = args.duration
    run.cpu = [b - a for a, b in zip(cpu_from, cpu_to, strict=True)]
    window_answers = proxy.answers[answers_from:answers_to]
    handled = [backend for _, backend, status in window_answers if status == 200]
    run.updates = len(handled)
    run.per_process = [handled.count(index) for index in range(processes)]
    run.other_statuses = Counter(status for _, _, status in window_answers if status != 200)
    run.postgres_cpu = postgres_cpu_between(pg_from, pg_to)
    run.driver_cpu = driver_to - driver_from
    run.samples = [s for s in samples if window_from <= s.started < window_to]
    run.timeouts = sum(1 for s in run.samples if s.finished is None)
    run.floods = len(fake.flood_errors)
    run.errors = Counter(f"{method}: {text}" for method, _, text in fake.errors)
    run.webhook_failures = sum(1 for delivery in fake.webhook_deliveries if not delivery.ok)
    return run


def _ms(seconds: float) -> str:
    return f"{1000 * seconds:.0f}"


def print_load(args: argparse.Namespace, runs: list[LoadRun]) -> bool:
    title = (
        f"Offered load: {args.rate:g} updates/s for {args.duration:g} s (after {args.warmup:g} s "
        f"of warm-up), {args.load_people} salespeople, /new → tap → /today "
        f"(tick {args.tick_seconds:g} s, lease {args.lease_seconds:g} s)"
    )
    print(title)
    print("-" * len(title))
    print(
        "procs  updates upd/s   p50   p95   p99   max lost  CPU s ms/upd  net  PG ms/upd  "
        "idle ms/s  per process: ms/update (updates)"
    )
    for run in runs:
        latencies = run.latencies()
        per_process = ", ".join(
            f"{1000 * cpu / max(n, 1):.1f} ({n})"
            for cpu, n in zip(run.cpu, run.per_process, strict=True)
        )
        idle = "/".join(f"{1000 * c:.0f}" for c in run.idle_cpu)
        print(
            f"{run.label:<6}{run.updates:>8} {run.updates / run.window:>5.1f} "
            + " ".join(f"{_ms(percentile(latencies, q)):>5}" for q in (0.50, 0.95, 0.99, 1.0))
            + f" {run.timeouts:>4} {sum(run.cpu):>6.2f} {1000 * run.cpu_per_update:>6.2f} "
            f"{1000 * run.net_cpu_per_update:>5.2f} "
            f"{1000 * run.postgres_cpu / max(run.updates, 1):>10.2f} {idle:>10}  {per_process}"
        )
    print("latencies in ms (from the update queued at the fake to the answer there), by action:")
    for run in runs:
        parts = []
        for kind in CYCLE:
            values = run.latencies(kind)
            parts.append(
                f"{kind} {_ms(percentile(values, 0.5))}/{_ms(percentile(values, 0.95))}/"
                f"{_ms(percentile(values, 0.99))} (n={len(values)})"
            )
        print(
            f"  {run.label:<5} p50/p95/p99: " + "; ".join(parts) + f"; this process (fake API, "
            f"proxy, driver) {run.driver_cpu:.1f} CPU s"
        )
    problems = []
    for run in runs:
        notes = []
        if run.timeouts:
            notes.append(f"{run.timeouts} actions unanswered in {REPLY_TIMEOUT:.0f} s")
        if run.nobody_free:
            notes.append(f"{run.nobody_free} slots found nobody free (offered load not kept)")
        if run.floods:
            notes.append(f"{run.floods} 429s")
        if run.errors:
            notes.append(f"API errors {dict(run.errors.most_common(3))}")
        if run.webhook_failures:
            notes.append(f"{run.webhook_failures} webhook deliveries failed")
        if run.undelivered:
            notes.append(f"{run.undelivered} updates never taken by the webhook")
        if run.other_statuses:
            notes.append(f"proxy answers {dict(run.other_statuses)}")
        if notes:
            problems.append(f"  {run.label}: " + "; ".join(notes))
        if run.late_starts:  # this process was slow to start them: a busy machine
            print(f"  {run.label}: {run.late_starts} actions started over 0.1 s after their slot")
    if problems:
        print("problems:")
        print("\n".join(problems))
    by_count: dict[int, list[LoadRun]] = {}
    for run in runs:
        by_count.setdefault(run.processes, []).append(run)
    cost = {
        count: statistics.median(r.cpu_per_update for r in same)
        for count, same in by_count.items()
    }
    net = {
        count: statistics.median(r.net_cpu_per_update for r in same)
        for count, same in by_count.items()
    }
    if args.repeat > 1:
        print(
            f"over {args.repeat} rounds (median CPU per update; latencies of all rounds pooled):"
        )
        for count, same in by_count.items():
            pooled = [latency for run in same for latency in run.latencies()]
            spread = ", ".join(f"{1000 * run.cpu_per_update:.2f}" for run in same)
            print(
                f"  {count} process(es): {1000 * cost[count]:.2f} ms/update ({spread}), "
                f"net of idle {1000 * net[count]:.2f}; "
                f"p50 {_ms(percentile(pooled, 0.5))} p95 {_ms(percentile(pooled, 0.95))} "
                f"p99 {_ms(percentile(pooled, 0.99))} ms"
            )
    passed = not problems
    if 1 in cost and 3 in cost:
        ratio = cost[3] / cost[1]
        ok = ratio <= 1.0
        passed = passed and ok
        print(
            f"CPU per update, 3 processes vs 1: {ratio:.2f}  "
            f"(goal <= 1.00: {'met' if ok else 'NOT met'}); net of idle: {net[3] / net[1]:.2f}"
        )
    print(f"verdict: {'PASS' if passed else 'FAIL'}")
    return passed


def load_folder(count: int, round_: int) -> str:
    return f"load-{count}-{round_}"


async def run_load(args: argparse.Namespace, folder: Path) -> bool:
    runs = []
    for round_ in range(1, args.repeat + 1):
        for count in args.processes:
            print(
                f"load: {count} process(es), {args.rate:g} updates/s for "
                f"{args.warmup + args.duration:g} s"
                + (f" (round {round_} of {args.repeat})" if args.repeat > 1 else "")
                + "…",
                flush=True,
            )
            runs.append(
                await run_load_once(
                    args,
                    folder / load_folder(count, round_),
                    count,
                    round_ if args.repeat > 1 else 0,
                )
            )
    print()
    return print_load(args, runs)


# ------------------------------------------------------------------------------------------------
# Main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale_out",
        description="Bot processes in webhook mode on one PostgreSQL database: a reminder burst "
        "with the sender killed, and CPU per update and latency for 1, 2, 3 processes.",
    )
    parser.add_argument("--part", choices=("burst", "load", "both"), default="both")
    burst = parser.add_argument_group("burst")
    burst.add_argument("--reminders", type=int, default=10_000)
    burst.add_argument("--people", type=int, default=500)
    burst.add_argument("--team-size", type=int, default=10)
    burst.add_argument("--seed", type=int, default=1)
    burst.add_argument(
        "--kill-at", type=float, default=0.25, help="share of the burst sent before the kill"
    )
    burst.add_argument("--timeout", type=float, help="give up on the burst after this many s")
    load = parser.add_argument_group("load")
    load.add_argument("--rate", type=float, default=20.0, help="updates a second (20)")
    load.add_argument("--duration", type=float, default=30.0, help="measured seconds (30)")
    load.add_argument("--warmup", type=float, default=5.0, help="unmeasured seconds first (5)")
    load.add_argument(
        "--idle", type=float, default=15.0, help="seconds of idle CPU measured first (15)"
    )
    load.add_argument(
        "--repeat", type=int, default=1, help="rounds of the whole sweep, interleaved (1)"
    )
    load.add_argument("--load-people", type=int, default=100, help="salespeople (100)")
    load.add_argument(
        "--processes",
        default="1,2,3",
        type=lambda text: [int(part) for part in text.split(",")],
        help="process counts, comma-separated (1,2,3)",
    )
    parser.add_argument("--tick-seconds", type=float, default=15.0, help="REMINDER_TICK_SECONDS")
    parser.add_argument("--lease-seconds", type=float, default=30.0, help="LEASE_SECONDS")
    parser.add_argument(
        "--postgres-url",
        default=POSTGRES_URL,
        help="the database (created if missing) whose `public` schema is DROPPED "
        "(default $BENCH_SCALE_POSTGRES_URL or %(default)s)",
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the bot processes' logs")
    args = parser.parse_args(argv)
    args.postgres_url = args.postgres_url.replace("postgresql+asyncpg://", "postgresql://")
    if args.postgres_url.rpartition("/")[2] in ("test", "postgres", "template0", "template1"):
        parser.error("that database is not the benchmark's own (its schema would be dropped)")
    if args.reminders < 1 or args.people < 1 or args.people > args.reminders:
        parser.error("--reminders and --people must be positive, with people <= reminders")
    if not 0 < args.kill_at < 1:
        parser.error("--kill-at is a share between 0 and 1")
    if min(args.rate, args.duration, args.idle, args.load_people, args.repeat) <= 0:
        parser.error("--rate, --duration, --idle, --load-people and --repeat must be positive")
    if args.load_people / args.rate > 10:
        parser.error("each person acts every people/rate s: keep it under 10 s (taps age)")
    if args.timeout is None:
        args.timeout = args.reminders / 15 + 180
    return args


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


async def amain(args: argparse.Namespace, folder: Path) -> bool:
    version = await postgres_version(args.postgres_url)
    print(
        f"{datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, {platform.node()} "
        f"({os.cpu_count()} CPUs, load {load_average()}), Python {platform.python_version()}, "
        f"PostgreSQL {version}, bot at {code_version()}",
        flush=True,
    )
    passed = True
    if args.part in ("burst", "both"):
        passed = await run_burst(args, folder / "burst") and passed
        print()
    if args.part in ("load", "both"):
        passed = await run_load(args, folder) and passed
        print()
    print(f"load average at the end: {load_average()}")
    return passed


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="scale-out-"))
    (folder / "burst").mkdir()
    for round_ in range(1, args.repeat + 1):
        for count in args.processes:
            (folder / load_folder(count, round_)).mkdir()
    passed = False
    try:
        passed = asyncio.run(amain(args, folder))
    finally:
        if args.keep_logs or not passed:
            print(f"bot logs: {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
