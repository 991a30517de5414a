"""Writing an import in one short transaction (`bot.storage.imports`) gives exactly the rows that
creating the deals one by one through `bot.services.deals` gave, on both databases; and 5,000
rows are written in one transaction whose length is measured (printed, not asserted)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlmodel import col, select

from bot.handlers.common import display_name
from bot.handlers.labels import stage_name
from bot.i18n import I18n, Translator
from bot.services import deals, teams
from bot.services.deals import NewDeal
from bot.services.importing import ImportResult, ImportRow
from bot.storage.db import Database
from bot.storage.imports import ImportOutcome, plan_import, plan_rows, write_import
from bot.storage.models import Client, Deal, DealEvent, Member, Reminder, Stage, Team, User
from bot.storage.unit_of_work import UnitOfWork
from tests.conftest import FakeClock


async def legacy_import(
    uow: UnitOfWork, team: Team, manager: Member, rows: Sequence[ImportRow], t: Translator,
    now: datetime,
) -> tuple[int, int]:  # fmt: skip
    """The import as `bot.handlers.imports._import` wrote it before: deal by deal through the
    services, in the caller's transaction (not committed here)."""
    assert team.id is not None
    imported = duplicates = 0
    stages = await uow.teams.stages(team.id)
    stage_by_name: dict[str, Any] = {}
    for stage in stages:
        for name in {stage_name(t, stage), stage.name or "", stage.key or ""}:
            if name:
                stage_by_name[name.casefold()] = stage
    people = await uow.teams.members(team.id, active_only=True)
    owner_by_name = {}
    for person in people:
        owner_by_name[display_name(person.user).casefold()] = person.member
        if person.user.username:
            owner_by_name[person.user.username.casefold()] = person.member
    seen_phones: set[str] = set()
    for row in rows:
        if row.phone and (
            row.phone in seen_phones or await uow.deals.clients_with_phone(team.id, row.phone)
        ):
            duplicates += 1
            continue
        if row.phone:
            seen_phones.add(row.phone)
        owner = owner_by_name.get((row.owner or "").casefold(), manager)
        view = await deals.create_deal(
            uow, owner, team, NewDeal(name=row.name, phone=row.phone, value_minor=row.value_minor),
            now,
        )  # fmt: skip
        matched = stage_by_name.get((row.stage or "").casefold())
        if matched is not None and matched.id != view.deal.stage_id:
            await deals.move_stage(uow, owner, view.deal.id or 0, matched.id or 0, now)
        if row.next_contact is not None:
            if row.next_contact > now:
                await deals.plan_next_contact(uow, owner, view.deal.id or 0, row.next_contact, now)
            else:
                view.deal.next_contact_at = row.next_contact  # already overdue: shown as such
                await uow.deals.touch(view.deal, now)
        imported += 1
    return imported, duplicates


class Office:
    """A team with a manager (Ewa Nowak), two salespeople (Anna Wiśniewska @anna_w, Piotr
    Zieliński), a renamed stage, a custom stage and one client (+48600100200) already."""

    def __init__(self, database: Database, clock: FakeClock, first_user: int) -> None:
        self.database, self.clock, self.first_user = database, clock, first_user

    def uow(self) -> UnitOfWork:
        return UnitOfWork(self.database.sessions, self.clock)

    async def build(self) -> Office:
        now = self.clock.now()
        names = [
            ("Ewa", "Nowak", None), ("Anna", "Wiśniewska", "anna_w"), ("Piotr", "Zieliński", None),
        ]  # fmt: skip
        async with self.uow() as uow:
            for offset, (first, last, username) in enumerate(names):
                await uow.users.add(
                    User(
                        id=self.first_user + offset, first_name=first, last_name=last,
                        username=username, language="pl", created_at=now, last_seen_at=now,
                    )
                )  # fmt: skip
            boss = await uow.users.get(self.first_user)
            assert boss is not None
            self.team, self.manager = await teams.create_team(
                uow, boss, "Salon", now, allowed=True
            )
            for offset in (1, 2):
                user = await uow.users.get(self.first_user + offset)
                assert user is not None
                await teams.join_team(uow, user, self.team.invite_code or "", now)
            assert self.team.id is not None
            stages = await uow.teams.stages(self.team.id)
            stages[2].name = "Spotkanie"  # a renamed default stage
            await uow.teams.save(
                stages[2], Stage(team_id=self.team.id, name="Leasing", position=len(stages))
            )
            await deals.create_deal(
                uow, self.manager, self.team, NewDeal("Stary Klient", "+48600100200"), now
            )
            await uow.commit()
        self.members = [view.member for view in await self.people()]
        return self

    async def people(self) -> list[Any]:
        async with self.uow() as uow:
            assert self.team.id is not None
            return await uow.teams.members(self.team.id)


def _rows(now: datetime) -> list[ImportRow]:
    later, earlier = now + timedelta(days=3, hours=2), now - timedelta(days=10)
    return [
        ImportRow(2, "Jan Kowalski", "+48601000001", 9_500_000, "Oferta wysłana", "Anna Wiśniewska", later),  # noqa: E501
        ImportRow(3, "Maria Popescu", None, None, None, None, None),
        ImportRow(4, "Ivan Petrov", "+48601000002", 100, "contacted", "ANNA_W", earlier),
        ImportRow(5, "Ion Popa", "+48600100200", 5_000, "Spotkanie", None, later),  # a client
        ImportRow(6, "Adam Nowak", "+48601000003", None, "LEASING", "Piotr Zieliński", now),
        ImportRow(7, "Adam Nowak bis", "+48601000003", None, None, None, later),  # repeat
        ImportRow(8, "Olga", None, 1, "Nowy lead", "nobody", later),  # the first stage
        ImportRow(9, "Zofia Łęcka", "+48601000004", 250_000_000, "unknown stage", "piotr", None),
        # The last default stage by its Polish label: "Negocjacje" now ("Jazda próbna /
        # negocjacje" is gone with the new pipeline, and matched nothing on either path).
        ImportRow(10, "  Ana  ", "+48601000005", None, "negocjacje", "Ewa Nowak", earlier),
    ]  # fmt: skip


def _columns(model: type[Any]) -> list[str]:
    return [column.key for column in model.__table__.columns]


async def _snapshot(office: Office) -> dict[str, list[dict[str, Any]]]:
    """Every row the team has, by deal number and event order, with the team's own ids
    replaced by positions (members, stages) or deal numbers, so two teams compare."""
    assert office.team.id is not None
    member_at = {member.id: index for index, member in enumerate(office.members)}
    async with office.uow() as uow:
        stage_at = {
            stage.id: stage.position
            for stage in await uow.teams.stages(office.team.id, include_retired=True)
        }
        session = uow.session
        team_deals = list(
            await session.exec(
                select(Deal).where(Deal.team_id == office.team.id).order_by(col(Deal.number))
            )
        )
        number_of = {deal.id: deal.number for deal in team_deals}
        clients = {
            client.id: client
            for client in await session.exec(
                select(Client).where(Client.team_id == office.team.id)
            )
        }
        events = list(
            await session.exec(
                select(DealEvent)
                .where(DealEvent.team_id == office.team.id)
                .order_by(col(DealEvent.id))
            )
        )
        reminders = list(
            await session.exec(
                select(Reminder)
                .where(Reminder.team_id == office.team.id)
                .order_by(col(Reminder.id))
            )
        )
        # What the JSON column holds as stored: SQL NULL and JSON null read back alike.
        raw_nulls = [
            bool(is_null)
            for (is_null,) in await session.exec(  # type: ignore[call-overload]
                text("SELECT data IS NULL FROM dealevent WHERE team_id = :team ORDER BY id"),
                params={"team": office.team.id},
            )
        ]

    def plain(row: Any, model: type[Any]) -> dict[str, Any]:
        values = {
            key: getattr(row, key) for key in _columns(model) if key not in ("id", "team_id")
        }
        for key in ("owner_member_id", "actor_member_id", "member_id"):
            if key in values and values[key] is not None:
                values[key] = member_at[values[key]]
        for key in ("stage_id", "from_stage_id", "to_stage_id"):
            if key in values and values[key] is not None:
                values[key] = stage_at[values[key]]
        if "deal_id" in values:
            values["deal_id"] = number_of[values["deal_id"]]
        return values

    snapshot: dict[str, list[dict[str, Any]]] = {"deals": [], "clients": []}
    for deal in team_deals:
        values = plain(deal, Deal)
        values.pop("client_id")
        snapshot["deals"].append(values)
        client = plain(clients[deal.client_id], Client)
        snapshot["clients"].append(client)
    snapshot["events"] = sorted(
        (
            {**plain(row, DealEvent), "data_is_null": is_null}
            for row, is_null in zip(events, raw_nulls, strict=True)
        ),
        key=lambda values: values["deal_id"],  # stable: each deal's events in their order
    )
    snapshot["reminders"] = sorted(
        (plain(row, Reminder) for row in reminders), key=lambda values: values["deal_id"]
    )
    return snapshot


@pytest.fixture
def t(i18n: I18n) -> Translator:
    return i18n.translator("pl", "Europe/Warsaw")


async def test_the_new_write_gives_the_rows_the_deal_by_deal_path_gave(
    database: Database, clock: FakeClock, t: Translator
) -> None:
    old = await Office(database, clock, 100).build()
    new = await Office(database, clock, 200).build()
    clock.advance(minutes=5)
    now = clock.now()
    rows = _rows(now)

    async with old.uow() as uow:
        assert await legacy_import(uow, old.team, old.manager, rows, t, now) == (7, 2)
        await uow.commit()
    async with new.uow() as uow:
        plan = await plan_import(uow, new.team, new.manager, ImportResult(rows, [], {}), t)
    async with new.uow() as uow:
        outcome = await write_import(uow.session, new.team, plan, now)
        await uow.commit()

    assert outcome == ImportOutcome(imported=7, duplicates=2, numbers=range(2, 9))
    before, after = await _snapshot(old), await _snapshot(new)
    # 8 created (one before the import), 4 moved to their stage, 2 with a future next contact
    assert len(after["deals"]) == 8 and len(after["events"]) == 8 + 4 + 2
    assert len(after["reminders"]) == 2
    for table in ("deals", "clients", "events", "reminders"):
        for index, (written, expected) in enumerate(zip(after[table], before[table], strict=True)):
            differing = {
                key: (written[key], expected.get(key))
                for key in written.keys() | expected.keys()
                if written.get(key) != expected.get(key)
            }
            assert not differing, (table, index, differing)
    # The matching itself: owners and stages as the old path found them.
    pairs = zip(after["clients"], after["deals"], strict=True)
    by_name = {client["name"]: deal for client, deal in pairs}
    assert by_name["Jan Kowalski"]["owner_member_id"] == 1  # by display name
    assert by_name["Ivan Petrov"]["owner_member_id"] == 1  # by username, any case
    assert by_name["Olga"]["owner_member_id"] == 0  # unknown: the manager
    assert by_name["Adam Nowak"]["stage_id"] == 5  # the custom stage, any case
    assert by_name["Ana"]["stage_id"] == 4 and by_name["Ana"]["next_contact_at"] is not None


async def test_nothing_to_write_and_plans_that_do_not_fit(
    database: Database, clock: FakeClock, t: Translator
) -> None:
    office = await Office(database, clock, 100).build()
    other = await Office(database, clock, 200).build()
    now = clock.now()
    rows = [ImportRow(2, "Ion Popa", "+48600100200", None, None, None, None)]
    async with UnitOfWork(database.read_sessions, clock) as reader:  # planning only reads
        plan = await plan_import(
            reader, office.team, office.manager, ImportResult(rows, [], {}), t
        )
    async with office.uow() as uow:
        outcome = await write_import(uow.session, office.team, plan, now)
        await uow.commit()
        with pytest.raises(ValueError, match="another team"):
            await write_import(uow.session, other.team, plan, now)
    assert outcome == ImportOutcome(imported=0, duplicates=1, numbers=range(0))
    people = await office.people()
    with pytest.raises(ValueError, match="no stages"):
        plan_rows(rows, [], people, office.manager, t)


@contextmanager
def write_transaction_timer(database: Database) -> Iterator[list[float]]:
    """The moments (perf_counter) transactions begin on the engine: with the end measured by
    the caller, how long the write transaction (SQLite's write lock) lasted."""
    begun: list[float] = []

    def began(connection: Connection) -> None:
        begun.append(time.perf_counter())

    event.listen(database.engine.sync_engine, "begin", began)
    try:
        yield begun
    finally:
        event.remove(database.engine.sync_engine, "begin", began)


def many_rows(count: int, now: datetime, *, phone_prefix: str = "+4860") -> list[ImportRow]:
    """Rows like a real file's: most with phones and values, a third at a later stage, half
    with a next contact (some past), the owners spread over the team."""
    stages = ("Oferta wysłana", None, "Spotkanie")
    owners = ("Anna Wiśniewska", None, "piotr zieliński", "nobody")
    return [
        ImportRow(
            row_number=index + 2,
            name=f"Klient {index}",
            phone=f"{phone_prefix}{index:07d}" if index % 10 else None,
            value_minor=(index + 1) * 1_000 if index % 4 else None,
            stage=stages[index % 3],
            owner=owners[index % 4],
            next_contact=now + timedelta(days=index % 7 - 2, hours=3) if index % 2 else None,
        )
        for index in range(count)
    ]


async def test_5000_rows_in_one_short_write_transaction(
    database: Database, clock: FakeClock, t: Translator, capsys: pytest.CaptureFixture[str]
) -> None:
    office = await Office(database, clock, 100).build()
    now = clock.now()
    rows = many_rows(5_000, now)
    async with UnitOfWork(database.read_sessions, clock) as reader:
        plan = await plan_import(
            reader, office.team, office.manager, ImportResult(rows, [], {}), t
        )
    with write_transaction_timer(database) as begun:
        async with office.uow() as uow:
            started = time.perf_counter()
            outcome = await write_import(uow.session, office.team, plan, now)
            await uow.commit()
            ended = time.perf_counter()
    assert outcome.imported == 5_000 and outcome.duplicates == 0
    assert outcome.numbers == range(2, 5_002)
    locked = ended - begun[-1]
    with capsys.disabled():
        print(
            f"\n[{database.engine.dialect.name}] 5,000 rows: write transaction {locked:.3f} s "
            f"(write_import + commit {ended - started:.3f} s)"
        )
    async with office.uow() as uow:
        assert office.team.id is not None
        count = await uow.session.exec(  # type: ignore[call-overload]
            text("SELECT count(*) FROM deal WHERE team_id = :team"),
            params={"team": office.team.id},
        )
        assert count.one()[0] == 5_001
        team = await uow.teams.get(office.team.id)
        assert team is not None and team.deal_counter == 5_001
