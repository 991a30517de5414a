"""Text steps of multi-step flows, with their state in the database.

A feature module registers the text step it waits for with `@text_step(flow, step)`; the
router sends a plain text message to the step the user is in. The flow name is the callback
prefix of the screen that started it (see `bot.keyboards`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

from telegram import Update

from bot.context import BotContext
from bot.storage.models import ConversationState

StepHandler: TypeAlias = Callable[[Update, BotContext, ConversationState], Awaitable[None]]
FallbackHandler: TypeAlias = Callable[[Update, BotContext], Awaitable[None]]

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


async def begin(ctx: BotContext, flow: str, step: str, **data: Any) -> None:
    """Wait for the user's next text message in `flow`/`step`."""
    runtime = ctx.runtime
    async with runtime.uow() as uow:
        ctx.flow = await uow.conversations.start(
            ctx.me.user.id, flow, step, data, runtime.clock.now()
        )
        await uow.commit()


async def finish(ctx: BotContext) -> bool:
    """Leave the current flow; returns whether there was one."""
    async with ctx.runtime.uow() as uow:
        had = await uow.conversations.clear(ctx.me.user.id)
        await uow.commit()
    ctx.flow = None
    return had


async def route_text(update: Update, ctx: BotContext) -> None:
    state = ctx.flow
    if state is not None:
        handler = _STEPS.get((state.flow, state.step))
        if handler is not None:
            await handler(update, ctx, state)
            return
        await finish(ctx)
    if _fallback:
        await _fallback[0](update, ctx)
