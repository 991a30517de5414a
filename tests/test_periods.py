"""Report periods: the named ones, typed ranges in every language, the period before, and the
cut of a running period's comparison."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.services import periods
from bot.services.periods import ReportPeriod
from bot.storage.analytics import Period

TODAY = date(2026, 12, 1)  # a Tuesday


@pytest.mark.parametrize(
    ("name", "first", "last"),
    [
        ("today", date(2026, 12, 1), date(2026, 12, 1)),
        ("week", date(2026, 11, 30), date(2026, 12, 6)),
        ("month", date(2026, 12, 1), date(2026, 12, 31)),
        ("last_month", date(2026, 11, 1), date(2026, 11, 30)),
        ("quarter", date(2026, 10, 1), date(2026, 12, 31)),
    ],
)
def test_named_periods(name: str, first: date, last: date) -> None:
    assert periods.named(name, TODAY) == ReportPeriod(name, first, last)
    assert periods.from_code(name, TODAY) == ReportPeriod(name, first, last)


def test_the_period_before() -> None:
    assert periods.previous(periods.named("week", TODAY)) == ReportPeriod(
        "week", date(2026, 11, 23), date(2026, 11, 29)
    )
    assert periods.previous(periods.named("month", date(2026, 3, 31))) == ReportPeriod(
        "month", date(2026, 2, 1), date(2026, 2, 28)
    )
    assert periods.previous(periods.named("quarter", date(2026, 2, 10))) == ReportPeriod(
        "quarter", date(2025, 10, 1), date(2025, 12, 31)
    )
    typed = ReportPeriod("range", date(2026, 11, 10), date(2026, 11, 19))
    assert periods.previous(typed) == ReportPeriod("range", date(2026, 10, 31), date(2026, 11, 9))


def test_a_running_period_is_compared_over_the_same_length() -> None:
    # Tuesday 1 December, 10:00 in Warsaw: this week so far against Monday 00:00 – Tuesday 10:00
    # of the week before.
    now = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    current, before = periods.measured(periods.named("week", TODAY), "Europe/Warsaw", now)
    assert current == Period(
        datetime(2026, 11, 29, 23, 0, tzinfo=UTC), datetime(2026, 12, 6, 23, 0, tzinfo=UTC)
    )
    assert before == Period(
        datetime(2026, 11, 22, 23, 0, tzinfo=UTC), datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    )
    finished = ReportPeriod("range", date(2026, 11, 23), date(2026, 11, 29))
    _, whole = periods.measured(finished, "Europe/Warsaw", now)
    assert whole == Period(
        datetime(2026, 11, 15, 23, 0, tzinfo=UTC), datetime(2026, 11, 22, 23, 0, tzinfo=UTC)
    )


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("1.11-15.11", date(2026, 11, 1), date(2026, 11, 15)),
        ("1.11 – 15.11", date(2026, 11, 1), date(2026, 11, 15)),
        ("od 1.11 do 15.11", date(2026, 11, 1), date(2026, 11, 15)),
        ("с 01.11 по 15.11", date(2026, 11, 1), date(2026, 11, 15)),
        ("de la 1.11 până la 15.11", date(2026, 11, 1), date(2026, 11, 15)),
        ("01.11.2026 - 30.11.2026", date(2026, 11, 1), date(2026, 11, 30)),
        ("1/10/25-31/3/26", date(2025, 10, 1), date(2026, 3, 31)),
        ("2026-11-01 2026-11-30", date(2026, 11, 1), date(2026, 11, 30)),
        ("15.11", date(2026, 11, 15), date(2026, 11, 15)),
        # A day-month after today is last year's; a range across New Year starts a year back.
        ("20.12", date(2025, 12, 20), date(2025, 12, 20)),
        ("15.12-10.01", date(2025, 12, 15), date(2026, 1, 10)),
        ("listopad", date(2026, 11, 1), date(2026, 11, 30)),
        ("Ноябрь 2025", date(2025, 11, 1), date(2025, 11, 30)),
        ("noiembrie", date(2026, 11, 1), date(2026, 11, 30)),
        ("february", date(2026, 2, 1), date(2026, 2, 28)),
        ("grudzień", date(2026, 12, 1), date(2026, 12, 31)),  # this month, so far
        ("за октябрь", date(2026, 10, 1), date(2026, 10, 31)),
    ],
)
def test_typed_ranges(text: str, first: date, last: date) -> None:
    assert periods.parse_range(text, TODAY) == ReportPeriod("range", first, last)


@pytest.mark.parametrize(
    "text",
    ["", "yesterday-ish", "32.11-40.11", "30.02", "15.11-1.11.2026 - 3.11", "1.1.2020-1.1.2026"],
)
def test_what_is_not_a_period(text: str) -> None:
    assert periods.parse_range(text, TODAY) is None


def test_codes_round_trip_and_forged_codes_are_refused() -> None:
    typed = ReportPeriod("range", date(2026, 11, 1), date(2026, 11, 30))
    assert typed.code == "20261101-20261130"
    assert periods.from_code(typed.code, TODAY) == typed
    assert len(f"rp:s:l:{typed.code}".encode()) <= 64
    for forged in ("20261131-20261201", "20261130-20261101", "yesterday", "1-2", ""):
        assert periods.from_code(forged, TODAY) is None
