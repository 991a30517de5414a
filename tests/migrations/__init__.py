"""Seeds for the upgrade test (`tests/test_upgrade.py`): one module per Alembic revision.

`seed_<rev>.py` runs right after the database was upgraded to `<rev>` and writes the rows a team
would have written while that revision was the newest, through SQLAlchemy Core on the tables as
they are at that revision (reflected from the database, never today's models):

    async def seed(connection: AsyncConnection, tables: Tables) -> list[Seeded]

A seed writes through a `Writer`: `insert` (returns the new row's primary key), `update` (for a
row an earlier seed wrote, as the app would have changed it since) and `find` (the id of a row
an earlier seed wrote); `Writer.written` is what the seed returns. Datetimes are given aware
(UTC, `moment("2026-11-02 08:30")`) and stored the way `bot.storage.types.UTCDateTime` stores
them: the naive UTC wall time on SQLite, aware on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, and_, select
from sqlalchemy import insert as sa_insert
from sqlalchemy import update as sa_update
from sqlalchemy.ext.asyncio import AsyncConnection

Tables = Mapping[str, Table]


@dataclass(frozen=True)
class Seeded:
    """A row a seed wrote: its table, primary key and the values written. `becomes` names the
    columns a later migration is meant to change (or add) with the value expected at head."""

    table: str
    key: Any
    values: dict[str, Any]
    becomes: dict[str, Any] = field(default_factory=dict)


def moment(text: str) -> datetime:
    """`"2026-11-02 08:30"` (or with seconds) as an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class Writer:
    """Writes a seed's rows on the reflected tables and keeps what it wrote."""

    def __init__(self, connection: AsyncConnection, tables: Tables) -> None:
        self.connection = connection
        self.tables = tables
        self.written: list[Seeded] = []

    def _table(self, name: str, columns: Mapping[str, Any]) -> Table:
        table = self.tables[name]
        unknown = sorted(set(columns) - set(table.c.keys()))
        if unknown:
            raise KeyError(f"{name} has no column {', '.join(unknown)} at this revision")
        return table

    def _stored(self, values: Mapping[str, Any]) -> dict[str, Any]:
        sqlite = self.connection.dialect.name == "sqlite"
        stored = {}
        for name, value in values.items():
            if isinstance(value, datetime):
                if value.tzinfo is None:
                    raise ValueError(f"naive datetime {value!r} for {name}")
                value = value.astimezone(UTC)
                if sqlite:
                    value = value.replace(tzinfo=None)
            stored[name] = value
        return stored

    async def insert(
        self, table: str, /, becomes: Mapping[str, Any] | None = None, **values: Any
    ) -> Any:
        """Insert one row (the database picks an autoincrement id not given); its key."""
        reflected = self._table(table, values)
        result = await self.connection.execute(sa_insert(reflected).values(**self._stored(values)))
        primary = result.inserted_primary_key
        assert primary is not None and len(primary) == 1, table
        (column,) = reflected.primary_key.columns
        key = primary[0]
        self.written.append(Seeded(table, key, {column.name: key, **values}, dict(becomes or {})))
        return key

    async def update(
        self, table: str, key: Any, /, becomes: Mapping[str, Any] | None = None, **values: Any
    ) -> None:
        """Change columns of a row an earlier seed wrote, as the app would have since."""
        reflected = self._table(table, values)
        (column,) = reflected.primary_key.columns
        result = await self.connection.execute(
            sa_update(reflected).where(column == key).values(**self._stored(values))
        )
        assert result.rowcount == 1, (table, key)
        self.written.append(Seeded(table, key, dict(values), dict(becomes or {})))

    async def find(self, table: str, **where: Any) -> int:
        """The id of the one row of `table` with these values (written by an earlier seed)."""
        reflected = self._table(table, where)
        condition = and_(*(reflected.c[name] == v for name, v in self._stored(where).items()))
        ids = (await self.connection.execute(select(reflected.c.id).where(condition))).all()
        assert len(ids) == 1, (table, where, ids)
        return int(ids[0][0])
