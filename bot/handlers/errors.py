"""The one error handler: the log gets the trace, the user a short apology and the way back."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest, Forbidden

from bot.context import BotContext
from bot.domain import Language
from bot.handlers.common import acknowledge, is_harmless
from bot.i18n import Translator

log = logging.getLogger(__name__)


async def on_error(update: object, ctx: BotContext) -> None:
    error = ctx.error
    if isinstance(error, BadRequest) and is_harmless(error):
        log.debug("harmless: %s", error)
        return
    if isinstance(error, Forbidden) and isinstance(update, Update) and update.effective_chat:
        async with ctx.runtime.uow() as uow:
            await uow.users.mark_blocked(update.effective_chat.id, True)
            await uow.commit()
        log.info("chat %s: %s", update.effective_chat.id, error)
        return
    log.error("error while handling %s", update, exc_info=error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    try:
        await acknowledge(update)
        t = await _translator(update, ctx)
        text = t._(
            "😕 Something went wrong on my side. What you saved before is safe. "
            "Please try again, or send /cancel to start over."
        )
        await ctx.bot.send_message(update.effective_chat.id, text)
    except Exception:
        log.exception("could not tell the user about the error")


async def _translator(update: Update, ctx: BotContext) -> Translator:
    """The error handler gets a fresh context: find the user's language again."""
    runtime = ctx.runtime
    user = update.effective_user
    language = user.language_code if user and user.language_code else "en"
    if user is not None:
        try:
            async with runtime.uow() as uow:
                stored = await uow.users.get(user.id)
            if stored is not None:
                language = stored.language
        except Exception:
            log.exception("could not read the user's language")
    return runtime.i18n.translator(Language.from_telegram(language))
