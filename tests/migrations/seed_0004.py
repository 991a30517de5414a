"""0004, monthly targets: the team's and its salespeople's targets for November (one stored
from a forged button, far above what can be typed), and a second dealership (the Kraków branch
of another owner) with its own (forged) target, people, pipeline and a sale in the same month,
which none of the first team's figures may count.

Expected at head: 0005 fills in `stage_seconds` of the branch's win; 0006 caps the forged
targets to 10^14 minor units.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from tests.migrations import Seeded, Tables, Writer, moment
from tests.migrations.seed_0001 import (
    AGNIESZKA,
    BEFORE_VERSIONS,
    DAY,
    HOUR,
    PIOTR,
    TEAM,
    catalog,
    snapshot,
)
from tests.migrations.seed_0003 import CAP

WOJCIECH = 506789012
BRANCH = "Auto Kraków Dębniki"


async def seed(connection: AsyncConnection, tables: Tables) -> list[Seeded]:
    w = Writer(connection, tables)
    team = await w.find("team", name=TEAM)
    await w.update("team", team, target_deals=10, target_minor=150_000_000)
    aga = await w.find("member", team_id=team, user_id=AGNIESZKA)
    piotr = await w.find("member", team_id=team, user_id=PIOTR)
    await w.update("member", aga, target_deals=5, target_minor=75_000_000)
    await w.update("member", piotr, {"target_minor": CAP}, target_deals=4, target_minor=5 * 10**15)

    branch = await w.insert(
        "team",
        {"target_minor": CAP},
        name=BRANCH,
        timezone="Europe/Warsaw",
        currency="PLN",
        country="PL",
        digest_hour=19,
        work_days=0b0011111,
        work_start_minute=8 * 60,
        work_end_minute=17 * 60,
        invite_code="Kr4kowDebn1k1xYz",
        target_deals=8,
        target_minor=2 * 10**15,  # forged too
        deal_counter=1,
        created_at=moment("2026-11-15 09:00"),
    )
    await w.insert(
        "app_user",
        id=WOJCIECH,
        first_name="Wojciech",
        last_name="Pawlak",
        username=None,
        language="pl",
        language_chosen=True,
        team_id=branch,
        bot_blocked=False,
        created_at=moment("2026-11-15 08:55"),
        last_seen_at=moment("2026-11-19 12:00"),
    )
    boss = await w.insert(
        "member",
        team_id=branch,
        user_id=WOJCIECH,
        role="manager",
        active=True,
        morning_agenda=True,
        joined_at=moment("2026-11-15 09:00"),
        deactivated_at=None,
        target_deals=3,
        target_minor=None,
    )
    stages, _ = await catalog(w, branch)
    client = await w.insert(
        "client",
        team_id=branch,
        name="Henryk Mazurek",
        phone="+48126543210",
        company=None,
        email=None,
        source="walk_in",
        created_at=moment("2026-11-16 10:00"),
    )
    deal = await w.insert(
        "deal",
        BEFORE_VERSIONS,
        team_id=branch,
        number=1,
        client_id=client,
        owner_member_id=boss,
        stage_id=stages["new_lead"],
        status="won",
        value_minor=9_900_000,
        currency="PLN",
        stage_entered_at=moment("2026-11-16 10:00"),
        created_at=moment("2026-11-16 10:00"),
        updated_at=moment("2026-11-19 12:00"),
        closed_at=moment("2026-11-19 12:00"),
    )
    common: dict[str, Any] = {"team_id": branch, "deal_id": deal}
    common.update(actor_member_id=boss, owner_member_id=boss)
    await w.insert(
        "dealevent",
        {"stage_seconds": None},
        **common,
        kind="created",
        at=moment("2026-11-16 10:00"),
        to_stage_id=stages["new_lead"],
        data={"source": "walk_in"},
    )
    await w.insert(
        "dealevent",
        {"stage_seconds": None},
        **common,
        kind="activity",
        at=moment("2026-11-16 10:30"),
        activity="test_drive",
    )
    await w.insert(
        "dealevent",
        {"stage_seconds": 3 * DAY + 2 * HOUR},
        **common,
        kind="won",
        at=moment("2026-11-19 12:00"),
        from_stage_id=stages["new_lead"],
        amount_minor=9_900_000,
        data=snapshot(None, None, None),
    )
    return w.written
