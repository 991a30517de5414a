"""One send budget for every Bot API call of this process (python-telegram-bot's rate limiter
hook), with two classes: interactive (answers to what someone just did) goes first, bulk
(reminders, digests, agendas, notices, files) takes what is left.

Telegram allows a bot about 30 messages a second in all and about one a second per chat
(sustained; a private chat takes a short burst). The budget refills at `RATE` a second (a few
tokens gather while the loop is busy, yet no second ever holds more than `RATE`); an
interactive call takes the next token at once, a bulk call only while no interactive call is
waiting, and never more than one a second to one chat. A 429 (`RetryAfter`) holds every call
for the time Telegram asks, then the call is tried again.

Across processes (PostgreSQL) the bucket lives in the database (`bot.storage.send_budget`):
every message of every process, replies included, takes its token there, bulk only while one
stays for a reply, and a 429 holds every process. Only the active sender (`bot.leader`) sends
bulk. Should the database not answer, a process falls back to its own bucket for that call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.storage.send_budget import SharedBudget

log = logging.getLogger(__name__)

INTERACTIVE = "interactive"
BULK = "bulk"
PAID = "paid"  # the caller took its slot already (`wait`), right before a last check

RATE = 28.0  # messages a second for the whole bot token, under Telegram's ~30
BURST = 3.0  # tokens that may gather while the loop is busy or idle
WINDOW = 1.0  # ...yet never more than RATE messages within any WINDOW seconds
PER_CHAT_BULK = 1.0  # seconds between two bulk messages to one chat
# One chat's own bucket, as Telegram counts a private chat: a burst of 3, then one a second
# (edits count). A reply takes a token when there is one; bulk also keeps a second apart.
CHAT_BURST = 3.0
CHAT_RATE = 1.0
MAX_RETRIES = 5
# Calls that count as messages; answerCallbackQuery, getUpdates, getFile and the like do not.
_COUNTED = ("send", "edit", "copy", "forward")
# The bucket shared by processes (PostgreSQL): its size lets a second hold SHARED_RATE + 2
# takes; a little under RATE, so that what Telegram receives in any second stays under 30 even
# when requests bunch on the way.
SHARED_RATE = 25.0
SHARED_CAP = 3.0  # bulk takes while 2 are there, so it need not wait for a full bucket


class SendBudget(BaseRateLimiter[dict[str, Any]]):
    def __init__(
        self, rate: float = RATE, *, chat_burst: float = CHAT_BURST, chat_rate: float = CHAT_RATE
    ) -> None:
        self.rate = rate
        self.chat_burst, self.chat_rate = chat_burst, chat_rate
        self.shared: SharedBudget | None = None  # PostgreSQL: the budget of every process
        self._shared_failed = False
        self.waiting = 0  # calls waiting for their place now (the send queue's depth)
        self.on_retry_after: Callable[[], None] | None = None  # a 429 (for the metrics)
        self._tokens = BURST
        self._refilled = time.monotonic()
        self._interactive_waiting = 0
        self._next_for_chat: dict[int, float] = {}
        self._chat_tokens: dict[int, tuple[float, float]] = {}  # chat: (tokens, at)
        self._held_until = 0.0
        self._lock = asyncio.Lock()
        self._recent: deque[float] = deque(maxlen=int(rate))  # the last sends' times

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    # --- the budget --------------------------------------------------------------------------
    def _refill(self, now: float) -> None:
        self._tokens = min(BURST, self._tokens + (now - self._refilled) * self.rate)
        self._refilled = now

    def _take_local(self, now: float) -> float:
        """0 when a token was taken from this process's bucket, else the seconds to wait."""
        self._refill(now)
        if len(self._recent) == self._recent.maxlen:
            delay = self._recent[0] + WINDOW - now
            if delay > 0:
                return delay
        if self._tokens >= 1:
            self._tokens -= 1
            self._recent.append(now)
            return 0.0
        return max((1 - self._tokens) / self.rate, 0.005)

    async def _take(self, now: float, interactive: bool) -> float:
        if self.shared is None:
            return self._take_local(now)
        try:
            taken = await self.shared.take(interactive=interactive)
        except Exception:  # the database away: this call goes by the process's own bucket
            if not self._shared_failed:
                log.warning("the shared send budget did not answer; using this process's own")
            self._shared_failed = True
            return self._take_local(now)
        self._shared_failed = False
        return taken.wait

    async def wait(self, kind: str, chat_id: int | None = None) -> None:
        """Take one message's place in the budget (bulk: also one a second per chat). Replies
        queue first come, first served (the lock is fair and a reply waits for its token
        holding it); bulk takes the place only while no reply waits."""
        interactive = kind != BULK
        self.waiting += 1
        if interactive:
            self._interactive_waiting += 1
        try:
            while True:
                await self._chat_pause(chat_id, interactive)
                if not interactive and self._waiters():
                    await asyncio.sleep(1 / self.rate)
                    continue
                async with self._lock:
                    if await self._take_in_turn(chat_id, interactive):
                        return
        finally:
            self.waiting -= 1
            if interactive:
                self._interactive_waiting -= 1

    async def _chat_pause(self, chat_id: int | None, interactive: bool) -> None:
        while chat_id is not None:
            delay = self._chat_delay(chat_id, time.monotonic(), interactive)
            if not delay:
                return
            await asyncio.sleep(delay)

    async def _take_in_turn(self, chat_id: int | None, interactive: bool) -> bool:
        """Holding the lock: wait for a token and take it (True), or give the turn up (False:
        a bulk call when a reply came, or its chat's pace changed meanwhile)."""
        while True:
            now = time.monotonic()
            if chat_id is not None and self._chat_delay(chat_id, now, interactive):
                return False
            delay = max(self._held_until - now, 0.0)
            if not delay:
                delay = await self._take(now, interactive)
                if not delay:
                    self._take_chat(chat_id, now, interactive)
                    return True
            if not interactive and self._waiters():
                return False
            await asyncio.sleep(delay)

    def _waiters(self) -> bool:
        return self._interactive_waiting > 0

    def _chat_available(self, chat_id: int, now: float) -> float:
        tokens, at = self._chat_tokens.get(chat_id, (self.chat_burst, now))
        return min(self.chat_burst, tokens + (now - at) * self.chat_rate)

    def _chat_delay(self, chat_id: int, now: float, interactive: bool) -> float:
        wait = max((1 - self._chat_available(chat_id, now)) / self.chat_rate, 0.0)
        if interactive:
            return wait
        return max(wait, self._next_for_chat.get(chat_id, 0.0) - now, 0.0)

    def _take_chat(self, chat_id: int | None, now: float, interactive: bool) -> None:
        if chat_id is None:
            return
        self._chat_tokens[chat_id] = (self._chat_available(chat_id, now) - 1, now)
        # Whatever goes to a chat pushes its next bulk message a second on.
        self._next_for_chat[chat_id] = now + PER_CHAT_BULK
        if len(self._next_for_chat) > 50_000:  # forget chats long quiet (their buckets full)
            full = self.chat_burst / self.chat_rate
            self._next_for_chat = {
                chat: slot for chat, slot in self._next_for_chat.items() if slot > now
            }
            self._chat_tokens = {
                chat: state for chat, state in self._chat_tokens.items() if now - state[1] < full
            }

    # --- PTB's hook --------------------------------------------------------------------------
    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        kind = (rate_limit_args or {}).get("kind", INTERACTIVE)
        chat_id = _chat(data.get("chat_id"))
        counted = endpoint.startswith(_COUNTED)
        for attempt in range(MAX_RETRIES + 1):
            if counted and not (kind == PAID and attempt == 0):
                await self.wait(BULK if kind in (BULK, PAID) else INTERACTIVE, chat_id)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                if attempt == MAX_RETRIES:
                    raise
                if self.on_retry_after is not None:
                    self.on_retry_after()
                pause = _seconds(error.retry_after) + 0.1
                log.info("Telegram asked to wait %.1f s (%s); every send waits", pause, endpoint)
                self._held_until = max(self._held_until, time.monotonic() + pause)
                if self.shared is not None:
                    with contextlib.suppress(Exception):
                        await self.shared.hold(pause)
        raise AssertionError("unreachable")  # pragma: no cover


def _chat(value: Any) -> int | None:
    with contextlib.suppress(TypeError, ValueError):
        return int(value)
    return None


def _seconds(value: Any) -> float:
    return value.total_seconds() if hasattr(value, "total_seconds") else float(value)
