"""Files as background jobs: the team's export (`/export`) and the resignations of a report
period (`/report` → 💸 → 📎). Written to a temporary directory off the event loop, then sent."""

from __future__ import annotations

import tempfile
from pathlib import Path

from telegram import InputFile

from bot.domain import JobKind
from bot.jobs import JobContext
from bot.screens.resignations import resignations_file
from bot.services import deals, periods
from bot.services.export import write_export


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


async def losses_file(ctx: JobContext) -> None:
    t = ctx.t
    period = periods.from_code(
        str(ctx.job.params.get("period", "")), t.local(ctx.runtime.clock.now()).date()
    )
    if period is None:
        return
    owner = None if deals.is_manager(ctx.member) else ctx.member.id
    book, name, caption = await resignations_file(ctx.runtime, t, ctx.team, owner, period)
    await ctx.bot.send_document(ctx.chat_id, InputFile(book, filename=name), caption=caption)


RUNNERS = {JobKind.EXPORT: export, JobKind.LOSSES_FILE: losses_file}
