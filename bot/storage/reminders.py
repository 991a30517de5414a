"""Reminders on their way out: find what is due, claim it (so no two senders take the same
row), and record how each delivery went. The same statements work on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TypeVar

from sqlalchemy import and_, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import DealStatus, ReminderStatus
from bot.storage.models import Client, Deal, Member, Reminder, Stage, Team, User

_Row = TypeVar("_Row", User, Team, Stage)


@dataclass
class DueReminder:
    """A reminder with everything needed to decide about it and to render it."""

    reminder: Reminder
    deal: Deal
    client: Client
    stage: Stage
    member: Member
    user: User
    team: Team


class ReminderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, reminder_id: int) -> Reminder | None:
        return await self.session.get(Reminder, reminder_id)

    async def reclaim_stale(self, older_than: datetime) -> None:
        """Claims left by a sender that died (SIGKILL, power cut) go back to the queue."""
        await self.session.exec(
            update(Reminder)
            .where(
                col(Reminder.status) == ReminderStatus.SENDING,
                col(Reminder.claimed_at) < older_than,
            )
            .values(status=ReminderStatus.PENDING)
        )

    async def due(self, now: datetime, limit: int) -> list[DueReminder]:
        """Pending reminders due by `now` for people who can receive them, oldest first."""
        query = (
            select(Reminder, Deal, Client, Member)
            .join(Deal, col(Deal.id) == col(Reminder.deal_id))
            .join(Client, col(Client.id) == col(Deal.client_id))
            .join(Member, col(Member.id) == col(Reminder.member_id))
            .join(User, col(User.id) == col(Member.user_id))
            .where(
                col(Reminder.status) == ReminderStatus.PENDING,
                col(Reminder.due_at) <= now,
                or_(col(Reminder.not_before).is_(None), col(Reminder.not_before) <= now),
                col(Member.active).is_(True),
                # In SQL, before the LIMIT: people who blocked the bot must not starve the rest.
                col(User.bot_blocked).is_(False),
            )
            .order_by(col(Reminder.due_at), col(Reminder.id))
            .limit(limit)
        )
        rows = list(await self.session.exec(query))
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

    async def claim(self, reminder_ids: Sequence[int], now: datetime) -> list[int]:
        """Take pending reminders for sending; a row another sender took first is skipped."""
        if not reminder_ids:
            return []
        result = await self.session.exec(
            update(Reminder)
            .where(
                col(Reminder.id).in_(reminder_ids),
                col(Reminder.status) == ReminderStatus.PENDING,
            )
            .values(
                status=ReminderStatus.SENDING,
                claimed_at=now,
                attempts=col(Reminder.attempts) + 1,
            )
            .returning(col(Reminder.id))
        )
        return [int(row[0]) for row in result]

    async def mark_sent(self, reminder_id: int, now: datetime, message_id: int | None) -> None:
        await self.session.exec(
            update(Reminder)
            .where(col(Reminder.id) == reminder_id, col(Reminder.status) == ReminderStatus.SENDING)
            .values(status=ReminderStatus.SENT, sent_at=now, chat_message_id=message_id)
        )

    async def release(self, reminder_id: int, not_before: datetime | None) -> None:
        """Back to the queue after a failed attempt (to be tried again from `not_before`)."""
        await self.session.exec(
            update(Reminder)
            .where(col(Reminder.id) == reminder_id, col(Reminder.status) == ReminderStatus.SENDING)
            .values(status=ReminderStatus.PENDING, not_before=not_before)
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
