"""The salesperson's floor workflow through the fake Bot API, on both databases, in Polish,
Russian, Romanian and English: logging clients, the card's buttons, resignations, wins, undo,
search, lists, deep links, duplicates, and the rules for stale, forged and double taps."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from bot.domain import DealStatus, EventKind, ReminderKind, ReminderStatus
from bot.i18n import Translator
from bot.storage.models import Client, Deal, DealEvent, Reminder
from tests.fakes.telegram_server import BotMessage, FakeTelegram, FakeUser
from tests.harness import BotRunner, seed_team

# The tests' clock starts on Monday 23 November 2026, 09:00 UTC.


def card_of(number: int) -> Callable[[BotMessage], bool]:
    """A deal card (its title line may follow a one-line notice such as "Saved.")."""
    return lambda message: any(
        line.startswith(f"#{number} · ") for line in message.text.split("\n")[:3]
    )


# Teams get their zone from the founder's language.
ZONES = {
    "pl": "Europe/Warsaw",
    "ru": "Europe/Moscow",
    "ro": "Europe/Bucharest",
    "en": "Europe/London",
}


def tt(bot: BotRunner, user: FakeUser) -> Translator:
    """What this user reads: their language, their team's time zone."""
    language = user.language_code or "en"
    return bot.runtime.i18n.translator(language, ZONES[language])


def b(bot: BotRunner, user: FakeUser, label: str) -> str:
    return bot.t(user).pgettext("button", label)


async def deal(bot: BotRunner, number: int, team_id: int | None = None) -> Deal:
    async with bot.runtime.uow() as uow:
        query = select(Deal).where(Deal.number == number)
        if team_id is not None:
            query = query.where(Deal.team_id == team_id)
        return (await uow.session.exec(query)).one()


async def events(bot: BotRunner, deal_id: int) -> list[DealEvent]:
    async with bot.runtime.uow() as uow:
        rows = await uow.session.exec(
            select(DealEvent).where(DealEvent.deal_id == deal_id).order_by(col(DealEvent.id))
        )
        return list(rows)


async def pending(bot: BotRunner, deal_id: int) -> list[tuple[str, datetime]]:
    async with bot.runtime.uow() as uow:
        rows = await uow.session.exec(
            select(Reminder)
            .where(Reminder.deal_id == deal_id, Reminder.status == ReminderStatus.PENDING)
            .order_by(col(Reminder.due_at))
        )
        return [(r.kind, r.due_at) for r in rows]


async def toast(user: FakeUser) -> str:
    """The next answer with a text that is not an alert (a short notice at the top)."""
    while True:
        text, shown = await user.expect_answer()
        if text:
            assert not shown, text
            return text


async def alert(user: FakeUser) -> str:
    while True:
        text, shown = await user.expect_answer()
        if text:
            assert shown, text
            return text


@dataclass(frozen=True)
class Market:
    """One country's team: what its people type, and what the bot must make of it."""

    language: str
    founder: str
    seller: str
    client: str
    phone_typed: str
    e164: str
    phone_shown: str
    amount_typed: str
    amount_minor: int
    currency: str
    quick: str  # a one-line entry
    quick_name: str
    quick_phone_shown: str
    quick_amount: int
    utc_offset: int  # hours ahead of UTC in November and December


MARKETS = {
    "pl": Market(
        "pl",
        "Marek",
        "Ania",
        "Kowalski & Syn <VIP> 🚗",
        "600 100 200",
        "+48600100200",
        "+48 600 100 200",
        "95 000",
        9_500_000,
        "PLN",
        "Jan Kowalski +48 600 100 200 95000 Octavia",
        "Jan Kowalski",
        "+48 600 100 200",
        9_500_000,
        1,
    ),
    "ru": Market(
        "ru",
        "Олег",
        "Иван",
        "ООО «Вектор» & Ко",
        "8 916 123-45-67",
        "+79161234567",
        "+7 916 123-45-67",
        "1,2 млн",
        120_000_000,
        "RUB",
        "Иван Петров +7 916 123-45-67 1,2 млн",
        "Иван Петров",
        "+7 916 123-45-67",
        120_000_000,
        3,
    ),
    "ro": Market(
        "ro",
        "Mihai",
        "Ioana",
        "Ștefan Țurcanu",
        "0722 123 456",
        "+40722123456",
        "+40 722 123 456",
        "95.000",
        9_500_000,
        "RON",
        "Ion Popescu 0722 123 456 95k",
        "Ion Popescu",
        "+40 722 123 456",
        9_500_000,
        2,
    ),
}


def local_9am(market: Market, day: datetime) -> datetime:
    """09:00 on `day` in the market's zone, as UTC."""
    return day.replace(hour=9 - market.utc_offset, minute=0, second=0, microsecond=0)


async def market_team(
    bot: BotRunner, fake: FakeTelegram, market: Market
) -> tuple[FakeUser, FakeUser]:
    people = await seed_team(
        bot,
        fake,
        f"Salon {market.language}",
        [
            (1, market.founder, market.language, "manager"),
            (2, market.seller, market.language, "salesperson"),
        ],
    )
    return people[market.founder], people[market.seller]


@pytest.mark.parametrize("market", MARKETS.values(), ids=MARKETS.keys())
async def test_guided_new_client(
    bot: BotRunner, fake_telegram: FakeTelegram, market: Market
) -> None:
    _, seller = await market_team(bot, fake_telegram, market)
    t = tt(bot, seller)
    await seller.send("/new")
    await seller.expect(t._("👤 New client. What is their name?"))
    await seller.send(market.client)
    await seller.expect("📞")
    await seller.send(market.phone_typed)
    await seller.expect("💰")
    await seller.send(market.amount_typed)
    await seller.expect("🚗")
    await seller.send("Škoda Octavia")
    await seller.expect("📣")
    await seller.tap(b(bot, seller, "🚶 Walk-in"))
    picker = await seller.expect("#1")
    # The next-contact step has no skip: a time, or an explicit "no date yet".
    assert b(bot, seller, "⏭ Skip") not in picker.button_texts
    assert b(bot, seller, "🚫 No date yet") in picker.button_texts
    await seller.tap(b(bot, seller, "Tomorrow morning"))
    card = await seller.expect(predicate=card_of(1))
    assert card.text.startswith(f"#1 · {market.client}")
    assert market.phone_shown in card.text
    assert t.money(market.amount_minor, market.currency) in card.text
    tomorrow_9 = local_9am(market, datetime(2026, 11, 24, tzinfo=UTC))
    assert t.datetime(tomorrow_9) in card.text
    saved = await deal(bot, 1)
    assert (saved.value_minor, saved.currency, saved.next_contact_at) == (
        market.amount_minor,
        market.currency,
        tomorrow_9,
    )
    assert await pending(bot, saved.id or 0) == [(ReminderKind.NEXT_CONTACT, tomorrow_9)]
    async with bot.runtime.uow() as uow:
        client = await uow.session.get(Client, saved.client_id)
    assert client is not None and (client.phone, client.source) == (market.e164, "walk_in")


async def test_guided_flow_skip_back_and_bad_input(
    bot: BotRunner, fake_telegram: FakeTelegram
) -> None:
    people = await seed_team(bot, fake_telegram, "North", [(1, "Mark", "en", "manager")])
    mark = people["Mark"]
    await mark.send("/new")
    await mark.expect("What is their name?")
    await mark.send("x" * 5000)
    await mark.expect("200 characters at most")
    await mark.send("Anna Nowak")
    await mark.expect("phone number?")
    await mark.send("12")
    await mark.expect("doesn't look like a phone number")
    await mark.tap("⏭ Skip")
    await mark.expect("What is the deal worth?")
    await mark.tap("◀️ Back")
    await mark.expect("phone number?")
    await mark.send("+48 600 100 201")
    await mark.expect("What is the deal worth?")
    await mark.send("lots")
    await mark.expect("I'm waiting for the value of the deal with Anna Nowak")
    await mark.send("-5")
    await mark.expect("couldn't read the amount")
    await mark.tap("⏭ Skip")
    await mark.expect("Which car is Anna Nowak interested in?")
    await mark.tap("⏭ Skip")
    await mark.expect("How did Anna Nowak come to you?")
    await mark.tap("⏭ Skip")
    await mark.expect("Saved as deal #1")
    await mark.tap("🚫 No date yet")
    card = await mark.expect(predicate=card_of(1))
    assert "No next contact planned" in card.text and "Value: —" in card.text


async def test_quick_entry_and_typed_date_in_russian(
    bot: BotRunner, fake_telegram: FakeTelegram
) -> None:
    people = await seed_team(
        bot,
        fake_telegram,
        "Автосалон",
        [(10, "Олег", "ru", "manager"), (11, "Иван", "ru", "salesperson")],
    )
    ivan = people["Иван"]
    t = tt(bot, ivan)
    await ivan.send("/new Иван Петров +7 916 123-45-67 1,2 млн синий седан")
    await ivan.expect("#1")
    await ivan.send("вчера")
    await ivan.expect(t._("That time has already passed. Send a later one."))
    await ivan.send("абракадабра")
    await ivan.expect(
        t._("I couldn't read that date. Try for example: tomorrow 10:00, 15.12 14:30, friday.")
    )
    await ivan.send("завтра в 10")
    card = await ivan.expect(predicate=card_of(1))
    assert card.text.startswith("#1 · Иван Петров")
    assert "+7 916 123-45-67" in card.text
    assert t.money(120_000_000, "RUB") in card.text
    assert "🚗 синий седан" in card.text  # the words after the value: the car
    saved = await deal(bot, 1)
    assert saved.next_contact_at == datetime(2026, 11, 24, 7, 0, tzinfo=UTC)  # 10:00 Moscow
    assert (saved.model, saved.last_note) == ("синий седан", None)


@pytest.mark.parametrize("market", MARKETS.values(), ids=MARKETS.keys())
async def test_quick_entry_resign_undo_and_win(
    bot: BotRunner, fake_telegram: FakeTelegram, market: Market
) -> None:
    _, seller = await market_team(bot, fake_telegram, market)
    t = tt(bot, seller)
    await seller.send(f"/new {market.quick}")
    await seller.expect("#1")
    await seller.tap(b(bot, seller, "🚫 No date yet"))
    card = await seller.expect(predicate=card_of(1))
    assert card.text.startswith(f"#1 · {market.quick_name}")
    assert t._("⚠️ No next contact planned") in card.text
    assert market.quick_phone_shown in card.text
    assert t.money(market.quick_amount, market.currency) in card.text

    await seller.tap(b(bot, seller, "❌ Resign"))
    await seller.expect("❌")
    await seller.tap(t.pgettext("reason", "Financing or leasing refused"))
    await seller.expect("💬")
    await seller.send("Bank <odmówił> & koniec 🙁")
    picker = await seller.expect("🔁")
    suggested = "⭐ " + b(bot, seller, "In 1 month")
    assert suggested in picker.button_texts
    await seller.tap(suggested)
    lost = await seller.expect(predicate=lambda m: card_of(1)(m) and "❌" in m.text)
    assert "Bank <odmówił> & koniec 🙁" in lost.text
    saved = await deal(bot, 1)
    winback = local_9am(market, datetime(2026, 12, 23, tzinfo=UTC))
    assert (saved.status, saved.loss_comment, saved.winback_at) == (
        DealStatus.LOST,
        "Bank <odmówił> & koniec 🙁",
        winback,
    )
    assert await pending(bot, saved.id or 0) == [(ReminderKind.WINBACK, winback)]

    await seller.tap(b(bot, seller, "↩️ Undo"))
    reopened = await seller.expect("↩️")
    assert b(bot, seller, "✅ Won") in reopened.button_texts
    assert (await deal(bot, 1)).status == DealStatus.OPEN
    assert await pending(bot, saved.id or 0) == []

    await seller.tap(b(bot, seller, "✅ Won"))
    ask = await seller.expect("✅")
    assert "✅ " + t.money(market.quick_amount, market.currency) in ask.button_texts
    await seller.send("93 500")
    confirm = await seller.expect(t.money(9_350_000, market.currency))
    await seller.tap(b(bot, seller, "✅ Yes, won"), message=confirm)
    await seller.expect("🎉")
    await seller.tap(b(bot, seller, "Tomorrow morning"))
    won = await seller.expect(predicate=lambda m: card_of(1)(m) and "🚗" in m.text)
    stage = t.pgettext("stage", "New lead")
    assert (
        t._("✅ Won at {stage} on {date}").format(stage=stage, date=t.date(bot.clock.now()))
        in won.text
    )
    handover = local_9am(market, datetime(2026, 11, 24, tzinfo=UTC))
    assert await pending(bot, saved.id or 0) == [
        (ReminderKind.HANDOVER, handover),
        (ReminderKind.SATISFACTION, handover + timedelta(days=7)),
    ]
    # A second tap on the confirmation changes nothing; nor does a forged amount.
    yes = confirm.find_button(b(bot, seller, "✅ Yes, won"))
    assert yes is not None and yes.callback_data and "9350000" not in yes.callback_data
    await seller.forge_tap(yes.callback_data, confirm.message_id)
    assert await toast(seller) == t._("Already done ✅")
    await seller.forge_tap(f"dw:ok:{saved.id}:9350000")
    assert await alert(seller) == t._("This button is out of date. Nothing was changed.")
    kinds = [e.kind for e in await events(bot, saved.id or 0)]
    assert kinds.count(EventKind.WON) == 1 and kinds.count(EventKind.LOST) == 1
    assert EventKind.UNDONE in kinds


@pytest.mark.parametrize("market", MARKETS.values(), ids=MARKETS.keys())
async def test_stage_move_activity_note_and_history(
    bot: BotRunner, fake_telegram: FakeTelegram, market: Market
) -> None:
    marek, _ = await market_team(bot, fake_telegram, market)
    t = tt(bot, marek)
    await marek.send(f"/new {market.quick}")
    await marek.expect("#1")
    await marek.tap(b(bot, marek, "In 2 days"))
    await marek.expect(predicate=card_of(1))
    await marek.tap(b(bot, marek, "➡️ Stage"))
    await marek.expect("➡️")
    # Moving to the offer stage is sending an offer: its value (prefilled) is asked.
    await marek.tap(t.pgettext("stage", "Offer sent"))
    ask = await marek.expect("📄")
    assert "✅ " + t.money(market.quick_amount, market.currency) in ask.button_texts
    await marek.send("78 500")
    moved = await marek.expect(t.pgettext("stage", "Offer sent"))
    assert b(bot, marek, "↩️ Undo") in moved.button_texts
    assert b(bot, marek, "✔️ Keep as planned") in moved.button_texts
    await marek.tap(b(bot, marek, "✔️ Keep as planned"))
    await marek.expect(predicate=card_of(1))

    await marek.tap(b(bot, marek, "📞 Activity"))
    await marek.expect("📞")
    await marek.tap(b(bot, marek, "📞 Call"))
    await marek.expect("✅")
    await marek.send("15.12 14:30")
    card = await marek.expect(predicate=card_of(1))
    planned = datetime(2026, 12, 15, 14 - market.utc_offset, 30, tzinfo=UTC)  # 14:30 local
    assert t.datetime(planned) in card.text
    assert t.money(7_850_000, market.currency) in card.text  # the offer's value is the deal's

    await marek.tap(b(bot, marek, "📝 Note"))
    await marek.expect("📝")
    await marek.send("Chce kolor <czerwony> & hak")
    await marek.expect(t._("📝 Note saved."))
    await marek.tap(b(bot, marek, "✔️ Keep as planned"))
    card = await marek.expect(predicate=card_of(1))
    assert "Chce kolor <czerwony> & hak" in card.text

    await marek.tap(b(bot, marek, "📜 History"))
    history = await marek.expect("📜")
    assert t.money(7_850_000, market.currency) in history.text
    saved = await deal(bot, 1)
    kinds = [e.kind for e in await events(bot, saved.id or 0)]
    assert kinds == [
        EventKind.CREATED,
        EventKind.FOLLOW_UP_SET,
        EventKind.ACTIVITY,  # the offer
        EventKind.EDITED,  # its value became the deal's (the old one kept here)
        EventKind.STAGE_CHANGED,  # the offer moved the deal to "Offer sent"
        EventKind.ACTIVITY,  # a call: the deal stays at "Offer sent"
        EventKind.FOLLOW_UP_SET,
        EventKind.NOTE,
    ]


async def test_a_phone_already_in_the_team(bot: BotRunner, fake_telegram: FakeTelegram) -> None:
    people = await seed_team(
        bot,
        fake_telegram,
        "Автосалон",
        [
            (10, "Олег", "ru", "manager"),
            (11, "Иван", "ru", "salesperson"),
            (12, "Пётр", "ru", "salesperson"),
        ],
    )
    ivan, petr, oleg = people["Иван"], people["Пётр"], people["Олег"]
    await ivan.send("/new Анна Смирнова +7 916 000-11-22")
    await ivan.expect("#1")
    await ivan.tap(b(bot, ivan, "🚫 No date yet"))
    await ivan.expect(predicate=card_of(1))

    # Another salesperson: told whose client it is (name and deal number only); managers told.
    await petr.send("/new Аня 8 916 000 11 22")
    told = await petr.expect("#1")
    assert "Иван" in told.text and "Смирнова" not in told.text
    note = await oleg.expect("Пётр")
    assert "Иван" in note.text and "#1" in note.text
    async with bot.runtime.uow() as uow:
        assert len(list(await uow.session.exec(select(Deal)))) == 1

    # The owner: the card, or a new deal for the same (returning) client.
    await ivan.send("/new")
    await ivan.expect("👤")
    await ivan.send("Анна")
    await ivan.expect("📞")
    await ivan.send("+79160001122")
    offer = await ivan.expect("#1")
    assert "#1 Анна Смирнова" in offer.button_texts
    await ivan.tap(b(bot, ivan, "➕ New deal for them"))
    await ivan.expect("#2")
    first, second = await deal(bot, 1), await deal(bot, 2)
    assert first.client_id == second.client_id
    async with bot.runtime.uow() as uow:
        client = await uow.session.get(Client, first.client_id)
    assert client is not None and client.name == "Анна Смирнова"


async def test_a_shared_contact_starts_a_deal(bot: BotRunner, fake_telegram: FakeTelegram) -> None:
    people = await seed_team(bot, fake_telegram, "Auto", [(30, "Ana", "ro", "manager")])
    ana = people["Ana"]
    await ana.share_contact("40722999888", "Vasile", "Lupu")
    await ana.expect("💰")
    await ana.send("12.500")
    await ana.expect("🚗")
    await ana.tap(b(bot, ana, "⏭ Skip"))
    await ana.expect("📣")
    await ana.tap(b(bot, ana, "🤝 Referral"))
    await ana.expect("#1")
    await ana.tap(b(bot, ana, "Next Monday"))
    card = await ana.expect(predicate=card_of(1))
    assert card.text.startswith("#1 · Vasile Lupu") and "+40 722 999 888" in card.text
    assert tt(bot, ana).money(1_250_000, "RON") in card.text


async def test_search_lists_deep_links_and_who_sees_what(
    bot: BotRunner, fake_telegram: FakeTelegram
) -> None:
    people = await seed_team(
        bot,
        fake_telegram,
        "Auto Sud",
        [
            (20, "Mihai", "ro", "manager"),
            (21, "Ioana", "ro", "salesperson"),
            (22, "Dan", "ro", "salesperson"),
        ],
    )
    ioana, dan, mihai = people["Ioana"], people["Dan"], people["Mihai"]
    other = (await seed_team(bot, fake_telegram, "Alt Salon", [(40, "Eve", "en", "manager")]))[
        "Eve"
    ]
    for line in ("Ion Popescu 0722 123 456", "Maria Ionescu 0733 111 222", "Ionela Stan"):
        await ioana.send(f"/new {line}")
        await ioana.expect("#")
        await ioana.tap(b(bot, ioana, "🚫 No date yet"))
        await ioana.expect(predicate=lambda m: "· " in m.text.split("\n", 1)[0])

    await ioana.send("Ion")
    found = await ioana.expect("🔍")
    assert {"#1 Ion Popescu", "#3 Ionela Stan", "#2 Maria Ionescu"} <= set(found.button_texts)
    await ioana.send("0733111222")
    assert (await ioana.expect(predicate=card_of(2))).text.startswith("#2 · Maria Ionescu")
    await ioana.send("#3")
    await ioana.expect(predicate=card_of(3))

    # Dan sees none of Ioana's deals; the manager sees them all; another team sees nothing.
    await dan.send("Popescu")
    offer = await dan.expect("🔍")
    assert b(bot, dan, "➕ New client") in offer.button_texts
    # Nothing found: one tap creates a client with that name.
    await dan.tap(b(bot, dan, "➕ New client"))
    await dan.expect("📞")
    await dan.send("0744 555 666")
    await dan.expect("💰")
    await dan.send("/start deal-1")
    await dan.expect(tt(bot, dan)._("No such deal among the ones you can see."))
    await mihai.send("/start deal-1")
    await mihai.expect(predicate=card_of(1))
    await other.send("/find Popescu")
    assert "Nothing found" in (await other.expect("🔍")).text or "Create" in other.last.text
    await other.send("/start deal-1")
    await other.expect("No such deal")

    await ioana.send("/clients")
    listing = await ioana.expect("📋")
    assert tt(bot, ioana).pgettext("stage", "New lead") in listing.text
    assert all(f"#{n} " in listing.text for n in (1, 2, 3))


async def test_stale_forged_and_interrupted(bot: BotRunner, fake_telegram: FakeTelegram) -> None:
    people = await seed_team(
        bot,
        fake_telegram,
        "North",
        [(1, "Mark", "en", "manager"), (2, "Sue", "en", "salesperson")],
    )
    mark, sue = people["Mark"], people["Sue"]
    other = (await seed_team(bot, fake_telegram, "South", [(9, "Zed", "en", "manager")]))["Zed"]
    await sue.send("/new Alpha Client")
    await sue.expect("#1")
    await sue.tap("🚫 No date yet")
    first_card = await sue.expect(predicate=card_of(1))
    await sue.send("/new Beta Client")
    await sue.expect("#2")
    await sue.tap("🚫 No date yet")
    second_card = await sue.expect(predicate=card_of(2))
    alpha, beta = await deal(bot, 1), await deal(bot, 2)

    # Another team's user forges taps on Sue's deal: nothing happens.
    await other.send("/start")
    await other.expect("Welcome back")
    await other.forge_tap(f"d:mv:{alpha.id}:{alpha.stage_id}")
    assert "No such deal" in await alert(other)
    await other.forge_tap(f"dx:r:{alpha.id}:1")
    assert "No such deal" in await alert(other)
    await other.forge_tap("d:mv:abc:def")
    assert "out of date" in await alert(other)

    # Mid-way through a note on #1, a tap on #2's card leaves the note and does what it says.
    await sue.tap("📝 Note", message=first_card)
    await sue.expect("Send the note for #1")
    await sue.tap("➡️ Stage", message=second_card)
    await sue.expect("Move #2")
    await sue.send("Alpha")  # now a search, not a note on #1
    await sue.expect(predicate=card_of(1))
    assert (await deal(bot, 1)).last_note is None

    # A closed deal's old buttons are stale: keep an older copy of #2's card, close #2 on
    # a fresh one, then tap the old copy.
    await sue.tap("◀️ Back", message=second_card)
    await sue.expect(predicate=lambda m: card_of(2)(m) and m.message_id == second_card.message_id)
    await sue.send("/start deal-2")
    fresh = await sue.expect(predicate=card_of(2))
    await sue.tap("❌ Resign", message=fresh)
    await sue.expect("Why did Beta Client resign?")
    await sue.tap("Other")
    await sue.expect("A short comment")
    await sue.send("Went silent")
    await sue.expect("🔁")
    await sue.tap("🚫 Never")
    await sue.expect(predicate=lambda m: card_of(2)(m) and "Lost at" in m.text)
    await sue.tap("➡️ Stage", message=second_card)
    assert await alert(sue) == "Deal #2 is already closed. Reopen it first."

    # Manager reassigns #1 to himself... and the new owner gets the card.
    await mark.send("/start deal-1")
    await mark.expect(predicate=card_of(1))
    await mark.tap("👤 Reassign")
    await mark.expect("Who takes over #1")
    await mark.tap("Mark")
    await mark.expect(predicate=lambda m: card_of(1)(m) and "Owner: Mark" in m.text)
    assert (await deal(bot, 1)).owner_member_id != alpha.owner_member_id
    # Sue no longer sees #1; a salesperson has no reassign button at all.
    await sue.send("/start deal-1")
    await sue.expect("No such deal")
    await sue.forge_tap(f"d:rt:{beta.id}:{alpha.owner_member_id}")
    assert "out of date" in await alert(sue) or "No such deal" in sue.answers[-1][0]  # type: ignore[operator]


async def test_a_leavers_deals_are_handed_over_in_one_step(
    bot: BotRunner, fake_telegram: FakeTelegram
) -> None:
    people = await seed_team(
        bot,
        fake_telegram,
        "North",
        [
            (1, "Mark", "en", "manager"),
            (2, "Sue", "en", "salesperson"),
            (3, "Tom", "en", "salesperson"),
        ],
    )
    mark, sue, tom = people["Mark"], people["Sue"], people["Tom"]
    for name in ("One", "Two"):
        await sue.send(f"/new {name}")
        await sue.expect("#")
        await sue.tap("Tomorrow morning")
        await sue.expect(predicate=lambda m: "· " in m.text.split("\n", 1)[0])
    await mark.send("/team")
    await mark.expect("North")
    await mark.tap("👤 Sue")
    await mark.expect("2 deals open or with a follow-up planned")
    await mark.tap("⛔ Turn off access")
    await mark.expect("Turn off access for Sue?")
    await mark.tap("⛔ Yes, turn off")
    # Turning access off asks at once who takes over what the leaver had.
    await mark.expect("Who takes over the deals of Sue")
    await mark.tap("Tom")
    await mark.expect("2 deals handed over to Tom")
    await tom.expect("handed you 2 deals of Sue")
    team_id = (await deal(bot, 1)).team_id
    async with bot.runtime.uow() as uow:
        owners = {d.owner_member_id for d in await uow.session.exec(select(Deal))}
        reminder_owners = {
            r.member_id
            for r in await uow.session.exec(
                select(Reminder).where(Reminder.status == ReminderStatus.PENDING)
            )
        }
        tom_member = await uow.teams.member(team_id, 3)
    assert (
        tom_member is not None and owners == {tom_member.id} and reminder_owners == {tom_member.id}
    )
    await sue.send("/clients")
    await sue.expect("turned off")


async def test_editing_keeps_the_old_value_and_a_new_owner_is_told(
    bot: BotRunner, fake_telegram: FakeTelegram
) -> None:
    people = await seed_team(
        bot,
        fake_telegram,
        "Автосалон",
        [
            (10, "Олег", "ru", "manager"),
            (11, "Иван", "ru", "salesperson"),
            (12, "Пётр", "ru", "salesperson"),
        ],
    )
    oleg, ivan, petr = people["Олег"], people["Иван"], people["Пётр"]
    t = tt(bot, ivan)
    await ivan.send("/new Анна 89160001122 500000")
    await ivan.expect("#1")
    await ivan.tap(b(bot, ivan, "Tomorrow morning"))
    await ivan.expect(predicate=card_of(1))
    await ivan.tap(b(bot, ivan, "✏️ Edit"))
    await ivan.expect("✏️")
    await ivan.tap(b(bot, ivan, "Phone"))
    await ivan.expect("+7 916 000-11-22")
    await ivan.send("не телефон")
    await ivan.expect(t._("That doesn't look like a phone number. Send it like +48 600 100 200."))
    await ivan.send("+7 916 555 44 33")
    edited = await ivan.expect(predicate=card_of(1))
    assert "+7 916 555-44-33" in edited.text
    await ivan.tap(b(bot, ivan, "✏️ Edit"), message=edited)
    await ivan.expect(predicate=lambda m: b(bot, ivan, "Value") in m.button_texts)
    await ivan.tap(b(bot, ivan, "Value"))
    await ivan.expect(t.money(50_000_000, "RUB"))
    await ivan.send("450 тыс")
    edited = await ivan.expect(predicate=card_of(1))
    assert t.money(45_000_000, "RUB") in edited.text
    saved = await deal(bot, 1)
    changes = [e.data for e in await events(bot, saved.id or 0) if e.kind == EventKind.EDITED]
    assert changes == [
        {"field": "phone", "old": "+79160001122", "new": "+79165554433"},
        {"field": "value", "old": 50_000_000, "new": 45_000_000},
    ]

    # The manager gives the deal to Пётр, who gets the card in his chat; the reminder follows.
    await oleg.send("#1")
    await oleg.expect(predicate=card_of(1))
    await oleg.tap(b(bot, oleg, "👤 Reassign"))
    await oleg.expect("#1")
    await oleg.tap("Пётр")
    await oleg.expect(predicate=lambda m: card_of(1)(m) and "Пётр" in m.text)
    handed = await petr.expect(predicate=lambda m: "#1 · Анна" in m.text)
    assert "Олег" in handed.text and b(bot, petr, "➡️ Stage") in handed.button_texts
    assert b(bot, petr, "👤 Reassign") not in handed.button_texts
    async with bot.runtime.uow() as uow:
        member = await uow.teams.member(saved.team_id, 12)
        reminders = list(
            await uow.session.exec(select(Reminder).where(Reminder.deal_id == saved.id))
        )
    assert member is not None and {
        r.member_id for r in reminders if r.status == ReminderStatus.PENDING
    } == {member.id}
