"""Fixtures shared by every test: a fresh database on each backend, a clock the test drives.

Tests that take `db_url` (directly or through another fixture) run once per database named by
`--db` (default: both SQLite and PostgreSQL). PostgreSQL is the local server at
127.0.0.1:5432 (user postgres, database `test`); `TEST_POSTGRES_URL` points elsewhere.
"""

from __future__ import annotations

import os

os.environ.setdefault("PTB_TIMEDELTA", "1")
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.i18n import I18n
from bot.storage.db import Database
from bot.storage.migrate import upgrade
from tests.fakes.telegram_server import FakeTelegram

if TYPE_CHECKING:
    from tests.harness import BotRunner

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = ("sqlite", "postgresql")
# The fake's flood limits for one chat in the e2e tests: a scripted user taps faster than a
# thumb, so a chat takes a burst of 6 and then 3 a second (Telegram: about 3, then 1; the flood
# tests use those). The bot is configured with the same limits (`tests.harness.BotRunner`), so
# it paces each chat as it would against Telegram and never gets a 429 for it.
CHAT_BURST, CHAT_RATE = 6, 3.0


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        action="append",
        choices=BACKENDS,
        help="database backend(s) to run storage and end-to-end tests on (default: both)",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        chosen = metafunc.config.getoption("db") or list(BACKENDS)
        metafunc.parametrize("backend", chosen, ids=chosen)


async def _reset_postgres() -> None:
    """An empty `public` schema: every test starts from nothing, like a new installation."""
    import asyncpg

    dsn = POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")
    try:
        connection = await asyncpg.connect(dsn, timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        pytest.fail(
            f"PostgreSQL is not reachable at {POSTGRES_URL} ({error}). Start it, or run "
            "only SQLite with `--db sqlite`.",
            pytrace=False,
        )
    try:
        await connection.execute("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")
    finally:
        await connection.close()


@pytest.fixture
async def db_url(backend: str, tmp_path: Path) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'crm.sqlite3'}"
    await _reset_postgres()
    return POSTGRES_URL


@pytest.fixture
async def database(db_url: str) -> AsyncIterator[Database]:
    """A migrated, empty database."""
    database = Database(db_url)
    await upgrade(database)
    yield database
    await database.dispose()


class FakeClock:
    """Time the test moves by hand; aware UTC like the real one."""

    def __init__(self, start: datetime | None = None) -> None:
        self.moment = start or datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> datetime:
        self.moment += timedelta(**delta)
        return self.moment


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def i18n() -> I18n:
    return I18n()


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    # Flood limits stay on (1 message a second per chat) with a burst that lets a scripted
    # user tap through screens as fast as a thumb would.
    fake = FakeTelegram(chat_burst=CHAT_BURST, chat_rate=CHAT_RATE)
    # Every inline button that shares its row must fit a phone in every language (the fake
    # records the ones that would be cut; see `FakeTelegram.check_button_widths`).
    fake.check_button_widths = True
    await fake.start()
    yield fake
    await fake.stop()
    if fake.wide_buttons:
        pytest.fail(
            "inline buttons too wide for their row (label, buttons in the row, language): "
            f"{fake.wide_buttons}",
            pytrace=False,
        )


@pytest.fixture
async def bot(
    fake_telegram: FakeTelegram, db_url: str, clock: FakeClock
) -> AsyncIterator[BotRunner]:
    """The real bot, started against the fake Bot API on a fresh database."""
    from tests.harness import BotRunner

    runner = BotRunner(fake_telegram, db_url, clock)
    await runner.start()
    yield runner
    await runner.stop()
