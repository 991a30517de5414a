"""Apply Alembic migrations, from the bot's own event loop or from the command line.

The async engine hands Alembic a synchronous connection through `run_sync` (Alembic's
"connection sharing" recipe), so no second event loop is started.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection

from bot.storage.db import Database

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def alembic_config(database_url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if database_url:
        config.set_main_option("sqlalchemy.url", database_url)
    return config


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


MIGRATIONS_KEY = 7_301_002  # PostgreSQL advisory lock: one process migrates, the others wait


class SchemaTooNew(RuntimeError):
    """The database was migrated by newer code than this process runs."""


def known_revisions() -> set[str]:
    """Every schema revision this code has a migration for."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return {revision.revision for revision in script.walk_revisions()}


def _known(connection: Connection) -> None:
    from alembic.migration import MigrationContext
    from alembic.script import ScriptDirectory

    current = MigrationContext.configure(connection).get_current_heads()
    script = ScriptDirectory.from_config(alembic_config())
    known = known_revisions()
    unknown = [revision for revision in current if revision not in known]
    if unknown:
        raise SchemaTooNew(
            f"the database's schema is at {', '.join(unknown)}, newer than this code knows "
            f"(its newest is {script.get_current_head()}): start the newer version of the bot, "
            "or restore a backup made for this one"
        )


async def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema up to `revision` (all pending migrations by default).

    On SQLite, Alembic changes a table by copying it into a new one and dropping the old one;
    with foreign keys enforced, dropping a table that other rows point to fails. SQLite ignores
    `PRAGMA foreign_keys` inside a transaction, so enforcement is switched off before the
    migration's transaction begins, the keys are checked once it is done, and it is switched
    back on."""
    if not database.is_sqlite:
        # Several processes starting at once: one applies the migrations, the others wait for
        # the lock and then find nothing left to do.
        async with database.engine.connect() as connection:
            await connection.exec_driver_sql(f"SELECT pg_advisory_lock({MIGRATIONS_KEY})")
            try:
                await connection.commit()
                async with connection.begin():
                    await connection.run_sync(_known)
                    await connection.run_sync(_upgrade, revision)
            finally:
                await connection.exec_driver_sql(f"SELECT pg_advisory_unlock({MIGRATIONS_KEY})")
                await connection.commit()
        return
    async with database.engine.connect() as connection:
        raw = (await connection.get_raw_connection()).driver_connection
        assert raw is not None
        await raw.execute("PRAGMA foreign_keys=OFF")
        try:
            async with connection.begin():
                await connection.run_sync(_known)
                await connection.run_sync(_upgrade, revision)
                broken = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).all()
                if broken:
                    raise RuntimeError(f"migration left rows with broken references: {broken[:5]}")
        finally:
            await raw.execute("PRAGMA foreign_keys=ON")
