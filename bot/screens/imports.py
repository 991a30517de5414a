"""The import's messages: the preview of a file, why a file is refused (with the limits), and
the result."""

from __future__ import annotations

from bot.handlers.common import h
from bot.handlers.deal_views import shorten
from bot.i18n import Translator
from bot.services.importing import ImportLimits, ImportResult, UnreadableFile
from bot.services.quick_entry import format_phone

IMPORT = "im"
PREVIEW_ROWS = 10
BAD_SHOWN = 20
CELL_SHOWN = 60  # characters of a cell shown in the preview


def _problem_label(t: Translator, problem: str) -> str:
    labels = {
        "no_name": t._("no name"),
        "bad_phone": t._("not a phone number"),
        "bad_value": t._("not an amount"),
        "bad_date": t._("not a date"),
        "name_too_long": t._("name too long"),
    }
    return labels.get(problem, problem)


def preview_text(t: Translator, result: ImportResult, currency: str) -> str:
    lines = [
        t.ngettext("📥 I read {n} client:", "📥 I read {n} clients:", len(result.rows)).format(
            n=t.number(len(result.rows))
        )
    ]
    for row in result.rows[:PREVIEW_ROWS]:
        parts = [h(shorten(row.name, CELL_SHOWN))]
        if row.phone:
            parts.append(format_phone(row.phone))
        if row.value_minor:
            parts.append(t.money(row.value_minor, currency))
        if row.stage:
            parts.append(h(shorten(row.stage, CELL_SHOWN)))
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
                    value=h(shorten(bad.value, CELL_SHOWN)),
                )
            )
        if len(result.bad) > BAD_SHOWN:
            more = len(result.bad) - BAD_SHOWN
            lines.append(
                t.ngettext("…and {n} more", "…and {n} more", more).format(n=t.number(more))
            )
    return "\n".join(lines)


def limits_text(t: Translator, limits: ImportLimits) -> str:
    return t._(
        "Limits: a file of up to {size} MB ({unpacked} MB unpacked), {rows} rows, "
        "{columns} columns, {chars} characters in a cell."
    ).format(
        size=t.number(round(limits.max_file_bytes / 2**20, 1)),
        unpacked=t.number(round(limits.max_uncompressed_bytes / 2**20, 1)),
        rows=t.number(limits.max_rows),
        columns=t.number(limits.max_columns),
        chars=t.number(limits.max_cell_chars),
    )


def refusal_text(t: Translator, error: UnreadableFile, limits: ImportLimits) -> str:
    """Why the file cannot be imported, and (for a file over a limit) what the limits are."""
    texts = {
        "unknown_format": t._(
            "I can read .csv and .xlsx files. Save the table in one of them and send it again."
        ),
        "empty": t._("The file is empty."),
        "no_name_column": t._(
            "I couldn't find a column with the clients' names. "
            "Name it «Name» (or «Klient», «Клиент», «Nume»)."
        ),
        "too_big": t._("That file is too big."),
        "too_big_unpacked": t._("That file unpacks to too much data."),
        "packed_too_tightly": t._(
            "That file is packed suspiciously tightly (it would unpack to far more than it "
            "weighs), so I won't open it."
        ),
        "shared_strings_too_big": t._("That file holds too much text."),
        "too_many_rows": t._("That file has too many rows."),
        "too_many_columns": t._("That file has too many columns."),
        "cell_too_long": t._("A cell of that file is too long."),
        "too_much_work": t._("That file takes too long to read, so I stopped."),
        "too_much_memory": t._("That file needs too much memory to read, so I stopped."),
    }
    text = texts.get(error.reason, t._("I couldn't read that file."))
    if error.reason in ("unknown_format", "empty", "no_name_column"):
        return text
    return f"{text}\n{limits_text(t, limits)}"


def result_text(t: Translator, imported: int, duplicates: int) -> str:
    text = t.ngettext("✅ {n} client imported.", "✅ {n} clients imported.", imported).format(
        n=t.number(imported)
    )
    if duplicates:
        text += "\n" + t.ngettext(
            "{n} row skipped: the phone is already a client of the team.",
            "{n} rows skipped: the phone is already a client of the team.",
            duplicates,
        ).format(n=t.number(duplicates))
    return text
