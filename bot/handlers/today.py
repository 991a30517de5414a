"""`/today`: my day in one message — overdue, due today (with times), deals with no planned
contact, and win-backs due this week, each opening its card. The morning agenda is the same
message, sent unasked; the daily nudge lists only what is slipping."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.context import BotContext
from bot.handlers.common import answer_long, member_only
from bot.handlers.deal_card import me
from bot.screens.today import day_message, load_day


@member_only
async def today_command(update: Update, ctx: BotContext) -> None:
    team = ctx.me.team
    assert team is not None
    now = ctx.runtime.clock.now()
    async with ctx.runtime.uow() as uow:
        day = await load_day(uow, team, me(ctx).id or 0, now)
    text, keyboard = day_message(ctx.t, day, now)
    await answer_long(update, ctx, text, keyboard)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("today", today_command))
