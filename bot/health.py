"""Is this process ready for work? The database answers, its schema is the one this code was
written for, and the tick loop ran lately (a standby's loop counts: it is ready to take over).
Served as `/readyz` and run from a shell by `python run_bot.py check`."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from bot.storage.db import Database

TICKS_LATE = 3  # the tick loop is late after this many intervals without a tick


@dataclass
class Report:
    checks: dict[str, str] = field(default_factory=dict)  # name → "ok" or what is wrong

    @property
    def ready(self) -> bool:
        return all(value == "ok" for value in self.checks.values())

    def as_json(self) -> dict[str, Any]:
        return {"ready": self.ready, "checks": self.checks}


@functools.cache
def code_head() -> str:
    """The newest migration this code knows."""
    from alembic.script import ScriptDirectory

    from bot.storage.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


async def schema_version(database: Database) -> str | None:
    async with database.engine.connect() as connection:
        try:
            row = (
                await connection.execute(text("SELECT version_num FROM alembic_version"))
            ).first()
        except Exception:
            return None
    return str(row[0]) if row else None


async def database_checks(database: Database, report: Report) -> None:
    try:
        version = await schema_version(database)
    except Exception as error:  # unreachable, refused, timed out
        report.checks["database"] = f"unreachable: {type(error).__name__}"
        return
    report.checks["database"] = "ok"
    head = code_head()
    report.checks["schema"] = "ok" if version == head else f"at {version}, the code wants {head}"


def tick_check(last_tick: datetime | None, now: datetime, interval: float, report: Report) -> None:
    if last_tick is None:
        report.checks["tick"] = "no tick yet"
    elif now - last_tick > timedelta(seconds=interval * TICKS_LATE):
        report.checks["tick"] = f"last tick {int((now - last_tick).total_seconds())} s ago"
    else:
        report.checks["tick"] = "ok"


async def readiness(runtime: Runtime) -> Report:
    report = Report()
    await database_checks(runtime.db, report)
    dispatcher = runtime.dispatcher
    tick_check(
        dispatcher.last_tick if dispatcher else None,
        runtime.clock.now(),
        runtime.settings.reminder_tick_seconds,
        report,
    )
    return report
