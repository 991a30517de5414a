"""Asking for heavy work from a handler: the job is queued, the person is told at once that
the result will come here, and the job worker is woken (see `bot.jobs`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update

from bot.context import BotContext
from bot.domain import JobKind
from bot.handlers.common import answer
from bot.handlers.deal_card import me
from bot.services import jobs
from bot.storage.unit_of_work import UnitOfWork


async def queue_job(
    update: Update,
    ctx: BotContext,
    kind: JobKind,
    accepted: str,
    *,
    edit: bool = False,
    also: Callable[[UnitOfWork], Awaitable[None]] | None = None,
    **params: Any,
) -> None:
    """Queue `kind` for the asking member's team and answer `accepted`. The same kind asked
    for again while one is under way, or one past the hourly limit, is a translated refusal instead
    (RuleError: JOB_BUSY, JOB_LIMIT). `also` writes in the same transaction as the queueing."""
    chat = update.effective_chat
    assert chat is not None
    runtime = ctx.runtime
    async with ctx.db() as uow:
        await jobs.request(
            uow,
            kind,
            me(ctx),
            chat_id=chat.id,
            now=runtime.clock.now(),
            per_hour=runtime.settings.jobs_per_team_per_hour,
            params=params,
        )
        if also is not None:
            await also(uow)
        await uow.commit()
    if runtime.jobs is not None:
        runtime.jobs.kick()
    await answer(update, ctx, accepted, edit=edit)
