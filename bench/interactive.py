"""Interactive load: N simulated salespeople (default 50) use the real bot through the fake Bot
API, then the same updates go through a minimal echo bot, plain and behind AIORateLimiter.

    python -m bench.interactive [--people 20 50] [--deals 3] [--think 1.0] [--quick]

Each salesperson works sequentially (waits for the answer, then thinks 0.5-1.5 × `--think` s),
all of them at once, through phases that each hold one kind of interaction, so that the bot's
CPU can be put down to a kind (phases end when everybody is done):

    new       `/new Jan Kowalski +48 600 100 201 95000 Octavia` (one line), `--deals` times
    tap       "Tomorrow morning" on the picker that follows (after new, stage and activity)
    stage     card → "➡️ Stage" → a stage (2 updates); the picker that follows: tap
    activity  card → "📞 Activity" → "📞 Call" (2 updates); the picker that may follow: tap
    resign    card → "❌ Resign" → a reason → a typed comment → a win-back choice (4 updates)
    today     `/today`, `--deals` times
    clients   `/clients`, `--deals` times

It measures, per kind and in all: the latency of each update (from the update queued at the fake
to the answer the person waits for arriving there), p50/p95/p99, split into the wait for the
bot's getUpdates and the time after it; updates a second; the bot process's CPU (utime + stime
of /proc/<pid>/stat) per update, its system share and its threads' context switches; its peak
RSS (VmHWM); the Bot API calls per update, the 429s and lost answers. Then the very same
updates (recorded per person and phase, think times included) go to `bench/echo_bot.py`
(`send_message` for a text, `answer_callback_query` + `edit_message_text` for a tap), plain and
behind AIORateLimiter (`--limiter-retries`, default 3, tries after a 429), and it prints the
ratios against the targets: CPU per interaction at most 2× the plain echo bot's, per kind;
throughput at least 0.9× and p95 at most 1.5× the echo bot's behind AIORateLimiter.

Every bot is a separate process in polling mode (`run_bot.py` started by
`tests.test_scale_out.Bots` without a webhook URL, on SQLite in a temporary folder; the echo bot
the same way). The fake Bot API (`tests.fakes.telegram_server.FakeTelegram`, with Telegram's
limits: 30 messages a second, one a second per chat with a burst of 3) and the simulated people
share this process, whose CPU is not the bot's. The plain echo bot cannot keep to those limits
(that is what the limiter is for: 50 people acting within a second would get it 429s and lost
answers), so its fake has flood control off: it is the floor for CPU and latency.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from bench.reminders_burst import code_version
from bench.scale_out import CLOCK_TICKS, cpu_seconds, load_average, percentile
from bot.clock import SystemClock
from bot.services import deals
from bot.services.deals import NewDeal
from bot.storage.db import Database
from bot.storage.unit_of_work import UnitOfWork
from tests.fakes.telegram_server import BotMessage, FakeTelegram, FakeUser
from tests.test_scale_out import Bots, _seed_team

ECHO_BOT = Path(__file__).resolve().with_name("echo_bot.py")
MANAGER = 7000  # `_seed_team`'s first user founds the team; the salespeople are 7001, 7002, …
REPLY_TIMEOUT = 30.0  # an update without its answer after this long counts as lost
START_TIMEOUT = 60.0
NAMES = ("Jan Kowalski", "Anna Nowak", "Tom Brown", "Maria Popescu", "Ewa Smith", "Ivan Petrov")
MODELS = ("Octavia", "Fabia", "Superb", "Kodiaq")
COMMENT = "Too expensive for now, back in spring"

Kind = Literal["new", "tap", "stage", "activity", "resign", "today", "clients"]
KINDS: tuple[Kind, ...] = ("new", "tap", "stage", "activity", "resign", "today", "clients")
PHASES: tuple[Kind, ...] = (
    "new",
    "tap",
    "stage",
    "tap",
    "activity",
    "tap",
    "resign",
    "today",
    "clients",
)
Variant = Literal["bot", "echo", "echo+limiter"]
VARIANTS: tuple[Variant, ...] = ("bot", "echo", "echo+limiter")

# Targets of the issue (printed, not enforced).
CPU_TARGET = 2.0  # bot CPU per interaction / plain echo's, per kind
THROUGHPUT_TARGET = 0.9  # bot updates/s / echo behind the limiter's
P95_TARGET = 1.5  # bot p95 / echo behind the limiter's


# ------------------------------------------------------------------------------------------------
# Processes


def proc_status_mb(pid: int, field_name: str) -> float:
    """A `VmRSS`/`VmHWM` line of /proc/<pid>/status in MB (0 when the process is gone)."""
    with contextlib.suppress(OSError), open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def system_seconds_and_switches(pid: int) -> tuple[float, int]:
    """The process's system CPU seconds (stime) and the context switches of its live threads
    (voluntary and not): both show the cost of handing work between threads."""
    with open(f"/proc/{pid}/stat") as stat:
        system = int(stat.read().rpartition(")")[2].split()[12]) / CLOCK_TICKS
    switches = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            for line in (task / "status").read_text().splitlines():
                if "ctxt_switches:" in line:
                    switches += int(line.split()[1])
    return system, switches


class EchoBots(Bots):
    """`tests.test_scale_out.Bots` starting `bench/echo_bot.py` instead of `run_bot.py`: its
    `stop` and `log_text` serve both."""

    def __init__(self, fake: FakeTelegram, folder: Path, *, limiter_retries: int | None) -> None:
        """`limiter_retries`: None for the plain echo bot, else AIORateLimiter's max_retries."""
        super().__init__(fake, "", folder)
        self.limiter_retries = limiter_retries

    async def start_one(self, **extra: str) -> asyncio.subprocess.Process:
        log = self.folder / f"echo-{len(self.logs)}.log"
        self.logs.append(log)
        env = {key: value for key, value in os.environ.items() if not key.startswith("TELEGRAM_")}
        env.update(
            TELEGRAM_BOT_TOKEN=self.fake.token, TELEGRAM_API_BASE_URL=self.fake.base_url, **extra
        )
        flags = []
        if self.limiter_retries is not None:
            flags = ["--rate-limiter", f"--max-retries={self.limiter_retries}"]
        with log.open("ab") as output:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                str(ECHO_BOT),
                *flags,
                cwd=self.folder,
                env=env,
                stdout=output,
                stderr=output,
            )
        self.processes.append(process)
        self.ports.append(0)
        return process


def time_fetches(fake: FakeTelegram) -> dict[int, float]:
    """update_id → when a getUpdates answer first carried it (the fake has no record of that:
    its handler for the method is wrapped)."""
    fetched: dict[int, float] = {}
    get_updates = fake._methods["getupdates"]

    async def timed(params: Any) -> Any:
        updates = await get_updates(params)
        now = time.monotonic()
        for update in updates:
            fetched.setdefault(int(update["update_id"]), now)
        return updates

    fake._methods["getupdates"] = timed
    return fetched


async def polling(fake: FakeTelegram, bots: Bots) -> None:
    """Until the process asks for updates: start-up is done (polling starts last)."""
    deadline = time.monotonic() + START_TIMEOUT
    while not fake.calls("getUpdates"):
        if bots.processes[0].returncode is not None or time.monotonic() > deadline:
            raise SystemExit("the bot did not start:\n" + bots.log_text())
        await asyncio.sleep(0.1)


async def seed(db_url: str, people: int, deals_each: int) -> None:
    """One English team working around the clock (`_seed_team`: the manager and `people`
    salespeople, no morning agenda, today's digest sent), and `deals_each` open deals for
    every salesperson, three in four with a next contact in the coming days, so that /today
    and /clients have something to show and no reminder falls due during the run."""
    await _seed_team(db_url, people + 1)
    database = Database(db_url)
    clock = SystemClock()
    now = clock.now()
    try:
        async with UnitOfWork(database.sessions, clock) as uow:
            for person in range(1, people + 1):
                user = await uow.users.get(MANAGER + person)
                assert user is not None and user.team_id is not None
                team = await uow.teams.get(user.team_id)
                member = await uow.teams.member(user.team_id, user.id)
                assert team is not None and member is not None
                for number in range(deals_each):
                    name = f"{NAMES[number % len(NAMES)].split()[0]} Client{person}x{number}"
                    view = await deals.create_deal(uow, member, team, NewDeal(name=name), now)
                    if number % 4:
                        when = now + timedelta(days=1 + number % 9, hours=2)
                        await deals.plan_next_contact(uow, member, view.deal.id or 0, when, now)
            await uow.commit()
    finally:
        await database.dispose()


# ------------------------------------------------------------------------------------------------
# Simulated salespeople


@dataclass(frozen=True)
class Action:
    """One update a person sent: a text, or a tap with this callback data."""

    text: str | None = None
    data: str | None = None


@dataclass
class Sample:
    kind: Kind
    update_id: int
    started: float
    finished: float | None  # None: no answer within REPLY_TIMEOUT
    fetched: float | None = None  # when a getUpdates answer handed the update to the bot

    @property
    def latency(self) -> float | None:
        return None if self.finished is None else self.finished - self.started

    @property
    def waited(self) -> float | None:
        """From queued to fetched by the bot's getUpdates."""
        return None if self.fetched is None else self.fetched - self.started

    @property
    def inside(self) -> float | None:
        """From fetched to the answer: the bot's own time, its API calls and their waits."""
        if self.fetched is None or self.finished is None:
            return None
        return self.finished - self.fetched


Expect = Callable[[BotMessage], bool]


@dataclass
class Person:
    """One salesperson: their chat, their think times (the same seed in every run) and what
    they sent, phase by phase (the echo bots get exactly that)."""

    user: FakeUser
    index: int
    think: float
    rng: random.Random
    samples: list[Sample]
    trace: list[list[Action]] = field(default_factory=list)  # per phase
    pickers: list[int] = field(default_factory=list)  # messages with an open "when" picker
    cards: list[int] = field(default_factory=list)  # messages showing a deal's card
    target: int | None = None  # the message the next tap is on
    made: int = 0
    lost: int = 0
    broken: int = 0  # a button the bot should have shown was not there

    async def pause(self) -> None:
        await asyncio.sleep(self.think * self.rng.uniform(0.5, 1.5))

    async def step(self, kind: Kind, action: Action, expect: Expect) -> BotMessage | None:
        """Think, send the update, wait for the answer matching `expect`; record both."""
        await self.pause()
        user = self.user
        self.trace[-1].append(action)
        started = time.monotonic()
        if action.text is not None:
            await user.send(action.text)
        else:
            assert action.data is not None
            await user.forge_tap(action.data, self.target)
        # Queued just now, with nothing awaited in between: the last pending update is ours.
        update_id = int(user.fake.pending_updates[-1]["update_id"])
        try:
            answer = await user.expect(predicate=expect, timeout=REPLY_TIMEOUT)
        except AssertionError:
            user.skip_all()
            self.lost += 1
            self.samples.append(Sample(kind, update_id, started, None))
            return None
        self.samples.append(Sample(kind, update_id, started, time.monotonic()))
        return answer

    async def tap(
        self, kind: Kind, message_id: int, label: str, expect: Expect
    ) -> BotMessage | None:
        """Tap the button `label` (exact, else the first containing it) on a message."""
        button = self.user.message(message_id).find_button(label)
        if button is None or button.callback_data is None:
            self.broken += 1
            return None
        self.target = message_id
        return await self.step(kind, Action(data=button.callback_data), expect)

    def file(self, message: BotMessage | None) -> None:
        """Put a message the bot answered with where it belongs: an open picker or a card."""
        if message is None:
            return
        if message.find_button("Tomorrow morning") is not None:
            self.pickers.append(message.message_id)
        elif "➡️ Stage" in message.button_texts:
            self.cards.append(message.message_id)


def edit_of(message_id: int, text: str) -> Expect:
    return lambda m: m.event == "edit" and m.message_id == message_id and text in m.text


def new_with(text: str) -> Expect:
    return lambda m: m.event == "new" and text in m.text


class CrmFlows:
    """The interactions against the real bot, with its English labels."""

    def __init__(self, deals_each: int) -> None:
        self.deals_each = deals_each

    async def new(self, person: Person) -> int:
        for _ in range(self.deals_each):
            person.made += 1
            index, made = person.index, person.made
            phone = f"+48 600 {index:03d} {made:03d}"
            line = (
                f"/new {NAMES[(index + made) % len(NAMES)]} {phone} {90_000 + 500 * made} "
                f"{MODELS[made % len(MODELS)]}"
            )
            person.file(await person.step("new", Action(text=line), new_with("Saved as deal")))
        return self.deals_each

    async def tap(self, person: Person) -> int:
        pickers, person.pickers = person.pickers, []
        for message_id in pickers:

            def card(m: BotMessage, message_id: int = message_id) -> bool:
                return (
                    m.event == "edit"
                    and m.message_id == message_id
                    and "➡️ Stage" in m.button_texts
                )

            person.file(await person.tap("tap", message_id, "Tomorrow morning", card))
        return len(pickers)

    async def stage(self, person: Person) -> int:
        cards, person.cards = person.cards, []
        for card in cards:
            stages = await person.tap("stage", card, "➡️ Stage", edit_of(card, "to which stage"))
            if stages is None:
                continue
            # The first stage but the current one (marked "•") that asks nothing more.
            labels = [label for label in stages.button_texts if label[:1] not in "•◀"]
            choice = next((label for label in labels if label != "Offer sent"), None)
            if choice is None:
                person.broken += 1
                continue
            person.file(await person.tap("stage", card, choice, edit_of(card, "moved to")))
        return len(cards)

    async def activity(self, person: Person) -> int:
        cards, person.cards = person.cards, []
        for card in cards:
            kinds = await person.tap("activity", card, "📞 Activity", edit_of(card, "What did"))
            if kinds is not None:
                person.file(await person.tap("activity", card, "📞 Call", edit_of(card, "Logged")))
        return len(cards)

    async def resign(self, person: Person) -> int:
        cards, person.cards = person.cards, []
        for card in cards:
            why = await person.tap("resign", card, "❌ Resign", edit_of(card, "Why did"))
            if why is None:
                continue
            ask = await person.tap("resign", card, "Price too high", edit_of(card, "comment"))
            if ask is None:
                continue
            picker = await person.step(
                "resign", Action(text=COMMENT), new_with("When should we get back")
            )
            if picker is None:
                continue
            await person.tap(
                "resign", picker.message_id, "In 3 months", edit_of(picker.message_id, "Lost at")
            )
        return len(cards)

    async def today(self, person: Person) -> int:
        for _ in range(self.deals_each):
            await person.step("today", Action(text="/today"), new_with("Your day"))
        return self.deals_each

    async def clients(self, person: Person) -> int:
        for _ in range(self.deals_each):
            await person.step("clients", Action(text="/clients"), new_with("open deal"))
        return self.deals_each

    def of(self, kind: Kind) -> Callable[[Person], Awaitable[int]]:
        flows: dict[Kind, Callable[[Person], Awaitable[int]]] = {
            "new": self.new,
            "tap": self.tap,
            "stage": self.stage,
            "activity": self.activity,
            "resign": self.resign,
            "today": self.today,
            "clients": self.clients,
        }
        return flows[kind]


async def replay(person: Person, kind: Kind, actions: list[Action]) -> None:
    """The same updates to the echo bot: a text is answered by a new message, a tap (on the
    echo's latest message) by an edit of it."""
    for action in actions:
        if action.text is not None:
            await person.step(kind, action, lambda m: m.event == "new")
            continue
        if not person.user.messages:
            person.broken += 1
            continue
        target = person.target = person.user.last.message_id

        def echoed(m: BotMessage, target: int = target) -> bool:
            return m.event == "edit" and m.message_id == target

        await person.step(kind, action, echoed)


# ------------------------------------------------------------------------------------------------
# One run: one bot, N people, every phase


@dataclass
class Phase:
    kind: Kind
    seconds: float
    cpu: float
    updates: int
    interactions: int
    calls: int  # Bot API calls the bot made, getUpdates aside


@dataclass
class Run:
    variant: Variant
    people: int
    phases: list[Phase] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    traces: list[list[list[Action]]] = field(default_factory=list)  # person → phase → updates
    interactions: list[int] = field(default_factory=list)  # per phase, as the bot run had them
    idle_cpu: float = 0.0  # CPU seconds a second, idle
    rss_ready_mb: float = 0.0
    peak_rss_mb: float = 0.0
    start_seconds: float = 0.0
    driver_cpu: float = 0.0  # this process (the fake API and the people) over the phases
    system_cpu: float = 0.0  # the bot's stime over the phases
    switches: int = 0  # the bot's context switches over the phases
    lost: int = 0
    broken: int = 0
    floods: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    methods: Counter[str] = field(default_factory=Counter)

    @property
    def seconds(self) -> float:
        return sum(phase.seconds for phase in self.phases)

    @property
    def updates(self) -> int:
        return sum(phase.updates for phase in self.phases)

    @property
    def cpu(self) -> float:
        return sum(phase.cpu for phase in self.phases)

    def of(self, kind: Kind | None) -> list[Phase]:
        return [phase for phase in self.phases if kind in (None, phase.kind)]

    def cpu_per_update(self, kind: Kind | None = None) -> float:
        phases = self.of(kind)
        return sum(p.cpu for p in phases) / max(sum(p.updates for p in phases), 1)

    def cpu_per_interaction(self, kind: Kind | None = None) -> float:
        phases = self.of(kind)
        return sum(p.cpu for p in phases) / max(sum(p.interactions for p in phases), 1)

    def calls_per_update(self, kind: Kind | None = None) -> float:
        phases = self.of(kind)
        return sum(p.calls for p in phases) / max(sum(p.updates for p in phases), 1)

    def latencies(self, kind: Kind | None = None) -> list[float]:
        return [
            latency
            for sample in self.samples
            if kind in (None, sample.kind) and (latency := sample.latency) is not None
        ]

    def p(self, share: float, kind: Kind | None = None) -> float:
        return percentile(self.latencies(kind), share)

    def split(self, share: float) -> tuple[float, float]:
        """The percentile of the wait for getUpdates and of the time inside the bot."""
        waited = [w for sample in self.samples if (w := sample.waited) is not None]
        inside = [i for sample in self.samples if (i := sample.inside) is not None]
        return percentile(waited, share), percentile(inside, share)

    @property
    def rate(self) -> float:
        return self.updates / max(self.seconds, 1e-9)


async def run_one(
    args: argparse.Namespace, variant: Variant, people: int, folder: Path, recorded: Run | None
) -> Run:
    """`recorded`: the bot's run, whose updates an echo run replays."""
    run = Run(variant, people)
    flood_limits = not args.no_flood_limits and variant != "echo"
    fake = FakeTelegram(flood_limits=flood_limits)
    fetched = time_fetches(fake)
    await fake.start()
    users = [
        fake.user(MANAGER + n, f"P{n}", language_code="en", started=True)
        for n in range(1, people + 1)
    ]
    bots: Bots
    if variant == "bot":
        db_url = f"sqlite:///{folder / 'crm.sqlite3'}"
        seeding = time.monotonic()
        await seed(db_url, people, args.seeded_deals)
        if args.verbose:
            print(f"    seeded in {time.monotonic() - seeding:.1f} s", flush=True)
        bots = Bots(fake, db_url, folder)
        # Polling (no WEBHOOK_URL), a deployment's tick and lease, no backup during the run.
        settings = {"REMINDER_TICK_SECONDS": "15", "LEASE_SECONDS": "30", "BACKUP_HOUR": "off"}
        start = bots.start_one(WEBHOOK_URL="", **settings)
    else:
        retries = args.limiter_retries if variant == "echo+limiter" else None
        bots = EchoBots(fake, folder, limiter_retries=retries)
        start = bots.start_one()
    started = time.monotonic()
    try:
        await start
        await polling(fake, bots)
        run.start_seconds = time.monotonic() - started
        pid = bots.processes[0].pid
        await asyncio.sleep(0.5)  # the first tick, menus, the lease keeper
        run.rss_ready_mb = proc_status_mb(pid, "VmRSS")
        idle_from = cpu_seconds(pid) or 0.0
        await asyncio.sleep(args.idle)
        run.idle_cpu = ((cpu_seconds(pid) or 0.0) - idle_from) / args.idle

        crowd = [
            Person(user, n, args.think, random.Random(args.seed * 100_003 + n), run.samples)
            for n, user in enumerate(users, start=1)
        ]
        flows = CrmFlows(args.deals)
        driver_from = time.process_time()
        system_from, switches_from = system_seconds_and_switches(pid)
        for index, kind in enumerate(PHASES):
            for person in crowd:
                person.trace.append([])
            samples_before = len(run.samples)
            calls_before = len(fake.requests)
            cpu_before = cpu_seconds(pid) or 0.0
            phase_started = time.monotonic()
            if recorded is None:
                counts = await asyncio.gather(*(flows.of(kind)(person) for person in crowd))
                interactions = sum(counts)
            else:
                await asyncio.gather(
                    *(
                        replay(person, kind, recorded.traces[n][index])
                        for n, person in enumerate(crowd)
                    )
                )
                interactions = recorded.interactions[index]
            seconds = time.monotonic() - phase_started
            cpu = (cpu_seconds(pid) or 0.0) - cpu_before
            calls = sum(
                1 for method, _ in fake.requests[calls_before:] if method.lower() != "getupdates"
            )
            run.phases.append(
                Phase(kind, seconds, cpu, len(run.samples) - samples_before, interactions, calls)
            )
            run.interactions.append(interactions)
            if args.verbose:
                print(
                    f"    {variant} {kind}: {len(run.samples) - samples_before} updates in "
                    f"{seconds:.1f} s, {1000 * cpu:.0f} ms CPU",
                    flush=True,
                )
        run.driver_cpu = time.process_time() - driver_from
        system_to, switches_to = system_seconds_and_switches(pid)
        run.system_cpu, run.switches = system_to - system_from, switches_to - switches_from
        for sample in run.samples:
            sample.fetched = fetched.get(sample.update_id)
        run.peak_rss_mb = proc_status_mb(pid, "VmHWM")
        run.traces = [person.trace for person in crowd]
        run.lost = sum(person.lost for person in crowd)
        run.broken = sum(person.broken for person in crowd)
        run.floods = Counter(f"{error.method} ({error.scope})" for error in fake.flood_errors)
        run.errors = Counter(
            f"{method}: {text[:60]}" for method, code, text in fake.errors if code != 429
        )
        run.methods = Counter(
            method for method, _ in fake.requests if method.lower() != "getupdates"
        )
    finally:
        stopping = time.monotonic()
        await bots.stop()
        await fake.stop()
        if args.verbose:
            print(f"    stopped in {time.monotonic() - stopping:.1f} s", flush=True)
    if args.keep_logs:
        print(f"  logs of {variant}: {folder}")
    return run


# ------------------------------------------------------------------------------------------------
# Printing


def ms(seconds: float) -> str:
    return "-" if seconds != seconds else f"{1000 * seconds:.0f}"  # nan: no sample


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")


def print_runs(args: argparse.Namespace, runs: dict[Variant, Run]) -> None:
    bot = runs["bot"]
    title = (
        f"{bot.people} salespeople, {args.deals} deals each, think {args.think:g} s "
        f"(0.5-1.5×), {args.seeded_deals} open deals seeded each"
    )
    print(title)
    print("-" * len(title))
    header = "kind      updates"
    for variant in runs:
        header += f" | {variant:<12} p50  p95  p99 CPU ms" + (
            "  calls" if variant == "bot" else ""
        )
    print(header)
    for kind in (*KINDS, None):
        line = f"{kind or 'all':<9}{len(bot.latencies(kind)):>8}"
        for variant, run in runs.items():
            line += (
                f" | {'':<8}{ms(run.p(0.5, kind)):>4} {ms(run.p(0.95, kind)):>4} "
                f"{ms(run.p(0.99, kind)):>4} {1000 * run.cpu_per_update(kind):>6.2f}"
            )
            if variant == "bot":
                line += f" {run.calls_per_update(kind):>6.2f}"
        print(line)
    print("(latency ms per update; CPU ms per update; calls: Bot API calls per update)")
    rows: list[tuple[str, Callable[[Run], str]]] = [
        ("updates / seconds", lambda r: f"{r.updates} / {r.seconds:.1f}"),
        ("updates/s", lambda r: f"{r.rate:.1f}"),
        (
            "p50/p95 ms: to getUpdates + in bot",
            lambda r: (
                f"{ms(r.split(0.5)[0])}+{ms(r.split(0.5)[1])} / "
                f"{ms(r.split(0.95)[0])}+{ms(r.split(0.95)[1])}"
            ),
        ),
        (
            "process CPU s (ms/update)",
            lambda r: f"{r.cpu:.1f} ({1000 * r.cpu / max(r.updates, 1):.2f})",
        ),
        ("share of a core", lambda r: f"{100 * r.cpu / max(r.seconds, 1e-9):.0f} %"),
        ("of it system CPU", lambda r: f"{100 * r.system_cpu / max(r.cpu, 1e-9):.0f} %"),
        ("context switches/update", lambda r: f"{r.switches / max(r.updates, 1):.1f}"),
        ("idle CPU ms/s", lambda r: f"{1000 * r.idle_cpu:.1f}"),
        ("RSS ready / peak MB", lambda r: f"{r.rss_ready_mb:.1f} / {r.peak_rss_mb:.1f}"),
        ("start-up s", lambda r: f"{r.start_seconds:.1f}"),
        (
            "lost answers",
            lambda r: f"{r.lost}" + (f", {r.broken} flows broken" if r.broken else ""),
        ),
        ("429s", lambda r: f"{sum(r.floods.values())}"),
        ("other API errors", lambda r: f"{sum(r.errors.values())}"),
        ("this process CPU s", lambda r: f"{r.driver_cpu:.1f}"),
    ]
    width = max(len(name) for name, _ in rows)
    print(f"{'':<{width}}  " + "  ".join(f"{variant:>22}" for variant in runs))
    for name, value in rows:
        print(f"{name:<{width}}  " + "  ".join(f"{value(run):>22}" for run in runs.values()))
    for variant, run in runs.items():
        if run.floods:
            print(f"  {variant} 429s: {dict(run.floods.most_common(4))}")
        if run.errors:
            print(f"  {variant} errors: {dict(run.errors.most_common(3))}")
    calls = ", ".join(f"{method} {n}" for method, n in bot.methods.most_common(6))
    print(f"  bot's Bot API calls: {calls}")
    print()


def print_targets(args: argparse.Namespace, sweep: list[dict[Variant, Run]]) -> None:
    title = "Against the targets (bot / echo; the issue's target after each)"
    print(title)
    print("-" * len(title))
    for runs in sweep:
        bot, echo, limited = runs["bot"], runs["echo"], runs["echo+limiter"]
        n = bot.people
        parts = []
        for kind in (*KINDS, None):
            value = ratio(bot.cpu_per_interaction(kind), echo.cpu_per_interaction(kind))
            mark = "ok" if value <= CPU_TARGET else "NOT met"
            parts.append(f"{kind or 'all'} {value:.1f}× {mark}")
        print(f"{n:>3} people: CPU per interaction vs plain echo (<= {CPU_TARGET:g}×):")
        print("             " + "; ".join(parts))
        print(
            "             CPU ms per interaction, bot: "
            + ", ".join(
                f"{kind} {1000 * bot.cpu_per_interaction(kind):.1f}"
                for kind in KINDS
                if bot.of(kind)
            )
        )
        value = ratio(bot.rate, limited.rate)
        print(
            f"             throughput vs echo+limiter (>= {THROUGHPUT_TARGET:g}×): "
            f"{bot.rate:.1f} / {limited.rate:.1f} updates/s = {value:.2f}× "
            + ("ok" if value >= THROUGHPUT_TARGET else "NOT met")
        )
        value = ratio(bot.p(0.95), limited.p(0.95))
        per_kind = ", ".join(
            f"{kind} {ratio(bot.p(0.95, kind), limited.p(0.95, kind)):.1f}×" for kind in KINDS
        )
        print(
            f"             p95 vs echo+limiter (<= {P95_TARGET:g}×): {ms(bot.p(0.95))} / "
            f"{ms(limited.p(0.95))} ms = {value:.2f}× "
            + ("ok" if value <= P95_TARGET else "NOT met")
            + f"  (by kind: {per_kind})"
        )
        cost = limited.cpu_per_update() - echo.cpu_per_update()
        print(
            f"             AIORateLimiter alone: {1000 * cost:+.2f} CPU ms per update "
            f"({1000 * limited.cpu_per_update():.2f} - {1000 * echo.cpu_per_update():.2f})"
        )


# ------------------------------------------------------------------------------------------------
# Main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.interactive",
        description="N simulated salespeople through the fake Bot API: latency per kind of "
        "interaction, updates/s, the bot's CPU per update and peak RSS, against a minimal echo "
        "bot plain and behind AIORateLimiter.",
    )
    parser.add_argument(
        "--people",
        type=int,
        nargs="+",
        help="simultaneous salespeople, one run each (default 50; --quick: 20)",
    )
    parser.add_argument(
        "--deals", type=int, help="deals each person opens and resigns (3; --quick: 1)"
    )
    parser.add_argument(
        "--think",
        type=float,
        default=1.0,
        help="mean seconds a person waits between an answer and the next update (1.0)",
    )
    parser.add_argument(
        "--seeded-deals", type=int, default=10, help="open deals seeded per person (10)"
    )
    parser.add_argument(
        "--idle", type=float, help="seconds of idle CPU measured before the load (5; --quick: 1)"
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed of the think times")
    parser.add_argument(
        "--quick", action="store_true", help="a ~1 minute run: 20 people, 1 deal each"
    )
    parser.add_argument(
        "--no-flood-limits",
        action="store_true",
        help="the fake Bot API without Telegram's limits for every bot (not only the plain echo)",
    )
    parser.add_argument(
        "--limiter-retries",
        type=int,
        default=3,
        help="the echo bot's AIORateLimiter max_retries (3; PTB's default 0 loses the answer to "
        "a 429)",
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep the processes' logs")
    parser.add_argument("--verbose", action="store_true", help="print each phase as it ends")
    args = parser.parse_args(argv)
    args.people = args.people or ([20] if args.quick else [50])
    args.deals = args.deals or (1 if args.quick else 3)
    args.idle = args.idle or (1.0 if args.quick else 5.0)
    if min(args.people) < 1 or args.deals < 1 or args.think < 0 or args.seeded_deals < 0:
        parser.error("--people and --deals must be positive, --think and --seeded-deals >= 0")
    if max(args.people) > 999:
        parser.error("at most 999 people (their phone numbers)")
    return args


async def amain(args: argparse.Namespace, folder: Path) -> list[dict[Variant, Run]]:
    sweep = []
    for people in args.people:
        runs: dict[Variant, Run] = {}
        for variant in VARIANTS:
            print(f"{people} people, {variant}…", flush=True)
            runs[variant] = await run_one(
                args, variant, people, folder / f"{people}-{variant}", runs.get("bot")
            )
        print()
        print_runs(args, runs)
        sweep.append(runs)
    return sweep


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    print(
        f"{datetime.now().astimezone():%Y-%m-%d %H:%M %Z}, {platform.node()} "
        f"({os.cpu_count()} CPUs, load {load_average()}), Python {platform.python_version()}, "
        f"bot at {code_version()}",
        flush=True,
    )
    folder = Path(tempfile.mkdtemp(prefix="interactive-"))
    for people in args.people:
        for variant in VARIANTS:
            (folder / f"{people}-{variant}").mkdir()
    try:
        sweep = asyncio.run(amain(args, folder))
    finally:
        if not args.keep_logs:
            shutil.rmtree(folder, ignore_errors=True)
    print_targets(args, sweep)
    print(f"load average at the end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
