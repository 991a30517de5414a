"""Existing clients from a spreadsheet: a CSV or XLSX as Excel saves it -> validated rows.

Pure functions, no I/O beyond the bytes handed in, plus `parse_in_child`, which runs the same
functions in a fresh, resource-limited child process (`bot.workers.parse_import`): a hostile
file then costs that process its CPU and memory limits, never the bot's event loop.

`read_table(content, filename, limits)` turns the file into rows of cells, one list per row as
Excel numbers them (row 1 first; blank lines stay as empty lists so row numbers match what the
sender sees in Excel):

* `.csv` / `.txt` / `.tsv`: the encoding is UTF-16 if the file starts with its BOM, else UTF-8
  if the bytes decode strictly as UTF-8 (BOM or not), else cp1250 (Polish, Romanian) or cp1251
  (Russian), whichever gives plausible words (see `_decode`). The separator is `;`, `,` or tab:
  the one that splits the header into the most columns with the following rows agreeing (quotes
  respected); an Excel `sep=;` first line names it and is dropped, as Excel does. Cells are text;
  an Excel "keep as text" cell (`="0722123456"`) is unwrapped.
* `.xlsx` / `.xlsm`: the first worksheet, read with openpyxl (read-only, cached formula values).
  Cells keep their types: numbers as int/float, date cells as datetime. Before openpyxl sees
  the file, `check_archive` reads the zip's central directory and the members' real streams and
  refuses what would unpack to too much (see `ImportLimits`).
* In both, a text cell that starts with `'` followed by `= + - @`, a tab or a CR loses that `'`:
  our CSV export adds it against formula injection, so an exported file imports as it was.

The limits (`ImportLimits`) are checked while reading, and reading stops at the first thing
past one: the file's size; for an XLSX its unpacked size, its compression ratio and the size of
its shared-strings table; rows after the header (blank ones count, except those after the last
filled row); columns up to a row's last filled cell; characters in a cell. Every refusal is an
`UnreadableFile` whose `reason` says which, with `limit` and `found` (and `row`) where known.

`parse_clients(table, country=..., timezone=..., now=...)` reads the first non-empty row as the
header, recognises the columns by their header in English, Polish, Russian or Romanian (see
`_SYNONYMS`) and reads every other non-empty row into an `ImportRow`, or reports one `BadRow` per
problem found in it (a row with several problems is reported once per problem and not imported).
Blank rows are skipped silently.

* Name: a full-name column, or a first-name column and a surname column joined ("Jan" +
  "Kowalski" -> "Jan Kowalski"), or either one alone. Whitespace is collapsed.
* Phone: read with phonenumbers for the team's `country` (E.164). Number cells are read as their
  digits; Excel drops a leading `+`, so digits that are not a valid national number are tried as
  an international one (`48600100200` -> `+48600100200`).
* Value: a number cell, or text read by `quick_entry.parse_amount` ("95 000", "95.000",
  "95 000,50", "1,2 mln", "95 000 zł"); in minor units. Zero, "-" and blank mean no value.
* Next contact: a date cell (naive = wall time in `timezone`), an Excel date serial number
  (1950-2099), or text "15.12.2026", "15.12.2026 14:30", "2026-12-15", "2026-12-15 14:30",
  "15/12/2026" (or "12/15/2026" when only month-first makes sense), "15-12-2026", "15.12.26"; a
  trailing "r." / "г." is ignored. A date with no time of day (or a
  date cell at exactly midnight) is `DATE_ONLY_HOUR` local time. A date without a year ("15.12")
  is the next such date on or after today. Past dates are returned as they are.
* Stage and owner: the cell as written (whitespace collapsed), matched by the caller.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import re
import signal
import struct
import sys
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from bot.services.quick_entry import MAX_AMOUNT_UNITS, MAX_NAME_LENGTH, parse_amount
from bot.text import fold

MAX_DATA_ROWS = 5_000  # the default of `ImportLimits.max_rows`
DATE_ONLY_HOUR = 9  # local hour given to a next-contact date written without a time
MAX_VALUE_CHARS = 100  # a BadRow's `value` is cut to this many characters (plus "…")

CSV_SUFFIXES: tuple[str, ...] = (".csv", ".txt", ".tsv")
XLSX_SUFFIXES: tuple[str, ...] = (".xlsx", ".xlsm")

# Field names, as used in `ImportResult.columns`.
NAME = "name"
FIRST_NAME = "first_name"  # only when the name is joined from two columns
LAST_NAME = "last_name"  # only when the name is joined from two columns
PHONE = "phone"
VALUE = "value"
STAGE = "stage"
OWNER = "owner"
NEXT_CONTACT = "next_contact"

# A member that unpacks to less than this is harmless whatever its ratio (a few repeated tags
# compress a thousandfold); the ratio limit applies above it, to each member and to the file.
RATIO_FLOOR_BYTES = 1 << 20
SHARED_STRINGS_PART = "xl/sharedStrings.xml"
_SHARED_STRINGS_TYPE = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
)
_CONTENT_TYPES_PART = "[Content_Types].xml"


@dataclass(frozen=True)
class ImportLimits:
    """What a file sent for import may hold; the defaults match `bot.config.Settings`."""

    max_file_bytes: int = 5 * 1024 * 1024  # the file as sent
    max_uncompressed_bytes: int = 30 * 1024 * 1024  # an XLSX's members unpacked, in all
    max_ratio: float = 100.0  # unpacked / packed, per member and for the whole file
    max_shared_strings_bytes: int = 10 * 1024 * 1024  # an XLSX's text table, unpacked
    max_rows: int = MAX_DATA_ROWS  # rows after the header, blank ones included
    max_columns: int = 50  # up to a row's last filled cell
    max_cell_chars: int = 32_767  # Excel's own limit for one cell
    cpu_seconds: int = 30  # of the child process that parses the file
    memory_mb: int = 768  # address space of that child process
    max_parts: int = 1_000  # members of an XLSX's zip (Excel writes a few dozen)

    @classmethod
    def from_settings(cls, settings: Any) -> ImportLimits:
        """From `bot.config.Settings` (its `import_*` fields)."""
        return cls(
            max_file_bytes=int(settings.import_max_file_bytes),
            max_uncompressed_bytes=int(settings.import_max_uncompressed_bytes),
            max_ratio=float(settings.import_max_ratio),
            max_shared_strings_bytes=int(settings.import_max_shared_strings_bytes),
            max_rows=int(settings.import_max_rows),
            max_columns=int(settings.import_max_columns),
            max_cell_chars=int(settings.import_max_cell_chars),
            cpu_seconds=int(settings.import_cpu_seconds),
            memory_mb=int(settings.import_memory_mb),
        )


DEFAULT_LIMITS = ImportLimits()


@dataclass(frozen=True)
class ImportRow:
    row_number: int  # as Excel shows it (header = 1, first data row = 2)
    name: str
    phone: str | None  # E.164
    value_minor: int | None  # money in minor units (x100)
    stage: str | None  # the stage cell as written (matched to the team's stages by the caller)
    owner: str | None  # the owner cell as written (matched to the team's people by the caller)
    next_contact: datetime | None  # aware UTC


@dataclass(frozen=True)
class BadRow:
    row_number: int
    problem: str  # one of the `BadRow.*` constants
    value: str  # the offending cell text (for the message), at most MAX_VALUE_CHARS + "…"

    NO_NAME = "no_name"
    BAD_PHONE = "bad_phone"
    BAD_VALUE = "bad_value"
    BAD_DATE = "bad_date"
    NAME_TOO_LONG = "name_too_long"


@dataclass(frozen=True)
class ImportResult:
    rows: list[ImportRow]
    bad: list[BadRow]
    columns: dict[str, int]  # which field came from which 0-based column


class UnreadableFile(ValueError):
    """The file as a whole cannot be imported. `reason` is one of the constants below; `limit`
    and `found` are the numbers that explain it, where known (bytes, a ratio, rows, columns,
    characters, CPU seconds or MB, as the reason says), `row` the Excel row at fault, and
    `detail` a finer cause for the logs (for "unknown_format": what is wrong with the zip)."""

    UNKNOWN_FORMAT = "unknown_format"  # not CSV/XLSX, damaged, or a zip Excel would not write
    EMPTY = "empty"
    NO_NAME_COLUMN = "no_name_column"
    TOO_BIG = "too_big"  # limit, found: bytes of the file
    TOO_BIG_UNPACKED = "too_big_unpacked"  # limit, found: bytes unpacked, in all
    PACKED_TOO_TIGHTLY = "packed_too_tightly"  # limit, found: unpacked / packed
    SHARED_STRINGS_TOO_BIG = "shared_strings_too_big"  # limit, found: bytes unpacked
    TOO_MANY_ROWS = "too_many_rows"  # limit: rows after the header (found, when known)
    TOO_MANY_COLUMNS = "too_many_columns"  # limit, found: columns; row
    CELL_TOO_LONG = "cell_too_long"  # limit, found (when known): characters; row
    TOO_MUCH_WORK = "too_much_work"  # limit: CPU seconds
    TOO_MUCH_MEMORY = "too_much_memory"  # limit: MB

    def __init__(
        self,
        reason: str,
        *,
        limit: float | None = None,
        found: float | None = None,
        row: int | None = None,
        detail: str | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.limit = limit
        self.found = found
        self.row = row
        self.detail = detail

    @property
    def details(self) -> dict[str, Any]:
        """The attributes that are set, for a message's placeholders or a log line."""
        values = {"limit": self.limit, "found": self.found, "row": self.row, "detail": self.detail}
        return {key: value for key, value in values.items() if value is not None}

    def __repr__(self) -> str:
        return f"UnreadableFile({self.reason!r}, {self.details!r})"


class ImportWorkerError(RuntimeError):
    """The child process failed for a reason that is not the file's (a bug, a crash)."""


# --- reading the file ------------------------------------------------------------------------


def read_table(
    content: bytes, filename: str, limits: ImportLimits = DEFAULT_LIMITS
) -> list[list[object]]:
    """Rows of cells from a .csv or .xlsx file (see the module docstring).

    Raises UnreadableFile: "unknown_format" for another extension or a file that cannot be
    read as its extension says, "empty" for a file with no cells, or the reason of the first
    limit the file goes past."""
    suffix = filename.strip().casefold()
    if not suffix.endswith(CSV_SUFFIXES + XLSX_SUFFIXES):
        raise UnreadableFile(UnreadableFile.UNKNOWN_FORMAT)
    if len(content) > limits.max_file_bytes:
        raise UnreadableFile(
            UnreadableFile.TOO_BIG, limit=limits.max_file_bytes, found=len(content)
        )
    if suffix.endswith(CSV_SUFFIXES):
        table = _read_csv(content, limits)
    else:
        table = _read_xlsx(content, limits)
    if not any(not _is_blank_row(row) for row in table):
        raise UnreadableFile(UnreadableFile.EMPTY)
    return table


def parse_file(
    content: bytes,
    filename: str,
    *,
    limits: ImportLimits = DEFAULT_LIMITS,
    country: str,
    timezone: str,
    now: datetime,
) -> ImportResult:
    """`parse_clients(read_table(...))`, in this process: what the child process runs."""
    table = read_table(content, filename, limits)
    return parse_clients(table, country=country, timezone=timezone, now=now, limits=limits)


class _Table:
    """The rows read so far; refuses the file at the first filled row past the row limit.

    Blank rows are kept (as []) only when a filled row follows them, so blank rows after the
    last filled one, which Excel writes for cells that were merely formatted, cost nothing."""

    def __init__(self, limits: ImportLimits) -> None:
        self.rows: list[list[object]] = []
        self.header: int | None = None  # 0-based index of the first filled row
        self.max_rows = limits.max_rows

    def add(self, index: int, row: list[object]) -> None:
        """Row `index` (0-based), trimmed; rows skipped since the last one added are blank."""
        if not row:
            return
        if self.header is None:
            if index > self.max_rows:  # more blank rows before the header than rows allowed
                raise UnreadableFile(UnreadableFile.TOO_MANY_ROWS, limit=self.max_rows)
            self.header = index
        elif index - self.header > self.max_rows:
            raise UnreadableFile(UnreadableFile.TOO_MANY_ROWS, limit=self.max_rows, row=index + 1)
        self.rows.extend([] for _ in range(index - len(self.rows)))
        self.rows.append(row)


def _trimmed(row: Iterable[object]) -> list[object]:
    """The row without its trailing empty cells."""
    cells = list(row)
    while cells and _is_blank(cells[-1]):
        cells.pop()
    return cells


# Text cells that our CSV export prefixed with `'` so that no spreadsheet runs them as formulas
# (OWASP "CSV injection"); the same characters as `bot.services.export.FORMULA_START`.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _unquoted(cell: str) -> str:
    """The cell without the `'` put before a formula-like text: "'=1+2" -> "=1+2"."""
    if cell.startswith("'") and cell[1:2] in _FORMULA_START:
        return cell[1:]
    return cell


# CSV


_DELIMITERS = (";", "\t", ",")  # on a tie the earlier one wins
_SNIFF_ROWS = 50
_SEPARATOR_NOISE = ';,\t "\r\n'
_SEP_LINE = re.compile(r"sep=(.)[ \t]*(?:\r\n|\r|\n|$)", re.IGNORECASE)
_TEXT_FORMULA = re.compile(r'="(.*)"', re.DOTALL)
# Fields up to this many times the cell limit are read and measured (the refusal tells how
# long the cell is); a longer one stops the csv module before it is built.
_FIELD_FACTOR = 4


def _read_csv(content: bytes, limits: ImportLimits) -> list[list[object]]:
    if not content.strip():
        raise UnreadableFile(UnreadableFile.EMPTY)
    text = _decode(content)
    table = _Table(limits)
    read = 0  # records read
    # A monster field makes the csv module stop with an error instead of building it (its
    # limit is process-wide: put back what it was).
    previous = csv.field_size_limit(limits.max_cell_chars * _FIELD_FACTOR)
    try:
        delimiter: str | None = None
        sep = _SEP_LINE.match(text)
        if sep and sep.group(1) in _DELIMITERS:
            delimiter = sep.group(1)
            text = text[sep.end() :]
        if delimiter is None:
            delimiter = _detect_delimiter(text)
        for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            read += 1
            row = _csv_row(record, read, limits)
            table.add(read - 1, row)
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            raise UnreadableFile(
                UnreadableFile.CELL_TOO_LONG, limit=limits.max_cell_chars, row=read + 1
            ) from error
        raise UnreadableFile(UnreadableFile.UNKNOWN_FORMAT) from error
    finally:
        csv.field_size_limit(previous)
    return table.rows


def _csv_row(record: list[str], number: int, limits: ImportLimits) -> list[object]:
    row = _trimmed(_text_cell(cell) for cell in record)
    if len(row) > limits.max_columns:
        raise UnreadableFile(
            UnreadableFile.TOO_MANY_COLUMNS, limit=limits.max_columns, found=len(row), row=number
        )
    for cell in row:
        assert isinstance(cell, str)
        if len(cell) > limits.max_cell_chars:
            raise UnreadableFile(
                UnreadableFile.CELL_TOO_LONG,
                limit=limits.max_cell_chars,
                found=len(cell),
                row=number,
            )
    return row


def _text_cell(cell: str) -> str:
    match = _TEXT_FORMULA.fullmatch(cell.strip())
    return match.group(1) if match else _unquoted(cell)


def _detect_delimiter(text: str) -> str:
    """The separator that splits the header into the most columns with the rows that follow
    agreeing; in a single-column file, the one that splits the fewest rows."""
    best = _DELIMITERS[0]
    best_score: tuple[bool, int, int] | None = None
    for delimiter in _DELIMITERS:
        widths: list[tuple[int, int]] = []  # (cells, cells up to the last non-empty one)
        try:
            for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
                if not "".join(record).strip(_SEPARATOR_NOISE):
                    continue  # blank, or only separators (";;;" read with another delimiter)
                widths.append((len(record), len(_trimmed(record))))
                if len(widths) >= _SNIFF_ROWS:
                    break
        except csv.Error:
            continue
        if not widths:
            continue
        header = widths[0][0]
        # A row agrees if it has the header's width, give or take trailing empty cells.
        agreeing = sum(1 for width, filled in widths if filled <= header <= width)
        score = (header > 1, agreeing, header)
        if best_score is None or score > best_score:
            best, best_score = delimiter, score
    return best


# Letters that Polish and Romanian words carry (cp1250 has the cedilla forms of ș and ț).
_CENTRAL_EUROPEAN_LETTERS = frozenset("ąćęłńóśźżăâîșțşţ")
_WORD = re.compile(r"[^\W\d_]+")


def _decode(content: bytes) -> str:
    """UTF-16 by its BOM; else strict UTF-8; else the more plausible of cp1250 and cp1251."""
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return content.decode("utf-16")
        except UnicodeDecodeError as error:
            raise UnreadableFile(UnreadableFile.UNKNOWN_FORMAT) from error
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    polish = content.decode("cp1250", errors="replace")
    russian = content.decode("cp1251", errors="replace")
    if _cyrillic_plausibility(russian) > _latin_plausibility(polish):
        return russian
    return polish


def _cyrillic_plausibility(text: str) -> int:
    """Letters in all-Cyrillic words, less the non-ASCII letters of words that mix scripts
    (Polish read as cp1251 turns "Łukasz" into "Јukasz")."""
    score = 0
    for word in _WORD.findall(text):
        foreign = sum(1 for ch in word if not ch.isascii())
        if not foreign:
            continue
        cyrillic = sum(1 for ch in word if "\u0400" <= ch <= "\u04ff")
        score += cyrillic if cyrillic == len(word) else -foreign
    return score


def _latin_plausibility(text: str) -> int:
    """Accented letters in words that also have plain letters or only Polish/Romanian accented
    ones, less the rest (Russian read as cp1250 turns "Иван" into "Čâŕí")."""
    score = 0
    for word in _WORD.findall(text):
        foreign = [ch for ch in word if not ch.isascii()]
        if not foreign:
            continue
        plausible = len(foreign) < len(word) or all(
            ch.casefold() in _CENTRAL_EUROPEAN_LETTERS for ch in foreign
        )
        score += len(foreign) if plausible else -len(foreign)
    return score


# XLSX: the zip first


def _odd_zip(detail: str, limit: int | None = None, found: int | None = None) -> UnreadableFile:
    """A zip that Excel would not write: the "unknown_format" answer, with what is odd."""
    return UnreadableFile(UnreadableFile.UNKNOWN_FORMAT, detail=detail, limit=limit, found=found)


def check_archive(content: bytes, limits: ImportLimits = DEFAULT_LIMITS) -> None:
    """Refuse an XLSX that would unpack to too much, before anything parses it.

    First what the zip's central directory says: at most `max_parts` members, no name with
    `..` or an absolute path, no encryption, only stored or deflated members; the shared
    strings, the whole and each member's ratio within the limits. Then, because openpyxl
    reads the real streams whatever the directory says, every member is inflated here (64 KiB
    at a time, nothing kept) and refused as soon as it yields more than its declared size.
    Last, the shared-strings part named in `[Content_Types].xml` (it may have another name)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as error:
        raise UnreadableFile(UnreadableFile.UNKNOWN_FORMAT) from error
    with archive:
        members = archive.infolist()
        if len(members) > limits.max_parts:
            raise _odd_zip("too_many_parts", limit=limits.max_parts, found=len(members))
        for info in members:
            _check_member_entry(info)
        files = [info for info in members if not info.is_dir()]
        for info in files:
            if info.filename.casefold() == SHARED_STRINGS_PART.casefold():
                _check_shared_strings(info, limits)
        total = sum(info.file_size for info in files)
        if total > limits.max_uncompressed_bytes:
            raise UnreadableFile(
                UnreadableFile.TOO_BIG_UNPACKED, limit=limits.max_uncompressed_bytes, found=total
            )
        for info in files:
            _check_ratio(info.file_size, info.compress_size, limits)
        _check_ratio(total, len(content), limits)
        for info in files:
            inflated = 0
            for chunk in _inflated(content, info):
                inflated += len(chunk)
                if inflated > info.file_size:
                    raise _odd_zip("sizes_lie")
        for name in _shared_strings_parts(archive, files):
            try:
                info = archive.getinfo(name)
            except KeyError:
                continue
            _check_shared_strings(info, limits)


def _check_member_entry(info: zipfile.ZipInfo) -> None:
    name = info.filename.replace("\\", "/")
    parts = name.split("/")
    if name.startswith("/") or ".." in parts or ":" in parts[0] or "\x00" in name:
        raise _odd_zip("unsafe_name")
    if info.flag_bits & 0x1:
        raise _odd_zip("encrypted")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise _odd_zip("compression")


def _check_shared_strings(info: zipfile.ZipInfo, limits: ImportLimits) -> None:
    if info.file_size > limits.max_shared_strings_bytes:
        raise UnreadableFile(
            UnreadableFile.SHARED_STRINGS_TOO_BIG,
            limit=limits.max_shared_strings_bytes,
            found=info.file_size,
        )


def _check_ratio(unpacked: int, packed: int, limits: ImportLimits) -> None:
    if unpacked <= RATIO_FLOOR_BYTES:
        return
    ratio = unpacked / max(packed, 1)
    if ratio > limits.max_ratio:
        raise UnreadableFile(
            UnreadableFile.PACKED_TOO_TIGHTLY, limit=limits.max_ratio, found=round(ratio, 1)
        )


_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # a zip member's local file header, 30 bytes
_LOCAL_SIGNATURE = b"PK\x03\x04"
_INFLATE_CHUNK = 1 << 16


def _inflated(content: bytes, info: zipfile.ZipInfo) -> Iterator[bytes | memoryview]:
    """The member's data as its local header and compressed bytes give it, at most
    `_INFLATE_CHUNK` bytes at a time, however much the stream holds."""
    try:
        header = _LOCAL_HEADER.unpack_from(content, info.header_offset)
    except struct.error as error:
        raise _odd_zip("damaged") from error
    if header[0] != _LOCAL_SIGNATURE:
        raise _odd_zip("damaged")
    start = info.header_offset + _LOCAL_HEADER.size + header[9] + header[10]
    packed = memoryview(content)[start : start + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        yield packed
        return
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    position = 0
    pending: bytes | memoryview = b""
    try:
        while not inflater.eof:
            if not pending:
                if position >= len(packed):
                    return
                pending = packed[position : position + _INFLATE_CHUNK]
                position += _INFLATE_CHUNK
            yield inflater.decompress(pending, _INFLATE_CHUNK)
            pending = inflater.unconsumed_tail
    except zlib.error as error:
        raise _odd_zip("damaged") from error


def _shared_strings_parts(archive: zipfile.ZipFile, files: list[zipfile.ZipInfo]) -> list[str]:
    """The parts `[Content_Types].xml` calls shared strings (openpyxl reads the one named
    there, whatever its name). Read only after `check_archive` has bounded every member."""
    entry = next((info for info in files if info.filename == _CONTENT_TYPES_PART), None)
    if entry is None:
        return []
    from xml.etree import ElementTree

    try:
        root = ElementTree.fromstring(archive.read(entry))
    except (ElementTree.ParseError, zipfile.BadZipFile, ValueError, OSError) as error:
        raise UnreadableFile(UnreadableFile.UNKNOWN_FORMAT) from error
    return [
        element.get("PartName", "").lstrip("/")
        for element in root.iter()
        if element.tag.endswith("Override") and element.get("ContentType") == _SHARED_STRINGS_TYPE
    ]


# XLSX: the worksheet


def _read_xlsx(content: bytes, limits: ImportLimits) -> list[list[object]]:
    if not content:
        raise UnreadableFile(UnreadableFile.EMPTY)
    if not zipfile.is_zipfile(io.BytesIO(content)):
        raise UnreadableFile(UnreadableFile.UNKNOWN_FORMAT)
    table = _Table(limits)
    try:
        check_archive(content, limits)
        with warnings.catch_warnings():
            # openpyxl warns about things it skips (data validation, no default style...);
            # none of them change the cells.
            warnings.simplefilter("ignore")
            from openpyxl import load_workbook  # here: it pulls in numpy and PIL (not the child)

            workbook = load_workbook(
                io.BytesIO(content), read_only=True, data_only=True, keep_links=False
            )
            try:
                sheets = workbook.worksheets
                if not sheets:
                    raise UnreadableFile(UnreadableFile.EMPTY)
                expected = 1
                for number, cells in _sheet_rows(workbook, sheets[0]):
                    if number < expected:
                        continue  # a row number going back: skipped, as openpyxl does
                    expected = number + 1
                    table.add(number - 1, _xlsx_row(cells, number, limits))
            finally:
                workbook.close()
    except (UnreadableFile, MemoryError):
        raise
    except Exception as error:  # a damaged or foreign file can fail anywhere inside openpyxl
        raise UnreadableFile(UnreadableFile.UNKNOWN_FORMAT) from error
    return table.rows


def _sheet_rows(workbook: Any, sheet: Any) -> Iterator[tuple[int, list[tuple[int, object]]]]:
    """(row number, [(column, value)]) as the worksheet's XML holds them.

    openpyxl's own `iter_rows` pads every row with empty cells up to its last cell and yields
    every missing row in between: a cell at column XFD or a row numbered a billion would cost
    millions of steps before any limit could be checked. Its read-only worksheet parser gives
    the cells as they are; this is what `ReadOnlyWorksheet._cells_by_row` does, unpadded."""
    from openpyxl.worksheet._reader import WorkSheetParser

    with sheet._get_source() as source:
        parser = WorkSheetParser(
            source,
            sheet._shared_strings,
            data_only=True,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        for number, cells in parser.parse():
            yield number, [(cell["column"], cell["value"]) for cell in cells]


def _xlsx_row(cells: list[tuple[int, object]], number: int, limits: ImportLimits) -> list[object]:
    """The row's values up to its last filled cell, checked against the limits."""
    width = 0
    for column, value in cells:
        if isinstance(value, str) and len(value) > limits.max_cell_chars:
            raise UnreadableFile(
                UnreadableFile.CELL_TOO_LONG,
                limit=limits.max_cell_chars,
                found=len(value),
                row=number,
            )
        if column > width and not _is_blank(value):
            width = column
    if width > limits.max_columns:
        raise UnreadableFile(
            UnreadableFile.TOO_MANY_COLUMNS, limit=limits.max_columns, found=width, row=number
        )
    row: list[object] = [None] * width
    for column, value in cells:
        if 1 <= column <= width:
            row[column - 1] = _unquoted(value) if isinstance(value, str) else value
    return row


# --- reading the clients ---------------------------------------------------------------------


_fold = fold  # casefolded, without diacritics or punctuation: "Wartość (PLN):" -> "wartosc pln"

_SYNONYMS: dict[str, tuple[str, ...]] = {
    NAME: (
        "name", "full name", "client", "client name", "customer", "customer name", "contact name",
        "imię i nazwisko", "nazwisko i imię", "imię nazwisko", "klient", "nazwa", "nazwa klienta",
        "kontrahent", "фио", "ф.и.о.", "имя клиента", "клиент", "покупатель", "контрагент",
        "фамилия имя", "фамилия имя отчество", "nume", "nume client", "nume și prenume",
        "nume prenume", "nume complet", "numele clientului", "denumire",
    ),
    FIRST_NAME: ("first name", "given name", "imię", "имя", "prenume"),
    LAST_NAME: ("last name", "surname", "family name", "nazwisko", "фамилия"),
    PHONE: (
        "phone", "phone number", "mobile", "mobile phone", "telephone", "tel", "telefon",
        "nr telefonu", "numer telefonu", "telefon komórkowy", "komórka", "nr tel", "телефон",
        "тел", "номер телефона", "мобильный", "мобильный телефон", "сотовый", "nr telefon",
        "număr de telefon", "număr telefon", "telefon mobil", "mobil", "cell",
    ),
    VALUE: (
        "value", "amount", "price", "deal value", "budget", "wartość", "kwota", "cena", "budżet",
        "wartość transakcji", "сумма", "стоимость", "цена", "бюджет", "сумма сделки", "valoare",
        "sumă", "suma", "preț", "buget",
    ),
    STAGE: ("stage", "pipeline stage", "status", "etap", "этап", "стадия", "статус", "etapă",
            "stadiu"),
    OWNER: (
        "owner", "manager", "salesperson", "sales rep", "responsible", "opiekun", "handlowiec",
        "sprzedawca", "odpowiedzialny", "ответственный", "менеджер", "продавец", "responsabil",
        "agent", "vânzător",
    ),
    NEXT_CONTACT: (
        "next contact", "next contact date", "follow up", "follow up date", "reminder",
        "następny kontakt", "data następnego kontaktu", "data kontaktu", "kontakt",
        "przypomnienie", "следующий контакт", "дата контакта", "дата следующего контакта",
        "напоминание", "următorul contact", "data contactului", "data următorului contact",
        "contact", "data contact",
    ),
}  # fmt: skip

# Words too general to recognise a header they only begin ("Kontakt telefoniczny" is no
# next-contact date, "Client phone" no name); they must be the whole header.
_EXACT_ONLY = frozenset(
    _fold(word)
    for word in ("client", "klient", "клиент", "kontakt", "contact", "agent", "nume", "cell",
                 "mobil", "status", "name")
)  # fmt: skip

_FOLDED_SYNONYMS: dict[str, tuple[str, ...]] = {
    field: tuple(_fold(word) for word in words) for field, words in _SYNONYMS.items()
}

_NUME = _fold("nume")  # Romanian "name", but the surname next to a "prenume" column


@dataclass(frozen=True)
class _Match:
    field: str
    exact: bool
    length: int


def _match_header(header: str) -> _Match | None:
    """The field a header names: an exact synonym, else the longest synonym it begins with."""
    best: _Match | None = None
    for field, words in _FOLDED_SYNONYMS.items():
        for word in words:
            if header == word:
                return _Match(field, True, len(word))
            if (
                word not in _EXACT_ONLY
                and header.startswith(word + " ")
                and (best is None or len(word) > best.length)
            ):
                best = _Match(field, False, len(word))
    return best


def _find_columns(header_row: Sequence[object]) -> tuple[dict[str, int], str | None]:
    """Field -> column; and the header of the full-name column, folded."""
    matches: dict[str, list[tuple[bool, int]]] = {}
    for column, cell in enumerate(header_row):
        header = _fold(_cell_text(cell))
        match = _match_header(header) if header else None
        if match is not None:
            matches.setdefault(match.field, []).append((match.exact, column))
    columns: dict[str, int] = {}
    for field, found in matches.items():
        # Exact headers before ones that only begin with a synonym; then the leftmost.
        columns[field] = min(found, key=lambda item: (not item[0], item[1]))[1]
    name_header = _fold(_cell_text(header_row[columns[NAME]])) if NAME in columns else None
    return columns, name_header


def _name_columns(columns: dict[str, int], name_header: str | None) -> dict[str, int]:
    """The columns the name comes from: {NAME: c} or {FIRST_NAME: c1, LAST_NAME: c2}."""
    first = columns.pop(FIRST_NAME, None)
    last = columns.pop(LAST_NAME, None)
    full = columns.pop(NAME, None)
    if full is not None and name_header == _NUME and first is not None and last is None:
        full, last = None, full  # "Prenume" + "Nume" is a given name and a surname
    if full is not None:
        return {NAME: full}
    if first is not None and last is not None:
        return {FIRST_NAME: first, LAST_NAME: last}
    if first is not None:
        return {NAME: first}
    if last is not None:
        return {NAME: last}
    raise UnreadableFile(UnreadableFile.NO_NAME_COLUMN)


def parse_clients(
    table: list[list[object]],
    *,
    country: str,
    timezone: str,
    now: datetime,
    limits: ImportLimits = DEFAULT_LIMITS,
) -> ImportResult:
    """Validated clients from `read_table`'s rows (see the module docstring).

    `country` is the team's 2-letter region ("PL"), `timezone` its IANA zone, `now` an aware
    moment. Raises UnreadableFile: "empty" (no non-empty row), "no_name_column",
    "too_many_rows" (the last filled row more than `limits.max_rows` rows below the header:
    blank rows in between count)."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    zone = ZoneInfo(timezone)
    filled = [(index, row) for index, row in enumerate(table) if not _is_blank_row(row)]
    if not filled:
        raise UnreadableFile(UnreadableFile.EMPTY)
    _, header_row = filled[0]
    data = filled[1:]
    columns, name_header = _find_columns(header_row)
    names = _name_columns(columns, name_header)
    rows_after_header = filled[-1][0] - filled[0][0]
    if rows_after_header > limits.max_rows:
        raise UnreadableFile(
            UnreadableFile.TOO_MANY_ROWS, limit=limits.max_rows, found=rows_after_header
        )
    reader = _RowReader(
        names=names,
        columns=columns,
        country=country,
        zone=zone,
        today=now.astimezone(zone).date(),
    )
    rows: list[ImportRow] = []
    bad: list[BadRow] = []
    for index, row in data:
        parsed, problems = reader.read(index + 1, row)
        if problems:
            bad.extend(problems)
        elif parsed is not None:
            rows.append(parsed)
    all_columns = {**names, **columns}
    ordered = {
        field: all_columns[field]
        for field in (NAME, FIRST_NAME, LAST_NAME, PHONE, VALUE, STAGE, OWNER, NEXT_CONTACT)
        if field in all_columns
    }
    return ImportResult(rows=rows, bad=bad, columns=ordered)


@dataclass(frozen=True)
class _RowReader:
    names: dict[str, int]
    columns: dict[str, int]
    country: str
    zone: ZoneInfo
    today: date

    def cell(self, row: Sequence[object], field: str) -> object:
        column = self.columns.get(field, self.names.get(field))
        if column is None or column >= len(row):
            return None
        return row[column]

    def read(
        self, row_number: int, row: Sequence[object]
    ) -> tuple[ImportRow | None, list[BadRow]]:
        problems: list[BadRow] = []

        def problem(kind: str, cell: object) -> None:
            problems.append(BadRow(row_number, kind, _shown(cell)))

        if NAME in self.names:
            name = _cell_text(self.cell(row, NAME))
        else:
            name = " ".join(
                part
                for part in (_cell_text(self.cell(row, FIRST_NAME)),
                             _cell_text(self.cell(row, LAST_NAME)))
                if part
            )  # fmt: skip
        if not name:
            problem(BadRow.NO_NAME, "; ".join(_cell_text(c) for c in row if not _is_blank(c)))
        elif len(name) > MAX_NAME_LENGTH:
            problem(BadRow.NAME_TOO_LONG, name)

        phone_cell = self.cell(row, PHONE)
        phone = None
        if not _is_blank(phone_cell):
            phone = _read_phone(phone_cell, self.country)
            if phone is None:
                problem(BadRow.BAD_PHONE, phone_cell)

        value_cell = self.cell(row, VALUE)
        value: int | None = None
        if not _is_blank(value_cell):
            read = _read_value(value_cell)
            if isinstance(read, _Bad):
                problem(BadRow.BAD_VALUE, value_cell)
            else:
                value = read

        date_cell = self.cell(row, NEXT_CONTACT)
        next_contact = None
        if not _is_blank(date_cell):
            next_contact = _read_moment(date_cell, self.zone, self.today)
            if next_contact is None:
                problem(BadRow.BAD_DATE, date_cell)

        if problems:
            return None, problems
        return (
            ImportRow(
                row_number=row_number,
                name=name,
                phone=phone,
                value_minor=value,
                stage=_cell_text(self.cell(row, STAGE)) or None,
                owner=_cell_text(self.cell(row, OWNER)) or None,
                next_contact=next_contact,
            ),
            [],
        )


# --- cells -----------------------------------------------------------------------------------


def _is_blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _is_blank_row(row: Sequence[object]) -> bool:
    return all(_is_blank(cell) for cell in row)


def _cell_text(cell: object) -> str:
    """A cell as text, whitespace collapsed; whole floats without ".0"."""
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime):
        return cell.strftime("%Y-%m-%d %H:%M") if cell.time() != time() else f"{cell:%Y-%m-%d}"
    return " ".join(str(cell).split())


def _shown(cell: object) -> str:
    text = _cell_text(cell)
    return text if len(text) <= MAX_VALUE_CHARS else text[:MAX_VALUE_CHARS] + "…"


def _digits_of_number(cell: object) -> str | None:
    """A number cell's digits ("600100200" from 600100200 or 600100200.0), else None."""
    if isinstance(cell, bool):
        return None
    if isinstance(cell, int):
        return str(cell) if cell > 0 else None
    if isinstance(cell, float) and math.isfinite(cell) and cell.is_integer() and cell > 0:
        return str(int(cell))
    return None


_PHONE_TEXT = re.compile(r"\+?[0-9()\-./ ]+")


def _read_phone(cell: object, country: str) -> str | None:
    if isinstance(cell, int | float):
        text = _digits_of_number(cell)
        if text is None:
            return None
    else:
        text = _cell_text(cell)
    if not _PHONE_TEXT.fullmatch(text) or not any(ch.isdigit() for ch in text):
        return None
    region = country.strip().upper() or None
    phone = _e164(text, region)
    if phone is None and text.isdigit() and not text.startswith("0"):
        phone = _e164("+" + text, None)  # Excel dropped the "+"
    return phone


def _e164(text: str, region: str | None) -> str | None:
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


class _Bad:
    pass


_BAD = _Bad()
_NO_VALUE_TEXT = frozenset(("-", "–", "—", "0"))


def _read_value(cell: object) -> int | _Bad | None:
    """Minor units; None for no value (zero, a dash); _BAD for anything unreadable."""
    if isinstance(cell, bool):
        return _BAD
    if isinstance(cell, int | float):
        if isinstance(cell, float) and not math.isfinite(cell):
            return _BAD
        try:
            amount = Decimal(repr(cell)) if isinstance(cell, float) else Decimal(cell)
        except InvalidOperation:
            return _BAD
        if amount == 0:
            return None
        if amount < 0 or amount > MAX_AMOUNT_UNITS:
            return _BAD
        minor = int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
        return minor if minor > 0 else _BAD
    text = _cell_text(cell)
    if text in _NO_VALUE_TEXT:
        return None
    parsed = parse_amount(text)
    return _BAD if parsed is None else parsed


_CLOCK = r"(?:[ T]+|,\s*)(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.\d+)?)?"
_DAY_FIRST = re.compile(
    r"(?P<day>\d{1,2})(?P<sep>[./-])(?P<month>\d{1,2})(?P=sep)(?P<year>\d{4}|\d{2})"
    rf"(?:{_CLOCK})?"
)
_YEAR_FIRST = re.compile(
    r"(?P<year>\d{4})(?P<sep>[-./])(?P<month>\d{1,2})(?P=sep)(?P<day>\d{1,2})"
    rf"(?:{_CLOCK})?"
)
_NO_YEAR = re.compile(rf"(?P<day>\d{{1,2}})\.(?P<month>\d{{1,2}})\.?(?:{_CLOCK})?")
_YEAR_WORD = re.compile(r"\s*(?:r|г|rok|roku|год|года)\.?$", re.IGNORECASE)
# An Excel date serial number (a date cell saved without its date format), 1950-2099.
_EXCEL_SERIALS = (18_264, 73_051)
_EXCEL_EPOCH = datetime(1899, 12, 30)


def _read_moment(cell: object, zone: ZoneInfo, today: date) -> datetime | None:
    """An aware UTC moment from a date cell, an Excel serial number or date text; else None."""
    if isinstance(cell, datetime):
        if cell.tzinfo is not None and cell.utcoffset() is not None:
            return cell.astimezone(UTC)
        return _local_to_utc(cell.date(), cell.time(), zone)
    if isinstance(cell, date):
        return _local_to_utc(cell, time(), zone)
    if isinstance(cell, bool):
        return None
    if isinstance(cell, int | float):
        if not _EXCEL_SERIALS[0] <= cell < _EXCEL_SERIALS[1]:  # NaN fails too
            return None
        moment = _EXCEL_EPOCH + timedelta(days=float(cell))
        moment = moment.replace(microsecond=0)
        return _local_to_utc(moment.date(), moment.time(), zone)
    if not isinstance(cell, str):
        return None
    return _read_date_text(_YEAR_WORD.sub("", _cell_text(cell)), zone, today)


def _read_date_text(text: str, zone: ZoneInfo, today: date) -> datetime | None:
    match = _DAY_FIRST.fullmatch(text) or _YEAR_FIRST.fullmatch(text)
    if match:
        year = int(match["year"])
        if len(match["year"]) == 2:
            year += 2000
        day, month = int(match["day"]), int(match["month"])
        if match.re is _DAY_FIRST and match["sep"] == "/" and month > 12 >= day:
            day, month = month, day  # 12/15/2026 can only be month first
        found = _date(year, month, day)
    else:
        match = _NO_YEAR.fullmatch(text)
        if not match:
            return None
        day, month = int(match["day"]), int(match["month"])
        found = _date(today.year, month, day)
        if found is not None and found < today:
            found = _date(today.year + 1, month, day)
    if found is None:
        return None
    clock = time()
    if match["hour"] is not None:
        hour, minute = int(match["hour"]), int(match["minute"])
        second = int(match["second"]) if match["second"] is not None else 0
        if hour > 23 or minute > 59 or second > 59:
            return None
        clock = time(hour, minute, second)
    return _local_to_utc(found, clock, zone)


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _local_to_utc(day: date, clock: time, zone: ZoneInfo) -> datetime:
    """A local wall time -> UTC. Midnight means a date without a time: DATE_ONLY_HOUR.
    fold=0: a wall time in a spring-forward gap moves forward by the gap, an ambiguous autumn
    one is its first occurrence (as in `bot.services.dates`)."""
    if clock == time():
        clock = time(DATE_ONLY_HOUR)
    local = datetime.combine(day, clock.replace(tzinfo=None, microsecond=0))
    return local.replace(tzinfo=zone, fold=0).astimezone(UTC)


# --- parsing in a child process ----------------------------------------------------------------

WORKER_MODULE = "bot.workers.parse_import"
# The root the `bot` package is imported from, for the child's PYTHONPATH.
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])
# What a child's stderr says when it ran out of address space somewhere Python could not turn
# into a MemoryError answer.
_OUT_OF_MEMORY = ("MemoryError", "Cannot allocate memory", "out of memory", "bad_alloc")
_STDERR_KEPT = 4_000  # characters of a failed child's stderr kept for the error message


def wall_seconds(limits: ImportLimits) -> float:
    """How long a child may run, whatever it does (waiting included), before it is killed."""
    return 3 * limits.cpu_seconds + 5


async def parse_in_child(
    content: bytes,
    filename: str,
    *,
    limits: ImportLimits,
    country: str,
    timezone: str,
    now: datetime,
) -> ImportResult:
    """`parse_file` in a fresh child process with `limits.cpu_seconds` of CPU and
    `limits.memory_mb` of address space, killed after `wall_seconds(limits)`; the same result.

    A fresh process per file (not a fork of the bot, not a shared pool, which a killed worker
    would break); it gets the file on stdin and "now" from here, and no database, token or
    environment of the bot. Raises UnreadableFile as `read_table`/`parse_clients` do, plus
    "too_much_work" (CPU or wall-clock limit) and "too_much_memory"; ImportWorkerError when the
    child fails otherwise."""
    import asyncio  # here: the child imports this module and needs no event loop

    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    suffix = filename.strip().casefold()
    if not suffix.endswith(CSV_SUFFIXES + XLSX_SUFFIXES):
        raise UnreadableFile(UnreadableFile.UNKNOWN_FORMAT)
    if len(content) > limits.max_file_bytes:
        raise UnreadableFile(
            UnreadableFile.TOO_BIG, limit=limits.max_file_bytes, found=len(content)
        )
    header = {
        "filename": filename,
        "limits": asdict(limits),
        "country": country,
        "timezone": timezone,
        "now": now.isoformat(),
        "size": len(content),
    }
    payload = json.dumps(header).encode() + b"\n" + content
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        WORKER_MODULE,
        str(limits.cpu_seconds),
        str(limits.memory_mb),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=_child_environment(),
    )
    try:
        stdout, stderr = await asyncio.wait_for(
            process.communicate(payload), timeout=wall_seconds(limits)
        )
    except TimeoutError:
        raise UnreadableFile(UnreadableFile.TOO_MUCH_WORK, limit=limits.cpu_seconds) from None
    finally:
        if process.returncode is None:  # timed out, or the caller was cancelled
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()
    assert process.returncode is not None
    return child_outcome(process.returncode, stdout, stderr, limits)


def _child_environment() -> dict[str, str]:
    """Only what Python needs: none of the bot's secrets (token, database URL) reach it."""
    environment = {
        "PATH": os.environ.get("PATH", os.defpath),
        "PYTHONPATH": _PACKAGE_ROOT,
        "PYTHONIOENCODING": "utf-8",
        "LC_ALL": "C.UTF-8",
    }
    for name in ("SYSTEMROOT", "TMPDIR"):
        if name in os.environ:
            environment[name] = os.environ[name]
    return environment


def child_outcome(
    returncode: int, stdout: bytes, stderr: bytes, limits: ImportLimits
) -> ImportResult:
    """What a finished child's exit status and output mean (see `bot.workers.parse_import`)."""
    errors = stderr.decode("utf-8", "replace")[-_STDERR_KEPT:]
    out_of_memory = any(sign in errors for sign in _OUT_OF_MEMORY)
    if returncode == 0:
        try:
            answer = json.loads(stdout)
        except ValueError as error:
            raise ImportWorkerError(f"unreadable answer from the import worker: {errors}") from (
                error
            )
        if isinstance(answer, dict) and "refused" in answer:
            raise refusal_from_json(answer)
        if isinstance(answer, dict) and "rows" in answer:
            return result_from_json(answer)
        raise ImportWorkerError(f"unexpected answer from the import worker: {errors}")
    if out_of_memory:
        raise UnreadableFile(UnreadableFile.TOO_MUCH_MEMORY, limit=limits.memory_mb)
    if returncode in (-signal.SIGXCPU, -signal.SIGKILL):
        # SIGXCPU at the soft CPU limit, SIGKILL at the hard one a second later.
        raise UnreadableFile(UnreadableFile.TOO_MUCH_WORK, limit=limits.cpu_seconds)
    raise ImportWorkerError(f"the import worker ended with status {returncode}: {errors}")


def result_to_json(result: ImportResult) -> dict[str, Any]:
    return {
        "rows": [
            [
                row.row_number,
                row.name,
                row.phone,
                row.value_minor,
                row.stage,
                row.owner,
                row.next_contact.isoformat() if row.next_contact is not None else None,
            ]
            for row in result.rows
        ],
        "bad": [[bad.row_number, bad.problem, bad.value] for bad in result.bad],
        "columns": result.columns,
    }


def result_from_json(data: dict[str, Any]) -> ImportResult:
    rows = [
        ImportRow(
            row_number=int(number),
            name=str(name),
            phone=phone,
            value_minor=value,
            stage=stage,
            owner=owner,
            next_contact=datetime.fromisoformat(moment) if moment is not None else None,
        )
        for number, name, phone, value, stage, owner, moment in data["rows"]
    ]
    bad = [BadRow(int(number), str(problem), str(value)) for number, problem, value in data["bad"]]
    columns = {str(field): int(column) for field, column in data["columns"].items()}
    return ImportResult(rows=rows, bad=bad, columns=columns)


def refusal_to_json(error: UnreadableFile) -> dict[str, Any]:
    return {"refused": error.reason, **error.details}


def refusal_from_json(data: dict[str, Any]) -> UnreadableFile:
    return UnreadableFile(
        str(data["refused"]),
        limit=data.get("limit"),
        found=data.get("found"),
        row=data.get("row"),
        detail=data.get("detail"),
    )
