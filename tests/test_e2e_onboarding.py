"""Onboarding through the fake Bot API, on both databases: a manager creates a team, two
salespeople join in their own languages, roles and access change, links are revoked, and a
half-finished flow survives a restart."""

from __future__ import annotations

import logging
import re

import pytest
from sqlmodel import select

from bot.domain import Role
from bot.storage.models import Member, Team, User
from tests.fakes.telegram_server import FakeTelegram, FakeUser
from tests.harness import BotRunner

LINK = re.compile(r"https://t\.me/crm_test_bot\?start=(join-[A-Za-z0-9_-]+)")


def btn(bot: BotRunner, user: FakeUser, label: str) -> str:
    """A button's label as this user sees it."""
    return bot.t(user).pgettext("button", label)


async def create_team(bot: BotRunner, manager: FakeUser, name: str) -> str:
    """Drive the creation flow; returns the invite payload (`join-<code>`)."""
    await manager.send("/start")
    await manager.expect(predicate=lambda m: bool(m.buttons))
    await manager.tap(btn(bot, manager, "➕ Create a team"))
    await manager.expect("64")
    await manager.send(name)
    created = await manager.expect(name)
    match = LINK.search(created.text)
    assert match, created.text
    return match.group(1)


async def alert(user: FakeUser) -> str:
    """The next pop-up answer with text (silent acknowledgements are skipped)."""
    while True:
        text, shown_as_alert = await user.expect_answer()
        if text:
            assert shown_as_alert, text
            return text


async def members(bot: BotRunner) -> dict[int, Member]:
    async with bot.runtime.uow() as uow:
        rows = await uow.session.exec(select(Member))
        return {member.user_id: member for member in rows}


async def test_a_manager_and_two_salespeople_onboard_in_polish_russian_and_romanian(
    bot: BotRunner, fake_telegram: FakeTelegram
) -> None:
    marek = fake_telegram.user(1001, "Marek", language_code="pl")
    ivan = fake_telegram.user(1002, "Иван", last_name="Петров", language_code="ru")
    ioana = fake_telegram.user(1003, "Ioana", language_code="ro")

    # The manager is greeted in Polish and creates a team whose name needs escaping.
    await marek.send("/start")
    welcome = await marek.expect("Marek")
    assert welcome.text.startswith("👋 Cześć, Marek!")
    assert "🇵🇱 Polski" in welcome.text
    payload = await create_team(bot, marek, "Kowalski & Syn <VIP> 🚗")
    created = marek.last
    assert "Kowalski & Syn <VIP> 🚗" in created.text  # shown exactly as typed
    assert "Polska" in created.text and "złoty" in created.text.lower()

    # Ivan opens the link: joins at once, in Russian; Marek hears of it in Polish.
    await ivan.send(f"/start {payload}")
    joined = await ivan.expect("Kowalski & Syn <VIP> 🚗")
    assert "Добро пожаловать" in joined.text and "продавец" in joined.text
    note = await marek.expect("Иван Петров")
    assert "dołącza do twojego zespołu jako handlowiec" in note.text

    # Ioana taps "join" and pastes the whole link.
    await ioana.send("/start")
    await ioana.expect("Ioana")
    await ioana.tap(btn(bot, ioana, "🔗 Join a team"))
    await ioana.expect("link")
    await ioana.send(f"https://t.me/crm_test_bot?start={payload}")
    joined = await ioana.expect("Kowalski & Syn <VIP> 🚗")
    assert "Bine ai venit" in joined.text and "agent de vânzări" in joined.text
    await marek.expect("Ioana dołącza")

    people = await members(bot)
    assert people[1001].role == Role.MANAGER
    assert people[1002].role == Role.SALESPERSON and people[1003].role == Role.SALESPERSON

    # /team lists everyone, with a correct Polish plural.
    await marek.send("/team")
    screen = await marek.expect("3 osoby")
    assert "Иван Петров" in screen.text and "Ioana" in screen.text
    assert payload in screen.text

    # Menus: the manager's has /settings, the salespeople's do not; each in its language.
    def menu(user: FakeUser) -> list[str]:
        return [c["command"] for c in fake_telegram.commands({"type": "chat", "chat_id": user.id})]

    assert "digest" in menu(marek) and "settings" in menu(marek)
    assert "digest" not in menu(ivan) and "team" in menu(ivan) and "new" in menu(ivan)
    ru_menu = fake_telegram.commands({"type": "chat", "chat_id": ivan.id})
    start_entry = next(c for c in ru_menu if c["command"] == "start")
    assert start_entry["description"] == bot.t(ivan)._("Main menu") == "Главное меню"
    assert fake_telegram.commands(None, "ro"), "newcomers' menu in Romanian"


async def test_language_is_detected_and_can_be_changed_at_once(
    bot: BotRunner, fake_telegram: FakeTelegram
) -> None:
    olga = fake_telegram.user(2001, "Olga", language_code="ru-RU")
    await olga.send("/start")
    welcome = await olga.expect("Olga")
    assert "Русский" in welcome.text
    await olga.tap("🇷🇴 Română")
    redrawn = await olga.expect(predicate=lambda m: m.event == "edit")
    assert redrawn.message_id == welcome.message_id
    assert "Română" in redrawn.text and btn(bot, olga, "➕ Create a team") not in redrawn.text
    hans = fake_telegram.user(2002, "Hans", language_code="de")
    await hans.send("/start")
    assert "English" in (await hans.expect("Hans")).text
    await hans.send("/lang")
    await hans.tap("🇵🇱 Polski")
    changed = await hans.expect("Polski")
    assert changed.event == "edit"
    async with bot.runtime.uow() as uow:
        user = await uow.users.get(2002)
    assert user is not None and user.language == "pl"
    assert [c["command"] for c in fake_telegram.commands({"type": "chat", "chat_id": 2002})]


async def test_wrong_and_revoked_invite_links_get_a_clear_answer(
    bot: BotRunner, fake_telegram: FakeTelegram
) -> None:
    anna = fake_telegram.user(3001, "Anna", language_code="en")
    piotr = fake_telegram.user(3002, "Piotr", language_code="en")
    old = await create_team(bot, anna, "North")
    await piotr.send("/start join-ThisCodeIsWrong123")
    await piotr.expect("does not work")

    await anna.send("/team")
    await anna.expect("North")
    await anna.tap("🔄 New invite link")
    await anna.expect("stops working")
    await anna.tap("🔄 Yes, new link")
    renewed = await anna.expect("New invite link made")
    new = LINK.search(renewed.text)
    assert new and new.group(1) != old

    await piotr.send(f"/start {old}")
    await piotr.expect("does not work")
    await piotr.send(f"/start {new.group(1)}")
    await piotr.expect("Welcome to <b>North</b>".replace("<b>", "").replace("</b>", ""))


async def test_promote_demote_and_turn_off_access(
    bot: BotRunner, fake_telegram: FakeTelegram
) -> None:
    anna = fake_telegram.user(4001, "Anna", language_code="en")
    piotr = fake_telegram.user(4002, "Piotr", language_code="en")
    payload = await create_team(bot, anna, "South")
    await piotr.send(f"/start {payload}")
    await piotr.expect("Welcome to")
    await anna.expect("Piotr joined")

    # The only manager cannot step down.
    await anna.send("/team")
    await anna.expect("South")
    await anna.tap("👑 Anna")
    await anna.expect("Role: manager")
    await anna.tap("👤 Make salesperson")
    assert "at least one manager" in await alert(anna)
    assert (await members(bot))[4001].role == Role.MANAGER

    # Promote Piotr: he is told, and his menu gains /settings.
    await anna.tap("◀️ Back")
    await anna.expect("South")
    await anna.tap("👤 Piotr")
    await anna.expect("Role: salesperson")
    await anna.tap("👑 Make manager")
    await anna.expect("Role: manager")
    await piotr.expect("You are now a manager")
    assert "digest" in [
        c["command"] for c in fake_telegram.commands({"type": "chat", "chat_id": piotr.id})
    ]
    # A double tap on the same (now stale) button changes nothing more.
    await anna.forge_tap(f"tm:mgr:{(await members(bot))[4002].id}")
    await piotr.expect_no_message(within=0.3)

    # Turn off Piotr's access, after a confirmation.
    await anna.tap("◀️ Back")
    await anna.expect("South")
    await anna.tap("👑 Piotr")
    await anna.expect("Role: manager")
    await anna.tap("⛔ Turn off access")
    await anna.expect("Turn off access for Piotr?")
    await anna.tap("⛔ Yes, turn off")
    await anna.expect("access off")
    await piotr.expect("turned off")
    await piotr.send("/team")
    await piotr.expect("turned off by a manager")
    assert not (await members(bot))[4002].active


async def test_buttons_of_another_team_or_forged_data_change_nothing(
    bot: BotRunner, fake_telegram: FakeTelegram
) -> None:
    anna = fake_telegram.user(5001, "Anna", language_code="en")
    boris = fake_telegram.user(5002, "Boris", language_code="en")
    await create_team(bot, anna, "Team A")
    await create_team(bot, boris, "Team B")
    boris_member = (await members(bot))[5002]
    await anna.forge_tap(f"tm:offok:{boris_member.id}")
    assert "out of date" in await alert(anna)
    await anna.forge_tap("tm:offok:999999")
    assert "out of date" in await alert(anna)
    await anna.forge_tap("zz:nonsense:1")
    assert "out of date" in await alert(anna)
    assert (await members(bot))[5002].active
    # A salesperson pressing a manager's button is refused.
    carl = fake_telegram.user(5003, "Carl", language_code="en")
    async with bot.runtime.uow() as uow:
        team = (await uow.session.exec(select(Team).where(Team.name == "Team A"))).one()
    await carl.send(f"/start join-{team.invite_code}")
    await carl.expect("Welcome to")
    await carl.forge_tap(f"tm:offok:{(await members(bot))[5001].id}")
    assert "Only a manager" in await alert(carl)
    assert (await members(bot))[5001].active


async def test_a_half_finished_flow_survives_a_restart(
    bot: BotRunner, fake_telegram: FakeTelegram
) -> None:
    anna = fake_telegram.user(6001, "Anna", language_code="en")
    await anna.send("/start")
    await anna.expect("Hi, Anna")
    await anna.tap("➕ Create a team")
    await anna.expect("What is your team called?")
    await bot.restart()
    await anna.send("Restart Motors")
    created = await anna.expect("Restart Motors")
    assert "ready" in created.text
    async with bot.runtime.uow() as uow:
        user = await uow.users.get(6001)
        state = await uow.conversations.get(6001)
    assert user is not None and user.team_id is not None and state is None


async def test_cancel_leaves_the_flow_and_keeps_what_was_saved(
    bot: BotRunner, fake_telegram: FakeTelegram
) -> None:
    anna = fake_telegram.user(7001, "Anna", language_code="en")
    await anna.send("/cancel")
    await anna.expect("nothing to cancel")
    await anna.send("/start")
    await anna.expect("Hi, Anna")
    await anna.tap("➕ Create a team")
    await anna.expect("What is your team called?")
    await anna.send("")  # Telegram never sends empty text; a blank-looking name:
    await anna.send("   ")
    await anna.expect("can't be empty")
    await anna.send("x" * 65)
    await anna.expect("64 characters at most")
    await anna.send("/cancel")
    await anna.expect("cancelled")
    await anna.send("Not a team name")
    await anna.expect("not in a team yet")
    async with bot.runtime.uow() as uow:
        assert (await uow.session.exec(select(Team))).first() is None


async def test_settings_by_button_and_by_typing(
    bot: BotRunner, fake_telegram: FakeTelegram
) -> None:
    anna = fake_telegram.user(8001, "Anna", language_code="ro")
    await create_team(bot, anna, "Auto Sud")
    t = bot.t(anna)
    await anna.send("/settings")
    await anna.expect("Auto Sud")
    await anna.tap(t.pgettext("button", "🕒 Time zone"))
    await anna.expect(predicate=lambda m: m.event == "edit")
    await anna.tap(t.timezone_city("Europe/Chisinau"))
    await anna.expect(t.timezone_name("Europe/Chisinau"))
    await anna.tap(t.pgettext("button", "💰 Currency"))
    await anna.expect(predicate=lambda m: m.event == "edit")
    await anna.send("XYZ")
    await anna.expect(t._("I couldn't read that. Try again."))
    await anna.send("mdl")
    await anna.expect(t.currency_name("MDL"))
    async with bot.runtime.uow() as uow:
        team = (await uow.session.exec(select(Team))).one()
    assert (team.timezone, team.currency) == ("Europe/Chisinau", "MDL")
    # A salesperson has no team settings.
    bob = fake_telegram.user(8002, "Bob", language_code="en")
    await bob.send(f"/start join-{team.invite_code}")
    await bob.expect("Auto Sud")
    await bob.send("/settings")
    own = await bob.expect("Morning agenda: on")
    assert "Time zone" not in own.text and own.button_texts == ["🌅 Morning agenda on/off"]
    await bob.tap("🌅 Morning agenda on/off")
    await bob.expect("Morning agenda: off")
    await bob.forge_tap("st:set:cur:EUR")
    assert "Only a manager" in await alert(bob)
    await bob.forge_tap("st:wd:6")
    assert "Only a manager" in await alert(bob)
    async with bot.runtime.uow() as uow:
        team = (await uow.session.exec(select(Team))).one()
        member = await uow.teams.member(team.id or 0, 8002)
    assert team.currency == "MDL" and team.work_days == 0b0111111
    assert member is not None and not member.morning_agenda

    # Working hours: Sunday on, start an hour later.
    await anna.send("/settings")
    await anna.expect("Auto Sud")
    await anna.tap(t.pgettext("button", "🕘 Working hours"))
    await anna.expect("🕘")
    await anna.forge_tap("st:wd:6")
    await anna.expect(predicate=lambda m: m.event == "edit" and "✅" in m.button_texts[6])
    await anna.forge_tap("st:ws:1")
    await anna.expect("10:00")
    async with bot.runtime.uow() as uow:
        team = (await uow.session.exec(select(Team))).one()
    assert (team.work_days, team.work_start_minute) == (0b1111111, 600)


async def test_in_a_group_the_bot_speaks_once(bot: BotRunner, fake_telegram: FakeTelegram) -> None:
    anna = fake_telegram.user(9001, "Anna", language_code="en")
    group = fake_telegram.group(-100555, "Showroom")
    await group.send(anna, "/start")
    notice = await group.expect("private chats only")
    assert "@crm_test_bot" in notice.text
    await group.send(anna, "/team")
    await group.send(anna, "hello")
    await group.expect_no_message(within=0.5)
    async with bot.runtime.uow() as uow:
        assert await uow.users.get(9001) is None  # nothing stored about group talk


async def test_a_user_who_blocked_the_bot_is_marked_and_others_go_on(
    bot: BotRunner, fake_telegram: FakeTelegram
) -> None:
    anna = fake_telegram.user(9101, "Anna", language_code="en")
    piotr = fake_telegram.user(9102, "Piotr", language_code="en")
    payload = await create_team(bot, anna, "Blockers")
    anna.block()
    await piotr.send(f"/start {payload}")
    await piotr.expect("Welcome to")
    for _ in range(50):
        async with bot.runtime.uow() as uow:
            user = await uow.users.get(9101)
        if user is not None and user.bot_blocked:
            break
        import asyncio

        await asyncio.sleep(0.05)
    assert user is not None and user.bot_blocked
    anna.unblock()
    await anna.send("/team")
    await anna.expect("Blockers")
    async with bot.runtime.uow() as uow:
        again = await uow.users.get(9101)
    assert again is not None and not again.bot_blocked


async def test_an_unexpected_error_gets_an_apology_and_a_logged_trace(
    bot: BotRunner,
    fake_telegram: FakeTelegram,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from bot.handlers import team

    async def broken(*_: object) -> None:
        raise RuntimeError("disk on fire")

    anna = fake_telegram.user(9201, "Anna", language_code="pl")
    await create_team(bot, anna, "Oops")
    monkeypatch.setattr(team, "_team_screen", broken)
    with caplog.at_level(logging.ERROR):
        await anna.send("/team")
        apology = await anna.expect("/cancel")
    assert apology.text == bot.t(anna)._(
        "😕 Something went wrong on my side. What you saved before is safe. "
        "Please try again, or send /cancel to start over."
    )
    assert "disk on fire" in caplog.text
    assert "Traceback" not in apology.text


async def test_unknown_commands_and_non_text_messages_are_answered(
    bot: BotRunner, fake_telegram: FakeTelegram
) -> None:
    anna = fake_telegram.user(9301, "Anna", language_code="en")
    await anna.send("/frobnicate")
    await anna.expect("I don't know that command")
    # A photo or a file is an attachment now, which needs a team: outside one, the usual
    # answer; what is neither text nor an attachment (a place) still gets "only text".
    not_in_team = "You are not in a team yet. Send /start to create one or to join yours."
    await anna.send_document(b"hello", "a.txt", "text/plain")
    assert (await anna.expect("not in a team")).text == not_in_team
    await anna.send_photo(b"\xff\xd8\xff photo")
    assert (await anna.expect("not in a team")).text == not_in_team
    await anna.send_location(52.23, 21.01)
    await anna.expect("only read text")
    await anna.send("/help")
    helped = await anna.expect("/start")
    assert "/settings" not in helped.text
    # In a team, with no deal's card opened: told how to attach.
    await create_team(bot, anna, "Attachments")
    await anna.send_document(b"hello", "a.txt", "text/plain")
    told = await anna.expect("📎")
    assert told.text == (
        "📎 To attach a photo or a file to a deal, open its card first "
        "(/clients, or type the client's name), then send it."
    )


async def test_bot_admins_limit_who_creates_teams(
    fake_telegram: FakeTelegram, db_url: str, clock: object
) -> None:
    from tests.conftest import FakeClock

    assert isinstance(clock, FakeClock)
    runner = BotRunner(fake_telegram, db_url, clock, admins=[42])
    await runner.start()
    try:
        stranger = fake_telegram.user(9401, "Eve", language_code="en")
        await stranger.send("/start")
        await stranger.expect("Hi, Eve")
        await stranger.tap("➕ Create a team")
        await stranger.expect("Only the bot's administrators")
        admin = fake_telegram.user(42, "Root", language_code="en")
        payload = await create_team(runner, admin, "Admin Motors")
        assert payload.startswith("join-")
    finally:
        await runner.stop()


async def test_restarts_lose_nothing(bot: BotRunner, fake_telegram: FakeTelegram) -> None:
    anna = fake_telegram.user(9501, "Anna", language_code="en")
    payload = await create_team(bot, anna, "Durable")
    await bot.restart()
    piotr = fake_telegram.user(9502, "Piotr", language_code="en")
    await piotr.send(f"/start {payload}")
    await piotr.expect("Welcome to")
    await bot.restart()
    await anna.send("/team")
    screen = await anna.expect("Durable")
    assert "Piotr" in screen.text and "2 people" in screen.text
    async with bot.runtime.uow() as uow:
        user = await uow.users.get(9502)
    assert user is not None
    assert user.language == "en"
    assert isinstance(user, User)
