"""Rules for heavy work (imports, exports, report files): one job at a time per team (others
wait their turn: the worker runs a team's jobs one after another), the same kind asked for
again while one waits or runs is refused ("already preparing"), and at most `per_hour` asked for
per team in an hour; the work itself runs in the background."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.domain import JobKind
from bot.services.errors import Problem, RuleError
from bot.storage.models import Job, Member
from bot.storage.unit_of_work import UnitOfWork

WINDOW = timedelta(hours=1)


async def request(
    uow: UnitOfWork,
    kind: JobKind,
    member: Member,
    *,
    chat_id: int,
    now: datetime,
    per_hour: int,
    params: dict[str, Any] | None = None,
) -> Job:
    """Queue a job for the member's team. Refused while a job of the same kind waits or runs
    for the team (JOB_BUSY), and past `per_hour` jobs in the last hour (JOB_LIMIT, with `at`:
    the moment the oldest of them leaves the window)."""
    assert member.id is not None
    if await uow.jobs.active_for_team(member.team_id, kind) is not None:
        raise RuleError(Problem.JOB_BUSY)
    recent = await uow.jobs.created_since(member.team_id, now - WINDOW)
    if len(recent) >= per_hour:
        raise RuleError(Problem.JOB_LIMIT, at=recent[len(recent) - per_hour] + WINDOW)
    return await uow.jobs.add(
        kind,
        team_id=member.team_id,
        member_id=member.id,
        chat_id=chat_id,
        now=now,
        params=params or {},
    )
