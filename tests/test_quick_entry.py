"""One-line client entry and the phone/amount readers behind the guided flow."""

from __future__ import annotations

import time

import pytest

from bot.services.quick_entry import (
    MAX_NAME_LENGTH,
    QuickEntry,
    format_phone,
    parse_amount,
    parse_phone,
    parse_quick_entry,
)

NBSP = "\u00a0"


# --- the line --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "country", "expected"),
    [
        # from the brief
        (
            "Jan Kowalski +48 600 100 200 95000 Octavia",
            "PL",
            QuickEntry("Jan Kowalski", "+48600100200", 9500000, "Octavia"),
        ),
        (
            "Anna Nowak 600100200 95 000",
            "PL",
            QuickEntry("Anna Nowak", "+48600100200", 9500000, None),
        ),
        (
            "Ion Popescu 0722 123 456 95k",
            "RO",
            QuickEntry("Ion Popescu", "+40722123456", 9500000, None),
        ),
        (
            "Иван Петров +7 916 123-45-67 1,2 млн",
            "RU",
            QuickEntry("Иван Петров", "+79161234567", 120000000, None),
        ),
        ("Maria Lis 85000", "PL", QuickEntry("Maria Lis", None, 8500000, None)),
        ("Piotr", "PL", QuickEntry("Piotr", None, None, None)),
        # phone formats
        ("Jan Nowak 600-100-200", "PL", QuickEntry("Jan Nowak", "+48600100200", None, None)),
        ("Jan Nowak +48600100200", "PL", QuickEntry("Jan Nowak", "+48600100200", None, None)),
        ("Jan 0048 600 100 200", "PL", QuickEntry("Jan", "+48600100200", None, None)),
        ("Jan 22 1234567 95000", "PL", QuickEntry("Jan", "+48221234567", 9500000, None)),
        (
            "Иван 8 916 123 45 67 3 500 000 руб.",
            "RU",
            QuickEntry("Иван", "+79161234567", 350000000, None),
        ),
        ("Иван 8 (916) 123-45-67", "RU", QuickEntry("Иван", "+79161234567", None, None)),
        ("Иван +7 9161234567", "RU", QuickEntry("Иван", "+79161234567", None, None)),
        (
            "Ion Popescu +40 722 123 456",
            "RO",
            QuickEntry("Ion Popescu", "+40722123456", None, None),
        ),
        (
            "Vasile Rusu +373 69 123 456 20 000 lei",
            "MD",
            QuickEntry("Vasile Rusu", "+37369123456", 2000000, None),
        ),
        ("Vasile (022) 123 456", "MD", QuickEntry("Vasile", "+37322123456", None, None)),
        ("Vasile 069 123 456", "MD", QuickEntry("Vasile", "+37369123456", None, None)),
        # a foreign number written with its + is read whatever the team's country
        ("Hans +48 600 100 200", "DE", QuickEntry("Hans", "+48600100200", None, None)),
        # the amount must not swallow the phone's last group, nor the phone the amount
        (
            "Jan 600 100 200 95 000",
            "PL",
            QuickEntry("Jan", "+48600100200", 9500000, None),
        ),
        ("Jan 95 000 600 100 200", "PL", QuickEntry("Jan", "+48600100200", 9500000, None)),
        # a note in the middle: a car make ends the name
        (
            "Jan Nowak Skoda Octavia 600100200",
            "PL",
            QuickEntry("Jan Nowak", "+48600100200", None, "Skoda Octavia"),
        ),
        (
            "Jan Nowak szuka kombi 600100200 95k",
            "PL",
            QuickEntry("Jan Nowak", "+48600100200", 9500000, "szuka kombi"),
        ),
        (
            "Jan Kowalski, tel. 600100200, 95 tys. zł, Octavia - kombi",
            "PL",
            QuickEntry("Jan Kowalski", "+48600100200", 9500000, "Octavia - kombi"),
        ),
        # all lowercase: no capital letters to tell the name from the rest
        (
            "jan nowak 600100200",
            "PL",
            QuickEntry("jan nowak", "+48600100200", None, None),
        ),
        # invalid phone-like numbers: a lone bare number is an amount; fragments are the note
        ("Jan 12345", "PL", QuickEntry("Jan", None, 1234500, None)),
        ("Jan 123 45", "PL", QuickEntry("Jan", None, None, "123 45")),
        ("Jan 600 100 20", "PL", QuickEntry("Jan", None, None, "600 100 20")),
        ("Jan 600-100-20", "PL", QuickEntry("Jan", None, None, "600-100-20")),
        ("Jan +48 600 100", "PL", QuickEntry("Jan", None, None, "+48 600 100")),
        ("Jan +48 600100", "PL", QuickEntry("Jan", None, None, "+48 600100")),
        ("Jan (022) 123 4567", "MD", QuickEntry("Jan", None, None, "(022) 123 4567")),
        ("Jan 0722 123 45", "RO", QuickEntry("Jan", None, None, "0722 123 45")),
        # a bare number of nine or more digits is a mistyped phone, not money
        ("Jan 999999999", "PL", QuickEntry("Jan", None, None, "999999999")),
        # names: emoji and &, hyphens, apostrophes, diacritics, particles
        (
            "Kowalski & Syn 🚗 600100200",
            "PL",
            QuickEntry("Kowalski & Syn 🚗", "+48600100200", None, None),
        ),
        (
            "Anna Nowak-Kowalska 600100200",
            "PL",
            QuickEntry("Anna Nowak-Kowalska", "+48600100200", None, None),
        ),
        ("Seán O'Brien 95000", "PL", QuickEntry("Seán O'Brien", None, 9500000, None)),
        ("Łukasz Żółć 95000", "PL", QuickEntry("Łukasz Żółć", None, 9500000, None)),
        ("Ștefan Țurcanu 95000", "RO", QuickEntry("Ștefan Țurcanu", None, 9500000, None)),
        (
            "Ludwig van Beethoven 95000",
            "PL",
            QuickEntry("Ludwig van Beethoven", None, 9500000, None),
        ),
        (
            "Jan Kowalski i syn 95000",
            "PL",
            QuickEntry("Jan Kowalski", None, 9500000, "i syn"),
        ),
        ("Анна-Мария 👩‍🔧 95000", "RU", QuickEntry("Анна-Мария 👩‍🔧", None, 9500000, None)),
        # two amounts: the first is the amount, the second the note
        ("Jan 95000 Octavia 90000", "PL", QuickEntry("Jan", None, 9500000, "Octavia 90000")),
        ("Jan 95k 90k", "PL", QuickEntry("Jan", None, 9500000, "90k")),
        ("Jan 95000 2019", "PL", QuickEntry("Jan", None, 9500000, "2019")),
        # digit groups followed by a year: not a (valid) phone 95 000 20 19, nor a guess
        ("Jan 95 000 2019", "PL", QuickEntry("Jan", None, None, "95 000 2019")),
        ("Jan 95 000 zł 2019", "PL", QuickEntry("Jan", None, 9500000, "2019")),
        ("Jan +48 95 000 2019", "PL", QuickEntry("Jan", "+48950002019", None, None)),
        # a year, an engine size, mileage: not the amount
        (
            "Jan Octavia 2019 95000",
            "PL",
            QuickEntry("Jan Octavia", None, 9500000, "2019"),
        ),
        (
            "Jan 600100200 Octavia 1.6 TDI 2019 r. 95 000 km 90 tys.",
            "PL",
            QuickEntry("Jan", "+48600100200", 9000000, "Octavia 1.6 TDI 2019 r. 95 000 km"),
        ),
        ("Jan 2019", "PL", QuickEntry("Jan", None, None, "2019")),
        ("Jan 5 drzwi", "PL", QuickEntry("Jan", None, None, "5 drzwi")),
        # an explicit currency or multiplier makes even a small number an amount
        ("Jan 50 zł", "PL", QuickEntry("Jan", None, 5000, None)),
        ("Jan 2019 zł", "PL", QuickEntry("Jan", None, 201900, None)),
        # a second phone stays in the note and is never read as an amount
        (
            "Jan 600 100 200 601 100 200",
            "PL",
            QuickEntry("Jan", "+48600100200", None, "601 100 200"),
        ),
        # amounts that are not amounts go to the note
        ("Jan -5000 95.000 k", "PL", QuickEntry("Jan", None, None, "-5000 95.000 k")),
        ("Jan 0 zł", "PL", QuickEntry("Jan", None, None, "0 zł")),
        # the phone first: no leading name; the words after it are the note, not a guess
        ("600100200 Jan Kowalski", "PL", QuickEntry("", "+48600100200", None, "Jan Kowalski")),
        ("95000 Octavia", "PL", QuickEntry("", None, 9500000, "Octavia")),
        # the bot command, NBSP, extra spaces and separators
        (
            "/new Jan Kowalski +48 600 100 200 95000 Octavia",
            "PL",
            QuickEntry("Jan Kowalski", "+48600100200", 9500000, "Octavia"),
        ),
        (
            f"  Jan{NBSP}Kowalski   600{NBSP}100{NBSP}200 \t 95{NBSP}000   biała   kombi ",
            "PL",
            QuickEntry("Jan Kowalski", "+48600100200", 9500000, "biała kombi"),
        ),
        (
            "Jan Kowalski | 600100200 | 95000 | Octavia",
            "PL",
            QuickEntry("Jan Kowalski", "+48600100200", 9500000, "Octavia"),
        ),
        # a country that is no country: national numbers cannot be read
        ("Jan 600100200", "", QuickEntry("Jan", None, None, "600100200")),
        ("Jan +48 600100200", "??", QuickEntry("Jan", "+48600100200", None, None)),
        # nothing at all
        ("", "PL", QuickEntry("", None, None, None)),
        ("   ", "PL", QuickEntry("", None, None, None)),
        ("/new", "PL", QuickEntry("", None, None, None)),
    ],
)
def test_quick_entry(text: str, country: str, expected: QuickEntry) -> None:
    assert parse_quick_entry(text, country) == expected


def test_country_is_case_insensitive() -> None:
    assert parse_quick_entry("Jan 600100200", "pl").phone == "+48600100200"


def test_long_line_caps_the_name_and_keeps_the_rest() -> None:
    words = ["Zażółć", "Gęślą", "Jaźń"] * 300
    text = " ".join([*words, "+48 600 100 200", "95000"])
    assert len(text) > 5000

    entry = parse_quick_entry(text, "PL")

    assert entry.phone == "+48600100200"
    assert entry.amount_minor == 9500000
    assert 0 < len(entry.name) <= MAX_NAME_LENGTH
    assert entry.note is not None
    assert f"{entry.name} {entry.note}" == " ".join(words)


def test_long_single_word_is_cut_into_name_and_note() -> None:
    entry = parse_quick_entry("a" * 5000, "PL")

    assert entry == QuickEntry("a" * MAX_NAME_LENGTH, None, None, "a" * (5000 - MAX_NAME_LENGTH))


@pytest.mark.parametrize(
    "text",
    [
        "1 " * 2500,
        "12 " * 1666,
        "600 " * 1250,
        "+" * 5000,
        "9" * 5000,
        "a1 " * 1666,
        "€ " * 2500,
        "🚗" * 5000,
        "12 " * 1600 + "Jan 600 100 200",
    ],
)
def test_long_garbage_is_quick_and_lands_in_the_note(text: str) -> None:
    started = time.perf_counter()
    entry = parse_quick_entry(text, "PL")
    assert time.perf_counter() - started < 2

    assert len(entry.name) <= MAX_NAME_LENGTH
    assert entry.amount_minor is None
    # nothing is lost: what is not a field is in the note
    kept = " ".join(part for part in (entry.name, entry.note) if part)
    assert len(kept) >= len(" ".join(text.split())) - 200


# --- amounts ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "minor"),
    [
        ("95000", 9500000),
        ("95 000", 9500000),
        (f"95{NBSP}000", 9500000),
        ("95\u202f000", 9500000),
        ("95.000", 9500000),
        ("95,000", 9500000),
        ("1 250 000", 125000000),
        ("1.250.000", 125000000),
        ("1,250,000", 125000000),
        ("1.250.000,50", 125000050),
        ("1,250,000.50", 125000050),
        ("95 000,50", 9500050),
        ("95000,50", 9500050),
        ("95000.50", 9500050),
        ("95000,5", 9500050),
        ("1,2", 120),
        ("0,50", 50),
        ("95", 9500),
        ("95k", 9500000),
        ("95K", 9500000),
        ("95 k", 9500000),
        ("95 tys", 9500000),
        ("95 tys.", 9500000),
        ("95tys.", 9500000),
        ("95 тыс", 9500000),
        ("95 тыс.", 9500000),
        ("95 mii", 9500000),
        ("95,5k", 9550000),
        ("1 250 тыс", 125000000),
        ("1,2 млн", 120000000),
        ("1.2 mln", 120000000),
        ("1,2 mln", 120000000),
        ("1.2m", 120000000),
        ("1.2M", 120000000),
        ("1,2 mil", 120000000),
        ("1.2 milioane", 120000000),
        ("1,25 млн", 125000000),
        ("2 млн", 200000000),
        ("95000 zł", 9500000),
        ("95 000 zł", 9500000),
        ("95000zł", 9500000),
        ("95 000zł", 9500000),
        ("95000 PLN", 9500000),
        ("PLN 95000", 9500000),
        ("95000 ₽", 9500000),
        ("95000₽", 9500000),
        ("95000 руб", 9500000),
        ("95000 руб.", 9500000),
        ("95 000 р.", 9500000),
        ("95000 RON", 9500000),
        ("95000 lei", 9500000),
        ("95000 MDL", 9500000),
        ("€95000", 9500000),
        ("€ 95 000", 9500000),
        ("95000 €", 9500000),
        ("95000 EUR", 9500000),
        ("EUR 95000", 9500000),
        ("$95,000", 9500000),
        ("$ 95000", 9500000),
        ("95k zł", 9500000),
        ("95 tys. zł", 9500000),
        ("95 тыс. руб.", 9500000),
        ("95 тыс.руб.", 9500000),
        ("1,2 млн ₽", 120000000),
        ("1.2 milioane lei", 120000000),
        ("$1.2m", 120000000),
        ("  95000  ", 9500000),
        ("95000,", 9500000),  # punctuation after a number is not part of it
        ("1000000000000", 100000000000000),
    ],
)
def test_parse_amount(text: str, minor: int) -> None:
    assert parse_amount(text) == minor


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "0",
        "0,00",
        "0 zł",
        "-5",
        "−5",
        "-95000",
        "abc",
        "zł",
        "k",
        "1.2.3",
        "95,0000",
        "95.0000",
        "95,000,00",
        "95.000,000",
        "1,2,3",
        "95 00",
        "95 0000",
        "123 45",
        "95000 2019",
        "95000 Octavia",
        "95000 km",
        "0722",
        "0722 123 456",
        "+48 600 100 200",
        "95.000 k",  # thousands or a fraction of a thousand? Don't guess.
        "1,250 mln",
        "1,255 млн",
        "95kk",
        "95 k k",
        "1000000000001",
        "2 000 000 млн",
        "95000,123",
        ",5",
        "5%",
        "95000 zł PLN",
        "1e5",
    ],
)
def test_parse_amount_rejects(text: str) -> None:
    assert parse_amount(text) is None


# --- phones ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "country", "e164", "display"),
    [
        ("+48 600 100 200", "PL", "+48600100200", "+48 600 100 200"),
        ("600100200", "PL", "+48600100200", "+48 600 100 200"),
        ("600-100-200", "PL", "+48600100200", "+48 600 100 200"),
        ("0048 600 100 200", "PL", "+48600100200", "+48 600 100 200"),
        ("(22) 123 45 67", "PL", "+48221234567", "+48 22 123 45 67"),
        ("+7 916 123-45-67", "RU", "+79161234567", "+7 916 123-45-67"),
        ("8 916 123-45-67", "RU", "+79161234567", "+7 916 123-45-67"),
        ("8 (916) 123 45 67", "RU", "+79161234567", "+7 916 123-45-67"),
        ("89161234567", "RU", "+79161234567", "+7 916 123-45-67"),
        ("0722 123 456", "RO", "+40722123456", "+40 722 123 456"),
        ("+40 722 123 456", "RO", "+40722123456", "+40 722 123 456"),
        ("+373 69 123 456", "MD", "+37369123456", "+373 691 23 456"),
        ("069 123 456", "MD", "+37369123456", "+373 691 23 456"),
        ("(022) 123 456", "MD", "+37322123456", "+373 22 123 456"),
        # a number with its + is read whatever the team's country
        ("+7 916 123-45-67", "PL", "+79161234567", "+7 916 123-45-67"),
        (f" 600{NBSP}100{NBSP}200 ", "pl", "+48600100200", "+48 600 100 200"),
    ],
)
def test_parse_and_format_phone(text: str, country: str, e164: str, display: str) -> None:
    assert parse_phone(text, country) == e164
    assert format_phone(e164) == display
    assert parse_phone(display, country) == e164


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("", "PL"),
        ("   ", "PL"),
        ("abc", "PL"),
        ("12345", "PL"),
        ("600 100 20", "PL"),
        ("600 100 2000", "PL"),
        ("+48 600 100", "PL"),
        ("8 916 123 45 67", "PL"),  # a Russian national number is not Polish
        ("916 123 45 6", "RU"),
        ("0722 123 45", "RO"),
        ("+373 69 123 45", "MD"),
        ("Jan 600100200", "PL"),
        ("600100200 Jan", "PL"),
        ("tel. 600100200", "PL"),
        ("600100200", ""),
        ("600100200", "XX"),
        ("+48 600 100 200 95000", "PL"),
    ],
)
def test_parse_phone_rejects(text: str, country: str) -> None:
    assert parse_phone(text, country) is None


def test_format_phone_leaves_unreadable_input_alone() -> None:
    assert format_phone("not a phone") == "not a phone"
