"""Importing clients as background jobs: the preview (download, parse in a limited child
process, show what was understood and what will be skipped) and, after the manager confirms, the
write (the same file parsed again under the same limits, then every good row in one short
transaction that also ends the job, so a retried job never imports twice)."""

from __future__ import annotations

import hashlib

from telegram.error import BadRequest

from bot.domain import AuditAction, JobKind
from bot.handlers.common import split_message
from bot.jobs import JobContext
from bot.keyboards import button, data, markup
from bot.screens.imports import IMPORT, preview_text, refusal_text, result_text
from bot.services import audit
from bot.services.importing import ImportLimits, ImportResult, UnreadableFile, parse_in_child
from bot.storage.imports import plan_import, write_import


async def _download(ctx: JobContext) -> bytes:
    telegram_file = await ctx.bot.get_file(str(ctx.job.params["file_id"]))
    return bytes(await telegram_file.download_as_bytearray())


async def _parse(ctx: JobContext, content: bytes) -> ImportResult:
    return await parse_in_child(
        content,
        str(ctx.job.params["filename"]),
        limits=ImportLimits.from_settings(ctx.runtime.settings),
        country=ctx.team.country,
        timezone=ctx.team.timezone,
        now=ctx.runtime.clock.now(),
    )


def _digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


async def preview(ctx: JobContext) -> None:
    t = ctx.t
    content = await _download(ctx)
    try:
        result = await _parse(ctx, content)
    except UnreadableFile as error:
        await ctx.send(refusal_text(t, error, ImportLimits.from_settings(ctx.runtime.settings)))
        return
    async with ctx.runtime.uow() as uow:
        job = await uow.jobs.get(ctx.job.id or 0)
        assert job is not None
        job.params = {**job.params, "sha256": _digest(content), "rows": len(result.rows)}
        uow.session.add(job)
        await uow.commit()
    parts = split_message(preview_text(t, result, ctx.team.currency))
    keyboard = None
    if result.rows:
        keyboard = markup(
            [
                button(t.pgettext("button", "✅ Import"), data(IMPORT, "ok", ctx.job.id)),
                button(t.pgettext("button", "✖️ Cancel"), data(IMPORT, "no", ctx.job.id)),
            ]
        )
    for index, part in enumerate(parts):
        await ctx.send(part, reply_markup=keyboard if index == len(parts) - 1 else None)


async def write(ctx: JobContext) -> None:
    t = ctx.t
    params = ctx.job.params
    content = await _download(ctx)
    limits = ImportLimits.from_settings(ctx.runtime.settings)
    if _digest(content) != params.get("sha256"):
        await _answer(ctx, t._("This file has changed since the preview. Send it again."))
        return
    try:
        result = await _parse(ctx, content)
    except UnreadableFile as error:
        await _answer(ctx, refusal_text(t, error, limits))
        return
    async with ctx.runtime.reader() as uow:
        plan = await plan_import(uow, ctx.team, ctx.member, result, t)
    now = ctx.runtime.clock.now()
    async with ctx.runtime.uow() as uow:
        outcome = await write_import(uow.session, ctx.team, plan, now)
        await audit.record(
            uow,
            ctx.team.id or 0,
            ctx.member,
            AuditAction.IMPORT,
            count=outcome.imported,
            duplicates=outcome.duplicates,
        )
        if not await ctx.finish_in(uow):
            return  # another worker took this job over meanwhile: it writes, not us
        await uow.commit()
    await _answer(ctx, result_text(t, outcome.imported, outcome.duplicates))


async def _answer(ctx: JobContext, text: str) -> None:
    """The result replaces the preview (its buttons go), or comes as a new message."""
    message_id = ctx.job.params.get("message_id")
    if message_id:
        try:
            await ctx.bot.edit_message_text(text, chat_id=ctx.chat_id, message_id=int(message_id))
            return
        except BadRequest:
            pass
    await ctx.send(text)


RUNNERS = {JobKind.IMPORT_PREVIEW: preview, JobKind.IMPORT_WRITE: write}
