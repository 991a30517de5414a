"""The report's figures, aggregated in the database from the event log and the deals.

Every query returns a few grouped rows, never one row per deal or event (the report of a
quarter covers tens of thousands of them), except the resignation lists, which are limited.
An event taken back with ↩️ counts as if it never happened. `owner` narrows a query to one
salesperson: the owner of the deal when the event happened (so a win or a loss is credited to
whoever owned the deal when it closed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, or_
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import col

from bot.domain import ActivityKind, DealStatus, EventKind
from bot.storage.analytics import AggregateQueries, Money, Period, add_money, live_events
from bot.storage.expressions import money_sum, not_undone, seconds_between
from bot.storage.models import Client, Deal, DealEvent, Stage

# Face-to-face contacts: the "meeting" of the call → meeting → offer → sale chain.
IN_PERSON = (ActivityKind.MEETING, ActivityKind.PRESENTATION, ActivityKind.TEST_DRIVE)
# A resigned client who buys within this long "came back" (the win-back worked).
CAME_BACK_WITHIN_SECONDS = 365 * 86400


@dataclass(frozen=True)
class CohortGroup:
    """Deals created in the period that stand alike: how far they got and how they ended."""

    status: str
    furthest_position: int  # the furthest stage reached (a skipped stage counts as passed)
    stage_id: int  # where the deal stands now; for a lost deal, where it was lost
    reason_id: int | None
    owner_member_id: int  # for a closed deal, its owner when it closed
    currency: str
    deals: int
    value_minor: int


@dataclass(frozen=True)
class StageTime:
    stage_id: int
    moves: int
    average_seconds: float
    median_seconds: float


@dataclass(frozen=True)
class LossGroup:
    """Resignations recorded in the period that share a stage, reason, owner and currency."""

    stage_id: int | None
    reason_id: int | None
    owner_member_id: int | None
    currency: str
    deals: int
    value_minor: int
    stage_seconds: int  # summed over `timed` of them: time in the stage before the loss
    timed: int
    process_seconds: int  # summed over all of them: from the deal's creation to the loss
    bought_before: int  # clients who had bought from the team before


@dataclass(frozen=True)
class LostDeal:
    number: int
    client: str
    reason_id: int | None
    stage_id: int | None
    owner_member_id: int | None
    text: str
    at: datetime
    value_minor: int | None
    currency: str
    process_seconds: int
    bought_before: bool


@dataclass
class ProcessCounts:
    """What the salespeople did in the period."""

    new_leads: int = 0
    sources: dict[str, int] = field(default_factory=dict)  # "" = not given
    activities: dict[str, int] = field(default_factory=dict)
    offers_money: Money = field(default_factory=dict)
    stage_moves: int = 0
    won: int = 0
    won_money: Money = field(default_factory=dict)
    lost: int = 0
    # Distinct deals that had a call, a face-to-face contact, an offer, a win in the period.
    deals_called: int = 0
    deals_met: int = 0
    deals_offered: int = 0
    deals_won: int = 0
    # The conversions' numerators, each a part of the count above it: of the deals called, those
    # with a face-to-face contact at or after their first call in the period; of the deals met,
    # those with an offer at or after their first face-to-face contact; of the deals offered,
    # those won at or after their first offer (all in the period, by the same salesperson when
    # `owner` is given).
    called_then_met: int = 0
    met_then_offered: int = 0
    offered_then_won: int = 0


@dataclass(frozen=True)
class WinbackGroup:
    """Resignations of the period with one reason, and how many of those clients bought since
    (a won deal within 12 months of the resignation)."""

    reason_id: int | None
    resigned: int
    came_back: int


@dataclass(frozen=True)
class OwnerWins:
    owner_member_id: int
    currency: str
    won: int
    value_minor: int


class ReportRepository(AggregateQueries):
    @staticmethod
    def _events(
        team_id: int, period: Period, owner: int | None, *kinds: str
    ) -> list[ColumnElement[bool]]:
        where = [*live_events(team_id, period), col(DealEvent.kind).in_(kinds)]
        if owner is not None:
            where.append(col(DealEvent.owner_member_id) == owner)
        return where

    # --- the funnel ------------------------------------------------------------------------
    @staticmethod
    def _closing_event(closing: Any) -> ColumnElement[bool]:
        """Join condition for the event that closed a closed deal: a win or a resignation sets
        the deal's status and `closed_at` from that very event (an undo or a reopen clears
        `closed_at`), so it is found by equality, on the covering index."""
        return and_(
            col(closing.deal_id) == col(Deal.id),
            col(closing.kind) == col(Deal.status),
            col(closing.at) == col(Deal.closed_at),
        )

    @staticmethod
    def _credited(closing: Any) -> ColumnElement[int]:
        """Whose deal it is in the report: the owner when it closed, or now if it is open."""
        return case(
            (col(Deal.status) == DealStatus.OPEN, col(Deal.owner_member_id)),
            else_=func.coalesce(col(closing.owner_member_id), col(Deal.owner_member_id)),
        )

    async def conversion(self, team_id: int, period: Period) -> dict[int, tuple[int, int]]:
        """Per credited owner, the deals created in the period and how many of them are won:
        the lead-to-sale conversion, without the funnel's stages."""
        closing = aliased(DealEvent)
        owner = self._credited(closing).label("owner")
        won = func.sum(case((col(Deal.status) == DealStatus.WON, 1), else_=0))
        rows = await self._rows(
            sa_select(owner, func.count(), won)
            .select_from(Deal)
            .outerjoin(closing, self._closing_event(closing))
            .where(
                col(Deal.team_id) == team_id,
                col(Deal.created_at) >= period.start,
                col(Deal.created_at) < period.end,
            )
            .group_by(owner)
        )
        return {int(who): (int(n), int(w or 0)) for who, n, w in rows}

    async def cohort(
        self, team_id: int, period: Period, owner: int | None = None
    ) -> list[CohortGroup]:
        """Deals created in the period, grouped by how far they got and how they stand."""
        created = [
            col(Deal.team_id) == team_id,
            col(Deal.created_at) >= period.start,
            col(Deal.created_at) < period.end,
        ]
        reached = (
            sa_select(col(DealEvent.deal_id), func.max(col(Stage.position)).label("position"))
            .join(Deal, col(Deal.id) == col(DealEvent.deal_id))
            .join(Stage, col(Stage.id) == col(DealEvent.to_stage_id))
            .where(
                *created,
                col(DealEvent.kind).in_([EventKind.CREATED, EventKind.STAGE_CHANGED]),
                not_undone(),
            )
            .group_by(col(DealEvent.deal_id))
            .subquery()
        )
        closing = aliased(DealEvent)
        credited = self._credited(closing)
        furthest = case(
            (reached.c.position > col(Stage.position), reached.c.position),
            else_=col(Stage.position),
        )
        per_deal = (
            sa_select(
                col(Deal.status).label("status"),
                furthest.label("furthest"),
                col(Deal.stage_id).label("stage_id"),
                col(Deal.loss_reason_id).label("reason_id"),
                credited.label("owner"),
                col(Deal.currency).label("currency"),
                col(Deal.value_minor).label("value"),
            )
            .join(Stage, col(Stage.id) == col(Deal.stage_id))
            .outerjoin(reached, reached.c.deal_id == col(Deal.id))
            .outerjoin(closing, self._closing_event(closing))
            .where(*created)
            .subquery()
        )
        keys = (
            per_deal.c.status,
            per_deal.c.furthest,
            per_deal.c.stage_id,
            per_deal.c.reason_id,
            per_deal.c.owner,
            per_deal.c.currency,
        )
        query = sa_select(*keys, func.count(), money_sum(per_deal.c.value)).group_by(*keys)
        if owner is not None:
            query = query.where(per_deal.c.owner == owner)
        return [
            CohortGroup(status, int(far), int(stage), reason, int(who), currency, int(n), int(v))
            for status, far, stage, reason, who, currency, n, v in await self._rows(query)
        ]

    async def stage_times(
        self, team_id: int, period: Period, owner: int | None = None
    ) -> list[StageTime]:
        """Time spent in each stage, over the moves out of it made in the period: how many
        moves, the average and the median."""
        ranked = (
            sa_select(
                col(DealEvent.from_stage_id).label("stage"),
                col(DealEvent.stage_seconds).label("seconds"),
                func.row_number()
                .over(
                    partition_by=col(DealEvent.from_stage_id),
                    order_by=col(DealEvent.stage_seconds),
                )
                .label("rank"),
                func.count().over(partition_by=col(DealEvent.from_stage_id)).label("moves"),
            )
            .where(
                *self._events(team_id, period, owner, EventKind.STAGE_CHANGED),
                col(DealEvent.from_stage_id).is_not(None),
                col(DealEvent.stage_seconds).is_not(None),
            )
            .subquery()
        )
        # The median is the middle value, or the mean of the two middle values.
        middle = or_(
            ranked.c.rank == (ranked.c.moves + 1) // 2, ranked.c.rank == (ranked.c.moves + 2) // 2
        )
        rows = await self._rows(
            sa_select(
                ranked.c.stage,
                func.count(),
                func.avg(ranked.c.seconds),
                func.avg(case((middle, ranked.c.seconds))),
            ).group_by(ranked.c.stage)
        )
        return [
            StageTime(int(stage), int(moves), float(average), float(median))
            for stage, moves, average, median in rows
        ]

    # --- losses ----------------------------------------------------------------------------
    def _bought_before(self) -> ColumnElement[bool]:
        earlier = aliased(Deal)
        return exists().where(
            col(earlier.client_id) == col(Deal.client_id),
            col(earlier.status) == DealStatus.WON,
            col(earlier.closed_at) < col(DealEvent.at),
        )

    async def losses(
        self, team_id: int, period: Period, owner: int | None = None
    ) -> list[LossGroup]:
        """Resignations recorded in the period, by stage, reason, owner and currency."""
        keys = (
            col(DealEvent.from_stage_id),
            col(DealEvent.reason_id),
            col(DealEvent.owner_member_id),
            col(Deal.currency),
        )
        rows = await self._rows(
            sa_select(
                *keys,
                func.count(),
                money_sum(col(DealEvent.amount_minor)),
                func.coalesce(func.sum(col(DealEvent.stage_seconds)), 0),
                func.count(col(DealEvent.stage_seconds)),
                func.coalesce(
                    func.sum(seconds_between(col(DealEvent.at), col(Deal.created_at))), 0
                ),
                func.sum(case((self._bought_before(), 1), else_=0)),
            )
            .join(Deal, col(Deal.id) == col(DealEvent.deal_id))
            .where(*self._events(team_id, period, owner, EventKind.LOST))
            .group_by(*keys)
        )
        return [
            LossGroup(
                stage, reason, who, currency, int(n), int(v), int(s), int(t), int(p), int(b or 0)
            )
            for stage, reason, who, currency, n, v, s, t, p, b in rows
        ]

    async def lost_deals(
        self,
        team_id: int,
        period: Period,
        owner: int | None = None,
        *,
        per_reason: int | None = None,
    ) -> list[LostDeal]:
        """The period's resignations with their comments, by reason and newest first; with
        `per_reason`, only that many of each reason."""
        newest = func.row_number().over(
            partition_by=col(DealEvent.reason_id),
            order_by=(col(DealEvent.at).desc(), col(DealEvent.id).desc()),
        )
        listed = (
            sa_select(
                col(Deal.number).label("number"),
                col(Client.name).label("client"),
                col(DealEvent.reason_id).label("reason"),
                col(DealEvent.from_stage_id).label("stage"),
                col(DealEvent.owner_member_id).label("owner"),
                col(DealEvent.text).label("text"),
                col(DealEvent.at).label("at"),
                col(DealEvent.amount_minor).label("value"),
                col(Deal.currency).label("currency"),
                seconds_between(col(DealEvent.at), col(Deal.created_at)).label("process"),
                self._bought_before().label("bought_before"),
                newest.label("rank"),
            )
            .join(Deal, col(Deal.id) == col(DealEvent.deal_id))
            .join(Client, col(Client.id) == col(Deal.client_id))
            .where(*self._events(team_id, period, owner, EventKind.LOST))
            .subquery()
        )
        query = sa_select(
            listed.c.number,
            listed.c.client,
            listed.c.reason,
            listed.c.stage,
            listed.c.owner,
            listed.c.text,
            listed.c.at,
            listed.c.value,
            listed.c.currency,
            listed.c.process,
            listed.c.bought_before,
        ).order_by(listed.c.reason, listed.c.rank)
        if per_reason is not None:
            query = query.where(listed.c.rank <= per_reason)
        return [
            LostDeal(
                int(number),
                client,
                reason,
                stage,
                who,
                text or "",
                at,
                value,
                currency,
                int(process or 0),
                bool(bought),
            )
            for number, client, reason, stage, who, text, at, value, currency, process, bought in (
                await self._rows(query)
            )
        ]

    async def lost_stage_times(
        self, team_id: int, period: Period, owner: int | None = None
    ) -> dict[int, tuple[int, float]]:
        """Per stage, resignations in the period and their average time in the stage."""
        rows = await self._rows(
            sa_select(
                col(DealEvent.from_stage_id),
                func.count(),
                func.avg(col(DealEvent.stage_seconds)),
            )
            .where(
                *self._events(team_id, period, owner, EventKind.LOST),
                col(DealEvent.from_stage_id).is_not(None),
                col(DealEvent.stage_seconds).is_not(None),
            )
            .group_by(col(DealEvent.from_stage_id))
        )
        return {int(stage): (int(n), float(average)) for stage, n, average in rows}

    # --- the process -----------------------------------------------------------------------
    async def process(
        self, team_id: int, period: Period, owner: int | None = None
    ) -> ProcessCounts:
        """What happened in the period, and the call → meeting → offer → sale conversions.

        A conversion counts deals, never events: of the deals that had the earlier step in the
        period, those that also had the later step in the period, at the same moment as their
        first earlier step or after it (a test drive before the first call does not make that
        call a conversion; a second test drive after it does). A won deal converts its offer
        only when the win follows the offer. Steps taken back with ↩️ (wins) never count; with
        `owner`, both steps must be that salesperson's (the deal's owner when each happened)."""
        counts = ProcessCounts()
        kinds = (
            EventKind.CREATED,
            EventKind.ACTIVITY,
            EventKind.STAGE_CHANGED,
            EventKind.WON,
            EventKind.LOST,
        )
        # One pass over the events (no join: the deal is needed only for the currency of the
        # money, below) folds each deal's events into one row: how many of each kind, and when
        # it first and last had each step of the chain; the outer query adds the rows up.
        kind, activity, at = col(DealEvent.kind), col(DealEvent.activity), col(DealEvent.at)
        is_activity = kind == EventKind.ACTIVITY
        called = and_(is_activity, activity == ActivityKind.CALL)
        met = and_(is_activity, activity.in_(IN_PERSON))
        offered = and_(is_activity, activity == ActivityKind.OFFER_SENT)
        won = kind == EventKind.WON

        def events_where(condition: ColumnElement[bool]) -> Any:
            return func.count(case((condition, 1)))

        def first(condition: ColumnElement[bool]) -> Any:
            return func.min(case((condition, at)))

        def last(condition: ColumnElement[bool]) -> Any:
            return func.max(case((condition, at)))

        activities = list(ActivityKind)
        tallies = [
            events_where(kind == EventKind.CREATED),
            events_where(kind == EventKind.STAGE_CHANGED),
            events_where(won),
            events_where(kind == EventKind.LOST),
            *(events_where(and_(is_activity, activity == a)) for a in activities),
        ]
        per_deal = (
            sa_select(
                *(tally.label(f"n{index}") for index, tally in enumerate(tallies)),
                first(called).label("first_call"),
                first(met).label("first_met"),
                last(met).label("last_met"),
                first(offered).label("first_offer"),
                last(offered).label("last_offer"),
                last(won).label("last_won"),
            )
            .where(*self._events(team_id, period, owner, *kinds))
            .group_by(col(DealEvent.deal_id))
            .subquery()
        )
        deal = per_deal.c

        def then(later: Any, earlier: Any) -> Any:
            """Deals whose later step came at or after their first earlier one (a deal without
            either step compares NULL: not counted)."""
            return func.sum(case((later >= earlier, 1), else_=0))

        row = (
            await self._rows(
                sa_select(
                    *(func.sum(deal[f"n{index}"]) for index in range(len(tallies))),
                    func.count(deal.first_call),
                    func.count(deal.first_met),
                    func.count(deal.first_offer),
                    func.count(deal.last_won),
                    then(deal.last_met, deal.first_call),
                    then(deal.last_offer, deal.first_met),
                    then(deal.last_won, deal.first_offer),
                )
            )
        )[0]
        numbers = [int(value or 0) for value in row]
        counts.new_leads, counts.stage_moves, counts.won, counts.lost = numbers[:4]
        counts.activities = {
            a.value: n for a, n in zip(activities, numbers[4 : len(tallies)], strict=True) if n
        }
        (
            counts.deals_called,
            counts.deals_met,
            counts.deals_offered,
            counts.deals_won,
            counts.called_then_met,
            counts.met_then_offered,
            counts.offered_then_won,
        ) = numbers[len(tallies) :]
        money = await self._rows(
            sa_select(
                col(DealEvent.kind),
                col(Deal.currency),
                money_sum(col(DealEvent.amount_minor)),
            )
            .join(Deal, col(Deal.id) == col(DealEvent.deal_id))
            .where(
                *self._events(team_id, period, owner, EventKind.WON, EventKind.ACTIVITY),
                or_(
                    col(DealEvent.kind) == EventKind.WON,
                    col(DealEvent.activity) == ActivityKind.OFFER_SENT,
                ),
                col(DealEvent.amount_minor).is_not(None),
            )
            .group_by(col(DealEvent.kind), col(Deal.currency))
        )
        for what, currency, amount in money:
            table = counts.won_money if what == EventKind.WON else counts.offers_money
            add_money(table, currency, int(amount or 0))

        sources = await self._rows(
            sa_select(col(Client.source), func.count())
            .select_from(DealEvent)
            .join(Deal, col(Deal.id) == col(DealEvent.deal_id))
            .join(Client, col(Client.id) == col(Deal.client_id))
            .where(*self._events(team_id, period, owner, EventKind.CREATED))
            .group_by(col(Client.source))
        )
        counts.sources = {source or "": int(n) for source, n in sources}
        return counts

    # --- win-back --------------------------------------------------------------------------
    async def winback_outcomes(
        self, team_id: int, period: Period, owner: int | None = None
    ) -> list[WinbackGroup]:
        """Per reason: resignations of the period, and how many of those clients bought
        within 12 months of resigning (the same deal reopened and won counts too)."""
        later = aliased(Deal)
        came_back = exists().where(
            col(later.client_id) == col(Deal.client_id),
            col(later.status) == DealStatus.WON,
            col(later.closed_at) > col(DealEvent.at),
            seconds_between(col(later.closed_at), col(DealEvent.at)) <= CAME_BACK_WITHIN_SECONDS,
        )
        rows = await self._rows(
            sa_select(
                col(DealEvent.reason_id),
                func.count(),
                func.sum(case((came_back, 1), else_=0)),
            )
            .join(Deal, col(Deal.id) == col(DealEvent.deal_id))
            .where(*self._events(team_id, period, owner, EventKind.LOST))
            .group_by(col(DealEvent.reason_id))
        )
        return [WinbackGroup(reason, int(n), int(back or 0)) for reason, n, back in rows]

    # --- targets ---------------------------------------------------------------------------
    async def wins_by_owner(self, team_id: int, period: Period) -> list[OwnerWins]:
        keys = (col(DealEvent.owner_member_id), col(Deal.currency))
        rows = await self._rows(
            sa_select(*keys, func.count(), money_sum(col(DealEvent.amount_minor)))
            .join(Deal, col(Deal.id) == col(DealEvent.deal_id))
            .where(*self._events(team_id, period, None, EventKind.WON))
            .group_by(*keys)
        )
        return [
            OwnerWins(int(who), currency, int(n), int(v))
            for who, currency, n, v in rows
            if who is not None
        ]
