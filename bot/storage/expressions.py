"""SQL expressions the analytics queries share, written once for SQLite and PostgreSQL: the time
between two moments in seconds, and "this event was not taken back with ↩️"."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ColumnElement, exists
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import col

from bot.storage.models import DealEvent


class seconds_between(FunctionElement[int]):
    """Whole seconds from `earlier` to `later` (two UTC moments)."""

    type = BigInteger()
    inherit_cache = True
    name = "seconds_between"

    def __init__(self, later: Any, earlier: Any) -> None:
        super().__init__(later, earlier)


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(ROUND((julianday({later}) - julianday({earlier})) * 86400) AS INTEGER)"


@compiles(seconds_between, "postgresql")
def _seconds_postgresql(element: seconds_between, compiler: SQLCompiler, **kw: Any) -> str:
    later, earlier = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(ROUND(EXTRACT(EPOCH FROM ({later} - {earlier}))) AS BIGINT)"


def not_undone(event: Any = DealEvent) -> ColumnElement[bool]:
    """The event (DealEvent or an alias of it) has no ↩️ event taking it back."""
    undo = aliased(DealEvent)
    return ~exists().where(col(undo.undoes_event_id) == event.id)
