"""The report's arithmetic on hand-made groups: loss shares in units and in the team's money,
other currencies kept apart, averages of days, conversions (deals among deals, never above
100 %), win-back rates."""

from __future__ import annotations

from bot.services import report
from bot.storage.models import Stage
from bot.storage.reporting import CohortGroup, LossGroup, ProcessCounts, WinbackGroup

DAY = 86400


def _loss(
    stage: int | None,
    reason: int | None,
    owner: int,
    deals: int,
    value: int,
    currency: str = "PLN",
    *,
    stage_days: float = 0,
    timed: int = 0,
    process_days: float = 0,
    bought_before: int = 0,
) -> LossGroup:
    return LossGroup(
        stage,
        reason,
        owner,
        currency,
        deals,
        value,
        int(stage_days * DAY),
        timed,
        int(process_days * DAY),
        bought_before,
    )


def test_loss_shares_in_units_and_in_the_teams_money() -> None:
    groups = [
        _loss(1, 10, 7, 3, 30_000_00, stage_days=6, timed=3, process_days=9),
        _loss(1, 11, 8, 1, 10_000_00, stage_days=1, timed=1, process_days=5, bought_before=1),
        _loss(2, 10, 7, 4, 60_000_00, stage_days=8, timed=2, process_days=40),
        _loss(2, None, 8, 2, 500_00, "EUR", process_days=6),
    ]
    losses = report.losses(groups, "PLN")
    total = losses.total
    assert (total.count, total.money, total.bought_before) == (
        10,
        {"PLN": 100_000_00, "EUR": 500_00},
        1,
    )
    assert total.process_days == 6.0  # (9 + 5 + 40 + 6) / 10
    first, second = losses.by_stage[1], losses.by_stage[2]
    assert (first.count, first.count_share, first.money_share) == (4, 0.4, 0.4)
    assert (second.count, second.count_share, second.money_share) == (6, 0.6, 0.6)
    assert first.stage_days == 7 / 4 and second.stage_days == 4.0  # only the timed ones
    price = losses.by_reason[10]
    assert (price.count, price.money, price.money_share) == (7, {"PLN": 90_000_00}, 0.9)
    unknown = losses.by_reason[0]  # no reason recorded: shown as "?"
    assert (unknown.count, unknown.money, unknown.money_share) == (2, {"EUR": 500_00}, 0.0)
    assert [key for key, _ in losses.ranked(losses.by_reason)] == [10, 11, 0]
    assert losses.by_owner[8].count == 3 and losses.by_owner[8].money_share == 0.1
    assert losses.by_stage_and_reason[(2, 10)].money == {"PLN": 60_000_00}


def test_no_losses_no_division() -> None:
    losses = report.losses([], "PLN")
    assert (losses.total.count, losses.total.count_share, losses.total.process_days) == (
        0,
        None,
        None,
    )


def test_the_funnel_of_groups() -> None:
    stages = [Stage(id=n + 1, team_id=1, key=f"s{n}", position=n) for n in range(3)]
    cohort = [
        CohortGroup("lost", 0, 1, 5, 7, "PLN", 4, 400_00),
        CohortGroup("open", 1, 2, None, 7, "PLN", 3, 0),
        CohortGroup("lost", 2, 3, 5, 8, "PLN", 2, 200_00),
        CohortGroup("won", 1, 2, None, 8, "PLN", 1, 900_00),  # won from stage 2: passed all
    ]
    result = report.funnel(stages, cohort)
    assert [(s.reached, s.lost, s.conversion) for s in result.steps] == [
        (10, 4, 0.6),
        (6, 0, 0.5),
        (3, 2, 1 / 3),
    ]
    assert (result.created, result.won, result.won_money, result.lead_to_sale) == (
        10,
        1,
        {"PLN": 900_00},
        0.1,
    )


def test_conversions_divide_deals_by_the_deals_they_come_from() -> None:
    counts = ProcessCounts(
        deals_called=8,
        called_then_met=4,
        deals_met=5,
        met_then_offered=3,
        deals_offered=3,
        offered_then_won=0,
        deals_won=2,  # won without an offer: not a conversion of an offer
    )
    assert report.conversions(counts, None) == report.Conversions(0.5, 0.6, 0.0, None)
    # The reviewer's case: one deal called, two others met. Not 2 / 1 = 200 %.
    trial = ProcessCounts(deals_called=1, deals_met=2, called_then_met=0)
    assert report.conversions(trial, None).call_to_meeting == 0.0
    # Nothing to divide by: no ratio ("—" on the screen), not 0 %.
    empty = report.conversions(ProcessCounts(deals_won=3), 0.2)
    assert empty == report.Conversions(None, None, None, 0.2)


def test_a_share_of_a_subset_never_passes_the_whole() -> None:
    assert report.part_of(1, 4) == 0.25
    assert report.part_of(0, 0) is None and report.part_of(3, 0) is None
    assert report.part_of(5, 2) == 1.0 and report.part_of(-1, 2) == 0.0


def test_win_backs() -> None:
    outcome = report.winbacks([WinbackGroup(1, 4, 0), WinbackGroup(2, 6, 3)])
    assert (outcome.resigned, outcome.came_back, outcome.rate) == (10, 3, 0.3)
    assert [group.reason_id for group in outcome.by_reason] == [2, 1]
