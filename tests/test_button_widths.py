"""Buttons that share a row fit a phone in every language: the main screens, walked through the
real bot and the fake Bot API in Polish, Russian, Romanian and English. The fake records every
label wider than a phone shows uncut (over 20 characters beside one other button, over 13 in a
row of three or more; see `FakeTelegram.check_button_widths`), and each test fails on any.

The walks use short client and people names: what is checked here is the bot's own wording."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import Translator
from bot.services import deals
from tests.conftest import FakeClock
from tests.fakes.telegram_server import BotMessage, FakeTelegram, FakeUser, label_width
from tests.harness import BotRunner, seed_deal, seed_team

LANGUAGES = ("pl", "ru", "ro", "en")
# language: (team zone, currency, the founder, a salesperson, another one, two clients)
MARKETS = {
    "pl": ("Europe/Warsaw", "PLN", "Marek", "Ania", "Piotr", "Jan Nowak", "Ewa Nowak"),
    "ru": ("Europe/Moscow", "RUB", "Олег", "Иван", "Пётр", "Анна Орлова", "Олег Орлов"),
    "ro": ("Europe/Bucharest", "RON", "Mihai", "Ioana", "Dan", "Ion Popa", "Ana Popa"),
    "en": ("Europe/London", "GBP", "Mark", "Sue", "Tom", "John Hill", "Ann Hill"),
}
PHONE = "+48 600 100 201"


class Walk:
    """One person tapping through screens, in their language."""

    def __init__(self, bot: BotRunner, user: FakeUser, language: str) -> None:
        self.user = user
        self.t: Translator = bot.runtime.i18n.translator(language, MARKETS[language][0])

    def b(self, label: str) -> str:
        return self.t.pgettext("button", label)

    async def send(self, text: str, expect: str) -> BotMessage:
        await self.user.send(text)
        return await self.user.expect(plain(expect))

    async def tap(
        self,
        label: str,
        expect: str | None = None,
        *,
        on: BotMessage | None = None,
        predicate: Callable[[BotMessage], bool] | None = None,
        translate: bool = True,
    ) -> BotMessage:
        """Tap a button (a "button" label, translated unless `translate` is off) and wait for
        the screen that answers it."""
        await self.user.tap(self.b(label) if translate else label, message=on)
        return await self.user.expect(
            plain(expect) if expect is not None else None, predicate=predicate
        )


def plain(html: str) -> str:
    """What a message shows of an HTML text (the fake compares plain text)."""
    return re.sub(r"<[^>]+>", "", html)


def card_of(number: int) -> Callable[[BotMessage], bool]:
    return lambda message: any(
        line.startswith(f"#{number} · ") for line in message.text.split("\n")[:3]
    )


def check(fake: FakeTelegram) -> None:
    """Fail on the buttons too wide for their row (and leave the list empty for the fixture)."""
    wide = list(fake.wide_buttons)
    fake.wide_buttons.clear()
    assert wide == [], f"too wide for their row (label, buttons in the row, language): {wide}"


def keyboard(*rows: list[str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=f"x:{text}") for text in row] for row in rows]
    )


def test_a_label_is_as_wide_as_the_characters_a_person_sees() -> None:
    assert label_width("⏰ Programează") == 13
    assert label_width("✏️ Edit") == 6  # U+FE0F takes no room
    assert label_width("👨\u200d👩\u200d👧 Family") == 10  # nor do zero-width joiners


async def test_the_fake_records_wide_buttons_and_still_accepts_them() -> None:
    async with FakeTelegram(flood_limits=False) as fake:
        fake.check_button_widths = True
        fake.user(7, "Ana", language_code="ro", started=True)
        fake.user(8, "Bob", language_code=None, started=True)
        async with Bot(fake.token, base_url=fake.base_url) as bot:
            alone = "A label of twenty-five ch"
            sent = await bot.send_message(
                7,
                "…",
                reply_markup=keyboard(
                    [alone],  # a button on its own row has the whole width
                    ["12345678901234567890", "ok"],  # 20: fits beside another
                    ["123456789012345678901", "ok"],  # 21: does not
                    ["1234567890123", "a", "b"],  # 13: fits in a row of three
                    ["12345678901234", "a", "b", "c"],  # 14: does not, nor in four
                ),
            )
            assert fake.wide_buttons == [
                ("123456789012345678901", 2, "ro"),
                ("12345678901234", 4, "ro"),
            ]
            fake.wide_buttons.clear()
            await bot.edit_message_reply_markup(
                7, sent.message_id, reply_markup=keyboard(["⏰ Programează", "a", "b"])
            )
            await bot.edit_message_text(
                "…", chat_id=7, message_id=sent.message_id, reply_markup=keyboard(["x" * 21, "y"])
            )
            await bot.send_message(8, "…", reply_markup=keyboard(["x" * 14, "y", "z"]))
            await bot.send_message(8, "…", reply_markup=keyboard(["x" * 14, "y", "z"]))
            assert fake.wide_buttons == [("x" * 21, 2, "ro"), ("x" * 14, 3, "8")]
            fake.check_button_widths = False
            await bot.send_message(8, "…", reply_markup=keyboard(["w" * 30, "y"]))
            assert len(fake.wide_buttons) == 2


async def team_of(bot: BotRunner, fake: FakeTelegram, language: str) -> tuple[Walk, Walk, Walk]:
    """The founding manager, a salesperson and a second salesperson, in `language`."""
    # Flood control is tested elsewhere; here it would only make the walks slow.
    fake.flood_limits = False
    _, _, boss, seller, other, *_ = MARKETS[language]
    people = await seed_team(
        bot,
        fake,
        "Salon",
        [
            (1, boss, language, "manager"),
            (2, seller, language, "salesperson"),
            (3, other, language, "salesperson"),
        ],
        morning_agenda=False,
    )
    return (
        Walk(bot, people[boss], language),
        Walk(bot, people[seller], language),
        Walk(bot, people[other], language),
    )


@pytest.mark.parametrize("language", LANGUAGES)
async def test_new_client_and_the_deal_card(
    bot: BotRunner, fake_telegram: FakeTelegram, language: str
) -> None:
    """/new step by step (with the car and the sources), the next-contact picker, the card and
    every screen it opens, a resignation with its reasons and win-back picker, a reopening,
    a win with its confirmation and handover picker, and the duplicate-phone screens."""
    _, currency, *_, client, _ = MARKETS[language]
    boss, seller, other = await team_of(bot, fake_telegram, language)
    t = seller.t

    await seller.send("/new", t._("👤 New client. What is their name?"))
    await seller.send(client, "📞")
    await seller.send(PHONE, "💰")
    # The car step after the value (its skip / back row checked too): skipped, so no 🚗 line
    # on the cards below (the won card is told apart by its 🚗 handover line).
    car = t._("🚗 Which car is {name} interested in? For example Škoda Octavia.")
    await seller.send("95000", car.format(name=client))
    await seller.tap("⏭ Skip", "📣")
    await seller.tap("🚶 Walk-in", "#1")
    card = await seller.tap("In 2 days", predicate=card_of(1))

    screens = {
        "➡️ Stage": t._("➡️ Move #{number} {name} to which stage?"),
        "📞 Activity": t._("📞 What did you do with {name}?"),
        "✏️ Edit": t._("✏️ What to change in #{number} {name}?"),
        "📜 History": t._("📜 <b>History of #{number} · {name}</b>"),
    }
    for label, title in screens.items():
        await seller.tap(label, title.format(number=1, name=client), on=card)
        card = await seller.tap("◀️ Back", on=card, predicate=card_of(1))
    await seller.tap("✏️ Edit", on=card, predicate=lambda m: m.event == "edit")
    await seller.tap("Phone", "«")
    card = await seller.tap("◀️ Back", on=card, predicate=card_of(1))
    await seller.tap(
        "⏰ Next", t._("⏰ When is the next contact with {name}?").format(name=client)
    )
    card = await seller.tap("✔️ Keep as planned", on=card, predicate=card_of(1))
    await seller.tap("📝 Note", "📝", on=card)
    await seller.send("Kolor: czerwony", t._("📝 Note saved."))
    card = await seller.tap("✔️ Keep as planned", predicate=card_of(1))

    # A resignation: the reasons, a comment, the win-back picker, then the closed card.
    await seller.tap("❌ Resign", t._("❌ Why did {name} resign?").format(name=client), on=card)
    await seller.tap(t.pgettext("reason", "Price too high"), "💬", translate=False)
    await seller.send("Za drogo", t._("🔁 When should we get back to {name}?").format(name=client))
    lost = await seller.tap("🚫 Never", predicate=lambda m: card_of(1)(m) and "❌" in m.text)
    reopened = await seller.tap(
        "🔄 Reopen", t._("🔄 #{number} is open again.").format(number=1), on=lost
    )
    card = await seller.tap("Tomorrow morning", on=reopened, predicate=card_of(1))

    # A win: the confirmation, the handover picker, the won card.
    ask = await seller.tap("✅ Won", on=card, predicate=lambda m: m.event == "edit")
    assert ask.buttons[0][0].text == "✅ " + t.money(9_500_000, currency)
    await seller.tap(ask.buttons[0][0].text, "🎉", on=ask, translate=False)
    await seller.tap("Tomorrow morning", predicate=lambda m: card_of(1)(m) and "🚗" in m.text)

    # The manager's cards: open, won and lost, with the reassign button and its picker.
    await seed_deal(bot, 2, "Ola", next_contact=bot.clock.now() + timedelta(days=1))
    third = await seed_deal(bot, 2, "Olek")
    async with bot.runtime.uow() as uow:
        member = await uow.teams.member(1, 2)
        reason = (await uow.teams.loss_reasons(1))[0].id or 0
        assert member is not None
        await deals.resign(uow, member, third, reason, "—", None, bot.clock.now())
        await uow.commit()
    for number in (1, 2, 3):
        manager_card = await boss.send(f"#{number}", f"#{number} · ")
    await boss.tap("👤 Reassign", "👤", on=manager_card)
    await boss.tap("◀️ Back", on=manager_card, predicate=card_of(3))

    # The same phone again: the owner may open the card or start a new deal; a teammate is
    # told whose client it is, and the managers are told too.
    await seller.send("/new", "👤")
    await seller.send("Jan", "📞")
    await seller.send(PHONE, "📇")
    await seller.send("/cancel", t._("OK, cancelled. Everything saved before stays saved."))
    await other.send("/new", "👤")
    await other.send("Jan", "📞")
    await other.send(PHONE, "☎️")
    await boss.user.expect("☎️")
    check(fake_telegram)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_the_calendar(bot: BotRunner, fake_telegram: FakeTelegram, language: str) -> None:
    """📅 Pick a date: two weeks of days (Sundays included, named by Babel), then the hours of
    a day."""
    _, seller, _ = await team_of(bot, fake_telegram, language)
    t = seller.t
    await seller.send("/new Jan", "#1")
    days = await seller.tap("📅 Pick a date", t._("📅 Which day? Or type the date."))
    hours = await seller.tap(days.buttons[-2][-1].text, "🕒", on=days, translate=False)
    await seller.tap(hours.buttons[0][0].text, on=hours, predicate=card_of(1), translate=False)
    check(fake_telegram)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_reminders_snooze_and_done(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock, language: str
) -> None:
    """A reminder, its snooze and done menus (and the next-contact picker after an activity),
    and the bundle of reminders that fell due while the bot was away."""
    *_, client, other_client = MARKETS[language]
    _, seller, _ = await team_of(bot, fake_telegram, language)
    t = seller.t
    due = clock.now() + timedelta(hours=1)
    for name in (client, other_client):
        await seed_deal(bot, 2, name, phone=None, next_contact=due, step="oferta")
    clock.moment = due
    assert await bot.tick() == 2
    first, second = (
        next(m for m in seller.user.messages if f"#{number} · " in m.text) for number in (1, 2)
    )
    seller.user.skip_all()
    await seller.tap(
        "💤 Snooze",
        t._("💤 Remind me about #{number} {name}…").format(number=1, name=client),
        on=first,
    )
    await seller.tap("💤 " + seller.b("In 1 hour"), "💤 #1", on=first, translate=False)
    await seller.tap(
        "✅ Done",
        t._("✅ Done: #{number} {name}. What happened?").format(number=2, name=other_client),
        on=second,
    )
    await seller.tap("📞 Call", on=second, predicate=lambda m: "⏰" in m.text)

    # Two follow-ups that fell due hours ago come as one message.
    late = clock.now() + timedelta(minutes=30)
    for name in ("Ola", "Ela"):
        await seed_deal(bot, 2, name, next_contact=late)
    clock.moment = late + timedelta(hours=3)
    await bot.tick()
    bundle = await seller.user.expect("⌛")
    await seller.tap(bundle.buttons[0][0].text, "⌛", on=bundle, translate=False)
    check(fake_telegram)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_today_clients_and_search(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock, language: str
) -> None:
    *_, client, other_client = MARKETS[language]
    _, seller, _ = await team_of(bot, fake_telegram, language)
    t = seller.t
    await seed_deal(bot, 2, client, next_contact=clock.now() + timedelta(hours=2))
    await seed_deal(bot, 2, other_client, next_contact=clock.now() + timedelta(minutes=30))
    await seed_deal(bot, 2, "Ola")
    clock.advance(hours=1)  # the second one is overdue now, the first due later today
    await seller.send("/today", plain(t._("📅 <b>Your day</b>: {date}").split(":")[0]))
    await seller.send("/clients", "📋")
    await seller.send(client.split()[1][:4], "🔍")
    check(fake_telegram)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_team_and_a_member(
    bot: BotRunner, fake_telegram: FakeTelegram, language: str
) -> None:
    boss, seller, _ = await team_of(bot, fake_telegram, language)
    t = boss.t
    await seed_deal(bot, 2, "Ola")
    name = seller.user.first_name
    await boss.send("/team", "Salon")
    await boss.tap(f"👤 {name}", name, translate=False)
    await boss.tap(
        "⛔ Turn off access",
        t._(
            "Turn off access for {name}? They will no longer see the team's deals. "
            "Their history stays."
        ).format(name=name),
    )
    await boss.tap("◀️ Back", name)
    await boss.tap("👑 Make manager", name)
    await boss.tap("👤 Make salesperson", name)
    await boss.tap("◀️ Back", "Salon")
    await boss.tap(
        "🔄 New invite link",
        t._("Make a new invite link? The current link stops working at once."),
    )
    await boss.tap("◀️ Back", "Salon")
    check(fake_telegram)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_settings_and_their_screens(
    bot: BotRunner, fake_telegram: FakeTelegram, language: str
) -> None:
    """/settings, each of its screens (the lists of time zones and countries are the next
    test's), the targets, the pipeline stages and the loss reasons with one of each opened, and
    a salesperson's own settings."""
    boss, seller, _ = await team_of(bot, fake_telegram, language)
    t = boss.t
    title = plain(t._("⚙️ <b>Settings of {team}</b>").format(team="Salon"))
    settings = await boss.send("/settings", title)
    for label in ("✏️ Name", "💰 Currency", "📨 Digest time", "🕘 Working hours"):
        await boss.tap(label, on=settings, predicate=lambda m: m.event == "edit")
        settings = await boss.tap("◀️ Back", title, on=settings)
    await boss.tap("🎯 Targets", plain(t._("🎯 <b>Monthly targets</b>")), on=settings)
    await boss.tap("🎯 Team", "🎯", on=settings)
    await boss.tap("◀️ Back", plain(t._("🎯 <b>Monthly targets</b>")), on=settings)
    settings = await boss.tap("◀️ Back", title, on=settings)
    for label, heading, kind, first in (
        ("🧭 Pipeline", t._("🧭 <b>Pipeline stages</b>"), "stage", "New lead"),
        ("📋 Loss reasons", t._("📋 <b>Loss reasons</b>"), "reason", "Price too high"),
    ):
        await boss.tap(label, plain(heading), on=settings)
        await boss.tap(t.pgettext(kind, first), t._("in use"), on=settings, translate=False)
        if kind == "reason":
            await boss.tap("🗄 Retire", t._("retired"), on=settings)
            await boss.tap("♻️ Restore", t._("in use"), on=settings)
        await boss.tap("◀️ Back", plain(heading), on=settings)
        settings = await boss.tap("◀️ Back", title, on=settings)
    await boss.tap("🌅 Morning agenda on/off", title, on=settings)
    await seller.send("/settings", t._("🌅 Morning agenda: {state}").split(":")[0])
    check(fake_telegram)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_the_time_zone_and_country_lists(
    bot: BotRunner, fake_telegram: FakeTelegram, language: str
) -> None:
    """Their labels are Babel's (CLDR) names, not the catalogs'."""
    boss, _, _ = await team_of(bot, fake_telegram, language)
    t = boss.t
    title = plain(t._("⚙️ <b>Settings of {team}</b>").format(team="Salon"))
    settings = await boss.send("/settings", title)
    for label in ("🕒 Time zone", "☎️ Phone country"):
        await boss.tap(label, on=settings, predicate=lambda m: m.event == "edit")
        settings = await boss.tap("◀️ Back", title, on=settings)
    check(fake_telegram)


@pytest.mark.parametrize("language", LANGUAGES)
async def test_report_and_its_sections(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock, language: str
) -> None:
    """/report, its periods, every section (as the manager, and one as a salesperson)."""
    boss, seller, _ = await team_of(bot, fake_telegram, language)
    t = boss.t
    ids = [await seed_deal(bot, 2, name) for name in ("Ola", "Ela", "Ala")]
    async with bot.runtime.uow() as uow:
        member = await uow.teams.member(1, 2)
        reason = (await uow.teams.loss_reasons(1))[0].id or 0
        assert member is not None
        await deals.edit(uow, member, ids[0], "value", 5_000_000, clock.now())
        await deals.win(uow, member, ids[0], 5_000_000, clock.now())
        await deals.resign(uow, member, ids[1], reason, "Za drogo", None, clock.now())
        await uow.commit()
    clock.advance(hours=1)
    periods = await boss.send("/report", t._("📈 Which period?"))
    report = await boss.tap("This week", "📈", on=periods)
    for label in (
        "💸 Losses",
        "📊 Activity",
        "🎯 Targets",
        "🔁 Win-back",
        "👥 People",
        "🔻 Funnel",
    ):
        report = await boss.tap(label, "📈", on=report)
    await boss.tap("📅 Period", t._("📈 Which period?"), on=report)
    await boss.tap("📅 Other dates", "📅", on=report)
    await seller.send("/report", t._("📈 Which period?"))
    mine = await seller.tap("This month", "📈")
    await seller.tap("💸 Losses", "📈", on=mine)
    check(fake_telegram)
