"""0002, reminder delivery and daily messages: a salesperson who got the morning agenda and
the daily nudge (`member.agenda_sent_on`, `nudge_sent_on`), and a reminder due on a Sunday held
back to Monday 9:00 (`reminder.not_before`).

Expected at head: unchanged.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.ext.asyncio import AsyncConnection

from tests.migrations import Seeded, Tables, Writer, moment
from tests.migrations.seed_0001 import AGNIESZKA, TEAM

TOMASZ = 505678901


async def seed(connection: AsyncConnection, tables: Tables) -> list[Seeded]:
    w = Writer(connection, tables)
    team = await w.find("team", name=TEAM)
    aga = await w.find("member", team_id=team, user_id=AGNIESZKA)
    await w.update("member", aga, agenda_sent_on=date(2026, 11, 20), nudge_sent_on=None)
    await w.insert(
        "app_user",
        id=TOMASZ,
        first_name="Tomasz",
        last_name="Lewandowski",
        username="tomek_lew",
        language="pl",
        language_chosen=True,
        team_id=team,
        bot_blocked=False,
        created_at=moment("2026-11-16 07:45"),
        last_seen_at=moment("2026-11-20 07:30"),
    )
    await w.insert(
        "member",
        team_id=team,
        user_id=TOMASZ,
        role="salesperson",
        active=True,
        morning_agenda=True,
        joined_at=moment("2026-11-16 07:46"),
        deactivated_at=None,
        agenda_sent_on=date(2026, 11, 20),
        nudge_sent_on=date(2026, 11, 19),
    )
    # The satisfaction call a week after #2's handover falls on a Sunday.
    two = await w.find("deal", team_id=team, number=2)
    await w.insert(
        "reminder",
        team_id=team,
        deal_id=two,
        member_id=aga,
        kind="satisfaction",
        due_at=moment("2026-11-29 10:00"),
        status="pending",
        note=None,
        attempts=0,
        not_before=moment("2026-11-30 08:00"),
        created_at=moment("2026-11-12 15:05"),
    )
    return w.written
