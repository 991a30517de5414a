"""A day's digest, morning agenda or nudge for one member while it goes out: claimed with a
lease, with the number of its parts already sent, so a failure or a crash in the middle sends
only the rest. The member's `digest_day` / `agenda_sent_on` / `nudge_sent_on` say which day was
the last one done; this table says what is in flight."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import or_, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import DailyKind, SendStatus
from bot.storage import leases
from bot.storage.models import DailySend, Member

# Which member column records the last day a kind of daily message was done.
DAY_COLUMN = {
    DailyKind.DIGEST: "digest_day",
    DailyKind.AGENDA: "agenda_sent_on",
    DailyKind.NUDGE: "nudge_sent_on",
}


class DailySendRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def take(
        self,
        member_id: int,
        kind: DailyKind,
        day: date,
        *,
        worker: str,
        now: datetime,
        until: datetime,
    ) -> DailySend | None:
        """Claim this member's message of the day; None when another sender has it, it is
        waiting for a retry, or it is already done."""
        dialect = (await self.session.connection()).dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        created = await self.session.exec(
            insert(DailySend)
            .values(
                member_id=member_id,
                kind=kind,
                day=day,
                status=SendStatus.SENDING,
                parts_sent=0,
                attempts=1,
                claimed_by=worker,
                lease_until=until,
                created_at=now,
            )
            .on_conflict_do_nothing()
            .returning(col(DailySend.id))
        )
        row_id = created.scalar()
        if row_id is None:
            existing = (
                await self.session.exec(
                    select(DailySend.id).where(
                        DailySend.member_id == member_id,
                        DailySend.kind == kind,
                        DailySend.day == day,
                    )
                )
            ).first()
            if existing is None:
                return None
            taken = await leases.claim(
                self.session, DailySend, [existing], worker=worker, now=now, until=until
            )
            if not taken:
                return None
            row_id = taken[0]
        row = await self.session.get(DailySend, row_id, populate_existing=True)
        return row

    async def progress(self, send_id: int, parts_sent: int, *, worker: str) -> None:
        await self.session.exec(
            update(DailySend)
            .where(leases.held_by(DailySend, worker, [send_id]))
            .values(parts_sent=parts_sent)
        )

    async def done(self, send: DailySend, *, worker: str, now: datetime) -> None:
        """Every part went out: the day is done for this member."""
        await leases.finish(
            self.session,
            DailySend,
            [send.id or 0],
            worker=worker,
            status=SendStatus.SENT,
            sent_at=now,
        )
        await self._mark_day(send)

    async def give_up(self, send: DailySend, *, worker: str, status: SendStatus) -> None:
        """It cannot be delivered (the person blocked the bot) or keeps failing: the day is
        closed for this member without it."""
        await leases.finish(self.session, DailySend, [send.id or 0], worker=worker, status=status)
        await self._mark_day(send)

    async def release(self, send_id: int, *, worker: str, not_before: datetime) -> None:
        await leases.release(
            self.session, DailySend, [send_id], worker=worker, not_before=not_before
        )

    async def _mark_day(self, send: DailySend) -> None:
        name = DAY_COLUMN[DailyKind(send.kind)]
        column = col(getattr(Member, name))
        await self.session.exec(
            update(Member)
            .where(col(Member.id) == send.member_id, or_(column.is_(None), column < send.day))
            .values({name: send.day})
        )
