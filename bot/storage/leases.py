"""Leased claims on work shared by senders: reminders, daily messages, notices and jobs.

A row is taken with a claim that names its holder (`claimed_by`, a random id per process start)
and lasts until `lease_until`. The holder renews its leases while it works (`renew`); only an
expired lease is taken over by another sender (`claimable`). "Now" always comes from the
process clock as a parameter, never from the database's own clock.

The same statements run on SQLite and PostgreSQL; on PostgreSQL the candidates are locked with
`FOR UPDATE SKIP LOCKED`, so senders in several processes never wait for each other's rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, update
from sqlmodel import SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import JobStatus, ReminderStatus, SendStatus
from bot.storage.models import DailySend, Job, Notice, Reminder


@dataclass(frozen=True)
class LeasedTable:
    model: type[SQLModel]
    waiting: str  # the status of a row that waits to be taken
    taken: str  # the status of a row a sender holds


LEASED: tuple[LeasedTable, ...] = (
    LeasedTable(Reminder, ReminderStatus.PENDING, ReminderStatus.SENDING),
    LeasedTable(DailySend, SendStatus.PENDING, SendStatus.SENDING),
    LeasedTable(Notice, SendStatus.PENDING, SendStatus.SENDING),
    LeasedTable(Job, JobStatus.PENDING, JobStatus.RUNNING),
)
_BY_MODEL = {table.model: table for table in LEASED}


def _c(model: type[SQLModel], name: str) -> Any:
    return col(getattr(model, name))


def expired(model: type[SQLModel], now: datetime) -> ColumnElement[bool]:
    """Held by a sender whose lease ran out (it died, or lost its database for too long)."""
    table = _BY_MODEL[model]
    lease = _c(model, "lease_until")
    return and_(_c(model, "status") == table.taken, or_(lease.is_(None), lease < now))


def claimable(model: type[SQLModel], now: datetime) -> ColumnElement[bool]:
    """Waiting and due (`not_before` passed), or held under an expired lease."""
    table = _BY_MODEL[model]
    not_before = _c(model, "not_before")
    waiting = and_(
        _c(model, "status") == table.waiting, or_(not_before.is_(None), not_before <= now)
    )
    return or_(waiting, expired(model, now))


async def claim(
    session: AsyncSession,
    model: type[SQLModel],
    ids: Sequence[int],
    *,
    worker: str,
    now: datetime,
    until: datetime,
    **values: Any,
) -> list[int]:
    """Take the rows among `ids` that are still claimable; returns the ids taken. A row another
    sender took first is left alone."""
    if not ids:
        return []
    table = _BY_MODEL[model]
    result = await session.exec(
        update(model)
        .where(_c(model, "id").in_(list(ids)), claimable(model, now))
        .values(
            status=table.taken,
            claimed_by=worker,
            lease_until=until,
            attempts=_c(model, "attempts") + 1,
            **values,
        )
        .returning(_c(model, "id"))
    )
    return [int(row[0]) for row in result]


def held_by(model: type[SQLModel], worker: str, ids: Sequence[int] | None = None) -> Any:
    """Rows this sender holds (all of them, or those among `ids`)."""
    table = _BY_MODEL[model]
    condition = and_(_c(model, "claimed_by") == worker, _c(model, "status") == table.taken)
    if ids is not None:
        condition = and_(condition, _c(model, "id").in_(list(ids)))
    return condition


async def finish(
    session: AsyncSession,
    model: type[SQLModel],
    ids: Sequence[int],
    *,
    worker: str,
    status: str,
    **values: Any,
) -> list[int]:
    """End the claim on rows this sender still holds, with their final status."""
    if not ids:
        return []
    result = await session.exec(
        update(model)
        .where(held_by(model, worker, ids))
        .values(status=status, lease_until=None, **values)
        .returning(_c(model, "id"))
    )
    return [int(row[0]) for row in result]


async def release(
    session: AsyncSession,
    model: type[SQLModel],
    ids: Sequence[int],
    *,
    worker: str,
    not_before: datetime | None,
    **values: Any,
) -> None:
    """Give rows back to the queue, to be tried again from `not_before`."""
    table = _BY_MODEL[model]
    await finish(
        session,
        model,
        ids,
        worker=worker,
        status=table.waiting,
        claimed_by=None,
        not_before=not_before,
        **values,
    )


async def renew(session: AsyncSession, worker: str, until: datetime) -> int:
    """Extend every lease this sender holds, in every leased table; returns how many."""
    renewed = 0
    for table in LEASED:
        result = await session.exec(
            update(table.model)
            .where(held_by(table.model, worker))
            .values(lease_until=until)
            .returning(_c(table.model, "id"))
        )
        renewed += len(result.all())
    return renewed


async def release_all(session: AsyncSession, worker: str) -> int:
    """At shutdown: everything this sender still holds goes back to the queue at once."""
    released = 0
    for table in LEASED:
        result = await session.exec(
            update(table.model)
            .where(held_by(table.model, worker))
            .values(status=table.waiting, claimed_by=None, lease_until=None)
            .returning(_c(table.model, "id"))
        )
        released += len(result.all())
    return released
