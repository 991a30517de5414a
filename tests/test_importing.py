"""Reading clients from CSV/XLSX files as Excel saves them in PL, RU, RO and MD (pure, no DB)."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, date, datetime, timedelta

import pytest
from openpyxl import Workbook

from bot.services.importing import (
    MAX_DATA_ROWS,
    BadRow,
    ImportLimits,
    ImportResult,
    ImportRow,
    UnreadableFile,
    parse_clients,
    parse_in_child,
    read_table,
)

NOW = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


def _csv(lines: list[str], encoding: str, newline: str = "\r\n") -> bytes:
    return newline.join(lines).encode(encoding) + newline.encode(encoding)


def _xlsx(rows: list[list[object]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _in_child(content: bytes, filename: str, country: str, timezone: str) -> ImportResult:
    return asyncio.run(
        parse_in_child(
            content, filename, limits=ImportLimits(), country=country, timezone=timezone, now=NOW
        )
    )


def _import(
    content: bytes, filename: str, country: str = "PL", timezone: str = "Europe/Warsaw"
) -> ImportResult:
    """The file read here; and the same file read in the limited child process (what the bot
    does) must give the same result, or the same refusal."""
    try:
        table = read_table(content, filename)
        result = parse_clients(table, country=country, timezone=timezone, now=NOW)
    except UnreadableFile as error:
        with pytest.raises(UnreadableFile) as child:
            _in_child(content, filename, country, timezone)
        assert (child.value.reason, child.value.details) == (error.reason, error.details)
        raise
    assert _in_child(content, filename, country, timezone) == result
    return result


def _refused(content: bytes, filename: str) -> str:
    """The reason `read_table` refuses the file for, which the child process gives too."""
    with pytest.raises(UnreadableFile) as error:
        read_table(content, filename)
    with pytest.raises(UnreadableFile) as child:
        _in_child(content, filename, "PL", "Europe/Warsaw")
    assert child.value.reason == error.value.reason
    return error.value.reason


def _reason(error: pytest.ExceptionInfo[UnreadableFile]) -> str:
    return error.value.reason


# --- the four kinds of file ------------------------------------------------------------------


def test_polish_csv_cp1250_semicolons() -> None:
    content = _csv(
        [
            "Imię i nazwisko;Telefon;Wartość;Etap;Opiekun;Następny kontakt",
            "Łukasz Żółć;600 100 200;95 000;Oferta;Anna Wiśniewska;15.12.2026 14:30",
            "Jan Kowalski;+48 601 200 300;95 000,50;;;2026-12-15",
        ],
        "cp1250",
    )
    assert read_table(content, "klienci.csv")[1][0] == "Łukasz Żółć"

    result = _import(content, "klienci.csv")

    assert result.bad == []
    assert result.columns == {
        "name": 0,
        "phone": 1,
        "value": 2,
        "stage": 3,
        "owner": 4,
        "next_contact": 5,
    }
    assert result.rows == [
        ImportRow(
            row_number=2,
            name="Łukasz Żółć",
            phone="+48600100200",
            value_minor=9_500_000,
            stage="Oferta",
            owner="Anna Wiśniewska",
            next_contact=datetime(2026, 12, 15, 13, 30, tzinfo=UTC),
        ),
        ImportRow(
            row_number=3,
            name="Jan Kowalski",
            phone="+48601200300",
            value_minor=9_500_050,
            stage=None,
            owner=None,
            # a date without a time is 09:00 local (CET = UTC+1)
            next_contact=datetime(2026, 12, 15, 8, 0, tzinfo=UTC),
        ),
    ]


def test_russian_csv_cp1251_semicolons() -> None:
    content = _csv(["ФИО;Телефон;Сумма", "Иван Петров;8 916 123-45-67;1 200 000"], "cp1251")
    assert read_table(content, "clients.csv") == [
        ["ФИО", "Телефон", "Сумма"],
        ["Иван Петров", "8 916 123-45-67", "1 200 000"],
    ]

    result = _import(content, "clients.csv", country="RU", timezone="Europe/Moscow")

    assert result.columns == {"name": 0, "phone": 1, "value": 2}
    assert result.bad == []
    assert result.rows == [
        ImportRow(2, "Иван Петров", "+79161234567", 120_000_000, None, None, None)
    ]


def test_romanian_csv_utf8_bom_commas_and_quotes() -> None:
    content = b"\xef\xbb\xbf" + _csv(
        [
            "Nume,Telefon,Valoare,Etapă,Responsabil,Următorul contact",
            '"Popescu, Ion",0722 123 456,95.000,Ofertă,Maria,15.12.2026',
            'Ionescu Ana,"+40 733 111 222","1.250.000,50",,,',
        ],
        "utf-8",
    )

    result = _import(content, "clienti.CSV", country="RO", timezone="Europe/Bucharest")

    assert result.columns == {
        "name": 0,
        "phone": 1,
        "value": 2,
        "stage": 3,
        "owner": 4,
        "next_contact": 5,
    }
    assert result.bad == []
    assert result.rows == [
        ImportRow(
            2,
            "Popescu, Ion",
            "+40722123456",
            9_500_000,
            "Ofertă",
            "Maria",
            datetime(2026, 12, 15, 7, 0, tzinfo=UTC),  # 09:00 EET
        ),
        ImportRow(3, "Ionescu Ana", "+40733111222", 125_000_050, None, None, None),
    ]


def test_utf8_without_bom_tab_separated() -> None:
    content = _csv(
        [
            "Name\tPhone\tAmount\tStage\tOwner\tNext contact",
            "John Smith\t+48 600 100 200\t1,2 mln\tNew\tAnna\t15/12/2026",
            "Zofia Łęcka\t\t\t\t\t",
        ],
        "utf-8",
        newline="\n",
    )

    result = _import(content, "export.csv")

    assert result.bad == []
    assert result.rows == [
        ImportRow(
            2,
            "John Smith",
            "+48600100200",
            120_000_000,
            "New",
            "Anna",
            datetime(2026, 12, 15, 8, 0, tzinfo=UTC),
        ),
        ImportRow(3, "Zofia Łęcka", None, None, None, None, None),
    ]


def test_xlsx_with_date_and_number_cells() -> None:
    content = _xlsx(
        [
            ["Klient", "Telefon", "Kwota", "Etap", "Handlowiec", "Następny kontakt"],
            ["Łukasz Żółć", 600100200, 95000.0, "Oferta", "Anna", datetime(2026, 12, 15, 14, 30)],
            [],
            ["Jan Nowak", 48601200300, 120000, None, None, datetime(2026, 7, 1)],
            ["Ion Popescu", 37369123456, 95000.5, None, None, None],
        ]
    )
    table = read_table(content, "Klienci.xlsx")
    assert table[1][1] == 600100200
    assert table[1][5] == datetime(2026, 12, 15, 14, 30)

    result = _import(content, "Klienci.xlsx")

    assert result.bad == []
    assert result.rows == [
        ImportRow(
            2,
            "Łukasz Żółć",
            "+48600100200",
            9_500_000,
            "Oferta",
            "Anna",
            datetime(2026, 12, 15, 13, 30, tzinfo=UTC),
        ),
        # row 3 is empty; Excel dropped the "+" of both phones; a date cell at midnight
        # is a date without a time: 09:00 local (CEST = UTC+2)
        ImportRow(
            4,
            "Jan Nowak",
            "+48601200300",
            12_000_000,
            None,
            None,
            datetime(2026, 7, 1, 7, 0, tzinfo=UTC),
        ),
        ImportRow(5, "Ion Popescu", "+37369123456", 9_500_050, None, None, None),
    ]


# --- bad rows --------------------------------------------------------------------------------


def test_bad_rows_are_reported_with_their_excel_row_numbers() -> None:
    long_name = "A" * 201
    content = _csv(
        [
            "Imię i nazwisko;Telefon;Wartość;Następny kontakt",
            "Jan Kowalski;600 100 200;95 000;15.12.2026",
            "Adam Zły;12;;",
            "Ewa Nowak;;lots;",
            ";;;",
            "Piotr Wiśniewski;;;32.13.2026",
            ";600 100 202;;",
            f"{long_name};;;",
            "Anna Maj;601 100 100;1 000;01.02.2026 08:15",
        ],
        "cp1250",
    )

    result = _import(content, "klienci.csv")

    assert result.bad == [
        BadRow(3, "bad_phone", "12"),
        BadRow(4, "bad_value", "lots"),
        BadRow(6, "bad_date", "32.13.2026"),
        BadRow(7, "no_name", "600 100 202"),
        BadRow(8, "name_too_long", "A" * 100 + "…"),
    ]
    assert [row.row_number for row in result.rows] == [2, 9]
    assert result.rows[0].phone == "+48600100200"
    # a past date is history, returned as it is (07:15 UTC = 08:15 CET)
    assert result.rows[1].next_contact == datetime(2026, 2, 1, 7, 15, tzinfo=UTC)


def test_a_row_with_several_problems_is_reported_once_per_problem() -> None:
    table: list[list[object]] = [
        ["Name", "Phone", "Value", "Next contact"],
        ["Jan", "abc", -5, "tomorrow"],
    ]

    result = parse_clients(table, country="PL", timezone="Europe/Warsaw", now=NOW)

    assert result.rows == []
    assert result.bad == [
        BadRow(2, "bad_phone", "abc"),
        BadRow(2, "bad_value", "-5"),
        BadRow(2, "bad_date", "tomorrow"),
    ]


# --- whole-file problems ---------------------------------------------------------------------


def test_no_name_column() -> None:
    content = _csv(["Telefon;Wartość", "600 100 200;95 000"], "utf-8")
    with pytest.raises(UnreadableFile) as error:
        _import(content, "klienci.csv")
    assert _reason(error) == "no_name_column"


@pytest.mark.parametrize("content", [b"", b"  \r\n", b";;;\r\n\r\n;;\r\n", b"\xef\xbb\xbf"])
def test_empty_csv(content: bytes) -> None:
    assert _refused(content, "klienci.csv") == "empty"


def test_empty_xlsx_and_empty_table() -> None:
    with pytest.raises(UnreadableFile) as error:
        read_table(_xlsx([]), "klienci.xlsx")
    assert _reason(error) == "empty"
    with pytest.raises(UnreadableFile) as error:
        parse_clients([[], [None, " "]], country="PL", timezone="Europe/Warsaw", now=NOW)
    assert _reason(error) == "empty"


@pytest.mark.parametrize(
    ("content", "filename"),
    [
        (b"%PDF-1.4 ...", "klienci.pdf"),
        (b"\xd0\xcf\x11\xe0 old excel", "klienci.xls"),
        (b"Name;Phone\r\nJan;600100200\r\n", "klienci.xlsx"),  # a CSV under an xlsx name
        (b"PK\x03\x04 broken zip", "klienci.xlsx"),
        (b"Name\r\n", "klienci"),
    ],
)
def test_unknown_format(content: bytes, filename: str) -> None:
    assert _refused(content, filename) == "unknown_format"


def test_too_many_rows() -> None:
    names = [f"Klient {number}" for number in range(MAX_DATA_ROWS)]
    just_enough = _csv(["Imię i nazwisko", *names], "utf-8")
    assert len(_import(just_enough, "klienci.csv").rows) == MAX_DATA_ROWS

    too_many = _csv(["Imię i nazwisko", *names, "Klient extra"], "utf-8")
    with pytest.raises(UnreadableFile) as error:
        read_table(too_many, "klienci.csv")
    assert _reason(error) == "too_many_rows"

    table: list[list[object]] = [["Name"]]
    table.extend([name] for name in [*names, "extra"])
    with pytest.raises(UnreadableFile) as error:
        parse_clients(table, country="PL", timezone="Europe/Warsaw", now=NOW)
    assert _reason(error) == "too_many_rows"
    assert (error.value.limit, error.value.found) == (MAX_DATA_ROWS, MAX_DATA_ROWS + 1)


def test_blank_rows_between_filled_ones_count_as_rows() -> None:
    table: list[list[object]] = [[], ["Name"]]  # a blank row above the header does not count
    filled: list[list[object]] = [[f"Klient {n}"] for n in range(4_000)]
    table += filled + [[]] * 1_000 + [[None, " "]] * 1_000
    with_trailing_blanks = parse_clients(table, country="PL", timezone="Europe/Warsaw", now=NOW)
    assert len(with_trailing_blanks.rows) == 4_000

    table.append(["Klient 4000"])
    with pytest.raises(UnreadableFile) as error:
        parse_clients(table, country="PL", timezone="Europe/Warsaw", now=NOW)
    assert (error.value.reason, error.value.limit, error.value.found) == (
        "too_many_rows", 5_000, 6_001,
    )  # fmt: skip
    small = ImportLimits(max_rows=3)
    lines = ["Name", "Jan", "", "", "Ewa"]
    with pytest.raises(UnreadableFile) as error:
        read_table(_csv(lines, "utf-8"), "klienci.csv", small)
    assert (error.value.reason, error.value.row) == ("too_many_rows", 5)
    assert read_table(_csv(lines[:4], "utf-8"), "klienci.csv", small) == [["Name"], ["Jan"]]


# --- headers ---------------------------------------------------------------------------------


def test_headers_in_any_case_with_or_without_diacritics_and_units() -> None:
    table: list[list[object]] = [
        [],
        ["Lp.", "IMIE I NAZWISKO", "Nr telefonu", "Wartość (PLN)", "Uwagi", "Data kontaktu:"],
        [1, "Jan Kowalski", "600-100-200", "95 000 zł", "VIP", "2026-12-15 14:30"],
    ]

    result = parse_clients(table, country="PL", timezone="Europe/Warsaw", now=NOW)

    assert result.columns == {"name": 1, "phone": 2, "value": 3, "next_contact": 5}
    assert result.rows == [
        ImportRow(
            3,
            "Jan Kowalski",
            "+48600100200",
            9_500_000,
            None,
            None,
            datetime(2026, 12, 15, 13, 30, tzinfo=UTC),
        )
    ]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["Imię", "Nazwisko", "Telefon"], {"first_name": 0, "last_name": 1, "phone": 2}),
        (["Фамилия", "Имя", "Телефон"], {"first_name": 1, "last_name": 0, "phone": 2}),
        (["Prenume", "Nume", "Telefon"], {"first_name": 0, "last_name": 1, "phone": 2}),
        (["Nume", "Telefon"], {"name": 0, "phone": 1}),
        (["Имя", "Тел."], {"name": 0, "phone": 1}),
    ],
)
def test_name_from_one_or_two_columns(header: list[object], expected: dict[str, int]) -> None:
    first = {"first_name": "Jan", "last_name": "Kowalski"}
    row: list[object] = ["", "", "600100200"]
    for field, column in expected.items():
        if field in first:
            row[column] = first[field]
    if "name" in expected:
        row = ["Jan Kowalski", "600100200"]

    result = parse_clients([header, row], country="PL", timezone="Europe/Warsaw", now=NOW)

    assert result.columns == expected
    assert [(r.name, r.phone) for r in result.rows] == [("Jan Kowalski", "+48600100200")]


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Telefon klienta", "phone"),
        ("Kontakt", "next_contact"),
        ("Contact", "next_contact"),
        ("Ответственный менеджер", "owner"),
        ("Стоимость, руб.", "value"),
        ("Sumă (lei)", "value"),
        ("Agent", "owner"),
        ("Stadia", None),
        ("Kontakt telefoniczny", None),  # "kontakt" must be the whole header
    ],
)
def test_header_recognition(header: str, field: str | None) -> None:
    table: list[list[object]] = [["Name", header], ["Jan", None]]
    result = parse_clients(table, country="PL", timezone="Europe/Warsaw", now=NOW)
    expected = {"name": 0} if field is None else {"name": 0, field: 1}
    assert result.columns == expected


# --- cells -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("15.12.2026 14:30", datetime(2026, 12, 15, 13, 30, tzinfo=UTC)),
        ("15.12.2026 14:30:15", datetime(2026, 12, 15, 13, 30, 15, tzinfo=UTC)),
        ("2026-12-15T14:30", datetime(2026, 12, 15, 13, 30, tzinfo=UTC)),
        ("15/12/2026", datetime(2026, 12, 15, 8, 0, tzinfo=UTC)),
        ("12/15/2026", datetime(2026, 12, 15, 8, 0, tzinfo=UTC)),
        ("15-12-2026", datetime(2026, 12, 15, 8, 0, tzinfo=UTC)),
        ("15.12.26", datetime(2026, 12, 15, 8, 0, tzinfo=UTC)),
        ("15.12.2026 r.", datetime(2026, 12, 15, 8, 0, tzinfo=UTC)),
        ("15.12.2026 г.", datetime(2026, 12, 15, 8, 0, tzinfo=UTC)),
        ("15.12", datetime(2026, 12, 15, 8, 0, tzinfo=UTC)),  # the next 15 December
        ("15.05", datetime(2027, 5, 15, 7, 0, tzinfo=UTC)),  # 15 May 2026 has passed
        (datetime(2026, 3, 29, 2, 30), datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),  # DST gap
        (datetime(2026, 12, 15, 14, 30, tzinfo=UTC), datetime(2026, 12, 15, 14, 30, tzinfo=UTC)),
        (date(2026, 12, 15), datetime(2026, 12, 15, 8, 0, tzinfo=UTC)),
        (46371, datetime(2026, 12, 15, 8, 0, tzinfo=UTC)),  # an Excel serial date
        (46371.6041666667, datetime(2026, 12, 15, 13, 30, tzinfo=UTC)),
        ("32.13.2026", None),
        ("31.02.2026", None),
        ("15.12.2026 25:00", None),
        ("jutro", None),
        ("2026", None),
        (95000, None),  # a number, not an Excel date serial of 1950-2099
        (True, None),
    ],
)
def test_next_contact_cells(cell: object, expected: datetime | None) -> None:
    table: list[list[object]] = [["Name", "Next contact"], ["Jan", cell]]
    result = parse_clients(table, country="PL", timezone="Europe/Warsaw", now=NOW)
    if expected is None:
        assert result.rows == []
        assert [bad.problem for bad in result.bad] == ["bad_date"]
    else:
        assert result.bad == []
        assert result.rows[0].next_contact == expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        (95000, 9_500_000),
        (95000.0, 9_500_000),
        (95000.505, 9_500_051),
        ("95 000", 9_500_000),
        ("95\xa0000,00", 9_500_000),
        ("95.000", 9_500_000),
        ("95 000,50", 9_500_050),
        ("1,2 mln", 120_000_000),
        ("1,2 млн", 120_000_000),
        ("95 000 zł", 9_500_000),
        ("0", None),
        (0, None),
        ("-", None),
        ("   ", None),
    ],
)
def test_values(cell: object, expected: int | None) -> None:
    table: list[list[object]] = [["Name", "Value"], ["Jan", cell]]
    result = parse_clients(table, country="PL", timezone="Europe/Warsaw", now=NOW)
    assert result.bad == []
    assert result.rows[0].value_minor == expected


@pytest.mark.parametrize("cell", ["lots", -100, "-100", float("nan"), 10**13, True])
def test_bad_values(cell: object) -> None:
    table: list[list[object]] = [["Name", "Value"], ["Jan", cell]]
    result = parse_clients(table, country="PL", timezone="Europe/Warsaw", now=NOW)
    assert result.rows == []
    assert [bad.problem for bad in result.bad] == ["bad_value"]


@pytest.mark.parametrize(
    ("cell", "country", "expected"),
    [
        ("600 100 200", "PL", "+48600100200"),
        ("+48 600-100-200", "PL", "+48600100200"),
        (600100200, "PL", "+48600100200"),
        (600100200.0, "PL", "+48600100200"),
        (48600100200, "PL", "+48600100200"),
        ("8 (916) 123-45-67", "RU", "+79161234567"),
        (79161234567, "RU", "+79161234567"),
        ("0722 123 456", "RO", "+40722123456"),
        (722123456, "RO", "+40722123456"),
        ("069 123 456", "MD", "+37369123456"),
        (37369123456, "RO", "+37369123456"),
        ('="0722123456"', "RO", None),  # unwrapped only when reading a CSV
    ],
)
def test_phones(cell: object, country: str, expected: str | None) -> None:
    table: list[list[object]] = [["Name", "Phone"], ["Jan", cell]]
    result = parse_clients(table, country=country, timezone="Europe/Warsaw", now=NOW)
    if expected is None:
        assert [bad.problem for bad in result.bad] == ["bad_phone"]
    else:
        assert result.bad == []
        assert result.rows[0].phone == expected


def test_stage_and_owner_are_kept_as_written() -> None:
    table: list[list[object]] = [
        ["Name", "Stage", "Owner"],
        ["  Jan   Kowalski ", " Jazda\u00a0próbna ", 7],
    ]
    result = parse_clients(table, country="PL", timezone="Europe/Warsaw", now=NOW)
    assert result.rows == [ImportRow(2, "Jan Kowalski", None, None, "Jazda próbna", "7", None)]


# --- CSV details -----------------------------------------------------------------------------


def test_excel_sep_line_and_text_formula_cells() -> None:
    content = _csv(["sep=,", "Nume;Prenume,Telefon", 'Popescu;Ion,="0722123456"'], "utf-8")
    table = read_table(content, "clienti.csv")
    assert table == [["Nume;Prenume", "Telefon"], ["Popescu;Ion", "0722123456"]]


def test_blank_lines_and_multiline_quoted_cells_keep_excel_row_numbers() -> None:
    content = _csv(
        ["Name;Phone;Stage", "", '"Jan\nKowalski";600100200;"Jazda', 'próbna"', "Ewa;;"],
        "utf-8",
    )
    result = _import(content, "clients.csv")
    assert [(row.row_number, row.name, row.stage) for row in result.rows] == [
        (3, "Jan Kowalski", "Jazda próbna"),
        (4, "Ewa", None),
    ]


def test_single_column_csv_with_commas_in_names() -> None:
    content = _csv(["Klient", "Kowalski, Jan", "Nowak, Ewa"], "cp1250")
    result = _import(content, "klienci.csv")
    assert [row.name for row in result.rows] == ["Kowalski, Jan", "Nowak, Ewa"]


def test_semicolon_file_with_decimal_commas_in_values() -> None:
    content = _csv(["Imię, nazwisko;Telefon;Kwota", "Jan Kowalski;600100200;95000,50"], "cp1250")
    assert read_table(content, "klienci.csv")[1] == ["Jan Kowalski", "600100200", "95000,50"]


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["Imię i nazwisko;Miasto", "Grzegorz Brzęczyszczykiewicz;Łódź", "Żaneta Ćwik;Gdańsk"],
         "cp1250"),
        (["Nume;Oraş", "Ştefan Ţurcanu;Bălţi"], "cp1250"),
        (["Имя;Город", "Пётр Иванов;Москва", "Ольга;Кишинёв"], "cp1251"),
        (["Имя;Город", "Ion;Chisinau", "Ольга;Бельцы"], "cp1251"),
    ],
)  # fmt: skip
def test_encoding_detection(lines: list[str], expected: str) -> None:
    content = _csv(lines, expected)
    assert read_table(content, "file.csv") == [line.split(";") for line in lines]


def test_utf16_unicode_text_from_excel() -> None:
    content = "\ufeffName\tPhone\r\nŁukasz Żółć\t600100200\r\n".encode("utf-16-le")
    assert read_table(content, "clients.txt") == [["Name", "Phone"], ["Łukasz Żółć", "600100200"]]


# --- the formula guard of our own export ------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ('\'=HYPERLINK("x")', '=HYPERLINK("x")'),
        ("'+48 600 100 200", "+48 600 100 200"),
        ("'-5", "-5"),
        ("'@Anna", "@Anna"),
        ("'\tJan", "\tJan"),
        ("'\rJan", "\rJan"),
        ("''=x", "''=x"),  # one quote only, and only right before a formula character
        ("'Jan", "'Jan"),
        ("'", "'"),
        ("Jan's", "Jan's"),
        (" '=x", " '=x"),
    ],
)
def test_the_quote_our_export_adds_before_a_formula_is_dropped(written: str, read: str) -> None:
    content = b'Name;Note\r\nJan;"' + written.replace('"', '""').encode() + b'"\r\n'
    assert read_table(content, "klienci.csv")[1][1] == read
    if "\r" not in written:  # XML turns a CR into a line feed
        workbook = _xlsx([["Name", "Note"], ["Jan", written]])
        assert read_table(workbook, "klienci.xlsx")[1][1] == read


def test_an_exported_phone_and_name_import_as_they_were() -> None:
    content = _csv(["Name;Phone;Value", "'=Jan;'+48 600 100 200;'-"], "utf-8")
    result = _import(content, "deals.csv")
    assert result.bad == []
    assert [(row.name, row.phone, row.value_minor) for row in result.rows] == [
        ("=Jan", "+48600100200", None)
    ]


def test_the_child_process_takes_now_from_the_parent() -> None:
    """A date without a year is the next one after the parent's today, not the machine's."""
    table = _csv(["Name;Next contact", "Jan;15.05"], "utf-8")
    later = NOW + timedelta(days=400)  # 2027-07-06: the next 15 May is in 2028
    result = asyncio.run(
        parse_in_child(
            table, "a.csv", limits=ImportLimits(), country="PL", timezone="Europe/Warsaw",
            now=later,
        )
    )  # fmt: skip
    assert result.rows[0].next_contact == datetime(2028, 5, 15, 7, 0, tzinfo=UTC)
