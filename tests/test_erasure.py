"""A manager erases a client's personal data on request (GDPR Art. 17): two taps from the
deal's edit menu and a confirmation saying what goes and what cannot; afterwards no table holds
the name or the phone (the SQLite file and its WAL neither), the figures stay, pending reminders
are cancelled, and a backup from before the erasure, once restored, is erased again."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import MetaData
from sqlalchemy import select as sa_select
from sqlmodel import col, select

from bot.backup import backup_sqlite, sqlite_path
from bot.domain import AuditAction, ReminderStatus
from bot.storage.models import ConversationState, DealEvent, Reminder
from tests.fakes.telegram_server import FakeTelegram
from tests.harness import BotRunner, seed_deal, seed_team
from tests.test_run_bot import RUN_BOT, _env

NAME, PHONE = "Łucja Wiśniewska", "+48600777888"
TRACES = ("Wiśniewska", "Łucja", "wisniewska", "600777888", "600 777 888", "Prefers mornings")


async def _every_value(bot: BotRunner) -> str:
    """Every value of every table, as text."""
    metadata = MetaData()
    async with bot.runtime.db.engine.connect() as connection:
        await connection.run_sync(metadata.reflect)
        parts = []
        for table in metadata.sorted_tables:
            for row in (await connection.execute(sa_select(table))).all():
                parts.append(repr(tuple(row)))
    return "\n".join(parts)


def _file_bytes(db_url: str) -> bytes:
    database = sqlite_path(db_url)
    assert database is not None
    return b"".join(
        path.read_bytes()
        for path in (database, database.with_name(database.name + "-wal"))
        if path.exists()
    )


def _traces(text: str) -> list[str]:
    return [trace for trace in TRACES if trace.lower() in text.lower()]


def _byte_traces(raw: bytes) -> list[str]:
    return [trace for trace in TRACES if trace.encode() in raw]


async def test_a_manager_erases_a_client_and_nothing_of_them_is_left(
    bot: BotRunner, fake_telegram: FakeTelegram, db_url: str, backend: str, tmp_path: Path
) -> None:
    people = await seed_team(
        bot,
        fake_telegram,
        "North",
        [(1, "Anna", "en", "manager"), (2, "Piotr", "en", "salesperson")],
    )
    anna, piotr = people["Anna"], people["Piotr"]
    deal_id = await seed_deal(
        bot,
        2,
        NAME,
        phone=PHONE,
        note="Prefers mornings",
        next_contact=bot.clock.now() + timedelta(hours=3),
    )
    async with bot.runtime.uow() as uow:  # an edit of the phone keeps old and new in its event
        deal = await uow.deals.get(deal_id)
        assert deal is not None
        uow.session.add(
            DealEvent(
                team_id=deal.team_id,
                deal_id=deal_id,
                kind="edited",
                at=bot.clock.now(),
                text=f"{NAME} asked to change the number",
                data={"field": "phone", "old": "+48600777880", "new": PHONE},
            )
        )
        uow.session.add(  # Piotr is typing a note on that deal
            ConversationState(
                user_id=2,
                flow="dn",
                step="text",
                data={"deal_id": deal_id, "draft": "Wiśniewska wants a call"},
                updated_at=bot.clock.now(),
            )
        )
        number, value = deal.number, deal.value_minor
        await uow.commit()
    backup = None
    if backend == "sqlite":
        database = sqlite_path(db_url)
        assert database is not None
        backup = await backup_sqlite(database, tmp_path / "before.sqlite3")
    assert _traces(await _every_value(bot))  # the check can see them

    # A salesperson has no such button, and a forged one erases nothing.
    await piotr.send("/find Wiśniewska")
    await piotr.expect(NAME)
    await piotr.tap("✏️")
    edit_menu = await piotr.expect("What to change")
    assert edit_menu.find_button("🧹 Erase client data") is None
    await piotr.forge_tap(f"de:erok:{deal_id}:0")
    await piotr.expect_answer()
    assert _traces(await _every_value(bot))

    await anna.send("/find Wiśniewska")
    await anna.expect(NAME)
    await anna.tap("✏️")
    await anna.expect("What to change")
    await anna.tap("🧹 Erase client data")
    asked = await anna.expect("Erase the personal data")
    assert "Cannot be erased from here" in asked.text and "14 days" in asked.text
    await anna.tap("🧹 Erase for good")
    card = await anna.expect("Personal data erased")
    assert "Client data erased on" in card.text and "by Anna" in card.text
    assert NAME not in card.text and "600 777 888" not in card.text

    found = _traces(await _every_value(bot))
    assert not found, f"left in the database: {found}"
    if backend == "sqlite":
        assert not _byte_traces(_file_bytes(db_url)), "the bytes are still in the file"
    else:  # the dead row versions that held the old values are vacuumed out at once
        async with bot.runtime.db.engine.connect() as connection:
            vacuumed = (
                await connection.exec_driver_sql(
                    "SELECT relname FROM pg_stat_user_tables WHERE last_vacuum IS NOT NULL"
                )
            ).scalars()
            assert {"client", "deal", "dealevent", "reminder"} <= set(vacuumed)
    async with bot.runtime.uow() as uow:
        deal = await uow.deals.get(deal_id)
        assert deal is not None and (deal.number, deal.value_minor) == (number, value)
        reminders = list(
            await uow.session.exec(select(Reminder).where(col(Reminder.deal_id) == deal_id))
        )
        assert reminders and all(r.status == ReminderStatus.CANCELLED for r in reminders)
        assert await uow.session.get(ConversationState, 2) is None
        edit = (
            await uow.session.exec(
                select(DealEvent).where(
                    col(DealEvent.deal_id) == deal_id, col(DealEvent.kind) == "edited"
                )
            )
        ).one()
        assert edit.data == {"field": "phone", "erased": True}
    async with bot.runtime.uow() as uow:  # in the audit: who, and from which deal
        (entry,) = await uow.audit.page(deal.team_id, 0, 10)
    assert (entry.action, entry.count, entry.detail) == (AuditAction.ERASURE, 1, {"deal": 1})
    # Twice is once.
    await anna.forge_tap(f"de:erok:{deal_id}:{deal.version}")
    await anna.expect_answer()

    if backup is not None:  # a backup from before the erasure comes back erased
        await bot.stop()
        database = sqlite_path(db_url)
        assert database is not None
        restored = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, str(RUN_BOT), "restore", str(backup)],
            cwd=tmp_path,
            env=_env(DATABASE_URL=f"sqlite:///{database}"),
            capture_output=True,
            text=True,
            check=False,
        )
        assert restored.returncode == 0, restored.stderr
        assert "1 client(s) erased again" in restored.stdout
        assert not _byte_traces(database.read_bytes())
        await bot.start()
        assert not _traces(await _every_value(bot))


async def test_retention_forgets_abandoned_flows_and_people_who_never_joined(
    bot: BotRunner, fake_telegram: FakeTelegram
) -> None:
    from bot.app import _housekeeping
    from bot.context import BotContext
    from bot.storage.models import User

    people = await seed_team(bot, fake_telegram, "North", [(1, "Anna", "en", "manager")])
    stranger = fake_telegram.user(9, "Olga", language_code="ru")
    await stranger.send("/start")
    await stranger.expect("Olga")
    await people["Anna"].send("/new")
    await people["Anna"].expect("What is their name?")
    assert bot.app is not None
    context = BotContext(bot.app)

    bot.clock.advance(days=6)
    await _housekeeping(context)
    async with bot.runtime.uow() as uow:
        assert await uow.session.get(ConversationState, 1) is not None  # six days: kept
        assert await uow.session.get(User, 9) is not None
    bot.clock.advance(days=2)
    await _housekeeping(context)
    async with bot.runtime.uow() as uow:
        assert await uow.session.get(ConversationState, 1) is None  # a week: abandoned
        assert await uow.session.get(User, 9) is not None
    bot.clock.advance(days=23)
    await _housekeeping(context)
    async with bot.runtime.uow() as uow:
        assert await uow.session.get(User, 9) is None  # a month, never joined: forgotten
        assert await uow.session.get(User, 1) is not None  # a member stays
