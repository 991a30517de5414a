"""What /export reads: a team's deals and events, a page at a time, as plain Core rows.

Pages are keyset-paginated (`after` is the last key of the previous page) so that each one is an
index range, however far into the team's history it is: deals by their number (the team's
unique `(team_id, number)` index, the order the export lists them in), events by id (their
order in time). The export reads the last key of both at its start and stops there, so what
comes in while it runs waits for the next export instead of making the parts disagree.

Rows are tuples in the order of `DEAL_COLUMNS` / `EVENT_COLUMNS`; no ORM object is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Executable, func
from sqlalchemy import select as sa_select
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.models import Client, Deal, DealEvent, Member, Reminder, User

DEAL_COLUMNS = (
    "number",
    "client",
    "phone",
    "company",
    "email",
    "source",
    "stage_id",
    "status",
    "value_minor",
    "currency",
    "owner_member_id",
    "next_contact_at",
    "loss_reason_id",
    "loss_comment",
    "winback_at",
    "created_at",
    "closed_at",
    "model",
)
EVENT_COLUMNS = (
    "id",
    "number",
    "at",
    "kind",
    "actor_member_id",
    "stage_id",
    "amount_minor",
    "activity",
    "text",
)


@dataclass(frozen=True)
class ExportBounds:
    """The last deal number and event id when the export began (0: none)."""

    last_number: int
    last_event_id: int


@dataclass(frozen=True)
class Person:
    member_id: int
    user_id: int
    first_name: str
    last_name: str | None
    username: str | None


class ExportQueries:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _rows(self, statement: Executable) -> Sequence[Any]:
        connection = await self.session.connection()
        return (await connection.execute(statement)).all()

    async def bounds(self, team_id: int) -> ExportBounds:
        numbers = await self._rows(
            sa_select(func.max(col(Deal.number))).where(col(Deal.team_id) == team_id)
        )
        events = await self._rows(
            sa_select(func.max(col(DealEvent.id))).where(col(DealEvent.team_id) == team_id)
        )
        return ExportBounds(int(numbers[0][0] or 0), int(events[0][0] or 0))

    async def people(self, team_id: int) -> list[Person]:
        """Every member the team ever had (a deal keeps the owner who has left)."""
        rows = await self._rows(
            sa_select(
                col(Member.id),
                col(User.id),
                col(User.first_name),
                col(User.last_name),
                col(User.username),
            )
            .join(User, col(User.id) == col(Member.user_id))
            .where(col(Member.team_id) == team_id)
        )
        return [Person(*row) for row in rows]

    async def deals(
        self, team_id: int, after: int, last: int, limit: int
    ) -> Sequence[tuple[Any, ...]]:
        """Deals numbered after `after` up to `last`, in number order, at most `limit`."""
        return await self._rows(
            self._deal_columns()
            .where(
                col(Deal.team_id) == team_id,
                col(Deal.number) > after,
                col(Deal.number) <= last,
            )
            .order_by(col(Deal.number))
            .limit(limit)
        )

    async def client_deals(self, team_id: int, client_id: int) -> Sequence[tuple[Any, ...]]:
        """One client's deals (an access request): the export's columns, then the next step
        and the last note."""
        return await self._rows(
            self._deal_columns(col(Deal.next_step), col(Deal.last_note))
            .where(col(Deal.team_id) == team_id, col(Deal.client_id) == client_id)
            .order_by(col(Deal.number))
        )

    async def client_events(self, team_id: int, client_id: int) -> Sequence[tuple[Any, ...]]:
        """Every event of one client's deals, in time order: the export's columns, then the
        event's data (an edit's old and new value, a file's caption)."""
        return await self._rows(
            self._event_columns()
            .add_columns(col(DealEvent.data))
            .where(col(Deal.team_id) == team_id, col(Deal.client_id) == client_id)
            .order_by(col(DealEvent.id))
        )

    async def client_reminders(self, team_id: int, client_id: int) -> Sequence[tuple[Any, ...]]:
        """(number, kind, due, status, note) of every reminder of one client's deals."""
        return await self._rows(
            sa_select(
                col(Deal.number),
                col(Reminder.kind),
                col(Reminder.due_at),
                col(Reminder.status),
                col(Reminder.note),
            )
            .join(Deal, col(Deal.id) == col(Reminder.deal_id))
            .where(col(Deal.team_id) == team_id, col(Deal.client_id) == client_id)
            .order_by(col(Reminder.id))
        )

    @staticmethod
    def _deal_columns(*extra: Any) -> Any:
        return (
            sa_select(
                col(Deal.number),
                col(Client.name),
                col(Client.phone),
                col(Client.company),
                col(Client.email),
                col(Client.source),
                col(Deal.stage_id),
                col(Deal.status),
                col(Deal.value_minor),
                col(Deal.currency),
                col(Deal.owner_member_id),
                col(Deal.next_contact_at),
                col(Deal.loss_reason_id),
                col(Deal.loss_comment),
                col(Deal.winback_at),
                col(Deal.created_at),
                col(Deal.closed_at),
                col(Deal.model),
                *extra,
            )
        ).join(Client, col(Client.id) == col(Deal.client_id))

    @staticmethod
    def _event_columns() -> Any:
        return sa_select(
            col(DealEvent.id),
            col(Deal.number),
            col(DealEvent.at),
            col(DealEvent.kind),
            col(DealEvent.actor_member_id),
            func.coalesce(col(DealEvent.to_stage_id), col(DealEvent.from_stage_id)),
            col(DealEvent.amount_minor),
            col(DealEvent.activity),
            col(DealEvent.text),
        ).join(Deal, col(Deal.id) == col(DealEvent.deal_id))

    async def events(
        self, team_id: int, after: int, last: int, limit: int
    ) -> Sequence[tuple[Any, ...]]:
        """Events with ids after `after` up to `last`, in id order, at most `limit`; the stage
        is the one moved to (or from, for a close)."""
        return await self._rows(
            self._event_columns()
            .where(
                # `+ 0`: not through an index on the team (SQLite would then sort all of the
                # team's events for every page), but along the primary key from `after`.
                col(DealEvent.team_id) + 0 == team_id,
                col(DealEvent.id) > after,
                col(DealEvent.id) <= last,
            )
            .order_by(col(DealEvent.id))
            .limit(limit)
        )
