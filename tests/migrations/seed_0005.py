"""0005, time in stage: deal #5 moved on by the bot after 0005, which records
`dealevent.stage_seconds` itself (the migration's backfill ran before, so it must stay as
written), and the update that did it.

Expected at head: unchanged.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from tests.migrations import Seeded, Tables, Writer, moment
from tests.migrations.seed_0001 import AGNIESZKA, DAY, HOUR, TEAM, entered


async def seed(connection: AsyncConnection, tables: Tables) -> list[Seeded]:
    w = Writer(connection, tables)
    team = await w.find("team", name=TEAM)
    aga = await w.find("member", team_id=team, user_id=AGNIESZKA)
    five = await w.find("deal", team_id=team, number=5)
    new_lead = await w.find("stage", team_id=team, key="new_lead")
    contacted = await w.find("stage", team_id=team, key="contacted")
    common: dict[str, Any] = {"team_id": team, "deal_id": five}
    common.update(actor_member_id=aga, owner_member_id=aga)
    await w.insert(
        "dealevent", **common, kind="activity", at=moment("2026-11-17 08:55"), activity="call"
    )
    await w.insert(
        "dealevent",
        **common,
        kind="stage_changed",
        at=moment("2026-11-17 09:00"),
        from_stage_id=new_lead,
        to_stage_id=contacted,
        stage_seconds=6 * DAY + 22 * HOUR,
        data=entered("2026-11-10 11:00"),
    )
    await w.update(
        "deal",
        five,
        stage_id=contacted,
        stage_entered_at=moment("2026-11-17 09:00"),
        updated_at=moment("2026-11-17 09:00"),
    )
    await w.insert("processedupdate", update_id=880_003, at=moment("2026-11-17 09:00"))
    return w.written
