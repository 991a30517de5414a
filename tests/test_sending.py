"""The send budget on its own: no second over the token's limit, replies before bulk, replies
to one chat within its burst and rate, one bulk message a second per chat, a 429 holds every
call."""

from __future__ import annotations

import asyncio
import bisect
import itertools
import time
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.sending import BULK, INTERACTIVE, RATE, SHARED_CAP, SHARED_RATE, SendBudget
from bot.storage.db import Database
from bot.storage.migrate import upgrade
from bot.storage.send_budget import SharedBudget


def _busiest_second(times: list[float]) -> int:
    times = sorted(times)
    return max(bisect.bisect_left(times, start + 1.0) - i for i, start in enumerate(times))


async def test_no_second_holds_more_than_the_rate_even_after_the_loop_was_busy() -> None:
    budget = SendBudget()
    taken: list[float] = []

    async def one(chat: int) -> None:
        await budget.wait(BULK, chat)
        taken.append(time.monotonic())
        if len(taken) == 10:
            time.sleep(0.3)  # noqa: ASYNC251 - the loop held: tokens gather, yet the window holds

    started = time.monotonic()
    await asyncio.gather(*(one(chat) for chat in range(70)))
    elapsed = time.monotonic() - started
    assert _busiest_second(taken) <= RATE
    # ...and the budget is used: 70 messages at 28/s take about 2.4 s.
    assert elapsed < 70 / RATE * 2, f"70 bulk messages took {elapsed:.1f} s"


async def test_a_reply_goes_before_the_bulk_queued_ahead_of_it() -> None:
    budget = SendBudget()
    order: list[str] = []

    async def bulk(chat: int) -> None:
        await budget.wait(BULK, chat)
        order.append("bulk")

    async def reply() -> None:
        await asyncio.sleep(0.05)  # arrives while 40 bulk messages wait
        await budget.wait(INTERACTIVE, 999)
        order.append("reply")

    await asyncio.gather(*(bulk(chat) for chat in range(40)), reply())
    assert order.index("reply") <= 6, order


async def test_replies_to_one_chat_stay_within_its_burst_and_rate() -> None:
    """Telegram lets a private chat take a burst of about 3 and then one a second, edits
    included; replies in a row (taps answered with edits) are paced to that, never a 429."""
    budget = SendBudget(chat_burst=3, chat_rate=10.0)
    taken: list[float] = []
    started = time.monotonic()
    for _ in range(10):
        await budget.wait(INTERACTIVE, 7)
        taken.append(time.monotonic() - started)
    await budget.wait(INTERACTIVE, 8)  # another chat is not held up by this one
    assert time.monotonic() - started - taken[-1] < 0.05
    # By any moment the chat got at most the burst plus what the rate refilled.
    assert all(index + 1 <= 3 + at * 10.0 + 0.5 for index, at in enumerate(taken)), taken
    assert taken[2] < 0.05 and taken[-1] >= 0.6  # 3 at once, the other 7 at 10 a second


async def test_bulk_to_one_chat_goes_once_a_second() -> None:
    budget = SendBudget()
    taken: list[float] = []
    for _ in range(3):
        await budget.wait(BULK, 42)
        taken.append(time.monotonic())
    gaps = [b - a for a, b in itertools.pairwise(taken)]
    assert all(gap >= 0.99 for gap in gaps), gaps


@pytest.mark.parametrize("kind", [INTERACTIVE, BULK])
async def test_a_429_holds_every_call_for_the_time_telegram_asks(kind: str) -> None:
    budget = SendBudget()
    calls: list[tuple[str, float]] = []
    refused = False

    async def refusing(**_: Any) -> bool:
        nonlocal refused
        calls.append(("first", time.monotonic()))
        if not refused:
            refused = True
            raise RetryAfter(1)
        return True

    async def other(**_: Any) -> bool:
        calls.append(("other", time.monotonic()))
        return True

    started = time.monotonic()

    async def later() -> bool | Any:
        await asyncio.sleep(0.1)  # after the 429
        return await budget.process_request(
            other, (), {}, "sendMessage", {"chat_id": 2}, {"kind": kind}
        )

    results = await asyncio.gather(
        budget.process_request(refusing, (), {}, "sendMessage", {"chat_id": 1}, {"kind": kind}),
        later(),
    )
    assert results == [True, True]
    # The retry and the other chat's call both waited out the second Telegram asked for.
    assert [name for name, _ in calls] == ["first", "first", "other"] or [
        name for name, _ in calls
    ] == ["first", "other", "first"]
    assert all(at - started >= 1.0 for name, at in calls[1:]), calls


async def test_processes_on_postgresql_share_one_budget_and_replies_go_first(
    database: Database, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("several processes share a budget on PostgreSQL only")
    await upgrade(database)
    # Two processes' budgets on one database; the second one's sender sends bulk.
    budgets = []
    for _ in range(2):
        budget = SendBudget()
        budget.shared = SharedBudget(database.engine, rate=SHARED_RATE, cap=SHARED_CAP)
        await budget.shared.ensure()
        budgets.append(budget)
    taken: list[tuple[str, float]] = []

    async def send(budget: SendBudget, kind: str, chat: int) -> None:
        await budget.wait(kind, chat)
        taken.append((kind, time.monotonic()))

    async def replies() -> None:
        await asyncio.sleep(0.5)  # into the burst
        await asyncio.gather(*(send(budgets[0], INTERACTIVE, 10_000 + n) for n in range(10)))

    started = time.monotonic()
    await asyncio.gather(
        *(send(budgets[1], BULK, chat) for chat in range(60)),
        *(send(budgets[0], BULK, 5_000 + chat) for chat in range(30)),
        replies(),
    )
    elapsed = time.monotonic() - started
    times = [at for _, at in taken]
    # Together they keep to the token's limit (alone each would send 28 a second)...
    assert _busiest_second(times) <= SHARED_RATE + SHARED_CAP
    assert elapsed >= (100 - SHARED_CAP) / SHARED_RATE * 0.95, f"100 messages in {elapsed:.2f} s"
    # ...and the replies, sent during the burst, did not wait for it.
    replied = [at - started for kind, at in taken if kind == INTERACTIVE]
    assert max(replied) < 0.5 + 1.5, replied


async def test_a_429_in_one_process_holds_the_other(database: Database, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("several processes share a budget on PostgreSQL only")
    await upgrade(database)
    first, second = SharedBudget(database.engine, rate=SHARED_RATE, cap=SHARED_CAP), None
    await first.ensure()
    second = SendBudget()
    second.shared = SharedBudget(database.engine, rate=SHARED_RATE, cap=SHARED_CAP)
    await first.hold(1.0)
    started = time.monotonic()
    await second.wait(INTERACTIVE, 1)
    assert time.monotonic() - started >= 0.9
