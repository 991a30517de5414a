"""Reading "when to contact next" in pl/ru/ro/en, with the planned step typed after it;
quick-button presets; "today at …" hours.

Expected moments are literal local wall times in the team's zone. Unless a test says otherwise
"now" is Monday 23 November 2026, 12:00 local time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.services.dates import (
    PRESET_NAMES,
    RECENT_PAST_DAYS,
    WhenError,
    later_today_hours,
    parse_when,
    parse_when_and_step,
    preset,
)

WARSAW = "Europe/Warsaw"
MOSCOW = "Europe/Moscow"
BUCHAREST = "Europe/Bucharest"
LONDON = "Europe/London"

# Monday 23 November 2026, 12:00 local time in each zone.
NOW_PL = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)  # Warsaw UTC+1
NOW_RU = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)  # Moscow UTC+3
NOW_RO = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # Bucharest UTC+2
NOW_EN = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # London UTC+0


def wall(moment: datetime, tz: str) -> datetime:
    """The local wall time of an aware UTC result (and check that it is one)."""
    assert moment.tzinfo is not None
    assert moment.utcoffset() == timedelta(0)
    return moment.astimezone(ZoneInfo(tz)).replace(tzinfo=None)


def parse(text: str, language: str, tz: str, now: datetime, **kwargs: int) -> datetime:
    return wall(parse_when(text, language=language, tz=tz, now=now, **kwargs), tz)


def d(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute)


# --- Polish --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("jutro 10:00", d(11, 24, 10)),
        ("jutro o 10", d(11, 24, 10)),
        ("jutro 10", d(11, 24, 10)),
        ("jutro 10.30", d(11, 24, 10, 30)),
        ("jutro", d(11, 24, 9)),
        ("15.12 14:30", d(12, 15, 14, 30)),
        ("15.12", d(12, 15, 9)),
        ("15.12 10.30", d(12, 15, 10, 30)),
        ("15.12.2026 9:00", d(12, 15, 9)),
        ("15/12", d(12, 15, 9)),
        ("pt", d(11, 27, 9)),
        ("piątek", d(11, 27, 9)),
        ("pt 15:00", d(11, 27, 15)),
        ("pt. 15", d(11, 27, 15)),
        ("w piątek o 15", d(11, 27, 15)),
        ("pon", d(11, 30, 9)),  # today is Monday: the next one
        ("poniedziałek 15:00", d(11, 30, 15)),  # never today, even though 15:00 is still ahead
        ("wt", d(11, 24, 9)),
        ("we wtorek", d(11, 24, 9)),
        ("śr", d(11, 25, 9)),
        ("sr", d(11, 25, 9)),
        ("w środę o 9:30", d(11, 25, 9, 30)),
        ("czw 8:15", d(11, 26, 8, 15)),
        ("sob", d(11, 28, 9)),
        ("sobota 10", d(11, 28, 10)),
        ("nd", d(11, 29, 9)),
        ("niedziela", d(11, 29, 9)),
        ("za 3 dni", d(11, 26, 9)),
        ("za 3 dni o 10", d(11, 26, 10)),
        ("10", d(11, 24, 10)),  # bare hour already gone today: tomorrow
        ("15", d(11, 23, 15)),  # bare hour still ahead: today
        ("o 10", d(11, 24, 10)),
        ("o 18:30", d(11, 23, 18, 30)),
        ("10 rano", d(11, 24, 10)),
        ("7 wieczorem", d(11, 23, 19)),
        ("dziś 15", d(11, 23, 15)),
        ("dzisiaj o 15", d(11, 23, 15)),
        ("dziś o godz. 16", d(11, 23, 16)),
        ("pojutrze", d(11, 25, 9)),
        ("pojutrze o 11", d(11, 25, 11)),
        ("15 grudnia", d(12, 15, 9)),
        ("15 grudnia 10:00", d(12, 15, 10)),
        ("15 grudnia o 10", d(12, 15, 10)),
        ("1 maja", d(5, 1, 9, year=2027)),  # already past this year: next year's
        ("za tydzień", d(11, 30, 9)),
        ("za tydzien", d(11, 30, 9)),
        ("za 2 godziny", d(11, 23, 14)),
        ("za godzinę", d(11, 23, 13)),
        ("za pół godziny", d(11, 23, 12, 30)),
        ("za miesiąc", d(12, 23, 9)),
        ("Jutro, 10:00!", d(11, 24, 10)),
        ("  JUTRO   o 10  ", d(11, 24, 10)),
        ("10:00 jutro", d(11, 24, 10)),
        ("10 jutro", d(11, 24, 10)),
        ("pt 18 grudnia", d(12, 18, 9)),  # 18 December 2026 is a Friday
        ("jutro 3 po południu", d(11, 24, 15)),
        ("2026-12-15 10:00", d(12, 15, 10)),
    ],
)
def test_polish(text: str, expected: datetime) -> None:
    assert parse(text, "pl", WARSAW, NOW_PL) == expected


# --- Russian -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("завтра в 10", d(11, 24, 10)),
        ("завтра 10:00", d(11, 24, 10)),
        ("завтра в 10 часов", d(11, 24, 10)),
        ("завтра", d(11, 24, 9)),
        ("на завтра", d(11, 24, 9)),
        ("15.12 14:30", d(12, 15, 14, 30)),
        ("15.12", d(12, 15, 9)),
        ("пт", d(11, 27, 9)),
        ("пятница", d(11, 27, 9)),
        ("пт 15:00", d(11, 27, 15)),
        ("в пятницу в 15", d(11, 27, 15)),
        ("в понедельник", d(11, 30, 9)),
        ("пн", d(11, 30, 9)),
        ("во вторник", d(11, 24, 9)),
        ("вт в 11", d(11, 24, 11)),
        ("в среду", d(11, 25, 9)),
        ("ср", d(11, 25, 9)),
        ("чт", d(11, 26, 9)),
        ("в субботу в 11:30", d(11, 28, 11, 30)),
        ("сб", d(11, 28, 9)),
        ("в воскресенье", d(11, 29, 9)),
        ("вс", d(11, 29, 9)),
        ("через 3 дня", d(11, 26, 9)),
        ("через 3 дня в 10", d(11, 26, 10)),
        ("через 2 часа", d(11, 23, 14)),
        ("через час", d(11, 23, 13)),
        ("сегодня в 15", d(11, 23, 15)),
        ("послезавтра", d(11, 25, 9)),
        ("через неделю", d(11, 30, 9)),
        ("15 декабря", d(12, 15, 9)),
        ("15 декабря в 10:00", d(12, 15, 10)),
        ("1 мая", d(5, 1, 9, year=2027)),
        ("в 10", d(11, 24, 10)),  # not "the 10th"
        ("в 18:30", d(11, 23, 18, 30)),
        ("10", d(11, 24, 10)),
        ("15", d(11, 23, 15)),
        ("в 10 утра", d(11, 24, 10)),
        ("в 7 вечера", d(11, 23, 19)),
        ("Завтра в 10.", d(11, 24, 10)),
        ("в 12 дня", d(11, 24, 12)),
        ("в 3 дня", d(11, 23, 15)),  # 3 in the afternoon, not "3 days"
    ],
)
def test_russian(text: str, expected: datetime) -> None:
    assert parse(text, "ru", MOSCOW, NOW_RU) == expected


# --- Romanian ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mâine la 10", d(11, 24, 10)),
        ("maine la 10", d(11, 24, 10)),
        ("Mâine la 10", d(11, 24, 10)),
        ("mâine", d(11, 24, 9)),
        ("15.12 14:30", d(12, 15, 14, 30)),
        ("15.12", d(12, 15, 9)),
        ("vineri", d(11, 27, 9)),
        ("vineri la 15", d(11, 27, 15)),
        ("luni", d(11, 30, 9)),
        ("marți", d(11, 24, 9)),
        ("marţi la 9", d(11, 24, 9)),  # cedilla ţ
        ("marti", d(11, 24, 9)),
        ("miercuri la 9:30", d(11, 25, 9, 30)),
        ("joi", d(11, 26, 9)),
        ("sâmbătă", d(11, 28, 9)),
        ("sambata", d(11, 28, 9)),
        ("duminică", d(11, 29, 9)),
        ("duminica la 12", d(11, 29, 12)),
        ("peste 3 zile", d(11, 26, 9)),
        ("peste 3 zile la 10", d(11, 26, 10)),
        ("peste 2 ore", d(11, 23, 14)),
        ("peste o oră", d(11, 23, 13)),
        ("peste o ora", d(11, 23, 13)),
        ("azi la 15", d(11, 23, 15)),
        ("astăzi la 15", d(11, 23, 15)),
        ("astazi la 15", d(11, 23, 15)),
        ("poimâine", d(11, 25, 9)),
        ("poimaine", d(11, 25, 9)),
        ("peste o săptămână", d(11, 30, 9)),
        ("peste o saptamana", d(11, 30, 9)),
        ("15 decembrie", d(12, 15, 9)),
        ("15 decembrie la 10", d(12, 15, 10)),
        ("la 10", d(11, 24, 10)),
        ("la 18:30", d(11, 23, 18, 30)),
        ("la ora 15", d(11, 23, 15)),
        ("10", d(11, 24, 10)),
        ("15", d(11, 23, 15)),
        ("7 seara", d(11, 23, 19)),
    ],
)
def test_romanian(text: str, expected: datetime) -> None:
    assert parse(text, "ro", BUCHAREST, NOW_RO) == expected


# --- English -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tomorrow 10am", d(11, 24, 10)),
        ("tomorrow at 10", d(11, 24, 10)),
        ("tomorrow 10:00", d(11, 24, 10)),
        ("tomorrow", d(11, 24, 9)),
        ("15.12 14:30", d(12, 15, 14, 30)),
        ("15.12", d(12, 15, 9)),
        ("15/12", d(12, 15, 9)),
        ("friday", d(11, 27, 9)),
        ("Fri 15:00", d(11, 27, 15)),
        ("friday 3pm", d(11, 27, 15)),
        ("on Friday at 3 p.m.", d(11, 27, 15)),
        ("monday", d(11, 30, 9)),
        ("in 3 days", d(11, 26, 9)),
        ("in 2 hours", d(11, 23, 14)),
        ("in an hour", d(11, 23, 13)),
        ("today 15:00", d(11, 23, 15)),
        ("day after tomorrow", d(11, 25, 9)),
        ("next week", d(11, 30, 9)),
        ("15 dec 10:00", d(12, 15, 10)),
        ("15 december", d(12, 15, 9)),
        ("december 15th", d(12, 15, 9)),
        ("3pm", d(11, 23, 15)),
        ("15h", d(11, 23, 15)),
        ("15h30", d(11, 23, 15, 30)),
        ("10", d(11, 24, 10)),
        ("15", d(11, 23, 15)),
        ("at 10", d(11, 24, 10)),
        ("12pm", d(11, 24, 12)),  # exactly now is not ahead: tomorrow
    ],
)
def test_english(text: str, expected: datetime) -> None:
    assert parse(text, "en", LONDON, NOW_EN) == expected


def test_other_languages_words_are_understood_too() -> None:
    assert parse("jutro 10", "en", WARSAW, NOW_PL) == d(11, 24, 10)
    assert parse("завтра в 10", "pl", WARSAW, NOW_PL) == d(11, 24, 10)
    assert parse("15 grudnia", "ro", WARSAW, NOW_PL) == d(12, 15, 9)


def test_default_hour_applies_to_dates_without_time() -> None:
    assert parse("jutro", "pl", WARSAW, NOW_PL, default_hour=11) == d(11, 24, 11)
    assert parse("15.12", "pl", WARSAW, NOW_PL, default_hour=8) == d(12, 15, 8)
    assert parse("za 3 dni", "pl", WARSAW, NOW_PL, default_hour=10) == d(11, 26, 10)
    assert parse("jutro 15", "pl", WARSAW, NOW_PL, default_hour=11) == d(11, 24, 15)


def test_in_hours_is_exact_to_the_second() -> None:
    now = datetime(2026, 11, 23, 11, 7, 42, tzinfo=UTC)
    result = parse_when("za 2 godziny", language="pl", tz=WARSAW, now=now)
    assert result == datetime(2026, 11, 23, 13, 7, 42, tzinfo=UTC)


# --- dates without a year ------------------------------------------------------------------


def test_date_without_year_long_past_means_next_year() -> None:
    now = datetime(2026, 12, 20, 11, 0, tzinfo=UTC)  # 20 December 2026, 12:00 Warsaw
    assert parse("15.10", "pl", WARSAW, now) == d(10, 15, 9, year=2027)
    assert parse("15 października", "pl", WARSAW, now) == d(10, 15, 9, year=2027)
    assert parse("15.10 14:30", "pl", WARSAW, now) == d(10, 15, 14, 30, year=2027)


def test_date_without_year_still_ahead_means_this_year() -> None:
    now = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)
    assert parse("15.12", "pl", WARSAW, now) == d(12, 15, 9)
    assert parse("15 декабря", "ru", WARSAW, now) == d(12, 15, 9)


def test_todays_date_without_year_is_today() -> None:
    now = datetime(2026, 12, 15, 7, 0, tzinfo=UTC)  # 08:00 Warsaw on 15 December
    assert parse("15.12", "pl", WARSAW, now) == d(12, 15, 9)
    assert parse("15.12 17:00", "pl", WARSAW, now) == d(12, 15, 17)
    later = datetime(2026, 12, 15, 11, 0, tzinfo=UTC)  # 12:00: 09:00 has gone
    with pytest.raises(WhenError) as caught:
        parse_when("15.12", language="pl", tz=WARSAW, now=later)
    assert caught.value.reason == "past"


def test_29_february_waits_for_a_leap_year() -> None:
    assert parse("29.02", "pl", WARSAW, NOW_PL) == d(2, 29, 9, year=2028)


# --- a date without a year just past is refused, not moved a year ahead ----------------------
# "Today" is Thursday 3 December 2026, 12:00 local time in each zone.

DEC3_PL = datetime(2026, 12, 3, 11, 0, tzinfo=UTC)
DEC3_RU = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
DEC3_RO = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
DEC3_EN = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
DEC3 = {
    "pl": (WARSAW, DEC3_PL),
    "ru": (MOSCOW, DEC3_RU),
    "ro": (BUCHAREST, DEC3_RO),
    "en": (LONDON, DEC3_EN),
}


def past_reason(text: str, language: str, tz: str, now: datetime) -> str:
    with pytest.raises(WhenError) as caught:
        parse_when(text, language=language, tz=tz, now=now)
    return caught.value.reason


def test_recent_past_window_is_sixty_days() -> None:
    assert RECENT_PAST_DAYS == 60


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("pl", "2.12"),  # yesterday
        ("pl", "2.12 10:00"),
        ("pl", "2.12 10.30"),
        ("pl", "1.12"),
        ("pl", "20.11"),
        ("pl", "4.10"),  # 60 days back: still refused
        ("pl", "4.10 9:00"),
        ("pl", "2/12"),
        ("pl", "2-12"),
        ("pl", "2 grudnia"),
        ("pl", "2 grudnia o 10"),
        ("pl", "2 gru"),
        ("pl", "4 października"),
        ("pl", "20 listopada"),
        ("pl", "śr 2 grudnia"),  # 2 December 2026 was a Wednesday
        ("pl", "3.12"),  # today at 09:00, typed at 12:00: today, and past
        ("pl", "3.12 10:00"),
        ("pl", "3 grudnia o 11"),
        ("ru", "2.12"),
        ("ru", "2.12 в 10"),
        ("ru", "2 декабря"),
        ("ru", "2 декабря в 10"),
        ("ru", "2 дек"),
        ("ru", "4 октября"),
        ("ru", "3.12 в 11"),
        ("ro", "2.12"),
        ("ro", "2.12 la 10"),
        ("ro", "2 decembrie"),
        ("ro", "2 decembrie la 10"),
        ("ro", "2 dec"),
        ("ro", "4 octombrie"),
        ("en", "2.12"),
        ("en", "December 2"),
        ("en", "2 December"),
        ("en", "Dec 2nd"),
        ("en", "december 2 10am"),
        ("en", "October 4"),
        ("en", "3.12 11:59"),
    ],
)
def test_date_without_year_just_past_is_refused(language: str, text: str) -> None:
    tz, now = DEC3[language]
    assert past_reason(text, language, tz, now) == "past"


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("pl", "3.10", d(10, 3, 9, year=2027)),  # 61 days back: next year's
        ("pl", "3 października", d(10, 3, 9, year=2027)),
        ("pl", "15.01", d(1, 15, 9, year=2027)),
        ("pl", "15 stycznia o 10", d(1, 15, 10, year=2027)),
        ("pl", "2.12.2027", d(12, 2, 9, year=2027)),
        ("pl", "2.12.27 10:00", d(12, 2, 10, year=2027)),
        ("pl", "2 grudnia 2027", d(12, 2, 9, year=2027)),
        ("pl", "3.12 15:00", d(12, 3, 15)),  # today, still ahead
        ("pl", "4.12", d(12, 4, 9)),
        ("ru", "3 октября", d(10, 3, 9, year=2027)),
        ("ru", "15 января", d(1, 15, 9, year=2027)),
        ("ru", "2.12.2027", d(12, 2, 9, year=2027)),
        ("ru", "2 декабря 2027", d(12, 2, 9, year=2027)),
        ("ro", "3 octombrie", d(10, 3, 9, year=2027)),
        ("ro", "15 ianuarie", d(1, 15, 9, year=2027)),
        ("ro", "2.12.2027", d(12, 2, 9, year=2027)),
        ("en", "October 3", d(10, 3, 9, year=2027)),
        ("en", "January 15", d(1, 15, 9, year=2027)),
        ("en", "2 dec 2027", d(12, 2, 9, year=2027)),
    ],
)
def test_date_without_year_long_past_or_ahead(
    language: str, text: str, expected: datetime
) -> None:
    tz, now = DEC3[language]
    assert parse(text, language, tz, now) == expected


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        # Thursday 3 December: yesterday's weekday is next week's, today's is a week ahead.
        ("pl", "środa", d(12, 9, 9)),
        ("pl", "w środę o 10", d(12, 9, 10)),
        ("pl", "czwartek", d(12, 10, 9)),
        ("pl", "pt", d(12, 4, 9)),
        ("ru", "в среду", d(12, 9, 9)),
        ("ru", "чт", d(12, 10, 9)),
        ("ro", "miercuri", d(12, 9, 9)),
        ("ro", "joi la 10", d(12, 10, 10)),
        ("en", "wednesday", d(12, 9, 9)),
        ("en", "friday", d(12, 4, 9)),
        ("en", "friday 3pm", d(12, 4, 15)),
    ],
)
def test_weekdays_are_never_refused(language: str, text: str, expected: datetime) -> None:
    tz, now = DEC3[language]
    assert parse(text, language, tz, now) == expected


def test_explicit_past_year_is_past() -> None:
    assert past_reason("2.12.2026", "pl", WARSAW, DEC3_PL) == "past"
    assert past_reason("2 grudnia 2026", "pl", WARSAW, DEC3_PL) == "past"


def test_recent_past_counts_across_new_year() -> None:
    now = datetime(2027, 1, 10, 11, 0, tzinfo=UTC)  # 10 January 2027, Warsaw
    assert past_reason("20.12", "pl", WARSAW, now) == "past"  # 21 days back, last year
    assert past_reason("20 grudnia", "pl", WARSAW, now) == "past"
    assert past_reason("11.11", "pl", WARSAW, now) == "past"  # 60 days back
    assert parse("10.11", "pl", WARSAW, now) == d(11, 10, 9, year=2027)  # 61 days back
    assert parse("10 listopada", "pl", WARSAW, now) == d(11, 10, 9, year=2027)
    assert parse("20.12.2027", "pl", WARSAW, now) == d(12, 20, 9, year=2027)


def test_29_february_just_past_is_refused() -> None:
    assert past_reason("29.02", "pl", WARSAW, datetime(2028, 3, 1, 11, 0, tzinfo=UTC)) == "past"
    # In 2027 there is no 29 February to have just passed: the next one.
    later = datetime(2027, 3, 2, 11, 0, tzinfo=UTC)
    assert parse("29.02", "pl", WARSAW, later) == d(2, 29, 9, year=2028)


def test_recent_past_around_midnight_follows_the_team_zone() -> None:
    late = datetime(2026, 12, 2, 23, 10, tzinfo=UTC)  # 00:10 on 3 December in Warsaw
    assert past_reason("2.12 23:30", "pl", WARSAW, late) == "past"  # yesterday in Warsaw
    assert past_reason("2.12", "pl", WARSAW, late) == "past"
    assert parse("3.12", "pl", WARSAW, late) == d(12, 3, 9)  # today, ahead
    assert parse("2.12 23:30", "en", LONDON, late) == d(12, 2, 23, 30)  # still today there
    # Moscow is three hours ahead: 00:30 on 3 December there.
    moscow = datetime(2026, 12, 2, 21, 30, tzinfo=UTC)
    assert past_reason("2.12", "ru", MOSCOW, moscow) == "past"
    assert past_reason("2 декабря в 23:45", "ru", MOSCOW, moscow) == "past"
    assert past_reason("3.12 00:15", "ru", MOSCOW, moscow) == "past"  # today, earlier
    assert parse("3.12 00:45", "ru", MOSCOW, moscow) == d(12, 3, 0, 45)
    assert parse("2 декабря в 23:45", "ru", LONDON, moscow) == d(12, 2, 23, 45)
    # 23:50 on 2 December in Bucharest: 2 December is still today.
    bucharest = datetime(2026, 12, 2, 21, 50, tzinfo=UTC)
    assert parse("2.12 23:55", "ro", BUCHAREST, bucharest) == d(12, 2, 23, 55)
    assert past_reason("2.12 23:45", "ro", BUCHAREST, bucharest) == "past"
    assert past_reason("1 decembrie", "ro", BUCHAREST, bucharest) == "past"


# --- past and unreadable -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language", "tz", "now"),
    [
        ("wczoraj", "pl", WARSAW, NOW_PL),
        ("вчера", "ru", MOSCOW, NOW_RU),
        ("ieri", "ro", BUCHAREST, NOW_RO),
        ("yesterday", "en", LONDON, NOW_EN),
        ("15.12.2020", "pl", WARSAW, NOW_PL),
        ("15 grudnia 2020", "pl", WARSAW, NOW_PL),
        ("today 08:00", "en", LONDON, NOW_EN),
        ("dziś 8", "pl", WARSAW, NOW_PL),
        ("dzisiaj", "pl", WARSAW, NOW_PL),  # today at 09:00, typed at 12:00
        ("сегодня в 11:59", "ru", MOSCOW, NOW_RU),
        ("azi la 12", "ro", BUCHAREST, NOW_RO),  # exactly now is not in the future
        ("teraz", "pl", WARSAW, NOW_PL),
    ],
)
def test_past(text: str, language: str, tz: str, now: datetime) -> None:
    with pytest.raises(WhenError) as caught:
        parse_when(text, language=language, tz=tz, now=now)
    assert caught.value.reason == "past"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "?!",
        "asdf",
        "zadzwonić",
        "a",
        "32.13",
        "31.02",
        "24",
        "25:00",
        "10:75",
        "13pm",
        "jutro 25",  # dateparser would read "jutro" and drop the 25
        "jutro pojutrze",  # two days; dateparser would drop one of them
        "jutro dziś",
        "pojutrze jutro 10",
        "za 2 godziny o 10",  # two different times
        "grudzień",  # a month, but which day?
        "15 dec 27",  # 27 a year or a day?
        "10 20",
        "pt 10 20",
        "15.12 jutro",  # a dotted time only after the day word
        "pt 15 grudnia",  # 15 December 2026 is a Tuesday
        "12 rano",  # midnight or noon?
        "12 wieczorem",
    ],
)
def test_unreadable(text: str) -> None:
    with pytest.raises(WhenError) as caught:
        parse_when(text, language="pl", tz=WARSAW, now=NOW_PL)
    assert caught.value.reason == "unreadable"


def test_when_error_is_a_value_error_with_a_reason() -> None:
    error = WhenError("past")
    assert isinstance(error, ValueError)
    assert error.reason == "past"


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError):
        parse_when("jutro", language="pl", tz=WARSAW, now=datetime(2026, 11, 23, 12, 0))


# --- daylight saving (Europe/Warsaw: 29 March and 25 October 2026) -------------------------


def test_morning_hour_survives_spring_forward() -> None:
    now = datetime(2026, 3, 28, 11, 0, tzinfo=UTC)  # Saturday noon, CET
    expected = datetime(2026, 3, 29, 7, 0, tzinfo=UTC)  # 09:00 CEST
    assert preset("tomorrow_morning", tz=WARSAW, now=now) == expected
    assert parse_when("jutro", language="pl", tz=WARSAW, now=now) == expected
    assert parse("jutro 9:00", "pl", WARSAW, now) == d(3, 29, 9)


def test_morning_hour_survives_fall_back() -> None:
    now = datetime(2026, 10, 24, 10, 0, tzinfo=UTC)  # Saturday noon, CEST
    expected = datetime(2026, 10, 25, 8, 0, tzinfo=UTC)  # 09:00 CET
    assert preset("tomorrow_morning", tz=WARSAW, now=now) == expected
    assert parse_when("jutro", language="pl", tz=WARSAW, now=now) == expected


def test_missing_wall_time_moves_forward() -> None:
    now = datetime(2026, 3, 20, 11, 0, tzinfo=UTC)
    result = parse_when("29.03 2:30", language="pl", tz=WARSAW, now=now)
    assert result == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST
    assert wall(result, WARSAW) == d(3, 29, 3, 30)


def test_ambiguous_wall_time_takes_first_occurrence() -> None:
    now = datetime(2026, 10, 20, 10, 0, tzinfo=UTC)
    result = parse_when("25.10 2:30", language="pl", tz=WARSAW, now=now)
    assert result == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, the first one


def test_in_hours_across_spring_forward_is_elapsed_time() -> None:
    now = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # 01:30 CET
    result = parse_when("za 2 godziny", language="pl", tz=WARSAW, now=now)
    assert result == datetime(2026, 3, 29, 2, 30, tzinfo=UTC)
    assert wall(result, WARSAW) == d(3, 29, 4, 30)


# --- the planned step typed with the moment -----------------------------------------------

NOW = {
    "pl": (WARSAW, NOW_PL),
    "ru": (MOSCOW, NOW_RU),
    "ro": (BUCHAREST, NOW_RO),
    "en": (LONDON, NOW_EN),
}


def split(text: str, language: str, **kwargs: int) -> tuple[datetime, str | None]:
    tz, now = NOW[language]
    moment, step = parse_when_and_step(text, language=language, tz=tz, now=now, **kwargs)
    return wall(moment, tz), step


@pytest.mark.parametrize(
    ("language", "text", "expected", "step"),
    [
        # The moment first, the step after it.
        (
            "pl",
            "jutro 10:00 zadzwonić w sprawie leasingu",
            d(11, 24, 10),
            "zadzwonić w sprawie leasingu",
        ),
        ("pl", "jutro o 10 rano zadzwonić", d(11, 24, 10), "zadzwonić"),
        ("pl", "jutro 3 po południu jazda próbna", d(11, 24, 15), "jazda próbna"),
        ("pl", "15.12 14:30 oferta", d(12, 15, 14, 30), "oferta"),
        ("pl", "15 grudnia 10:00 oferta leasing", d(12, 15, 10), "oferta leasing"),
        ("pl", "pt jazda próbna", d(11, 27, 9), "jazda próbna"),
        ("pl", "w piątek o 15 odbiór auta", d(11, 27, 15), "odbiór auta"),
        ("pl", "za 3 dni zadzwonić", d(11, 26, 9), "zadzwonić"),
        ("pl", "za tydzień oferta", d(11, 30, 9), "oferta"),
        (
            "pl",
            "pt o 15 jazda próbna Octavia 2.0 TDI",
            d(11, 27, 15),
            "jazda próbna Octavia 2.0 TDI",
        ),
        ("pl", "jutro 10:00 oferta 15.12", d(11, 24, 10), "oferta 15.12"),
        ("pl", "jutro wysłać ofertę na piątek", d(11, 24, 9), "wysłać ofertę na piątek"),
        (
            "ru",
            "завтра в 10 перезвонить насчёт кредита",
            d(11, 24, 10),
            "перезвонить насчёт кредита",
        ),
        ("ru", "в пятницу в 15 тест-драйв", d(11, 27, 15), "тест-драйв"),
        ("ru", "через 3 дня отправить КП", d(11, 26, 9), "отправить КП"),
        ("ru", "15.12 14:30 договор", d(12, 15, 14, 30), "договор"),
        ("ro", "mâine la 10 sun pentru leasing", d(11, 24, 10), "sun pentru leasing"),
        ("ro", "vineri la 15 test drive", d(11, 27, 15), "test drive"),
        ("ro", "peste 3 zile trimit oferta", d(11, 26, 9), "trimit oferta"),
        ("en", "tomorrow 10:00 call about leasing", d(11, 24, 10), "call about leasing"),
        ("en", "friday test drive", d(11, 27, 9), "test drive"),  # "test" is no date
        ("en", "Fri sun roof quote", d(11, 27, 9), "sun roof quote"),
        ("en", "on Friday at 3 p.m. test drive", d(11, 27, 15), "test drive"),
        ("en", "friday 3pm test drive with Anna", d(11, 27, 15), "test drive with Anna"),
        ("en", "in 2 hours call back", d(11, 23, 14), "call back"),
        ("en", "next week call", d(11, 30, 9), "call"),
        # A time typed after the step belongs to the moment.
        ("pl", "jutro zadzwonić o 10", d(11, 24, 10), "zadzwonić"),
        ("pl", "dziś zadzwonić o 15", d(11, 23, 15), "zadzwonić"),
        ("pl", "o 10 zadzwonić jutro", d(11, 24, 10), "zadzwonić"),
        ("ru", "завтра перезвонить в 10", d(11, 24, 10), "перезвонить"),
        ("en", "tomorrow call at 10", d(11, 24, 10), "call"),
        # ... but not what reads only together with the moment: "jutro o 10 min".
        (
            "pl",
            "jutro o 10 zadzwonić do pana Nowaka 15 min",
            d(11, 24, 10),
            "zadzwonić do pana Nowaka 15 min",
        ),
        ("pl", "jutro 10:00 zadzwonić o 15", d(11, 24, 10), "zadzwonić o 15"),  # two times
        # The moment last, the step before it.
        ("en", "call about leasing tomorrow 10:00", d(11, 24, 10), "call about leasing"),
        ("pl", "zadzwonić jutro o 10", d(11, 24, 10), "zadzwonić"),
        ("pl", "oferta za tydzień", d(11, 30, 9), "oferta"),
        ("pl", "zadzwonić, jutro 10", d(11, 24, 10), "zadzwonić"),
        ("ru", "перезвонить завтра в 10", d(11, 24, 10), "перезвонить"),
        ("ro", "sun mâine la 10", d(11, 24, 10), "sun"),  # "I call", not Sunday
        ("ro", "sun vineri la 15", d(11, 27, 15), "sun"),
        ("ro", "vineri sun la 15", d(11, 27, 15), "sun"),
        ("ro", "sun la 10", d(11, 24, 10), "sun"),
        ("en", "send offer in 2 days", d(11, 25, 9), "send offer"),
        # A bare number is no time to split off.
        ("pl", "2 auta jutro", d(11, 24, 9), "2 auta"),
        ("en", "test drive model 3 jutro", d(11, 24, 9), "test drive model 3"),
        # As typed: case, accents, punctuation inside; spaces, line breaks and joints tidied.
        ("pl", "Jutro 10:00, Zadzwonić!", d(11, 24, 10), "Zadzwonić!"),
        ("pl", "jutro 10:00 — zadzwonić", d(11, 24, 10), "zadzwonić"),
        ("pl", "jutro 10:00: zadzwonić", d(11, 24, 10), "zadzwonić"),
        (
            "pl",
            "  pon   oddzwonić\nw sprawie\n\n kredytu  ",
            d(11, 30, 9),
            "oddzwonić w sprawie kredytu",
        ),
    ],
)
def test_moment_and_step(language: str, text: str, expected: datetime, step: str) -> None:
    assert split(text, language) == (expected, step)


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("pl", "jutro 10:00", d(11, 24, 10)),
        ("pl", "15.12", d(12, 15, 9)),
        ("pl", "w piątek o 15", d(11, 27, 15)),
        ("pl", "jutro 10:00 —", d(11, 24, 10)),
        ("pl", "10 jutro", d(11, 24, 10)),
        ("ru", "завтра в 10", d(11, 24, 10)),
        ("ru", "в 3 дня", d(11, 23, 15)),
        ("ro", "mâine la 10", d(11, 24, 10)),
        ("ro", "sun", d(11, 29, 9)),  # nothing else reads: Sunday after all
        ("en", "friday", d(11, 27, 9)),
        ("en", "the day after tomorrow at 10 am", d(11, 25, 10)),
        ("en", "sun 10am", d(11, 29, 10)),  # in English "sun" is Sunday
    ],
)
def test_only_a_moment_has_no_step(language: str, text: str, expected: datetime) -> None:
    assert split(text, language) == (expected, None)


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("pl", "jutro 10:00"),
        ("pl", "pt 18 grudnia"),
        ("pl", "za pół godziny"),
        ("pl", "10"),
        ("ru", "в субботу в 11:30"),
        ("ro", "peste o săptămână"),
        ("ro", "marţi la 9"),
        ("en", "on Friday at 3 p.m."),
        ("en", "december 15th"),
    ],
)
def test_a_moment_alone_reads_as_parse_when_reads_it(language: str, text: str) -> None:
    tz, now = NOW[language]
    expected = parse_when(text, language=language, tz=tz, now=now)
    assert parse_when_and_step(text, language=language, tz=tz, now=now) == (expected, None)


def test_step_keeps_the_default_hour() -> None:
    assert split("jutro zadzwonić", "pl", default_hour=8) == (d(11, 24, 8), "zadzwonić")
    assert split("jutro 15 zadzwonić", "pl", default_hour=8) == (d(11, 24, 15), "zadzwonić")


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("pl", "wczoraj zadzwonić"),
        ("pl", "zadzwonić wczoraj"),
        ("pl", "dziś 8 zadzwonić"),
        ("ru", "вчера перезвонить"),
        ("ro", "ieri sun"),
        ("en", "yesterday call back"),
        ("en", "today 08:00 call"),
    ],
)
def test_step_with_a_past_moment_is_past(language: str, text: str) -> None:
    tz, now = NOW[language]
    with pytest.raises(WhenError) as caught:
        parse_when_and_step(text, language=language, tz=tz, now=now)
    assert caught.value.reason == "past"


def test_step_with_a_year_less_date_just_past_is_past() -> None:
    for text in ("2.12 10:00 oferta", "2 grudnia zadzwonić", "zadzwonić 2.12 10:00"):
        with pytest.raises(WhenError) as caught:
            parse_when_and_step(text, language="pl", tz=WARSAW, now=DEC3_PL)
        assert caught.value.reason == "past"


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("pl", ""),
        ("pl", "   "),
        ("pl", "zadzwonić"),
        ("pl", "zadzwonić w sprawie leasingu"),
        ("pl", "jutro 25 aut"),  # 25 is a failed time, not part of the step
        ("pl", "jutro 10:00 2 auta"),  # a step starting with a number
        ("pl", "jutro zadzwonić pojutrze"),  # two days: which one?
        ("en", "model 3"),
        ("en", "call back in may"),
        ("ru", "позвонить"),
    ],
)
def test_step_without_a_moment_is_unreadable(language: str, text: str) -> None:
    tz, now = NOW[language]
    with pytest.raises(WhenError) as caught:
        parse_when_and_step(text, language=language, tz=tz, now=now)
    assert caught.value.reason == "unreadable"


def test_step_refuses_a_naive_now() -> None:
    with pytest.raises(ValueError):
        parse_when_and_step(
            "jutro zadzwonić", language="pl", tz=WARSAW, now=datetime(2026, 11, 23)
        )


def test_parse_when_still_refuses_a_step() -> None:
    with pytest.raises(WhenError) as caught:
        parse_when("jutro 10:00 zadzwonić", language="pl", tz=WARSAW, now=NOW_PL)
    assert caught.value.reason == "unreadable"


# --- presets -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("tomorrow_morning", d(11, 24, 9)),
        ("in_2_days", d(11, 25, 9)),
        ("next_monday", d(11, 30, 9)),  # today is Monday: the following one
        ("next_week", d(11, 30, 9)),
        ("in_1_hour", d(11, 23, 13)),
        ("in_1_month", d(12, 23, 9)),
        ("in_3_months", d(2, 23, 9, year=2027)),
        ("in_6_months", d(5, 23, 9, year=2027)),
        ("in_12_months", d(11, 23, 9, year=2027)),
    ],
)
def test_presets(name: str, expected: datetime) -> None:
    assert wall(preset(name, tz=WARSAW, now=NOW_PL), WARSAW) == expected


def test_every_listed_preset_works() -> None:
    for name in PRESET_NAMES:
        assert preset(name, tz=WARSAW, now=NOW_PL) > NOW_PL


def test_preset_morning_hour() -> None:
    result = preset("tomorrow_morning", tz=WARSAW, now=NOW_PL, morning_hour=8)
    assert wall(result, WARSAW) == d(11, 24, 8)


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (datetime(2026, 11, 29, 11, 0, tzinfo=UTC), d(11, 30, 9)),  # Sunday
        (datetime(2026, 11, 24, 11, 0, tzinfo=UTC), d(11, 30, 9)),  # Tuesday
        (datetime(2026, 11, 30, 7, 0, tzinfo=UTC), d(12, 7, 9)),  # Monday 08:00: not today
    ],
)
def test_next_monday(today: datetime, expected: datetime) -> None:
    assert wall(preset("next_monday", tz=WARSAW, now=today), WARSAW) == expected


def test_months_clamp_to_the_last_day() -> None:
    now = datetime(2026, 11, 30, 11, 0, tzinfo=UTC)
    assert wall(preset("in_3_months", tz=WARSAW, now=now), WARSAW) == d(2, 28, 9, year=2027)
    leap = datetime(2028, 1, 31, 11, 0, tzinfo=UTC)
    assert wall(preset("in_1_month", tz=WARSAW, now=leap), WARSAW) == d(2, 29, 9, year=2028)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2026, 11, 23, 10, 0, tzinfo=UTC), d(11, 23, 12, 0)),  # 11:00 -> 12:00
        (datetime(2026, 11, 23, 11, 0, tzinfo=UTC), d(11, 23, 13, 0)),  # 12:00 -> 13:00
        (datetime(2026, 11, 23, 11, 0, 1, tzinfo=UTC), d(11, 23, 13, 0)),  # not 13:15
        (datetime(2026, 11, 23, 11, 5, tzinfo=UTC), d(11, 23, 13, 5)),
        (datetime(2026, 11, 23, 11, 7, 59, 999999, tzinfo=UTC), d(11, 23, 13, 7)),
        (datetime(2026, 11, 23, 11, 50, tzinfo=UTC), d(11, 23, 13, 50)),
        (datetime(2026, 11, 23, 22, 50, tzinfo=UTC), d(11, 24, 0, 50)),  # past midnight
    ],
)
def test_in_1_hour_is_exactly_an_hour_to_the_minute(now: datetime, expected: datetime) -> None:
    result = preset("in_1_hour", tz=WARSAW, now=now)
    assert wall(result, WARSAW) == expected
    assert result.second == 0 and result.microsecond == 0
    assert timedelta(minutes=59) < result - now <= timedelta(hours=1)


def test_in_1_hour_across_spring_forward_is_elapsed_time() -> None:
    now = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)  # 01:30 CET; at 02:00 clocks jump to 03:00
    result = preset("in_1_hour", tz=WARSAW, now=now)
    assert result == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert wall(result, WARSAW) == d(3, 29, 3, 30)


def test_in_1_hour_in_other_zones() -> None:
    now = datetime(2026, 11, 23, 9, 0, 30, tzinfo=UTC)  # 12:00:30 Moscow, 11:00:30 Bucharest
    assert wall(preset("in_1_hour", tz=MOSCOW, now=now), MOSCOW) == d(11, 23, 13, 0)
    assert wall(preset("in_1_hour", tz=BUCHAREST, now=now), BUCHAREST) == d(11, 23, 12, 0)


def test_unknown_preset() -> None:
    with pytest.raises(ValueError):
        preset("someday", tz=WARSAW, now=NOW_PL)


# --- later today ---------------------------------------------------------------------------


def test_later_today_hours_at_ten_past_ten() -> None:
    now = datetime(2026, 11, 23, 9, 10, tzinfo=UTC)  # 10:10 Warsaw
    hours = later_today_hours(tz=WARSAW, now=now)
    assert [wall(h, WARSAW) for h in hours] == [d(11, 23, 12), d(11, 23, 13), d(11, 23, 14)]


def test_later_today_hours_exactly_one_hour_ahead_counts() -> None:
    now = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)  # 11:00 Warsaw
    hours = later_today_hours(tz=WARSAW, now=now, count=2)
    assert [wall(h, WARSAW) for h in hours] == [d(11, 23, 12), d(11, 23, 13)]


def test_later_today_hours_stops_at_until_hour() -> None:
    now = datetime(2026, 11, 23, 17, 30, tzinfo=UTC)  # 18:30 Warsaw
    hours = later_today_hours(tz=WARSAW, now=now)
    assert [wall(h, WARSAW) for h in hours] == [d(11, 23, 20)]


def test_later_today_hours_empty_in_the_evening() -> None:
    now = datetime(2026, 11, 23, 18, 30, tzinfo=UTC)  # 19:30 Warsaw
    assert later_today_hours(tz=WARSAW, now=now) == []
