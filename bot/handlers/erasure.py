"""A client's requests about their personal data, from the deal's ✏️ Edit menu (managers):
everything the bot holds about them as files (GDPR Art. 15; a background job,
`bot.jobs.exports.client_export`, audited), and erasure (Art. 17): one tap shows what will be
erased and what cannot be, a second erases it. The erasure is written to the database, the
audit and the erasure log in the same step, the erased bytes leave the database
(`bot.services.erasure.settle`), and the card then says who erased it and when."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler

from bot.context import BotContext
from bot.domain import JobKind
from bot.handlers.common import h, member_only, once_per_tap, run_rule
from bot.handlers.deal_card import int_arg, me, show_card, show_choices
from bot.handlers.jobs import queue_job
from bot.keyboards import button, data, pattern
from bot.services import deals, erasure
from bot.services.erasure import ErasureLog
from bot.storage.deals import DealView

log = logging.getLogger(__name__)

EDIT = "de"  # the deal's edit menu (bot.handlers.deal_actions)


async def _managers_view(update: Update, ctx: BotContext) -> DealView | None:
    """The deal of the tapped button for a manager; anyone else just sees its card again."""
    async with ctx.runtime.reader() as uow:
        view = await deals.load(uow, me(ctx), int_arg(update))
    if deals.is_manager(me(ctx)):
        return view
    await show_card(update, ctx, view)
    return None


@member_only
async def export_client(update: Update, ctx: BotContext) -> None:
    async def run() -> None:
        view = await _managers_view(update, ctx)
        if view is None:
            return
        await queue_job(
            update,
            ctx,
            JobKind.CLIENT_EXPORT,
            ctx.t._(
                "📇 Preparing everything the bot holds about the client of #{number} "
                "(a workbook and the same as JSON)… I'll send the files here."
            ).format(number=view.deal.number),
            deal=view.deal.id,
        )

    await run_rule(update, ctx, run)


@member_only
async def ask_erase(update: Update, ctx: BotContext) -> None:
    async def run() -> None:
        view = await _managers_view(update, ctx)
        if view is None:
            return
        t = ctx.t
        keep_days = ctx.runtime.settings.backup_keep
        text = "\n".join(
            [
                t._("🧹 Erase the personal data of {name}?").format(name=h(view.client.name)),
                "",
                t._(
                    "Erased for good: the name, phone, e-mail and company; the next steps, "
                    "notes and comments of all their deals; what their history says about "
                    "them; their reminders (the pending ones are cancelled)."
                ),
                t._(
                    "Kept, without their name: the deal numbers, stages, amounts, dates and "
                    "reasons, so the figures do not change."
                ),
                t.ngettext(
                    "Cannot be erased from here: messages already in Telegram chats, files "
                    "already exported, and backups, which are kept {n} day.",
                    "Cannot be erased from here: messages already in Telegram chats, files "
                    "already exported, and backups, which are kept {n} days.",
                    keep_days,
                ).format(n=keep_days),
            ]
        )
        confirm = button(
            t.pgettext("button", "🧹 Erase for good"),
            data(EDIT, "erok", view.deal.id, view.deal.version),
        )
        await show_choices(update, ctx, view, text, [confirm])

    await run_rule(update, ctx, run)


@member_only
@once_per_tap
async def confirm_erase(update: Update, ctx: BotContext) -> None:
    async def run() -> None:
        runtime = ctx.runtime
        now = runtime.clock.now()
        async with ctx.db() as uow:
            erased = await erasure.erase_client(
                uow, me(ctx), int_arg(update), int_arg(update, 1), now
            )
            entries = await uow.erasure.entries(erased.client.team_id)
            await uow.commit()
        entry = next(e for e in reversed(entries) if e.client_id == erased.client.id)
        await erasure.settle(runtime.db, ErasureLog(runtime.settings.erasure_log_path), [entry])
        log.info("client %s erased by member %s", erased.client.id, me(ctx).id)
        async with runtime.uow() as uow:
            view = await deals.load(uow, me(ctx), int_arg(update))
        await show_card(update, ctx, view, prefix=ctx.t._("🧹 Personal data erased."))

    await run_rule(update, ctx, run)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CallbackQueryHandler(export_client, pattern=pattern(EDIT, "cx")))
    app.add_handler(CallbackQueryHandler(ask_erase, pattern=pattern(EDIT, "er")))
    app.add_handler(CallbackQueryHandler(confirm_erase, pattern=pattern(EDIT, "erok")))
