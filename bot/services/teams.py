"""Teams and their people: create, invite, join, promote, demote, deactivate.

Rules: a person belongs to one team at a time; a team always keeps at least one active
manager; an invite code works for many joins until a manager replaces it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from bot.domain import (
    DEFAULT_LOSS_REASONS,
    DEFAULT_STAGE_KEYS,
    DEFAULT_STAGE_LIMIT_DAYS,
    TEAM_NAME_MAX,
    AuditAction,
    Language,
    Role,
)
from bot.services import audit
from bot.services.errors import Problem, RuleError
from bot.storage.models import LossReason, Member, Stage, Team, User
from bot.storage.unit_of_work import UnitOfWork

INVITE_PREFIX = "join-"


@dataclass(frozen=True)
class TeamDefaults:
    timezone: str
    currency: str
    country: str


DEFAULTS_BY_LANGUAGE: dict[Language, TeamDefaults] = {
    Language.PL: TeamDefaults("Europe/Warsaw", "PLN", "PL"),
    Language.RU: TeamDefaults("Europe/Moscow", "RUB", "RU"),
    Language.RO: TeamDefaults("Europe/Bucharest", "RON", "RO"),
    Language.EN: TeamDefaults("Europe/London", "GBP", "GB"),
}


def defaults_for(language: str) -> TeamDefaults:
    return DEFAULTS_BY_LANGUAGE[Language.from_telegram(language)]


def new_invite_code() -> str:
    """16 URL-safe characters (96 random bits): fits a deep link and cannot be guessed."""
    return secrets.token_urlsafe(12)


def clean_team_name(raw: str) -> str:
    name = " ".join(raw.split())
    if not name:
        raise RuleError(Problem.NAME_EMPTY)
    if len(name) > TEAM_NAME_MAX:
        raise RuleError(Problem.NAME_TOO_LONG, limit=TEAM_NAME_MAX)
    return name


def parse_invite(text: str) -> str | None:
    """The code from `join-<code>`, a full `https://t.me/bot?start=join-<code>` link or a code."""
    candidate = text.strip()
    if "start=" in candidate:
        candidate = candidate.split("start=", 1)[1].split("&", 1)[0]
    candidate = candidate.removeprefix(INVITE_PREFIX)
    if 8 <= len(candidate) <= 32 and all(c.isalnum() or c in "-_" for c in candidate):
        return candidate
    return None


async def active_membership(uow: UnitOfWork, user: User) -> tuple[Team, Member] | None:
    if user.team_id is None:
        return None
    team = await uow.teams.get(user.team_id)
    member = await uow.teams.member(user.team_id, user.id)
    if team is None or member is None or not member.active:
        return None
    return team, member


async def create_team(
    uow: UnitOfWork, user: User, raw_name: str, now: datetime, *, allowed: bool
) -> tuple[Team, Member]:
    if not allowed:
        raise RuleError(Problem.NOT_ALLOWED_TO_CREATE)
    current = await active_membership(uow, user)
    if current is not None:
        raise RuleError(Problem.ALREADY_IN_TEAM, team=current[0].name)
    name = clean_team_name(raw_name)
    defaults = defaults_for(user.language)
    team = await uow.teams.add(
        Team(
            name=name,
            timezone=defaults.timezone,
            currency=defaults.currency,
            country=defaults.country,
            invite_code=new_invite_code(),
            created_at=now,
        )
    )
    assert team.id is not None
    await uow.teams.save(
        *[
            Stage(team_id=team.id, key=key, position=i, limit_days=DEFAULT_STAGE_LIMIT_DAYS[key])
            for i, key in enumerate(DEFAULT_STAGE_KEYS)
        ],
        *[
            LossReason(team_id=team.id, key=key, position=i, winback_days=days)
            for i, (key, days) in enumerate(DEFAULT_LOSS_REASONS)
        ],
    )
    member = await uow.teams.add_member(
        Member(team_id=team.id, user_id=user.id, role=Role.MANAGER, joined_at=now)
    )
    user.team_id = team.id
    await uow.teams.save(user)
    return team, member


@dataclass(frozen=True)
class JoinPlan:
    team: Team
    leaving: Team | None  # the team the user is in now, which joining will leave


async def plan_join(uow: UnitOfWork, user: User, code: str) -> JoinPlan:
    """Check an invite before joining; says which team would be left, if any."""
    team = await uow.teams.by_invite_code(code)
    if team is None:
        raise RuleError(Problem.INVALID_INVITE)
    assert team.id is not None
    existing = await uow.teams.member(team.id, user.id)
    if existing is not None and not existing.active:
        raise RuleError(Problem.DEACTIVATED_HERE, team=team.name)
    current = await active_membership(uow, user)
    if current is not None:
        current_team, current_member = current
        if current_team.id == team.id:
            raise RuleError(Problem.ALREADY_IN_THIS_TEAM, team=team.name)
        await _ensure_not_last_manager(uow, current_member)
        return JoinPlan(team, current_team)
    return JoinPlan(team, None)


async def join_team(uow: UnitOfWork, user: User, code: str, now: datetime) -> JoinPlan:
    plan = await plan_join(uow, user, code)
    assert plan.team.id is not None
    if plan.leaving is not None:
        assert plan.leaving.id is not None
        old = await uow.teams.member(plan.leaving.id, user.id)
        assert old is not None
        old.active, old.deactivated_at = False, now
        await uow.teams.save(old)
    member = await uow.teams.member(plan.team.id, user.id)
    if member is None:
        member = Member(team_id=plan.team.id, user_id=user.id, joined_at=now)
    member.role, member.active, member.deactivated_at = Role.SALESPERSON, True, None
    await uow.teams.add_member(member)
    user.team_id = plan.team.id
    await uow.teams.save(user)
    return plan


async def renew_invite(uow: UnitOfWork, team: Team, actor: Member) -> str:
    """Revoke the current invite link and make a new one."""
    team.invite_code = new_invite_code()
    await uow.teams.save(team)
    await audit.record(uow, team.id or 0, actor, AuditAction.INVITE)
    return team.invite_code


async def _ensure_not_last_manager(uow: UnitOfWork, member: Member) -> None:
    if member.role != Role.MANAGER or not member.active:
        return
    managers = await uow.teams.managers(member.team_id)
    if all(view.member.id == member.id for view in managers):
        raise RuleError(Problem.LAST_MANAGER)


async def _managed_member(uow: UnitOfWork, actor: Member, member_id: int) -> Member:
    """The member a manager acts on; never one of another team."""
    target = await uow.teams.member_by_id(member_id)
    if target is None or target.team_id != actor.team_id or actor.role != Role.MANAGER:
        raise RuleError(Problem.STALE)
    return target


async def set_role(uow: UnitOfWork, actor: Member, member_id: int, role: Role) -> Member:
    target = await _managed_member(uow, actor, member_id)
    if not target.active:
        raise RuleError(Problem.STALE)
    if target.role == role:
        return target
    if role == Role.SALESPERSON:
        await _ensure_not_last_manager(uow, target)
    target.role = role
    await uow.teams.save(target)
    await audit.record(
        uow, actor.team_id, actor, AuditAction.ROLE, member_id=target.id, role=str(role)
    )
    return target


async def deactivate(uow: UnitOfWork, actor: Member, member_id: int, now: datetime) -> Member:
    target = await _managed_member(uow, actor, member_id)
    if not target.active:
        return target
    await _ensure_not_last_manager(uow, target)
    # The user keeps pointing at the team, so they are told whose access ended; with the
    # membership inactive they can no longer see anything of it.
    target.active, target.deactivated_at = False, now
    target.deactivated_by_member_id = actor.id
    await uow.teams.save(target)
    await audit.record(uow, actor.team_id, actor, AuditAction.ACCESS_OFF, member_id=target.id)
    return target


async def reactivate(uow: UnitOfWork, actor: Member, member_id: int) -> Member:
    target = await _managed_member(uow, actor, member_id)
    if target.active:
        return target
    user = await uow.users.get(target.user_id)
    assert user is not None
    if await active_membership(uow, user) is not None:
        raise RuleError(Problem.ALREADY_IN_TEAM)
    target.active, target.deactivated_at = True, None
    target.deactivated_by_member_id = None
    target.role = Role.SALESPERSON
    user.team_id = target.team_id
    await uow.teams.save(target, user)
    await audit.record(uow, actor.team_id, actor, AuditAction.ACCESS_ON, member_id=target.id)
    return target
