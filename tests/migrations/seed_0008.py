"""0008, workers: a bot process running at the time of the upgrade (the row stays until that
process stops; an upgrade stops every process first, so in life this row would be gone).

Expected at head: unchanged.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from tests.migrations import Seeded, Tables, Writer, moment


async def seed(connection: AsyncConnection, tables: Tables) -> list[Seeded]:
    w = Writer(connection, tables)
    await w.insert(
        "worker",
        id="5f0c2a9e1b7d4c3a",
        host="crm-1",
        pid=4242,
        mode="webhook",
        version="0.2.0",
        sender=True,
        started_at=moment("2026-12-01 06:00"),
        ticked_at=moment("2026-12-01 12:00:15"),
    )
    await w.insert(
        "send_budget",
        id=1,
        tokens=1.5,
        refilled_at=moment("2026-12-01 12:00:15"),
        held_until=None,
    )
    return w.written
