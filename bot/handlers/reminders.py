"""What a reminder looks like and what its buttons do: ✅ done (what happened?), 💤 snooze,
❌ resign, 📇 card. Late reminders of one person arrive as one list, each opening its own
reminder. The reminder message is edited to show what was chosen."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler

from bot.context import BotContext
from bot.domain import ActivityKind, DealStatus, ReminderKind
from bot.handlers.common import answer, h, member_only, once_per_tap, run_rule
from bot.handlers.deal_card import int_arg, me, show_card
from bot.handlers.deal_views import DEAL
from bot.handlers.labels import ACTIVITY_NAMES, activity_name
from bot.keyboards import args, button, data, markup, rows
from bot.screens.reminders import (
    REMIND,
    SNOOZE_PRESETS,
    reminder_keyboard,
    reminder_text,
)
from bot.services import reminders
from bot.services.dates import preset
from bot.services.errors import Problem, RuleError
from bot.storage.reminders import DueReminder


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
