"""Teams, their members, pipeline stages and loss reasons."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import Role
from bot.storage.models import LossReason, Member, Stage, Team, User


@dataclass(frozen=True)
class MemberView:
    """A member together with the user it belongs to (names and language)."""

    member: Member
    user: User


class TeamRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, team_id: int) -> Team | None:
        return await self.session.get(Team, team_id)

    async def with_retention(self) -> list[Team]:
        """Teams that erase the personal data of clients closed long ago."""
        rows = await self.session.exec(select(Team).where(col(Team.erase_closed_years) > 0))
        return list(rows)

    async def by_invite_code(self, code: str) -> Team | None:
        result = await self.session.exec(select(Team).where(Team.invite_code == code))
        return result.first()

    async def add(self, team: Team) -> Team:
        self.session.add(team)
        await self.session.flush()
        return team

    async def save(self, *rows: Team | Member | User | Stage | LossReason) -> None:
        self.session.add_all(rows)
        await self.session.flush()

    async def next_deal_number(self, team_id: int) -> int:
        """Per-team sequential number; the counter row update cannot race."""
        result = await self.session.exec(
            update(Team)
            .where(col(Team.id) == team_id)
            .values(deal_counter=col(Team.deal_counter) + 1)
            .returning(col(Team.deal_counter))
        )
        return int(result.scalar_one())

    # --- members -----------------------------------------------------------------------
    async def member(self, team_id: int, user_id: int) -> Member | None:
        result = await self.session.exec(
            select(Member).where(Member.team_id == team_id, Member.user_id == user_id)
        )
        return result.first()

    async def member_by_id(self, member_id: int) -> Member | None:
        return await self.session.get(Member, member_id)

    async def members(self, team_id: int, *, active_only: bool = False) -> list[MemberView]:
        query = (
            select(Member, User)
            .join(User, col(User.id) == col(Member.user_id))
            .where(Member.team_id == team_id)
        )
        if active_only:
            query = query.where(col(Member.active).is_(True))
        query = query.order_by(col(Member.active).desc(), col(Member.joined_at), col(Member.id))
        rows = await self.session.exec(query)
        return [MemberView(member, user) for member, user in rows]

    async def managers(self, team_id: int) -> list[MemberView]:
        return [
            view
            for view in await self.members(team_id, active_only=True)
            if view.member.role == Role.MANAGER
        ]

    async def add_member(self, member: Member) -> Member:
        self.session.add(member)
        await self.session.flush()
        return member

    # --- pipeline ----------------------------------------------------------------------
    async def stages(self, team_id: int, *, include_retired: bool = False) -> list[Stage]:
        query = select(Stage).where(Stage.team_id == team_id)
        if not include_retired:
            query = query.where(col(Stage.retired).is_(False))
        rows = await self.session.exec(query.order_by(col(Stage.position), col(Stage.id)))
        return list(rows)

    async def loss_reasons(
        self, team_id: int, *, include_retired: bool = False
    ) -> list[LossReason]:
        query = select(LossReason).where(LossReason.team_id == team_id)
        if not include_retired:
            query = query.where(col(LossReason.retired).is_(False))
        rows = await self.session.exec(
            query.order_by(col(LossReason.position), col(LossReason.id))
        )
        return list(rows)
