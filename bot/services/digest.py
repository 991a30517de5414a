"""When a manager's daily digest is due, for which day, and which days it missed.

Each day's digest goes out once, at the team's digest hour (local time). If the bot was down at
that hour it goes out after start; after several days down, one digest for the last day notes
the days it missed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.services.working_hours import local_wall_time
from bot.storage.analytics import Period
from bot.storage.models import Team


@dataclass(frozen=True)
class DigestDue:
    day: date
    missed: list[date]


def due_digest(team: Team, now: datetime, last_sent: date | None) -> DigestDue | None:
    from zoneinfo import ZoneInfo

    local = now.astimezone(ZoneInfo(team.timezone))
    today = local.date()
    day = today if local.hour >= team.digest_hour else today - timedelta(days=1)
    if last_sent is None:
        # A new manager's first digest is for the team's first day, never for a day before it.
        last_sent = team.created_at.astimezone(ZoneInfo(team.timezone)).date() - timedelta(days=1)
        if last_sent >= day:
            return None
        return DigestDue(day, [])
    if last_sent >= day:
        return None
    missed: list[date] = []
    if last_sent is not None:
        missed = [last_sent + timedelta(days=n) for n in range(1, (day - last_sent).days)]
    return DigestDue(day, missed)


def day_period(team: Team, day: date, *, until: datetime | None = None) -> Period:
    """The local calendar day as UTC bounds (optionally cut at `until`: "today so far")."""
    start = local_wall_time(day, 0, team.timezone)
    end = local_wall_time(day + timedelta(days=1), 0, team.timezone)
    return Period(start, min(end, until) if until else end)
