"""0007, search keys, car model, last activity, default source: what the bot writes since.

A client the app wrote with its folded key (`client.search_key`), on a deal (won in December,
outside the figures' November) with the car the client wants (`deal.model`, folded in
`deal.model_key`) and the last thing done (`deal.last_activity`, `last_activity_at`);
Agnieszka's lead source for quick entries (`member.default_source`).

Expected at head: unchanged. (The migration's own backfill of earlier clients and deals is
checked in `test_the_migrations_change_what_they_are_meant_to`.)
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from tests.migrations import Seeded, Tables, Writer, moment
from tests.migrations.seed_0001 import AGNIESZKA, TEAM


async def seed(connection: AsyncConnection, tables: Tables) -> list[Seeded]:
    w = Writer(connection, tables)
    team = await w.find("team", name=TEAM)
    aga = await w.find("member", team_id=team, user_id=AGNIESZKA)
    new_lead = await w.find("stage", team_id=team, key="new_lead")
    await w.update("member", aga, default_source="walk_in")
    client = await w.insert(
        "client",
        team_id=team,
        name="Ştefan Ţurcanu",
        phone="+40722123456",
        company="Auto Ţară SRL",
        source="walk_in",
        search_key="stefan turcanu auto tara srl",
        created_at=moment("2026-12-01 09:00"),
    )
    deal = await w.insert(
        "deal",
        team_id=team,
        number=9,
        client_id=client,
        owner_member_id=aga,
        stage_id=new_lead,
        status="won",  # won in December: November's figures, and open deals, stay as they were
        closed_at=moment("2026-12-01 11:00"),
        value_minor=11_850_000,
        currency="PLN",
        model="Škoda Octavia RS",
        model_key="skoda octavia rs",
        last_activity="test_drive",
        last_activity_at=moment("2026-12-01 10:15"),
        stage_entered_at=moment("2026-12-01 09:00"),
        created_at=moment("2026-12-01 09:00"),
        updated_at=moment("2026-12-01 10:15"),
        version=3,
    )
    await w.update("team", team, deal_counter=9)
    await w.insert(
        "dealevent",
        team_id=team,
        deal_id=deal,
        kind="created",
        at=moment("2026-12-01 09:00"),
        actor_member_id=aga,
        owner_member_id=aga,
        to_stage_id=new_lead,
        amount_minor=11_850_000,
    )
    await w.insert(
        "dealevent",
        team_id=team,
        deal_id=deal,
        kind="activity",
        at=moment("2026-12-01 10:15"),
        actor_member_id=aga,
        owner_member_id=aga,
        activity="test_drive",
    )
    await w.insert(
        "dealevent",
        team_id=team,
        deal_id=deal,
        kind="won",
        at=moment("2026-12-01 11:00"),
        actor_member_id=aga,
        owner_member_id=aga,
        from_stage_id=new_lead,
        amount_minor=11_850_000,
        stage_seconds=7200,
    )
    return w.written
