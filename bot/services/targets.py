"""Monthly targets: progress this month, and how many new clients are still needed at the
lead-to-sale conversion measured over the last 90 days (10 sales at 20 % need 50 clients)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from bot.domain import Role
from bot.services.errors import Problem, RuleError
from bot.services.quick_entry import parse_amount
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


def parse_target(text: str) -> tuple[int, int | None]:
    """`12` (sales) or `12 1 200 000` / `12; 1,2 mln` (sales and money)."""
    match = re.match(r"^\s*(\d{1,4})(?:\s*[;,/]?\s+(.+))?\s*$", text)
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
    target.target_deals, target.target_minor = deals, money if deals else None
    await uow.teams.save(target)
    return target
