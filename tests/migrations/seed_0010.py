"""0010, audit and retention: a manager's export and a role change in the audit, and a team
that erases the personal data of clients closed more than five years ago.

Expected at head: unchanged.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from tests.migrations import Seeded, Tables, Writer, moment
from tests.migrations.seed_0001 import AGNIESZKA, PIOTR, TEAM


async def seed(connection: AsyncConnection, tables: Tables) -> list[Seeded]:
    w = Writer(connection, tables)
    team = await w.find("team", name=TEAM)
    aga = await w.find("member", team_id=team, user_id=AGNIESZKA)
    piotr = await w.find("member", team_id=team, user_id=PIOTR)
    await w.update("team", team, erase_closed_years=5)
    await w.insert(
        "audit",
        team_id=team,
        at=moment("2026-12-03 09:00"),
        actor_member_id=aga,
        action="export",
        member_id=None,
        count=14,
        detail={"events": 52},
    )
    await w.insert(
        "audit",
        team_id=team,
        at=moment("2026-12-03 09:05"),
        actor_member_id=aga,
        action="role",
        member_id=piotr,
        count=None,
        detail={"role": "manager"},
    )
    return w.written
