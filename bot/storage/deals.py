"""Clients, deals, their event log and reminders: all queries the floor workflow needs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import DealStatus, ReminderStatus
from bot.storage.models import Client, Deal, DealEvent, LossReason, Member, Reminder, Stage, User
from bot.text import fold


@dataclass
class DealView:
    """A deal with everything its card shows."""

    deal: Deal
    client: Client
    stage: Stage
    owner: Member
    owner_user: User
    loss_reason: LossReason | None = None
    erased_by: User | None = None  # the manager who erased the client's personal data


# Reminders that have not gone out yet: waiting, or held by a sender right now.
WAITING = (ReminderStatus.PENDING, ReminderStatus.SENDING)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class DealRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- clients -----------------------------------------------------------------------
    async def add(self, *rows: Client | Deal | DealEvent | Reminder) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    async def client(self, client_id: int) -> Client | None:
        return await self.session.get(Client, client_id)

    async def clients_with_phone(self, team_id: int, phone: str) -> list[Client]:
        rows = await self.session.exec(
            select(Client).where(Client.team_id == team_id, Client.phone == phone)
        )
        return list(rows)

    # --- deals -------------------------------------------------------------------------
    async def get(self, deal_id: int) -> Deal | None:
        return await self.session.get(Deal, deal_id)

    async def by_number(self, team_id: int, number: int) -> Deal | None:
        rows = await self.session.exec(
            select(Deal).where(Deal.team_id == team_id, Deal.number == number)
        )
        return rows.first()

    async def view(self, deal_id: int) -> DealView | None:
        row = (
            await self.session.exec(
                select(Deal, Client, Stage, Member)
                .join(Client, col(Client.id) == col(Deal.client_id))
                .join(Stage, col(Stage.id) == col(Deal.stage_id))
                .join(Member, col(Member.id) == col(Deal.owner_member_id))
                .where(Deal.id == deal_id)
            )
        ).first()
        if row is None:
            return None
        deal, client, stage, owner = row
        owner_user = await self.session.get(User, owner.user_id)
        assert owner_user is not None
        reason = (
            await self.session.get(LossReason, deal.loss_reason_id)
            if deal.loss_reason_id
            else None
        )
        erased_by = None
        if client.erased_by_member_id is not None:
            eraser = await self.session.get(Member, client.erased_by_member_id)
            erased_by = await self.session.get(User, eraser.user_id) if eraser else None
        return DealView(deal, client, stage, owner, owner_user, reason, erased_by)

    async def deals_of_client(self, client_id: int) -> list[Deal]:
        rows = await self.session.exec(
            select(Deal).where(Deal.client_id == client_id).order_by(col(Deal.number))
        )
        return list(rows)

    async def open_deals(
        self, team_id: int, owner_member_id: int | None = None
    ) -> list[tuple[Deal, Client, Stage]]:
        """Open deals by pipeline order, then by next planned contact (none last)."""
        query = (
            select(Deal, Client, Stage)
            .join(Client, col(Client.id) == col(Deal.client_id))
            .join(Stage, col(Stage.id) == col(Deal.stage_id))
            .where(Deal.team_id == team_id, Deal.status == DealStatus.OPEN)
        )
        if owner_member_id is not None:
            query = query.where(Deal.owner_member_id == owner_member_id)
        query = query.order_by(
            col(Stage.position),
            col(Deal.next_contact_at).is_(None),
            col(Deal.next_contact_at),
            col(Deal.number),
        )
        return list(await self.session.exec(query))

    async def search(
        self,
        team_id: int,
        *,
        text: str,
        phone_digits: str | None,
        number: int | None,
        owner_member_id: int | None,
        limit: int,
    ) -> list[tuple[Deal, Client, Stage]]:
        """Deals whose client name, company or phone matches, or whose number is `number`;
        open deals first, newest first."""
        conditions: list[ColumnElement[bool]] = []
        folded = fold(text) if text else ""
        if folded:
            # Stored folded keys, the query folded the same way: "swiatek" and "świątek" find
            # "Świątek", "волков" finds "Волков", on SQLite too (its lower() folds ASCII only).
            pattern = f"%{_escape_like(folded)}%"
            conditions += [
                col(Client.search_key).like(pattern, escape="\\"),
                col(Deal.model_key).like(pattern, escape="\\"),
            ]
        if phone_digits:
            conditions.append(col(Client.phone).like(f"%{phone_digits}%"))
        if number is not None:
            conditions.append(col(Deal.number) == number)
        if not conditions:
            return []
        query = (
            select(Deal, Client, Stage)
            .join(Client, col(Client.id) == col(Deal.client_id))
            .join(Stage, col(Stage.id) == col(Deal.stage_id))
            .where(Deal.team_id == team_id, or_(*conditions))
        )
        if owner_member_id is not None:
            query = query.where(Deal.owner_member_id == owner_member_id)
        query = query.order_by(col(Deal.status) != DealStatus.OPEN, col(Deal.number).desc())
        return list(await self.session.exec(query.limit(limit)))

    async def carried_by(self, member_id: int) -> list[Deal]:
        """The member's open deals, and any deal with a pending reminder of theirs."""
        reminded = (
            select(col(Reminder.deal_id))
            .where(
                col(Reminder.member_id) == member_id,
                col(Reminder.status).in_(WAITING),
            )
            .scalar_subquery()
        )
        rows = await self.session.exec(
            select(Deal)
            .where(
                or_(
                    and_(
                        col(Deal.owner_member_id) == member_id, col(Deal.status) == DealStatus.OPEN
                    ),
                    col(Deal.id).in_(reminded),
                )
            )
            .order_by(col(Deal.number))
        )
        return list(rows)

    async def count_pending(self, deal_id: int, member_id: int) -> int:
        result = await self.session.exec(
            select(func.count())
            .select_from(Reminder)
            .where(
                col(Reminder.deal_id) == deal_id,
                col(Reminder.member_id) == member_id,
                col(Reminder.status).in_(WAITING),
            )
        )
        return int(result.one())

    async def pending_of_leavers(self, team_id: int) -> list[tuple[int, int]]:
        """(member id, reminders) of the team's people whose access is off and who still have
        pending reminders: nobody was picked to take them over yet."""
        rows = await self.session.exec(
            select(col(Reminder.member_id), func.count())
            .join(Member, col(Member.id) == col(Reminder.member_id))
            .where(
                col(Reminder.team_id) == team_id,
                col(Reminder.status).in_(WAITING),
                col(Member.active).is_(False),
            )
            .group_by(col(Reminder.member_id))
            .order_by(col(Reminder.member_id))
        )
        return [(int(member), int(count)) for member, count in rows]

    async def owned_open(self, member_id: int) -> list[Deal]:
        rows = await self.session.exec(
            select(Deal).where(Deal.owner_member_id == member_id, Deal.status == DealStatus.OPEN)
        )
        return list(rows)

    # --- events ------------------------------------------------------------------------
    async def event(self, event_id: int) -> DealEvent | None:
        return await self.session.get(DealEvent, event_id)

    async def events(self, deal_id: int, *, offset: int, limit: int) -> list[DealEvent]:
        rows = await self.session.exec(
            select(DealEvent)
            .where(DealEvent.deal_id == deal_id)
            .order_by(col(DealEvent.at).desc(), col(DealEvent.id).desc())
            .offset(offset)
            .limit(limit)
        )
        return list(rows)

    async def count_events(self, deal_id: int) -> int:
        result = await self.session.exec(
            select(func.count()).select_from(DealEvent).where(DealEvent.deal_id == deal_id)
        )
        return int(result.one())

    async def events_after(self, deal_id: int, event_id: int, kinds: Sequence[str]) -> int:
        result = await self.session.exec(
            select(func.count())
            .select_from(DealEvent)
            .where(
                DealEvent.deal_id == deal_id,
                col(DealEvent.id) > event_id,
                col(DealEvent.kind).in_(kinds),
            )
        )
        return int(result.one())

    # --- reminders ---------------------------------------------------------------------
    async def cancel_reminders(self, deal_id: int, kinds: Sequence[str]) -> None:
        """Waiting reminders of these kinds are void, also one a sender holds right now (its
        check before the send then drops it)."""
        await self.session.exec(
            update(Reminder)
            .where(
                col(Reminder.deal_id) == deal_id,
                col(Reminder.kind).in_(kinds),
                col(Reminder.status).in_(WAITING),
            )
            .values(status=ReminderStatus.CANCELLED)
        )

    async def move_reminders(self, deal_id: int, member_id: int) -> None:
        """Waiting reminders go to the deal's new owner (one being sent is re-routed by the
        sender's check before the send)."""
        await self.session.exec(
            update(Reminder)
            .where(col(Reminder.deal_id) == deal_id, col(Reminder.status).in_(WAITING))
            .values(member_id=member_id)
        )

    async def pending_reminders(self, deal_id: int) -> list[Reminder]:
        rows = await self.session.exec(
            select(Reminder)
            .where(Reminder.deal_id == deal_id, Reminder.status == ReminderStatus.PENDING)
            .order_by(col(Reminder.due_at))
        )
        return list(rows)

    async def touch(self, deal: Deal, now: datetime) -> None:
        deal.updated_at = now
        deal.version += 1
        self.session.add(deal)
        await self.session.flush()
