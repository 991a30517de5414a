"""The one repeating tick that pushes what is due: reminders, morning agendas, daily nudges.

The database is the source of truth; the tick only wakes up, asks what is due by `now` (an
injected clock), claims it with an UPDATE … RETURNING so no row is taken twice, and sends it.
A sender killed mid-batch leaves claims behind; the next process puts them back in the queue when
it starts (and any claim older than `SENDING_TIMEOUT` goes back too), so only the messages in
flight at that moment can arrive twice.

Sending respects Telegram's limits: at most `OVERALL_RATE` messages a second in all, one a second
per chat, person by person; 429s are waited out (AIORateLimiter retries them), network and
server errors are retried later with backoff, a user who blocked the bot is marked and skipped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.exc import DBAPIError
from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TimedOut

from bot.domain import DealStatus, EventKind, Role
from bot.handlers.digest import build_digest, funnel_picture, send_digest
from bot.handlers.reminders import (
    BUNDLE_MAX,
    bundle_keyboard,
    bundle_text,
    reminder_keyboard,
    reminder_text,
)
from bot.handlers.today import day_message, load_day, slipping
from bot.runtime import Runtime
from bot.services.digest import due_digest
from bot.services.reminders import SENDING_TIMEOUT, Outbox, backoff, hours_of, plan_delivery
from bot.storage.models import DealEvent

log = logging.getLogger(__name__)

# Rows taken per pass. Large enough that a pass spans many people even when one person has many
# due at once: with one message a second per chat, a pass of few people cannot reach the overall
# rate (500 rows of 20 per person = 25 chats = 25 messages a second at most).
BATCH = 2000
OVERALL_RATE = 28.0  # messages a second, under Telegram's ~30
PER_CHAT_INTERVAL = 1.0  # seconds between two messages to one chat
WORKERS = 32
SENT_RETRIES = 6  # over about 15 s


class RateGate:
    """Spaces sends: an overall rate, and a minimum interval per chat."""

    def __init__(self, rate: float, per_chat: float) -> None:
        self.interval = 1.0 / rate
        self.per_chat = per_chat
        self._next_slot = 0.0
        self._next_for_chat: dict[int, float] = {}
        self._lock = asyncio.Lock()

    async def wait(self, chat_id: int) -> None:
        async with self._lock:
            now = time.monotonic()
            slot = max(now, self._next_slot, self._next_for_chat.get(chat_id, 0.0))
            self._next_slot = slot + self.interval
            self._next_for_chat[chat_id] = slot + self.per_chat
        delay = slot - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)


class Dispatcher:
    def __init__(self, runtime: Runtime, bot: Bot) -> None:
        self.runtime = runtime
        self.bot = bot
        self.gate = RateGate(OVERALL_RATE, PER_CHAT_INTERVAL)
        self._running = asyncio.Lock()
        # Polling allows one bot process per token: a claim made before this process started
        # belongs to a sender that died, and its reminders go back to the queue at once.
        self.started_at = runtime.clock.now()

    async def tick(self) -> int:
        """Send everything due now; returns how many reminders went out. A tick that finds the
        previous one still sending returns at once (the next tick picks up what is left)."""
        if self._running.locked():
            return 0
        async with self._running:
            sent = 0
            while True:
                batch_sent, more = await self._reminders_batch()
                sent += batch_sent
                if not more:
                    break
            await self._daily_messages()
            await self._digests()
            return sent

    # --- reminders ---------------------------------------------------------------------------
    async def _reminders_batch(self) -> tuple[int, bool]:
        now = self.runtime.clock.now()
        async with self.runtime.uow() as uow:
            await uow.reminders.reclaim_stale(max(now - SENDING_TIMEOUT, self.started_at))
            due = await uow.reminders.due(now, BATCH)
            plan = plan_delivery(due, now)
            for until, ids in plan.deferred.items():
                await uow.reminders.defer(ids, until)
            wanted = [item.reminder.id or 0 for box in plan.outboxes for item in box.items]
            claimed = set(await uow.reminders.claim(wanted, now))
            await uow.commit()
        outboxes = []
        for box in plan.outboxes:
            items = [item for item in box.items if item.reminder.id in claimed]
            for start in range(0, len(items), BUNDLE_MAX):
                outboxes.append(Outbox(box.chat_id, items[start : start + BUNDLE_MAX], box.late))
        results = await self._send_all(outboxes)
        return sum(results), len(due) == BATCH

    async def _send_all(self, outboxes: list[Outbox]) -> list[int]:
        queue: asyncio.Queue[Outbox] = asyncio.Queue()
        for box in outboxes:
            queue.put_nowait(box)
        results: list[int] = []

        async def worker() -> None:
            while not queue.empty():
                box = queue.get_nowait()
                try:
                    results.append(await self._deliver(box))
                except Exception:
                    # One message's trouble must not stop the others; its reminders stay
                    # claimed and go out again after SENDING_TIMEOUT.
                    ids = [item.reminder.id for item in box.items]
                    log.exception("reminders %s to %s: delivery failed", ids, box.chat_id)

        await asyncio.gather(*(worker() for _ in range(min(WORKERS, len(outboxes)))))
        return results

    async def _deliver(self, box: Outbox) -> int:
        """Send one message; returns how many reminders it delivered."""
        first = box.items[0]
        t = self.runtime.i18n.translator(first.user.language, first.team.timezone)
        keyboard: InlineKeyboardMarkup
        if len(box.items) == 1:
            text = reminder_text(t, first, late=box.late)
            keyboard = reminder_keyboard(t, first.reminder, first.deal.status == DealStatus.OPEN)
        else:
            text = bundle_text(t, box.items)
            keyboard = bundle_keyboard(box.items)
        ids = [item.reminder.id or 0 for item in box.items]
        await self.gate.wait(box.chat_id)
        try:
            message = await self.bot.send_message(box.chat_id, text, reply_markup=keyboard)
        except Forbidden:
            await self._blocked(box.chat_id, ids)
            return 0
        except BadRequest as error:
            if "chat not found" in error.message.lower():
                # They never opened the bot, or deleted the chat: unreachable like a block.
                await self._blocked(box.chat_id, ids)
                return 0
            # A message Telegram refuses is our bug: logged loudly, retried later, never lost.
            log.error("reminders %s to %s refused by Telegram: %s", ids, box.chat_id, error)
            attempts = max(item.reminder.attempts + 1 for item in box.items)
            await self._release(ids, self.runtime.clock.now() + backoff(attempts), attempts)
            return 0
        except RetryAfter as error:
            wait = timedelta(seconds=_seconds(error.retry_after))
            await self._release(ids, self.runtime.clock.now() + wait, 0)
            return 0
        except (TimedOut, NetworkError) as error:
            log.warning("reminders %s to %s not sent: %s", ids, box.chat_id, error)
            attempts = max(item.reminder.attempts + 1 for item in box.items)
            await self._release(ids, self.runtime.clock.now() + backoff(attempts), attempts)
            return 0
        await self._sent(box, message)
        return len(ids)

    async def _sent(self, box: Outbox, message: Message) -> None:
        """The message is out: mark its reminders sent. A database error here (SQLite busy
        past its timeout, a PostgreSQL failover) is retried, since a reminder left claimed
        would be sent a second time."""
        ids = [item.reminder.id for item in box.items]
        for attempt in range(SENT_RETRIES):
            try:
                await self._record_sent(box, message)
                return
            except DBAPIError as error:
                log.warning("reminders %s sent, not yet marked (%s); retrying", ids, error)
                await asyncio.sleep(min(0.5 * 2**attempt, 10.0))
        log.error("reminders %s were sent but could not be marked sent", ids)

    async def _record_sent(self, box: Outbox, message: Message) -> None:
        now = self.runtime.clock.now()
        async with self.runtime.uow() as uow:
            for item in box.items:
                await uow.reminders.mark_sent(item.reminder.id or 0, now, message.message_id)
                await uow.deals.add(
                    DealEvent(
                        team_id=item.deal.team_id,
                        deal_id=item.deal.id or 0,
                        kind=EventKind.REMINDER_SENT,
                        at=now,
                        owner_member_id=item.deal.owner_member_id,
                        due_at=item.reminder.due_at,
                        data={
                            "reminder": item.reminder.id,
                            "kind": item.reminder.kind,
                            "late": box.late,
                        },
                    )
                )
            await uow.commit()

    async def _release(self, ids: list[int], not_before: datetime, attempts: int) -> None:
        async with self.runtime.uow() as uow:
            for reminder_id in ids:
                await uow.reminders.release(reminder_id, not_before)
            await uow.commit()

    async def _blocked(self, chat_id: int, ids: list[int]) -> None:
        """They blocked the bot: keep their reminders, skip them until they come back."""
        async with self.runtime.uow() as uow:
            await uow.users.mark_blocked(chat_id, True)
            for reminder_id in ids:
                await uow.reminders.release(reminder_id, None)
            await uow.commit()
        log.info("user %s blocked the bot; their reminders wait", chat_id)

    # --- the managers' daily digest -------------------------------------------------------------
    async def _digests(self) -> None:
        now = self.runtime.clock.now()
        async with self.runtime.uow() as uow:
            people = await uow.reminders.members_for_daily()
        for member, user, team in people:
            if member.role != Role.MANAGER:
                continue
            due = due_digest(team, now, member.digest_day)
            if due is None:
                continue
            async with self.runtime.uow() as uow:
                if not await uow.reminders.claim_digest(member.id or 0, due.day):
                    continue
                await uow.commit()
            t = self.runtime.i18n.translator(user.language, team.timezone)
            text, keyboard, _ = await build_digest(
                self.runtime, t, team, due.day, now, missed=due.missed
            )
            try:
                await send_digest(
                    self.bot, user.id, text, keyboard, pace=partial(self.gate.wait, user.id)
                )
                await self.gate.wait(user.id)
                await self.bot.send_photo(user.id, await funnel_picture(self.runtime, t, team))
            except Forbidden:
                async with self.runtime.uow() as uow:
                    await uow.users.mark_blocked(user.id, True)
                    await uow.commit()
            except (NetworkError, BadRequest) as error:
                log.warning("digest for %s not sent: %s", user.id, error)

    # --- morning agenda and daily nudge ----------------------------------------------------------
    async def _daily_messages(self) -> None:
        now = self.runtime.clock.now()
        async with self.runtime.uow() as uow:
            people = await uow.reminders.members_for_daily()
        for member, user, team in people:
            hours = hours_of(team)
            if member.morning_agenda:
                day = hours.agenda_due(now, member.agenda_sent_on)
            else:
                day = hours.agenda_due(now, member.nudge_sent_on)
            if day is None:
                continue
            t = self.runtime.i18n.translator(user.language, team.timezone)
            async with self.runtime.uow() as uow:
                plan = await load_day(uow, team, member.id or 0, now)
                if not member.morning_agenda:
                    plan = slipping(plan, now)
                    if plan.empty:
                        continue
                if not await uow.reminders.claim_daily(
                    member.id or 0, day, agenda=member.morning_agenda
                ):
                    continue
                await uow.commit()
            if member.morning_agenda:
                text, keyboard = day_message(t, plan, now, greeting=t._("🌅 Good morning!"))
            else:
                text, keyboard = day_message(
                    t, plan, now, greeting=t._("👋 A few deals are slipping:")
                )
            await self.gate.wait(user.id)
            try:
                await self.bot.send_message(user.id, text, reply_markup=keyboard)
            except Forbidden:
                async with self.runtime.uow() as uow:
                    await uow.users.mark_blocked(user.id, True)
                    await uow.commit()
            except (NetworkError, BadRequest) as error:
                log.warning("daily message to %s not sent: %s", user.id, error)


def _seconds(value: timedelta | float) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
