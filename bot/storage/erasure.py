"""Erasing a client's personal data in place (see `bot.services.erasure` for what and why).

Rows stay, so numbers, stages, amounts, dates and reasons (the figures) do not change; what
could name or reach the person is replaced: the client's name (by "—"), phone, e-mail, company
and search key; each of their deals' next step, last note and loss comment; the text of every
event of those deals and, of its data, everything but plain numbers and flags and a few keys
known to hold none (old and new values of edits, file ids and captions go); reminder notes,
with the pending reminders cancelled; conversation states that hold one of the deals.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import DealStatus, ReminderStatus
from bot.storage.models import (
    Client,
    ConversationState,
    Deal,
    DealEvent,
    Erasure,
    Member,
    Reminder,
)

ERASED_NAME = "—"
# Event data kept as it is: what the figures and the history's shape need, never personal.
SAFE_KEYS = frozenset(
    {"reminder", "kind", "late", "to", "from", "field", "stage", "source", "reason", "status"}
)


def _strip(data: dict[str, Any] | None) -> dict[str, Any] | None:
    if not data:
        return data
    kept = {
        key: value
        for key, value in data.items()
        if (key in SAFE_KEYS and not isinstance(value, dict | list))
        or isinstance(value, bool | int | float)
        or value is None
    }
    if "old" in data or "new" in data:  # an edit: which field changed stays, not the values
        kept = {k: v for k, v in kept.items() if k not in ("old", "new")}
    return {**kept, "erased": True}


class ErasureRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def client(self, client_id: int) -> Client | None:
        return await self.session.get(Client, client_id)

    async def deal_ids(self, client_id: int) -> list[int]:
        rows = await self.session.exec(select(Deal.id).where(col(Deal.client_id) == client_id))
        return [int(row) for row in rows if row is not None]

    async def erase(
        self, client: Client, *, now: datetime, by_member_id: int | None
    ) -> Sequence[int]:
        """Erase the client's personal data; returns the ids of their deals."""
        assert client.id is not None
        deal_ids = await self.deal_ids(client.id)
        client.name, client.phone, client.email, client.company = ERASED_NAME, None, None, None
        client.search_key = ""
        client.erased_at, client.erased_by_member_id = now, by_member_id
        self.session.add(client)
        if deal_ids:
            await self.session.exec(
                update(Deal)
                .where(col(Deal.id).in_(deal_ids))
                .values(
                    next_step=None, last_note=None, loss_comment=None, version=Deal.version + 1
                )
            )
            events = await self.session.exec(
                select(DealEvent).where(col(DealEvent.deal_id).in_(deal_ids))
            )
            for event in events:
                event.text = None
                event.data = _strip(event.data)
                self.session.add(event)
            await self.session.exec(
                update(Reminder).where(col(Reminder.deal_id).in_(deal_ids)).values(note=None)
            )
            await self.session.exec(
                update(Reminder)
                .where(
                    col(Reminder.deal_id).in_(deal_ids),
                    col(Reminder.status).in_((ReminderStatus.PENDING, ReminderStatus.SENDING)),
                )
                .values(status=ReminderStatus.CANCELLED, claimed_by=None, lease_until=None)
            )
            await self._forget_states(client.team_id, set(deal_ids))
        self.session.add(
            Erasure(
                team_id=client.team_id,
                client_id=client.id,
                client_created_at=client.created_at,
                at=now,
                by_member_id=by_member_id,
            )
        )
        await self.session.flush()
        return deal_ids

    async def _forget_states(self, team_id: int, deal_ids: set[int]) -> None:
        """Conversation states of the team's people that hold one of the deals (a half-typed
        note, an edit) go: their text may name the client."""
        users = select(Member.user_id).where(col(Member.team_id) == team_id)
        states = await self.session.exec(
            select(ConversationState).where(col(ConversationState.user_id).in_(users))
        )
        doomed = [
            state.user_id
            for state in states
            if any(
                isinstance(value, int) and value in deal_ids
                for key, value in state.data.items()
                if key in ("deal", "deal_id", "id")
            )
        ]
        if doomed:
            await self.session.exec(
                delete(ConversationState).where(col(ConversationState.user_id).in_(doomed))
            )

    async def expired_clients(self, team_id: int, before: datetime, limit: int) -> list[Client]:
        """Clients of the team not erased yet whose every deal closed before `before`, with
        nothing planned for them any more (no pending reminder, such as a win-back)."""
        newer_or_open = select(Deal.id).where(
            col(Deal.client_id) == col(Client.id),
            or_(col(Deal.status) == DealStatus.OPEN, col(Deal.closed_at) >= before),
        )
        planned = (
            select(Reminder.id)
            .join(Deal, col(Deal.id) == col(Reminder.deal_id))
            .where(
                col(Deal.client_id) == col(Client.id),
                col(Reminder.status).in_((ReminderStatus.PENDING, ReminderStatus.SENDING)),
            )
        )
        has_deal = select(Deal.id).where(col(Deal.client_id) == col(Client.id))
        rows = await self.session.exec(
            select(Client)
            .where(
                col(Client.team_id) == team_id,
                col(Client.erased_at).is_(None),
                has_deal.exists(),
                ~newer_or_open.exists(),
                ~planned.exists(),
            )
            .order_by(col(Client.id))
            .limit(limit)
        )
        return list(rows)

    async def entries(self, team_id: int | None = None) -> list[Erasure]:
        query = select(Erasure).order_by(col(Erasure.id))
        if team_id is not None:
            query = query.where(col(Erasure.team_id) == team_id)
        return list(await self.session.exec(query))
