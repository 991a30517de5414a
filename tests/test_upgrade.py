"""Upgrading a database that holds a team's data loses nothing, on both databases.

On an empty database the migrations run from the first revision to head, one at a time. After
each revision its seed (`tests/migrations/seed_<rev>.py`) writes realistic rows with the tables
as they are at that revision: reflected from the database, never today's models (which have
columns an old revision does not). At head, every seeded row is still there with the values
written, except where a migration is meant to change them (`Seeded.becomes`), and `/report`'s
queries give the figures worked out by hand from the seeds for November 2026.

How a new migration joins (`test_every_revision_has_a_seed` fails until it does):

1. Add `tests/migrations/seed_<rev>.py` with

       async def seed(connection: AsyncConnection, tables: Tables) -> list[Seeded]

   writing, through `tests.migrations.Writer` (`insert`, `update`, `find`), rows that use what
   the revision added: new tables (every table gets rows), new columns, new kinds of values.
   Give aware UTC datetimes (`moment("2026-11-20 10:00")`); ids come from the database (`find`
   looks up those of earlier seeds' rows by what identifies them: a team's name, a deal's
   number). Return `Writer.written`.
2. If the migration changes data already there (a backfill, a fix, a new column's default),
   say so in the seed of the rows it changes: `becomes={"column": value at head}`, e.g. 0005
   fills `dealevent.stage_seconds`, 0006 caps amounts above 10^14 minor units and puts reminders
   left "sending" back to "pending". A renamed or dropped column is left out of the comparison
   by itself (only columns that exist at head are compared); a renamed one belongs in
   `becomes` under its new name.
3. If the seed adds events, deals or resignations of November 2026 to the first team, update
   the expected figures in `test_the_report_gives_the_same_figures_after_upgrading`.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, Table, func, select
from sqlalchemy.engine import Connection

from bot.handlers import report_views as views
from bot.i18n import I18n
from bot.services import periods, report
from bot.services.digest import day_period
from bot.storage.db import Database
from bot.storage.migrate import alembic_config, upgrade
from bot.storage.unit_of_work import UnitOfWork
from tests.conftest import FakeClock
from tests.migrations import Seeded
from tests.migrations.seed_0001 import AGNIESZKA, HOUR, PIOTR
from tests.migrations.seed_0003 import CAP

SEEDS = Path(__file__).with_name("migrations")
INVITE = "Wk3pQz9sTb2LmX7a"  # the first team's (seed_0001)
# When the report is read: Friday 20 November 2026, 13:00 in Warsaw.
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
NOVEMBER = periods.ReportPeriod("month", date(2026, 11, 1), date(2026, 11, 30))
PLN = "PLN"


def revisions() -> list[str]:
    """Alembic's revisions, from the first to head (the history has one line)."""
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1, script.get_heads()
    return [revision.revision for revision in reversed(list(script.walk_revisions()))]


def test_every_revision_has_a_seed() -> None:
    known = revisions()
    missing = [rev for rev in known if not (SEEDS / f"seed_{rev}.py").exists()]
    assert missing == [], f"add tests/migrations/seed_<rev>.py for {missing} (see test_upgrade)"
    stale = sorted(
        path.stem
        for path in SEEDS.glob("seed_*.py")
        if path.stem.removeprefix("seed_") not in known
    )
    assert stale == [], "seeds of revisions that do not exist"
    for rev in known:
        module = importlib.import_module(f"tests.migrations.seed_{rev}")
        assert callable(getattr(module, "seed", None)), f"seed_{rev} has no seed()"


@dataclass
class Upgraded:
    database: Database
    written: list[Seeded]


def _reflect(connection: Connection) -> MetaData:
    metadata = MetaData()
    metadata.reflect(connection)
    return metadata


@pytest.fixture
async def upgraded(db_url: str) -> AsyncIterator[Upgraded]:
    """A database seeded at every revision on the way from nothing to head."""
    database = Database(db_url)
    async with database.engine.connect() as connection:
        existing = (await connection.run_sync(_reflect)).tables
    assert list(existing) == [], "the upgrade test starts from an empty database"
    written: list[Seeded] = []
    try:
        for rev in revisions():
            try:
                await upgrade(database, rev)
            except Exception as error:
                error.add_note(f"upgrading the seeded database to {rev}")
                raise
            module = importlib.import_module(f"tests.migrations.seed_{rev}")
            async with database.engine.begin() as connection:
                tables = (await connection.run_sync(_reflect)).tables
                written += await module.seed(connection, tables)
        yield Upgraded(database, written)
    finally:
        await database.dispose()


def _comparable(value: Any) -> Any:
    """What a reflected column gives back, as a seed wrote it: aware UTC datetimes (SQLite
    returns the naive UTC wall time)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


def _expected(written: list[Seeded]) -> dict[tuple[str, Any], dict[str, Any]]:
    """Per row, every column a seed wrote (a later `update` over an earlier write), with what
    the migrations are meant to make of it."""
    rows: dict[tuple[str, Any], dict[str, Any]] = {}
    changes: dict[tuple[str, Any], dict[str, Any]] = {}
    for seeded in written:
        row = (seeded.table, seeded.key)
        rows.setdefault(row, {}).update(seeded.values)
        changes.setdefault(row, {}).update(seeded.becomes)
    for row, becomes in changes.items():
        rows[row].update(becomes)
    return rows


async def test_every_seeded_row_is_still_there_after_upgrading(upgraded: Upgraded) -> None:
    expected = _expected(upgraded.written)
    async with upgraded.database.engine.connect() as connection:
        tables = (await connection.run_sync(_reflect)).tables
        problems = []
        for (name, key), values in expected.items():
            table: Table = tables[name]
            (primary,) = table.primary_key.columns
            found = (await connection.execute(select(table).where(primary == key))).mappings()
            row = found.one_or_none()
            if row is None:
                problems.append(f"{name} {key}: gone")
                continue
            for column, value in values.items():
                if column not in table.c:
                    continue  # dropped by a migration
                if _comparable(row[column]) != value:
                    problems.append(f"{name} {key}.{column}: {row[column]!r}, expected {value!r}")
        counts = {}
        for name in {name for name, _ in expected}:
            counts[name] = (
                await connection.execute(select(func.count()).select_from(tables[name]))
            ).scalar_one()
        for seeded in upgraded.written:
            problems += [
                f"{seeded.table}.{column}: expected to become {value!r}, not at head"
                for column, value in seeded.becomes.items()
                if column not in tables[seeded.table].c
            ]
    assert not problems, "\n".join(problems)
    rows_seeded = {name: sum(1 for table, _ in expected if table == name) for name in counts}
    assert counts == rows_seeded, "rows appeared that no seed wrote"
    assert set(tables) - {"alembic_version"} <= set(counts), "a table no seed writes to"


async def test_the_migrations_change_what_they_are_meant_to(upgraded: Upgraded) -> None:
    """The data changes of the migrations, read straight from the upgraded tables."""
    async with upgraded.database.engine.connect() as connection:
        tables = (await connection.run_sync(_reflect)).tables
        deal, event, reminder = tables["deal"], tables["dealevent"], tables["reminder"]
        two = (await connection.execute(select(deal.c.id).where(deal.c.number == 2))).scalar()
        # 0005: the time in stage of past moves and closes, from the recorded stage entry or,
        # without one, the move before; nothing for other events.
        moves = (
            await connection.execute(
                select(event.c.kind, event.c.stage_seconds)
                .where(event.c.deal_id == two)
                .order_by(event.c.id)
            )
        ).all()
        assert [tuple(move) for move in moves] == [
            ("created", None),
            ("activity", None),
            ("stage_changed", 3 * HOUR + 30 * 60),
            ("stage_changed", 45 * HOUR),
            ("activity", None),
            ("stage_changed", 49 * HOUR),
            ("activity", None),
            ("stage_changed", 71 * HOUR),  # no recorded entry: since the move before
            ("won", 78 * HOUR),
            ("follow_up_set", None),
        ]
        # 0006: no amount above the bound is left, and the forged ones are at the bound.
        for table, column in (
            (deal, "value_minor"),
            (event, "amount_minor"),
            (tables["team"], "target_minor"),
            (tables["member"], "target_minor"),
        ):
            largest = (await connection.execute(select(func.max(table.c[column])))).scalar()
            assert largest == CAP, (table.name, column)
        # 0006: the reminder a stopped process left "sending" is pending again; the one sent
        # under a lease since is not touched.
        statuses = (
            await connection.execute(
                select(reminder.c.status, func.count())
                .group_by(reminder.c.status)
                .order_by(reminder.c.status)
            )
        ).all()
        assert [tuple(row) for row in statuses] == [
            ("cancelled", 1),
            ("done", 1),
            ("pending", 4),
            ("sending", 1),
            ("sent", 1),
        ]
        versions = (
            await connection.execute(select(deal.c.number, deal.c.version).order_by(deal.c.id))
        ).all()
        assert [tuple(row) for row in versions] == [(n, 0) for n in range(1, 8)] + [
            (1, 0),
            (8, 4),
            (9, 3),
        ]
        # 0007: every client's folded search key, and each deal's latest activity.
        client = tables["client"]
        keys = dict((await connection.execute(select(client.c.name, client.c.search_key))).all())
        assert keys["Łukasz Żółć"] == "lukasz zolc"
        assert keys["Zofia Nowak & Syn <VIP>"].startswith("zofia nowak syn vip")
        assert all(key for name, key in keys.items() if name != "—")  # 0009: one erased
        latest = (
            await connection.execute(
                select(event.c.activity, event.c.at)
                .where(event.c.deal_id == two, event.c.kind == "activity")
                .order_by(event.c.at.desc(), event.c.id.desc())
                .limit(1)
            )
        ).one()
        stored = (
            await connection.execute(
                select(deal.c.last_activity, deal.c.last_activity_at).where(deal.c.id == two)
            )
        ).one()
        assert tuple(stored) == tuple(latest)


async def test_the_report_gives_the_same_figures_after_upgrading(upgraded: Upgraded) -> None:
    """November 2026 of the first team, through the report's own queries and arithmetic."""
    async with UnitOfWork(upgraded.database.read_sessions, FakeClock(NOW)) as uow:
        team = await uow.teams.by_invite_code(INVITE)
        assert team is not None and team.id is not None
        current, _ = periods.measured(NOVEMBER, team.timezone, NOW)
        stages = await uow.teams.stages(team.id, include_retired=True)
        reasons = await uow.teams.loss_reasons(team.id, include_retired=True)
        people = await uow.teams.members(team.id)
        cohort = await uow.reporting.cohort(team.id, current)
        times = await uow.reporting.stage_times(team.id, current)
        groups = await uow.reporting.losses(team.id, current)
        lost = await uow.reporting.lost_deals(team.id, current, per_reason=5)
        counts = await uow.reporting.process(team.id, current)
        created_and_won = await uow.reporting.conversion(team.id, current)
        winbacks = await uow.reporting.winback_outcomes(team.id, current)
        digest = await uow.analytics.figures(
            team.id, day_period(team, date(2026, 11, 12)), NOW, comments=5
        )
    stage_key = {stage.id: stage.key for stage in stages}
    reason_key = {reason.id: reason.key for reason in reasons}
    member_of = {view.member.user_id: view.member.id or 0 for view in people}
    aga, piotr = member_of[AGNIESZKA], member_of[PIOTR]

    # The funnel of the 7 deals created in November (#2-#8; #1 is October's).
    funnel = report.funnel(stages, cohort)
    assert (funnel.created, funnel.won, funnel.won_money) == (7, 1, {PLN: 12_000_000})
    assert [
        (stage.stage.key, stage.reached, stage.lost, stage.lost_money) for stage in funnel.steps
    ] == [
        ("new_lead", 7, 1, {PLN: 6_500_000}),  # #6 put off the same day
        ("contacted", 6, 0, {}),
        ("needs_identified", 4, 0, {}),  # #7 skipped to "offer sent": passed
        ("offer_sent", 3, 1, {PLN: 24_000_000}),  # #4's move here was taken back
        ("negotiation", 1, 0, {}),
    ]
    open_value = {
        (stage_key[group.stage_id], group.owner_member_id): group.value_minor
        for group in cohort
        if group.status == "open"
    }
    assert open_value == {
        ("needs_identified", piotr): 9_500_000,
        ("offer_sent", piotr): CAP,  # #7's forged value, capped
        ("contacted", aga): 15_900_000,  # #5 (no value) and #8
    }
    # Time in stage over the moves out of it in November (0005's backfill and the bot's own).
    assert {
        stage_key[time.stage_id]: (time.moves, time.average_seconds, time.median_seconds)
        for time in times
    } == {
        "new_lead": (6, 107_850.0, 13_500.0),
        "contacted": (3, 218_400.0, 165_600.0),
        "needs_identified": (2, 300_600.0, 300_600.0),
        "offer_sent": (1, 255_600.0, 255_600.0),
    }

    # Losses: #1 (created in October), #3 and #6.
    losses = report.losses(groups, PLN)
    total = losses.total
    assert (total.count, total.money) == (3, {PLN: 39_400_000})
    assert (total.stage_seconds, total.timed, total.process_seconds) == (1_591_200, 3, 2_372_400)
    assert total.bought_before == 0
    assert {reason_key[r]: (s.count, s.money) for r, s in losses.by_reason.items()} == {
        "competitor": (1, {PLN: 8_900_000}),
        "financing": (1, {PLN: 24_000_000}),
        "postponed": (1, {PLN: 6_500_000}),
    }
    assert {stage_key[st]: (s.count, s.money) for st, s in losses.by_stage.items()} == {
        "new_lead": (1, {PLN: 6_500_000}),
        "contacted": (1, {PLN: 8_900_000}),
        "offer_sent": (1, {PLN: 24_000_000}),
    }
    assert {who: (s.count, s.money) for who, s in losses.by_owner.items()} == {
        aga: (2, {PLN: 15_400_000}),
        piotr: (1, {PLN: 24_000_000}),
    }
    assert [(d.number, d.client, reason_key[d.reason_id], d.value_minor) for d in lost] == [
        (1, "Jarosław Kamiński", "competitor", 8_900_000),
        (3, "Zofia Nowak & Syn <VIP>", "financing", 24_000_000),
        (6, "Ewa Dąbrowska", "postponed", 6_500_000),
    ]
    assert {reason_key[w.reason_id]: (w.resigned, w.came_back) for w in winbacks} == {
        "competitor": (1, 0),
        "financing": (1, 0),
        "postponed": (1, 0),
    }

    # Activity: the undone move and the undone win of #7 count as never made.
    assert (counts.new_leads, counts.stage_moves, counts.won, counts.lost) == (7, 12, 1, 3)
    assert counts.activities == {
        "call": 5,
        "message": 2,
        "meeting": 2,
        "presentation": 1,
        "test_drive": 1,
        "offer_sent": 3,
    }
    assert counts.won_money == {PLN: 12_000_000}
    assert counts.offers_money == {PLN: 12_500_000 + 24_000_000 + CAP}
    assert (counts.deals_called, counts.deals_met, counts.deals_offered, counts.deals_won) == (
        5,
        4,
        3,
        1,
    )
    assert counts.sources == {
        "walk_in": 1,
        "referral": 1,
        "phone_call": 2,
        "": 1,
        "returning": 1,
        "website": 1,
    }
    assert created_and_won == {aga: (4, 1), piotr: (3, 0)}

    # The digest of Thursday 12 November: #6 and #7 created, #2 won, #6 lost.
    assert (digest.new_deals, digest.stage_moves, digest.activities) == (
        2,
        1,
        {"call": 1, "offer_sent": 1},
    )
    assert (digest.won, digest.won_money, digest.lost, digest.lost_money) == (
        1,
        {PLN: 12_000_000},
        1,
        {PLN: 6_500_000},
    )
    assert {reason_key[r]: (f.count, f.money) for r, f in digest.losses_by_reason.items()} == {
        "postponed": (1, {PLN: 6_500_000})
    }
    people_figures = {
        who: (f.new, f.won, f.lost, f.activities, f.open, f.overdue, f.unplanned)
        for who, f in digest.members.items()
    }
    assert people_figures == {aga: (1, 1, 1, 1, 2, 1, 1), piotr: (1, 0, 0, 1, 2, 1, 0)}
    assert [(c.deal_number, c.client, c.text) for c in digest.comments] == [
        (6, "Ewa Dąbrowska", "Wraca w marcu, po premii")
    ]

    # And the upgraded data renders: the funnel screen in English, the losses in Polish.
    i18n = I18n()
    english = i18n.translator("en", team.timezone)
    lines = views.funnel_lines(english, funnel, report.durations(times), stages)
    assert lines == [
        "Funnel of the 7 deals created in the period:",
        "New lead: 7 · lost 1 · on to the next 85.7%",
        "Contacted: 6 · lost 0 · on to the next 66.7%",
        "Needs identified: 4 · lost 0 · on to the next 75%",
        "Offer sent: 3 · lost 1 · on to the next 33.3%",
        "Negotiation: 1 · lost 0 · on to the next 100%",
        "✅ Won: 1 · lead to sale 14.3% · PLN120,000",
        "",
        "⏱ <b>Days in stage</b> (average · median)",
        "   New lead: 1.2 · 0.2",
        "   Contacted: 2.5 · 1.9",
        "   Needs identified: 3.5 · 3.5",
        "   Offer sent: 3 · 3",
    ]
    polish = i18n.translator("pl", team.timezone)
    text = "\n".join(
        views.loss_lines(
            polish,
            losses,
            {stage.id or 0: stage for stage in stages},
            {reason.id or 0: reason for reason in reasons},
            {view.member.id or 0: view for view in people},
            lost,
            lambda number: f"#{number}",
            by_person=True,
        )
    )
    assert f"3 · {polish.money(39_400_000, PLN)}" in text
    assert f"Agnieszka Kowalczyk: 2 (66,7%) · {polish.money(15_400_000, PLN)}" in text
    assert (
        "#3 Zofia Nowak &amp; Syn &lt;VIP&gt; · 13 dni · "
        '«Leasing nie przeszedł – bank odmówił ("zbyt młoda firma")»'
    ) in text
