"""Team figures computed in the database from the event log (so they hold for any past period)
and from the deals' current state. An event taken back with ↩️ counts as if it never happened.
Money is summed per currency: a deal keeps the currency it was created in."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Executable, Integer, and_, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import (
    DEFAULT_STAGE_LIMIT_DAYS,
    DealStatus,
    EventKind,
    ReminderKind,
    ReminderStatus,
)
from bot.storage.expressions import money_sum, not_undone
from bot.storage.models import Client, Deal, DealEvent, Reminder, Stage

# A reminder still waiting for its owner to act on it.
OUTSTANDING = (ReminderStatus.PENDING, ReminderStatus.SENDING, ReminderStatus.SENT)


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime  # exclusive


Money = dict[str, int]  # currency → minor units


@dataclass
class LossFigures:
    count: int = 0
    money: Money = field(default_factory=dict)


@dataclass
class MemberFigures:
    new: int = 0
    won: int = 0
    won_money: Money = field(default_factory=dict)
    lost: int = 0
    lost_money: Money = field(default_factory=dict)
    activities: int = 0
    overdue: int = 0
    unplanned: int = 0
    open: int = 0


@dataclass
class LossComment:
    deal_number: int
    client: str
    reason_id: int | None
    stage_id: int | None
    owner_member_id: int | None
    text: str


@dataclass
class Figures:
    new_deals: int = 0
    stage_moves: int = 0
    won: int = 0
    won_money: Money = field(default_factory=dict)
    lost: int = 0
    lost_money: Money = field(default_factory=dict)
    losses_by_reason: dict[int, LossFigures] = field(default_factory=dict)
    losses_by_stage: dict[int, LossFigures] = field(default_factory=dict)
    activities: dict[str, int] = field(default_factory=dict)
    members: dict[int, MemberFigures] = field(default_factory=lambda: defaultdict(MemberFigures))
    comments: list[LossComment] = field(default_factory=list)


def add_money(money: Money, currency: str, amount: int | None) -> None:
    """Add an amount (minor units) to a per-currency sum; nothing or zero adds nothing."""
    if amount:
        money[currency] = money.get(currency, 0) + int(amount)


def live_events(team_id: int, period: Period) -> list[ColumnElement[bool]]:
    """Events of the team in the period that were not taken back."""
    return [
        col(DealEvent.team_id) == team_id,
        col(DealEvent.at) >= period.start,
        col(DealEvent.at) < period.end,
        not_undone(),
    ]


class AggregateQueries:
    """Base of the repositories that aggregate: many-column rows straight from the session's
    own connection."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _rows(self, statement: Executable) -> Sequence[Any]:
        connection = await self.session.connection()
        return (await connection.execute(statement)).all()


class AnalyticsRepository(AggregateQueries):
    async def figures(
        self, team_id: int, period: Period, now: datetime, *, comments: int = 0
    ) -> Figures:
        """The period's figures, per salesperson too, and the first `comments` resignation
        comments (grouped by reason, oldest first; `lost` counts them all)."""
        figures = Figures()
        live = live_events(team_id, period)
        # What was done (no money): from the events alone.
        done = await self._rows(
            sa_select(
                col(DealEvent.kind),
                col(DealEvent.owner_member_id),
                col(DealEvent.actor_member_id),
                col(DealEvent.activity),
                func.count(),
            )
            .where(
                *live,
                col(DealEvent.kind).in_(
                    [EventKind.CREATED, EventKind.STAGE_CHANGED, EventKind.ACTIVITY]
                ),
            )
            .group_by(
                col(DealEvent.kind),
                col(DealEvent.owner_member_id),
                col(DealEvent.actor_member_id),
                col(DealEvent.activity),
            )
        )
        for kind, owner, actor, activity, count in done:
            count = int(count)
            if kind == EventKind.CREATED:
                figures.new_deals += count
                if owner is not None:
                    figures.members[owner].new += count
            elif kind == EventKind.STAGE_CHANGED:
                figures.stage_moves += count
            else:
                name = activity or "call"
                figures.activities[name] = figures.activities.get(name, 0) + count
                if actor is not None:
                    figures.members[actor].activities += count
        # Wins and losses, with their money in each deal's currency.
        closed = await self._rows(
            sa_select(
                col(DealEvent.kind),
                col(DealEvent.owner_member_id),
                col(DealEvent.reason_id),
                col(DealEvent.from_stage_id),
                col(Deal.currency),
                func.count(),
                money_sum(col(DealEvent.amount_minor)),
            )
            .join(Deal, col(Deal.id) == col(DealEvent.deal_id))
            .where(*live, col(DealEvent.kind).in_([EventKind.WON, EventKind.LOST]))
            .group_by(
                col(DealEvent.kind),
                col(DealEvent.owner_member_id),
                col(DealEvent.reason_id),
                col(DealEvent.from_stage_id),
                col(Deal.currency),
            )
        )
        for kind, owner, reason, stage, currency, count, amount in closed:
            count, amount = int(count), int(amount)
            person = figures.members[owner] if owner is not None else MemberFigures()
            if kind == EventKind.WON:
                figures.won += count
                add_money(figures.won_money, currency, amount)
                person.won += count
                add_money(person.won_money, currency, amount)
                continue
            figures.lost += count
            add_money(figures.lost_money, currency, amount)
            for key, table in (
                (reason, figures.losses_by_reason),
                (stage, figures.losses_by_stage),
            ):
                entry = table.setdefault(key or 0, LossFigures())
                entry.count += count
                add_money(entry.money, currency, amount)
            person.lost += count
            add_money(person.lost_money, currency, amount)
        if comments > 0:
            rows = await self._rows(
                sa_select(
                    col(Deal.number),
                    col(Client.name),
                    col(DealEvent.reason_id),
                    col(DealEvent.from_stage_id),
                    col(DealEvent.owner_member_id),
                    col(DealEvent.text),
                )
                .join(Deal, col(Deal.id) == col(DealEvent.deal_id))
                .join(Client, col(Client.id) == col(Deal.client_id))
                .where(*live, col(DealEvent.kind) == EventKind.LOST)
                .order_by(col(DealEvent.reason_id), col(DealEvent.at), col(DealEvent.id))
                .limit(comments)
            )
            figures.comments = [
                LossComment(int(n), name, r, s, o, text or "") for n, name, r, s, o, text in rows
            ]
        for member_id, open_deals, overdue, unplanned in await self._follow_ups(team_id, now):
            figures.members[member_id].open = open_deals
            figures.members[member_id].overdue = overdue
            figures.members[member_id].unplanned = unplanned
        return figures

    async def _follow_ups(self, team_id: int, now: datetime) -> list[tuple[int, int, int, int]]:
        """Per owner: open deals, those now overdue and those with no planned contact."""
        overdue = func.sum(
            func.cast(
                and_(col(Deal.next_contact_at).is_not(None), col(Deal.next_contact_at) <= now),
                Integer,
            )
        )
        unplanned = func.sum(func.cast(col(Deal.next_contact_at).is_(None), Integer))
        rows = await self._rows(
            sa_select(col(Deal.owner_member_id), func.count(), overdue, unplanned)
            .where(col(Deal.team_id) == team_id, col(Deal.status) == DealStatus.OPEN)
            .group_by(col(Deal.owner_member_id))
        )
        return [(int(m), int(n), int(o or 0), int(u or 0)) for m, n, o, u in rows]

    async def slipping(
        self, team_id: int, member_id: int, now: datetime
    ) -> list[tuple[Deal, Client]]:
        """One salesperson's open deals that are overdue or have nothing planned."""
        rows = await self.session.exec(
            select(Deal, Client)
            .join(Client, col(Client.id) == col(Deal.client_id))
            .where(
                col(Deal.team_id) == team_id,
                col(Deal.owner_member_id) == member_id,
                col(Deal.status) == DealStatus.OPEN,
                or_(col(Deal.next_contact_at).is_(None), col(Deal.next_contact_at) <= now),
            )
            # Overdue first, then nothing planned (NULLs sort differently on each database).
            .order_by(
                col(Deal.next_contact_at).is_(None), col(Deal.next_contact_at), col(Deal.number)
            )
        )
        return list(rows)

    async def stuck(
        self, team_id: int, now: datetime, limit: int
    ) -> tuple[int, list[tuple[Deal, Client, Stage, int]]]:
        """Open deals that sat in their stage longer than the stage allows ("rotting"): how
        many, and the longest-waiting `limit` of them with their days in the stage."""
        stages = {
            stage.id: stage
            for stage in await self.session.exec(select(Stage).where(Stage.team_id == team_id))
        }
        overdue = []
        for stage in stages.values():
            days = stage.limit_days or DEFAULT_STAGE_LIMIT_DAYS.get(stage.key or "")
            if days is not None:
                # More than `days` whole days in the stage.
                threshold = now - timedelta(days=days + 1)
                overdue.append(
                    and_(col(Deal.stage_id) == stage.id, col(Deal.stage_entered_at) <= threshold)
                )
        if not overdue:
            return 0, []
        where = (
            col(Deal.team_id) == team_id,
            col(Deal.status) == DealStatus.OPEN,
            or_(*overdue),
        )
        total = (await self._rows(sa_select(func.count()).select_from(Deal).where(*where)))[0][0]
        rows = await self.session.exec(
            select(Deal, Client)
            .join(Client, col(Client.id) == col(Deal.client_id))
            .where(*where)
            .order_by(col(Deal.stage_entered_at), col(Deal.number))
            .limit(limit)
        )
        found = [
            (deal, client, stages[deal.stage_id], (now - deal.stage_entered_at).days)
            for deal, client in rows
        ]
        return int(total), found

    async def winbacks_due(
        self, team_id: int, until: datetime, limit: int, member_id: int | None = None
    ) -> tuple[int, list[tuple[Deal, Client]]]:
        """Resigned clients whose win-back contact is due before `until` and not yet handled
        (its reminder neither done nor cancelled): how many, and the first `limit`."""
        where = [
            col(Reminder.team_id) == team_id,
            col(Reminder.kind) == ReminderKind.WINBACK,
            col(Reminder.status).in_(OUTSTANDING),
            col(Reminder.due_at) < until,
            col(Deal.status) == DealStatus.LOST,
        ]
        if member_id is not None:
            where.append(col(Reminder.member_id) == member_id)
        total = (
            await self._rows(
                sa_select(func.count())
                .select_from(Reminder)
                .join(Deal, col(Deal.id) == col(Reminder.deal_id))
                .where(*where)
            )
        )[0][0]
        rows = await self.session.exec(
            select(Deal, Client)
            .join(Reminder, col(Reminder.deal_id) == col(Deal.id))
            .join(Client, col(Client.id) == col(Deal.client_id))
            .where(*where)
            .order_by(col(Reminder.due_at), col(Deal.number))
            .limit(limit)
        )
        return int(total), list(rows)

    async def open_by_stage(self, team_id: int) -> dict[int, int]:
        rows = await self._rows(
            sa_select(col(Deal.stage_id), func.count())
            .where(col(Deal.team_id) == team_id, col(Deal.status) == DealStatus.OPEN)
            .group_by(col(Deal.stage_id))
        )
        return {int(stage_id): int(count) for stage_id, count in rows}
