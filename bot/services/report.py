"""The report's arithmetic over what storage aggregated: the funnel of a cohort of deals (those
created in the period), time in stage, where and why deals are lost (in units and in money),
the process figures and their conversions, and win-backs. No Telegram, no SQL."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from bot.domain import DealStatus
from bot.storage.analytics import Money, add_money
from bot.storage.models import Stage
from bot.storage.reporting import CohortGroup, LossGroup, ProcessCounts, StageTime, WinbackGroup

DAY_SECONDS = 86400.0


def ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


# --- the funnel ------------------------------------------------------------------------------
@dataclass
class FunnelStep:
    stage: Stage
    reached: int = 0
    lost: int = 0
    lost_money: Money = field(default_factory=dict)
    # To the next step: the next stage, or the sale after the last stage.
    conversion: float | None = None


@dataclass
class Funnel:
    created: int
    won: int
    won_money: Money
    steps: list[FunnelStep]

    @property
    def lead_to_sale(self) -> float | None:
        return ratio(self.won, self.created)


def funnel(stages: list[Stage], cohort: Iterable[CohortGroup]) -> Funnel:
    """Stages in pipeline order. A won deal passed every stage; a lost one was lost at the stage
    it stood in when it closed; any deal reached every stage up to the furthest it got to."""
    steps = [FunnelStep(stage) for stage in stages]
    last_position = max((stage.position for stage in stages), default=0)
    created = won = 0
    won_money: Money = {}
    for group in cohort:
        created += group.deals
        furthest = group.furthest_position
        if group.status == DealStatus.WON:
            won += group.deals
            add_money(won_money, group.currency, group.value_minor)
            furthest = last_position
        for step in steps:
            if step.stage.position <= furthest:
                step.reached += group.deals
            if group.status == DealStatus.LOST and step.stage.id == group.stage_id:
                step.lost += group.deals
                add_money(step.lost_money, group.currency, group.value_minor)
    for index, step in enumerate(steps):
        following = steps[index + 1].reached if index + 1 < len(steps) else won
        step.conversion = ratio(following, step.reached)
    return Funnel(created, won, won_money, steps)


@dataclass(frozen=True)
class Duration:
    moves: int
    average_days: float
    median_days: float


def durations(times: Iterable[StageTime]) -> dict[int, Duration]:
    return {
        time.stage_id: Duration(
            time.moves, time.average_seconds / DAY_SECONDS, time.median_seconds / DAY_SECONDS
        )
        for time in times
        if time.moves
    }


# --- losses ----------------------------------------------------------------------------------
@dataclass
class LossShare:
    """Resignations of one kind and their part of all resignations of the period."""

    count: int = 0
    money: Money = field(default_factory=dict)
    count_share: float | None = None
    money_share: float | None = None  # of the lost value in the team's currency
    process_seconds: int = 0  # summed: creation to resignation
    stage_seconds: int = 0  # summed over `timed`: time in the stage before the resignation
    timed: int = 0
    bought_before: int = 0

    @property
    def process_days(self) -> float | None:
        return self.process_seconds / self.count / DAY_SECONDS if self.count else None

    @property
    def stage_days(self) -> float | None:
        return self.stage_seconds / self.timed / DAY_SECONDS if self.timed else None

    def add(self, group: LossGroup) -> None:
        self.count += group.deals
        add_money(self.money, group.currency, group.value_minor)
        self.process_seconds += group.process_seconds
        self.stage_seconds += group.stage_seconds
        self.timed += group.timed
        self.bought_before += group.bought_before


@dataclass
class Losses:
    total: LossShare
    by_stage: dict[int, LossShare]
    by_reason: dict[int, LossShare]
    by_owner: dict[int, LossShare]
    by_stage_and_reason: dict[tuple[int, int], LossShare]

    def ranked(self, table: dict[int, LossShare]) -> list[tuple[int, LossShare]]:
        """Largest first: by lost money in the team's currency, then by count."""
        return sorted(
            table.items(), key=lambda item: (-(item[1].money_share or 0), -item[1].count, item[0])
        )


def losses(groups: Iterable[LossGroup], currency: str) -> Losses:
    """Resignations by stage, by reason, by salesperson and by stage × reason, each with its
    share of all of them in units and in money (0 stands for an unknown stage or reason)."""
    result = Losses(LossShare(), {}, {}, {}, {})
    for group in groups:
        result.total.add(group)
        stage, reason = group.stage_id or 0, group.reason_id or 0
        for table, key in (
            (result.by_stage, stage),
            (result.by_reason, reason),
            (result.by_owner, group.owner_member_id or 0),
        ):
            table.setdefault(key, LossShare()).add(group)
        result.by_stage_and_reason.setdefault((stage, reason), LossShare()).add(group)
    total_money = result.total.money.get(currency, 0)
    shares: list[LossShare] = [
        *result.by_stage.values(),
        *result.by_reason.values(),
        *result.by_owner.values(),
        *result.by_stage_and_reason.values(),
        result.total,
    ]
    for share in shares:
        share.count_share = ratio(share.count, result.total.count)
        share.money_share = ratio(share.money.get(currency, 0), total_money)
    return result


def lead_to_sale(created_and_won: dict[int, tuple[int, int]], owner: int | None) -> float | None:
    """Won per created, over the team or one salesperson's (credited) deals."""
    pairs = [pair for who, pair in created_and_won.items() if owner is None or who == owner]
    return ratio(sum(won for _, won in pairs), sum(created for created, _ in pairs))


# --- the process -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Conversions:
    call_to_meeting: float | None
    meeting_to_offer: float | None
    offer_to_sale: float | None
    lead_to_sale: float | None


def part_of(part: int, whole: int) -> float | None:
    """The share of a subset: None (shown as "—") when there is nothing to divide by. Storage
    counts `part` among `whole`, so it never passes 100 %; were it ever to, the share is capped
    rather than shown as an impossible figure."""
    if whole <= 0:
        return None
    return min(max(part, 0), whole) / whole


def conversions(counts: ProcessCounts, lead_to_sale: float | None) -> Conversions:
    """Each step counts deals within the period: of the deals called, the part that then had a
    face-to-face contact; of the deals met, the part that then got an offer; of the deals
    offered, the part then won (see `ReportRepository.process`). Lead to sale is the funnel's:
    of the deals created in the period, the part won."""
    return Conversions(
        part_of(counts.called_then_met, counts.deals_called),
        part_of(counts.met_then_offered, counts.deals_met),
        part_of(counts.offered_then_won, counts.deals_offered),
        lead_to_sale,
    )


# --- win-back --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Winbacks:
    resigned: int
    came_back: int
    by_reason: list[WinbackGroup]

    @property
    def rate(self) -> float | None:
        return ratio(self.came_back, self.resigned)


def winbacks(groups: Iterable[WinbackGroup]) -> Winbacks:
    ordered = sorted(groups, key=lambda group: (-group.came_back, -group.resigned))
    return Winbacks(
        sum(group.resigned for group in ordered),
        sum(group.came_back for group in ordered),
        ordered,
    )
