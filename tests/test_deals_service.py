"""Deal rules on both databases: numbering, stage moves, closing, undo, reopening, owners,
visibility, and the event log that keeps every change."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from bot.domain import (
    ActivityKind,
    ClientSource,
    DealStatus,
    EventKind,
    ReminderKind,
    ReminderStatus,
)
from bot.services import deals, teams
from bot.services.deals import NewDeal
from bot.services.errors import Problem, RuleError
from bot.storage.db import Database
from bot.storage.models import DealEvent, Member, Reminder, Team, User
from bot.storage.unit_of_work import UnitOfWork
from tests.conftest import FakeClock


class World:
    """A team with a manager and two salespeople, and a second team."""

    def __init__(self, database: Database, clock: FakeClock) -> None:
        self.database, self.clock = database, clock

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.database.sessions, self.clock)

    async def build(self) -> World:
        async with self.uow() as uow:
            for user_id in (1, 2, 3, 9):
                await uow.users.add(
                    User(
                        id=user_id,
                        first_name=f"U{user_id}",
                        language="pl",
                        created_at=self.clock.now(),
                        last_seen_at=self.clock.now(),
                    )
                )
            boss = await uow.users.get(1)
            other = await uow.users.get(9)
            assert boss and other
            self.team, self.boss = await teams.create_team(
                uow, boss, "A", self.clock.now(), allowed=True
            )
            self.other_team, self.stranger = await teams.create_team(
                uow, other, "B", self.clock.now(), allowed=True
            )
            for user_id in (2, 3):
                user = await uow.users.get(user_id)
                assert user
                await teams.join_team(uow, user, self.team.invite_code or "", self.clock.now())
            self.anna = await uow.teams.member(self.team.id or 0, 2)
            self.piotr = await uow.teams.member(self.team.id or 0, 3)
            self.stages = await uow.teams.stages(self.team.id or 0)
            self.reasons = await uow.teams.loss_reasons(self.team.id or 0)
            await uow.commit()
        return self

    async def new(self, member: Member, name: str = "Jan Kowalski", **kw: Any) -> int:
        async with self.uow() as uow:
            view = await deals.create_deal(
                uow, member, self.team, NewDeal(name=name, **kw), self.clock.now()
            )
            await uow.commit()
        assert view.deal.id is not None
        return view.deal.id

    async def events(self, deal_id: int) -> list[DealEvent]:
        async with self.uow() as uow:
            rows = await uow.session.exec(
                select(DealEvent).where(DealEvent.deal_id == deal_id).order_by(col(DealEvent.id))
            )
            return list(rows)

    async def reminders(self, deal_id: int) -> list[Reminder]:
        async with self.uow() as uow:
            rows = await uow.session.exec(
                select(Reminder).where(Reminder.deal_id == deal_id).order_by(col(Reminder.id))
            )
            return list(rows)


@pytest.fixture
async def world(database: Database, clock: FakeClock) -> World:
    return await World(database, clock).build()


async def problem(world: World, action: object) -> Problem:
    with pytest.raises(RuleError) as info:
        async with world.uow() as uow:
            await action(uow)  # type: ignore[operator]
            await uow.commit()
    return info.value.problem


async def test_a_new_deal_gets_the_next_number_an_owner_and_a_history(world: World) -> None:
    assert world.anna and world.piotr
    first = await world.new(
        world.anna, value_minor=9_500_000, source=ClientSource.WALK_IN, note="Octavia"
    )
    second = await world.new(world.piotr, "Anna Nowak")
    async with world.uow() as uow:
        one = await uow.deals.view(first)
        two = await uow.deals.view(second)
    assert one and two
    assert (one.deal.number, two.deal.number) == (1, 2)
    assert one.deal.owner_member_id == world.anna.id and one.stage.key == "new_lead"
    assert one.deal.currency == "PLN" and one.deal.value_minor == 9_500_000
    assert one.deal.last_note == "Octavia" and one.client.source == "walk_in"
    kinds = [event.kind for event in await world.events(first)]
    assert kinds == [EventKind.CREATED, EventKind.NOTE]
    # The other team numbers from 1 again.
    async with world.uow() as uow:
        view = await deals.create_deal(
            uow, world.stranger, world.other_team, NewDeal(name="X"), world.clock.now()
        )
        await uow.commit()
    assert view.deal.number == 1


async def test_only_the_owner_and_managers_see_a_deal(world: World) -> None:
    assert world.anna and world.piotr
    deal_id = await world.new(world.anna)
    async with world.uow() as uow:
        assert (await deals.load(uow, world.anna, deal_id)).deal.id == deal_id
        assert (await deals.load(uow, world.boss, deal_id)).deal.id == deal_id
    assert (
        await problem(world, lambda uow: deals.load(uow, world.piotr, deal_id))
        == Problem.DEAL_NOT_FOUND
    )
    assert (
        await problem(world, lambda uow: deals.load(uow, world.stranger, deal_id))
        == Problem.DEAL_NOT_FOUND
    )
    assert (
        await problem(
            world,
            lambda uow: deals.add_note(uow, world.stranger, deal_id, "hi", world.clock.now()),
        )
        == Problem.DEAL_NOT_FOUND
    )
    assert (
        await problem(world, lambda uow: deals.find_by_number(uow, world.stranger, 1))
        == Problem.DEAL_NOT_FOUND
    )


async def test_stage_moves_are_recorded_once_and_can_be_undone_for_a_minute(world: World) -> None:
    assert world.anna
    deal_id = await world.new(world.anna)
    offer = world.stages[3]
    async with world.uow() as uow:
        _, event = await deals.move_stage(
            uow, world.anna, deal_id, offer.id or 0, world.clock.now()
        )
        _, again = await deals.move_stage(
            uow, world.anna, deal_id, offer.id or 0, world.clock.now()
        )
        await uow.commit()
    assert event is not None and again is None  # a double tap records one event
    world.clock.advance(seconds=30)
    async with world.uow() as uow:
        view = await deals.undo(uow, world.anna, deal_id, event.id or 0, world.clock.now())
        await uow.commit()
    assert view.stage.key == "new_lead"
    assert view.deal.stage_entered_at == world.clock.now() - timedelta(seconds=30)
    kinds = [e.kind for e in await world.events(deal_id)]
    assert kinds == [EventKind.CREATED, EventKind.STAGE_CHANGED, EventKind.UNDONE]
    # The same undo again is stale; an old move cannot be undone.
    assert (
        await problem(
            world,
            lambda uow: deals.undo(uow, world.anna, deal_id, event.id or 0, world.clock.now()),
        )
        == Problem.STALE
    )
    async with world.uow() as uow:
        _, late = await deals.move_stage(
            uow, world.anna, deal_id, offer.id or 0, world.clock.now()
        )
        await uow.commit()
    assert late is not None
    world.clock.advance(seconds=61)
    assert (
        await problem(
            world,
            lambda uow: deals.undo(uow, world.anna, deal_id, late.id or 0, world.clock.now()),
        )
        == Problem.UNDO_EXPIRED
    )
    # A stage of another team is refused.
    async with world.uow() as uow:
        foreign = (await uow.teams.stages(world.other_team.id or 0))[1]
    assert (
        await problem(
            world,
            lambda uow: deals.move_stage(
                uow, world.anna, deal_id, foreign.id or 0, world.clock.now()
            ),
        )
        == Problem.STALE
    )


async def test_next_contact_is_a_reminder_and_no_date_is_flagged(world: World) -> None:
    assert world.anna
    deal_id = await world.new(world.anna)
    tomorrow = world.clock.now() + timedelta(days=1)
    async with world.uow() as uow:
        await deals.plan_next_contact(
            uow, world.anna, deal_id, tomorrow, world.clock.now(), "call about leasing"
        )
        await uow.commit()
    later = tomorrow + timedelta(days=1)
    async with world.uow() as uow:
        view = await deals.plan_next_contact(uow, world.anna, deal_id, later, world.clock.now())
        await uow.commit()
    assert view.deal.next_contact_at == later
    reminders = await world.reminders(deal_id)
    assert [(r.due_at, r.status) for r in reminders] == [
        (tomorrow, ReminderStatus.CANCELLED),
        (later, ReminderStatus.PENDING),
    ]
    async with world.uow() as uow:
        view = await deals.plan_next_contact(uow, world.anna, deal_id, None, world.clock.now())
        await uow.commit()
    assert view.deal.next_contact_at is None
    assert all(r.status == ReminderStatus.CANCELLED for r in await world.reminders(deal_id))
    past = world.clock.now() - timedelta(minutes=1)
    assert (
        await problem(
            world,
            lambda uow: deals.plan_next_contact(uow, world.anna, deal_id, past, world.clock.now()),
        )
        == Problem.WHEN_PAST
    )


async def test_winning_plans_the_handover_and_a_satisfaction_call(world: World) -> None:
    assert world.anna
    deal_id = await world.new(world.anna, value_minor=9_000_000)
    async with world.uow() as uow:
        await deals.plan_next_contact(
            uow, world.anna, deal_id, world.clock.now() + timedelta(hours=3), world.clock.now()
        )
        await deals.log_activity(
            uow, world.anna, deal_id, ActivityKind.OFFER_SENT, world.clock.now(), 9_200_000
        )
        view, _ = await deals.win(uow, world.anna, deal_id, 9_100_000, world.clock.now())
        await uow.commit()
    assert view.deal.status == DealStatus.WON and view.deal.value_minor == 9_100_000
    assert view.deal.next_contact_at is None
    handover = world.clock.now() + timedelta(days=10)
    async with world.uow() as uow:
        await deals.plan_handover(uow, world.anna, deal_id, handover, world.clock.now())
        await uow.commit()
    pending = [
        (r.kind, r.due_at)
        for r in await world.reminders(deal_id)
        if r.status == ReminderStatus.PENDING
    ]
    assert pending == [
        (ReminderKind.HANDOVER, handover),
        (ReminderKind.SATISFACTION, handover + timedelta(days=7)),
    ]
    # Winning twice is stale, not a second sale.
    assert (
        await problem(world, lambda uow: deals.win(uow, world.anna, deal_id, 1, world.clock.now()))
        == Problem.DEAL_CLOSED
    )
    events = await world.events(deal_id)
    assert [e.kind for e in events].count(EventKind.WON) == 1
    assert [e.amount_minor for e in events if e.kind == EventKind.ACTIVITY] == [9_200_000]


async def test_resigning_records_reason_comment_and_win_back_then_reopen(world: World) -> None:
    assert world.anna
    deal_id = await world.new(world.anna, value_minor=5_000_000)
    financing = world.reasons[2]
    winback = world.clock.now() + timedelta(days=30)
    assert (
        await problem(
            world,
            lambda uow: deals.resign(
                uow, world.anna, deal_id, financing.id or 0, "   ", winback, world.clock.now()
            ),
        )
        == Problem.NAME_EMPTY
    )
    assert (
        await problem(
            world,
            lambda uow: deals.resign(
                uow, world.anna, deal_id, financing.id or 0, "x" * 501, winback, world.clock.now()
            ),
        )
        == Problem.TOO_LONG
    )
    async with world.uow() as uow:
        view, lost = await deals.resign(
            uow, world.anna, deal_id, financing.id or 0, "Bank said no", winback, world.clock.now()
        )
        await uow.commit()
    assert (
        view.deal.status == DealStatus.LOST
        and view.loss_reason
        and view.loss_reason.key == "financing"
    )
    assert (lost.reason_id, lost.text, lost.due_at, lost.from_stage_id) == (
        financing.id,
        "Bank said no",
        winback,
        world.stages[0].id,
    )
    assert [(r.kind, r.status) for r in await world.reminders(deal_id)] == [
        (ReminderKind.WINBACK, ReminderStatus.PENDING)
    ]
    assert (
        await problem(
            world,
            lambda uow: deals.plan_next_contact(
                uow, world.anna, deal_id, winback, world.clock.now()
            ),
        )
        == Problem.DEAL_CLOSED
    )
    async with world.uow() as uow:
        reopened = await deals.reopen(uow, world.anna, deal_id, world.clock.now())
        await uow.commit()
    assert reopened.deal.status == DealStatus.OPEN and reopened.deal.loss_reason_id is None
    assert (await world.reminders(deal_id))[0].status == ReminderStatus.CANCELLED
    assert (
        await problem(world, lambda uow: deals.reopen(uow, world.anna, deal_id, world.clock.now()))
        == Problem.DEAL_ALREADY_OPEN
    )
    kinds = [e.kind for e in await world.events(deal_id)]
    assert kinds == [EventKind.CREATED, EventKind.LOST, EventKind.REOPENED]


async def test_undoing_a_resignation_restores_the_planned_contact(world: World) -> None:
    assert world.anna
    deal_id = await world.new(world.anna)
    planned = world.clock.now() + timedelta(days=2)
    async with world.uow() as uow:
        await deals.plan_next_contact(
            uow, world.anna, deal_id, planned, world.clock.now(), "test drive"
        )
        _, lost = await deals.resign(
            uow,
            world.anna,
            deal_id,
            world.reasons[0].id or 0,
            "too pricey",
            None,
            world.clock.now(),
        )
        await uow.commit()
    world.clock.advance(seconds=10)
    async with world.uow() as uow:
        view = await deals.undo(uow, world.anna, deal_id, lost.id or 0, world.clock.now())
        await uow.commit()
    assert view.deal.status == DealStatus.OPEN
    assert (view.deal.next_contact_at, view.deal.next_step) == (planned, "test drive")
    pending = [r for r in await world.reminders(deal_id) if r.status == ReminderStatus.PENDING]
    assert [(r.kind, r.due_at) for r in pending] == [(ReminderKind.NEXT_CONTACT, planned)]


async def test_edits_keep_the_old_value(world: World) -> None:
    assert world.anna
    deal_id = await world.new(world.anna, value_minor=100)
    async with world.uow() as uow:
        await deals.edit(uow, world.anna, deal_id, "name", "Jan Nowak", world.clock.now())
        await deals.edit(uow, world.anna, deal_id, "value", 200, world.clock.now())
        await deals.edit(uow, world.anna, deal_id, "email", "jan@example.com", world.clock.now())
        await deals.edit(
            uow, world.anna, deal_id, "value", 200, world.clock.now()
        )  # no change, no event
        await uow.commit()
    edits = [e.data for e in await world.events(deal_id) if e.kind == EventKind.EDITED]
    assert edits == [
        {"field": "name", "old": "Jan Kowalski", "new": "Jan Nowak"},
        {"field": "value", "old": 100, "new": 200},
        {"field": "email", "old": None, "new": "jan@example.com"},
    ]
    assert (
        await problem(
            world,
            lambda uow: deals.edit(
                uow, world.anna, deal_id, "email", "not-an-email", world.clock.now()
            ),
        )
        == Problem.BAD_EMAIL
    )
    assert (
        await problem(
            world, lambda uow: deals.edit(uow, world.anna, deal_id, "value", 0, world.clock.now())
        )
        == Problem.BAD_AMOUNT
    )


async def test_managers_reassign_one_deal_or_everything_of_a_leaver(world: World) -> None:
    assert world.anna and world.piotr
    first = await world.new(world.anna)
    second = await world.new(world.anna, "Second")
    async with world.uow() as uow:
        await deals.plan_next_contact(
            uow, world.anna, first, world.clock.now() + timedelta(days=1), world.clock.now()
        )
        await uow.commit()
    assert (
        await problem(
            world,
            lambda uow: deals.reassign(
                uow, world.anna, first, world.piotr.id or 0, world.clock.now()
            ),
        )
        == Problem.STALE
    )
    assert (
        await problem(
            world,
            lambda uow: deals.reassign(
                uow, world.boss, first, world.stranger.id or 0, world.clock.now()
            ),
        )
        == Problem.STALE
    )
    async with world.uow() as uow:
        moved = await deals.hand_over(
            uow, world.boss, world.anna.id or 0, world.piotr.id or 0, world.clock.now()
        )
        await uow.commit()
    assert moved.deals == 2
    async with world.uow() as uow:
        for deal_id in (first, second):
            view = await deals.load(uow, world.piotr, deal_id)
            assert view.deal.owner_member_id == world.piotr.id
    assert {r.member_id for r in await world.reminders(first)} == {world.piotr.id}
    assert (
        await problem(world, lambda uow: deals.load(uow, world.anna, first))
        == Problem.DEAL_NOT_FOUND
    )
    events = [e for e in await world.events(first) if e.kind == EventKind.REASSIGNED]
    assert events[0].data == {"from": world.anna.id, "to": world.piotr.id}


async def test_long_and_odd_names_are_kept_exactly_or_refused_with_the_limit(world: World) -> None:
    assert world.anna
    odd = "Kowalski & Syn <VIP> 🚗 Ștefan Łukasz Иван"
    deal_id = await world.new(world.anna, odd)
    async with world.uow() as uow:
        view = await deals.load(uow, world.anna, deal_id)
    assert view.client.name == odd
    with pytest.raises(RuleError) as info:
        await world.new(world.anna, "x" * 5000)
    assert info.value.problem == Problem.TOO_LONG and info.value.details == {"limit": 200}
    async with world.uow() as uow:
        team = await uow.session.get(Team, world.team.id)
    assert team is not None and team.deal_counter == 1  # the refused deal took no number
