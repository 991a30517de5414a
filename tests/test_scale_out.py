"""Several real bot processes on one PostgreSQL database, in webhook mode behind a small
round-robin proxy (as nginx would be, passing a 503 on to the next backend), against the fake
Bot API, which delivers updates to the webhook as Telegram does.

- three processes, thirty people at once: every update's writes applied once, each person's
  order kept, a conversation started on one process finished on another, deal numbers unique;
- a burst of 1,000 reminders for 100 people with the active sender killed (SIGKILL) mid-burst:
  all arrive, doubles only for messages in flight, never more than 30 accepted in a second and
  no 429 for any chat, and the standby takes over within 30 s;
- two processes started in the same second on an empty database: the migrations run once;
- a wrong or missing secret: 403 and nothing handled; SIGTERM: out within 10 s, nothing held.

PostgreSQL only (SQLite is one process per database file).
"""

from __future__ import annotations

import asyncio
import bisect
import io
import os
import random
import re
import signal
import socket
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func
from sqlmodel import col, select

from bot.clock import SystemClock
from bot.domain import ReminderStatus
from bot.services import deals, teams
from bot.services.deals import NewDeal
from bot.storage.db import Database
from bot.storage.migrate import upgrade
from bot.storage.models import Deal, DealEvent, Reminder, User, Worker
from bot.storage.unit_of_work import UnitOfWork
from tests.fakes.telegram_server import FakeTelegram

RUN_BOT = Path(__file__).resolve().parent.parent / "run_bot.py"
PUBLIC = "https://crm.example.com/telegram/hook"
SECRET = "scale-out_test-secret"


def _postgres_only(backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("several processes share a PostgreSQL database (SQLite: one per file)")


def _port() -> int:
    """A free port below the ephemeral range: one the kernel hands out (port 0) lies in it, and
    before the bot binds it an outgoing connection (the fake opens hundreds) may take it."""
    with open("/proc/sys/net/ipv4/ip_local_port_range") as ports:
        first_ephemeral = int(ports.read().split()[0])
    while True:
        port = random.randrange(10_000, min(first_ephemeral, 65_536))
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        return port


class Proxy:
    """Round robin over the backends; a 503 or a refused connection goes to the next one."""

    def __init__(self, backends: list[int]) -> None:
        self.backends = backends
        self._turn = 0
        self.port = _port()
        self.answers: list[tuple[int, int, int]] = []  # (update id, backend, status)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post("/{tail:.*}", self._forward)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        body = await request.read()
        update = re.search(rb'"update_id":\s*(\d+)', body)
        update_id = int(update.group(1)) if update else -1
        assert self._session is not None
        for _ in range(len(self.backends)):
            index = self._turn % len(self.backends)
            self._turn += 1
            url = f"http://127.0.0.1:{self.backends[index]}{request.path}"
            try:
                async with self._session.post(url, data=body, headers=request.headers) as answer:
                    if answer.status == 503:
                        continue
                    self.answers.append((update_id, index, answer.status))
                    return web.Response(status=answer.status, body=await answer.read())
            except aiohttp.ClientError:
                continue
        return web.Response(status=502)


class Bots:
    """Bot processes in webhook mode on one database, each on its own port."""

    def __init__(self, fake: FakeTelegram, db_url: str, folder: Path) -> None:
        self.fake = fake
        self.db_url = db_url
        self.folder = folder
        self.processes: list[asyncio.subprocess.Process] = []
        self.ports: list[int] = []
        self.logs: list[Path] = []

    async def start(self, count: int, **env: str) -> None:
        for _ in range(count):
            await self.start_one(**env)

    async def start_one(self, **extra: str) -> asyncio.subprocess.Process:
        port = _port()
        log = self.folder / f"bot-{len(self.logs)}.log"
        self.logs.append(log)  # before any await: processes started together get their own
        drop = ("TELEGRAM_", "DATABASE_", "BOT_", "WEB", "LEASE", "REMINDER_", "LOG_")
        env = {key: value for key, value in os.environ.items() if not key.startswith(drop)}
        env.update(
            TELEGRAM_BOT_TOKEN=self.fake.token,
            TELEGRAM_API_BASE_URL=self.fake.base_url,
            DATABASE_URL=self.db_url,
            WEBHOOK_URL=PUBLIC,
            WEBHOOK_SECRET=SECRET,
            WEB_LISTEN=f"127.0.0.1:{port}",
            # Quick takeovers for the tests; `extra` may set a deployment's own.
            REMINDER_TICK_SECONDS="1",
            LEASE_SECONDS="4",
        )
        env.update(extra)
        with log.open("ab") as output:
            process = await asyncio.create_subprocess_exec(
                sys.executable,
                str(RUN_BOT),
                cwd=self.folder,
                env=env,
                stdout=output,
                stderr=output,
            )
        self.processes.append(process)
        self.ports.append(port)
        return process

    async def ready(self, timeout: float = 60) -> None:  # noqa: ASYNC109
        """Every process answers /readyz with 200."""
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            for port, process in zip(self.ports, self.processes, strict=True):
                while True:
                    assert process.returncode is None, self.log_text()
                    try:
                        async with session.get(f"http://127.0.0.1:{port}/readyz") as answer:
                            if answer.status == 200:
                                break
                    except aiohttp.ClientError:
                        pass
                    assert time.monotonic() < deadline, "not ready in time:\n" + self.log_text()
                    await asyncio.sleep(0.2)

    def log_text(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()[-3000:]}" for log in self.logs)

    async def stop(self) -> None:
        for process in self.processes:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                process.kill()
                await process.wait()


async def _wait_for(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not await condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.2)


async def _seed_team(db_url: str, people: int, *, reminders_each: int = 0) -> None:
    database = Database(db_url)
    await upgrade(database)
    clock = SystemClock()
    now = clock.now()
    async with UnitOfWork(database.sessions, clock) as uow:
        team = None
        for index in range(people):
            user = await uow.users.add(
                User(
                    id=7000 + index,
                    first_name=f"P{index}",
                    language="en",
                    created_at=now,
                    last_seen_at=now,
                )
            )
            if team is None:
                team, _ = await teams.create_team(uow, user, "Group", now, allowed=True)
                team.work_days, team.work_start_minute, team.work_end_minute = 0b1111111, 0, 1440
            else:
                await teams.join_team(uow, user, team.invite_code or "", now)
            member = await uow.teams.member(team.id or 0, user.id)
            assert member is not None
            member.morning_agenda = False
            member.digest_day = now.date()  # no digests in the way
            await uow.teams.save(member, team)
            for number in range(reminders_each):
                view = await deals.create_deal(
                    uow, member, team, NewDeal(name=f"Client {index}-{number}"), now
                )
                await deals.plan_next_contact(
                    uow, member, view.deal.id or 0, now + timedelta(seconds=3), now
                )
        await uow.commit()
    await database.dispose()


# --- three processes, thirty people -----------------------------------------------------------
async def test_three_processes_behind_a_proxy_handle_every_update_once(
    tmp_path: Path, db_url: str, backend: str
) -> None:
    _postgres_only(backend)
    # 30 people tapping at once on a busy 2-core machine may wait more than the default 10 s.
    fake = FakeTelegram(webhook_queues="chat", webhook_timeout=30)
    await fake.start()
    await _seed_team(db_url, 30)
    bots = Bots(fake, db_url, tmp_path)
    proxy = Proxy([])
    try:
        await bots.start(3)
        proxy.backends = bots.ports
        await proxy.start()
        fake.route_webhook(PUBLIC, f"http://127.0.0.1:{proxy.port}/telegram/hook")
        await bots.ready()
        people = [
            fake.user(7000 + n, f"P{n}", language_code="en", started=True) for n in range(30)
        ]

        async def work(index: int) -> None:
            person = people[index]
            # A guided flow: each step may land on another process.
            await person.send("/new")
            await person.expect("What is their name?", timeout=30)
            await person.send(f"Client Of P{index}")
            await person.expect("phone number?", timeout=30)
            await person.send(f"+48 600 {index:03d} 100")
            await person.expect("What is the deal worth?", timeout=30)
            await person.send("95000")
            await person.expect("Which car", timeout=30)
            await person.send("Octavia")
            await person.expect("How did", timeout=30)
            await person.tap("🚶 Walk-in")
            await person.expect("Saved as deal", timeout=30)
            await person.tap("Tomorrow morning")
            await person.expect(predicate=lambda m: "· Client Of" in m.text, timeout=30)
            # And a one-line entry right after.
            await person.send("/new Second Client 45000 Fabia")
            await person.expect("Saved as deal", timeout=30)

        await asyncio.gather(*(work(index) for index in range(30)))
        await fake.wait_delivered(timeout=30)

    finally:
        await bots.stop()
        await proxy.stop()
        await fake.stop()
    database = Database(db_url)
    try:
        async with database.sessions() as session:
            all_deals = list(await session.exec(select(Deal)))
            created = list(
                await session.exec(select(DealEvent).where(DealEvent.kind == "created"))
            )
    finally:
        await database.dispose()
    assert len(all_deals) == 60 and len(created) == 60, "an update acted twice or not at all"
    assert sorted(deal.number for deal in all_deals) == list(range(1, 61))
    by_owner: dict[int, list[Deal]] = {}
    for deal in sorted(all_deals, key=lambda d: d.id or 0):
        by_owner.setdefault(deal.owner_member_id, []).append(deal)
    assert all(len(own) == 2 for own in by_owner.values())
    # Each person's order: the guided deal before the one-line one, each with its car.
    models = [(own[0].model, own[1].model) for own in by_owner.values()]
    wrong = [m for m in models if m != ("Octavia", "Fabia")]
    assert not wrong, f"a step was applied twice or to the wrong question: {wrong}"
    ok = Counter(update for update, _, status in proxy.answers if status == 200)
    late = [(d.update_id, d.error) for d in fake.webhook_deliveries if not d.ok]
    assert max(ok.values()) == 1, f"an update was answered 200 twice; late or failed: {late}"
    assert {backend for _, backend, _ in proxy.answers} == {0, 1, 2}, "all three took updates"


# --- the burst with the active sender killed --------------------------------------------------
async def test_a_killed_sender_loses_no_reminder_and_the_standby_takes_over(
    tmp_path: Path, db_url: str, backend: str
) -> None:
    _postgres_only(backend)
    fake = FakeTelegram(webhook_queues="chat")
    await fake.start()
    for index in range(100):
        fake.user(7000 + index, f"P{index}", language_code="en", started=True)
    await _seed_team(db_url, 100, reminders_each=10)  # all 1,000 due in 3 s
    bots = Bots(fake, db_url, tmp_path)
    try:
        await bots.start(2)
        fake.route_webhook(PUBLIC, f"http://127.0.0.1:{bots.ports[0]}/telegram/hook")
        await bots.ready()
        database = Database(db_url)

        async def sender() -> int | None:
            async with database.sessions() as session:
                rows = list(await session.exec(select(Worker).where(Worker.sender)))
            pids = {process.pid: index for index, process in enumerate(bots.processes)}
            for row in rows:
                if row.pid in pids and bots.processes[pids[row.pid]].returncode is None:
                    return pids[row.pid]
            return None

        async def some_sent() -> bool:
            return len(fake.accepted) >= 250

        await _wait_for(some_sent, 120, "a quarter of the burst")
        active = await sender()
        assert active is not None
        killed_at = fake.clock()
        bots.processes[active].send_signal(signal.SIGKILL)
        await bots.processes[active].wait()
        before = len(fake.accepted)

        async def resumed() -> bool:
            return len(fake.accepted) > before + 5

        await _wait_for(resumed, 40, "the standby to take over")
        takeover = next(at for at, _ in fake.accepted[before:]) - killed_at

        async def all_sent() -> bool:  # a count: the fake shares this loop, keep it light
            async with database.sessions() as session:
                waiting = await session.exec(
                    select(func.count())
                    .select_from(Reminder)
                    .where(col(Reminder.status) != ReminderStatus.SENT)
                )
                return waiting.one() == 0

        await _wait_for(all_sent, 240, "every reminder sent")
        await database.dispose()
    finally:
        await bots.stop()
        await fake.stop()
    delivered = Counter(
        (chat, message.text.split("\n")[1])
        for chat in range(7000, 7100)
        for message in fake.user(chat, "x").messages
        if message.text.startswith("⏰ Time to contact")
    )
    assert len(delivered) == 1000, "a reminder was lost"
    doubles = sum(count - 1 for count in delivered.values())
    assert doubles <= 32, f"{doubles} arrived twice; only those in flight may"
    times = sorted(at for at, _ in fake.accepted)
    windows = [(bisect.bisect_left(times, at + 1.0) - i, at) for i, at in enumerate(times)]
    busiest, busiest_at = max(windows)
    assert busiest <= 30, (
        f"{busiest} messages were accepted within one second, "
        f"{busiest_at - killed_at:+.1f} s from the kill"
    )
    assert not [e for e in fake.errors if e[1] == 429], "a chat got a 429"
    assert takeover <= 30, f"the standby took {takeover:.1f} s to take over"


# --- migrations, secrets, SIGTERM -------------------------------------------------------------
async def test_two_processes_starting_together_migrate_once_and_refuse_bad_secrets(
    tmp_path: Path, db_url: str, backend: str
) -> None:
    _postgres_only(backend)
    fake = FakeTelegram()
    await fake.start()
    bots = Bots(fake, db_url, tmp_path)
    try:
        await asyncio.gather(bots.start_one(LOG_LEVEL="DEBUG"), bots.start_one(LOG_LEVEL="DEBUG"))
        await bots.ready()
        logs = "".join(log.read_text() for log in bots.logs)
        assert logs.count("Running upgrade 0007 -> 0008") == 1, bots.log_text()
        port = bots.ports[0]
        update = {
            "update_id": 9,
            "message": {
                "message_id": 1,
                "date": 1,
                "chat": {"id": 55, "type": "private", "first_name": "Eve"},
                "from": {"id": 55, "is_bot": False, "first_name": "Eve"},
                "text": "/start",
            },
        }
        async with aiohttp.ClientSession() as session:
            for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
                async with session.post(
                    f"http://127.0.0.1:{port}/telegram/hook", json=update, headers=headers
                ) as answer:
                    assert answer.status == 403
            good = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
            async with session.post(
                f"http://127.0.0.1:{port}/telegram/hook", data=b"{nope", headers=good
            ) as answer:
                assert answer.status == 400
            async with session.post(
                f"http://127.0.0.1:{port}/telegram/hook",
                data=io.BytesIO(b"x" * 1_100_000),
                headers=good,
            ) as answer:
                assert answer.status == 413
        assert not fake.calls("sendMessage"), "a refused request was handled"
        database = Database(db_url)
        async with database.sessions() as session:
            assert await session.get(User, 55) is None
        # SIGTERM: out within 10 s, nothing left claimed or registered.
        started = time.monotonic()
        for process in bots.processes:
            process.send_signal(signal.SIGTERM)
        for process in bots.processes:
            assert await asyncio.wait_for(process.wait(), 10) == 0
        assert time.monotonic() - started < 10
        async with database.sessions() as session:
            assert list(await session.exec(select(Worker))) == []
        await database.dispose()
    finally:
        await bots.stop()
        await fake.stop()
