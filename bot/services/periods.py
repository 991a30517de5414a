"""The periods a report covers: today, this week, this month, last month, this quarter, or a
range the manager types ("1.11-15.11", "01.11.2026 – 30.11.2026", "listopad", "ноябрь 2025").

A period is a run of whole local days of the team's calendar. Its figures are compared with the
period before it: the day, week, month or quarter before, or as many days just before a typed
range. A period still running is measured up to now, and the one before it over the same
length, so "this week so far" is compared with the same part of last week.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.services.dates import month_named
from bot.services.working_hours import local_wall_time
from bot.storage.analytics import Period

NAMED = ("today", "week", "month", "last_month", "quarter")
# A typed range may span up to about two years (a longer one is surely a typo).
LONGEST_RANGE_DAYS = 731
_CODE = re.compile(r"^([0-9]{8})-([0-9]{8})$")
_DATE_TOKEN = re.compile(
    r"(?<![0-9])(?:([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})|([0-9]{1,2})[./]([0-9]{1,2})(?:[./]([0-9]{4}|[0-9]{2}))?)(?![0-9])"
)
_WORD = re.compile(r"[^\W\d_]+")
_YEAR = re.compile(r"(?<![0-9])([0-9]{4})(?![0-9])")


@dataclass(frozen=True)
class ReportPeriod:
    """Local calendar days `first` to `last`, both included; `name` is one of NAMED or
    "range" for one that was typed."""

    name: str
    first: date
    last: date

    @property
    def code(self) -> str:
        """What a button carries to show this period again (ASCII, short)."""
        if self.name != "range":
            return self.name
        return f"{self.first:%Y%m%d}-{self.last:%Y%m%d}"

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def bounds(self, timezone: str) -> Period:
        return Period(
            local_wall_time(self.first, 0, timezone),
            local_wall_time(self.last + timedelta(days=1), 0, timezone),
        )


def _month_start(day: date, months: int = 0) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def named(name: str, today: date) -> ReportPeriod:
    if name == "today":
        return ReportPeriod(name, today, today)
    if name == "week":
        monday = today - timedelta(days=today.weekday())
        return ReportPeriod(name, monday, monday + timedelta(days=6))
    if name == "month":
        return ReportPeriod(name, _month_start(today), _month_start(today, 1) - timedelta(days=1))
    if name == "last_month":
        return ReportPeriod(name, _month_start(today, -1), _month_start(today) - timedelta(days=1))
    if name == "quarter":
        first = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        return ReportPeriod(name, first, _month_start(first, 3) - timedelta(days=1))
    raise ValueError(name)


def from_code(code: str, today: date) -> ReportPeriod | None:
    """The period a button stands for; None for a code that is not one (a forged button)."""
    if code in NAMED:
        return named(code, today)
    match = _CODE.match(code)
    if match is None:
        return None
    try:
        first, last = (datetime.strptime(part, "%Y%m%d").date() for part in match.groups())
    except ValueError:
        return None
    return _range(first, last)


def _range(first: date, last: date) -> ReportPeriod | None:
    if last < first or (last - first).days >= LONGEST_RANGE_DAYS:
        return None
    return ReportPeriod("range", first, last)


def previous(period: ReportPeriod) -> ReportPeriod:
    """The period just before: the same calendar unit, or as many days."""
    if period.name in ("today", "week", "range"):
        shift = timedelta(days=period.days)
        return ReportPeriod(period.name, period.first - shift, period.last - shift)
    months = 3 if period.name == "quarter" else 1
    first = _month_start(period.first, -months)
    return ReportPeriod(period.name, first, period.first - timedelta(days=1))


def measured(period: ReportPeriod, timezone: str, now: datetime) -> tuple[Period, Period]:
    """The period's UTC bounds and those of the one before it; while the period is running
    (nothing has happened after now), the one before is cut to the same length."""
    current = period.bounds(timezone)
    before = previous(period).bounds(timezone)
    if current.start < now < current.end:
        before = Period(before.start, min(before.start + (now - current.start), before.end))
    return current, before


def parse_range(text: str, today: date) -> ReportPeriod | None:
    """A typed period: two dates ("1.11-15.11", "od 1.11 do 15.11", "2026-11-01 2026-11-30"),
    one date (that day), or a month's name with an optional year (the whole month). A date
    without a year is the latest such day not after today. None when it reads as no period."""
    dates = list(_DATE_TOKEN.finditer(text))
    if len(dates) in (1, 2):
        days = [_token_date(match, today) for match in dates]
        if None in days:
            return None
        first, last = days[0], days[-1]
        assert first is not None and last is not None
        if first > last and dates[0].group(6) is None and dates[0].group(1) is None:
            # "15.12 - 10.01" typed in January: the first date is in the year before.
            first = _year_earlier(first)
        return None if first is None else _range(first, last)
    if dates:
        return None
    months = {month for word in _WORD.findall(text) if (month := month_named(word))}
    if len(months) != 1:
        return None
    month = months.pop()
    year_match = _YEAR.search(text)
    if year_match:
        year = int(year_match.group(1))
    else:
        year = today.year if month <= today.month else today.year - 1
    if not 2000 <= year <= 2100:
        return None
    first = date(year, month, 1)
    return _range(first, _month_start(first, 1) - timedelta(days=1))


def _token_date(match: re.Match[str], today: date) -> date | None:
    iso_year, iso_month, iso_day, day, month, year = match.groups()
    try:
        if iso_year:
            return date(int(iso_year), int(iso_month), int(iso_day))
        if year:
            full_year = int(year) + (2000 if len(year) == 2 else 0)
            return date(full_year, int(month), int(day))
        candidate = date(today.year, int(month), int(day))
    except ValueError:
        return None
    return candidate if candidate <= today else _year_earlier(candidate)


def _year_earlier(day: date) -> date | None:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return None
