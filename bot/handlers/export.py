"""/export (managers): the team's deals and event log as XLSX (in parts when it is big), and the
deals as CSV. Writing them is heavy work, done in the background (`bot.jobs.exports`): the
manager is answered at once, and the files come to this chat when they are ready."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler

from bot.context import BotContext
from bot.domain import JobKind
from bot.handlers.common import manager_only, run_rule
from bot.handlers.jobs import queue_job


@manager_only
async def export_command(update: Update, ctx: BotContext) -> None:
    async def run() -> None:
        await queue_job(
            update,
            ctx,
            JobKind.EXPORT,
            ctx.t._("📦 Preparing the export… I'll send the files here when they are ready."),
        )

    await run_rule(update, ctx, run)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("export", export_command))
