"""This process's claims on shared work (reminders, daily messages, notices, jobs): one task
renews every lease the process holds, a quarter of the lease's length apart, for as long as it
runs, also while a sender is retrying to mark a delivered message sent. A process that stops
gives back what it still holds; one that dies leaves leases that expire, and another sender
takes the work over then (see `bot.storage.leases`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.runtime import Runtime
from bot.storage import leases

log = logging.getLogger(__name__)


class LeaseKeeper:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._task: asyncio.Task[None] | None = None

    @property
    def interval(self) -> float:
        return self.runtime.settings.lease_seconds / 4

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="lease-keeper")

    async def renew(self) -> int:
        runtime = self.runtime
        async with runtime.uow() as uow:
            renewed = await leases.renew(
                uow.session, runtime.worker_id, runtime.lease_until(runtime.clock.now())
            )
            await uow.commit()
        return renewed

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.renew()
            except Exception:
                # The database may be away for a moment; the next beat tries again, and the
                # lease (four beats long) outlives a short outage.
                log.warning("could not renew this process's leases", exc_info=True)

    async def stop(self) -> None:
        """Stop renewing and give back what is still held, so another sender takes it at once."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        try:
            async with self.runtime.uow() as uow:
                released = await leases.release_all(uow.session, self.runtime.worker_id)
                await uow.commit()
        except Exception:
            log.warning("could not give back this process's claims", exc_info=True)
            return
        if released:
            log.info("gave back %s claims at shutdown", released)
