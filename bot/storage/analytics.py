"""Team figures computed in the database from the event log (so they hold for any past period)
and from the deals' current state. An event taken back with ↩️ counts as if it never happened.
Money is summed per currency: a deal keeps the currency it was created in."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Executable, Integer, and_, exists, func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import DEFAULT_STAGE_LIMIT_DAYS, DealStatus, EventKind
from bot.storage.models import Client, Deal, DealEvent, Stage


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
    activities: int = 0
    overdue: int = 0
    unplanned: int = 0


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


def _add(money: Money, currency: str, amount: int | None) -> None:
    if amount:
        money[currency] = money.get(currency, 0) + int(amount)


class AnalyticsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _rows(self, statement: Executable) -> Sequence[Any]:
        """Aggregate queries with many columns go through the session's own connection."""
        connection = await self.session.connection()
        return (await connection.execute(statement)).all()

    @staticmethod
    def _live(team_id: int, period: Period) -> list[ColumnElement[bool]]:
        """Events of the team in the period that were not taken back."""
        undo = aliased(DealEvent)
        return [
            col(DealEvent.team_id) == team_id,
            col(DealEvent.at) >= period.start,
            col(DealEvent.at) < period.end,
            ~exists().where(col(undo.undoes_event_id) == col(DealEvent.id)),
        ]

    async def figures(self, team_id: int, period: Period, now: datetime) -> Figures:
        figures = Figures()
        live = self._live(team_id, period)
        counted = (
            EventKind.CREATED,
            EventKind.STAGE_CHANGED,
            EventKind.WON,
            EventKind.LOST,
            EventKind.ACTIVITY,
        )
        rows = await self._rows(
            sa_select(
                col(DealEvent.kind),
                col(DealEvent.owner_member_id),
                col(DealEvent.actor_member_id),
                col(DealEvent.activity),
                col(DealEvent.reason_id),
                col(DealEvent.from_stage_id),
                col(Deal.currency),
                func.count(),
                func.coalesce(func.sum(DealEvent.amount_minor), 0),
            )
            .join(Deal, col(Deal.id) == col(DealEvent.deal_id))
            .where(*live, col(DealEvent.kind).in_(counted))
            .group_by(
                col(DealEvent.kind),
                col(DealEvent.owner_member_id),
                col(DealEvent.actor_member_id),
                col(DealEvent.activity),
                col(DealEvent.reason_id),
                col(DealEvent.from_stage_id),
                col(Deal.currency),
            )
        )
        for kind, owner, actor, activity, reason, stage, currency, count, amount in rows:
            count, amount = int(count), int(amount)
            if kind == EventKind.CREATED:
                figures.new_deals += count
                if owner is not None:
                    figures.members[owner].new += count
            elif kind == EventKind.STAGE_CHANGED:
                figures.stage_moves += count
            elif kind == EventKind.WON:
                figures.won += count
                _add(figures.won_money, currency, amount)
                if owner is not None:
                    figures.members[owner].won += count
                    _add(figures.members[owner].won_money, currency, amount)
            elif kind == EventKind.LOST:
                figures.lost += count
                _add(figures.lost_money, currency, amount)
                for key, table in (
                    (reason, figures.losses_by_reason),
                    (stage, figures.losses_by_stage),
                ):
                    entry = table.setdefault(key or 0, LossFigures())
                    entry.count += count
                    _add(entry.money, currency, amount)
                if owner is not None:
                    figures.members[owner].lost += count
            else:
                figures.activities[activity or "call"] = (
                    figures.activities.get(activity or "call", 0) + count
                )
                if actor is not None:
                    figures.members[actor].activities += count
        comments = await self._rows(
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
            .order_by(col(DealEvent.reason_id), col(DealEvent.at))
        )
        figures.comments = [
            LossComment(int(n), name, r, s, o, text or "") for n, name, r, s, o, text in comments
        ]
        for member_id, overdue, unplanned in await self._follow_ups(team_id, now):
            figures.members[member_id].overdue = overdue
            figures.members[member_id].unplanned = unplanned
        return figures

    async def _follow_ups(self, team_id: int, now: datetime) -> list[tuple[int, int, int]]:
        """Per owner, open deals now overdue and open deals with no planned contact."""
        overdue = func.sum(
            func.cast(
                and_(col(Deal.next_contact_at).is_not(None), col(Deal.next_contact_at) <= now),
                Integer,
            )
        )
        unplanned = func.sum(func.cast(col(Deal.next_contact_at).is_(None), Integer))
        rows = await self._rows(
            sa_select(col(Deal.owner_member_id), overdue, unplanned)
            .where(col(Deal.team_id) == team_id, col(Deal.status) == DealStatus.OPEN)
            .group_by(col(Deal.owner_member_id))
        )
        return [(int(m), int(o or 0), int(u or 0)) for m, o, u in rows]

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

    async def stuck(self, team_id: int, now: datetime) -> list[tuple[Deal, Client, Stage, int]]:
        """Open deals that sat in their stage longer than the stage allows (days in stage)."""
        rows = await self.session.exec(
            select(Deal, Client, Stage)
            .join(Client, col(Client.id) == col(Deal.client_id))
            .join(Stage, col(Stage.id) == col(Deal.stage_id))
            .where(col(Deal.team_id) == team_id, col(Deal.status) == DealStatus.OPEN)
            .order_by(col(Deal.stage_entered_at))
        )
        found = []
        for deal, client, stage in rows:
            limit = stage.limit_days or DEFAULT_STAGE_LIMIT_DAYS.get(stage.key or "")
            days = (now - deal.stage_entered_at).days
            if limit is not None and days > limit:
                found.append((deal, client, stage, days))
        return found

    async def winbacks_due(self, team_id: int, until: datetime) -> list[tuple[Deal, Client]]:
        rows = await self.session.exec(
            select(Deal, Client)
            .join(Client, col(Client.id) == col(Deal.client_id))
            .where(
                col(Deal.team_id) == team_id,
                col(Deal.status) == DealStatus.LOST,
                col(Deal.winback_at).is_not(None),
                col(Deal.winback_at) < until,
            )
            .order_by(col(Deal.winback_at))
        )
        return list(rows)

    async def open_by_stage(self, team_id: int) -> dict[int, int]:
        rows = await self._rows(
            sa_select(col(Deal.stage_id), func.count())
            .where(col(Deal.team_id) == team_id, col(Deal.status) == DealStatus.OPEN)
            .group_by(col(Deal.stage_id))
        )
        return {int(stage_id): int(count) for stage_id, count in rows}

    async def cohort(
        self, team_id: int, period: Period, owner_member_id: int | None = None
    ) -> list[CohortDeal]:
        """Deals created in the period, with the furthest stage each reached (a skipped stage
        counts as passed; a move taken back does not count) and how they stand now."""
        query = (
            sa_select(
                col(Deal.id),
                col(Deal.status),
                col(Deal.owner_member_id),
                col(Deal.value_minor),
                col(Deal.currency),
                col(Stage.position),
                col(Deal.stage_id),
                col(Deal.loss_reason_id),
            )
            .join(Stage, col(Stage.id) == col(Deal.stage_id))
            .where(
                col(Deal.team_id) == team_id,
                col(Deal.created_at) >= period.start,
                col(Deal.created_at) < period.end,
            )
        )
        if owner_member_id is not None:
            query = query.where(col(Deal.owner_member_id) == owner_member_id)
        deals = await self._rows(query)
        if not deals:
            return []
        undo = aliased(DealEvent)
        furthest = dict(
            await self._rows(
                sa_select(col(DealEvent.deal_id), func.max(col(Stage.position)))
                .join(Stage, col(Stage.id) == col(DealEvent.to_stage_id))
                .where(
                    col(DealEvent.team_id) == team_id,
                    col(DealEvent.deal_id).in_([row[0] for row in deals]),
                    col(DealEvent.kind).in_([EventKind.CREATED, EventKind.STAGE_CHANGED]),
                    ~exists().where(col(undo.undoes_event_id) == col(DealEvent.id)),
                )
                .group_by(col(DealEvent.deal_id))
            )
        )
        return [
            CohortDeal(
                deal_id=int(deal_id),
                status=status,
                owner_member_id=int(owner),
                value_minor=value,
                currency=currency,
                furthest_position=max(int(position), int(furthest.get(deal_id, position))),
                stage_id=int(stage_id),
                loss_reason_id=reason,
            )
            for deal_id, status, owner, value, currency, position, stage_id, reason in deals
        ]

    async def stage_durations(self, team_id: int, period: Period) -> dict[int, list[float]]:
        """Seconds spent in a stage, for each move out of it made in the period."""
        undo = aliased(DealEvent)
        rows = await self._rows(
            sa_select(col(DealEvent.from_stage_id), col(DealEvent.at), col(DealEvent.data))
            .where(
                *self._live(team_id, period),
                col(DealEvent.kind) == EventKind.STAGE_CHANGED,
                ~exists().where(col(undo.undoes_event_id) == col(DealEvent.id)),
            )
            .order_by(col(DealEvent.from_stage_id))
        )
        durations: dict[int, list[float]] = defaultdict(list)
        for stage_id, at, data in rows:
            entered = (data or {}).get("stage_entered_at")
            if stage_id is None or not entered:
                continue
            moment = at if at.tzinfo else at.replace(tzinfo=datetime.fromisoformat(entered).tzinfo)
            durations[int(stage_id)].append(
                (moment - datetime.fromisoformat(entered)).total_seconds()
            )
        return dict(durations)


@dataclass(frozen=True)
class CohortDeal:
    deal_id: int
    status: str
    owner_member_id: int
    value_minor: int | None
    currency: str
    furthest_position: int
    stage_id: int
    loss_reason_id: int | None
