"""Import (managers): send a CSV or XLSX of existing clients. Reading it is heavy work, done in
the background (`bot.jobs.imports`): the bot answers at once, then sends the preview — what it
understood, and the bad rows with their row numbers and reasons — and imports the good rows
after the manager confirms. Stages and owners are matched by name; unknown ones fall back to the
first stage and to the manager."""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from bot.context import BotContext
from bot.domain import JobKind, JobStatus
from bot.handlers.common import answer, manager_only, once_per_tap, run_rule
from bot.handlers.deal_card import int_arg, me
from bot.handlers.jobs import queue_job
from bot.keyboards import ID
from bot.screens.imports import IMPORT, refusal_text
from bot.services.errors import Problem, RuleError
from bot.services.importing import ImportLimits, UnreadableFile
from bot.storage.unit_of_work import UnitOfWork


@manager_only
async def received_file(update: Update, ctx: BotContext) -> None:
    message = update.effective_message
    assert message is not None and message.document is not None
    document = message.document
    t = ctx.t
    limits = ImportLimits.from_settings(ctx.runtime.settings)
    if (document.file_size or 0) > limits.max_file_bytes:
        await answer(update, ctx, refusal_text(t, UnreadableFile("too_big"), limits))
        return

    async def run() -> None:
        await queue_job(
            update,
            ctx,
            JobKind.IMPORT_PREVIEW,
            t._("📥 Reading the file… I'll send the preview here in a moment."),
            file_id=document.file_id,
            filename=document.file_name or "clients",
        )

    await run_rule(update, ctx, run)


@manager_only
@once_per_tap
async def confirm(update: Update, ctx: BotContext) -> None:
    """`im:ok:<preview job>` imports what that preview showed; `im:no:<job>` drops it."""
    query = update.callback_query
    assert query is not None
    t = ctx.t

    async def run() -> None:
        preview_id = int_arg(update)
        async with ctx.runtime.uow() as uow:
            preview = await uow.jobs.get(preview_id)
        if (
            preview is None
            or preview.kind != JobKind.IMPORT_PREVIEW
            # A tap right after the preview arrived may beat the preview job's own finish: its
            # result (the file's digest) is saved before the preview is sent, and the import
            # job waits for it (one job per team at a time).
            or preview.status not in (JobStatus.DONE, JobStatus.RUNNING)
            or preview.requester_member_id != me(ctx).id
            or "sha256" not in preview.params
            or preview.params.get("confirmed")
        ):
            raise RuleError(Problem.STALE)
        if (query.data or "").startswith(f"{IMPORT}:no:"):
            await answer(update, ctx, t._("OK, nothing was imported."), edit=True)
            return
        tapped = query.message if isinstance(query.message, Message) else None

        async def confirmed(uow: UnitOfWork) -> None:
            # One import per preview, however often (or wherever) "Import" is tapped.
            assert preview is not None
            preview.params = {**preview.params, "confirmed": True}
            uow.session.add(preview)

        await queue_job(
            update,
            ctx,
            JobKind.IMPORT_WRITE,
            t._("⏳ Importing… I'll tell you here when it is done."),
            edit=True,
            also=confirmed,
            preview=preview_id,
            message_id=tapped.message_id if tapped else None,
            **{key: preview.params[key] for key in ("file_id", "filename", "sha256")},
        )

    await run_rule(update, ctx, run)


def register(app: Application) -> None:  # type: ignore[type-arg]
    spreadsheets = (
        filters.Document.FileExtension("csv")
        | filters.Document.FileExtension("xlsx")
        | filters.Document.FileExtension("xlsm")
        | filters.Document.FileExtension("tsv")
    )
    app.add_handler(MessageHandler(spreadsheets, received_file))
    app.add_handler(CallbackQueryHandler(confirm, pattern=rf"^{IMPORT}:(ok|no):{ID}$"))
