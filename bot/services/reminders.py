"""Rules for pushing reminders: what goes out now and what waits for working hours, what is
late, how late ones are bundled, how failures back off, and how a reminder is snoozed or closed.

A time the salesperson chose (the next contact, the handover) is kept even outside working
hours. Automatic messages (win-backs, satisfaction calls) and the catch-up of reminders that fell
due while the bot was down wait for the next working period.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

from bot.domain import DealStatus, ReminderKind, ReminderStatus
from bot.services import deals
from bot.services.errors import Problem, RuleError
from bot.services.working_hours import WorkingHours
from bot.storage.deals import DealView
from bot.storage.models import Member, Reminder, Team
from bot.storage.reminders import DueReminder, Recheck
from bot.storage.unit_of_work import UnitOfWork

# Due longer ago than this when it goes out: marked late (the bot was down or the queue long).
LATE_AFTER = timedelta(minutes=10)
AUTOMATIC = frozenset({ReminderKind.WINBACK, ReminderKind.SATISFACTION})
MAX_BACKOFF = timedelta(minutes=10)


def hours_of(team: Team) -> WorkingHours:
    return WorkingHours(
        team.timezone, team.work_days, team.work_start_minute, team.work_end_minute
    )


def is_late(reminder: Reminder, now: datetime) -> bool:
    return now - reminder.due_at > LATE_AFTER


@dataclass
class Outbox:
    """One message to one person: a single reminder, or a bundle of late ones."""

    chat_id: int
    items: list[DueReminder]
    late: bool


@dataclass
class DeliveryPlan:
    outboxes: list[Outbox] = field(default_factory=list)
    deferred: dict[datetime, list[int]] = field(default_factory=dict)


def plan_delivery(items: list[DueReminder], now: datetime) -> DeliveryPlan:
    """Split due reminders into messages to send now and reminders that wait for working time.

    Late reminders of one person go out as one message; on-time ones one by one. Outboxes are
    interleaved person by person, so no chat gets a burst while others wait.
    """
    plan = DeliveryPlan()
    late: dict[int, list[DueReminder]] = defaultdict(list)
    on_time: dict[int, list[Outbox]] = defaultdict(list)
    for item in items:
        hours = hours_of(item.team)
        waits = is_late(item.reminder, now) or item.reminder.kind in AUTOMATIC
        if waits and not hours.is_working(now):
            plan.deferred.setdefault(hours.next_working_moment(now), []).append(
                item.reminder.id or 0
            )
        elif is_late(item.reminder, now):
            late[item.user.id].append(item)
        else:
            on_time[item.user.id].append(Outbox(item.user.id, [item], late=False))
    queues: dict[int, list[Outbox]] = defaultdict(list)
    for chat_id, bundle in late.items():
        queues[chat_id].append(Outbox(chat_id, bundle, late=True))
    for chat_id, boxes in on_time.items():
        queues[chat_id].extend(boxes)
    while queues:
        for chat_id in list(queues):
            plan.outboxes.append(queues[chat_id].pop(0))
            if not queues[chat_id]:
                del queues[chat_id]
    return plan


class RecheckVerdict(Enum):
    SEND = "send"
    ROUTE = "route"  # the deal has another owner now: to them, on the next pass
    DROP = "drop"  # the deal was closed, reopened or rescheduled: this reminder is void


def recheck_verdict(now: Recheck, planned: DueReminder) -> RecheckVerdict:
    """Whether a claimed reminder still goes out as planned, right before the send."""
    if now.member_id != planned.reminder.member_id or now.member_id != now.owner_member_id:
        return RecheckVerdict.ROUTE  # reassigned or handed over since it was claimed
    kind = ReminderKind(now.kind)
    if kind == ReminderKind.NEXT_CONTACT:
        valid = now.status == DealStatus.OPEN and now.next_contact_at == now.due_at
    elif kind == ReminderKind.WINBACK:
        valid = now.status == DealStatus.LOST and now.winback_at == now.due_at
    elif kind == ReminderKind.HANDOVER:
        valid = now.status == DealStatus.WON and now.handover_at == now.due_at
    else:
        valid = now.status == DealStatus.WON
    return RecheckVerdict.SEND if valid else RecheckVerdict.DROP


def backoff(attempts: int) -> timedelta:
    """5 s, 10 s, 20 s … up to 10 minutes between attempts after network or server errors."""
    return min(timedelta(seconds=5 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


async def load_reminder(
    uow: UnitOfWork, actor: Member, reminder_id: int
) -> tuple[Reminder, DealView]:
    """A reminder of a deal the actor may see."""
    reminder = await uow.reminders.get(reminder_id)
    if reminder is None:
        raise RuleError(Problem.STALE)
    return reminder, await deals.load(uow, actor, reminder.deal_id)


async def close(uow: UnitOfWork, actor: Member, reminder_id: int) -> tuple[Reminder, DealView]:
    """The salesperson acted on the reminder (done, resigned, opened the outcome)."""
    reminder, view = await load_reminder(uow, actor, reminder_id)
    await uow.reminders.close(reminder_id)
    return reminder, view


async def snooze(
    uow: UnitOfWork, actor: Member, reminder_id: int, when: datetime, now: datetime
) -> DealView:
    """Move the reminder (and the deal's date it stands for) to a later moment."""
    reminder, view = await load_reminder(uow, actor, reminder_id)
    if reminder.status in (ReminderStatus.DONE, ReminderStatus.CANCELLED):
        raise RuleError(Problem.STALE)
    if when <= now:
        raise RuleError(Problem.WHEN_PAST)
    deal = view.deal
    if reminder.kind == ReminderKind.NEXT_CONTACT:
        if deal.status != DealStatus.OPEN:
            raise RuleError(Problem.DEAL_CLOSED, number=deal.number)
        await uow.reminders.close(reminder_id)
        return await deals.plan_next_contact(uow, actor, deal.id or 0, when, now, deal.next_step)
    await uow.reminders.close(reminder_id)
    if reminder.kind == ReminderKind.WINBACK:
        deal.winback_at = when
    elif reminder.kind == ReminderKind.HANDOVER:
        deal.handover_at = when
    await deals.remind(uow, deal, ReminderKind(reminder.kind), when, now, reminder.note)
    await uow.deals.touch(deal, now)
    return view
