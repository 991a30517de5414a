"""The active sender: of all bot processes on one database, one sends what is due (reminders,
notices, agendas, digests), so the bot token's budget (about 30 messages a second) is spent by
one process; the others stand by and take over when it goes.

On PostgreSQL the active sender holds `pg_try_advisory_lock(SENDER_KEY)` on a connection of its
own, outside the pool, with TCP keepalives on both ends: a process killed or cut off loses the
lock within about 25 seconds (at once when its socket is closed), and a standby trying at every
tick takes over. The lock is checked before each batch. Queued notices wake the active sender
at once with NOTIFY, from whichever process queued them.

On SQLite the process holding the database (one per file) is always the active sender.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

SENDER_KEY = 7_301_001  # the advisory lock of the active sender
NOTICES_CHANNEL = "crm_notices"
# Server side: a vanished client is noticed after idle + interval × count seconds.
KEEPALIVE = {
    "tcp_keepalives_idle": "10",
    "tcp_keepalives_interval": "5",
    "tcp_keepalives_count": "3",
}


def _client_keepalive(connection: Any) -> None:
    """The same keepalives on this end, so a half-dead server is noticed too."""
    transport = getattr(connection, "_transport", None)
    sock = transport.get_extra_info("socket") if transport is not None else None
    if sock is None:
        return
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 10)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 5)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)


class SenderLock:
    """Whether this process is the active sender, and becoming it when the place is free."""

    def __init__(
        self,
        database_url: str | None,
        on_notice: Callable[[], None],
        on_promoted: Callable[[], None] | None = None,
    ) -> None:
        # None: SQLite, one process per database file, always the sender.
        self.dsn = database_url
        self.on_notice = on_notice
        self.on_promoted = on_promoted  # this process just became the active sender
        self._connection: Any = None
        self._holding = database_url is None
        self._lock = asyncio.Lock()

    @property
    def holding(self) -> bool:
        return self._holding

    async def check(self) -> bool:
        """Still the active sender, or now the active sender? Asked before each batch."""
        if self.dsn is None:
            return True
        async with self._lock:
            if self._holding and self._connection is not None:
                try:
                    await self._connection.execute("SELECT 1")
                    return True
                except Exception:
                    log.warning("lost the connection that holds the sender lock")
                    await self._drop()
            return await self._try()

    async def _try(self) -> bool:
        import asyncpg

        try:
            if self._connection is None or self._connection.is_closed():
                self._connection = await asyncpg.connect(
                    self.dsn, timeout=10, server_settings=KEEPALIVE
                )
                _client_keepalive(self._connection)
            taken = await self._connection.fetchval("SELECT pg_try_advisory_lock($1)", SENDER_KEY)
        except Exception as error:
            log.warning("could not ask for the sender lock: %s", error)
            await self._drop()
            return False
        promoted = bool(taken) and not self._holding
        if promoted:
            log.info("this process is now the active sender")
            await self._connection.add_listener(NOTICES_CHANNEL, self._notified)
        self._holding = bool(taken)
        if promoted and self.on_promoted is not None:
            self.on_promoted()
        return self._holding

    def _notified(self, *_: object) -> None:
        self.on_notice()

    async def _drop(self) -> None:
        connection, self._connection, self._holding = self._connection, None, False
        if connection is not None:
            with contextlib.suppress(Exception):
                await connection.close(timeout=2)

    async def release(self) -> None:
        """At shutdown: the place is free for a standby at once."""
        async with self._lock:
            if self._connection is not None and self._holding:
                with contextlib.suppress(Exception):
                    await self._connection.execute("SELECT pg_advisory_unlock($1)", SENDER_KEY)
            await self._drop()
