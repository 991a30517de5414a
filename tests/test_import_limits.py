"""Hostile files sent for import are refused, with the reason and the numbers, in bounded time:
before openpyxl sees them when the zip's directory or streams give them away, and by the child
process's CPU and memory limits otherwise (`bot.services.importing`, `bot.workers.parse_import`).
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import random
import resource
import string
import struct
import time
import zipfile
from collections.abc import Iterable
from datetime import UTC, datetime
from xml.sax.saxutils import escape

import pytest

from bot.services import importing
from bot.services.importing import (
    ImportLimits,
    ImportResult,
    ImportWorkerError,
    UnreadableFile,
    parse_file,
    parse_in_child,
    read_table,
)

NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
LIMITS = ImportLimits()
MB = 1024 * 1024
QUICK = 5.0  # seconds a refusal may take, child process included

# --- building files --------------------------------------------------------------------------

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PACKAGE_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
_SML = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def sheet(rows: Iterable[str]) -> str:
    return f'<worksheet xmlns="{_MAIN}"><sheetData>{"".join(rows)}</sheetData></worksheet>'


def row(number: int, *cells: str) -> str:
    """A row of the worksheet XML; cells from `cell`, or nothing (a blank row)."""
    return f'<row r="{number}">{"".join(cells)}</row>'


def cell(reference: str, value: object = None, *, shared: int | None = None) -> str:
    if shared is not None:
        return f'<c r="{reference}" t="s"><v>{shared}</v></c>'
    if value is None:
        return f'<c r="{reference}" s="0"/>'  # formatted, empty
    if isinstance(value, str):
        return f'<c r="{reference}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'
    return f'<c r="{reference}"><v>{value}</v></c>'


def shared_strings(strings: Iterable[str]) -> str:
    return f'<sst xmlns="{_MAIN}">{"".join(f"<si><t>{s}</t></si>" for s in strings)}</sst>'


def workbook(
    worksheet: str,
    strings: str | None = None,
    *,
    strings_part: str = "xl/sharedStrings.xml",
    extra: dict[str, bytes] | None = None,
) -> bytes:
    """A minimal XLSX as Excel lays it out: content types, relationships, one worksheet, and
    optionally shared strings (under `strings_part`, named in the content types) and more
    members."""
    overrides = (
        f'<Override PartName="/xl/workbook.xml" ContentType="{_SML}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_SML}.worksheet+xml"/>'
    )
    relations = f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    if strings is not None:
        part_type = f"{_SML}.sharedStrings+xml"
        overrides += f'<Override PartName="/{strings_part}" ContentType="{part_type}"/>'
        relations += (
            f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" '
            f'Target="{strings_part.removeprefix("xl/")}"/>'
        )
    parts = {
        "[Content_Types].xml": (
            f'<Types xmlns="{_TYPES}"><Default Extension="rels" ContentType="application/'
            f'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" '
            f'ContentType="application/xml"/>{overrides}</Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{_PACKAGE_REL}"><Relationship Id="rId1" '
            f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets><sheet name="Klienci" '
            f'sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": f'<Relationships xmlns="{_PACKAGE_REL}">{relations}</Relationships>',  # noqa: E501
        "xl/worksheets/sheet1.xml": worksheet,
    }
    if strings is not None:
        parts[strings_part] = strings
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, text)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def names_sheet(count: int, first: int = 2) -> list[str]:
    """The header ("Name") and `count` client rows from row `first` on."""
    rows = [row(1, cell("A1", "Name"))]
    rows += [row(n, cell(f"A{n}", f"Klient {n}")) for n in range(first, first + count)]
    return rows


def csv_file(lines: Iterable[str]) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode()


def random_words(count: int, letters: int, seed: int) -> list[str]:
    """Short distinct-looking words: they compress like text (about 6x), not like a bomb."""
    chosen = random.Random(seed).choices(string.ascii_lowercase, k=count * letters)
    text = "".join(chosen)
    return [text[i : i + letters] for i in range(0, len(text), letters)]


# --- asking ----------------------------------------------------------------------------------


async def refused(
    content: bytes, filename: str, limits: ImportLimits = LIMITS, *, within: float = QUICK
) -> UnreadableFile:
    """The child's refusal, which must come within `within` seconds."""
    started = time.perf_counter()
    with pytest.raises(UnreadableFile) as error:
        await parse_in_child(
            content, filename, limits=limits, country="PL", timezone="Europe/Warsaw", now=NOW
        )
    elapsed = time.perf_counter() - started
    assert elapsed < within, f"{error.value!r} took {elapsed:.1f} s"
    return error.value


async def parsed(content: bytes, filename: str, limits: ImportLimits = LIMITS) -> ImportResult:
    result = await parse_in_child(
        content, filename, limits=limits, country="PL", timezone="Europe/Warsaw", now=NOW
    )
    here = parse_file(
        content, filename, limits=limits, country="PL", timezone="Europe/Warsaw", now=NOW
    )
    assert result == here
    return result


def refused_here(content: bytes, filename: str, limits: ImportLimits = LIMITS) -> UnreadableFile:
    with pytest.raises(UnreadableFile) as error:
        read_table(content, filename, limits)
    return error.value


@pytest.fixture
def no_openpyxl(monkeypatch: pytest.MonkeyPatch) -> None:
    """In this process: fail if openpyxl is asked to open the file."""
    import openpyxl

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("openpyxl saw the file")

    monkeypatch.setattr(openpyxl, "load_workbook", refuse)


# --- the zip: refused before openpyxl sees it ------------------------------------------------


@pytest.mark.usefixtures("no_openpyxl")
async def test_millions_of_one_letter_shared_strings() -> None:
    strings = shared_strings(["a"] * 2_000_000)  # 32 MB unpacked, ~90 KB packed
    content = workbook(sheet(names_sheet(1)), strings)
    assert len(content) < 200_000

    error = await refused(content, "klienci.xlsx")

    assert error.reason == "shared_strings_too_big"
    assert (error.limit, error.found) == (10 * MB, len(strings))
    assert refused_here(content, "klienci.xlsx").reason == "shared_strings_too_big"


@pytest.mark.usefixtures("no_openpyxl")
async def test_shared_strings_under_another_name_are_found_by_their_content_type() -> None:
    strings = shared_strings(random_words(100_000, 3, seed=1))  # 1.9 MB, ratio about 6
    content = workbook(sheet(names_sheet(1)), strings, strings_part="xl/texts.xml")
    limits = ImportLimits(max_shared_strings_bytes=1 * MB)

    error = await refused(content, "klienci.xlsx", limits)

    assert error.reason == "shared_strings_too_big" and error.found == len(strings)


@pytest.mark.usefixtures("no_openpyxl")
async def test_a_member_packed_over_100_times() -> None:
    content = workbook(sheet(names_sheet(1)), extra={"xl/media/image1.png": bytes(5 * MB)})

    error = await refused(content, "klienci.xlsx")

    assert error.reason == "packed_too_tightly"
    assert error.limit == 100 and error.found is not None and error.found > 100


@pytest.mark.usefixtures("no_openpyxl")
async def test_many_small_members_packed_over_100_times_together() -> None:
    padding = {f"xl/media/image{n}.png": bytes(900_000) for n in range(20)}  # each under 1 MiB
    content = workbook(sheet(names_sheet(1)), extra=padding)

    error = await refused(content, "klienci.xlsx")

    assert error.reason == "packed_too_tightly" and error.found is not None


@pytest.mark.usefixtures("no_openpyxl")
async def test_more_than_30_mb_unpacked() -> None:
    pieces = [os.urandom(4).hex() + " " * 100 for _ in range(4096)]  # packs about 13 to 1
    blob = ("".join(pieces) * 75).encode()  # 33.2 MB
    content = workbook(sheet(names_sheet(1)), extra={"xl/media/video.bin": blob})
    assert len(content) < 5 * MB

    error = await refused(content, "klienci.xlsx")

    assert error.reason == "too_big_unpacked"
    assert error.limit == 30 * MB and error.found is not None and error.found > len(blob)


async def test_a_file_over_5_mb_is_refused_without_a_child(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def no_child(*args: object, **kwargs: object) -> None:
        raise AssertionError("a child process was started")

    monkeypatch.setattr(asyncio, "create_subprocess_exec", no_child)
    content = b"Name\r\n" + b"x" * (5 * MB)

    error = await refused(content, "klienci.csv", within=1)

    assert (error.reason, error.limit, error.found) == ("too_big", 5 * MB, len(content))
    assert (await refused(b"%PDF", "klienci.pdf", within=1)).reason == "unknown_format"


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def _patched_directory(content: bytes, name: str, offset: int, layout: str, value: int) -> bytes:
    """The zip with one field of `name`'s central directory entry changed (offsets as in the
    zip format: 8 the flags, 24 the uncompressed size)."""
    patched = bytearray(content)
    entry = patched.index(b"PK\x01\x02")
    while True:
        name_length = struct.unpack_from("<H", patched, entry + 28)[0]
        if patched[entry + 46 : entry + 46 + name_length] == name.encode():
            break
        entry = patched.index(b"PK\x01\x02", entry + 4)
    struct.pack_into(layout, patched, entry + offset, value)
    return bytes(patched)


@pytest.mark.usefixtures("no_openpyxl")
@pytest.mark.parametrize(
    ("members", "detail"),
    [
        ({"../../etc/cron.d/x": b"x", "[Content_Types].xml": b"<Types/>"}, "unsafe_name"),
        ({"xl/../../x.xml": b"x"}, "unsafe_name"),
        ({"/etc/passwd": b"x"}, "unsafe_name"),
        ({"C:/boot.ini": b"x"}, "unsafe_name"),
        ({f"xl/media/{n}.xml": b"x" for n in range(1_001)}, "too_many_parts"),
    ],
)
async def test_zips_excel_would_not_write(members: dict[str, bytes], detail: str) -> None:
    content = _zip(members)

    error = await refused(content, "klienci.xlsx")

    assert (error.reason, error.detail) == ("unknown_format", detail)
    if detail == "too_many_parts":
        assert (error.limit, error.found) == (1_000, 1_001)
    assert refused_here(content, "klienci.xlsx").detail == detail


@pytest.mark.usefixtures("no_openpyxl")
async def test_encrypted_members() -> None:
    content = _patched_directory(workbook(sheet(names_sheet(1))), "xl/workbook.xml", 8, "<H", 1)
    error = await refused(content, "klienci.xlsx")
    assert (error.reason, error.detail) == ("unknown_format", "encrypted")


@pytest.mark.usefixtures("no_openpyxl")
async def test_a_central_directory_that_lies_about_sizes() -> None:
    """The directory says 1,000 bytes; the stream inflates to 20 MB (what openpyxl would read)."""
    honest = workbook(sheet(names_sheet(1)), extra={"xl/styles.xml": bytes(20 * MB)})
    content = _patched_directory(honest, "xl/styles.xml", 24, "<L", 1_000)

    error = await refused(content, "klienci.xlsx")

    assert (error.reason, error.detail) == ("unknown_format", "sizes_lie")


# --- the worksheet: refused while reading ----------------------------------------------------


async def test_5001_data_rows() -> None:
    fine = workbook(sheet(names_sheet(5_000)))
    assert len((await parsed(fine, "klienci.xlsx")).rows) == 5_000

    xlsx = await refused(workbook(sheet(names_sheet(5_001))), "klienci.xlsx")
    lines = ["Name", *(f"Klient {n}" for n in range(5_001))]
    text = await refused(csv_file(lines), "klienci.csv")

    for error in (xlsx, text):
        assert (error.reason, error.limit, error.row) == ("too_many_rows", 5_000, 5_002)


async def test_blank_rows_count_too() -> None:
    """4,000 filled rows and 2,000 blank ones among them are 6,000 rows."""
    rows = names_sheet(2_000) + names_sheet(2_000, first=4_002)[1:]  # rows 2002-4001 missing
    xlsx = await refused(workbook(sheet(rows)), "klienci.xlsx")
    empty_rows = [row(1, cell("A1", "Name"))] + [
        row(n, cell(f"A{n}", f"Klient {n}") if n % 3 else cell(f"A{n}")) for n in range(2, 6_002)
    ]  # every third row only formatted
    formatted = await refused(workbook(sheet(empty_rows)), "klienci.xlsx")
    lines = ["Name;Phone", *(f"Klient {n};" for n in range(2_000))]
    lines += [";"] * 1_000 + [""] * 1_000 + [f"Klient {n};" for n in range(2_000)]
    text = await refused(csv_file(lines), "klienci.csv")

    for error in (xlsx, formatted, text):
        assert (error.reason, error.limit) == ("too_many_rows", 5_000)


async def test_blank_rows_after_the_last_filled_one_do_not_count() -> None:
    """Excel writes rows that were only formatted; nobody sees them, nothing is read there."""
    lines = ["Name;Phone", *(f"Klient {n};" for n in range(4_000))] + [";"] * 3_000
    assert len((await parsed(csv_file(lines), "klienci.csv")).rows) == 4_000
    rows = names_sheet(4_000) + [row(n, cell(f"A{n}")) for n in range(4_002, 7_002)]
    assert len((await parsed(workbook(sheet(rows)), "klienci.xlsx")).rows) == 4_000


async def test_a_row_numbered_a_billion_is_refused_at_once() -> None:
    rows = [*names_sheet(1), row(1_000_000_000, cell("A1000000000", "Klient"))]
    error = await refused(workbook(sheet(rows)), "klienci.xlsx", within=2)
    assert (error.reason, error.row) == ("too_many_rows", 1_000_000_000)


async def test_51_columns() -> None:
    header = [f"Column {n}" for n in range(1, 51)] + ["Name"]
    values = [f"v{n}" for n in range(1, 52)]
    letters = [*string.ascii_uppercase, *(f"A{c}" for c in string.ascii_uppercase)][:51]
    rows = [
        row(1, *(cell(f"{c}1", h) for c, h in zip(letters, header, strict=True))),
        row(2, *(cell(f"{c}2", v) for c, v in zip(letters, values, strict=True))),
    ]
    xlsx = await refused(workbook(sheet(rows)), "klienci.xlsx")
    text = await refused(csv_file([";".join(header), ";".join(values)]), "klienci.csv")

    for error in (xlsx, text):
        assert (error.reason, error.limit, error.found, error.row) == (
            "too_many_columns", 50, 51, 1,
        )  # fmt: skip


async def test_columns_count_up_to_the_last_filled_cell() -> None:
    """A formatted cell far right is no column; a filled one at XFD is 16,384 of them, refused
    before any padding of the row is built."""
    rows = [row(1, cell("A1", "Name"), cell("XFD1"))] + [
        row(n, cell(f"A{n}", f"Klient {n}"), cell(f"XFD{n}")) for n in range(2, 2_002)
    ]
    assert len((await parsed(workbook(sheet(rows)), "klienci.xlsx")).rows) == 2_000
    lines = ["Name" + ";" * 200, *(f"Klient {n}" + ";" * 200 for n in range(100))]
    assert len((await parsed(csv_file(lines), "klienci.csv")).rows) == 100

    rows = [row(1, cell("A1", "Name")), row(2, cell("A2", "Jan"), cell("XFD2", 1))]
    error = await refused(workbook(sheet(rows)), "klienci.xlsx")
    assert (error.reason, error.found, error.row) == ("too_many_columns", 16_384, 2)


async def test_a_40000_character_cell() -> None:
    monster = "x" * 40_000
    strings = shared_strings(["Name", monster])
    rows = [row(1, cell("A1", shared=0)), row(2, cell("A2", shared=1))]
    xlsx = await refused(workbook(sheet(rows), strings), "klienci.xlsx")
    text = await refused(csv_file(["Name;Note", f"Jan;{monster}"]), "klienci.csv")

    for error in (xlsx, text):
        assert (error.reason, error.limit, error.found, error.row) == (
            "cell_too_long", 32_767, 40_000, 2,
        )  # fmt: skip
    fine = csv_file(["Name;Note", f"Jan;{'x' * 32_767}"])
    assert len((await parsed(fine, "klienci.csv")).rows) == 1


async def test_a_cell_past_the_csv_field_limit_is_refused_not_cut() -> None:
    before = csv.field_size_limit()
    content = csv_file(["Name;Note", f'Jan;"{"x" * 200_000}"'])

    error = await refused(content, "klienci.csv")

    assert (error.reason, error.limit, error.row) == ("cell_too_long", 32_767, 2)
    assert refused_here(content, "klienci.csv").reason == "cell_too_long"
    assert csv.field_size_limit() == before  # the process-wide limit is put back


# --- the child's own limits ------------------------------------------------------------------


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


async def test_a_cpu_bomb_runs_into_the_cpu_limit(capsys: pytest.CaptureFixture[str]) -> None:
    """300,000 tiny shared strings pass every size check (5.7 MB, packed 7 to 1) but take
    openpyxl about 2 s: with 1 CPU second the child is stopped."""
    strings = shared_strings(["Name", *random_words(300_000, 3, seed=2)])
    content = workbook(sheet(names_sheet(1)), strings)
    limits = ImportLimits(max_shared_strings_bytes=len(strings) + 1, cpu_seconds=1)
    cpu = _children_cpu()
    started = time.perf_counter()

    error = await refused(content, "klienci.xlsx", limits, within=importing.wall_seconds(limits))

    wall, cpu = time.perf_counter() - started, _children_cpu() - cpu
    assert (error.reason, error.limit) == ("too_much_work", 1)
    assert wall < 4
    with capsys.disabled():
        print(f"\n[cpu bomb] refused after {wall:.2f} s wall, {cpu:.2f} s CPU of the child")


async def test_a_memory_bomb_runs_into_the_memory_limit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """250,000 cells (5,000 rows of 50) within every limit need about 65 MB to hold."""
    lines = ["Name;" + ";".join(f"c{n}" for n in range(49))]
    lines += [";".join(["abcdefghijklmnopqr"] * 50)] * 5_000
    content = csv_file(lines)
    limits = ImportLimits(memory_mb=48)
    assert len(content) < 5 * MB
    small = workbook(sheet(names_sheet(3)))
    assert len((await parsed(small, "klienci.xlsx", limits)).rows) == 3  # openpyxl fits
    started = time.perf_counter()

    error = await refused(content, "klienci.csv", limits)

    wall = time.perf_counter() - started
    assert (error.reason, error.limit) == ("too_much_memory", 48)
    with capsys.disabled():
        print(f"\n[memory bomb] refused after {wall:.2f} s wall")


async def test_the_wall_clock_limit_kills_the_child(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importing, "wall_seconds", lambda limits: 0.001)
    error = await refused(csv_file(["Name", "Jan"]), "klienci.csv")
    assert (error.reason, error.limit) == ("too_much_work", 30)


async def test_a_child_that_fails_is_no_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importing, "WORKER_MODULE", "bot.workers.no_such_worker")
    with pytest.raises(ImportWorkerError, match="No module named"):
        await parse_in_child(
            b"Name\r\nJan\r\n", "a.csv", limits=LIMITS, country="PL", timezone="UTC", now=NOW
        )


def test_limits_from_the_settings() -> None:
    from bot.config import Settings

    settings = Settings(telegram_bot_token="1:x", import_max_rows=100, import_cpu_seconds=5)
    limits = ImportLimits.from_settings(settings)
    assert limits == ImportLimits(max_rows=100, cpu_seconds=5)
    assert UnreadableFile("too_big", limit=1, found=2).details == {"limit": 1, "found": 2}
