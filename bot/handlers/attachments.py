"""A photo or a file sent while a deal's card is open (sent to this person in the last
`OPEN_FOR`): attached to that deal, and its history shows it. Spreadsheets a manager sends are
imports (see `imports`), not attachments."""

from __future__ import annotations

from datetime import timedelta

from telegram import Update
from telegram.ext import Application, MessageHandler, filters

from bot.context import BotContext
from bot.handlers.common import answer, h, member_only, run_rule
from bot.handlers.deal_card import me
from bot.services import deals

OPEN_FOR = timedelta(minutes=15)


@member_only
async def attach(update: Update, ctx: BotContext) -> None:
    message = update.effective_message
    assert message is not None
    t = ctx.t
    user = ctx.me.user
    now = ctx.runtime.clock.now()
    deal_id = user.open_deal_id
    if deal_id is None or user.open_deal_at is None or now - user.open_deal_at > OPEN_FOR:
        await answer(
            update,
            ctx,
            t._(
                "📎 To attach a photo or a file to a deal, open its card first "
                "(/clients, or type the client's name), then send it."
            ),
        )
        return
    if message.photo:
        biggest = message.photo[-1]
        file = {"type": "photo", "file_id": biggest.file_id, "unique": biggest.file_unique_id}
    else:
        document = message.document
        assert document is not None
        file = {
            "type": "document",
            "file_id": document.file_id,
            "unique": document.file_unique_id,
            "name": (document.file_name or "")[:120],
        }

    async def run() -> None:
        async with ctx.db() as uow:
            view = await deals.attach(
                uow, me(ctx), deal_id, file, (message.caption or "")[:500] or None, now
            )
            await uow.commit()
        text = t._("📎 Attached to #{number} {name}: the history shows it.").format(
            number=view.deal.number, name=h(view.client.name)
        )
        await answer(update, ctx, text)

    await run_rule(update, ctx, run)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(MessageHandler(filters.PHOTO | filters.Document.ALL, attach))
