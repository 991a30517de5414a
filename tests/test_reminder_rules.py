"""Delivery rules without Telegram: what goes now, what waits for working hours, how late ones
are bundled and chats interleaved, backoff; and a queue that a blocked user cannot starve."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.domain import ReminderKind
from bot.services import deals, reminders, teams
from bot.services.deals import NewDeal
from bot.storage.db import Database
from bot.storage.models import Client, Deal, Member, Reminder, Stage, Team, User
from bot.storage.reminders import DueReminder
from bot.storage.unit_of_work import UnitOfWork
from tests.conftest import FakeClock

MONDAY_NOON = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)  # 12:00 in Warsaw
MONDAY_NIGHT = datetime(2026, 11, 23, 22, 0, tzinfo=UTC)  # 23:00 in Warsaw


def _item(
    reminder_id: int, user_id: int, due: datetime, kind: str = ReminderKind.NEXT_CONTACT
) -> DueReminder:
    team = Team(
        id=1, name="T", timezone="Europe/Warsaw", currency="PLN", country="PL", created_at=due
    )
    reminder = Reminder(
        id=reminder_id,
        team_id=1,
        deal_id=reminder_id,
        member_id=user_id,
        kind=kind,
        due_at=due,
        created_at=due,
    )
    deal = Deal(
        id=reminder_id,
        team_id=1,
        number=reminder_id,
        client_id=1,
        owner_member_id=user_id,
        stage_id=1,
        currency="PLN",
        stage_entered_at=due,
        created_at=due,
        updated_at=due,
    )
    user = User(id=user_id, language="pl", created_at=due, last_seen_at=due)
    member = Member(id=user_id, team_id=1, user_id=user_id, joined_at=due)
    return DueReminder(
        reminder,
        deal,
        Client(id=1, team_id=1, name="C", created_at=due),
        Stage(id=1, team_id=1),
        member,
        user,
        team,
    )


def test_on_time_ones_go_one_by_one_interleaved_by_chat() -> None:
    items = [
        _item(1, 10, MONDAY_NOON),
        _item(2, 10, MONDAY_NOON),
        _item(3, 20, MONDAY_NOON),
        _item(4, 10, MONDAY_NOON),
    ]
    plan = reminders.plan_delivery(items, MONDAY_NOON)
    assert [
        (box.chat_id, [i.reminder.id for i in box.items], box.late) for box in plan.outboxes
    ] == [
        (10, [1], False),
        (20, [3], False),
        (10, [2], False),
        (10, [4], False),
    ]
    assert plan.deferred == {}


def test_late_ones_are_bundled_per_person() -> None:
    early = MONDAY_NOON - timedelta(hours=2)
    items = [
        _item(1, 10, early),
        _item(2, 10, early),
        _item(3, 20, early),
        _item(4, 10, MONDAY_NOON),
    ]
    plan = reminders.plan_delivery(items, MONDAY_NOON)
    assert [
        (box.chat_id, [i.reminder.id for i in box.items], box.late) for box in plan.outboxes
    ] == [
        (10, [1, 2], True),
        (20, [3], True),
        (10, [4], False),
    ]


def test_at_night_chosen_times_go_automatic_and_late_ones_wait() -> None:
    chosen = _item(1, 10, MONDAY_NIGHT)
    winback = _item(2, 10, MONDAY_NIGHT, ReminderKind.WINBACK)
    late = _item(3, 20, MONDAY_NIGHT - timedelta(hours=1))
    plan = reminders.plan_delivery([chosen, winback, late], MONDAY_NIGHT)
    assert [[i.reminder.id for i in box.items] for box in plan.outboxes] == [[1]]
    assert plan.deferred == {datetime(2026, 11, 24, 8, 0, tzinfo=UTC): [2, 3]}  # Tuesday 09:00


def test_backoff_grows_and_stops_at_ten_minutes() -> None:
    assert [reminders.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [5, 10, 20, 40]
    assert reminders.backoff(20) == timedelta(minutes=10)


async def test_people_who_blocked_the_bot_do_not_starve_the_queue(
    database: Database, clock: FakeClock
) -> None:
    async with UnitOfWork(database.sessions, clock) as uow:
        blocked = await uow.users.add(
            User(
                id=1,
                language="pl",
                bot_blocked=True,
                created_at=clock.now(),
                last_seen_at=clock.now(),
            )
        )
        other = await uow.users.add(
            User(id=2, language="pl", created_at=clock.now(), last_seen_at=clock.now())
        )
        team, blocked_member = await teams.create_team(
            uow, blocked, "T", clock.now(), allowed=True
        )
        await teams.join_team(uow, other, team.invite_code or "", clock.now())
        other_member = await uow.teams.member(team.id or 0, 2)
        assert other_member is not None
        due = clock.now() + timedelta(minutes=1)
        for number in range(12):
            view = await deals.create_deal(
                uow, blocked_member, team, NewDeal(name=f"B{number}"), clock.now()
            )
            await deals.plan_next_contact(uow, blocked_member, view.deal.id or 0, due, clock.now())
        view = await deals.create_deal(uow, other_member, team, NewDeal(name="O"), clock.now())
        await deals.plan_next_contact(
            uow, other_member, view.deal.id or 0, due + timedelta(seconds=1), clock.now()
        )
        await uow.commit()
    async with UnitOfWork(database.sessions, clock) as uow:
        found = await uow.reminders.due(due + timedelta(minutes=1), limit=5)
    assert [item.client.name for item in found] == ["O"]


def test_clients_needed_at_the_measured_conversion() -> None:
    from bot.services.targets import parse_target, progress

    assert progress(10, 0, None, 0, 0.2).clients_needed == 50  # the example
    assert progress(10, 4, None, 0, 0.25).clients_needed == 24
    assert progress(10, 3, None, 0, 1 / 3).clients_needed == 21
    assert progress(10, 12, None, 0, 0.2).clients_needed == 0
    assert progress(10, 0, None, 0, None).clients_needed is None
    assert parse_target("12") == (12, None)
    assert parse_target("12 1 200 000") == (12, 120_000_000)
    assert parse_target("12; 1,2 mln") == (12, 120_000_000)
