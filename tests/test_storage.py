"""Storage on both databases: migrations match the models, UTC round-trips, counters and the
replay guard hold."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

from bot.domain import Language
from bot.storage.db import Database, async_url
from bot.storage.models import Team, User
from bot.storage.unit_of_work import DuplicateUpdate, UnitOfWork
from tests.conftest import FakeClock


def _differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "render_as_batch": True}
    )
    return list(compare_metadata(context, SQLModel.metadata))


async def test_migrations_build_exactly_the_models(database: Database) -> None:
    async with database.engine.connect() as connection:
        differences = await connection.run_sync(_differences)
    assert differences == []


async def test_upgrade_twice_is_harmless(database: Database) -> None:
    from bot.storage.migrate import upgrade

    await upgrade(database)
    async with database.engine.connect() as connection:
        version = (
            await connection.execute(text("SELECT version_num FROM alembic_version"))
        ).scalar()
    from alembic.script import ScriptDirectory

    from bot.storage.migrate import alembic_config

    assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_sqlite_runs_in_wal_mode_with_foreign_keys(database: Database, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("SQLite pragmas")
    async with database.engine.connect() as connection:
        mode = (await connection.execute(text("PRAGMA journal_mode"))).scalar()
        keys = (await connection.execute(text("PRAGMA foreign_keys"))).scalar()
        busy = (await connection.execute(text("PRAGMA busy_timeout"))).scalar()
    assert (mode, keys) == ("wal", 1)
    assert busy and busy >= 5000


def _team(now: datetime, name: str = "Auto Nord") -> Team:
    return Team(name=name, timezone="Europe/Warsaw", currency="PLN", country="PL", created_at=now)


async def test_times_come_back_as_the_same_utc_moment(
    database: Database, clock: FakeClock
) -> None:
    warsaw_evening = datetime(2026, 3, 29, 23, 30, tzinfo=timezone(timedelta(hours=2)))
    async with UnitOfWork(database.sessions, clock) as uow:
        team = await uow.teams.add(_team(warsaw_evening))
        await uow.commit()
        team_id = team.id
    async with UnitOfWork(database.sessions, clock) as uow:
        uow.session.expunge_all()
        loaded = await uow.teams.get(team_id or 0)
    assert loaded is not None
    assert loaded.created_at == warsaw_evening
    assert loaded.created_at.tzinfo == UTC
    assert loaded.created_at.hour == 21


async def test_naive_datetimes_are_refused(database: Database, clock: FakeClock) -> None:
    async with UnitOfWork(database.sessions, clock) as uow:
        uow.session.add(_team(datetime(2026, 1, 1, 12, 0)))
        with pytest.raises(Exception, match="naive datetime"):
            await uow.commit()


async def test_deal_numbers_are_sequential_per_team_even_when_concurrent(
    database: Database, clock: FakeClock
) -> None:
    async with UnitOfWork(database.sessions, clock) as uow:
        first = await uow.teams.add(_team(clock.now(), "A"))
        second = await uow.teams.add(_team(clock.now(), "B"))
        await uow.commit()

    async def take(team_id: int) -> int:
        async with UnitOfWork(database.sessions, clock) as uow:
            number = await uow.teams.next_deal_number(team_id)
            await uow.commit()
            return number

    assert first.id is not None and second.id is not None
    numbers = await asyncio.gather(*(take(first.id) for _ in range(20)))
    assert sorted(numbers) == list(range(1, 21))
    assert await take(second.id) == 1


async def test_a_replayed_update_commits_nothing_twice(
    database: Database, clock: FakeClock
) -> None:
    async with UnitOfWork(database.sessions, clock, update_id=777) as uow:
        await uow.users.add(
            User(id=1, language=Language.PL, created_at=clock.now(), last_seen_at=clock.now())
        )
        await uow.commit()
    async with UnitOfWork(database.sessions, clock, update_id=777) as uow:
        assert await uow.users.is_processed(777)
        await uow.users.add(
            User(id=2, language=Language.PL, created_at=clock.now(), last_seen_at=clock.now())
        )
        with pytest.raises(DuplicateUpdate):
            await uow.commit()
    async with UnitOfWork(database.sessions, clock) as uow:
        assert await uow.users.get(2) is None
        assert await uow.users.get(1) is not None


def test_database_urls_get_async_drivers() -> None:
    assert async_url("sqlite:///./data/crm.sqlite3").drivername == "sqlite+aiosqlite"
    assert async_url("postgresql://u@h/db").drivername == "postgresql+asyncpg"
    assert async_url("postgres://u@h/db").drivername == "postgresql+asyncpg"
    with pytest.raises(ValueError, match="unsupported"):
        async_url("mysql://u@h/db")


async def test_the_planner_gets_what_the_report_needs(database: Database, backend: str) -> None:
    """SQLite gets statistics (it keeps none by itself); PostgreSQL sessions run without JIT
    and with plans made for each period and salesperson."""
    await database.refresh_statistics()
    async with database.engine.connect() as connection:
        if backend == "sqlite":
            tables = (
                await connection.execute(
                    text("SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'")
                )
            ).scalar()
            assert tables == 1
        else:
            jit = (await connection.execute(text("SHOW jit"))).scalar()
            plans = (await connection.execute(text("SHOW plan_cache_mode"))).scalar()
            assert (jit, plans) == ("off", "force_custom_plan")
