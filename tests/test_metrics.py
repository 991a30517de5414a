"""`GET /metrics` as an operator scrapes it: on METRICS_LISTEN in polling and in webhook mode
(never on the public WEB_LISTEN when it is another address), with updates by kind and bounded
names, the handler latency, reminders by outcome, the tick's age and the database's figures from
the active sender; never a user's or a team's id."""

from __future__ import annotations

import asyncio
import re
import sys
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from telegram import Update

from bot.metrics import update_labels
from tests.fakes.telegram_server import FakeTelegram
from tests.harness import BotRunner, seed_deal, seed_team
from tests.test_run_bot import RUN_BOT, _env
from tests.test_scale_out import PUBLIC, Bots, _port

USER_ID = 731_555_001


def _value(text: str, metric: str, **labels: str) -> float | None:
    """The value of one series in a Prometheus text exposition (None: absent)."""
    for line in text.splitlines():
        if not line.startswith(metric + "{") and line.split(" ")[0] != metric:
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
        if all(found.get(key) == value for key, value in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


async def _scrape(port: int, timeout: float = 30) -> str:  # noqa: ASYNC109
    async with aiohttp.ClientSession() as session:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                async with session.get(f"http://127.0.0.1:{port}/metrics") as answer:
                    assert answer.status == 200
                    assert answer.headers["Content-Type"].startswith("text/plain")
                    return await answer.text()
            except aiohttp.ClientConnectionError:
                assert asyncio.get_running_loop().time() < deadline, "no /metrics"
                await asyncio.sleep(0.2)


async def _until_ticked(port: int) -> str:
    for _ in range(100):
        text = await _scrape(port)
        if _value(text, "reminders_due") is not None:
            return text
        await asyncio.sleep(0.2)
    raise AssertionError("the tick never refreshed the database's figures:\n" + text)


async def _use_the_bot(fake: FakeTelegram) -> None:
    anna = fake.user(USER_ID, "Anna", language_code="en")
    await anna.send("/start")
    await anna.expect(predicate=lambda m: bool(m.buttons), timeout=30)
    await anna.send("/nonsense")
    await anna.expect(timeout=30)
    await anna.forge_tap("zzzq:123456")
    await anna.expect_answer(timeout=30)


def _check(text: str) -> None:
    assert (_value(text, "telegram_updates_total", kind="command", name="start") or 0) >= 1
    assert (_value(text, "telegram_updates_total", kind="command", name="other") or 0) >= 1
    assert (_value(text, "telegram_updates_total", kind="callback", name="other") or 0) >= 1
    assert (_value(text, "handler_latency_seconds_count", kind="command") or 0) >= 2
    assert _value(text, "reminders_total", outcome="sent") == 0
    assert _value(text, "sender_active") == 1
    age = _value(text, "tick_age_seconds")
    assert age is not None and 0 <= age < 10
    assert _value(text, "reminders_due") == 0
    assert _value(text, "db_pool_in_use") is not None
    assert str(USER_ID) not in text  # no user, chat or team in a label


async def test_metrics_in_polling_mode(tmp_path: Path) -> None:
    fake = FakeTelegram()
    await fake.start()
    port = _port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(RUN_BOT),
        cwd=tmp_path,
        env=_env(
            TELEGRAM_BOT_TOKEN=fake.token,
            TELEGRAM_API_BASE_URL=fake.base_url,
            METRICS_LISTEN=f"127.0.0.1:{port}",
            REMINDER_TICK_SECONDS="1",
        ),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await _scrape(port)
        await _use_the_bot(fake)
        _check(await _until_ticked(port))
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 15)
        await fake.stop()


async def test_metrics_in_webhook_mode_stay_off_the_public_address(tmp_path: Path) -> None:
    fake = FakeTelegram(webhook_queues="chat")
    await fake.start()
    metrics_port = _port()
    bots = Bots(fake, f"sqlite:///{tmp_path / 'crm.sqlite3'}", tmp_path)
    try:
        await bots.start(1, METRICS_LISTEN=f"127.0.0.1:{metrics_port}")
        fake.route_webhook(PUBLIC, f"http://127.0.0.1:{bots.ports[0]}/telegram/hook")
        await bots.ready()
        await _use_the_bot(fake)
        text = await _until_ticked(metrics_port)
        _check(text)
        public = f"http://127.0.0.1:{bots.ports[0]}/metrics"
        async with aiohttp.ClientSession() as session, session.get(public) as answer:
            assert answer.status == 404  # the proxy's address never shows them
    finally:
        await bots.stop()
        await fake.stop()


async def test_reminders_are_counted_by_outcome(
    bot: BotRunner, fake_telegram: FakeTelegram
) -> None:
    await seed_team(bot, fake_telegram, "North", [(1, "Mark", "en", "manager")])
    now = bot.clock.now()
    await seed_deal(bot, 1, "Jan Kowalski", next_contact=now + timedelta(minutes=1))
    await seed_deal(bot, 1, "Ewa Lis", next_contact=now + timedelta(minutes=20))
    bot.clock.advance(minutes=10)  # the bot was down: Jan's reminder goes 9 minutes late
    await bot.tick()
    bot.clock.advance(minutes=10)  # Ewa's on time
    await bot.tick()
    text = bot.runtime.metrics.render().decode()
    assert _value(text, "reminders_total", outcome="late") == 1, text
    assert _value(text, "reminders_total", outcome="sent") == 1, text


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"callback_query": {"data": "d:o:5"}}, ("callback", "d")),
        ({"callback_query": {"data": "🙂" * 30}}, ("callback", "other")),
        ({"callback_query": {"data": "zzzq:1"}}, ("callback", "other")),
        ({"message": {"text": "/today@crm_bot extra"}}, ("command", "today")),
        ({"message": {"text": "/" + "x" * 60}}, ("command", "other")),
        ({"message": {"text": "Jan Kowalski +48 600 100 200"}}, ("message", "")),
    ],
)
def test_label_values_come_from_bounded_sets(
    payload: dict[str, dict[str, str]], expected: tuple[str, str]
) -> None:
    user = {"id": 5, "is_bot": False, "first_name": "A"}
    chat = {"id": 5, "type": "private"}
    raw: dict[str, object] = {"update_id": 1}
    if "callback_query" in payload:
        raw["callback_query"] = {
            "id": "1",
            "from": user,
            "chat_instance": "c",
            **payload["callback_query"],
        }
    else:
        raw["message"] = {
            "message_id": 1,
            "date": 0,
            "chat": chat,
            "from": user,
            **payload["message"],
        }
    update = Update.de_json(raw, None)
    assert update_labels(update, frozenset({"today", "start"}), frozenset({"d", "r"})) == expected
