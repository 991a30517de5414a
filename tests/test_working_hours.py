"""Tests for bot.services.working_hours: working days/hours in a team's own time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.services.working_hours import (
    DEFAULT_DAYS,
    WorkingHours,
    local_wall_time,
    weekdays_mask,
)

WARSAW = "Europe/Warsaw"
MOSCOW = "Europe/Moscow"
BUCHAREST = "Europe/Bucharest"

MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def local(
    tz: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    """An aware local datetime (fold=0) in `tz`."""
    return datetime(year, month, day, hour, minute, second, tzinfo=ZoneInfo(tz))


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.fixture
def warsaw() -> WorkingHours:
    return WorkingHours(WARSAW)


def test_calendar_assumptions() -> None:
    assert date(2026, 3, 28).weekday() == SAT
    assert date(2026, 3, 29).weekday() == SUN
    assert date(2026, 3, 30).weekday() == MON
    assert date(2026, 10, 23).weekday() == FRI
    assert date(2026, 10, 25).weekday() == SUN
    assert date(2026, 10, 26).weekday() == MON


def test_defaults() -> None:
    hours = WorkingHours(WARSAW)
    assert hours.days == DEFAULT_DAYS == 0b0111111
    assert (hours.start_minute, hours.end_minute) == (540, 1080)
    assert [hours.works_on(date(2026, 3, 23) + timedelta(days=i)) for i in range(7)] == [
        True,
        True,
        True,
        True,
        True,
        True,
        False,
    ]


def test_weekdays_mask() -> None:
    assert weekdays_mask([TUE, THU]) == 0b0001010
    assert weekdays_mask(range(6)) == DEFAULT_DAYS
    assert weekdays_mask([]) == 0
    with pytest.raises(ValueError):
        weekdays_mask([7])


# --- next_working_moment across DST in Warsaw -------------------------------------------------


def test_saturday_evening_before_spring_change(warsaw: WorkingHours) -> None:
    result = warsaw.next_working_moment(local(WARSAW, 2026, 3, 28, 18, 30))
    assert result == utc(2026, 3, 30, 7, 0)
    assert result.tzinfo is UTC
    assert result.astimezone(ZoneInfo(WARSAW)).hour == 9


def test_friday_evening_before_autumn_change(warsaw: WorkingHours) -> None:
    result = warsaw.next_working_moment(local(WARSAW, 2026, 10, 23, 20, 0))
    assert result == utc(2026, 10, 24, 7, 0)
    assert result.tzinfo is UTC


def test_saturday_evening_across_autumn_change(warsaw: WorkingHours) -> None:
    result = warsaw.next_working_moment(local(WARSAW, 2026, 10, 24, 19, 0))
    assert result == utc(2026, 10, 26, 8, 0)
    assert result.astimezone(ZoneInfo(WARSAW)).hour == 9


def test_before_start_on_working_day_is_todays_start(warsaw: WorkingHours) -> None:
    assert warsaw.next_working_moment(local(WARSAW, 2026, 3, 30, 6, 15)) == utc(2026, 3, 30, 7)
    # Just after local midnight, still the same local day.
    assert warsaw.next_working_moment(local(WARSAW, 2026, 3, 31, 0, 0)) == utc(2026, 3, 31, 7)


def test_within_hours_returns_moment_itself_as_utc(warsaw: WorkingHours) -> None:
    moment = local(WARSAW, 2026, 3, 30, 12, 34, 56)
    result = warsaw.next_working_moment(moment)
    assert result == moment
    assert result == utc(2026, 3, 30, 10, 34, 56)
    assert result.tzinfo is UTC


def test_exactly_at_end_moves_to_next_day(warsaw: WorkingHours) -> None:
    assert warsaw.next_working_moment(local(WARSAW, 2026, 3, 30, 18, 0)) == utc(2026, 3, 31, 7)


def test_sunday_moves_to_monday(warsaw: WorkingHours) -> None:
    assert warsaw.next_working_moment(local(WARSAW, 2026, 3, 29, 12, 0)) == utc(2026, 3, 30, 7)
    assert warsaw.next_working_moment(local(WARSAW, 2026, 10, 25, 1, 0)) == utc(2026, 10, 26, 8)


def test_input_in_other_zones(warsaw: WorkingHours) -> None:
    # 2026-03-28 17:30 UTC is 18:30 Warsaw (UTC+1), after hours on Saturday.
    assert warsaw.next_working_moment(utc(2026, 3, 28, 17, 30)) == utc(2026, 3, 30, 7)
    # 2026-03-30 06:00 in +09:00 is Sunday 22:00 UTC = Monday 00:00 Warsaw (UTC+2).
    tokyo_like = datetime(2026, 3, 30, 6, 0, tzinfo=timezone(timedelta(hours=9)))
    assert warsaw.next_working_moment(tokyo_like) == utc(2026, 3, 30, 7)


def test_empty_mask_raises() -> None:
    hours = WorkingHours(WARSAW, days=0)
    with pytest.raises(ValueError):
        hours.next_working_moment(local(WARSAW, 2026, 3, 30, 12, 0))
    assert not hours.is_working(local(WARSAW, 2026, 3, 30, 12, 0))
    assert hours.agenda_due(local(WARSAW, 2026, 3, 30, 12, 0), None) is None


# --- day_start / local_wall_time ---------------------------------------------------------------


def test_day_start_on_dst_sundays_ignores_mask(warsaw: WorkingHours) -> None:
    assert not warsaw.works_on(date(2026, 3, 29))
    assert warsaw.day_start(date(2026, 3, 29)) == utc(2026, 3, 29, 7, 0)
    assert warsaw.day_start(date(2026, 10, 25)) == utc(2026, 10, 25, 8, 0)
    assert warsaw.day_start(date(2026, 3, 29)).tzinfo is UTC


def test_day_end(warsaw: WorkingHours) -> None:
    assert warsaw.day_end(date(2026, 3, 29)) == utc(2026, 3, 29, 16, 0)
    assert warsaw.day_end(date(2026, 10, 25)) == utc(2026, 10, 25, 17, 0)


def test_local_wall_time_gap_moves_forward() -> None:
    result = local_wall_time(date(2026, 3, 29), 150, WARSAW)
    assert result == utc(2026, 3, 29, 1, 30)
    assert result.tzinfo is UTC
    assert result.astimezone(ZoneInfo(WARSAW)).replace(tzinfo=None) == datetime(2026, 3, 29, 3, 30)


def test_local_wall_time_ambiguous_takes_first_occurrence() -> None:
    assert local_wall_time(date(2026, 10, 25), 150, WARSAW) == utc(2026, 10, 25, 0, 30)


def test_local_wall_time_bounds() -> None:
    assert local_wall_time(date(2026, 3, 30), 0, WARSAW) == utc(2026, 3, 29, 22, 0)
    # 1440 is the midnight ending the day.
    assert local_wall_time(date(2026, 3, 30), 1440, WARSAW) == utc(2026, 3, 30, 22, 0)
    assert local_wall_time(date(2026, 3, 28), 1440, WARSAW) == utc(2026, 3, 28, 23, 0)
    with pytest.raises(ValueError):
        local_wall_time(date(2026, 3, 30), -1, WARSAW)
    with pytest.raises(ValueError):
        local_wall_time(date(2026, 3, 30), 1441, WARSAW)
    with pytest.raises(ValueError):
        local_wall_time(date(2026, 3, 30), 540, "Mars/Olympus_Mons")


def test_start_inside_spring_gap() -> None:
    hours = WorkingHours(WARSAW, days=0b1111111, start_minute=150, end_minute=600)
    assert hours.day_start(date(2026, 3, 29)) == utc(2026, 3, 29, 1, 30)
    # 01:59 local (00:59 UTC) is before the start; 03:00 local is the gap's end, still before.
    assert not hours.is_working(utc(2026, 3, 29, 0, 59))
    assert not hours.is_working(local(WARSAW, 2026, 3, 29, 3, 0))
    assert hours.is_working(local(WARSAW, 2026, 3, 29, 3, 30))
    assert hours.next_working_moment(local(WARSAW, 2026, 3, 29, 1, 0)) == utc(2026, 3, 29, 1, 30)


# --- is_working / local_day --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hour", "minute", "expected"),
    [(8, 59, False), (9, 0, True), (17, 59, True), (18, 0, False)],
)
def test_is_working_monday_edges(
    warsaw: WorkingHours, hour: int, minute: int, expected: bool
) -> None:
    assert warsaw.is_working(local(WARSAW, 2026, 3, 30, hour, minute)) is expected
    assert warsaw.is_working(local(WARSAW, 2026, 10, 26, hour, minute)) is expected


def test_is_working_sunday_noon(warsaw: WorkingHours) -> None:
    assert not warsaw.is_working(local(WARSAW, 2026, 3, 29, 12, 0))
    assert not warsaw.is_working(local(WARSAW, 2026, 3, 22, 12, 0))


def test_local_day(warsaw: WorkingHours) -> None:
    assert warsaw.local_day(utc(2026, 3, 29, 22, 30)) == date(2026, 3, 30)
    assert warsaw.local_day(utc(2026, 3, 29, 21, 59)) == date(2026, 3, 29)
    assert warsaw.local_day(utc(2026, 10, 25, 22, 59)) == date(2026, 10, 25)
    assert warsaw.local_day(utc(2026, 10, 25, 23, 0)) == date(2026, 10, 26)


def test_naive_datetimes_raise(warsaw: WorkingHours) -> None:
    naive = datetime(2026, 3, 30, 12, 0)
    with pytest.raises(ValueError):
        warsaw.is_working(naive)
    with pytest.raises(ValueError):
        warsaw.next_working_moment(naive)
    with pytest.raises(ValueError):
        warsaw.local_day(naive)
    with pytest.raises(ValueError):
        warsaw.agenda_due(naive, None)


# --- agenda_due ----------------------------------------------------------------------------------


def test_agenda_before_start_is_not_due(warsaw: WorkingHours) -> None:
    assert warsaw.agenda_due(local(WARSAW, 2026, 3, 30, 8, 30), None) is None


def test_agenda_due_within_hours(warsaw: WorkingHours) -> None:
    monday = date(2026, 3, 30)
    now = local(WARSAW, 2026, 3, 30, 9, 5)
    assert warsaw.agenda_due(now, None) == monday
    assert warsaw.agenda_due(now, monday) is None
    assert warsaw.agenda_due(now, date(2026, 3, 28)) == monday


def test_agenda_not_due_after_end(warsaw: WorkingHours) -> None:
    assert warsaw.agenda_due(local(WARSAW, 2026, 3, 30, 18, 0), None) is None


def test_agenda_not_due_on_sunday(warsaw: WorkingHours) -> None:
    assert warsaw.agenda_due(local(WARSAW, 2026, 3, 29, 10, 0), None) is None


def test_agenda_not_due_on_saturday_for_weekday_team() -> None:
    hours = WorkingHours(WARSAW, days=weekdays_mask(range(5)))
    assert hours.agenda_due(local(WARSAW, 2026, 3, 28, 10, 0), None) is None
    assert hours.agenda_due(local(WARSAW, 2026, 3, 27, 10, 0), None) == date(2026, 3, 27)


def test_agenda_day_is_local_not_utc() -> None:
    # 00:30 Monday in Moscow is still Sunday in UTC; with 0-1440 hours the agenda is Monday's.
    hours = WorkingHours(MOSCOW, start_minute=0, end_minute=1440)
    now = utc(2026, 3, 29, 21, 30)
    assert hours.agenda_due(now, date(2026, 3, 28)) == date(2026, 3, 30)


# --- Moscow (no DST) and Bucharest (UTC+2/+3) ---------------------------------------------------


def test_moscow_no_dst() -> None:
    hours = WorkingHours(MOSCOW)
    assert hours.next_working_moment(local(MOSCOW, 2026, 3, 28, 18, 30)) == utc(2026, 3, 30, 6)
    assert hours.next_working_moment(local(MOSCOW, 2026, 10, 24, 19, 0)) == utc(2026, 10, 26, 6)
    assert hours.day_start(date(2026, 3, 29)) == utc(2026, 3, 29, 6)
    assert hours.day_start(date(2026, 10, 25)) == utc(2026, 10, 25, 6)
    assert hours.day_start(date(2026, 1, 15)) == utc(2026, 1, 15, 6)
    assert hours.is_working(utc(2026, 7, 1, 6, 0))
    assert not hours.is_working(utc(2026, 7, 1, 15, 0))


def test_bucharest_dst() -> None:
    hours = WorkingHours(BUCHAREST)
    # Winter UTC+2 before 29 March, summer UTC+3 after.
    assert hours.next_working_moment(local(BUCHAREST, 2026, 3, 28, 18, 30)) == utc(2026, 3, 30, 6)
    assert hours.next_working_moment(local(BUCHAREST, 2026, 10, 23, 20, 0)) == utc(2026, 10, 24, 6)
    assert hours.next_working_moment(local(BUCHAREST, 2026, 10, 24, 19, 0)) == utc(2026, 10, 26, 7)
    assert hours.day_start(date(2026, 3, 29)) == utc(2026, 3, 29, 6)
    assert hours.day_start(date(2026, 10, 25)) == utc(2026, 10, 25, 7)
    # Bucharest jumps 03:00 -> 04:00 local: 03:30 moves to 04:30 EEST = 01:30 UTC.
    assert local_wall_time(date(2026, 3, 29), 210, BUCHAREST) == utc(2026, 3, 29, 1, 30)
    # 03:30 happens twice on 25 October; the first one is EEST (UTC+3).
    assert local_wall_time(date(2026, 10, 25), 210, BUCHAREST) == utc(2026, 10, 25, 0, 30)


# --- custom masks and round-the-clock hours ------------------------------------------------------


def test_tuesday_thursday_mask_skips_days() -> None:
    hours = WorkingHours(WARSAW, days=weekdays_mask([TUE, THU]))
    # Thursday 2 April 2026 after hours -> Tuesday 7 April 09:00 (UTC+2).
    assert hours.next_working_moment(local(WARSAW, 2026, 4, 2, 19, 0)) == utc(2026, 4, 7, 7)
    # Wednesday -> Thursday.
    assert hours.next_working_moment(local(WARSAW, 2026, 4, 1, 10, 0)) == utc(2026, 4, 2, 7)
    # Friday before the spring change -> Tuesday after it.
    assert hours.next_working_moment(local(WARSAW, 2026, 3, 27, 10, 0)) == utc(2026, 3, 31, 7)
    # Tuesday before start -> that Tuesday.
    assert hours.next_working_moment(local(WARSAW, 2026, 4, 7, 8, 0)) == utc(2026, 4, 7, 7)
    assert not hours.is_working(local(WARSAW, 2026, 4, 6, 12, 0))
    assert hours.is_working(local(WARSAW, 2026, 4, 7, 12, 0))


def test_single_day_mask_wraps_a_full_week() -> None:
    hours = WorkingHours(WARSAW, days=weekdays_mask([MON]))
    assert hours.next_working_moment(local(WARSAW, 2026, 3, 30, 18, 0)) == utc(2026, 4, 6, 7)


def test_round_the_clock_hours() -> None:
    hours = WorkingHours(WARSAW, start_minute=0, end_minute=1440)
    monday = local(WARSAW, 2026, 3, 30, 0, 0)
    for minutes in range(0, 7 * 1440, 7):
        moment = monday + timedelta(minutes=minutes)
        day = hours.local_day(moment)
        assert hours.is_working(moment) is hours.works_on(day)
    assert hours.is_working(local(WARSAW, 2026, 3, 30, 0, 0))
    assert hours.is_working(local(WARSAW, 2026, 3, 30, 23, 59, 59))
    assert hours.is_working(local(WARSAW, 2026, 3, 28, 23, 59, 59))
    # Sunday -> Monday 00:00 local.
    assert hours.next_working_moment(local(WARSAW, 2026, 3, 29, 12, 0)) == utc(2026, 3, 29, 22)
    assert hours.next_working_moment(local(WARSAW, 2026, 10, 25, 12, 0)) == utc(2026, 10, 25, 23)
    # All days, DST Sunday: a 23-hour and a 25-hour working day.
    always = WorkingHours(WARSAW, days=0b1111111, start_minute=0, end_minute=1440)
    spring = date(2026, 3, 29)
    autumn = date(2026, 10, 25)
    assert always.day_end(spring) - always.day_start(spring) == timedelta(hours=23)
    assert always.day_end(autumn) - always.day_start(autumn) == timedelta(hours=25)
    for minutes in range(0, 3 * 1440, 5):
        moment = utc(2026, 10, 24) + timedelta(minutes=minutes)
        assert always.is_working(moment)
        assert always.next_working_moment(moment) == moment


@pytest.mark.parametrize("tz", [WARSAW, MOSCOW, BUCHAREST])
@pytest.mark.parametrize(
    ("days", "start", "end"),
    [(DEFAULT_DAYS, 540, 1080), (0b0001010, 480, 960), (0b1000001, 0, 1440), (0b0010000, 0, 60)],
)
def test_next_working_moment_invariants(tz: str, days: int, start: int, end: int) -> None:
    """Around both DST changes: the result is working, not before the moment, and nothing
    between the moment and the result is working (checked on a 30-minute grid)."""
    hours = WorkingHours(tz, days=days, start_minute=start, end_minute=end)
    for first in (utc(2026, 3, 24), utc(2026, 10, 20)):
        for step in range(0, 10 * 24 * 2):
            moment = first + timedelta(minutes=30 * step, seconds=step % 3)
            result = hours.next_working_moment(moment)
            assert result.tzinfo is UTC
            assert result >= moment
            assert hours.is_working(result)
            assert result - moment <= timedelta(days=7)
            if hours.is_working(moment):
                assert result == moment
            else:
                probe = moment + timedelta(minutes=30)
                while probe < result:
                    assert not hours.is_working(probe)
                    probe += timedelta(minutes=30)
                local_result = result.astimezone(ZoneInfo(tz))
                assert local_result.hour * 60 + local_result.minute == start % 1440


# --- validation ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"timezone": "Not/AZone"},
        {"timezone": ""},
        {"timezone": WARSAW, "days": 128},
        {"timezone": WARSAW, "days": -1},
        {"timezone": WARSAW, "start_minute": 600, "end_minute": 600},
        {"timezone": WARSAW, "start_minute": 1080, "end_minute": 540},
        {"timezone": WARSAW, "start_minute": -1},
        {"timezone": WARSAW, "end_minute": 1441},
    ],
)
def test_invalid_working_hours(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        WorkingHours(**kwargs)  # type: ignore[arg-type]


def test_frozen_and_hashable(warsaw: WorkingHours) -> None:
    assert warsaw == WorkingHours(WARSAW, DEFAULT_DAYS, 540, 1080)
    assert hash(warsaw) == hash(WorkingHours(WARSAW))
    with pytest.raises(AttributeError):
        warsaw.start_minute = 600  # type: ignore[misc]
