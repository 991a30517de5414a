"""Monthly targets: progress this month, and how many new clients are still needed at the
lead-to-sale conversion measured over the last 90 days (10 sales at 20 % need 50 clients)."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain import Role
from bot.services import audit
from bot.services.errors import Problem, RuleError
from bot.services.quick_entry import parse_amount
from bot.services.report import lead_to_sale
from bot.services.working_hours import local_wall_time
from bot.storage.analytics import Period
from bot.storage.models import Member, Team
from bot.storage.unit_of_work import UnitOfWork

CONVERSION_WINDOW_DAYS = 90


@dataclass(frozen=True)
class Progress:
    target_deals: int
    won: int
    target_minor: int | None
    won_minor: int
    conversion: float | None  # lead to sale, last 90 days
    clients_needed: int | None  # None when the conversion is unknown (no deals yet)


def progress(
    target_deals: int, won: int, target_minor: int | None, won_minor: int, conversion: float | None
) -> Progress:
    remaining = max(target_deals - won, 0)
    needed = None
    if remaining == 0:
        needed = 0
    elif conversion:
        needed = math.ceil(remaining / conversion - 1e-9)
    return Progress(target_deals, won, target_minor, won_minor, conversion, needed)


@dataclass
class TargetBoard:
    """This month's progress: the team's (None without a target) and each salesperson's who
    has a target of their own."""

    team: Progress | None
    members: dict[int, Progress] = field(default_factory=dict)


async def month_progress(
    uow: UnitOfWork, team: Team, members: list[Member], now: datetime
) -> TargetBoard:
    """Sales won since the first of the month (credited to the owner when won) against the
    targets, and the clients still needed at the last 90 days' lead-to-sale conversion (a
    salesperson's own, or the team's when they have none yet)."""
    assert team.id is not None
    month_start = now.astimezone(ZoneInfo(team.timezone)).date().replace(day=1)
    month = Period(local_wall_time(month_start, 0, team.timezone), now)
    window = Period(now - timedelta(days=CONVERSION_WINDOW_DAYS), now)
    won: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for wins in await uow.reporting.wins_by_owner(team.id, month):
        won[wins.owner_member_id][0] += wins.won
        if wins.currency == team.currency:
            won[wins.owner_member_id][1] += wins.value_minor
    cohort = await uow.reporting.conversion(team.id, window)
    team_conversion = lead_to_sale(cohort, None)
    board = TargetBoard(None)
    if team.target_deals:
        board.team = progress(
            team.target_deals,
            sum(w[0] for w in won.values()),
            team.target_minor,
            sum(w[1] for w in won.values()),
            team_conversion,
        )
    for member in members:
        if member.id is None or not member.target_deals:
            continue
        own = lead_to_sale(cohort, member.id)
        board.members[member.id] = progress(
            member.target_deals,
            won[member.id][0],
            member.target_minor,
            won[member.id][1],
            own if own is not None else team_conversion,
        )
    return board


def parse_target(text: str) -> tuple[int, int | None]:
    """`12` (sales) or `12 1 200 000` / `12; 1,2 mln` (sales and money)."""
    match = re.match(r"^\s*([0-9]{1,4})(?:\s*[;,/]?\s+(.+))?\s*$", text)
    if match is None or int(match.group(1)) <= 0:
        raise RuleError(Problem.BAD_VALUE)
    money = None
    if match.group(2):
        money = parse_amount(match.group(2))
        if money is None:
            raise RuleError(Problem.BAD_AMOUNT)
    return int(match.group(1)), money


async def set_target(
    uow: UnitOfWork, actor: Member, member_id: int | None, deals: int | None, money: int | None
) -> Team | Member:
    """A manager sets (or with `deals=None` clears) the team's target or a salesperson's."""
    if actor.role != Role.MANAGER or not actor.active:
        raise RuleError(Problem.STALE)
    target: Team | Member | None
    if member_id is None:
        target = await uow.teams.get(actor.team_id)
    else:
        target = await uow.teams.member_by_id(member_id)
        if target is not None and target.team_id != actor.team_id:
            target = None
    if target is None:
        raise RuleError(Problem.STALE)
    before = [target.target_deals, target.target_minor]
    target.target_deals, target.target_minor = deals, money if deals else None
    await uow.teams.save(target)
    await audit.setting_changed(
        uow,
        actor,
        "target",
        before,
        [target.target_deals, target.target_minor],
        member_id=member_id,
    )
    return target
