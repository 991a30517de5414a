"""My day in one message (`/today`, the morning agenda, the daily nudge): what it holds and how it
reads — overdue, due today with times, deals with no planned contact, win-backs due this week,
each opening its card. Read by one query set (`load_day`), rendered by `day_message`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from babel.dates import format_date
from telegram import InlineKeyboardMarkup

from bot.domain import DealStatus
from bot.handlers.common import h
from bot.handlers.deal_views import deal_button, deal_line, shorten
from bot.i18n import Translator
from bot.keyboards import button, data, markup, named, rows
from bot.services.reminders import hours_of
from bot.services.working_hours import local_wall_time
from bot.storage.models import Client, Deal, Stage, Team
from bot.storage.reminders import DueReminder
from bot.storage.unit_of_work import UnitOfWork

SECTION_MAX = 12
BUTTONS_MAX = 40
WINBACK_WINDOW = timedelta(days=7)
NUDGE_OVERDUE_AFTER = timedelta(days=1)

Row = tuple[Deal, Client, Stage]


@dataclass
class Day:
    overdue: list[Row]
    today: list[Row]
    unplanned: list[Row]
    winbacks: list[Row]

    @property
    def empty(self) -> bool:
        return not (self.overdue or self.today or self.unplanned or self.winbacks)


async def load_day(uow: UnitOfWork, team: Team, member_id: int, now: datetime) -> Day:
    hours = hours_of(team)
    tomorrow = hours.local_day(now) + timedelta(days=1)
    day_end = local_wall_time(tomorrow, 0, team.timezone)
    rows_found = await uow.reminders.day_lists(
        member_id, day_end=day_end, winback_until=now + WINBACK_WINDOW
    )
    day = Day([], [], [], [])
    for row in rows_found:
        deal = row[0]
        if deal.status == DealStatus.LOST:
            day.winbacks.append(row)
        elif deal.next_contact_at is None:
            day.unplanned.append(row)
        elif deal.next_contact_at <= now:
            day.overdue.append(row)
        else:
            day.today.append(row)
    return day


def _section(
    t: Translator, header: str, found: list[Row], now: datetime, *, with_time: bool
) -> list[str]:
    if not found:
        return []
    lines = ["", f"<b>{header}</b>"]
    for deal, client, stage in found[:SECTION_MAX]:
        line = deal_line(t, deal, client, stage, now, with_when=not with_time)
        if with_time and deal.next_contact_at is not None:
            line = f"{t.time(deal.next_contact_at)} · {line}"
        lines.append(line)
    if len(found) > SECTION_MAX:
        more = len(found) - SECTION_MAX
        lines.append(t.ngettext("…and {n} more", "…and {n} more", more).format(n=t.number(more)))
    return lines


def day_message(
    t: Translator,
    day: Day,
    now: datetime,
    *,
    greeting: str = "",
    due_now: list[DueReminder] | None = None,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The day in one message. `due_now`: reminders falling due as it goes out (the morning
    agenda folds them in): listed first as "now", not overdue, each button opening its
    reminder."""
    weekday = format_date(t.local(now).date(), "EEEE, d MMMM", locale=t.locale)
    lines = [greeting] if greeting else []
    lines.append(t._("📅 <b>Your day</b>: {date}").format(date=weekday))
    folded = {item.deal.id for item in due_now or []}
    day = Day(
        [row for row in day.overdue if row[0].id not in folded],
        [row for row in day.today if row[0].id not in folded],
        day.unplanned,
        day.winbacks,
    )
    if day.empty and not due_now:
        lines += ["", t._("Nothing is due and every deal has a next step. /new logs a client.")]
        return "\n".join(lines), None
    now_buttons = []
    if due_now:
        n = len(due_now)
        lines += [
            "",
            "<b>"
            + t.ngettext("⏰ {n} to contact now", "⏰ {n} to contact now", n).format(n=t.number(n))
            + "</b>",
        ]
        for item in due_now[:SECTION_MAX]:
            line = deal_line(t, item.deal, item.client, item.stage, now, with_status=False)
            planned = item.reminder.note or item.deal.next_step
            lines.append(f"{line} · {h(shorten(planned, 60))}" if planned else line)
        if n > SECTION_MAX:
            more = n - SECTION_MAX
            lines.append(
                t.ngettext("…and {n} more", "…and {n} more", more).format(n=t.number(more))
            )
        now_buttons = [
            button(
                named(f"⏰ #{item.deal.number} ", item.client.name),
                data("r", "o", item.reminder.id),
            )
            for item in due_now[:BUTTONS_MAX]
        ]
    n = len(day.overdue)
    lines += _section(
        t,
        t.ngettext("❗ {n} overdue", "❗ {n} overdue", n).format(n=t.number(n)),
        day.overdue,
        now,
        with_time=False,
    )
    n = len(day.today)
    lines += _section(
        t,
        t.ngettext("⏰ {n} due today", "⏰ {n} due today", n).format(n=t.number(n)),
        day.today,
        now,
        with_time=True,
    )
    n = len(day.unplanned)
    lines += _section(
        t,
        t.ngettext(
            "⚠️ {n} deal with no next contact", "⚠️ {n} deals with no next contact", n
        ).format(n=t.number(n)),
        day.unplanned,
        now,
        with_time=False,
    )
    n = len(day.winbacks)
    lines += _section(
        t,
        t.ngettext("🔁 {n} win-back this week", "🔁 {n} win-backs this week", n).format(
            n=t.number(n)
        ),
        day.winbacks,
        now,
        with_time=False,
    )
    shown: dict[int, Row] = {}
    for group in (day.overdue, day.today, day.unplanned, day.winbacks):
        for row in group[:SECTION_MAX]:
            shown.setdefault(row[0].id or 0, row)
    buttons = [deal_button(deal, client) for deal, client, _ in list(shown.values())]
    buttons = [*now_buttons, *buttons][:BUTTONS_MAX]
    return "\n".join(lines), markup(*rows(buttons, 2))


def slipping(day: Day, now: datetime) -> Day:
    """What the daily nudge is about: no next contact, or overdue for more than a day."""
    long_overdue = [
        row
        for row in day.overdue
        if row[0].next_contact_at and row[0].next_contact_at < now - NUDGE_OVERDUE_AFTER
    ]
    return Day(long_overdue, [], day.unplanned, [])
