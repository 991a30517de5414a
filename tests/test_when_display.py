"""How a planned moment is shown: `Translator.when` and `Translator.day`.

Within the coming week (today and six days on, in the team's zone) the abbreviated weekday
leads; outside the current local year the year is written; otherwise it reads as `datetime()`.
Every expected string is Babel's own output for the locale's pattern (CLDR puts non-breaking
spaces in some of them), never a typed literal, except where CLDR has plain spaces and the words
are the point. "Now" is Thursday 3 December 2026, 12:00 local time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_date, format_datetime, format_skeleton, get_day_names
from babel.support import NullTranslations

from bot.domain import Language
from bot.i18n import Translator

ZONES = {
    "pl": "Europe/Warsaw",
    "ru": "Europe/Moscow",
    "ro": "Europe/Bucharest",
    "en": "Europe/London",
}
LANGUAGES = tuple(ZONES)


def translator(language: str, tz: str | None = None) -> Translator:
    return Translator(Language(language), NullTranslations(), tz or ZONES[language])


def local(language: str, year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """An aware moment at a wall time in the language's zone."""
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(ZONES[language]))


def now_in(language: str) -> datetime:
    return local(language, 2026, 12, 3, 12, 0)


def babel_day(language: str, skeleton: str, day: date) -> str:
    """Babel's rendering of a skeleton; English as the bot writes it (day before month)."""
    if language == "en":
        english = {
            "MMMMd": "d MMMM",
            "MMMMEd": "E, d MMMM",
            "yMMMMd": "d MMMM y",
            "yMMMMEd": "E, d MMMM y",
        }
        return format_date(day, english[skeleton], locale="en")
    return format_skeleton(skeleton, day, locale=language)


def babel_when(language: str, skeleton: str, moment: datetime) -> str:
    wall = moment.astimezone(ZoneInfo(ZONES[language]))
    return f"{babel_day(language, skeleton, wall.date())}, {wall:%H:%M}"


# --- the coming week -----------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_coming_week_leads_with_the_weekday(language: str) -> None:
    t = translator(language)
    moment = local(language, 2026, 12, 4, 14, 0)  # Friday
    text = t.when(moment, now_in(language))
    assert text == babel_when(language, "MMMMEd", moment)
    weekday = get_day_names("abbreviated", locale=language)[4]
    assert text.startswith(weekday)
    assert text.endswith(", 14:00")
    assert text != t.datetime(moment)


def test_coming_week_reads_naturally_in_each_language() -> None:
    # These CLDR patterns carry only plain spaces: the words the floor asked for.
    friday = {lang: local(lang, 2026, 12, 4, 14, 0) for lang in LANGUAGES}
    assert translator("pl").when(friday["pl"], now_in("pl")) == "pt., 4 grudnia, 14:00"
    assert translator("ru").when(friday["ru"], now_in("ru")) == "пт, 4 декабря, 14:00"
    assert translator("ro").when(friday["ro"], now_in("ro")) == "vin., 4 decembrie, 14:00"
    assert translator("en").when(friday["en"], now_in("en")) == "Fri, 4 December, 14:00"


@pytest.mark.parametrize("language", LANGUAGES)
def test_month_is_in_the_genitive_as_in_datetime(language: str) -> None:
    t = translator(language)
    moment = local(language, 2026, 12, 4, 14, 0)
    text = t.when(moment, now_in(language))
    genitive = format_date(date(2026, 12, 4), "MMMM", locale=language)  # format context
    assert genitive in text
    assert genitive in t.datetime(moment)
    if language in ("pl", "ru"):  # the stand-alone name differs: "grudzień", "декабрь"
        assert format_date(date(2026, 12, 4), "LLLL", locale=language) not in text


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    ("args", "skeleton"),
    [
        ((2026, 12, 3, 12, 30), "MMMMEd"),  # later today
        ((2026, 12, 3, 8, 0), "MMMMEd"),  # earlier today: still today
        ((2026, 12, 9, 23, 59), "MMMMEd"),  # six days on
        ((2026, 12, 10, 0, 0), "MMMMd"),  # a week on: no weekday
        ((2026, 12, 2, 23, 59), "MMMMd"),  # yesterday: no weekday
        ((2026, 12, 15, 14, 30), "MMMMd"),
        ((2026, 1, 15, 9, 0), "MMMMd"),  # this year, long ago
    ],
)
def test_weekday_only_within_the_coming_week(
    language: str, args: tuple[int, ...], skeleton: str
) -> None:
    t = translator(language)
    moment = local(language, *args)
    assert t.when(moment, now_in(language)) == babel_when(language, skeleton, moment)


@pytest.mark.parametrize("language", LANGUAGES)
def test_otherwise_it_reads_as_datetime(language: str) -> None:
    t = translator(language)
    for moment in (local(language, 2026, 12, 15, 14, 30), local(language, 2026, 3, 1, 9, 0)):
        assert t.when(moment, now_in(language)) == t.datetime(moment)
        expected = format_datetime(moment, "d MMMM, HH:mm", locale=language)
        assert t.datetime(moment) == expected


# --- another year --------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    "args",
    [
        (2027, 12, 2, 10, 0),  # "2.12" typed as next year's: the year says so
        (2027, 1, 15, 9, 0),
        (2025, 11, 20, 9, 0),  # a year ago (an old, overdue date)
    ],
)
def test_another_year_is_written(language: str, args: tuple[int, ...]) -> None:
    t = translator(language)
    moment = local(language, *args)
    text = t.when(moment, now_in(language))
    assert text == babel_when(language, "yMMMMd", moment)
    assert str(args[0]) in text
    assert str(args[0]) not in t.datetime(moment)  # datetime() stays as it was


def test_another_year_in_polish_and_english() -> None:
    pl = translator("pl")
    assert pl.when(local("pl", 2027, 12, 2, 10, 0), now_in("pl")) == "2 grudnia 2027, 10:00"
    en = translator("en")
    assert en.when(local("en", 2027, 12, 2, 10, 0), now_in("en")) == "2 December 2027, 10:00"


@pytest.mark.parametrize("language", LANGUAGES)
def test_coming_week_across_new_year_has_weekday_and_year(language: str) -> None:
    t = translator(language)
    now = local(language, 2026, 12, 29, 12, 0)
    moment = local(language, 2027, 1, 2, 10, 0)  # Saturday, four days on
    text = t.when(moment, now)
    assert text == babel_when(language, "yMMMMEd", moment)
    assert text.startswith(get_day_names("abbreviated", locale=language)[5])
    assert "2027" in text
    this_year = local(language, 2026, 12, 31, 10, 0)
    assert t.when(this_year, now) == babel_when(language, "MMMMEd", this_year)


# --- the team's zone -----------------------------------------------------------------------


def test_day_and_year_are_the_team_zones() -> None:
    now = datetime(2026, 12, 31, 22, 30, tzinfo=UTC)  # 01:30 on 1 January 2027 in Moscow
    moment = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)
    moscow = translator("ru", "Europe/Moscow")
    assert moscow.when(moment, now) == babel_when("ru", "MMMMd", moment)  # this year there
    london = translator("ru", "Europe/London")
    wall = moment.astimezone(ZoneInfo("Europe/London"))
    expected = f"{format_skeleton('yMMMMd', wall.date(), locale='ru')}, {wall:%H:%M}"
    assert london.when(moment, now) == expected  # still 2026 in London: next year's


def test_coming_week_is_counted_in_local_days() -> None:
    now = datetime(2026, 12, 2, 21, 30, tzinfo=UTC)  # 00:30 on 3 December in Moscow
    moment = datetime(2026, 12, 9, 20, 30, tzinfo=UTC)  # 23:30 on 9 December in Moscow
    moscow = translator("ru", "Europe/Moscow")  # 3 → 9 December: six days on
    assert moscow.when(moment, now) == babel_when("ru", "MMMMEd", moment)
    assert moscow.when(moment, now).endswith(", 23:30")
    london = translator("en", "Europe/London")  # still 2 December there: a week on
    assert london.when(moment, now) == london.datetime(moment) == "9 December, 20:30"


def test_moment_late_in_the_evening_utc_is_the_next_local_day() -> None:
    moment = datetime(2026, 12, 4, 22, 30, tzinfo=UTC)  # Saturday 01:30 in Moscow
    t = translator("ru")
    text = t.when(moment, now_in("ru"))
    assert text == babel_when("ru", "MMMMEd", moment)
    assert text.startswith(get_day_names("abbreviated", locale="ru")[5])
    assert text.endswith(", 01:30")


# --- day() ---------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_day_of_a_date(language: str) -> None:
    t = translator(language)
    now = now_in(language)
    assert t.day(date(2026, 12, 4), now) == babel_day(language, "MMMMEd", date(2026, 12, 4))
    assert t.day(date(2026, 12, 15), now) == babel_day(language, "MMMMd", date(2026, 12, 15))
    assert t.day(date(2027, 12, 2), now) == babel_day(language, "yMMMMd", date(2027, 12, 2))
    assert t.day(date(2026, 12, 2), now) == babel_day(language, "MMMMd", date(2026, 12, 2))


@pytest.mark.parametrize("language", LANGUAGES)
def test_day_of_a_moment_is_its_local_day(language: str) -> None:
    t = translator(language)
    moment = local(language, 2026, 12, 4, 0, 15)
    assert t.day(moment, now_in(language)) == babel_day(language, "MMMMEd", date(2026, 12, 4))
    assert t.when(moment, now_in(language)).startswith(t.day(moment, now_in(language)))


def test_day_of_a_plain_date_is_not_moved_by_the_zone() -> None:
    t = translator("ru", "Pacific/Kiritimati")  # UTC+14
    now = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # already 23:00 on 3 December there
    assert t.day(date(2026, 12, 3), now) == babel_day("ru", "MMMMEd", date(2026, 12, 3))
    assert t.day(date(2026, 12, 10), now) == babel_day("ru", "MMMMd", date(2026, 12, 10))


def test_naive_moments_are_refused() -> None:
    t = translator("pl")
    with pytest.raises(ValueError):
        t.when(datetime(2026, 12, 4, 14, 0), now_in("pl"))
    with pytest.raises(ValueError):
        t.when(now_in("pl"), datetime(2026, 12, 3, 12, 0))
    with pytest.raises(ValueError):
        t.day(date(2026, 12, 4), datetime(2026, 12, 3, 12, 0))
