"""The funnel over a cohort of deals (those created in the period): how many reached each stage,
how many were lost at it, conversion from each stage to the next and from lead to sale; and how
long deals spend in each stage. Pure arithmetic over what storage returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import mean, median

from bot.domain import DealStatus
from bot.storage.analytics import CohortDeal, Money
from bot.storage.models import Stage


@dataclass
class FunnelStep:
    stage: Stage
    reached: int
    lost: int
    lost_money: Money = field(default_factory=dict)
    conversion: float | None = (
        None  # to the next step (the next stage, or the sale after the last)
    )


@dataclass
class Funnel:
    created: int
    won: int
    steps: list[FunnelStep]

    @property
    def lead_to_sale(self) -> float | None:
        return self.won / self.created if self.created else None


def funnel(stages: list[Stage], cohort: list[CohortDeal]) -> Funnel:
    """Stages in pipeline order. A won deal passed every stage; a lost one was lost at the stage
    it stood in when it closed; any deal reached every stage up to the furthest it got to."""
    positions = [stage.position for stage in stages]
    steps = [FunnelStep(stage, 0, 0) for stage in stages]
    won = 0
    for deal in cohort:
        if deal.status == DealStatus.WON:
            won += 1
            furthest = max(positions, default=0)
        else:
            furthest = deal.furthest_position
        for step in steps:
            if step.stage.position <= furthest:
                step.reached += 1
            if deal.status == DealStatus.LOST and step.stage.id == deal.stage_id:
                step.lost += 1
                if deal.value_minor:
                    step.lost_money[deal.currency] = (
                        step.lost_money.get(deal.currency, 0) + deal.value_minor
                    )
    for index, step in enumerate(steps):
        following = steps[index + 1].reached if index + 1 < len(steps) else won
        step.conversion = following / step.reached if step.reached else None
    return Funnel(created=len(cohort), won=won, steps=steps)


@dataclass(frozen=True)
class Duration:
    moves: int
    average_days: float
    median_days: float


def durations(seconds_by_stage: dict[int, list[float]]) -> dict[int, Duration]:
    day = 86400.0
    return {
        stage_id: Duration(len(values), mean(values) / day, median(values) / day)
        for stage_id, values in seconds_by_stage.items()
        if values
    }
