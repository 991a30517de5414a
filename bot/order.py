"""Updates of different people at once, each person's in the order Telegram sent them.

python-telegram-bot handles one update at a time unless told otherwise, so a salesperson
tapping at 9:00 waits for every colleague's update before theirs; `concurrent_updates(True)`
runs them all at once but lets two taps of one person overtake each other. `PersonOrder` runs
updates concurrently with a lock per person (the sender of a message or a tap; later, the
connection's owner for business updates): one person's updates queue behind each other,
first come first served, everyone else's go on. Locks of people with nothing waiting go.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# Updates in progress at once in this process (the others wait for a slot, in order).
MAX_CONCURRENT = 64


def person_of(update: object) -> int | None:
    """Whose update this is, for ordering: the user behind it, else its chat."""
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    if update.effective_chat is not None:
        return update.effective_chat.id
    return None


class PersonOrder(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        person = person_of(update)
        if person is None:
            await coroutine
            return
        lock, users = self._locks.get(person) or (asyncio.Lock(), 0)
        self._locks[person] = (lock, users + 1)
        try:
            async with lock:
                await coroutine
        finally:
            lock, users = self._locks[person]
            if users <= 1:
                del self._locks[person]
            else:
                self._locks[person] = (lock, users - 1)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
