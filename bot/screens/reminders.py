"""What a reminder looks like: its text and buttons (✅ done, 💤 snooze, ❌ resign, 📇 card),
and the list that late reminders of one person arrive as. The dispatcher sends them, the
handlers (`bot.handlers.reminders`) edit them."""

from __future__ import annotations

from datetime import datetime

from telegram import InlineKeyboardMarkup

from bot.domain import DealStatus, ReminderKind
from bot.handlers.common import display_name, h
from bot.handlers.deal_views import shorten
from bot.handlers.labels import stage_name
from bot.i18n import Translator
from bot.keyboards import button, data, markup, named, rows
from bot.services.quick_entry import format_phone
from bot.storage.models import Reminder
from bot.storage.reminders import DueReminder

REMIND = "r"
SNOOZE_PRESETS = ("in_1_hour", "tomorrow_morning", "next_week")
BUNDLE_MAX = 20  # reminders listed in one catch-up message


def _title(t: Translator, item: DueReminder) -> str:
    name = h(item.client.name)
    kind = item.reminder.kind
    if kind == ReminderKind.WINBACK:
        return t._("🔁 Time to win back {name}").format(name=name)
    if kind == ReminderKind.HANDOVER:
        return t._("🚗 Handover for {name}").format(name=name)
    if kind == ReminderKind.SATISFACTION:
        return t._("😊 Satisfaction call to {name}: the car was handed over a week ago").format(
            name=name
        )
    return t._("⏰ Time to contact {name}").format(name=name)


def reminder_text(
    t: Translator, item: DueReminder, *, late: bool, now: datetime | None = None
) -> str:
    deal, client, reminder = item.deal, item.client, item.reminder
    lines = [_title(t, item), f"<b>#{deal.number} · {h(client.name)}</b>"]
    if client.phone:
        lines.append(f"📞 {format_phone(client.phone)}")
    if deal.model:
        lines.append(f"🚗 {h(deal.model)}")
    lines.append(t._("📊 Stage: {stage}").format(stage=h(stage_name(t, item.stage))))
    planned = reminder.note or (
        deal.next_step if reminder.kind == ReminderKind.NEXT_CONTACT else None
    )
    if planned:
        lines.append(t._("🗒 Planned: {what}").format(what=h(planned)))
    if deal.status == DealStatus.LOST and deal.loss_comment:
        lines.append(f"💬 {h(shorten(deal.loss_comment, 200))}")
    if deal.last_note:
        lines.append(f"📝 {h(shorten(deal.last_note, 300))}")
    if late:
        due = t.when(reminder.due_at, now) if now is not None else t.datetime(reminder.due_at)
        lines.append(t._("⌛ Late: it was due {when}").format(when=due))
    if item.leaver is not None:
        lines.append(
            t._("👤 A follow-up of {name}, whose access is off: /team hands it over.").format(
                name=h(display_name(item.leaver))
            )
        )
    return "\n".join(lines)


def reminder_keyboard(t: Translator, reminder: Reminder, deal_open: bool) -> InlineKeyboardMarkup:
    rid = reminder.id
    first = [
        button(t.pgettext("button", "✅ Done"), data(REMIND, "d", rid)),
        button(t.pgettext("button", "💤 Snooze"), data(REMIND, "s", rid)),
    ]
    second = [button(t.pgettext("button", "📇 Card"), data(REMIND, "c", rid))]
    if deal_open:
        second.insert(0, button(t.pgettext("button", "❌ Resign"), data(REMIND, "x", rid)))
    return markup(first, second)


def bundle_text(t: Translator, items: list[DueReminder]) -> str:
    """The reminders of one person that fell due while the bot was away, in one message."""
    title = t.ngettext(
        "⌛ While I was away, {n} follow-up fell due:",
        "⌛ While I was away, {n} follow-ups fell due:",
        len(items),
    )
    lines = [title.format(n=t.number(len(items))), ""]
    for item in items:
        name = h(shorten(item.client.name, 40))
        lines.append(f"• #{item.deal.number} {name} · {t.datetime(item.reminder.due_at)}")
    lines += ["", t._("Tap one to open its reminder.")]
    return "\n".join(lines)


def bundle_keyboard(items: list[DueReminder]) -> InlineKeyboardMarkup:
    buttons = [
        button(
            named(f"⏰ #{item.deal.number} ", item.client.name),
            data(REMIND, "o", item.reminder.id),
        )
        for item in items
    ]
    return markup(*rows(buttons, 2))
