"""0006, leases, jobs, notices, daily sends, handled taps: what the bot writes since.

A salesperson whose access the manager turned off (`member.deactivated_by_member_id`) and the
notice telling her; deal #8 at its fourth change (`deal.version`) with a reminder being sent
under a lease (`claimed_by`, `lease_until`: "sending" now stays "sending"); the manager's
export job, his digest of 19 November as a daily send, and a tap already answered.

Expected at head: unchanged.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from tests.migrations import Seeded, Tables, Writer, moment
from tests.migrations.seed_0001 import AGNIESZKA, MAREK, TEAM, entered

KATARZYNA = 507890123


async def seed(connection: AsyncConnection, tables: Tables) -> list[Seeded]:
    w = Writer(connection, tables)
    team = await w.find("team", name=TEAM)
    marek = await w.find("member", team_id=team, user_id=MAREK)
    aga = await w.find("member", team_id=team, user_id=AGNIESZKA)
    new_lead = await w.find("stage", team_id=team, key="new_lead")
    contacted = await w.find("stage", team_id=team, key="contacted")

    await w.insert(
        "app_user",
        id=KATARZYNA,
        first_name="Katarzyna",
        last_name="Mazur",
        username="kasia_mazur",
        language="pl",
        language_chosen=True,
        team_id=team,  # still points at the team, so she is told whose access ended
        bot_blocked=False,
        created_at=moment("2026-11-02 08:00"),
        last_seen_at=moment("2026-11-19 16:00"),
    )
    await w.insert(
        "member",
        team_id=team,
        user_id=KATARZYNA,
        role="salesperson",
        active=False,
        morning_agenda=True,
        joined_at=moment("2026-11-02 08:01"),
        deactivated_at=moment("2026-11-19 17:00"),
        deactivated_by_member_id=marek,
    )
    await w.insert(
        "notice",
        team_id=team,
        user_id=KATARZYNA,
        kind="access_off",
        params={},
        status="pending",
        attempts=0,
        not_before=None,
        claimed_by=None,
        lease_until=None,
        created_at=moment("2026-11-19 17:00"),
        sent_at=None,
    )

    client = await w.insert(
        "client",
        team_id=team,
        name="Anna Kowalska-Łęcka",
        phone="+48607080900",
        company=None,
        email="anna.lecka@gmail.com",
        source="phone_call",
        created_at=moment("2026-11-18 09:00"),
    )
    eight = await w.insert(
        "deal",
        team_id=team,
        number=8,
        client_id=client,
        owner_member_id=aga,
        stage_id=contacted,
        status="open",
        value_minor=15_900_000,
        currency="PLN",
        next_contact_at=moment("2026-11-20 10:00"),
        next_step="Wysłać konfigurację Superba",
        stage_entered_at=moment("2026-11-18 09:15"),
        created_at=moment("2026-11-18 09:00"),
        updated_at=moment("2026-11-19 13:00"),
        version=4,
    )
    common: dict[str, Any] = {"team_id": team, "deal_id": eight}
    common.update(actor_member_id=aga, owner_member_id=aga)
    for kind, at, fields in (
        ("created", "2026-11-18 09:00", {"to_stage_id": new_lead, "amount_minor": 15_900_000}),
        ("activity", "2026-11-18 09:10", {"activity": "call"}),
        (
            "stage_changed",
            "2026-11-18 09:15",
            {
                "from_stage_id": new_lead,
                "to_stage_id": contacted,
                "stage_seconds": 15 * 60,
                "data": entered("2026-11-18 09:00"),
            },
        ),
        ("activity", "2026-11-19 13:00", {"activity": "presentation"}),
    ):
        await w.insert("dealevent", **common, kind=kind, at=moment(at), **fields)
    await w.insert(
        "reminder",
        team_id=team,
        deal_id=eight,
        member_id=aga,
        kind="next_contact",
        due_at=moment("2026-11-20 10:00"),
        status="sending",
        note="Wysłać konfigurację Superba",
        attempts=1,
        claimed_at=moment("2026-11-20 10:00"),
        claimed_by="7f3a9c1e2b4d",
        lease_until=moment("2026-11-20 10:01"),
        created_at=moment("2026-11-19 13:00"),
    )
    await w.update("team", team, deal_counter=8)

    await w.insert(
        "job",
        kind="export",
        team_id=team,
        requester_member_id=marek,
        chat_id=MAREK,
        params={},
        status="done",
        attempts=1,
        not_before=None,
        claimed_by=None,
        lease_until=None,
        error=None,
        created_at=moment("2026-11-20 07:58"),
        finished_at=moment("2026-11-20 07:58:09"),
    )
    await w.insert(
        "dailysend",
        member_id=marek,
        kind="digest",
        day=date(2026, 11, 19),
        status="sent",
        parts_sent=2,
        attempts=1,
        not_before=None,
        claimed_by=None,
        lease_until=None,
        created_at=moment("2026-11-19 17:00"),
        sent_at=moment("2026-11-19 17:00:05"),
    )
    # A tap on a reminder's "won" button, as `once_per_tap` keys it.
    tapped = hashlib.sha1(f"{AGNIESZKA}:7342:dc:w:2:3".encode()).hexdigest()
    await w.insert("handledtap", key=f"tap:{tapped}", at=moment("2026-11-20 09:00"))
    return w.written
