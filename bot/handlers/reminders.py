"""What a reminder looks like and what its buttons do: ✅ done (what happened?), 💤 snooze,
❌ resign, 📇 card. Late reminders of one person arrive as one list, each opening its own
reminder. The reminder message is edited to show what was chosen."""

from __future__ import annotations

from datetime import datetime

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler

from bot.context import BotContext
from bot.domain import ActivityKind, DealStatus, ReminderKind
from bot.handlers.common import answer, display_name, h, member_only, once_per_tap, run_rule
from bot.handlers.deal_card import int_arg, me, show_card
from bot.handlers.deal_views import DEAL, shorten
from bot.handlers.labels import ACTIVITY_NAMES, activity_name, stage_name
from bot.i18n import Translator
from bot.keyboards import args, button, data, markup, named, rows
from bot.services import reminders
from bot.services.dates import preset
from bot.services.errors import Problem, RuleError
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


async def _due_item(ctx: BotContext, reminder_id: int) -> DueReminder:
    async with ctx.runtime.uow() as uow:
        reminder, view = await reminders.load_reminder(uow, me(ctx), reminder_id)
    team = ctx.me.team
    assert team is not None
    return DueReminder(reminder, view.deal, view.client, view.stage, view.owner, ctx.me.user, team)


@member_only
async def open_reminder(update: Update, ctx: BotContext) -> None:
    """From a catch-up list: that reminder, with its own buttons, as a new message."""

    async def run() -> None:
        item = await _due_item(ctx, int_arg(update))
        now = ctx.runtime.clock.now()
        text = reminder_text(ctx.t, item, late=reminders.is_late(item.reminder, now), now=now)
        keyboard = reminder_keyboard(ctx.t, item.reminder, item.deal.status == DealStatus.OPEN)
        await answer(update, ctx, text, keyboard)

    await run_rule(update, ctx, run)


@member_only
@once_per_tap
async def done(update: Update, ctx: BotContext) -> None:
    """✅: what happened? An activity (then the next contact), won, or resign."""

    async def run() -> None:
        async with ctx.db() as uow:
            _, view = await reminders.close(uow, me(ctx), int_arg(update))
            await uow.commit()
        t = ctx.t
        deal_id = view.deal.id
        header = t._("✅ Done: #{number} {name}. What happened?").format(
            number=view.deal.number, name=h(view.client.name)
        )
        if view.deal.status != DealStatus.OPEN:
            keyboard = markup(
                [button(t.pgettext("button", "🔄 Reopen"), data(DEAL, "ro", deal_id))],
                [button(t.pgettext("button", "📇 Card"), data(DEAL, "c", deal_id))],
            )
            await answer(update, ctx, header, keyboard, edit=True)
            return
        activities = [
            button(activity_name(t, kind), data("da", "log", deal_id, kind, view.deal.version))
            for kind in ACTIVITY_NAMES
            if kind != ActivityKind.PRESENTATION
        ]
        keyboard = markup(
            *rows(activities, 2),
            [
                button(t.pgettext("button", "✅ Won"), data("dw", "ask", deal_id)),
                button(t.pgettext("button", "❌ Resign"), data("dx", "ask", deal_id)),
            ],
        )
        await answer(update, ctx, header, keyboard, edit=True)

    await run_rule(update, ctx, run)


@member_only
async def snooze_menu(update: Update, ctx: BotContext) -> None:
    async def run() -> None:
        item = await _due_item(ctx, int_arg(update))
        t = ctx.t
        rid = item.reminder.id
        labels = {
            "in_1_hour": t.pgettext("button", "In 1 hour"),
            "tomorrow_morning": t.pgettext("button", "Tomorrow morning"),
            "next_week": t.pgettext("button", "In a week"),
        }
        choices = [
            button("💤 " + labels[name], data(REMIND, "z", rid, name)) for name in SNOOZE_PRESETS
        ]
        keyboard = [choices[:2], choices[2:]]
        if item.reminder.kind == ReminderKind.NEXT_CONTACT and item.deal.status == DealStatus.OPEN:
            keyboard.append(
                [
                    button(
                        t.pgettext("button", "📅 Pick a date"),
                        data("p", "n", item.deal.id, "days", item.deal.version),
                    )
                ]
            )
        text = t._("💤 Remind me about #{number} {name}…").format(
            number=item.deal.number, name=h(item.client.name)
        )
        await answer(update, ctx, text, markup(*keyboard), edit=True)

    await run_rule(update, ctx, run)


@member_only
@once_per_tap
async def snooze(update: Update, ctx: BotContext) -> None:
    query = update.callback_query
    assert query is not None

    async def run() -> None:
        choice = args(query.data, 2)[1]
        if choice not in SNOOZE_PRESETS:
            raise RuleError(Problem.STALE)
        team = ctx.me.team
        assert team is not None
        now = ctx.runtime.clock.now()
        when = preset(choice, tz=team.timezone, now=now, morning_hour=team.work_start_minute // 60)
        async with ctx.db() as uow:
            view = await reminders.snooze(uow, me(ctx), int_arg(update), when, now)
            await uow.commit()
        t = ctx.t
        text = t._("💤 #{number} {name}: I'll remind you {when}.").format(
            number=view.deal.number, name=h(view.client.name), when=t.when(when, now)
        )
        keyboard = markup([button(t.pgettext("button", "📇 Card"), data(DEAL, "o", view.deal.id))])
        await answer(update, ctx, text, keyboard, edit=True)

    await run_rule(update, ctx, run)


@member_only
async def resign(update: Update, ctx: BotContext) -> None:
    from bot.handlers.deal_actions import ask_reason_for

    async def run() -> None:
        async with ctx.db() as uow:
            _, view = await reminders.close(uow, me(ctx), int_arg(update))
            await uow.commit()
        await ask_reason_for(update, ctx, view.deal.id or 0)

    await run_rule(update, ctx, run)


@member_only
async def card(update: Update, ctx: BotContext) -> None:
    async def run() -> None:
        item = await _due_item(ctx, int_arg(update))
        async with ctx.runtime.uow() as uow:
            from bot.services import deals

            view = await deals.load(uow, me(ctx), item.deal.id or 0)
        await show_card(update, ctx, view, edit=False)

    await run_rule(update, ctx, run)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CallbackQueryHandler(open_reminder, pattern=rf"^{REMIND}:o:"))
    app.add_handler(CallbackQueryHandler(done, pattern=rf"^{REMIND}:d:"))
    app.add_handler(CallbackQueryHandler(snooze_menu, pattern=rf"^{REMIND}:s:"))
    app.add_handler(CallbackQueryHandler(snooze, pattern=rf"^{REMIND}:z:"))
    app.add_handler(CallbackQueryHandler(resign, pattern=rf"^{REMIND}:x:"))
    app.add_handler(CallbackQueryHandler(card, pattern=rf"^{REMIND}:c:"))
