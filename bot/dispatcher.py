"""The one repeating tick that pushes what is due: reminders, notices to other people, morning
agendas, daily nudges and the managers' digests.

The database is the source of truth; the tick only wakes up, asks what is due by `now` (the
process clock, passed into SQL), claims it with a lease (`bot.storage.leases`: the holder, and
until when) so no row is taken twice, and sends it. The process renews its leases while it works
(`bot.leases.LeaseKeeper`), also while it retries marking a delivered message sent; a sender that
dies leaves leases that expire, and only then is the work taken over. So only the messages in
flight at a crash can arrive twice.

Right before each reminder goes out, one query checks that it is still held by this process, that
its member still owns the deal and that the deal still stands as planned: a reminder whose deal
was closed or rescheduled meanwhile is dropped, one whose deal changed hands goes to the new owner.

Sending goes through the bot's one send budget (`bot.sending`) as bulk: after the replies to
people, under Telegram's limits (about 28 a second in all, one a second per chat), 429s waited
out; network and server errors are retried later with backoff, a user who blocked the bot is
marked and skipped.
A failure with one person never stops the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from telegram import InlineKeyboardMarkup, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import ExtBot

from bot.domain import DailyKind, DealStatus, EventKind, Role, SendStatus
from bot.handlers.common import split_message
from bot.leader import NOTICES_CHANNEL, SenderLock
from bot.metrics import OVERDUE_AFTER
from bot.runtime import Runtime
from bot.screens.digest import build_digest, funnel_picture
from bot.screens.notices import render_notice
from bot.screens.reminders import (
    BUNDLE_MAX,
    bundle_keyboard,
    bundle_text,
    reminder_keyboard,
    reminder_text,
)
from bot.screens.today import day_message, load_day, slipping
from bot.sending import BULK, PAID, SendBudget
from bot.services.digest import due_digest
from bot.services.reminders import (
    LATE_AFTER,
    Outbox,
    RecheckVerdict,
    backoff,
    hours_of,
    plan_delivery,
    recheck_verdict,
)
from bot.storage.models import DailySend, DealEvent, Member, Team, User
from bot.storage.reminders import DueReminder

log = logging.getLogger(__name__)

# Rows taken per pass. Large enough that a pass spans many people even when one person has many
# due at once: with one message a second per chat, a pass of few people cannot reach the overall
# rate (500 rows of 20 per person = 25 chats = 25 messages a second at most).
BATCH = 2000
NOTICE_BATCH = 500
WORKERS = 32
MAX_MARK_DELAY = 10.0  # seconds between attempts to mark a delivered message sent
# Delivered messages are marked sent in one transaction per this many (and at a batch's end):
# a process killed in between leaves at most these to be sent again by the next sender.
MARK_BATCH = 16
DAILY_ATTEMPTS = 10  # a day's message that fails this often (a bug) is given up for the day
NOTICE_ATTEMPTS = 20


class BulkGate:
    """The bulk side of the bot's one send budget (`bot.sending.SendBudget`): a message's place
    is taken first, then what is due is checked once more, then it is sent as already paid."""

    def __init__(self, budget: SendBudget) -> None:
        self.budget = budget

    async def wait(self, chat_id: int) -> None:
        await self.budget.wait(BULK, chat_id)


PAID_FOR = {"kind": PAID}  # rate_limit_args of a send whose place `BulkGate.wait` took


class Undeliverable(Exception):
    """The person cannot be reached (blocked the bot, deactivated, never opened the chat)."""


async def _send_paced(gate: BulkGate, chat_id: int, send: Callable[[], Awaitable[Any]]) -> Any:
    """One Bot API call through the gate; unreachable people become `Undeliverable`."""
    await gate.wait(chat_id)
    return await _unless_unreachable(send())


async def _unless_unreachable(call: Awaitable[Any]) -> Any:
    try:
        return await call
    except Forbidden as error:
        raise Undeliverable(str(error)) from error
    except BadRequest as error:
        if "chat not found" in error.message.lower():
            raise Undeliverable(error.message) from error
        raise


@dataclass(frozen=True)
class _Mark:
    """A delivered reminder message, waiting to be marked sent."""

    items: list[DueReminder]
    message_id: int
    late: bool
    at: datetime


class Dispatcher:
    def __init__(self, runtime: Runtime, bot: ExtBot[Any]) -> None:
        self.runtime = runtime
        self.bot = bot
        budget = bot.rate_limiter
        self.budget = budget if isinstance(budget, SendBudget) else SendBudget()
        self.gate = BulkGate(self.budget)
        self._running = asyncio.Lock()
        self._notices_running = asyncio.Lock()
        self._notices_again = False
        self._kicked: set[asyncio.Task[int]] = set()
        self._marks: list[_Mark] = []  # delivered, to be marked sent (`_flush_marks`)
        self._marking = asyncio.Lock()
        self.stopping = False
        self.last_tick: datetime | None = None  # by the process clock; /readyz reads it
        self.sender: SenderLock | None = None  # None: this process always sends

    @property
    def worker(self) -> str:
        return self.runtime.worker_id

    def _now(self) -> datetime:
        return self.runtime.clock.now()

    def _until(self) -> datetime:
        return self.runtime.lease_until(self._now())

    async def tick(self) -> int:
        """Send everything due now; returns how many reminders went out. A tick that finds the
        previous one still sending returns at once (the next tick picks up what is left)."""
        self.last_tick = self._now()
        if self._running.locked():
            return 0
        if self.sender is not None and not await self.sender.check():
            return 0  # a standby: another process is the active sender
        async with self._running:
            await self.send_notices()
            # The morning agendas first: reminders falling due as an agenda goes out are folded
            # into it (one message at 9:00, not nine).
            sent = await self._daily_messages()
            while not self.stopping:
                if self.sender is not None and not await self.sender.check():
                    break  # lost the sender's place mid-burst: the new sender goes on
                batch_sent, more = await self._reminders_batch()
                sent += batch_sent
                if not more:
                    break
            await self.send_notices()
            await self._digests()
            return sent

    def kick(self) -> None:
        """Send queued notices now rather than at the next tick (a handler just queued one, or
        another process said so). A standby tells the active sender instead."""
        if self.sender is not None and not self.sender.holding:
            task = asyncio.create_task(self._tell_the_sender())
        else:
            task = asyncio.create_task(self.send_notices())
        self._kicked.add(task)
        task.add_done_callback(self._kicked.discard)

    def took_over(self) -> None:
        """This process just became the active sender: what the previous one had claimed is
        sent the moment its leases run out, not at the tick after."""
        task = asyncio.create_task(self._after_takeover())
        self._kicked.add(task)
        task.add_done_callback(self._kicked.discard)

    async def _after_takeover(self) -> int:
        async with self.runtime.uow() as uow:
            until = await uow.reminders.earliest_foreign_lease(self.worker)
        if until is None:
            return 0
        wait = (until - self._now()).total_seconds() + 0.2
        await asyncio.sleep(min(max(wait, 0.0), self.runtime.lease.total_seconds() + 1))
        return await self.tick()

    async def _tell_the_sender(self) -> int:
        assert self.sender is not None
        if await self.sender.check():  # the place was free: this process sends now
            return await self.send_notices()
        try:
            async with self.runtime.uow() as uow:
                await uow.session.execute(
                    text("SELECT pg_notify(:channel, '')"), {"channel": NOTICES_CHANNEL}
                )
                await uow.commit()
        except Exception:
            log.warning("could not wake the active sender; it sends at its next tick")
        return 0

    async def stop(self) -> None:
        self.stopping = True
        for task in list(self._kicked):
            task.cancel()

    # --- reminders ---------------------------------------------------------------------------
    async def _reminders_batch(self) -> tuple[int, bool]:
        now = self._now()
        async with self.runtime.uow() as uow:
            due = await uow.reminders.due(now, BATCH)
            more = len(due) == BATCH
            due += await uow.reminders.due_of_leavers(now, BATCH)
            plan = plan_delivery(due, now)
            for until, ids in plan.deferred.items():
                await uow.reminders.defer(ids, until)
            wanted = [item.reminder.id or 0 for box in plan.outboxes for item in box.items]
            claimed = set(
                await uow.reminders.claim(
                    wanted, worker=self.worker, now=now, until=self.runtime.lease_until(now)
                )
            )
            await uow.commit()
        outboxes = []
        for box in plan.outboxes:
            items = [item for item in box.items if item.reminder.id in claimed]
            for start in range(0, len(items), BUNDLE_MAX):
                outboxes.append(Outbox(box.chat_id, items[start : start + BUNDLE_MAX], box.late))
        results = await self._send_all(outboxes)
        await self._flush_marks()
        return sum(results), more

    async def _send_all(self, outboxes: list[Outbox]) -> list[int]:
        queue: asyncio.Queue[Outbox] = asyncio.Queue()
        for box in outboxes:
            queue.put_nowait(box)
        results: list[int] = []
        # One chat's messages go in the planned order (by due time, then deal): a worker
        # waits its turn on the chat's lock (asyncio's locks are first come, first served).
        chats: dict[int, asyncio.Lock] = {}

        async def worker() -> None:
            while not queue.empty() and not self.stopping:
                box = queue.get_nowait()
                try:
                    async with chats.setdefault(box.chat_id, asyncio.Lock()):
                        if self.stopping:
                            break
                        results.append(await self._deliver(box))
                except Exception:
                    # One message's trouble must not stop the others; its reminders stay
                    # claimed until the lease runs out, then they are taken again.
                    ids = [item.reminder.id for item in box.items]
                    log.exception("reminders %s to %s: delivery failed", ids, box.chat_id)
                    self.runtime.metrics.reminder("failed", len(ids))

        await asyncio.gather(*(worker() for _ in range(min(WORKERS, len(outboxes)))))
        return results

    async def _still_due(self, box: Outbox) -> list[DueReminder]:
        """The re-check right before the send: what of the box is still to go, to this chat.
        One read (no write lock); only a reminder to drop or to route to a new owner writes."""
        ids = [item.reminder.id or 0 for item in box.items]
        now = self._now()
        async with self.runtime.reader() as reader:
            current = {row.id: row for row in await reader.reminders.recheck(ids, self.worker)}
        keep, drop, route = [], [], []
        for item in box.items:
            row = current.get(item.reminder.id or 0)
            if row is None:
                continue  # no longer ours: another sender or the salesperson has it
            verdict = recheck_verdict(row, item)
            if verdict == RecheckVerdict.SEND:
                keep.append(item)
            elif verdict == RecheckVerdict.ROUTE:
                route.append(row)
            else:
                drop.append(row.id)
        if drop or route:
            async with self.runtime.uow() as uow:
                for row in route:
                    await uow.reminders.route(
                        row.id, row.owner_member_id, worker=self.worker, now=now
                    )
                await uow.reminders.drop(drop, worker=self.worker)
                await uow.commit()
        return keep

    async def _deliver(self, box: Outbox) -> int:
        """Send one message; returns how many reminders it delivered. The rate gate comes
        first, then the check of what is still due, then the send: a change made while the
        message waited for its slot is seen."""
        await self.gate.wait(box.chat_id)
        items = await self._still_due(box)
        if not items:
            return 0
        first = items[0]
        t = self.runtime.i18n.translator(first.user.language, first.team.timezone)
        keyboard: InlineKeyboardMarkup
        if len(items) == 1:
            text = reminder_text(t, first, late=box.late, now=self._now())
            keyboard = reminder_keyboard(t, first.reminder, first.deal.status == DealStatus.OPEN)
        else:
            text = bundle_text(t, items)
            keyboard = bundle_keyboard(items)
        ids = [item.reminder.id or 0 for item in items]
        attempts = max(item.reminder.attempts for item in items)
        try:
            message = await _unless_unreachable(
                self.bot.send_message(
                    box.chat_id, text, reply_markup=keyboard, rate_limit_args=PAID_FOR
                )
            )
        except Undeliverable:
            await self._blocked(box.chat_id, ids)
            return 0
        except BadRequest as error:
            # A message Telegram refuses is our bug: logged loudly, retried later, never lost.
            log.error("reminders %s to %s refused by Telegram: %s", ids, box.chat_id, error)
            await self._release(ids, self._now() + backoff(attempts))
            return 0
        except RetryAfter as error:
            await self._release(ids, self._now() + timedelta(seconds=_seconds(error.retry_after)))
            return 0
        except (TimedOut, NetworkError) as error:
            log.warning("reminders %s to %s not sent: %s", ids, box.chat_id, error)
            await self._release(ids, self._now() + backoff(attempts))
            return 0
        await self._sent(items, message, box.late)
        return len(ids)

    async def _sent(self, items: list[DueReminder], message: Message, late: bool) -> None:
        """The message is out: its reminders are marked sent with the next few (one
        transaction for up to `MARK_BATCH` messages, and at the end of the batch)."""
        self._marks.append(_Mark(items, message.message_id, late, self._now()))
        if len(self._marks) >= MARK_BATCH:
            await self._flush_marks()

    async def _flush_marks(self) -> None:
        """Mark what was delivered. A database error here (SQLite busy past its timeout, a
        PostgreSQL failover) is retried for as long as it takes, while the lease keeper goes
        on renewing the claims: a reminder given up here would be sent a second time."""
        async with self._marking:
            attempt = 0
            while self._marks:
                marks, self._marks = self._marks, []
                try:
                    await self._record_sent(marks)
                except DBAPIError as error:
                    self._marks = marks + self._marks
                    ids = [item.reminder.id for mark in marks for item in mark.items]
                    if self.stopping:
                        log.error("reminders %s were sent but not marked at shutdown", ids)
                        self._marks = []
                        return
                    log.warning("reminders %s sent, not yet marked (%s); retrying", ids, error)
                    await asyncio.sleep(min(0.5 * 2**attempt, MAX_MARK_DELAY))
                    attempt += 1

    async def _record_sent(self, marks: list[_Mark]) -> None:
        sent: list[tuple[DueReminder, datetime]] = []
        async with self.runtime.uow() as uow:
            events = []
            for mark in marks:
                marked = set(
                    await uow.reminders.mark_sent(
                        [item.reminder.id or 0 for item in mark.items],
                        worker=self.worker,
                        now=mark.at,
                        message_id=mark.message_id,
                    )
                )
                for item in mark.items:
                    if item.reminder.id not in marked:
                        continue
                    sent.append((item, mark.at))
                    events.append(
                        DealEvent(
                            team_id=item.deal.team_id,
                            deal_id=item.deal.id or 0,
                            kind=EventKind.REMINDER_SENT,
                            at=mark.at,
                            owner_member_id=item.deal.owner_member_id,
                            due_at=item.reminder.due_at,
                            data={
                                "reminder": item.reminder.id,
                                "kind": item.reminder.kind,
                                "late": mark.late,
                                **({"to": item.member.id} if item.leaver else {}),
                            },
                        )
                    )
            await uow.deals.add(*events)
            await uow.commit()
        overdue = sum(at - item.reminder.due_at > OVERDUE_AFTER for item, at in sent)
        self.runtime.metrics.reminder("late", overdue)
        self.runtime.metrics.reminder("sent", len(sent) - overdue)

    async def _release(self, ids: list[int], not_before: datetime) -> None:
        async with self.runtime.uow() as uow:
            await uow.reminders.release(ids, worker=self.worker, not_before=not_before)
            await uow.commit()

    async def _blocked(self, chat_id: int, ids: list[int]) -> None:
        """They blocked the bot: keep their reminders, skip them until they come back."""
        async with self.runtime.uow() as uow:
            await uow.users.mark_blocked(chat_id, True)
            await uow.reminders.release(ids, worker=self.worker, not_before=None)
            await uow.commit()
        log.info("user %s blocked the bot; their reminders wait", chat_id)

    # --- notices to other people ----------------------------------------------------------------
    async def send_notices(self) -> int:
        """Hand-overs, reassignments, roles, access: each in its recipient's language."""
        if self._notices_running.locked():
            self._notices_again = True  # queued while a pass runs: that pass looks once more
            return 0
        sent = 0
        async with self._notices_running:
            while not self.stopping:
                self._notices_again = False
                now = self._now()
                async with self.runtime.uow() as uow:
                    due = await uow.notices.due(now, NOTICE_BATCH)
                    claimed = set(
                        await uow.notices.claim(
                            [notice.id or 0 for notice, _ in due],
                            worker=self.worker,
                            now=now,
                            until=self.runtime.lease_until(now),
                        )
                    )
                    await uow.commit()
                batch = [(n, u) for n, u in due if n.id in claimed]
                for notice, user in batch:
                    if self.stopping:
                        break
                    try:
                        sent += await self._send_notice(notice, user)
                    except Exception:
                        log.exception("notice %s to %s failed", notice.id, user.id)
                        await self._notice_retry(notice, notice.attempts)
                if len(due) < NOTICE_BATCH and not self._notices_again:
                    break
        return sent

    async def _send_notice(self, notice: Any, user: User) -> int:
        async with self.runtime.reader() as uow:
            rendered = await render_notice(self.runtime, uow, notice, user)
        if rendered is None:  # what it was about is gone (a deal of another team now, …)
            async with self.runtime.uow() as uow:
                await uow.notices.failed(notice.id or 0, worker=self.worker)
                await uow.commit()
            return 0
        text, keyboard = rendered
        try:
            await _send_paced(
                self.gate,
                user.id,
                lambda: self.bot.send_message(
                    user.id, text, reply_markup=keyboard, rate_limit_args=PAID_FOR
                ),
            )
        except Undeliverable:
            async with self.runtime.uow() as uow:
                await uow.users.mark_blocked(user.id, True)
                await uow.notices.release(notice.id or 0, worker=self.worker, not_before=None)
                await uow.commit()
            return 0
        except RetryAfter as error:
            await self._notice_retry(notice, 0, _seconds(error.retry_after))
            return 0
        except TelegramError as error:
            log.warning("notice %s to %s not sent: %s", notice.id, user.id, error)
            await self._notice_retry(notice, notice.attempts)
            return 0
        await self._mark(
            lambda uow: uow.notices.sent(notice.id or 0, worker=self.worker, now=self._now())
        )
        return 1

    async def _notice_retry(self, notice: Any, attempts: int, wait: float | None = None) -> None:
        async with self.runtime.uow() as uow:
            if attempts >= NOTICE_ATTEMPTS:
                await uow.notices.failed(notice.id or 0, worker=self.worker)
            else:
                delay = timedelta(seconds=wait) if wait is not None else backoff(attempts)
                await uow.notices.release(
                    notice.id or 0, worker=self.worker, not_before=self._now() + delay
                )
            await uow.commit()

    async def _mark(self, write: Callable[[Any], Awaitable[Any]]) -> None:
        """Record that something went out; retried like `_sent` (it must not go out twice)."""
        attempt = 0
        while True:
            try:
                async with self.runtime.uow() as uow:
                    await write(uow)
                    await uow.commit()
                return
            except DBAPIError as error:
                if self.stopping:
                    return
                log.warning("sent, not yet marked (%s); retrying", error)
                await asyncio.sleep(min(0.5 * 2**attempt, MAX_MARK_DELAY))
                attempt += 1

    # --- daily messages: morning agenda, nudge, the managers' digest -----------------------------
    async def _daily_messages(self) -> int:
        """Morning agendas and nudges; returns how many reminders the agendas folded in."""
        now = self._now()
        folded = 0
        async with self.runtime.uow() as uow:
            people = await uow.reminders.members_for_daily()
        for member, user, team in people:
            if self.stopping:
                break
            hours = hours_of(team)
            kind = DailyKind.AGENDA if member.morning_agenda else DailyKind.NUDGE
            last = member.agenda_sent_on if member.morning_agenda else member.nudge_sent_on
            day = hours.agenda_due(now, last)
            if day is None or hours.local_day(member.joined_at) == day:
                continue  # none on the day someone joins: they were just shown around
            try:
                folded += await self._daily(member, user, team, kind, day)
            except Exception:
                log.exception("daily %s for member %s failed", kind, member.id)
        return folded

    async def _digests(self) -> None:
        now = self._now()
        async with self.runtime.uow() as uow:
            people = await uow.reminders.members_for_daily()
        for member, user, team in people:
            if self.stopping:
                return
            if member.role != Role.MANAGER:
                continue
            due = due_digest(team, now, member.digest_day)
            if due is None:
                continue
            try:
                await self._daily(member, user, team, DailyKind.DIGEST, due.day, missed=due.missed)
            except Exception:
                log.exception("digest for member %s failed", member.id)

    async def _daily(
        self,
        member: Member,
        user: User,
        team: Team,
        kind: DailyKind,
        day: Any,
        *,
        missed: list[Any] | None = None,
    ) -> int:
        """Claim the day's message, render it, send the parts not sent yet, then mark it done.
        A failure releases it for a later retry; the parts already out are not sent again.
        A morning agenda takes the member's reminders falling due now with it (marked sent with
        it); returns how many."""
        now = self._now()
        async with self.runtime.uow() as uow:
            send = await uow.daily.take(
                member.id or 0, kind, day, worker=self.worker, now=now, until=self._until()
            )
            due_now: list[DueReminder] = []
            if send is not None and kind == DailyKind.AGENDA:
                due_now = await uow.reminders.due(
                    now, BUNDLE_MAX, member_id=member.id, since=now - LATE_AFTER
                )
                claimed = set(
                    await uow.reminders.claim(
                        [item.reminder.id or 0 for item in due_now],
                        worker=self.worker,
                        now=now,
                        until=self._until(),
                    )
                )
                due_now = [item for item in due_now if item.reminder.id in claimed]
            await uow.commit()
        if send is None:
            return 0
        held = [item.reminder.id or 0 for item in due_now]
        try:
            parts = await self._render_daily(member, user, team, kind, day, missed or [], due_now)
        except Exception:
            log.exception("daily %s for member %s could not be rendered", kind, member.id)
            await self._daily_retry(send)
            await self._release(held, now)
            return 0
        if parts is None:  # nothing to say today (the nudge with nothing slipping)
            async with self.runtime.uow() as uow:
                await uow.daily.give_up(send, worker=self.worker, status=SendStatus.CANCELLED)
                await uow.commit()
            await self._release(held, now)
            return 0
        message: Any = None
        try:
            for index in range(send.parts_sent, len(parts)):
                message = await _send_paced(self.gate, user.id, parts[index])
                await self._mark(partial(_progress, send.id or 0, index + 1, self.worker))
        except Undeliverable:
            async with self.runtime.uow() as uow:
                await uow.users.mark_blocked(user.id, True)
                await uow.daily.give_up(send, worker=self.worker, status=SendStatus.CANCELLED)
                await uow.commit()
            await self._release(held, now)
            return 0
        except RetryAfter as error:
            await self._daily_retry(send, _seconds(error.retry_after))
            await self._release(held, now)
            return 0
        except TelegramError as error:
            log.warning("daily %s to %s not sent: %s", kind, user.id, error)
            await self._daily_retry(send)
            await self._release(held, now)
            return 0
        await self._mark(lambda uow: uow.daily.done(send, worker=self.worker, now=self._now()))
        if due_now and isinstance(message, Message):
            await self._sent(due_now, message, False)
        return len(due_now)

    async def _daily_retry(self, send: DailySend, wait: float | None = None) -> None:
        async with self.runtime.uow() as uow:
            if send.attempts >= DAILY_ATTEMPTS and wait is None:
                await uow.daily.give_up(send, worker=self.worker, status=SendStatus.FAILED)
            else:
                delay = timedelta(seconds=wait) if wait is not None else backoff(send.attempts)
                await uow.daily.release(
                    send.id or 0, worker=self.worker, not_before=self._now() + delay
                )
            await uow.commit()

    async def _render_daily(
        self,
        member: Member,
        user: User,
        team: Team,
        kind: DailyKind,
        day: Any,
        missed: list[Any],
        due_now: list[DueReminder],
    ) -> list[Callable[[], Awaitable[Any]]] | None:
        """The day's message as the Bot API calls that send it, in order."""
        now = self._now()
        t = self.runtime.i18n.translator(user.language, team.timezone)
        if kind == DailyKind.DIGEST:
            text, keyboard, _ = await build_digest(self.runtime, t, team, day, now, missed=missed)
            picture, caption = await funnel_picture(self.runtime, t, team)
            calls = _text_calls(self.bot, user.id, text, keyboard)
            calls.append(
                partial(
                    self.bot.send_photo,
                    user.id,
                    picture,
                    caption=caption,
                    rate_limit_args=PAID_FOR,
                )
            )
            return calls
        async with self.runtime.reader() as uow:
            plan = await load_day(uow, team, member.id or 0, now)
        if kind == DailyKind.NUDGE:
            plan = slipping(plan, now)
            if plan.empty:
                return None
            greeting = t._("👋 A few deals are slipping:")
        else:
            if plan.empty and not due_now and member.role == Role.MANAGER:
                return None  # a manager with no deals of their own gets no empty agenda
            greeting = t._("🌅 Good morning!")
        text, keyboard = day_message(t, plan, now, greeting=greeting, due_now=due_now)
        return _text_calls(self.bot, user.id, text, keyboard)


async def _progress(send_id: int, parts_sent: int, worker: str, uow: Any) -> None:
    await uow.daily.progress(send_id, parts_sent, worker=worker)


def _text_calls(
    bot: ExtBot[Any], chat_id: int, text: str, keyboard: InlineKeyboardMarkup | None
) -> list[Callable[[], Awaitable[Any]]]:
    """A long text as several messages, split between lines; the buttons ride on the last."""
    parts = split_message(text)
    marks = [keyboard if index == len(parts) - 1 else None for index in range(len(parts))]
    return [
        partial(bot.send_message, chat_id, part, reply_markup=mark, rate_limit_args=PAID_FOR)
        for part, mark in zip(parts, marks, strict=True)
    ]


def _seconds(value: timedelta | float) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
