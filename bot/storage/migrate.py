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


async def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the schema up to `revision` (all pending migrations by default)."""
    async with database.engine.begin() as connection:
        await connection.run_sync(_upgrade, revision)
