"""The one error handler: the log gets the trace, the user a short apology and the way back.

The log line names the update (id, kind, chat, the command or the button's action) and never
its text: messages carry clients' names, phones and notes. The whole update only at DEBUG.
"""

from __future__ import annotations

import contextlib
import logging
import re

from telegram import Update
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.context import BotContext
from bot.domain import Language
from bot.handlers.common import acknowledge, is_harmless
from bot.i18n import Translator
from bot.storage.unit_of_work import DuplicateTap, DuplicateUpdate

log = logging.getLogger(__name__)

_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?=[\s@]|$)")
_ACTION = re.compile(r"[A-Za-z0-9_.-]{1,32}")


async def on_error(update: object, ctx: BotContext) -> None:
    error = ctx.error
    if isinstance(error, BadRequest) and is_harmless(error):
        log.debug("harmless: %s", error)
        return
    if isinstance(error, DuplicateUpdate | DuplicateTap):
        # A redelivery (or a second tap) that got past the account loader while the first
        # was still running: its first commit found the update handled; nothing was applied.
        log.info("update %s was handled meanwhile; this copy changed nothing", ctx.update_id)
        if isinstance(update, Update):
            with contextlib.suppress(TelegramError):
                await acknowledge(update)
        return
    if isinstance(error, Forbidden) and isinstance(update, Update) and update.effective_chat:
        async with ctx.runtime.uow() as uow:
            await uow.users.mark_blocked(update.effective_chat.id, True)
            await uow.commit()
        log.info("chat %s: %s", update.effective_chat.id, error)
        return
    if isinstance(update, Update) and is_transient(error) and ctx.runtime.settings.webhook_mode:
        # The database was away for a moment: the webhook answers 500 and Telegram delivers
        # the update again, so nothing is lost and the person is not told about it.
        ctx.runtime.transient_failures.add(update.update_id)
        ctx.runtime.metrics.transient_failure()
        log.warning("update %s failed for now (%s): delivered again", update.update_id, error)
        return
    log.error("error while handling %s", describe(update, ctx), exc_info=error)
    ctx.runtime.metrics.error()
    log.debug("the update that failed: %s", update)
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


def is_transient(error: BaseException | None) -> bool:
    """A failure that passes by itself: the database unreachable, a lock wait timed out, a
    connection dropped; not a bug."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(error, OperationalError | InterfaceError | PoolTimeout | ConnectionError):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, TimeoutError | OSError):
        return True
    name = type(getattr(error, "orig", None) or error).__name__
    return name in {
        "ConnectionDoesNotExistError",
        "CannotConnectNowError",
        "LockNotAvailableError",
        "QueryCanceledError",
        "DeadlockDetectedError",
        "TooManyConnectionsError",
    }


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


def describe(update: object, ctx: BotContext | None = None) -> str:
    """What failed, without anything a person typed: the update's id, kind and chat, and the
    command (`/new`, never its arguments) or the callback data's prefix (before the first `:`).
    """
    if not isinstance(update, Update):
        job = getattr(ctx, "job", None) if ctx is not None else None
        if job is not None:
            return f"job {job.name!r}"
        return "no update" if update is None else f"a {type(update).__name__}"
    parts = [f"update {update.update_id}", kind_of(update)]
    if update.effective_chat is not None:
        parts.append(f"chat {update.effective_chat.id}")
    what = command_of(update)
    if what:
        parts.append(what)
    return ", ".join(parts)


def kind_of(update: Update) -> str:
    """The update's kind as Telegram names it: message, edited_message, callback_query, …"""
    for kind in Update.ALL_TYPES:
        if getattr(update, kind, None) is not None:
            return str(kind)
    return "unknown"


def command_of(update: Update) -> str | None:
    """`/new` for `/new Jan Kowalski +48 600…` (the bot's name after `@` dropped), or
    `callback d` for the button data `d:12:...`; None for plain text."""
    query = update.callback_query
    if query is not None:
        prefix = (query.data or "").split(":", 1)[0]
        return f"callback {prefix}" if _ACTION.fullmatch(prefix) else "callback ?"
    message = update.effective_message
    text = (message.text or "") if message is not None else ""
    if text.startswith("/"):
        match = _COMMAND.match(text)
        return match.group(0) if match else "/?"
    return None
