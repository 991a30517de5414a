"""SQL expressions the analytics queries share, written once for SQLite and PostgreSQL: the time
between two moments in seconds, a sum of money that cannot overflow, and "this event was not
taken back with ↩️"."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, ColumnElement, exists
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator
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


class _WholeNumber(TypeDecorator[int]):
    """A sum read back as a whole number (SQLite's TOTAL() is a float, PostgreSQL's SUM() of a
    bigint a numeric)."""

    impl = BigInteger()
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Dialect) -> int:
        return round(value) if value is not None else 0


class money_sum(FunctionElement[int]):
    """The sum of amounts, 0 for none, that cannot overflow: SQLite's SUM() raises "integer
    overflow" past 2^63 (one forged amount used to break a team's digest), so SQLite sums with
    TOTAL() (a float, exact to 2^53 minor units); PostgreSQL's SUM() of a bigint is exact."""

    type = _WholeNumber()
    inherit_cache = True
    name = "money_sum"

    def __init__(self, amount: Any) -> None:
        super().__init__(amount)


@compiles(money_sum, "sqlite")
def _money_sum_sqlite(element: money_sum, compiler: SQLCompiler, **kw: Any) -> str:
    (amount,) = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"TOTAL({amount})"


@compiles(money_sum, "postgresql")
def _money_sum_postgresql(element: money_sum, compiler: SQLCompiler, **kw: Any) -> str:
    (amount,) = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"COALESCE(SUM({amount}), 0)"


def not_undone(event: Any = DealEvent) -> ColumnElement[bool]:
    """The event (DealEvent or an alias of it) has no ↩️ event taking it back."""
    undo = aliased(DealEvent)
    return ~exists().where(col(undo.undoes_event_id) == event.id)
