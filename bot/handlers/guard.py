"""The guard: the first handler group, run before every other. It stops what no feature may see:

- an edited message never acts again (editing `/new Jan Kowalsky` into `/new Jan Kowalski` would
  log a second deal): it is answered once, "edits are not applied, send it again"; an edited
  location (a live location moving) is ignored silently;
- every Telegram Business update (`business_connection`, `business_message`, edited and deleted
  business messages): PTB's text filters match business messages, `effective_user` is the client
  and `reply_*` would answer into the client's chat; nothing may handle them until a handler made
  for them exists.

`FeatureHandlers` makes sure of the same thing handler by handler: every message and command
handler registered after it takes new messages only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import ReplyParameters, Update
from telegram.constants import ChatType
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.context import BotContext
from bot.domain import Language

log = logging.getLogger(__name__)

GUARD_GROUP = -3


def is_business(update: Update) -> bool:
    return any(
        (
            update.business_connection,
            update.business_message,
            update.edited_business_message,
            update.deleted_business_messages,
        )
    )


async def guard(update: Update, ctx: BotContext) -> None:
    if is_business(update):
        raise ApplicationHandlerStop
    edited = update.edited_message
    if edited is None:
        return
    if edited.location is None and edited.venue is None and edited.chat.type == ChatType.PRIVATE:
        await _edits_not_applied(update, ctx)
    raise ApplicationHandlerStop


async def _edits_not_applied(update: Update, ctx: BotContext) -> None:
    edited = update.edited_message
    assert edited is not None
    runtime = ctx.runtime
    async with runtime.uow() as uow:
        first = await uow.users.claim_tap(
            f"edit:{edited.chat.id}:{edited.message_id}", runtime.clock.now()
        )
        user = await uow.users.get(update.effective_user.id) if update.effective_user else None
        await uow.commit()
    if not first:
        return
    language = (
        user.language
        if user
        else Language.from_telegram(
            update.effective_user.language_code if update.effective_user else None
        )
    )
    t = runtime.i18n.translator(language)
    await ctx.bot.send_message(
        edited.chat.id,
        t._("✏️ Edits are not applied: send it again as a new message."),
        reply_parameters=ReplyParameters(edited.message_id, allow_sending_without_reply=True),
    )


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(TypeHandler(Update, guard), group=GUARD_GROUP)


def new_messages_only(app: Application) -> None:  # type: ignore[type-arg]
    """Every message and command handler takes new messages only: PTB's defaults also match
    edited messages (CommandHandler) and business messages (MessageHandler filters)."""
    for group, handlers in app.handlers.items():
        if group == GUARD_GROUP:
            continue
        for handler in handlers:
            if isinstance(handler, MessageHandler | CommandHandler):
                handler.filters = handler.filters & filters.UpdateType.MESSAGE


class PlainUpdates(TypeHandler[Update, BotContext, None]):
    """A handler for every update the guard lets through: new messages, button taps and the
    bot's own chat-member changes (a TypeHandler would take edits and business updates too)."""

    def __init__(
        self, callback: Callable[[Update, BotContext], Coroutine[Any, Any, None]]
    ) -> None:
        super().__init__(Update, callback)

    def check_update(self, update: object) -> bool:
        return isinstance(update, Update) and (
            update.message is not None
            or update.callback_query is not None
            or update.my_chat_member is not None
        )
