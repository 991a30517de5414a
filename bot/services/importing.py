"""Existing clients from a spreadsheet: a CSV or XLSX as Excel saves it -> validated rows.

Pure functions, no I/O beyond the bytes handed in. Two steps:

`read_table(content, filename)` turns the file into rows of cells, one list per row as Excel
numbers them (row 1 first; blank lines stay as empty lists so row numbers match what the sender
sees in Excel):

* `.csv` / `.txt` / `.tsv`: the encoding is UTF-16 if the file starts with its BOM, else UTF-8
  if the bytes decode strictly as UTF-8 (BOM or not), else cp1250 (Polish, Romanian) or cp1251
  (Russian), whichever gives plausible words (see `_decode`). The separator is `;`, `,` or tab:
  the one that splits the header into the most columns with the following rows agreeing (quotes
  respected); an Excel `sep=;` first line names it and is dropped, as Excel does. Cells are text;
  an Excel "keep as text" cell (`="0722123456"`) is unwrapped.
* `.xlsx` / `.xlsm`: the first worksheet, read with openpyxl (read-only, cached formula values).
  Cells keep their types: numbers as int/float, date cells as datetime.

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

import csv
import io
import math
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

from bot.services.quick_entry import MAX_AMOUNT_UNITS, MAX_NAME_LENGTH, parse_amount

MAX_DATA_ROWS = 5_000
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
    """The file as a whole cannot be imported. `reason` is one of the constants below."""

    UNKNOWN_FORMAT = "unknown_format"
    EMPTY = "empty"
    NO_NAME_COLUMN = "no_name_column"
    TOO_MANY_ROWS = "too_many_rows"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- reading the file ------------------------------------------------------------------------


def read_table(content: bytes, filename: str) -> list[list[object]]:
    """Rows of cells from a .csv or .xlsx file (see the module docstring).

    Raises UnreadableFile: "unknown_format" for another extension or a file that cannot be
    read as its extension says, "empty" for a file with no cells, "too_many_rows" for more than
    MAX_DATA_ROWS non-empty rows after the header."""
    suffix = filename.strip().casefold()
    if suffix.endswith(CSV_SUFFIXES):
        table = _read_csv(content)
    elif suffix.endswith(XLSX_SUFFIXES):
        table = _read_xlsx(content)
    else:
        raise UnreadableFile(UnreadableFile.UNKNOWN_FORMAT)
    if not any(not _is_blank_row(row) for row in table):
        raise UnreadableFile(UnreadableFile.EMPTY)
    return table


class _RowCounter:
    """Stops a reader once the file has more rows than can be imported."""

    def __init__(self) -> None:
        self.filled = 0

    def add(self, row: Sequence[object]) -> None:
        if not _is_blank_row(row):
            self.filled += 1
            if self.filled > MAX_DATA_ROWS + 1:  # the header and MAX_DATA_ROWS rows
                raise UnreadableFile(UnreadableFile.TOO_MANY_ROWS)


def _trimmed(row: Iterable[object]) -> list[object]:
    """The row without its trailing empty cells."""
    cells = list(row)
    while cells and _is_blank(cells[-1]):
        cells.pop()
    return cells


# CSV


_DELIMITERS = (";", "\t", ",")  # on a tie the earlier one wins
_SNIFF_ROWS = 50
_SEPARATOR_NOISE = ';,\t "\r\n'
_SEP_LINE = re.compile(r"sep=(.)[ \t]*(?:\r\n|\r|\n|$)", re.IGNORECASE)
_TEXT_FORMULA = re.compile(r'="(.*)"', re.DOTALL)


def _read_csv(content: bytes) -> list[list[object]]:
    if not content.strip():
        raise UnreadableFile(UnreadableFile.EMPTY)
    text = _decode(content)
    delimiter: str | None = None
    sep = _SEP_LINE.match(text)
    if sep and sep.group(1) in _DELIMITERS:
        delimiter = sep.group(1)
        text = text[sep.end() :]
    if delimiter is None:
        delimiter = _detect_delimiter(text)
    table: list[list[object]] = []
    counter = _RowCounter()
    try:
        for record in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
            row = _trimmed(_unwrap_text_formula(cell) for cell in record)
            counter.add(row)
            table.append(row)
    except csv.Error as error:
        raise UnreadableFile(UnreadableFile.UNKNOWN_FORMAT) from error
    return table


def _unwrap_text_formula(cell: str) -> str:
    match = _TEXT_FORMULA.fullmatch(cell.strip())
    return match.group(1) if match else cell


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


# XLSX


def _read_xlsx(content: bytes) -> list[list[object]]:
    if not content:
        raise UnreadableFile(UnreadableFile.EMPTY)
    if not zipfile.is_zipfile(io.BytesIO(content)):
        raise UnreadableFile(UnreadableFile.UNKNOWN_FORMAT)
    table: list[list[object]] = []
    counter = _RowCounter()
    try:
        with warnings.catch_warnings():
            # openpyxl warns about things it skips (data validation, no default style...);
            # none of them change the cells.
            warnings.simplefilter("ignore")
            from openpyxl import load_workbook  # here: it pulls in numpy and PIL at import

            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
            try:
                sheets = workbook.worksheets
                if not sheets:
                    raise UnreadableFile(UnreadableFile.EMPTY)
                sheet = sheets[0]
                # Some writers store a wrong sheet size; read every row that is there.
                reset = getattr(sheet, "reset_dimensions", None)
                if reset is not None:
                    reset()
                for values in sheet.iter_rows(values_only=True):
                    row = _trimmed(values)
                    counter.add(row)
                    table.append(row)
            finally:
                workbook.close()
    except UnreadableFile:
        raise
    except Exception as error:  # a damaged or foreign file can fail anywhere inside openpyxl
        raise UnreadableFile(UnreadableFile.UNKNOWN_FORMAT) from error
    while table and not table[-1]:
        table.pop()
    return table


# --- reading the clients ---------------------------------------------------------------------


def _fold(text: str) -> str:
    """Casefolded, without diacritics or punctuation, single-spaced: "Wartość (PLN):" ->
    "wartosc pln"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    plain = plain.translate(_UNDECOMPOSABLE)
    return " ".join(re.sub(r"[\W_]+", " ", plain).split())


_UNDECOMPOSABLE = str.maketrans({"ł": "l", "đ": "d", "ø": "o", "ß": "ss"})

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
    table: list[list[object]], *, country: str, timezone: str, now: datetime
) -> ImportResult:
    """Validated clients from `read_table`'s rows (see the module docstring).

    `country` is the team's 2-letter region ("PL"), `timezone` its IANA zone, `now` an aware
    moment. Raises UnreadableFile: "empty" (no non-empty row), "no_name_column",
    "too_many_rows" (more than MAX_DATA_ROWS non-empty rows after the header)."""
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
    if len(data) > MAX_DATA_ROWS:
        raise UnreadableFile(UnreadableFile.TOO_MANY_ROWS)
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
