"""Text steps of multi-step flows, with their state in the database.

A feature module registers the text step it waits for with `@text_step(flow, step)`; the
router sends a plain text message to the step the user is in. The flow name is the callback
prefix of the screen that started it (see `bot.keyboards`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot.context import BotContext
from bot.storage.models import ConversationState

StepHandler: TypeAlias = Callable[[Update, BotContext, ConversationState], Awaitable[None]]
FallbackHandler: TypeAlias = Callable[[Update, BotContext], Awaitable[None]]

log = logging.getLogger(__name__)

_STEPS: dict[tuple[str, str], StepHandler] = {}
_fallback: list[FallbackHandler] = []


def text_step(flow: str, step: str) -> Callable[[StepHandler], StepHandler]:
    def register(handler: StepHandler) -> StepHandler:
        _STEPS[(flow, step)] = handler
        return handler

    return register


def on_free_text(handler: FallbackHandler) -> FallbackHandler:
    """What plain text outside any flow does (one handler, the last registered wins)."""
    _fallback[:] = [handler]
    return handler


PROMPT = "prompt"  # flow data: the message that asks, closed once it is answered by typing


async def ask(
    update: Update,
    ctx: BotContext,
    flow: str,
    step: str,
    text: str,
    keyboard: InlineKeyboardMarkup | None = None,
    *,
    edit: bool = True,
    begun: ConversationState | None = None,
    **data: Any,
) -> None:
    """Show a question (in place of the tapped message, or as a new one) and wait for its
    typed answer in `flow`/`step`. The question's message is remembered: once the answer is
    typed, its buttons go (an old "Tomorrow morning" must never overwrite a newer answer).

    The step is written before the question goes out: a redelivered update racing the first
    attempt fails at that write (DuplicateUpdate) and asks nothing. `begun`: the caller wrote
    the step already, in the transaction of its own change (one write less)."""
    from bot.handlers.common import answer

    data = {key: value for key, value in data.items() if key != PROMPT}
    if begun is None:
        await begin(ctx, flow, step, **data)
    else:
        ctx.flow = begun
    message = await answer(update, ctx, text, keyboard, edit=edit)
    if message is not None:
        async with ctx.db() as uow:
            await uow.conversations.remember(
                ctx.me.user.id, flow, step, PROMPT, message.message_id
            )
            await uow.commit()
        if ctx.flow is not None:
            ctx.flow.data = {**ctx.flow.data, PROMPT: message.message_id}


async def close_prompt(ctx: BotContext, state: ConversationState, summary: str | None) -> None:
    """The question of `state` was answered: its buttons go, and with `summary` its text
    becomes that one line."""
    message_id = state.data.get(PROMPT)
    chat = ctx.me.user.id
    if not message_id:
        return
    try:
        if summary is not None:
            await ctx.bot.edit_message_text(summary, chat_id=chat, message_id=int(message_id))
        else:
            await ctx.bot.edit_message_reply_markup(chat_id=chat, message_id=int(message_id))
    except BadRequest as error:
        # Deleted, too old, or already without buttons: nothing left to close.
        log.debug("prompt %s not closed: %s", message_id, error.message)


async def begin(ctx: BotContext, flow: str, step: str, **data: Any) -> None:
    """Wait for the user's next text message in `flow`/`step`."""
    async with ctx.db() as uow:
        state = await uow.conversations.start(
            ctx.me.user.id, flow, step, data, ctx.runtime.clock.now()
        )
        await uow.commit()
    ctx.flow = state


async def finish(ctx: BotContext) -> bool:
    """Leave the current flow; returns whether there was one."""
    async with ctx.db() as uow:
        had = await uow.conversations.clear(ctx.me.user.id)
        await uow.commit()
    ctx.flow = None
    return had


async def route_text(update: Update, ctx: BotContext) -> None:
    state = ctx.flow
    if state is not None:
        handler = _STEPS.get((state.flow, state.step))
        if handler is not None:
            ctx.prompt_summary = None
            await handler(update, ctx, state)
            asked = state.data.get(PROMPT)
            if asked and (ctx.flow is None or ctx.flow.data.get(PROMPT) != asked):
                # Answered (the flow moved on or ended): the question's buttons go.
                await close_prompt(ctx, state, ctx.prompt_summary)
            return
        await finish(ctx)
    if _fallback:
        await _fallback[0](update, ctx)
