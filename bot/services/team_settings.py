"""A team's settings: name, time zone, currency, phone country, digest hour. Values are checked
against the libraries that know them (zoneinfo, Babel, phonenumbers)."""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from zoneinfo import available_timezones

import phonenumbers
from babel.numbers import list_currencies

from bot.domain import Role
from bot.services import audit
from bot.services.errors import Problem, RuleError
from bot.services.teams import clean_team_name
from bot.storage.models import Member, Team
from bot.storage.unit_of_work import UnitOfWork


class Setting(StrEnum):
    NAME = "name"
    TIMEZONE = "tz"
    CURRENCY = "cur"
    COUNTRY = "cc"
    DIGEST_HOUR = "dh"
    ERASE_YEARS = "ey"  # retention: erase clients closed longer than this many years ago


# Offered as buttons; anything else valid can be typed.
COMMON_TIMEZONES = (
    "Europe/Warsaw",
    "Europe/Moscow",
    "Europe/Bucharest",
    "Europe/Chisinau",
    "Europe/Kyiv",
    "Europe/Minsk",
    "Europe/Berlin",
    "Europe/London",
)
COMMON_CURRENCIES = ("PLN", "RUB", "RON", "MDL", "EUR", "USD", "UAH", "BYN", "KZT", "GBP")
COMMON_COUNTRIES = ("PL", "RU", "RO", "MD", "UA", "BY", "KZ", "DE", "GB")


@cache
def _timezones() -> dict[str, str]:
    return {name.lower(): name for name in available_timezones()}


def clean_timezone(raw: str) -> str:
    name = _timezones().get(raw.strip().replace(" ", "_").lower())
    if name is None:
        raise RuleError(Problem.BAD_VALUE)
    return name


def clean_currency(raw: str) -> str:
    code = raw.strip().upper()
    if len(code) != 3 or code not in list_currencies():
        raise RuleError(Problem.BAD_VALUE)
    return code


def clean_country(raw: str) -> str:
    code = raw.strip().upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise RuleError(Problem.BAD_VALUE)
    return code


# Retention periods offered; "0" turns it off.
RETENTION_YEARS = (2, 3, 5, 10)


def clean_years(raw: str) -> int | None:
    """Years a closed client's personal data is kept: 1 to 30, or 0 (off, kept for good)."""
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or not 0 <= int(text) <= 30:
        raise RuleError(Problem.BAD_VALUE)
    return int(text) or None


def clean_hour(raw: str) -> int:
    text = raw.strip().split(":")[0]
    if not (text.isascii() and text.isdigit()) or not 0 <= int(text) <= 23:
        raise RuleError(Problem.BAD_VALUE)
    return int(text)


async def change_setting(uow: UnitOfWork, actor: Member, setting: Setting, raw: str) -> Team:
    """Validate and store one setting; only an active manager of the team may."""
    if actor.role != Role.MANAGER or not actor.active:
        raise RuleError(Problem.STALE)
    team = await uow.teams.get(actor.team_id)
    assert team is not None
    before = _value(team, setting)
    if setting == Setting.NAME:
        team.name = clean_team_name(raw)
    elif setting == Setting.TIMEZONE:
        team.timezone = clean_timezone(raw)
    elif setting == Setting.CURRENCY:
        team.currency = clean_currency(raw)
    elif setting == Setting.COUNTRY:
        team.country = clean_country(raw)
    elif setting == Setting.DIGEST_HOUR:
        team.digest_hour = clean_hour(raw)
    else:
        team.erase_closed_years = clean_years(raw)
    await uow.teams.save(team)
    await audit.setting_changed(uow, actor, setting, before, _value(team, setting))
    return team


def _value(team: Team, setting: Setting) -> str | int | None:
    values: dict[Setting, str | int | None] = {
        Setting.NAME: team.name,
        Setting.TIMEZONE: team.timezone,
        Setting.CURRENCY: team.currency,
        Setting.COUNTRY: team.country,
        Setting.DIGEST_HOUR: team.digest_hour,
        Setting.ERASE_YEARS: team.erase_closed_years,
    }
    return values[setting]


async def adjust_working_hours(
    uow: UnitOfWork,
    actor: Member,
    *,
    toggle_day: int | None = None,
    start_hours: int = 0,
    end_hours: int = 0,
) -> Team:
    """Switch a weekday (Monday = 0) on or off, or move the start or the end by whole hours.
    A change that would leave no working day, or end before it starts, is refused."""
    if actor.role != Role.MANAGER or not actor.active:
        raise RuleError(Problem.STALE)
    team = await uow.teams.get(actor.team_id)
    assert team is not None
    days, start, end = team.work_days, team.work_start_minute, team.work_end_minute
    before = (days, start, end)
    if toggle_day is not None:
        if not 0 <= toggle_day <= 6:
            raise RuleError(Problem.STALE)
        days ^= 1 << toggle_day
    start += 60 * start_hours
    end += 60 * end_hours
    if days == 0 or not 0 <= start < end <= 24 * 60:
        raise RuleError(Problem.BAD_VALUE)
    team.work_days, team.work_start_minute, team.work_end_minute = days, start, end
    await uow.teams.save(team)
    await audit.setting_changed(uow, actor, "hours", list(before), [days, start, end])
    return team


async def toggle_morning_agenda(uow: UnitOfWork, member: Member) -> Member:
    fresh = await uow.teams.member_by_id(member.id or 0)
    if fresh is None or not fresh.active:
        raise RuleError(Problem.STALE)
    fresh.morning_agenda = not fresh.morning_agenda
    await uow.teams.save(fresh)
    return fresh
