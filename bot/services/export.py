"""The team's deals and their event log as XLSX workbooks (a deals sheet and a history sheet)
and a CSV of the deals (UTF-8 with a BOM and `;`, so Excel in Poland, Russia and Romania opens it
as columns), written to files as the rows come from the database.

`write_export` reads a page of rows at a time through the read-only unit of work and hands it to
one worker thread that owns the files, so the event loop goes on serving everybody else while
openpyxl works. Nothing holds the whole team in memory: openpyxl's write-only workbooks stream
each sheet to a temporary file, with the text in the cells themselves (inline strings, no shared
strings table), and the CSV is written page by page.

Limits: a sheet holds at most `sheet_rows` rows (the header included) and goes on in a sheet
titled "History (2)"; a workbook that would grow past `part_bytes` is saved and the next part
begins, a complete workbook with its own headers (`crm-<day>-2-of-3.xlsx`). The size of a
part is only known once it is saved and compressed, so it is estimated while it is written:
every few thousand rows a sample of them is turned into the XML openpyxl writes and compressed
as the workbook will be, and every saved part corrects the estimate for the next. A part is
planned at 95 % of `part_bytes`, and a saved part above `max_part_bytes` (Telegram's 50 MB)
makes the whole export run again with parts small enough.

Text from people (client names, comments, custom stages, display names) is written so that no
spreadsheet runs it (OWASP "CSV injection"): in a workbook every text is a string cell, also one
starting with `=`; in the CSV a text starting with `= + - @`, a tab or a carriage return gets a
leading `'`, which Excel hides and the import takes off again."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
import zlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

from babel.numbers import get_decimal_symbol

from bot.domain import ActivityKind, ClientSource, EventKind
from bot.handlers.labels import activity_name, reason_name, source_name, stage_name
from bot.i18n import Translator
from bot.runtime import Runtime
from bot.storage.exports import DEAL_COLUMNS, EVENT_COLUMNS, ExportQueries, Person
from bot.storage.models import Client, LossReason, Stage, Team
from bot.storage.unit_of_work import UnitOfWork

Row = list[Any]
Reader = Callable[[], UnitOfWork]

PAGE_ROWS = 1_000
# Telegram's limit for a document a bot sends.
TELEGRAM_DOCUMENT_BYTES = 50 * 1000 * 1000
# What a part is planned to fill of `part_bytes`: the estimate's margin.
PART_FILL = 0.95
# Compressed bytes of what a part holds besides its sheets' rows (styles, workbook, content
# types) and of a sheet's own head and tail (its header row is counted as a row).
PART_OVERHEAD = 12_000
SHEET_OVERHEAD = 1_000
# The estimate of a row's compressed size: this many rows written out as XML and compressed,
# at a table's start and again after every SAMPLE_EVERY rows.
SAMPLE_ROWS = 300
SAMPLE_EVERY = 3_000
XLSX_CELL_CHARS = 32_767  # Excel's limit for one cell
# The characters a spreadsheet takes for the start of a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Characters XML 1.0 cannot hold (openpyxl refuses them): dropped from a workbook's cells.
_ILLEGAL = re.compile(r"[\000-\010\013\014\016-\037]")
_SHEET_TITLE_FORBIDDEN = re.compile(r"[\\*?:/\[\]]")


@dataclass(frozen=True)
class ExportFiles:
    workbooks: list[Path]  # in order; one unless the team's history needs several parts
    csv: Path
    deals: int
    events: int


class PartTooLarge(Exception):
    """A saved part came out above the size a document may have."""

    def __init__(self, size: int, planned: int) -> None:
        super().__init__(f"an export part of {size} bytes (planned for {planned})")
        self.size = size
        self.planned = planned


# --- headers and names ---------------------------------------------------------------------
def deal_headers(t: Translator) -> list[str]:
    return [
        t._("Number"),
        t._("Client"),
        t._("Phone"),
        t._("Company"),
        t._("E-mail address"),
        t._("Source"),
        t._("Stage"),
        t._("Status"),
        t._("Value"),
        t._("Currency"),
        t._("Owner"),
        t._("Next contact"),
        t._("Loss reason"),
        t._("Loss comment"),
        t._("Win-back"),
        t._("Created"),
        t._("Closed"),
        t._("Car model"),
    ]


def event_headers(t: Translator) -> list[str]:
    return [
        t._("Number"),
        t._("When"),
        t._("What"),
        t._("Who"),
        t._("Stage"),
        t._("Amount"),
        t._("Text"),
    ]


def event_names(t: Translator) -> dict[str, str]:
    return {
        EventKind.CREATED: t._("created"),
        EventKind.STAGE_CHANGED: t._("stage changed"),
        EventKind.ACTIVITY: t._("activity"),
        EventKind.NOTE: t._("note"),
        EventKind.FOLLOW_UP_SET: t._("follow-up planned"),
        EventKind.REMINDER_SENT: t._("reminder sent"),
        EventKind.WON: t._("won"),
        EventKind.LOST: t._("lost"),
        EventKind.REOPENED: t._("reopened"),
        EventKind.REASSIGNED: t._("reassigned"),
        EventKind.EDITED: t._("edited"),
        EventKind.UNDONE: t._("undone"),
        EventKind.ATTACHMENT: t._("file attached"),
    }


def person_name(person: Person) -> str:
    """As `bot.handlers.common.display_name` shows a user."""
    name = " ".join(part for part in (person.first_name, person.last_name) if part)
    if name:
        return name
    return f"@{person.username}" if person.username else str(person.user_id)


@dataclass(frozen=True)
class Names:
    """Everything a row's ids and codes read as, in the manager's language, worked out once (the
    worker thread only looks them up)."""

    tz: tzinfo
    stages: dict[int, str]
    reasons: dict[int, str]
    people: dict[int, str]
    statuses: dict[str, str]
    sources: dict[str, str]
    activities: dict[str, str]
    events: dict[str, str]

    @classmethod
    def of(
        cls,
        t: Translator,
        stages: Iterable[Stage],
        reasons: Iterable[LossReason],
        people: Iterable[Person],
    ) -> Names:
        return cls(
            tz=t.tz,
            stages={s.id or 0: stage_name(t, s) for s in stages},
            reasons={r.id or 0: reason_name(t, r) for r in reasons},
            people={p.member_id: person_name(p) for p in people},
            statuses={"open": t._("open"), "won": t._("won"), "lost": t._("lost")},
            sources={str(s): source_name(t, s) for s in ClientSource},
            activities={str(a): activity_name(t, a) for a in ActivityKind},
            events={str(kind): name for kind, name in event_names(t).items()},
        )


# --- values --------------------------------------------------------------------------------
def _plain(value: Any, tz: Any) -> Any:
    """Excel has no time zones: moments are written as local wall times."""
    if isinstance(value, datetime):
        return value.astimezone(tz).replace(tzinfo=None)
    return value


def amount(minor: int | None) -> int | float | None:
    """Minor units as the amount a spreadsheet sums: whole amounts as integers (`68000`, not
    `68000.0`); none or zero is an empty cell."""
    if not minor:
        return None
    return minor // 100 if minor % 100 == 0 else minor / 100


def deal_values(row: Sequence[Any], names: Names) -> Row:
    """A deal's cells, from a row of `ExportQueries.deals`."""
    (
        number,
        client,
        phone,
        company,
        email,
        source,
        stage_id,
        status,
        value_minor,
        currency,
        owner,
        next_contact,
        reason_id,
        comment,
        winback,
        created,
        closed,
        model,
    ) = row
    tz = names.tz
    return [
        number,
        client,
        phone,
        company,
        email,
        names.sources.get(source, source) if source else None,
        names.stages.get(stage_id),
        names.statuses.get(status, status),
        amount(value_minor),
        currency,
        names.people.get(owner),
        next_contact.astimezone(tz).replace(tzinfo=None) if next_contact else None,
        names.reasons.get(reason_id) if reason_id else None,
        comment,
        winback.astimezone(tz).replace(tzinfo=None) if winback else None,
        created.astimezone(tz).replace(tzinfo=None) if created else None,
        closed.astimezone(tz).replace(tzinfo=None) if closed else None,
        model,
    ]


def event_values(row: Sequence[Any], names: Names) -> Row:
    """An event's cells, from a row of `ExportQueries.events`."""
    _, number, at, kind, actor, stage_id, amount_minor, activity, text = row
    return [
        number,
        at.astimezone(names.tz).replace(tzinfo=None),
        names.events.get(kind, kind),
        names.people.get(actor) if actor else None,
        names.stages.get(stage_id) if stage_id else None,
        amount(amount_minor),
        names.activities.get(activity, activity) if activity else text,
    ]


def csv_text(value: str) -> str:
    """A text as a CSV cell no spreadsheet takes for a formula."""
    return "'" + value if value.startswith(FORMULA_START) else value


def csv_cell(value: Any, decimal: str = ",") -> Any:
    """A value as the CSV writes it: moments to the minute, amounts with grosze in the
    locale's decimal separator (`68000,50`), whole amounts as integers, text made inert."""
    if value is None:
        return ""
    if isinstance(value, str):
        return csv_text(value)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        return f"{value:.2f}".replace(".", decimal)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return value


def xlsx_text(value: str) -> str:
    """A text as a workbook cell can hold it: no XML-illegal control characters, at most
    Excel's 32,767 characters."""
    if _ILLEGAL.search(value):
        value = _ILLEGAL.sub("", value)
    return value[:XLSX_CELL_CHARS]


def _cells(sheet: Any, values: Row) -> Row:
    """A row for `WriteOnlyWorksheet.append`: text that a spreadsheet would read as a formula
    goes in as a string cell (openpyxl makes a formula of any text starting with `=`)."""
    out: Row = []
    for value in values:
        if isinstance(value, str):
            value = xlsx_text(value)
            if value.startswith(FORMULA_START):
                value = _text_cell(sheet, value)
        out.append(value)
    return out


def _text_cell(sheet: Any, value: str) -> Any:
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(sheet, value)
    cell.data_type = "s"  # also for `=…`, which openpyxl has just taken for a formula
    return cell


def _sheet_title(title: str, index: int) -> str:
    """`History`, then `History (2)`, …: at most Excel's 31 characters."""
    title = _SHEET_TITLE_FORBIDDEN.sub(" ", title).strip() or "Sheet"
    if index == 1:
        return title[:31]
    suffix = f" ({index})"
    return title[: 31 - len(suffix)] + suffix


def _widths(headers: list[str], widths: Callable[[str], int] = len) -> list[int]:
    return [max(12, widths(header) + 2) for header in headers]


def _start_sheet(book: Any, title: str, headers: list[str], widths: list[int]) -> Any:
    from openpyxl.utils import get_column_letter

    sheet = book.create_sheet(title)
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.append(_cells(sheet, list(headers)))
    return sheet


# --- the size of what is written -----------------------------------------------------------
@lru_cache(maxsize=64)
def _column(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def sample_xml(rows: Sequence[Row], first_row: int) -> bytes:
    """The `<sheetData>` XML openpyxl writes for these rows (numbered from `first_row`), near
    enough to measure how big and how compressible it is."""
    from openpyxl.utils.datetime import to_excel

    parts: list[str] = []
    for offset, values in enumerate(rows):
        number = first_row + offset
        parts.append(f'<row r="{number}">')
        for index, value in enumerate(values, start=1):
            if value is None:
                continue
            ref = f"{_column(index)}{number}"
            if isinstance(value, str):
                space = ' xml:space="preserve"' if value != value.strip() else ""
                parts.append(
                    f'<c r="{ref}" t="inlineStr"><is><t{space}>{_xml_escape(value)}</t></is></c>'
                )
            elif isinstance(value, datetime):
                parts.append(f'<c r="{ref}" s="1" t="n"><v>{to_excel(value)}</v></c>')
            elif isinstance(value, bool):
                parts.append(f'<c r="{ref}" t="b"><v>{int(value)}</v></c>')
            else:
                parts.append(f'<c r="{ref}" t="n"><v>{value}</v></c>')
        parts.append("</row>")
    return "".join(parts).encode("utf-8")


def compressed_size(data: bytes) -> int:
    """Bytes `data` takes in a ZIP entry as openpyxl writes it (deflate, zlib's default)."""
    packer = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    return len(packer.compress(data)) + len(packer.flush())


def row_bytes(rows: Sequence[Row], first_row: int, sample: int = SAMPLE_ROWS) -> float:
    """Estimated compressed bytes per row of a page, from a sample of its first rows."""
    if not rows:
        return 0.0
    part = rows[:sample]
    return compressed_size(sample_xml(part, first_row)) / len(part)


# --- the workbooks -------------------------------------------------------------------------
class PartedWorkbook:
    """Write-only workbooks of tables (a title, headers, rows), continued on a new sheet after
    `sheet_rows` rows and in a new part before `part_bytes`. Not thread-safe: one thread calls
    it (the export's worker)."""

    def __init__(
        self,
        directory: Path,
        stem: str,
        *,
        part_bytes: int,
        sheet_rows: int,
        max_part_bytes: int = TELEGRAM_DOCUMENT_BYTES,
    ) -> None:
        if sheet_rows < 2:
            raise ValueError("a sheet needs room for its header and a row")
        self.directory = directory
        self.stem = stem
        self.part_bytes = part_bytes
        self.sheet_rows = sheet_rows
        self.max_part_bytes = max_part_bytes
        self.saved: list[Path] = []  # parts written, under temporary names
        self.sizes: list[int] = []
        self.estimates: list[float] = []  # what each saved part was estimated at
        self._book: Any = None
        self._sheet: Any = None
        self._title = ""
        self._headers: list[str] = []
        self._widths: list[int] = []
        self._header_bytes = 0.0
        self._sheets = 0  # sheets of the current table so far (all parts)
        self._rows = 0  # rows in the current sheet, its header included
        self._part_rows = 0  # data rows in the current part
        self._estimate = 0.0  # compressed bytes of the current part so far
        self._scale = 1.0  # how the last saved part compared with its estimate
        self._per_row: float | None = None  # compressed bytes a row of the table takes
        self._unsampled = 0  # rows written since that was measured

    @property
    def _budget(self) -> float:
        return self.part_bytes * PART_FILL

    @property
    def _sheet_cost(self) -> float:
        return (SHEET_OVERHEAD + self._header_bytes) * self._scale

    def begin(self, title: str, headers: list[str], widths: list[int] | None = None) -> None:
        """A new table; its first sheet comes with its first rows (or at the end, empty)."""
        self._first_sheet()
        self._title = title
        self._headers = list(headers)
        self._widths = widths or _widths(headers)
        self._header_bytes = row_bytes([self._headers], 1)
        self._sheets = 0
        self._sheet = None
        self._per_row = None

    def write(self, rows: Sequence[Row]) -> None:
        """Rows of the current table, a page at a time."""
        if not rows:
            return
        if self._per_row is None or self._unsampled >= SAMPLE_EVERY:
            self._per_row = max(row_bytes(rows, self._rows + 1), 1.0)
            self._unsampled = 0
        self._unsampled += len(rows)
        per_row = self._per_row * self._scale
        start = 0
        while start < len(rows):
            new_sheet = self._sheet is None or self._rows >= self.sheet_rows
            spare = self._budget - self._estimate - (self._sheet_cost if new_sheet else 0)
            room = int(spare / per_row)
            if room < 1 and self._part_rows:
                self._save()  # the part is full: the rows go on in the next one
                continue
            if new_sheet:
                self._new_sheet()
            count = min(len(rows) - start, self.sheet_rows - self._rows, max(room, 1))
            sheet = self._sheet
            for values in rows[start : start + count]:
                sheet.append(_cells(sheet, values))
            self._rows += count
            self._part_rows += count
            self._estimate += count * per_row
            start += count

    def finish(self) -> list[Path]:
        """Saves the last part and names the parts `<stem>.xlsx` or `<stem>-<k>-of-<n>.xlsx`."""
        self._first_sheet()
        if self._book is not None:
            self._save()
        total = len(self.saved)
        named = []
        for index, path in enumerate(self.saved, start=1):
            name = f"{self.stem}.xlsx" if total == 1 else f"{self.stem}-{index}-of-{total}.xlsx"
            target = self.directory / name
            os.replace(path, target)
            named.append(target)
        self.saved = named
        return named

    def discard(self) -> None:
        """Drops what was written (after a failure): the parts saved and the one open."""
        book, self._book, self._sheet = self._book, None, None
        if book is not None:
            for sheet in book.worksheets:
                _drop_sheet_file(sheet)
        for path in self.saved:
            path.unlink(missing_ok=True)
        self.saved = []

    # --- inside ------------------------------------------------------------------------
    def _first_sheet(self) -> None:
        """A table without rows still gets its sheet, with the header."""
        if self._headers and not self._sheets:
            self._new_sheet()

    def _new_sheet(self) -> None:
        if self._book is None:
            from openpyxl import Workbook

            self._book = Workbook(write_only=True)
            self._part_rows = 0
            self._estimate = PART_OVERHEAD
        self._sheets += 1
        title = _sheet_title(self._title, self._sheets)
        self._sheet = _start_sheet(self._book, title, self._headers, self._widths)
        self._rows = 1
        self._estimate += self._sheet_cost

    def _save(self) -> None:
        book, self._book, self._sheet = self._book, None, None
        path = self.directory / f".{self.stem}.part{len(self.saved) + 1}.xlsx"
        book.save(path)
        size = path.stat().st_size
        self.saved.append(path)
        self.sizes.append(size)
        self.estimates.append(self._estimate)
        estimate, self._estimate, self._part_rows = self._estimate, PART_OVERHEAD, 0
        if size > self.max_part_bytes:
            raise PartTooLarge(size, self.part_bytes)
        # The next part is estimated as this one came out (compression varies with the text).
        if estimate > PART_OVERHEAD * 4:
            measured = (size - PART_OVERHEAD) / (estimate - PART_OVERHEAD)
            self._scale = min(max(self._scale * measured, 0.5), 2.0)


def _drop_sheet_file(sheet: Any) -> None:
    """The temporary file an unsaved write-only sheet streams to (openpyxl would remove it only
    at exit): the sheet is closed as a save would, and its file removed."""
    try:
        if not sheet.closed:
            sheet.close()
    except Exception:  # best effort, after another failure
        pass
    out = getattr(getattr(sheet, "_writer", None), "out", None)
    if isinstance(out, str):
        Path(out).unlink(missing_ok=True)


def workbook(
    sheets: list[tuple[str, list[str], list[Row]]], tz: Any, widths: Callable[[str], int] = len
) -> bytes:
    """A small workbook in memory (the report's resignations), one sheet per table, written
    as safely as the export: text in string cells only."""
    from openpyxl import Workbook  # imported here: it pulls in numpy and PIL (~18 MB)

    book = Workbook(write_only=True)
    for title, headers, rows in sheets:
        sheet = _start_sheet(book, _sheet_title(title, 1), headers, _widths(headers, widths))
        for row in rows:
            sheet.append(_cells(sheet, [_plain(value, tz) for value in row]))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# --- one client (an access request) --------------------------------------------------------
@dataclass(frozen=True)
class ClientData:
    """Everything the bot holds about one client, as cells in the manager's language (`names`
    read the ids) and as plain values for the JSON."""

    client: Client
    names: Names
    deals: Sequence[Sequence[Any]]
    events: Sequence[Sequence[Any]]
    reminders: Sequence[Sequence[Any]]
    statuses: dict[str, str]


async def client_data(uow: UnitOfWork, t: Translator, team: Team, client: Client) -> ClientData:
    assert team.id is not None and client.id is not None
    queries = ExportQueries(uow.session)
    names = Names.of(
        t,
        await uow.teams.stages(team.id, include_retired=True),
        await uow.teams.loss_reasons(team.id, include_retired=True),
        await queries.people(team.id),
    )
    return ClientData(
        client,
        names,
        await queries.client_deals(team.id, client.id),
        await queries.client_events(team.id, client.id),
        await queries.client_reminders(team.id, client.id),
        {
            "pending": t._("planned"),
            "sending": t._("planned"),
            "sent": t._("sent"),
            "done": t._("done"),
            "cancelled": t._("cancelled"),
            "failed": t._("not delivered"),
        },
    )


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def client_files(t: Translator, data: ClientData) -> tuple[bytes, bytes]:
    """(workbook, JSON) of one client: a sheet each for the client, the deals, the history and
    the reminders, written as safely as the export (text in string cells only); the JSON holds
    the same rows with English keys, UTC times and amounts in major units."""
    import json

    client, names = data.client, data.names
    client_rows: list[Row] = [
        [t._("Client"), client.name],
        [t._("Phone"), client.phone],
        [t._("E-mail address"), client.email],
        [t._("Company"), client.company],
        [t._("Source"), names.sources.get(client.source or "", client.source)],
        [t._("Created"), client.created_at],
        [t._("Erased"), client.erased_at],
    ]
    deal_rows = [
        deal_values(row[: len(DEAL_COLUMNS)], names) + list(row[len(DEAL_COLUMNS) :])
        for row in data.deals
    ]
    event_rows = [
        [
            *event_values(row[: len(EVENT_COLUMNS)], names),
            json.dumps(row[len(EVENT_COLUMNS)], ensure_ascii=False) if row[-1] else None,
        ]
        for row in data.events
    ]
    reminder_rows = [
        [number, kind, due, data.statuses.get(status, status), note]
        for number, kind, due, status, note in data.reminders
    ]
    book = workbook(
        [
            (t._("Client"), [t._("Field"), t._("Value")], client_rows),
            (
                t._("Deals"),
                [*deal_headers(t), t._("Next step"), t._("Last note")],
                deal_rows,
            ),
            (t._("History"), [*event_headers(t), t._("Details")], event_rows),
            (
                t._("Reminders"),
                [t._("Number"), t._("Kind"), t._("When"), t._("Status"), t._("Note")],
                reminder_rows,
            ),
        ],
        names.tz,
    )
    plain = {
        "client": {
            "name": client.name,
            "phone": client.phone,
            "email": client.email,
            "company": client.company,
            "source": client.source,
            "created_at": client.created_at.isoformat(),
            "erased_at": client.erased_at.isoformat() if client.erased_at else None,
        },
        "deals": [
            {
                **dict(
                    zip(
                        (*DEAL_COLUMNS, "next_step", "last_note"),
                        map(_json_value, row),
                        strict=True,
                    )
                ),
                "value": amount(row[DEAL_COLUMNS.index("value_minor")]),
                "owner": names.people.get(row[DEAL_COLUMNS.index("owner_member_id")]),
            }
            for row in data.deals
        ],
        "events": [
            {
                **dict(zip((*EVENT_COLUMNS, "data"), map(_json_value, row), strict=True)),
                "actor": names.people.get(row[EVENT_COLUMNS.index("actor_member_id")]),
            }
            for row in data.events
        ],
        "reminders": [
            dict(
                zip(
                    ("number", "kind", "due_at", "status", "note"),
                    map(_json_value, row),
                    strict=True,
                )
            )
            for row in data.reminders
        ],
    }
    document = json.dumps(plain, ensure_ascii=False, indent=2).encode()
    return book, document


# --- the CSV -------------------------------------------------------------------------------
class CsvFile:
    """The deals as CSV, a page at a time (UTF-8 with a BOM, `;`, CRLF)."""

    def __init__(self, path: Path, decimal: str) -> None:
        self.path = path
        self.decimal = decimal
        self._file: IO[str] | None = None
        self._writer: Any = None

    def open(self, headers: list[str]) -> None:
        self._file = self.path.open("w", encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._file, delimiter=";", lineterminator="\r\n")
        self._writer.writerow([csv_cell(header) for header in headers])

    def write(self, rows: Sequence[Row]) -> None:
        decimal = self.decimal
        self._writer.writerows([[csv_cell(v, decimal) for v in values] for values in rows])

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


# --- the export ----------------------------------------------------------------------------
async def write_export(
    source: Runtime | Reader,
    team: Team,
    t: Translator,
    directory: Path,
    *,
    part_bytes: int,
    sheet_rows: int,
    today: date,
    max_part_bytes: int = TELEGRAM_DOCUMENT_BYTES,
    page_rows: int = PAGE_ROWS,
) -> ExportFiles:
    """The team's deals and history into `directory`: workbooks `crm-<today>.xlsx` (or
    `crm-<today>-<k>-of-<n>.xlsx`) and `crm-deals-<today>.csv`, headers and names in `t`'s
    language, moments in `t`'s time zone.

    `source` is the runtime or its `reader` (a factory of read-only units of work). Pages of
    `page_rows` rows; the openpyxl and CSV work runs in a thread of its own. A part saved
    above `max_part_bytes` (the compression was worse than estimated) starts the export
    again with smaller parts, once."""
    reader: Reader = source.reader if isinstance(source, Runtime) else source
    assert team.id is not None
    planned = part_bytes
    for attempt in range(2):
        try:
            return await _write(
                reader,
                team.id,
                t,
                directory,
                part_bytes=planned,
                sheet_rows=sheet_rows,
                today=today,
                max_part_bytes=max_part_bytes,
                page_rows=page_rows,
            )
        except PartTooLarge as error:
            if attempt:
                raise
            planned = int(planned * max_part_bytes / error.size * 0.9)
    raise AssertionError("unreachable")


async def _write(
    reader: Reader,
    team_id: int,
    t: Translator,
    directory: Path,
    *,
    part_bytes: int,
    sheet_rows: int,
    today: date,
    max_part_bytes: int,
    page_rows: int,
) -> ExportFiles:
    async with reader() as uow:
        queries = ExportQueries(uow.session)
        bounds = await queries.bounds(team_id)
        names = Names.of(
            t,
            await uow.teams.stages(team_id, include_retired=True),
            await uow.teams.loss_reasons(team_id, include_retired=True),
            await queries.people(team_id),
        )
    day = today.isoformat()
    book = PartedWorkbook(
        directory,
        f"crm-{day}",
        part_bytes=part_bytes,
        sheet_rows=sheet_rows,
        max_part_bytes=max_part_bytes,
    )
    table = CsvFile(directory / f"crm-deals-{day}.csv", get_decimal_symbol(t.locale))
    loop = asyncio.get_running_loop()
    # One thread owns the files: each call waits for the one before, a failure's clean-up too.
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="export")

    async def run(function: Callable[..., Any], *args: Any) -> Any:
        return await loop.run_in_executor(worker, function, *args)

    def write_deals(rows: Sequence[tuple[Any, ...]]) -> None:
        values = [deal_values(row, names) for row in rows]
        book.write(values)
        table.write(values)

    def write_events(rows: Sequence[tuple[Any, ...]]) -> None:
        book.write([event_values(row, names) for row in rows])

    async def deals_after(after: int) -> Sequence[tuple[Any, ...]]:
        async with reader() as uow:
            return await ExportQueries(uow.session).deals(
                team_id, after, bounds.last_number, page_rows
            )

    async def events_after(after: int) -> Sequence[tuple[Any, ...]]:
        async with reader() as uow:
            return await ExportQueries(uow.session).events(
                team_id, after, bounds.last_event_id, page_rows
            )

    try:
        headers = deal_headers(t)
        await run(table.open, headers)
        await run(book.begin, t._("Deals"), headers)
        deals = await _pages(deals_after, bounds.last_number, page_rows, write_deals, run)
        await run(table.close)
        await run(book.begin, t._("History"), event_headers(t))
        events = await _pages(events_after, bounds.last_event_id, page_rows, write_events, run)
        workbooks = await run(book.finish)
    except BaseException:
        await asyncio.shield(run(_clean_up, book, table))
        raise
    finally:
        worker.shutdown(wait=False)
    return ExportFiles(workbooks, table.path, deals, events)


def _clean_up(book: PartedWorkbook, table: CsvFile) -> None:
    book.discard()
    table.close()
    table.path.unlink(missing_ok=True)


async def _pages(
    fetch: Callable[[int], Awaitable[Sequence[tuple[Any, ...]]]],
    last: int,
    page_rows: int,
    write: Callable[[Sequence[tuple[Any, ...]]], None],
    run: Callable[..., Awaitable[Any]],
) -> int:
    """Every page up to the key `last` (rows keyed by their first column), each written in the
    worker while the next one is read."""
    total = 0
    if last <= 0:
        return total
    pending: asyncio.Future[Sequence[tuple[Any, ...]]] | None = asyncio.ensure_future(fetch(0))
    try:
        while pending is not None:
            rows = await pending
            pending = None
            if not rows:
                break
            key = int(rows[-1][0])
            if len(rows) == page_rows and key < last:
                pending = asyncio.ensure_future(fetch(key))
            await run(write, rows)
            total += len(rows)
    finally:
        if pending is not None:
            pending.cancel()
            await asyncio.gather(pending, return_exceptions=True)
    return total
