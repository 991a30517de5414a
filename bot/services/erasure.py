"""A client's personal data erased on request (GDPR Art. 17): the one exception to "every
change is kept". Only a manager of the client's team may; the client's deals, their numbers,
stages, amounts, dates and reasons stay, so the figures do not change (see
`bot.storage.erasure` for exactly what goes). Each erasure is recorded in the database and in
an append-only log beside it (`ErasureLog`): a restored backup made before an erasure gets it
again at the next start, so an erased client never comes back."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from dateutil.relativedelta import relativedelta

from bot.domain import AuditAction
from bot.services import audit
from bot.services.deals import is_manager, load
from bot.services.errors import Problem, RuleError
from bot.storage.db import Database
from bot.storage.models import Client, Erasure, Member, Team
from bot.storage.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class Erased:
    client: Client
    deal_ids: list[int]


async def erase_client(
    uow: UnitOfWork, manager: Member, deal_id: int, version: int, now: datetime
) -> Erased:
    """Erase the personal data of the client of `deal_id` (any deal of theirs), asked on a
    screen of the deal at `version`."""
    if not is_manager(manager):
        raise RuleError(Problem.DEAL_NOT_FOUND)
    view = await load(uow, manager, deal_id)
    client = view.client
    if client.erased_at is not None:
        raise RuleError(Problem.ALREADY_DONE)
    if view.deal.version != version:
        raise RuleError(Problem.STALE)
    deal_ids = await uow.erasure.erase(client, now=now, by_member_id=manager.id)
    await audit.record(
        uow, manager.team_id, manager, AuditAction.ERASURE, count=1, deal=view.deal.number
    )
    return Erased(client, list(deal_ids))


# Clients erased by the retention setting in one go (the next run takes the rest).
RETENTION_BATCH = 500


async def erase_expired(uow: UnitOfWork, team: Team, now: datetime) -> list[Erasure]:
    """Retention: the personal data of clients whose deals all closed more than the team's
    `erase_closed_years` ago is erased (by nobody: the setting did it), recorded once in the
    audit; returns the erasures, for `settle`."""
    years = team.erase_closed_years
    if not years or team.id is None:
        return []
    before = now - relativedelta(years=years)  # from 29 February: the 28th
    clients = await uow.erasure.expired_clients(team.id, before, RETENTION_BATCH)
    for client in clients:
        await uow.erasure.erase(client, now=now, by_member_id=None)
    if not clients:
        return []
    await audit.record(
        uow, team.id, None, AuditAction.RETENTION_ERASURE, count=len(clients), years=years
    )
    ids = {client.id for client in clients}
    return [entry for entry in await uow.erasure.entries(team.id) if entry.client_id in ids]


async def settle(database: Database, log: ErasureLog, erasures: Sequence[Erasure]) -> None:
    """After the erasures are committed: each goes to the erasure log (a restore of an older
    backup erases them again), and the old versions of the erased rows leave the database."""
    if not erasures:
        return
    for entry in erasures:
        log.append(entry)
    await database.checkpoint()


async def reapply(uow: UnitOfWork, entries: list[dict[str, object]], now: datetime) -> int:
    """Erase again what the log says was erased (after a restore); returns how many."""
    done = 0
    for entry in entries:
        try:
            client_id = int(str(entry["client"]))
            created = datetime.fromisoformat(str(entry["created"]))
            team_id = int(str(entry["team"]))
        except (KeyError, ValueError):
            continue
        client = await uow.erasure.client(client_id)
        if client is None or client.erased_at is not None or client.team_id != team_id:
            continue
        if client.created_at != created:  # another client with the same id: not theirs
            continue
        by = entry.get("by")
        await uow.erasure.erase(client, now=now, by_member_id=int(str(by)) if by else None)
        done += 1
    return done


async def reapply_log(
    uow_factory: Callable[[], UnitOfWork], log: ErasureLog, now: datetime
) -> int:
    """Erase again every client of the log still found with data (after a restore)."""
    entries = log.entries()
    if not entries:
        return 0
    async with uow_factory() as uow:
        done = await reapply(uow, entries, now)
        await uow.commit()
    return done


class ErasureLog:
    """One JSON line per erasure (team, client id, the client's creation time, when, by whom:
    nothing personal), appended and synced before the erasure is reported done."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, erasure: Erasure) -> None:
        line = json.dumps(
            {
                "team": erasure.team_id,
                "client": erasure.client_id,
                "created": erasure.client_created_at.isoformat(),
                "at": erasure.at.isoformat(),
                "by": erasure.by_member_id,
            }
        )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(descriptor, (line + "\n").encode())
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

    def entries(self) -> list[dict[str, object]]:
        if not self.path.exists():
            return []
        entries = []
        for line in self.path.read_text().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue  # a line cut short by a crash
            if isinstance(entry, dict):
                entries.append(entry)
        return entries
