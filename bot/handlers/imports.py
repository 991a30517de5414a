"""Import (managers): send a CSV or XLSX of existing clients. The bot previews what it
understood, lists bad rows with their row numbers and reasons, and imports the good rows only
after confirmation, in one transaction. Stages and owners are matched by name; unknown ones fall
back to the first stage and to the manager."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, MessageHandler, filters

from bot.context import BotContext
from bot.handlers.common import answer, display_name, h, manager_only, run_rule
from bot.handlers.deal_card import me
from bot.handlers.flows import begin, finish
from bot.handlers.labels import stage_name
from bot.i18n import Translator
from bot.keyboards import button, data, markup
from bot.services import deals
from bot.services.deals import NewDeal
from bot.services.errors import Problem, RuleError
from bot.services.importing import ImportResult, UnreadableFile, parse_clients, read_table
from bot.services.quick_entry import format_phone

IMPORT = "im"
MAX_BYTES = 5 * 1024 * 1024
PREVIEW_ROWS = 10
BAD_SHOWN = 20


def _problem_label(t: Translator, problem: str) -> str:
    labels = {
        "no_name": t._("no name"),
        "bad_phone": t._("not a phone number"),
        "bad_value": t._("not an amount"),
        "bad_date": t._("not a date"),
        "name_too_long": t._("name too long"),
    }
    return labels.get(problem, problem)


async def _read(ctx: BotContext, file_id: str, filename: str) -> ImportResult:
    team = ctx.me.team
    assert team is not None
    telegram_file = await ctx.bot.get_file(file_id)
    content = bytes(await telegram_file.download_as_bytearray())
    table = read_table(content, filename)
    return parse_clients(
        table, country=team.country, timezone=team.timezone, now=ctx.runtime.clock.now()
    )


def _unreadable_text(t: Translator, error: UnreadableFile) -> str:
    texts = {
        "unknown_format": t._(
            "I can read .csv and .xlsx files. Save the table in one of them and send it again."
        ),
        "empty": t._("The file is empty."),
        "no_name_column": t._(
            "I couldn't find a column with the clients' names. "
            "Name it «Name» (or «Klient», «Клиент», «Nume»)."
        ),
        "too_many_rows": t._("That's too many rows: up to 5,000 clients in one file."),
    }
    return texts.get(error.reason, t._("I couldn't read that file."))


@manager_only
async def received_file(update: Update, ctx: BotContext) -> None:
    message = update.effective_message
    assert message is not None and message.document is not None
    document = message.document
    t = ctx.t
    filename = document.file_name or "clients"
    if (document.file_size or 0) > MAX_BYTES:
        await answer(update, ctx, t._("That file is too big: 5 MB at most."))
        return
    try:
        result = await _read(ctx, document.file_id, filename)
    except UnreadableFile as error:
        await answer(update, ctx, _unreadable_text(t, error))
        return
    await begin(ctx, IMPORT, "confirm", file_id=document.file_id, filename=filename)
    lines = [
        t.ngettext("📥 I read {n} client:", "📥 I read {n} clients:", len(result.rows)).format(
            n=t.number(len(result.rows))
        )
    ]
    for row in result.rows[:PREVIEW_ROWS]:
        parts = [h(row.name)]
        if row.phone:
            parts.append(format_phone(row.phone))
        if row.value_minor:
            team = ctx.me.team
            assert team is not None
            parts.append(t.money(row.value_minor, team.currency))
        if row.stage:
            parts.append(h(row.stage))
        lines.append(f"{row.row_number}. " + " · ".join(parts))
    if len(result.rows) > PREVIEW_ROWS:
        more = len(result.rows) - PREVIEW_ROWS
        lines.append(t.ngettext("…and {n} more", "…and {n} more", more).format(n=t.number(more)))
    if result.bad:
        skipped = len({bad.row_number for bad in result.bad})  # a row may have several problems
        lines += [
            "",
            t.ngettext(
                "⚠️ {n} row will be skipped:", "⚠️ {n} rows will be skipped:", skipped
            ).format(n=t.number(skipped)),
        ]
        for bad in result.bad[:BAD_SHOWN]:
            lines.append(
                t._("row {row}: {problem} «{value}»").format(
                    row=bad.row_number,
                    problem=_problem_label(t, bad.problem),
                    value=h(bad.value[:60]),
                )
            )
    keyboard = None
    if result.rows:
        keyboard = markup(
            [
                button(t.pgettext("button", "✅ Import"), data(IMPORT, "ok")),
                button(t.pgettext("button", "✖️ Cancel"), data(IMPORT, "no")),
            ]
        )
    await answer(update, ctx, "\n".join(lines), keyboard)


@manager_only
async def confirm(update: Update, ctx: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    t = ctx.t

    async def run() -> None:
        state = ctx.flow
        if (query.data or "") == f"{IMPORT}:no":
            await finish(ctx)
            await answer(update, ctx, t._("OK, nothing was imported."), edit=True)
            return
        if state is None or state.flow != IMPORT:
            raise RuleError(Problem.STALE)
        result = await _read(ctx, str(state.data["file_id"]), str(state.data["filename"]))
        imported, duplicates = await _import(ctx, result)
        await finish(ctx)
        text = t.ngettext("✅ {n} client imported.", "✅ {n} clients imported.", imported).format(
            n=t.number(imported)
        )
        if duplicates:
            text += "\n" + t.ngettext(
                "{n} row skipped: the phone is already a client of the team.",
                "{n} rows skipped: the phone is already a client of the team.",
                duplicates,
            ).format(n=t.number(duplicates))
        await answer(update, ctx, text, edit=True)

    await run_rule(update, ctx, run)


async def _import(ctx: BotContext, result: ImportResult) -> tuple[int, int]:
    """All good rows in one transaction: either every one of them is imported, or none."""
    team = ctx.me.team
    assert team is not None and team.id is not None
    manager = me(ctx)
    now = ctx.runtime.clock.now()
    imported = duplicates = 0
    async with ctx.db() as uow:
        stages = await uow.teams.stages(team.id)
        t = ctx.t
        stage_by_name: dict[str, Any] = {}
        for stage in stages:
            for name in {stage_name(t, stage), stage.name or "", stage.key or ""}:
                if name:
                    stage_by_name[name.casefold()] = stage
        people = await uow.teams.members(team.id, active_only=True)
        owner_by_name = {}
        for person in people:
            owner_by_name[display_name(person.user).casefold()] = person.member
            if person.user.username:
                owner_by_name[person.user.username.casefold()] = person.member
        seen_phones: set[str] = set()
        for row in result.rows:
            if row.phone and (
                row.phone in seen_phones or await uow.deals.clients_with_phone(team.id, row.phone)
            ):
                duplicates += 1
                continue
            if row.phone:
                seen_phones.add(row.phone)
            owner = owner_by_name.get((row.owner or "").casefold(), manager)
            view = await deals.create_deal(
                uow,
                owner,
                team,
                NewDeal(name=row.name, phone=row.phone, value_minor=row.value_minor),
                now,
            )
            matched = stage_by_name.get((row.stage or "").casefold())
            if matched is not None and matched.id != view.deal.stage_id:
                await deals.move_stage(uow, owner, view.deal.id or 0, matched.id or 0, now)
            if row.next_contact is not None:
                if row.next_contact > now:
                    await deals.plan_next_contact(
                        uow, owner, view.deal.id or 0, row.next_contact, now
                    )
                else:
                    view.deal.next_contact_at = row.next_contact  # already overdue: shown as such
                    await uow.deals.touch(view.deal, now)
            imported += 1
        await uow.commit()
    return imported, duplicates


def register(app: Application) -> None:  # type: ignore[type-arg]
    spreadsheets = (
        filters.Document.FileExtension("csv")
        | filters.Document.FileExtension("xlsx")
        | filters.Document.FileExtension("xlsm")
        | filters.Document.FileExtension("tsv")
    )
    app.add_handler(MessageHandler(spreadsheets, received_file))
    app.add_handler(CallbackQueryHandler(confirm, pattern=rf"^{IMPORT}:(ok|no)$"))
