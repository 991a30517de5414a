"""Reminders on their way out: find what is due, claim it (so no two senders take the same
row), and record how each delivery went. The same statements work on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy import and_, func, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import DealStatus, ReminderStatus, Role
from bot.storage import leases
from bot.storage.leases import claimable
from bot.storage.models import Client, Deal, Member, Reminder, Stage, Team, User

_Row = TypeVar("_Row", User, Team, Stage)


@dataclass
class DueReminder:
    """A reminder with everything needed to decide about it and to render it. `user` is who
    gets it: its member's user, or a manager's when it belongs to someone who left (`leaver`)."""

    reminder: Reminder
    deal: Deal
    client: Client
    stage: Stage
    member: Member
    user: User
    team: Team
    leaver: User | None = None


@dataclass(frozen=True)
class Recheck:
    """A claimed reminder and its deal as they are right before the send."""

    id: int
    kind: str
    member_id: int
    due_at: datetime
    owner_member_id: int
    status: str
    next_contact_at: datetime | None
    winback_at: datetime | None
    handover_at: datetime | None


class ReminderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, reminder_id: int) -> Reminder | None:
        return await self.session.get(Reminder, reminder_id)

    async def due(
        self,
        now: datetime,
        limit: int,
        *,
        member_id: int | None = None,
        since: datetime | None = None,
    ) -> list[DueReminder]:
        """Reminders due by `now` that can be sent (waiting, or held under an expired lease),
        for people who can receive them, oldest first; only one member's, and only those due
        after `since`, when given."""
        query = (
            select(Reminder, Deal, Client, Member)
            .join(Deal, col(Deal.id) == col(Reminder.deal_id))
            .join(Client, col(Client.id) == col(Deal.client_id))
            .join(Member, col(Member.id) == col(Reminder.member_id))
            .join(User, col(User.id) == col(Member.user_id))
            .where(
                col(Reminder.due_at) <= now,
                claimable(Reminder, now),
                col(Member.active).is_(True),
                # In SQL, before the LIMIT: people who blocked the bot must not starve the rest.
                col(User.bot_blocked).is_(False),
            )
            .order_by(col(Reminder.due_at), col(Reminder.id))
            .limit(limit)
        )
        if member_id is not None:
            query = query.where(col(Reminder.member_id) == member_id)
        if since is not None:
            query = query.where(col(Reminder.due_at) > since)
        return await self._due_items(list(await self.session.exec(query)))

    async def due_of_leavers(self, now: datetime, limit: int) -> list[DueReminder]:
        """Due reminders of people whose access is off and whose reminders were not handed to
        anyone yet: each goes once to one manager of their team (the one who turned the access
        off, else the longest-serving active manager), who can act on it or hand them over."""
        query = (
            select(Reminder, Deal, Client, Member)
            .join(Deal, col(Deal.id) == col(Reminder.deal_id))
            .join(Client, col(Client.id) == col(Deal.client_id))
            .join(Member, col(Member.id) == col(Reminder.member_id))
            .where(
                col(Reminder.due_at) <= now,
                claimable(Reminder, now),
                col(Member.active).is_(False),
            )
            .order_by(col(Reminder.due_at), col(Reminder.id))
            .limit(limit)
        )
        rows = list(await self.session.exec(query))
        if not rows:
            return []
        teams = {member.team_id for _, _, _, member in rows}
        managers = await self.session.exec(
            select(Member, User)
            .join(User, col(User.id) == col(Member.user_id))
            .where(
                col(Member.team_id).in_(teams),
                col(Member.active).is_(True),
                col(Member.role) == Role.MANAGER,
                col(User.bot_blocked).is_(False),
            )
            .order_by(col(Member.joined_at), col(Member.id))
        )
        by_id: dict[int, tuple[Member, User]] = {}
        first_of_team: dict[int, tuple[Member, User]] = {}
        for manager, user in managers:
            by_id[manager.id or 0] = (manager, user)
            first_of_team.setdefault(manager.team_id, (manager, user))
        leavers = await self._by_id(User, {member.user_id for _, _, _, member in rows})
        items = await self._due_items(rows)
        routed = []
        for item in items:
            target = by_id.get(item.member.deactivated_by_member_id or 0) or first_of_team.get(
                item.member.team_id
            )
            if target is None:
                continue  # nobody can receive it now; it waits
            item.leaver = leavers[item.member.user_id]
            item.member, item.user = target
            routed.append(item)
        return routed

    async def _due_items(
        self, rows: list[tuple[Reminder, Deal, Client, Member]]
    ) -> list[DueReminder]:
        users = await self._by_id(User, {member.user_id for _, _, _, member in rows})
        teams = await self._by_id(Team, {member.team_id for _, _, _, member in rows})
        stages = await self._by_id(Stage, {deal.stage_id for _, deal, _, _ in rows})
        return [
            DueReminder(
                reminder,
                deal,
                client,
                stages[deal.stage_id],
                member,
                users[member.user_id],
                teams[member.team_id],
            )
            for reminder, deal, client, member in rows
        ]

    async def _by_id(self, model: type[_Row], ids: set[int]) -> dict[int, _Row]:
        if not ids:
            return {}
        rows = await self.session.exec(select(model).where(col(model.id).in_(ids)))
        return {int(row.id or 0): row for row in rows}

    async def defer(self, reminder_ids: Sequence[int], until: datetime) -> None:
        if reminder_ids:
            await self.session.exec(
                update(Reminder).where(col(Reminder.id).in_(reminder_ids)).values(not_before=until)
            )

    async def claim(
        self, reminder_ids: Sequence[int], *, worker: str, now: datetime, until: datetime
    ) -> list[int]:
        """Take due reminders for sending; a row another sender holds is skipped."""
        return await leases.claim(
            self.session,
            Reminder,
            reminder_ids,
            worker=worker,
            now=now,
            until=until,
            claimed_at=now,
        )

    async def recheck(self, reminder_ids: Sequence[int], worker: str) -> list[Recheck]:
        """Right before a send: the reminders this sender still holds, with what their deal
        looks like now (one indexed query)."""
        connection = await self.session.connection()
        rows = await connection.execute(
            sa_select(
                col(Reminder.id),
                col(Reminder.kind),
                col(Reminder.member_id),
                col(Reminder.due_at),
                col(Deal.owner_member_id),
                col(Deal.status),
                col(Deal.next_contact_at),
                col(Deal.winback_at),
                col(Deal.handover_at),
            )
            .join(Deal, col(Deal.id) == col(Reminder.deal_id))
            .where(leases.held_by(Reminder, worker, reminder_ids))
        )
        return [Recheck(*row) for row in rows]  # type: ignore[arg-type]

    async def earliest_foreign_lease(self, worker: str) -> datetime | None:
        """When the first lease another process holds on a reminder runs out."""
        result = await self.session.exec(
            select(func.min(col(Reminder.lease_until))).where(
                col(Reminder.status) == ReminderStatus.SENDING,
                col(Reminder.claimed_by) != worker,
            )
        )
        return result.one()

    async def waiting(self, at: datetime) -> int:
        """Reminders that should have gone by `at` and have not (outside working hours they
        wait for their `not_before`, and do not count)."""
        result = await self.session.exec(
            select(func.count())
            .select_from(Reminder)
            .where(
                col(Reminder.status).in_((ReminderStatus.PENDING, ReminderStatus.SENDING)),
                col(Reminder.due_at) <= at,
                or_(col(Reminder.not_before).is_(None), col(Reminder.not_before) <= at),
            )
        )
        return int(result.one())

    async def mark_sent(
        self, reminder_ids: Sequence[int], *, worker: str, now: datetime, message_id: int | None
    ) -> list[int]:
        return await leases.finish(
            self.session,
            Reminder,
            reminder_ids,
            worker=worker,
            status=ReminderStatus.SENT,
            sent_at=now,
            chat_message_id=message_id,
        )

    async def release(
        self, reminder_ids: Sequence[int], *, worker: str, not_before: datetime | None
    ) -> None:
        """Back to the queue after a failed attempt (to be tried again from `not_before`)."""
        await leases.release(
            self.session, Reminder, reminder_ids, worker=worker, not_before=not_before
        )

    async def drop(self, reminder_ids: Sequence[int], *, worker: str) -> None:
        """The deal changed since it was claimed (closed, rescheduled): it is not sent."""
        await leases.finish(
            self.session, Reminder, reminder_ids, worker=worker, status=ReminderStatus.CANCELLED
        )

    async def route(self, reminder_id: int, member_id: int, *, worker: str, now: datetime) -> None:
        """The deal has another owner now: the reminder goes to them on the next pass."""
        await leases.release(
            self.session,
            Reminder,
            [reminder_id],
            worker=worker,
            not_before=now,
            member_id=member_id,
        )

    async def close(self, reminder_id: int) -> bool:
        """The salesperson acted on a delivered reminder; True the first time only."""
        result = await self.session.exec(
            update(Reminder)
            .where(
                col(Reminder.id) == reminder_id,
                col(Reminder.status).in_([ReminderStatus.SENT, ReminderStatus.PENDING]),
            )
            .values(status=ReminderStatus.DONE)
            .returning(col(Reminder.id))
        )
        return result.first() is not None

    # --- the daily messages ---------------------------------------------------------------
    async def members_for_daily(self) -> list[tuple[Member, User, Team]]:
        rows = await self.session.exec(
            select(Member, User, Team)
            .join(User, col(User.id) == col(Member.user_id))
            .join(Team, col(Team.id) == col(Member.team_id))
            .where(col(Member.active).is_(True), col(User.bot_blocked).is_(False))
        )
        return list(rows)

    async def claim_daily(self, member_id: int, day: date, *, agenda: bool) -> bool:
        """Mark today's agenda (or nudge) as going out; False if it already went out today."""
        column = col(Member.agenda_sent_on) if agenda else col(Member.nudge_sent_on)
        field = "agenda_sent_on" if agenda else "nudge_sent_on"
        result = await self.session.exec(
            update(Member)
            .where(col(Member.id) == member_id, or_(column.is_(None), column < day))
            .values({field: day})
            .returning(col(Member.id))
        )
        return result.first() is not None

    async def claim_digest(self, member_id: int, day: date) -> bool:
        """Mark the day's digest as going out to this manager; False if it already went."""
        result = await self.session.exec(
            update(Member)
            .where(
                col(Member.id) == member_id,
                or_(col(Member.digest_day).is_(None), col(Member.digest_day) < day),
            )
            .values(digest_day=day)
            .returning(col(Member.id))
        )
        return result.first() is not None

    async def day_lists(
        self, member_id: int, *, day_end: datetime, winback_until: datetime
    ) -> list[tuple[Deal, Client, Stage]]:
        """Open deals due by the end of the day or with nothing planned, and lost deals whose
        win-back falls before `winback_until`, for one member."""
        query = (
            select(Deal, Client, Stage)
            .join(Client, col(Client.id) == col(Deal.client_id))
            .join(Stage, col(Stage.id) == col(Deal.stage_id))
            .where(
                col(Deal.owner_member_id) == member_id,
                or_(
                    and_(
                        col(Deal.status) == DealStatus.OPEN,
                        or_(
                            col(Deal.next_contact_at).is_(None),
                            col(Deal.next_contact_at) < day_end,
                        ),
                    ),
                    and_(
                        col(Deal.status) == DealStatus.LOST,
                        col(Deal.winback_at).is_not(None),
                        col(Deal.winback_at) < winback_until,
                    ),
                ),
            )
            .order_by(
                col(Deal.next_contact_at).is_(None), col(Deal.next_contact_at), col(Deal.number)
            )
        )
        return list(await self.session.exec(query))
