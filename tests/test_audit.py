"""Operating for years, the parts of the GDPR and accountability a manager sees: the
append-only audit of team-level actions in /team → 🧾 Audit (paged, in the reader's language,
another team's never), everything about one client as a formula-safe workbook and JSON for an
access request (audited), and the team's retention setting (off by default) that erases the
personal data of clients whose deals all closed long ago. Both databases."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, select

from bot.app import erase_expired_clients
from bot.domain import AuditAction, ReminderStatus
from bot.i18n import Translator
from bot.services import audit, deals
from bot.storage.models import AuditEntry, Client, Reminder
from tests.fakes.telegram_server import BotMessage, FakeTelegram
from tests.harness import BotRunner, member_of, seed_deal, seed_team

ZONES = {"pl": "Europe/Warsaw", "ru": "Europe/Moscow", "en": "Europe/London"}


def tt(bot: BotRunner, language: str) -> Translator:
    return bot.runtime.i18n.translator(language, ZONES[language])


async def entries(bot: BotRunner, team_id: int) -> list[AuditEntry]:
    async with bot.runtime.uow() as uow:
        return await audit.page(uow, team_id, 0, 100)


def edited(message: BotMessage) -> bool:
    return message.event == "edit"


@pytest.mark.parametrize(
    ("language", "names"), [("pl", ("Marek", "Ania", "Ola")), ("ru", ("Олег", "Иван", "Ольга"))]
)
async def test_the_audit_lists_the_teams_actions_newest_first_in_the_managers_language(
    bot: BotRunner, fake_telegram: FakeTelegram, language: str, names: tuple[str, str, str]
) -> None:
    boss, seller, leaver = names
    people = await seed_team(
        bot,
        fake_telegram,
        "Salon",
        [
            (1, boss, language, "manager"),
            (2, seller, language, "salesperson"),
            (3, leaver, language, "salesperson"),
        ],
        morning_agenda=False,
    )
    other = await seed_team(bot, fake_telegram, "Other", [(9, "Mark", "en", "manager")])
    manager = people[boss]
    t = tt(bot, language)
    b = lambda label: t.pgettext("button", label)  # noqa: E731
    await seed_deal(bot, 2, "Jan Kowalski")

    await manager.send("/team")
    await manager.expect("join-")
    await manager.tap(seller)
    await manager.expect(predicate=edited)
    await manager.tap(b("👑 Make manager"))
    await manager.expect(predicate=edited)
    await manager.tap(b("👤 Make salesperson"))
    await manager.expect(predicate=edited)
    await manager.tap(b("◀️ Back"))
    await manager.expect(predicate=edited)
    await manager.tap(leaver)
    await manager.expect(predicate=edited)
    await manager.tap(b("⛔ Turn off access"))
    await manager.expect(predicate=edited)
    await manager.tap(b("⛔ Yes, turn off"))
    await manager.expect(predicate=edited)
    giver, taker = await member_of(bot, 2), await member_of(bot, 1)
    await manager.forge_tap(f"tm:hot:{giver.id}:{taker.id}")
    await manager.expect(predicate=edited)
    await manager.send("/settings")
    await manager.expect("⚙️")
    await manager.tap(b("📨 Digest time"))
    await manager.expect(predicate=edited)
    await manager.tap("19:00")
    await manager.expect(predicate=edited)
    await manager.send("/export")
    await manager.expect(
        predicate=lambda m: m.document is not None and m.document.filename.endswith(".csv")
    )
    await bot.jobs_done()  # recorded once the files are sent

    await manager.send("/team")
    await manager.expect("join-")
    await manager.tap(b("🧾 Audit"))
    shown = await manager.expect(predicate=edited)
    lines = [line.split(" · ", 1)[1] for line in shown.text.split("\n") if " · " in line]
    assert lines == [
        t.ngettext(
            "📦 {who} exported the team's deals: {n} deal with its history",
            "📦 {who} exported the team's deals: {n} deals with their history",
            1,
        ).format(who=boss, n=1),
        t._("⚙️ {who} changed {setting}: {old} → {new}").format(
            who=boss, setting=t._("the digest time"), old="18:00", new="19:00"
        ),
        t.ngettext(
            "📦 {who} handed {n} deal of {member} over to {to}",
            "📦 {who} handed {n} deals of {member} over to {to}",
            1,
        ).format(who=boss, n=1, member=seller, to=boss),
        t._("⛔ {who} turned off access for {member}").format(who=boss, member=leaver),
        t._("👤 {who} made {member} a salesperson").format(who=boss, member=seller),
        t._("👑 {who} made {member} a manager").format(who=boss, member=seller),
    ]
    # Another team's manager sees none of it.
    mark = other["Mark"]
    await mark.send("/team")
    await mark.expect("join-")
    await mark.tap("🧾 Audit")
    theirs = await mark.expect(predicate=edited)
    assert "Nothing yet" in theirs.text and boss not in theirs.text
    # A salesperson cannot open it, not even with a forged button.
    await people[seller].forge_tap("tm:au:0")
    await people[seller].expect_answer()
    assert not [m for m in people[seller].messages if "🧾" in m.text]


async def test_the_audit_is_paged_and_append_only(
    bot: BotRunner, fake_telegram: FakeTelegram
) -> None:
    people = await seed_team(bot, fake_telegram, "North", [(1, "Mark", "en", "manager")])
    mark = people["Mark"]
    member = await member_of(bot, 1)
    async with bot.runtime.uow() as uow:
        for hour in range(23):
            await uow.audit.add(
                AuditEntry(
                    team_id=member.team_id,
                    at=datetime(2026, 11, 20, 0, tzinfo=UTC) + timedelta(hours=hour),
                    actor_member_id=member.id,
                    action=AuditAction.IMPORT,
                    count=hour + 1,
                )
            )
        await uow.commit()
    await mark.send("/team")
    await mark.expect("join-")
    await mark.tap("🧾 Audit")
    first = await mark.expect(predicate=edited)
    assert "Page 1 of 3" in first.text and "imported 23 clients" in first.text
    assert first.find_button("◀️ Newer") is None
    await mark.tap("Older ▶️")
    second = await mark.expect(predicate=edited)
    assert "Page 2 of 3" in second.text and "imported 13 clients" in second.text
    await mark.tap("Older ▶️")
    last = await mark.expect(predicate=edited)
    assert "imported 1 client" in last.text and last.find_button("Older ▶️") is None

    # The database refuses to change or delete what was recorded.
    for statement in ("UPDATE audit SET count = 0", "DELETE FROM audit"):
        with pytest.raises(DBAPIError, match="append-only"):
            async with bot.runtime.db.engine.begin() as connection:
                await connection.exec_driver_sql(statement)
    assert len(await entries(bot, member.team_id)) == 23


async def test_a_manager_gets_everything_about_one_client_for_an_access_request(
    bot: BotRunner, fake_telegram: FakeTelegram
) -> None:
    people = await seed_team(
        bot,
        fake_telegram,
        "Salon",
        [(1, "Marek", "pl", "manager"), (2, "Ania", "pl", "salesperson")],
        morning_agenda=False,
    )
    marek, ania = people["Marek"], people["Ania"]
    t = tt(bot, "pl")
    name = '=HYPERLINK("http://x") Nowak'
    deal_id = await seed_deal(
        bot,
        2,
        name,
        phone="+48600100200",
        note="-2+3 woli leasing",
        next_contact=bot.clock.now() + timedelta(days=1),
        step="zadzwonić o leasing",
    )
    await seed_deal(bot, 2, "Ewa Lis")  # another client: not in the files

    await ania.send("/find Nowak")
    await ania.expect("Nowak")
    await ania.tap("✏️")
    menu = await ania.expect(predicate=edited)
    assert menu.find_button(t.pgettext("button", "📇 Client's data (access request)")) is None

    await marek.send("/find Nowak")
    await marek.expect("Nowak")
    await marek.tap("✏️")
    await marek.expect(predicate=edited)
    await marek.tap(t.pgettext("button", "📇 Client's data (access request)"))
    await marek.expect("📇")
    book_message = await marek.expect(
        predicate=lambda m: m.document is not None and m.document.filename.endswith(".xlsx")
    )
    json_message = await marek.expect(
        predicate=lambda m: m.document is not None and m.document.filename.endswith(".json")
    )
    assert book_message.document is not None and json_message.document is not None
    book = load_workbook(io.BytesIO(book_message.document.data))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    assert not [cell.coordinate for cell in cells if cell.data_type == "f"]
    values = {cell.value for cell in cells}
    assert {name, "+48600100200", "-2+3 woli leasing", "zadzwonić o leasing"} <= values
    assert "Ewa Lis" not in values
    assert [sheet.title for sheet in book.worksheets] == [
        t._("Client"),
        t._("Deals"),
        t._("History"),
        t._("Reminders"),
    ]
    data = json.loads(json_message.document.data)
    assert data["client"]["name"] == name and data["client"]["phone"] == "+48600100200"
    assert [deal["number"] for deal in data["deals"]] == [1]
    assert data["deals"][0]["next_step"] == "zadzwonić o leasing"
    assert any(event["text"] == "-2+3 woli leasing" for event in data["events"])
    assert [r["status"] for r in data["reminders"]] == [ReminderStatus.PENDING]

    await bot.jobs_done()  # the files are sent, then the export is recorded
    member = await member_of(bot, 1)
    (entry,) = await entries(bot, member.team_id)
    assert (entry.action, entry.actor_member_id, entry.count, entry.detail) == (
        AuditAction.CLIENT_EXPORT,
        member.id,
        1,
        {"deal": 1},
    )
    assert name not in json.dumps(entry.detail) and deal_id


async def test_retention_erases_clients_closed_longer_than_the_team_keeps_them(
    bot: BotRunner, fake_telegram: FakeTelegram
) -> None:
    people = await seed_team(
        bot,
        fake_telegram,
        "Salon",
        [(1, "Marek", "pl", "manager"), (2, "Ania", "pl", "salesperson")],
        morning_agenda=False,
    )
    marek = people["Marek"]
    t = tt(bot, "pl")
    now = bot.clock.now()
    ania = await member_of(bot, 2)

    async def lost(name: str, at: datetime, winback: datetime | None = None) -> int:
        bot.clock.moment = at  # type: ignore[attr-defined]
        deal_id = await seed_deal(bot, 2, name, phone=None)
        async with bot.runtime.uow() as uow:
            reasons = await uow.teams.loss_reasons(ania.team_id)
            await deals.resign(uow, ania, deal_id, reasons[0].id or 0, "za drogo", winback, at)
            await uow.commit()
        bot.clock.moment = now  # type: ignore[attr-defined]
        return deal_id

    three_years = now - timedelta(days=3 * 365 + 2)
    old = await lost("Adam Stary", three_years)
    recent = await lost("Beata Nowsza", now - timedelta(days=365))
    planned = await lost("Cezary Wraca", three_years, winback=now + timedelta(days=30))
    still_open = await lost("Dorota Wraca", three_years)
    async with bot.runtime.uow() as uow:  # she came back: a new deal, open
        team = await uow.teams.get(ania.team_id)
        client_id = (await uow.deals.get(still_open)).client_id  # type: ignore[union-attr]
        assert team is not None
        await deals.create_deal(
            uow, ania, team, deals.NewDeal(name="Dorota Wraca", client_id=client_id), now
        )
        await uow.commit()
    # Off by default: nothing is erased.
    assert await erase_expired_clients(bot.runtime) == 0

    await marek.send("/settings")
    settings = await marek.expect("⚙️")
    assert t._("🧹 Clients' personal data: kept for good") in settings.text
    await marek.tap(t.pgettext("button", "🧹 Data retention"))
    await marek.expect(predicate=edited)
    await marek.tap(t.ngettext("{n} year", "{n} years", 2).format(n=2))
    saved = await marek.expect(predicate=edited)
    assert (
        t.ngettext(
            "🧹 Clients' personal data: erased {n} year after their last deal closed",
            "🧹 Clients' personal data: erased {n} years after their last deal closed",
            2,
        ).format(n=2)
        in saved.text
    )

    assert await erase_expired_clients(bot.runtime) == 1  # Adam only
    async with bot.runtime.uow() as uow:
        clients = {
            c.id: c for c in await uow.session.exec(select(Client).order_by(col(Client.id)))
        }
        by_deal = {
            deal_id: clients[(await uow.deals.get(deal_id)).client_id]  # type: ignore[union-attr]
            for deal_id in (old, recent, planned, still_open)
        }
        pending = list(
            await uow.session.exec(
                select(Reminder).where(
                    col(Reminder.deal_id) == planned, col(Reminder.status) == "pending"
                )
            )
        )
    assert by_deal[old].erased_at is not None and by_deal[old].name == "—"
    assert by_deal[recent].name == "Beata Nowsza" and by_deal[recent].erased_at is None
    assert by_deal[planned].name == "Cezary Wraca" and pending  # a win-back is planned
    assert by_deal[still_open].name == "Dorota Wraca"  # a deal of hers is open
    assert await erase_expired_clients(bot.runtime) == 0  # once is enough
    kinds = [(e.action, e.actor_member_id, e.count) for e in await entries(bot, ania.team_id)]
    assert kinds[:2] == [
        (AuditAction.RETENTION_ERASURE, None, 1),
        (AuditAction.SETTING, (await member_of(bot, 1)).id, None),
    ]

    await marek.send("#1")
    card = await marek.expect("#1")
    assert (
        t._("🧹 Client data erased on {date}: kept as long as the team keeps it").format(
            date=t.date(now)
        )
        in card.text
    )
