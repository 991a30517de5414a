"""A real bot process, killed with SIGKILL in the middle of a burst of reminders, then started
again: every reminder arrives, and only the messages in flight at the kill may come twice."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

from sqlmodel import select

from bot.clock import SystemClock
from bot.dispatcher import WORKERS
from bot.domain import ReminderStatus
from bot.services import deals, teams
from bot.services.deals import NewDeal
from bot.storage.db import Database
from bot.storage.migrate import upgrade
from bot.storage.models import Reminder, User
from bot.storage.unit_of_work import UnitOfWork
from tests.fakes.telegram_server import FakeTelegram

RUN_BOT = Path(__file__).resolve().parent.parent / "run_bot.py"
# 150 reminders in 75 chats: the burst goes at the token's overall rate (about 28 a second)
# rather than at one a second per chat, so the kill lands mid-batch within seconds.
PEOPLE = 75
PER_PERSON = 2
TOTAL = PEOPLE * PER_PERSON
NUMBER = re.compile(r"#(\d+) · ")


async def _seed(db_url: str) -> None:
    database = Database(db_url)
    await upgrade(database)
    clock = SystemClock()
    now = clock.now()
    async with UnitOfWork(database.sessions, clock) as uow:
        team = None
        for index in range(PEOPLE):
            user = await uow.users.add(
                User(
                    id=5000 + index,
                    first_name=f"S{index}",
                    language="en",
                    created_at=now,
                    last_seen_at=now,
                )
            )
            if team is None:
                team, _ = await teams.create_team(uow, user, "Burst", now, allowed=True)
                team.work_days, team.work_start_minute, team.work_end_minute = 0b1111111, 0, 1440
            else:
                await teams.join_team(uow, user, team.invite_code or "", now)
            member = await uow.teams.member(team.id or 0, user.id)
            assert member is not None
            member.morning_agenda = False
            await uow.teams.save(member, team)
            for number in range(PER_PERSON):
                view = await deals.create_deal(
                    uow, member, team, NewDeal(name=f"Client {index}-{number}"), now
                )
                await deals.plan_next_contact(
                    uow, member, view.deal.id or 0, now + timedelta(seconds=2), now
                )
        await uow.commit()
    await database.dispose()


async def _statuses(db_url: str) -> Counter[str]:
    database = Database(db_url)
    try:
        async with database.sessions() as session:
            rows = await session.exec(select(Reminder))
            return Counter(row.status for row in rows)
    finally:
        await database.dispose()


def _delivered(fake: FakeTelegram) -> list[int]:
    numbers = []
    for index in range(PEOPLE):
        for message in fake.user(5000 + index, f"S{index}").messages:
            match = NUMBER.search(message.text)
            if match and "Time to contact" in message.text:
                numbers.append(int(match.group(1)))
    return numbers


async def _start(fake: FakeTelegram, db_url: str, log: Path) -> asyncio.subprocess.Process:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "DATABASE_", "BOT_"))
    }
    env.update(
        TELEGRAM_BOT_TOKEN=fake.token,
        TELEGRAM_API_BASE_URL=fake.base_url,
        DATABASE_URL=db_url,
        REMINDER_TICK_SECONDS="0.5",
        # What the killed process held is taken over when its lease runs out: keep it short.
        LEASE_SECONDS="4",
    )
    with log.open("ab") as stderr:  # the child keeps its own descriptor
        return await asyncio.create_subprocess_exec(
            sys.executable,
            str(RUN_BOT),
            cwd=log.parent,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=stderr,
        )


async def _wait_for(condition: object, seconds: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await condition():  # type: ignore[operator]
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_a_sigkill_mid_batch_loses_nothing(tmp_path: Path, db_url: str) -> None:
    fake = FakeTelegram()
    await fake.start()
    for index in range(PEOPLE):
        fake.user(5000 + index, f"S{index}", language_code="en", started=True)
    await _seed(db_url)
    log = tmp_path / "bot.log"
    first = await _start(fake, db_url, log)
    try:

        async def some_sent() -> bool:
            return len(_delivered(fake)) >= TOTAL // 4

        await _wait_for(some_sent, 60)
        first.send_signal(signal.SIGKILL)
        await first.wait()
    finally:
        if first.returncode is None:
            first.kill()
            await first.wait()
    before = len(_delivered(fake))
    assert before < TOTAL, "the burst finished before the kill; nothing was tested"

    second = await _start(fake, db_url, log)
    try:

        async def all_sent() -> bool:
            return (await _statuses(db_url))[ReminderStatus.SENT] == TOTAL

        await _wait_for(all_sent, 90)
    finally:
        second.send_signal(signal.SIGINT)
        await asyncio.wait_for(second.wait(), 30)
        await fake.stop()
    delivered = Counter(_delivered(fake))
    assert set(delivered) == set(range(1, TOTAL + 1)), "a reminder was lost"
    twice = sum(count - 1 for count in delivered.values())
    assert twice <= WORKERS, f"{twice} reminders arrived twice; only those in flight may"
    assert (await _statuses(db_url)) == Counter({ReminderStatus.SENT: TOTAL})
