"""The manager's daily digest through the fake Bot API, on both databases: sent once at the
digest hour with the day's figures (worked out by hand here), a funnel picture, /digest "so
far" without replacing it, the per-salesperson list with 🔔, catch-up after days offline, and
clean splitting of a digest too long for one message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest

from bot.domain import ActivityKind
from bot.services import deals
from bot.storage.models import Member
from tests.conftest import FakeClock
from tests.fakes.telegram_server import FakeTelegram
from tests.harness import BotRunner, seed_deal, seed_team

EVENING = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)  # 18:00 in Warsaw, the default digest hour


async def _member(bot: BotRunner, user_id: int) -> Member:
    async with bot.runtime.uow() as uow:
        user = await uow.users.get(user_id)
        assert user is not None and user.team_id is not None
        member = await uow.teams.member(user.team_id, user_id)
    assert member is not None
    return member


async def test_the_daily_digest(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock
) -> None:
    people = await seed_team(
        bot,
        fake_telegram,
        "Salon Północ",
        [
            (1, "Marek", "pl", "manager"),
            (2, "Ania", "pl", "salesperson"),
            (3, "Piotr", "pl", "salesperson"),
        ],
        morning_agenda=False,
    )
    marek, ania = people["Marek"], people["Ania"]
    t = bot.runtime.i18n.translator("pl", "Europe/Warsaw")
    ania_m, piotr_m = await _member(bot, 2), await _member(bot, 3)
    jan = await seed_deal(bot, 2, "Jan Kowalski", next_contact=clock.now() + timedelta(days=2))
    ewa = await seed_deal(bot, 2, "Ewa Nowak")
    olga = await seed_deal(bot, 3, "Olga <VIP> & Co")
    async with bot.runtime.uow() as uow:
        reasons = {r.key: r.id or 0 for r in await uow.teams.loss_reasons(ania_m.team_id)}
        await deals.edit(uow, ania_m, jan, "value", 10_000_000, clock.now())
        await deals.win(uow, ania_m, jan, 9_700_000, clock.now())
        await deals.log_activity(uow, ania_m, ewa, ActivityKind.CALL, clock.now())
        await deals.edit(uow, piotr_m, olga, "value", 6_000_000, clock.now())
        await deals.resign(
            uow, piotr_m, olga, reasons["financing"], "Bank odmówił <kredyt>", None, clock.now()
        )
        await uow.commit()

    # The manager sets a monthly target: 10 sales and 1 000 000 zł.
    await marek.send("/settings")
    await marek.expect("Salon Północ")
    await marek.tap(t.pgettext("button", "🎯 Targets"))
    await marek.expect("🎯")
    await marek.tap(t.pgettext("button", "🎯 Team"))
    await marek.expect("🎯")
    await marek.send("dziesięć")
    await marek.expect(t._("I couldn't read that. Try again."))
    await marek.send("10 1 000 000")
    await marek.expect(t._("✅ Saved."))

    clock.moment = EVENING - timedelta(minutes=1)
    await bot.tick()
    await marek.expect_no_message(within=0.3)
    clock.moment = EVENING
    await bot.tick()
    digest = await marek.expect("Salon Północ")
    text = digest.text
    assert t._("🆕 New deals: {n}").format(n="3") in text
    assert t._("✅ Won: {n} · {money}").format(n="1", money=t.money(9_700_000, "PLN")) in text
    assert t._("❌ Lost: {n} · {money}").format(n="1", money=t.money(6_000_000, "PLN")) in text
    financing = t.pgettext("reason", "Financing or leasing refused")
    assert f"• {financing}: 1 · {t.money(6_000_000, 'PLN')}" in text
    new_lead = t.pgettext("stage", "New lead")
    by_stage = t._("by stage: {stages}").format(
        stages=f"{new_lead} 1 · {t.money(6_000_000, 'PLN')}"
    )
    assert by_stage in text
    ania_line = t._(
        "<b>{name}</b>: new {new} · won {won} · lost {lost} · activities {activities} · "
        "❗ overdue {overdue} · ⚠️ no contact {unplanned}"
    ).format(name="Ania", new="2", won="1", lost="0", activities="1", overdue="0", unplanned="1")
    assert ania_line.replace("<b>", "").replace("</b>", "") in text
    assert "Bank odmówił <kredyt>" in text and "Olga <VIP> & Co" in text
    assert 'href="https://t.me/crm_test_bot?start=deal-3"' in digest.html

    target = t._("🎯 Target this month: {won} of {target} sales").format(won="1", target="10")
    money = t._("{won} of {target}").format(
        won=t.money(9_700_000, "PLN"), target=t.money(100_000_000, "PLN")
    )
    needed = t.ngettext(
        "at {conversion} lead to sale, {n} more new client is needed",
        "at {conversion} lead to sale, {n} more new clients are needed",
        27,
    ).format(conversion=t.percent(1 / 3), n="27")
    assert f"{target} · {money} · {needed}" in text
    photo = await marek.expect(predicate=lambda m: m.photo is not None)
    assert photo.photo is not None and photo.photo.startswith(b"\x89PNG")
    import matplotlib.image

    assert matplotlib.image.imread(BytesIO(photo.photo)).shape[0] > 100
    await bot.tick()
    await marek.expect_no_message(within=0.3)

    # /digest shows today so far, and the scheduled one is not sent again.
    clock.moment = EVENING + timedelta(hours=1)
    await marek.send("/digest")
    so_far = await marek.expect("Salon Północ")
    assert so_far.text != text
    await marek.expect(predicate=lambda m: m.photo is not None)
    await bot.tick()
    await marek.expect_no_message(within=0.3)

    # Ania's line opens her slipping deals; 🔔 sends them to her.
    await marek.tap("📋 Ania (1)", message=digest)
    listed = await marek.expect("Ewa Nowak")
    assert "#2 Ewa Nowak" in listed.button_texts
    await marek.tap(t.pgettext("button", "🔔 Nudge"))
    nudged = await ania.expect("Marek")
    assert "#2 Ewa Nowak" in nudged.button_texts and ewa

    # Three days offline: one digest, for the last day, saying which days were missed.
    await bot.stop()
    clock.moment = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)
    await bot.start()
    await bot.tick()
    late = await marek.expect(t.date(datetime(2026, 11, 26, 12, 0, tzinfo=UTC)))
    assert "⚠️" in late.text and t.date(datetime(2026, 11, 24, 12, 0, tzinfo=UTC)) in late.text
    assert t.date(datetime(2026, 11, 25, 12, 0, tzinfo=UTC)) in late.text
    await marek.expect(predicate=lambda m: m.photo is not None)
    await bot.tick()
    await marek.expect_no_message(within=0.3)


async def test_a_long_digest_is_split_cleanly(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock
) -> None:
    people = await seed_team(
        bot,
        fake_telegram,
        "Автосалон",
        [(10, "Олег", "ru", "manager"), (11, "Иван", "ru", "salesperson")],
        morning_agenda=False,
    )
    oleg = people["Олег"]
    ivan = await _member(bot, 11)
    async with bot.runtime.uow() as uow:
        reason = (await uow.teams.loss_reasons(ivan.team_id))[0].id or 0
    for number in range(60):
        deal_id = await seed_deal(bot, 11, f"Клиент {number} «ООО Ромашка»")
        async with bot.runtime.uow() as uow:
            comment = f"Причина {number}: " + "дорого, <скидка> & рассрочка не подошли. " * 8
            await deals.resign(uow, ivan, deal_id, reason, comment[:500], None, clock.now())
            await uow.commit()
    clock.moment = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # 18:00 in Moscow
    await bot.tick()
    parts = []
    while True:
        message = await oleg.expect()
        if message.photo is not None:
            break
        parts.append(message)
    assert len(parts) >= 2
    assert all(len(part.text) <= 4096 for part in parts)
    whole = "\n".join(part.text for part in parts)
    # The first 50 comments are shown, the other 10 are counted and left to /report.
    for number in range(50):
        assert f"Причина {number}: " in whole
    assert "Причина 50: " not in whole
    t = bot.runtime.i18n.translator("ru", "Europe/Moscow")
    more = t.ngettext(
        "… and {n} more comment: see /report.", "… and {n} more comments: see /report.", 10
    ).format(n=10)
    assert more in whole
    assert not fake_telegram.errors, fake_telegram.errors


async def test_report_by_period(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock
) -> None:

    people = await seed_team(
        bot,
        fake_telegram,
        "Auto Sud",
        [(20, "Mihai", "ro", "manager"), (21, "Ioana", "ro", "salesperson")],
        morning_agenda=False,
    )
    mihai, ioana = people["Mihai"], people["Ioana"]
    seller = await _member(bot, 21)
    won_id = await seed_deal(bot, 21, "Ion")
    lost_id = await seed_deal(bot, 21, "Ana")
    await seed_deal(bot, 20, "Radu")
    async with bot.runtime.uow() as uow:
        reason = (await uow.teams.loss_reasons(seller.team_id))[0].id or 0
        await deals.edit(uow, seller, lost_id, "value", 4_000_000, clock.now())
        await deals.win(uow, seller, won_id, 9_000_000, clock.now())
        await deals.resign(uow, seller, lost_id, reason, "Prea scump", None, clock.now())
        await uow.commit()
    t = bot.runtime.i18n.translator("ro", "Europe/Bucharest")
    await mihai.send("/report")
    await mihai.expect("📈")
    await mihai.tap(t.pgettext("button", "This week"))
    whole = await mihai.expect(predicate=lambda m: "✅" in m.text and m.event == "edit")
    expected = t._("✅ Won: {won} · lead to sale {conversion}").format(
        won="1", conversion=t.percent(1 / 3)
    )
    assert expected in whole.text
    await mihai.tap(t.pgettext("button", "💸 Losses"))
    losses = await mihai.expect(predicate=lambda m: "💸" in m.text and m.event == "edit")
    assert t.money(4_000_000, "RON") in losses.text  # where the money leaks
    # A salesperson's report counts only her own two deals.
    await ioana.send("/report")
    await ioana.expect("📈")
    await ioana.tap(t.pgettext("button", "This week"))
    own = await ioana.expect(predicate=lambda m: "✅" in m.text and m.event == "edit")
    assert (
        t._("✅ Won: {won} · lead to sale {conversion}").format(won="1", conversion=t.percent(0.5))
        in own.text
    )


async def test_export_reads_back(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock
) -> None:
    import csv
    import io

    from openpyxl import load_workbook

    people = await seed_team(
        bot,
        fake_telegram,
        "Автосалон",
        [(10, "Олег", "ru", "manager"), (11, "Иван", "ru", "salesperson")],
        morning_agenda=False,
    )
    oleg, ivan = people["Олег"], people["Иван"]
    seller = await _member(bot, 11)
    first = await seed_deal(
        bot,
        11,
        "Анна «Вектор» & Co",
        phone="+79161234567",
        next_contact=clock.now() + timedelta(days=1),
    )
    await seed_deal(bot, 10, "Борис")
    async with bot.runtime.uow() as uow:
        await deals.edit(uow, seller, first, "value", 150_000_000, clock.now())
        await uow.commit()
    t = bot.runtime.i18n.translator("ru", "Europe/Moscow")
    await ivan.send("/export")
    await ivan.expect(t._("Only a manager can do this."))
    await oleg.send("/export")
    book_message = await oleg.expect(
        predicate=lambda m: m.document is not None and m.document.filename.endswith(".xlsx")
    )
    csv_message = await oleg.expect(
        predicate=lambda m: m.document is not None and m.document.filename.endswith(".csv")
    )
    assert book_message.document is not None and csv_message.document is not None
    book = load_workbook(io.BytesIO(book_message.document.data))
    assert book.sheetnames == [t._("Deals"), t._("History")]
    sheet = book[t._("Deals")]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == (t._("Number"), t._("Client"), t._("Phone"), t._("Company"))
    assert rows[1][:3] == (1, "Анна «Вектор» & Co", "+79161234567")
    assert rows[1][8] == 1_500_000 and rows[1][9] == "RUB"
    assert rows[1][11] == datetime(2026, 11, 24, 12, 0)  # next contact, Moscow wall time
    assert rows[2][:2] == (2, "Борис")
    history = list(book[t._("History")].iter_rows(values_only=True))
    assert len(history) > 3
    raw = csv_message.document.data
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert table[0][0] == t._("Number") and table[1][1] == "Анна «Вектор» & Co"
    assert table[1][11] == "2026-11-24 12:00"


async def test_the_team_edits_its_pipeline(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock
) -> None:
    people = await seed_team(
        bot,
        fake_telegram,
        "North",
        [(1, "Mark", "en", "manager"), (2, "Sue", "en", "salesperson")],
        morning_agenda=False,
    )
    mark, sue = people["Mark"], people["Sue"]
    await seed_deal(bot, 2, "Alpha")
    await mark.send("/settings")
    await mark.expect("North")
    await mark.tap("🧭 Pipeline")
    await mark.expect("Pipeline stages")
    await mark.tap("New lead")
    await mark.expect("in use")
    await mark.tap("✏️ Rename")
    await mark.expect("new name")
    await mark.send("Web <enquiry> & call")
    await mark.expect("Saved")
    await mark.tap("◀️ Back")
    await mark.expect("Pipeline stages")
    # A stage that holds an open deal cannot be retired; an empty one can.
    await mark.tap("Web <enquiry> & call")
    await mark.expect("in use")
    await mark.tap("🗄 Retire")
    text, _ = await mark.expect_answer()
    while not text:
        text, _ = await mark.expect_answer()
    assert text == "This stage still holds 1 open deal: move it on before retiring the stage."
    await mark.tap("◀️ Back")
    await mark.expect("Pipeline stages")
    # A new team's third stage is "Test drive" now (no "Needs identified"): the empty one.
    await mark.tap("Test drive")
    await mark.expect("in use")
    await mark.tap("🗄 Retire")
    await mark.expect("retired")
    await mark.tap("◀️ Back")
    await mark.expect("Pipeline stages")
    await mark.tap("➕ Add")
    await mark.expect("Send the name")
    await mark.send("Financing")
    await mark.expect("Saved")
    # Loss reasons too: a new one is offered when resigning.
    await mark.send("/settings")
    await mark.expect("North")
    await mark.tap("📋 Loss reasons")
    await mark.expect("Loss reasons")
    await mark.tap("➕ Add")
    await mark.send("No car in stock")
    await mark.expect("Saved")

    await sue.send("#1")
    card = await sue.expect("#1 · Alpha")
    assert "Stage: Web <enquiry> & call" in card.text
    await sue.tap("➡️ Stage")
    stages = await sue.expect("Move #1")
    assert stages.button_texts == [
        "• Web <enquiry> & call",
        "Contacted",
        "Offer sent",
        "Negotiation",  # the last default stage's label, "Test drive / negotiation" before
        "Financing",
        "◀️ Back",
    ]
    await sue.tap("◀️ Back")
    await sue.expect("#1 · Alpha")
    await sue.tap("❌ Resign")
    reasons = await sue.expect("Why did Alpha resign?")
    assert "No car in stock" in reasons.button_texts

    # Each change is in the audit, the default stages by their names.
    await mark.send("/team")
    await mark.expect("join-")
    await mark.tap("🧾 Audit")
    audit = await mark.expect(predicate=lambda m: m.event == "edit" and "🧾" in m.text)
    lines = [line.split(" · ", 1)[1] for line in audit.text.split("\n") if " · " in line]
    assert lines == [
        "⚙️ Mark added the loss reason No car in stock",
        "⚙️ Mark added the stage Financing",
        "⚙️ Mark retired the stage Test drive",
        "⚙️ Mark renamed the stage New lead to Web <enquiry> & call",
    ]


async def test_import_then_export_reads_back_the_same(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock
) -> None:
    import io

    from openpyxl import load_workbook

    people = await seed_team(
        bot,
        fake_telegram,
        "Salon",
        [(1, "Marek", "pl", "manager"), (2, "Ania", "pl", "salesperson")],
        morning_agenda=False,
    )
    marek, ania = people["Marek"], people["Ania"]
    t = bot.runtime.i18n.translator("pl", "Europe/Warsaw")
    offer = t.pgettext("stage", "Offer sent")
    table = "\r\n".join(
        [
            "Imię i nazwisko;Telefon;Wartość;Etap;Opiekun;Następny kontakt",
            f"Łukasz Żółć;600 100 200;95 000;{offer};Ania;15.12.2026 14:30",
            "Zofia Nowak;12;50 000;;;",
            ";600 100 201;;;;",
            "Jan Kowal;600100202;dużo;;;",
            "Ewa Lis;+48 600 100 203;70 000;;Marek;",
        ]
    ).encode("cp1250")
    await ania.send_document(table, "klienci.csv", "text/csv")
    await ania.expect(t._("Only a manager can do this."))
    await marek.send_document(table, "klienci.csv", "text/csv")
    await marek.expect(t._("📥 Reading the file… I'll send the preview here in a moment."))
    preview = await marek.expect("Łukasz Żółć")
    assert "Ewa Lis" in preview.text
    for row, problem in ((3, "not a phone number"), (4, "no name"), (5, "not an amount")):
        assert (
            t._("row {row}: {problem} «{value}»")
            .format(row=row, problem=t._(problem), value="")
            .split("«")[0]
            in preview.text
        )
    await marek.tap(t.pgettext("button", "✅ Import"), message=preview)
    done = await marek.expect(
        predicate=lambda m: m.message_id == preview.message_id and "✅" in m.text
    )
    assert (
        t.ngettext("✅ {n} client imported.", "✅ {n} clients imported.", 2).format(n="2")
        in done.text
    )
    confirm = preview.find_button(t.pgettext("button", "✅ Import"))
    assert confirm is not None and confirm.callback_data
    await marek.forge_tap(confirm.callback_data, preview.message_id)  # again: nothing more
    await marek.expect_answer()
    await marek.forge_tap(confirm.callback_data)  # nor from another message
    await marek.expect_answer()

    await marek.send("/export")
    book_message = await marek.expect(
        predicate=lambda m: m.document is not None and m.document.filename.endswith(".xlsx")
    )
    assert book_message.document is not None
    rows = list(
        load_workbook(io.BytesIO(book_message.document.data))[t._("Deals")].iter_rows(
            values_only=True
        )
    )
    assert [r[:3] for r in rows[1:]] == [
        (1, "Łukasz Żółć", "+48600100200"),
        (2, "Ewa Lis", "+48600100203"),
    ]
    assert rows[1][6] == offer and rows[1][8] == 95_000 and rows[1][10] == "Ania"
    assert rows[1][11] == datetime(2026, 12, 15, 14, 30)
    assert rows[2][8] == 70_000 and rows[2][10] == "Marek"

    # The same file again: both phones are already clients, nothing is duplicated.
    await bot.jobs_done()  # one heavy job per team at a time: the export is finished first
    await marek.send_document(table, "klienci.csv", "text/csv")
    second = await marek.expect("Łukasz Żółć")
    await marek.tap(t.pgettext("button", "✅ Import"), message=second)
    again = await marek.expect(  # a background job: give a busy machine time
        predicate=lambda m: m.message_id == second.message_id and "✅" in m.text, timeout=20
    )
    assert (
        t.ngettext("✅ {n} client imported.", "✅ {n} clients imported.", 0).format(n="0")
        in again.text
    )
    # Each import and the export are in the team's audit, who and how many.
    await bot.jobs_done()
    await marek.send("/team")
    await marek.expect("join-")
    await marek.tap(t.pgettext("button", "🧾 Audit"))
    audit = await marek.expect(predicate=lambda m: m.event == "edit" and "🧾" in m.text)
    imported = [
        t.ngettext("📥 {who} imported {n} client", "📥 {who} imported {n} clients", n).format(
            who="Marek", n=n
        )
        for n in (0, 2)
    ]
    exported = t.ngettext(
        "📦 {who} exported the team's deals: {n} deal with its history",
        "📦 {who} exported the team's deals: {n} deals with their history",
        2,
    ).format(who="Marek", n=2)
    lines = [line.split(" · ", 1)[1] for line in audit.text.split("\n") if " · " in line]
    assert lines == [imported[0], exported, imported[1]]


DIGEST_MARKETS = {
    # language: (founder, zone, 18:00 local as UTC on 23 November 2026)
    "pl": ("Marek", "Europe/Warsaw", datetime(2026, 11, 23, 17, 0, tzinfo=UTC)),
    "ru": ("Олег", "Europe/Moscow", datetime(2026, 11, 23, 15, 0, tzinfo=UTC)),
    "ro": ("Mihai", "Europe/Bucharest", datetime(2026, 11, 23, 16, 0, tzinfo=UTC)),
    "en": ("Mark", "Europe/London", datetime(2026, 11, 23, 18, 0, tzinfo=UTC)),
}


@pytest.mark.parametrize("language", DIGEST_MARKETS)
async def test_the_digest_in_every_language(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock, language: str
) -> None:
    founder, zone, evening = DIGEST_MARKETS[language]
    people = await seed_team(
        bot, fake_telegram, "Auto", [(1, founder, language, "manager")], morning_agenda=False
    )
    manager = people[founder]
    member = await _member(bot, 1)
    for name in ("One", "Two", "Three"):
        await seed_deal(bot, 1, name)
    async with bot.runtime.uow() as uow:
        await deals.win(uow, member, 1, 5_000_000, clock.now())
        await uow.commit()
    clock.moment = evening
    await bot.tick()
    t = bot.runtime.i18n.translator(language, zone)
    digest = await manager.expect("Auto")
    currency = {"pl": "PLN", "ru": "RUB", "ro": "RON", "en": "GBP"}[language]
    assert t._("🆕 New deals: {n}").format(n="3") in digest.text
    assert (
        t._("✅ Won: {n} · {money}").format(n="1", money=t.money(5_000_000, currency))
        in digest.text
    )
    assert t.date(evening) in digest.text
    if language != "en":
        english = ("New deals", "Won:", "Lost:", "Salespeople", "Stage moves", "No monthly target")
        assert [label for label in english if label in digest.text] == []
    await manager.expect(predicate=lambda m: m.photo is not None)


async def test_each_manager_gets_the_digest_in_their_own_language(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock
) -> None:
    """A Polish team, with its time zone and money, and a Romanian-speaking second manager."""
    people = await seed_team(
        bot,
        fake_telegram,
        "Salon",
        [(1, "Marek", "pl", "manager"), (2, "Ioana", "ro", "manager")],
        morning_agenda=False,
    )
    member = await _member(bot, 1)
    await seed_deal(bot, 1, "Jan")
    async with bot.runtime.uow() as uow:
        await deals.win(uow, member, 1, 9_500_000, clock.now())
        await uow.commit()
    clock.moment = EVENING
    await bot.tick()
    for name, language in (("Marek", "pl"), ("Ioana", "ro")):
        t = bot.runtime.i18n.translator(language, "Europe/Warsaw")
        digest = await people[name].expect("Salon")
        assert (
            t._("📊 <b>{team}</b>: digest for {date}")
            .format(team="Salon", date=t.date(EVENING))
            .replace("<b>", "")
            .replace("</b>", "")
            in digest.text
        )
        won = t._("✅ Won: {n} · {money}").format(n="1", money=t.money(9_500_000, "PLN"))
        assert won in digest.text
        await people[name].expect(predicate=lambda m: m.photo is not None)
