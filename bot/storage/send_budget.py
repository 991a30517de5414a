"""The bot token's send budget shared by every process on one PostgreSQL database.

One row (`send_budget`, id 1) is a token bucket: it refills at `rate` tokens a second up to
`cap`, and each message any process sends takes one token in a single autocommit statement
(the row's lock makes the takes one at a time). Bulk takes a token only while one more stays
for the replies, so a reply in any process goes before another process's reminders. A 429 from
Telegram holds the whole bucket (`held_until`) for the time asked, so every process waits.

The refill runs on the database's clock (`clock_timestamp()`): a rate shared by several hosts
needs one clock, and a process whose clock is moved (libfaketime) or skewed must neither mint
tokens nor starve the others. It is the one place that reads the database's time, and it is
never compared with a business time.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

_ENSURE = text(
    "INSERT INTO send_budget (id, tokens, refilled_at) VALUES (1, 0, clock_timestamp()) "
    "ON CONFLICT (id) DO NOTHING"
)

# One statement: refill from the elapsed time, take a token when `need` are there and nothing
# holds the bucket; returns what was there and how long a hold lasts.
_TAKE = text(
    """
    WITH t AS (SELECT clock_timestamp() AS now),
    cur AS (
        SELECT LEAST(:cap, b.tokens + GREATEST(EXTRACT(EPOCH FROM t.now - b.refilled_at), 0)
                   * :rate) AS avail,
               GREATEST(COALESCE(EXTRACT(EPOCH FROM b.held_until - t.now), 0), 0) AS held,
               t.now AS now
        FROM send_budget b, t WHERE b.id = 1 FOR UPDATE OF b
    )
    UPDATE send_budget SET
        tokens = CASE WHEN cur.held = 0 AND cur.avail >= :need THEN cur.avail - 1
                      ELSE cur.avail END,
        refilled_at = cur.now
    FROM cur WHERE send_budget.id = 1
    RETURNING cur.avail, cur.held
    """
)

_HOLD = text(
    "UPDATE send_budget SET held_until = GREATEST(COALESCE(held_until, clock_timestamp()), "
    "clock_timestamp() + make_interval(secs => :seconds)) WHERE id = 1"
)


@dataclass(frozen=True)
class Take:
    granted: bool
    wait: float  # seconds until a token may be there (0 when granted)


class SharedBudget:
    def __init__(self, engine: AsyncEngine, *, rate: float, cap: float) -> None:
        self.engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.rate = rate
        self.cap = cap

    async def ensure(self) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(_ENSURE)

    async def take(self, *, interactive: bool) -> Take:
        need = 1.0 if interactive else 2.0  # bulk leaves one token for a reply
        async with self.engine.connect() as connection:
            row = (
                await connection.execute(_TAKE, {"cap": self.cap, "rate": self.rate, "need": need})
            ).one_or_none()
        if row is None:  # the row went away: put it back, try again shortly
            await self.ensure()
            return Take(False, 0.01)
        avail, held = float(row[0]), float(row[1])
        if held > 0:
            return Take(False, held)
        if avail >= need:
            return Take(True, 0.0)
        return Take(False, max((need - avail) / self.rate, 0.005))

    async def hold(self, seconds: float) -> None:
        async with self.engine.connect() as connection:
            await connection.execute(_HOLD, {"seconds": seconds})
