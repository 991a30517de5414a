"""Writing an import: every good row of a file becomes a client and a deal, with exactly the
events and reminders that creating them one by one through `bot.services.deals` writes
(`create_deal`, then `move_stage` to the row's stage, then `plan_next_contact` for a future next
contact or an overdue `next_contact_at` for a past one), in one short transaction.

Two steps, so that the slow part never holds a write lock (SQLite has one writer: a long import
would keep the dispatcher from marking reminders sent):

* `plan_rows(rows, stages, people, manager, t)`, pure, or `await plan_import(uow, team,
  manager, result, t)`, which reads the stages and people first (a read transaction is
  enough): each row's owner (display name or username, casefolded, else the importing manager)
  and stage (translated name, custom name or key, casefolded, else the first stage), and the
  rows whose phone an earlier row of the file already has;
* `await write_import(session, team, plan, now)`, in the caller's write transaction, which the
  caller commits: one query for the team's clients with the file's phones (those rows are
  duplicates, as are the repeats within the file), one `UPDATE team ... RETURNING` reserving all
  the deal numbers, and one executemany INSERT per table (clients, deals, events, reminders;
  sent in multi-row batches on PostgreSQL). Every row is built before the first statement;
  inside the transaction only ids are filled in.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import SQLModel, col
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.domain import CLIENT_NAME_MAX, MAX_AMOUNT_MINOR, EventKind, ReminderKind
from bot.storage.models import Client, Deal, DealEvent, Member, Reminder, Stage, Team
from bot.text import search_key

if TYPE_CHECKING:
    from bot.i18n import Translator
    from bot.services.importing import ImportResult, ImportRow
    from bot.storage.teams import MemberView
    from bot.storage.unit_of_work import UnitOfWork

PHONES_PER_QUERY = 1_000  # bound parameters of one `phone IN (...)`


@dataclass(frozen=True)
class PlannedDeal:
    row_number: int
    name: str
    phone: str | None
    value_minor: int | None
    owner_member_id: int  # also the actor of its events, as when created one by one
    stage_id: int  # where the deal ends up (the first stage, or the row's)
    next_contact: datetime | None


@dataclass(frozen=True)
class ImportPlan:
    team_id: int
    first_stage_id: int
    deals: list[PlannedDeal]  # in the file's order, without the repeats within the file
    repeats: int  # rows whose phone an earlier row of the file has


@dataclass(frozen=True)
class ImportOutcome:
    imported: int
    duplicates: int  # rows skipped: the phone is a client of the team, or repeats a row above
    numbers: range  # the new deals' numbers, in the file's order


def plan_rows(
    rows: Sequence[ImportRow],
    stages: Sequence[Stage],
    people: Sequence[MemberView],
    manager: Member,
    t: Translator,
) -> ImportPlan:
    """Owners and stages matched by name, repeated phones marked (see the module docstring).

    `stages` are the team's current stages in pipeline order (`TeamRepository.stages`),
    `people` its active members (`TeamRepository.members(active_only=True)`)."""
    from bot.handlers.common import display_name  # the names people and stages are shown by
    from bot.handlers.labels import stage_name

    if not stages or stages[0].id is None:
        raise ValueError("the team has no stages")
    if manager.id is None or not manager.active or manager.team_id != stages[0].team_id:
        raise ValueError("the importing manager is not an active member of the team")
    stage_by_name: dict[str, Stage] = {}
    for stage in stages:
        for name in {stage_name(t, stage), stage.name or "", stage.key or ""}:
            if name:
                stage_by_name[name.casefold()] = stage
    owner_by_name: dict[str, Member] = {}
    for person in people:
        owner_by_name[display_name(person.user).casefold()] = person.member
        if person.user.username:
            owner_by_name[person.user.username.casefold()] = person.member
    first = stages[0].id
    planned: list[PlannedDeal] = []
    seen: set[str] = set()
    repeats = 0
    for row in rows:
        if row.phone:
            if row.phone in seen:
                repeats += 1
                continue
            seen.add(row.phone)
        if row.value_minor is not None and not 0 < row.value_minor <= MAX_AMOUNT_MINOR:
            raise ValueError(f"row {row.row_number}: value out of bounds")
        owner = owner_by_name.get((row.owner or "").casefold(), manager)
        name = row.name.strip()
        if not name or len(name) > CLIENT_NAME_MAX:
            raise ValueError(f"row {row.row_number}: no name, or a name too long")
        matched = stage_by_name.get((row.stage or "").casefold())
        assert owner.id is not None
        planned.append(
            PlannedDeal(
                row_number=row.row_number,
                name=name,
                phone=row.phone,
                value_minor=row.value_minor,
                owner_member_id=owner.id,
                stage_id=matched.id if matched is not None and matched.id is not None else first,
                next_contact=row.next_contact,
            )
        )
    return ImportPlan(
        team_id=manager.team_id, first_stage_id=first, deals=planned, repeats=repeats
    )


async def plan_import(
    uow: UnitOfWork, team: Team, manager: Member, result: ImportResult, t: Translator
) -> ImportPlan:
    """`plan_rows` with the team's stages and active people read through `uow`."""
    assert team.id is not None
    stages = await uow.teams.stages(team.id)
    people = await uow.teams.members(team.id, active_only=True)
    return plan_rows(result.rows, stages, people, manager, t)


@dataclass
class _Rows:
    """One planned deal's rows, ready but for the ids the database hands out."""

    phone: str | None
    client: dict[str, Any]
    deal: dict[str, Any]
    events: list[dict[str, Any]]
    reminder: dict[str, Any] | None


async def write_import(
    session: AsyncSession, team: Team, plan: ImportPlan, now: datetime
) -> ImportOutcome:
    """Write the plan in the session's transaction (begun here if none is; not committed).

    Rows whose phone is already a client of the team are skipped, like the repeats the plan
    found: `duplicates` counts both."""
    if team.id is None or team.id != plan.team_id:
        raise ValueError("the plan is for another team")
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    prepared = [_prepare(team, plan, deal, now) for deal in plan.deals]

    # The transaction: on SQLite the write lock is held from here to the caller's commit.
    connection = await session.connection()
    phones = sorted({rows.phone for rows in prepared if rows.phone})
    existing: set[str] = set()
    for chunk in _chunks(phones, PHONES_PER_QUERY):
        found = await connection.execute(
            select(col(Client.phone)).where(
                col(Client.team_id) == team.id, col(Client.phone).in_(chunk)
            )
        )
        existing.update(phone for phone in found.scalars() if phone is not None)
    kept = [rows for rows in prepared if rows.phone is None or rows.phone not in existing]
    duplicates = plan.repeats + len(prepared) - len(kept)
    if not kept:
        return ImportOutcome(imported=0, duplicates=duplicates, numbers=range(0))

    client_ids = await _insert(connection, Client, [rows.client for rows in kept])
    # The team's row stays locked from here to the commit (other deals of the team wait).
    reserved = await connection.execute(
        update(Team)
        .where(col(Team.id) == team.id)
        .values(deal_counter=col(Team.deal_counter) + len(kept))
        .returning(col(Team.deal_counter))
    )
    last = int(reserved.scalar_one())
    numbers = range(last - len(kept) + 1, last + 1)
    for rows, number, client_id in zip(kept, numbers, client_ids, strict=True):
        rows.deal["number"], rows.deal["client_id"] = number, client_id
    deal_ids = await _insert(connection, Deal, [rows.deal for rows in kept])
    events: list[dict[str, Any]] = []
    reminders: list[dict[str, Any]] = []
    for rows, deal_id in zip(kept, deal_ids, strict=True):
        for event in rows.events:
            event["deal_id"] = deal_id
        events.extend(rows.events)
        if rows.reminder is not None:
            rows.reminder["deal_id"] = deal_id
            reminders.append(rows.reminder)
    await _insert(connection, DealEvent, events)
    await _insert(connection, Reminder, reminders)
    return ImportOutcome(imported=len(kept), duplicates=duplicates, numbers=numbers)


def _prepare(team: Team, plan: ImportPlan, planned: PlannedDeal, now: datetime) -> _Rows:
    """The rows `create_deal` + `move_stage` + `plan_next_contact` (or an overdue date) write
    for one deal; `number`, `client_id` and `deal_id` are filled in when known."""
    assert team.id is not None
    owner = planned.owner_member_id
    first = plan.first_stage_id
    client = {
        **_template(Client),
        "team_id": team.id,
        "name": planned.name,
        "phone": planned.phone,
        "company": None,
        "source": None,
        "search_key": search_key(planned.name),
        "created_at": now,
    }
    deal = {
        **_template(Deal),
        "team_id": team.id,
        "number": None,
        "client_id": None,
        "owner_member_id": owner,
        "stage_id": planned.stage_id,
        "value_minor": planned.value_minor,
        "currency": team.currency,
        "last_note": None,
        "stage_entered_at": now,
        "created_at": now,
        "updated_at": now,
    }
    event = {
        **_template(DealEvent),
        "team_id": team.id,
        "deal_id": None,
        "at": now,
        "actor_member_id": owner,
        "owner_member_id": owner,
    }
    events = [
        {
            **event,
            "kind": EventKind.CREATED,
            "to_stage_id": first,
            "amount_minor": planned.value_minor,
            "data": None,
        }
    ]
    if planned.stage_id != first:
        events.append(
            {
                **event,
                "kind": EventKind.STAGE_CHANGED,
                "from_stage_id": first,
                "to_stage_id": planned.stage_id,
                "stage_seconds": 0,  # created this very moment
                "data": {"stage_entered_at": now.isoformat()},
            }
        )
    reminder = None
    # `DealRepository.touch` counts every recorded change in `version`: the creation, the move
    # to the row's stage, the next contact (planned, or set as overdue).
    deal["version"] = 1 + (planned.stage_id != first) + (planned.next_contact is not None)
    if planned.next_contact is not None:
        deal["next_contact_at"] = planned.next_contact
        if planned.next_contact > now:
            deal["next_step"] = None
            reminder = {
                **_template(Reminder),
                "team_id": team.id,
                "deal_id": None,
                "member_id": owner,
                "kind": ReminderKind.NEXT_CONTACT,
                "due_at": planned.next_contact,
                "note": None,
                "created_at": now,
            }
            events.append(
                {
                    **event,
                    "kind": EventKind.FOLLOW_UP_SET,
                    "due_at": planned.next_contact,
                    "text": None,
                }
            )
        # else: already overdue, shown as such; no reminder and no event, as before
    return _Rows(planned.phone, client, deal, events, reminder)


_TEMPLATES: dict[type[SQLModel], dict[str, Any]] = {}


def _template(model: type[SQLModel]) -> dict[str, Any]:
    """Every column but the id, at the value a new instance of the model has (its defaults),
    so that the rows written here hold what the ORM would have written."""
    template = _TEMPLATES.get(model)
    if template is None:
        table = model.__table__  # type: ignore[attr-defined]
        template = {}
        for column in table.columns:
            if column.primary_key:
                continue
            field = model.model_fields.get(column.key)
            if field is None or field.is_required():
                template[column.key] = None
            else:
                template[column.key] = field.get_default(call_default_factory=True)
        _TEMPLATES[model] = template
    return template


async def _insert(
    connection: AsyncConnection, model: type[SQLModel], rows: list[dict[str, Any]]
) -> list[int]:
    """One executemany INSERT of `rows`; their new ids, in `rows`' order."""
    if not rows:
        return []
    table = model.__table__  # type: ignore[attr-defined]
    if connection.dialect.name == "sqlite":
        # SQLite's RETURNING comes in no promised order, and SQLAlchemy then inserts row by row
        # to keep it. The transaction holds the write lock (BEGIN IMMEDIATE, see
        # `bot.storage.db`): the rows get the ids SQLite would give them, one past the largest.
        largest = (await connection.execute(select(func.max(table.c.id)))).scalar()
        first = int(largest or 0) + 1
        ids = list(range(first, first + len(rows)))
        for row, row_id in zip(rows, ids, strict=True):
            row["id"] = row_id
        await connection.execute(insert(table), rows)
        return ids
    # PostgreSQL: batches of INSERT ... SELECT ... ORDER BY a sentinel ... RETURNING, sorted back.
    result = await connection.execute(
        insert(table).returning(table.c.id, sort_by_parameter_order=True), rows
    )
    return [int(row_id) for row_id in result.scalars()]


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
