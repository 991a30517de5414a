"""0003, digest bookkeeping and the undo index: the manager's last digest day
(`member.digest_day`), and deal #7, a fleet enquiry whose value was stored from a forged button
(far above what can be typed) and whose win was taken back with ↩️.

Expected at head: 0005 fills in `stage_seconds`; 0006 caps the forged amounts (the deal's
value and the events' amounts) to 10^14 minor units.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from tests.migrations import Seeded, Tables, Writer, moment
from tests.migrations.seed_0001 import (
    BEFORE_VERSIONS,
    DAY,
    HOUR,
    MAREK,
    PIOTR,
    TEAM,
    entered,
    snapshot,
)

# Stored from a forged button before 0006; 0006 caps stored amounts to 10^14 minor units.
FORGED = 987_654_321_000_000_000
CAP = 10**14


async def seed(connection: AsyncConnection, tables: Tables) -> list[Seeded]:
    w = Writer(connection, tables)
    team = await w.find("team", name=TEAM)
    marek = await w.find("member", team_id=team, user_id=MAREK)
    piotr = await w.find("member", team_id=team, user_id=PIOTR)
    await w.update("member", marek, digest_day=date(2026, 11, 19))
    stages = {
        key: await w.find("stage", team_id=team, key=key) for key in ("new_lead", "offer_sent")
    }
    client = await w.insert(
        "client",
        team_id=team,
        name="Krzysztof Szymański",
        phone="+48730400500",
        company="Flota Szymański Sp. z o.o.",
        email="flota@szymanski.com.pl",
        source="website",
        created_at=moment("2026-11-12 10:00"),
    )
    seven = await w.insert(
        "deal",
        {**BEFORE_VERSIONS, "value_minor": CAP},
        team_id=team,
        number=7,
        client_id=client,
        owner_member_id=piotr,
        stage_id=stages["offer_sent"],
        status="open",
        value_minor=FORGED,
        currency="PLN",
        next_contact_at=moment("2026-11-24 09:00"),
        next_step="Prezentacja dla zarządu",
        stage_entered_at=moment("2026-11-12 11:00"),
        created_at=moment("2026-11-12 10:00"),
        updated_at=moment("2026-11-13 10:00:30"),
        closed_at=None,
    )
    common: dict[str, Any] = {"team_id": team, "deal_id": seven}
    common.update(actor_member_id=piotr, owner_member_id=piotr)
    await w.insert(
        "dealevent",
        {"stage_seconds": None, "amount_minor": CAP},
        **common,
        kind="created",
        at=moment("2026-11-12 10:00"),
        to_stage_id=stages["new_lead"],
        amount_minor=FORGED,
        data={"source": "website"},
    )
    # Straight to "offer sent": the stages skipped count as passed in the funnel.
    await w.insert(
        "dealevent",
        {"stage_seconds": HOUR},
        **common,
        kind="stage_changed",
        at=moment("2026-11-12 11:00"),
        from_stage_id=stages["new_lead"],
        to_stage_id=stages["offer_sent"],
        data=entered("2026-11-12 10:00"),
    )
    await w.insert(
        "dealevent",
        {"stage_seconds": None, "amount_minor": CAP},
        **common,
        kind="activity",
        at=moment("2026-11-12 11:05"),
        activity="offer_sent",
        amount_minor=FORGED,
    )
    won = await w.insert(
        "dealevent",
        {"stage_seconds": DAY - HOUR, "amount_minor": CAP},
        **common,
        kind="won",
        at=moment("2026-11-13 10:00"),
        from_stage_id=stages["offer_sent"],
        amount_minor=FORGED,
        data=snapshot("2026-11-24 09:00", "Prezentacja dla zarządu", FORGED),
    )
    await w.insert(
        "dealevent",
        {"stage_seconds": None},
        **common,
        kind="undone",
        at=moment("2026-11-13 10:00:30"),
        undoes_event_id=won,
    )
    await w.update("team", team, deal_counter=7)
    return w.written
