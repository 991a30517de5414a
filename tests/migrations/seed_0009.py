"""0009, erasure: a client whose personal data a manager erased (the row and its figures stay),
and the erasure's record (who and when, nothing personal).

Expected at head: unchanged.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from tests.migrations import Seeded, Tables, Writer, moment
from tests.migrations.seed_0001 import AGNIESZKA, TEAM


async def seed(connection: AsyncConnection, tables: Tables) -> list[Seeded]:
    w = Writer(connection, tables)
    team = await w.find("team", name=TEAM)
    aga = await w.find("member", team_id=team, user_id=AGNIESZKA)
    client = await w.insert(
        "client",
        team_id=team,
        name="—",
        phone=None,
        company=None,
        source="phone",
        search_key="",
        created_at=moment("2026-11-03 10:00"),
        erased_at=moment("2026-12-01 16:00"),
        erased_by_member_id=aga,
    )
    await w.insert(
        "erasure",
        team_id=team,
        client_id=client,
        client_created_at=moment("2026-11-03 10:00"),
        at=moment("2026-12-01 16:00"),
        by_member_id=aga,
    )
    return w.written
