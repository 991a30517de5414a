"""Updates of different people run at once while one person's keep their order
(`bot.order.PersonOrder`), and SQLite write transactions of a process queue on one lock
(`bot.storage.db.WriteLock`) that lets a unit of work nested in the same task through."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from telegram import Chat, Message, Update, User

from bot.order import PersonOrder
from bot.storage.db import WriteLock


def _update(update_id: int, user_id: int) -> Update:
    user = User(user_id, f"u{user_id}", is_bot=False)
    message = Message(
        update_id,
        date=datetime(2026, 12, 4, tzinfo=UTC),
        chat=Chat(user_id, Chat.PRIVATE),
        from_user=user,
        text="x",
    )
    return Update(update_id, message=message)


async def test_one_persons_updates_keep_their_order_while_others_go_on() -> None:
    order = PersonOrder()
    done: list[str] = []

    async def work(name: str, seconds: float) -> None:
        await asyncio.sleep(seconds)
        done.append(name)

    async with order:
        tasks = [
            asyncio.create_task(order.process_update(_update(1, 7), work("ania-1", 0.2))),
            asyncio.create_task(order.process_update(_update(2, 7), work("ania-2", 0.0))),
            asyncio.create_task(order.process_update(_update(3, 8), work("olek-1", 0.05))),
            asyncio.create_task(order.process_update(_update(4, 7), work("ania-3", 0.0))),
        ]
        await asyncio.gather(*tasks)
    # Olek did not wait for Ania's slow tap; her taps came in the order she made them.
    assert done == ["olek-1", "ania-1", "ania-2", "ania-3"]
    assert order._locks == {}  # nothing kept for people with nothing waiting


async def test_a_failing_update_does_not_block_the_next_one_of_that_person() -> None:
    order = PersonOrder()

    async def fail() -> None:
        raise RuntimeError("boom")

    async def ok() -> str:
        return "ok"

    async with order:
        first = asyncio.create_task(order.process_update(_update(1, 7), fail()))
        second = asyncio.create_task(order.process_update(_update(2, 7), ok()))
        results = await asyncio.gather(first, second, return_exceptions=True)
    assert isinstance(results[0], RuntimeError) and results[1] is None


async def test_the_write_lock_queues_tasks_and_lets_a_nested_one_through() -> None:
    lock = WriteLock()
    events: list[str] = []

    async def writer(name: str) -> None:
        await lock.acquire()
        try:
            events.append(f"{name} in")
            await lock.acquire()  # a unit of work inside another, same task
            events.append(f"{name} nested")
            lock.release()
            await asyncio.sleep(0.01)
            events.append(f"{name} out")
        finally:
            lock.release()

    await asyncio.wait_for(asyncio.gather(writer("a"), writer("b")), timeout=2)
    assert events == ["a in", "a nested", "a out", "b in", "b nested", "b out"]
