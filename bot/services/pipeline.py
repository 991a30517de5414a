"""A team's own pipeline: rename, add, reorder and retire stages and loss reasons. Default
entries are translated until renamed; a custom name is shown as typed. Retired entries stay in
history and past reports. A stage that still holds open deals cannot be retired, and a team
always keeps at least one active stage and one active reason."""

from __future__ import annotations

from typing import Literal

from sqlmodel import col, func, select

from bot.domain import DealStatus, Role
from bot.services import audit
from bot.services.deals import clean_text
from bot.services.errors import Problem, RuleError
from bot.storage.models import Deal, LossReason, Member, Stage
from bot.storage.unit_of_work import UnitOfWork

Kind = Literal["stage", "reason"]
NAME_MAX = 40


def _check(actor: Member) -> None:
    if actor.role != Role.MANAGER or not actor.active:
        raise RuleError(Problem.STALE)


async def entries(uow: UnitOfWork, team_id: int, kind: Kind) -> list[Stage] | list[LossReason]:
    if kind == "stage":
        return await uow.teams.stages(team_id, include_retired=True)
    return await uow.teams.loss_reasons(team_id, include_retired=True)


async def _entry(uow: UnitOfWork, actor: Member, kind: Kind, entry_id: int) -> Stage | LossReason:
    _check(actor)
    for entry in await entries(uow, actor.team_id, kind):
        if entry.id == entry_id:
            return entry
    raise RuleError(Problem.STALE)


async def rename(uow: UnitOfWork, actor: Member, kind: Kind, entry_id: int, raw: str) -> None:
    entry = await _entry(uow, actor, kind, entry_id)
    old, entry.name = entry.name, clean_text(raw, NAME_MAX)
    await uow.teams.save(entry)
    await audit.setting_changed(uow, actor, kind, old, entry.name, change="rename", key=entry.key)


async def add(uow: UnitOfWork, actor: Member, kind: Kind, raw: str) -> None:
    """A new entry at the end of the active ones."""
    _check(actor)
    name = clean_text(raw, NAME_MAX)
    existing = await entries(uow, actor.team_id, kind)
    position = max((entry.position for entry in existing), default=-1) + 1
    model = Stage if kind == "stage" else LossReason
    await uow.teams.save(model(team_id=actor.team_id, name=name, position=position))
    await audit.setting_changed(uow, actor, kind, None, name, change="add")


async def move(uow: UnitOfWork, actor: Member, kind: Kind, entry_id: int, step: int) -> None:
    """One place up (-1) or down (+1) among the active entries."""
    entry = await _entry(uow, actor, kind, entry_id)
    active = [e for e in await entries(uow, actor.team_id, kind) if not e.retired]
    order = [e.id for e in active]
    if entry.id not in order:
        raise RuleError(Problem.STALE)
    index = order.index(entry.id)
    other = index + step
    if not 0 <= other < len(active):
        return
    active[index], active[other] = active[other], active[index]
    for position, item in enumerate(active):
        item.position = position
    await uow.teams.save(*active)
    await audit.setting_changed(uow, actor, kind, None, entry.name, change="order", key=entry.key)


async def set_retired(
    uow: UnitOfWork, actor: Member, kind: Kind, entry_id: int, retired: bool
) -> None:
    entry = await _entry(uow, actor, kind, entry_id)
    if entry.retired == retired:
        return
    if retired:
        active = [e for e in await entries(uow, actor.team_id, kind) if not e.retired]
        if len(active) <= 1:
            raise RuleError(Problem.BAD_VALUE)
        if kind == "stage":
            open_here = (
                await uow.session.exec(
                    select(func.count())
                    .select_from(Deal)
                    .where(col(Deal.stage_id) == entry_id, col(Deal.status) == DealStatus.OPEN)
                )
            ).one()
            if open_here:
                raise RuleError(Problem.STAGE_NOT_EMPTY, count=int(open_here))
    entry.retired = retired
    await uow.teams.save(entry)
    change = "retire" if retired else "restore"
    await audit.setting_changed(uow, actor, kind, None, entry.name, change=change, key=entry.key)
