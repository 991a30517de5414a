"""Leased claims on both databases: a claim names its holder and lasts until its lease runs
out; only an expired lease is taken over; the holder renews its leases while it works and gives
back what it still holds when it stops; "now" is always the process clock."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from bot.domain import JobKind, ReminderStatus, SendStatus
from bot.services import deals, teams
from bot.services.deals import NewDeal
from bot.storage import leases
from bot.storage.db import Database
from bot.storage.models import Job, Notice, Reminder, User
from bot.storage.unit_of_work import UnitOfWork
from tests.conftest import FakeClock

LEASE = timedelta(seconds=30)


async def _reminder(database: Database, clock: FakeClock) -> tuple[int, int]:
    """A team with one deal whose next contact is due now: (reminder id, member id)."""
    now = clock.now()
    async with UnitOfWork(database.sessions, clock) as uow:
        user = await uow.users.add(User(id=1, language="pl", created_at=now, last_seen_at=now))
        team, member = await teams.create_team(uow, user, "Salon", now, allowed=True)
        view = await deals.create_deal(uow, member, team, NewDeal(name="Jan"), now)
        await deals.plan_next_contact(
            uow, member, view.deal.id or 0, now + timedelta(minutes=1), now
        )
        await uow.commit()
        reminder = (await uow.session.exec(select(Reminder))).one()
        return reminder.id or 0, member.id or 0


async def test_a_live_claim_is_never_taken_and_an_expired_one_is(
    database: Database, clock: FakeClock
) -> None:
    reminder_id, _ = await _reminder(database, clock)
    clock.advance(minutes=2)
    now = clock.now()
    async with UnitOfWork(database.sessions, clock) as uow:
        assert await uow.reminders.claim([reminder_id], worker="a", now=now, until=now + LEASE)
        await uow.commit()
    async with UnitOfWork(database.sessions, clock) as uow:
        # Another sender, a moment later: the lease is live, the reminder is not due for it.
        assert await uow.reminders.due(now + timedelta(seconds=5), 10) == []
        assert not await uow.reminders.claim(
            [reminder_id], worker="b", now=now + timedelta(seconds=5), until=now + LEASE
        )
        # The holder renews its lease while it works: still not taken after the first expiry.
        assert await leases.renew(uow.session, "a", now + timedelta(seconds=25) + LEASE) == 1
        await uow.commit()
    later = now + LEASE + timedelta(seconds=1)
    async with UnitOfWork(database.sessions, clock) as uow:
        assert not await uow.reminders.claim([reminder_id], worker="b", now=later, until=later)
        # Once the lease runs out (its holder died), the reminder is due again for anyone.
        expired = now + timedelta(seconds=25) + LEASE + timedelta(seconds=1)
        assert [item.reminder.id for item in await uow.reminders.due(expired, 10)] == [reminder_id]
        assert await uow.reminders.claim(
            [reminder_id], worker="b", now=expired, until=expired + LEASE
        ) == [reminder_id]
        await uow.commit()
        # The old holder can no longer mark it sent: only the holder finishes a claim.
        assert (
            await uow.reminders.mark_sent([reminder_id], worker="a", now=expired, message_id=1)
            == []
        )
        assert await uow.reminders.mark_sent(
            [reminder_id], worker="b", now=expired, message_id=2
        ) == [reminder_id]
        await uow.commit()
        row = await uow.session.get(Reminder, reminder_id, populate_existing=True)
        assert row is not None
        assert (row.status, row.claimed_by, row.chat_message_id, row.attempts) == (
            ReminderStatus.SENT,
            "b",
            2,
            2,
        )


async def test_what_a_stopping_process_holds_goes_back_at_once(
    database: Database, clock: FakeClock
) -> None:
    reminder_id, member_id = await _reminder(database, clock)
    clock.advance(minutes=2)
    now = clock.now()
    async with UnitOfWork(database.sessions, clock) as uow:
        await uow.reminders.claim([reminder_id], worker="a", now=now, until=now + LEASE)
        job = await uow.jobs.add(
            JobKind.EXPORT, team_id=1, member_id=member_id, chat_id=1, now=now, params={}
        )
        assert await uow.jobs.claim(job.id or 0, worker="a", now=now, until=now + LEASE)
        notice = Notice(user_id=1, kind="access_off", params={}, created_at=now)
        uow.session.add(notice)
        await uow.commit()
        assert await uow.notices.claim([notice.id or 0], worker="a", now=now, until=now + LEASE)
        await uow.commit()
        assert await leases.release_all(uow.session, "a") == 3
        await uow.commit()
    async with UnitOfWork(database.sessions, clock) as uow:
        reminder = await uow.session.get(Reminder, reminder_id)
        stored_job = await uow.session.get(Job, job.id)
        stored_notice = await uow.session.get(Notice, notice.id)
        assert reminder is not None and stored_job is not None and stored_notice is not None
        assert (reminder.status, reminder.claimed_by) == (ReminderStatus.PENDING, None)
        assert stored_job.status == "pending" and stored_notice.status == SendStatus.PENDING
        # Taken again at once by the next sender, without waiting for a lease to expire.
        assert await uow.reminders.claim([reminder_id], worker="b", now=now, until=now + LEASE)


async def test_one_running_job_per_team_and_a_dead_workers_job_is_taken_again(
    database: Database, clock: FakeClock
) -> None:
    _, member_id = await _reminder(database, clock)
    now = clock.now()
    async with UnitOfWork(database.sessions, clock) as uow:
        first = await uow.jobs.add(
            JobKind.EXPORT, team_id=1, member_id=member_id, chat_id=1, now=now, params={}
        )
        second = await uow.jobs.add(
            JobKind.IMPORT_PREVIEW, team_id=1, member_id=member_id, chat_id=1, now=now, params={}
        )
        await uow.commit()
        assert await uow.jobs.next_ids(now, 5) == [first.id]
        assert await uow.jobs.claim(first.id or 0, worker="a", now=now, until=now + LEASE)
        await uow.commit()
        # The team's second job waits while the first runs under a live lease.
        assert await uow.jobs.next_ids(now + timedelta(seconds=10), 5) == []
        # Its worker died: after the lease the first job is claimable again (before the second).
        expired = now + LEASE + timedelta(seconds=1)
        assert await uow.jobs.next_ids(expired, 5) == [first.id]
        assert await uow.jobs.claim(first.id or 0, worker="b", now=expired, until=expired + LEASE)
        assert await uow.jobs.done(first.id or 0, worker="b", now=expired)
        await uow.commit()
        assert await uow.jobs.next_ids(expired, 5) == [second.id]
