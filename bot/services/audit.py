"""The append-only audit of team-level actions (GDPR accountability): exports, imports,
erasures, role and access changes, hand-overs, settings, new invite links. Each entry says who,
when, what and how many, in the same transaction as the action itself, and never a client's
personal data (a deal is named by its number, a person by their membership). Managers read it
in /team → 🧾 Audit (`bot.screens.audit`)."""

from __future__ import annotations

from typing import Any

from bot.domain import AuditAction
from bot.storage.models import AuditEntry, Member
from bot.storage.unit_of_work import UnitOfWork


async def record(
    uow: UnitOfWork,
    team_id: int,
    actor: Member | None,
    action: AuditAction,
    *,
    member_id: int | None = None,
    count: int | None = None,
    **detail: Any,
) -> AuditEntry:
    """Append one entry (`actor` None: the bot itself, e.g. the retention setting)."""
    return await uow.audit.add(
        AuditEntry(
            team_id=team_id,
            at=uow.clock.now(),
            actor_member_id=actor.id if actor is not None else None,
            action=action,
            member_id=member_id,
            count=count,
            detail=detail,
        )
    )


async def setting_changed(
    uow: UnitOfWork,
    actor: Member,
    setting: str,
    old: object,
    new: object,
    *,
    member_id: int | None = None,
    change: str | None = None,
    key: str | None = None,
) -> None:
    """A team setting changed (nothing recorded when the value stayed the same); `member_id`
    for a salesperson's own (a target), `change` for a list's entry ("add", "rename", "order",
    "retire", "restore") with the default entry's `key` (shown translated)."""
    if old == new and change is None:
        return
    extra: dict[str, Any] = {
        name: value for name, value in (("change", change), ("key", key)) if value
    }
    await record(
        uow,
        actor.team_id,
        actor,
        AuditAction.SETTING,
        member_id=member_id,
        setting=setting,
        old=old,
        new=new,
        **extra,
    )


async def page(uow: UnitOfWork, team_id: int, offset: int, limit: int) -> list[AuditEntry]:
    return await uow.audit.page(team_id, offset, limit)
