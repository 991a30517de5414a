"""Files as background jobs: the team's export (`/export`) and the resignations of a report
period (`/report` → 💸 → 📎). Written to a temporary directory off the event loop, then sent."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from telegram import InputFile

from bot.domain import AuditAction, JobKind
from bot.jobs import JobContext
from bot.screens.resignations import resignations_file
from bot.services import audit, deals, periods
from bot.services.export import client_data, client_files, write_export


async def _send_file(ctx: JobContext, path: Path, caption: str | None = None) -> None:
    with path.open("rb") as handle:  # streamed, not read into memory (a part is up to 45 MB)
        await ctx.bot.send_document(
            ctx.chat_id,
            InputFile(handle, filename=path.name, read_file_handle=False),
            caption=caption,
        )


async def export(ctx: JobContext) -> None:
    t = ctx.t
    settings = ctx.runtime.settings
    with tempfile.TemporaryDirectory(prefix="crm-export-") as directory:
        files = await write_export(
            ctx.runtime,
            ctx.team,
            t,
            Path(directory),
            part_bytes=settings.export_part_bytes,
            sheet_rows=settings.export_sheet_rows,
            today=t.local(ctx.runtime.clock.now()).date(),
        )
        caption = t._("📦 Deals and their history")
        total = len(files.workbooks)
        for index, path in enumerate(files.workbooks, start=1):
            await _send_file(ctx, path, caption if total == 1 else f"{caption} ({index}/{total})")
        await _send_file(ctx, files.csv)
    await _audit(ctx, AuditAction.EXPORT, files.deals, what="deals", events=files.events)


async def _audit(ctx: JobContext, action: AuditAction, count: int, **detail: Any) -> None:
    """Who took which file with how many rows: appended once the files are sent."""
    async with ctx.runtime.uow() as uow:
        await audit.record(uow, ctx.team.id or 0, ctx.member, action, count=count, **detail)
        await uow.commit()


async def client_export(ctx: JobContext) -> None:
    """Everything the bot holds about one client (an access request, GDPR Art. 15): a
    workbook and the same data as JSON, to the manager who asked."""
    t = ctx.t
    async with ctx.runtime.reader() as uow:
        view = await deals.load(uow, ctx.member, int(ctx.job.params.get("deal", 0)))
        data = await client_data(uow, t, ctx.team, view.client)
    today = t.local(ctx.runtime.clock.now()).date()
    book, document = await asyncio.to_thread(client_files, t, data)
    stem = f"client-{view.deal.number}-{today:%Y%m%d}"
    caption = t._("📇 Everything the bot holds about the client of #{number}").format(
        number=view.deal.number
    )
    await ctx.bot.send_document(
        ctx.chat_id, InputFile(book, filename=f"{stem}.xlsx"), caption=caption
    )
    await ctx.bot.send_document(ctx.chat_id, InputFile(document, filename=f"{stem}.json"))
    await _audit(ctx, AuditAction.CLIENT_EXPORT, len(data.deals), deal=view.deal.number)


async def losses_file(ctx: JobContext) -> None:
    t = ctx.t
    period = periods.from_code(
        str(ctx.job.params.get("period", "")), t.local(ctx.runtime.clock.now()).date()
    )
    if period is None:
        return
    owner = None if deals.is_manager(ctx.member) else ctx.member.id
    book, name, caption, rows = await resignations_file(ctx.runtime, t, ctx.team, owner, period)
    await ctx.bot.send_document(ctx.chat_id, InputFile(book, filename=name), caption=caption)
    await _audit(ctx, AuditAction.EXPORT, rows, what="resignations", period=period.code)


RUNNERS = {
    JobKind.EXPORT: export,
    JobKind.LOSSES_FILE: losses_file,
    JobKind.CLIENT_EXPORT: client_export,
}
