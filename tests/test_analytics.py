"""Team figures from the event log, on both databases, against a scripted day whose right
answers are written here by hand (never computed by the code under test)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain import ActivityKind
from bot.services import deals, teams
from bot.services.deals import NewDeal
from bot.storage.analytics import LossFigures, Period
from bot.storage.db import Database
from bot.storage.models import Member, User
from bot.storage.unit_of_work import UnitOfWork
from tests.conftest import FakeClock

# Tuesday 24 November 2026 in Warsaw is 23:00 UTC on the 23rd to 23:00 UTC on the 24th.
DAY = Period(datetime(2026, 11, 23, 23, 0, tzinfo=UTC), datetime(2026, 11, 24, 23, 0, tzinfo=UTC))


async def test_a_days_figures(database: Database, clock: FakeClock) -> None:
    def uow() -> UnitOfWork:
        return UnitOfWork(database.sessions, clock)

    clock.moment = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
    async with uow() as u:
        for user_id in (1, 2, 3):
            await u.users.add(
                User(
                    id=user_id,
                    first_name=f"U{user_id}",
                    language="pl",
                    created_at=clock.now(),
                    last_seen_at=clock.now(),
                )
            )
        boss_user = await u.users.get(1)
        assert boss_user is not None
        team, boss = await teams.create_team(u, boss_user, "Salon", clock.now(), allowed=True)
        for user_id in (2, 3):
            user = await u.users.get(user_id)
            assert user is not None
            await teams.join_team(u, user, team.invite_code or "", clock.now())
        a = await u.teams.member(team.id or 0, 2)
        b = await u.teams.member(team.id or 0, 3)
        stages = {s.key: s.id or 0 for s in await u.teams.stages(team.id or 0)}
        reasons = {r.key: r.id or 0 for r in await u.teams.loss_reasons(team.id or 0)}
        await u.commit()
    assert a is not None and b is not None

    async def new(member: Member, name: str, value: int | None = None) -> int:
        async with uow() as u:
            view = await deals.create_deal(
                u, member, team, NewDeal(name=name, value_minor=value), clock.now()
            )
            await u.commit()
        return view.deal.id or 0

    async def act(action: object) -> Any:
        async with uow() as u:
            result = await action(u)  # type: ignore[operator]
            await u.commit()
        return result

    clock.moment = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)  # 23:30 on the 23rd in Warsaw
    await new(a, "Old")  # #1: the day before, not counted
    clock.moment = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    d2 = await new(a, "Two", 10_000_000)
    d3 = await new(a, "Three", 8_000_000)
    await new(a, "Four", 5_000_000)
    d5 = await new(b, "Five", 6_000_000)
    d6 = await new(b, "Six")
    d7 = await new(b, "Seven")
    now = clock.now
    await act(lambda u: deals.move_stage(u, a, d2, stages["contacted"], now()))
    await act(lambda u: deals.move_stage(u, a, d2, stages["offer_sent"], now()))
    await act(lambda u: deals.move_stage(u, b, d5, stages["contacted"], now()))
    _, undone_move = await act(lambda u: deals.move_stage(u, b, d6, stages["contacted"], now()))
    await act(lambda u: deals.undo(u, b, d6, undone_move.id, now()))
    await act(lambda u: deals.log_activity(u, a, d2, ActivityKind.CALL, now()))
    await act(lambda u: deals.log_activity(u, a, d2, ActivityKind.OFFER_SENT, now(), 9_800_000))
    await act(lambda u: deals.log_activity(u, a, d3, ActivityKind.MEETING, now()))
    await act(lambda u: deals.log_activity(u, b, d5, ActivityKind.CALL, now()))
    await act(lambda u: deals.log_activity(u, b, d5, ActivityKind.CALL, now()))
    await act(lambda u: deals.win(u, a, d2, 9_700_000, now()))
    await act(lambda u: deals.resign(u, a, d3, reasons["price"], "Za drogo", None, now()))
    await act(lambda u: deals.resign(u, b, d5, reasons["financing"], "Bank odmówił", None, now()))
    _, undone_loss = await act(
        lambda u: deals.resign(u, b, d6, reasons["price"], "pomyłka", None, now())
    )
    await act(lambda u: deals.undo(u, b, d6, undone_loss.id, now()))
    await act(
        lambda u: deals.plan_next_contact(
            u, b, d7, datetime(2026, 11, 24, 10, 0, tzinfo=UTC), now()
        )
    )
    clock.moment = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 16:00 in Warsaw

    async with uow() as u:
        figures = await u.analytics.figures(team.id or 0, DAY, clock.now(), comments=10)
    assert (figures.new_deals, figures.stage_moves) == (6, 3)
    assert (figures.won, figures.won_money) == (1, {"PLN": 9_700_000})
    assert (figures.lost, figures.lost_money) == (2, {"PLN": 14_000_000})
    assert figures.losses_by_reason == {
        reasons["price"]: LossFigures(1, {"PLN": 8_000_000}),
        reasons["financing"]: LossFigures(1, {"PLN": 6_000_000}),
    }
    assert figures.losses_by_stage == {
        stages["new_lead"]: LossFigures(1, {"PLN": 8_000_000}),
        stages["contacted"]: LossFigures(1, {"PLN": 6_000_000}),
    }
    assert figures.activities == {"call": 3, "offer_sent": 1, "meeting": 1}
    seller_a, seller_b = figures.members[a.id or 0], figures.members[b.id or 0]
    # A: #2 #3 #4 new; #2 won for 97 000; #3 lost; 3 activities; #1 and #4 have nothing planned.
    assert (
        seller_a.new,
        seller_a.won,
        seller_a.won_money,
        seller_a.lost,
        seller_a.activities,
    ) == (3, 1, {"PLN": 9_700_000}, 1, 3)
    assert (seller_a.overdue, seller_a.unplanned) == (0, 2)
    # B: #5 #6 #7 new; #5 lost; 2 calls; #7 overdue since 11:00; #6 (its loss undone) unplanned.
    assert (seller_b.new, seller_b.won, seller_b.lost, seller_b.activities) == (3, 0, 1, 2)
    assert (seller_b.overdue, seller_b.unplanned) == (1, 1)
    assert [(c.deal_number, c.text) for c in figures.comments] == [
        (3, "Za drogo"),
        (5, "Bank odmówił"),
    ]

    # Three days later: new leads older than 2 days and contacts older than 5 are stuck.
    clock.moment = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
    async with uow() as u:
        stuck_total, stuck = await u.analytics.stuck(team.id or 0, clock.now(), 3)
        slipping = await u.analytics.slipping(team.id or 0, b.id or 0, clock.now())
    # Four are stuck; the three longest-waiting are listed (#1 entered its stage first).
    assert stuck_total == 4
    assert [(deal.number, days) for deal, _, _, days in stuck] == [(1, 3), (4, 3), (6, 3)]
    assert [deal.number for deal, _ in slipping] == [7, 6]
    assert boss.role == "manager" and timedelta(0) < clock.now() - DAY.end
