"""A team's working hours: when automatic messages may go out.

A team works on some weekdays (a bit mask, Monday = bit 0 ... Sunday = bit 6) between a start and
an end minute of the local day, in its own IANA time zone. Automatic messages (win-back reminders,
nudges, morning agendas, catch-up of reminders missed while the bot was down) wait for working
time; whether a given message respects working hours is the caller's decision, not this module's.

Every wall time is built as a local datetime with zoneinfo and only then converted to UTC, so a
09:00 start stays 09:00 local on both sides of a DST change. A wall time inside a spring-forward
gap moves forward by the gap; an ambiguous autumn-back wall time takes its first occurrence.

The working period of a local day is the half-open UTC interval [day_start, day_end). All inputs
must be aware datetimes (naive ones raise ValueError); all outputs are aware UTC datetimes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

MINUTES_PER_DAY = 1440
ALL_DAYS = 0b1111111
DEFAULT_DAYS = 0b0111111  # Monday-Saturday
DEFAULT_START_MINUTE = 9 * 60  # 09:00
DEFAULT_END_MINUTE = 18 * 60  # 18:00


def weekdays_mask(weekdays: Iterable[int]) -> int:
    """The day mask of the given weekdays (Monday = 0 ... Sunday = 6, as `date.weekday()`)."""
    mask = 0
    for weekday in weekdays:
        if not 0 <= weekday <= 6:
            raise ValueError(f"weekday must be 0..6, got {weekday!r}")
        mask |= 1 << weekday
    return mask


def _zone(timezone: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {timezone!r}") from exc


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"datetime must be timezone-aware, got naive {moment!r}")


def local_wall_time(day: date, minute_of_day: int, timezone: str) -> datetime:
    """Aware UTC moment of a local wall time.

    `minute_of_day` is 0..1440; 1440 is midnight at the end of `day` (00:00 of the next day).
    A wall time that does not exist (spring-forward gap) moves forward by the gap (02:30 on
    29 March 2026 in Europe/Warsaw -> 03:30 local = 01:30 UTC); an ambiguous one (autumn-back)
    takes the first occurrence (fold=0).
    """
    if not 0 <= minute_of_day <= MINUTES_PER_DAY:
        raise ValueError(f"minute_of_day must be 0..{MINUTES_PER_DAY}, got {minute_of_day!r}")
    zone = _zone(timezone)
    if minute_of_day == MINUTES_PER_DAY:
        day, minute_of_day = day + timedelta(days=1), 0
    hour, minute = divmod(minute_of_day, 60)
    # fold=0: a gap time is read with the offset before the transition (i.e. moved forward by
    # the gap once converted), an ambiguous time as its first occurrence.
    local = datetime.combine(day, time(hour, minute), tzinfo=zone)
    return local.astimezone(UTC)


@dataclass(frozen=True)
class WorkingHours:
    """Working days and hours of a team in its own time zone."""

    timezone: str  # IANA name, e.g. "Europe/Warsaw"
    days: int = DEFAULT_DAYS  # bit mask, Monday = bit 0 ... Sunday = bit 6
    start_minute: int = DEFAULT_START_MINUTE  # minutes after local midnight
    end_minute: int = DEFAULT_END_MINUTE  # end > start (no overnight shifts); 1440 = midnight

    def __post_init__(self) -> None:
        _zone(self.timezone)
        if isinstance(self.days, bool) or not 0 <= self.days <= ALL_DAYS:
            raise ValueError(f"days must be a mask 0..{ALL_DAYS:#b}, got {self.days!r}")
        if not 0 <= self.start_minute < self.end_minute <= MINUTES_PER_DAY:
            raise ValueError(
                "working hours need 0 <= start_minute < end_minute <= "
                f"{MINUTES_PER_DAY}, got {self.start_minute}..{self.end_minute}"
            )

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.timezone)

    def works_on(self, day: date) -> bool:
        """Whether `day` (a local calendar date) is a working weekday."""
        return bool(self.days >> day.weekday() & 1)

    def day_start(self, day: date) -> datetime:
        """Aware UTC of the local start time on that local day (the day mask is ignored)."""
        return local_wall_time(day, self.start_minute, self.timezone)

    def day_end(self, day: date) -> datetime:
        """Aware UTC of the local end time on that local day (exclusive; mask ignored)."""
        return local_wall_time(day, self.end_minute, self.timezone)

    def local_day(self, moment: datetime) -> date:
        """The local calendar date of an aware moment."""
        _require_aware(moment)
        return moment.astimezone(self.zone).date()

    def is_working(self, moment: datetime) -> bool:
        """Whether an aware moment (any zone) falls within working time: start <= t < end."""
        day = self.local_day(moment)
        if not self.works_on(day):
            return False
        return self.day_start(day) <= moment < self.day_end(day)

    def next_working_moment(self, moment: datetime) -> datetime:
        """`moment` itself (as UTC) if it is working time, else the start of the next working
        period, as aware UTC. Raises ValueError if no weekday is a working day."""
        _require_aware(moment)
        if not self.days & ALL_DAYS:
            raise ValueError("no working days in the mask")
        today = self.local_day(moment)
        # Some working day within the next 8 local days has a period ending after `moment`.
        for offset in range(8):
            day = today + timedelta(days=offset)
            if not self.works_on(day) or moment >= self.day_end(day):
                continue
            start = self.day_start(day)
            return moment.astimezone(UTC) if moment >= start else start
        raise AssertionError("unreachable: a working day exists within a week")  # pragma: no cover

    def agenda_due(self, now: datetime, last_sent: date | None) -> date | None:
        """The local day whose morning agenda should go out now.

        Today's (local) date if today is a working day, the local time is within working hours
        (start <= t < end), and last_sent is not today; else None.
        """
        today = self.local_day(now)
        if last_sent == today or not self.is_working(now):
            return None
        return today
