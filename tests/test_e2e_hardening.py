"""What an outside review reproduced through the real Application, fixed (both databases):
edits and business updates never act, forged ids and amounts change nothing, a double tap acts
once, a leaver's reminders still reach someone, a reminder whose deal changed after it was claimed
goes where it should or nowhere, notices and daily messages are retried until they arrive, long
lists are split, and no request is one Telegram would refuse."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlmodel import col, select
from telegram import Update

from bot.domain import DealStatus, EventKind, ReminderKind, ReminderStatus
from bot.handlers.guard import GUARD_GROUP
from bot.services import deals
from bot.storage.models import Deal, DealEvent, Member, Reminder, User
from tests.conftest import FakeClock
from tests.fakes.telegram_server import BotMessage, FakeTelegram, FakeUser
from tests.harness import BotRunner, seed_deal, seed_team


async def _deals(bot: BotRunner) -> list[Deal]:
    async with bot.runtime.uow() as uow:
        return list(await uow.session.exec(select(Deal).order_by(col(Deal.number))))


async def _events(bot: BotRunner, deal_id: int, kind: str) -> list[DealEvent]:
    async with bot.runtime.uow() as uow:
        rows = await uow.session.exec(
            select(DealEvent).where(DealEvent.deal_id == deal_id, DealEvent.kind == kind)
        )
        return list(rows)


async def _reminders(bot: BotRunner, deal_id: int) -> list[Reminder]:
    async with bot.runtime.uow() as uow:
        rows = await uow.session.exec(
            select(Reminder).where(Reminder.deal_id == deal_id).order_by(col(Reminder.id))
        )
        return list(rows)


async def _member(bot: BotRunner, user_id: int) -> Member:
    async with bot.runtime.uow() as uow:
        member = (await uow.session.exec(select(Member).where(Member.user_id == user_id))).one()
    return member


def _data(message: BotMessage, label: str) -> str:
    found = message.find_button(label)
    assert found is not None and found.callback_data, (label, message.describe())
    return found.callback_data


async def _already_done(user: FakeUser) -> None:
    """The next answer with a text (earlier taps were answered silently) is the toast."""
    text, alert = await user.expect_answer()
    while text is None:
        text, alert = await user.expect_answer()
    assert text == "Already done ✅" and not alert


# --- 9: edits and business updates -------------------------------------------------------------
async def test_an_edited_message_is_answered_once_and_never_acts(
    bot: BotRunner, fake_telegram: FakeTelegram
) -> None:
    people = await seed_team(bot, fake_telegram, "North", [(1, "Mark", "en", "manager")])
    mark = people["Mark"]
    sent = await mark.send("/new Jan Kowalsky")
    await mark.expect("#1")
    await mark.edit(sent, "/new Jan Kowalski")
    notice = await mark.expect("Edits are not applied")
    assert notice.reply_to_message_id == sent
    await mark.edit(sent, "/new Jan Kowalski Junior")
    await mark.expect_no_message(1.0)
    assert [d.number for d in await _deals(bot)] == [1]
    # A live location that moves arrives as edits: ignored without a word.
    place = await mark.send_location(52.23, 21.01, live_period=900)
    await mark.expect("I can only read text here")
    await mark.move_live_location(place, 52.24, 21.02)
    await mark.expect_no_message(1.0)


async def test_business_updates_reach_no_handler_and_create_nobody(
    bot: BotRunner, fake_telegram: FakeTelegram
) -> None:
    people = await seed_team(bot, fake_telegram, "North", [(1, "Mark", "en", "manager")])
    mark = people["Mark"]
    client = {"id": 777, "is_bot": False, "first_name": "Client", "language_code": "pl"}
    chat = {"id": 777, "type": "private", "first_name": "Client"}
    message = {
        "message_id": 5,
        "from": client,
        "chat": chat,
        "date": 1_700_000_000,
        "text": "/start",
        "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        "business_connection_id": "conn-1",
    }
    connection = {
        "id": "conn-1",
        "user": {"id": 1, "is_bot": False, "first_name": "Mark"},
        "user_chat_id": 1,
        "date": 1_700_000_000,
        "can_reply": True,
        "is_enabled": True,
    }
    app = bot.app
    assert app is not None
    # Telegram sends these only when asked for (ALLOWED_UPDATES does not ask yet); were one to
    # arrive anyway, the guard stops it before any handler.
    raws: tuple[dict[str, Any], ...] = (
        {"business_message": message},
        {"edited_business_message": {**message, "text": "Hi there", "edit_date": 1}},
        {"business_connection": connection},
        {
            "deleted_business_messages": {
                "business_connection_id": "conn-1",
                "chat": chat,
                "message_ids": [5],
            }
        },
    )
    for number, raw in enumerate(raws, start=900):
        payload: dict[str, Any] = {"update_id": number, **raw}
        await app.process_update(Update.de_json(payload, app.bot))
    await mark.send("/help")
    await mark.expect("Pocket CRM")
    async with bot.runtime.uow() as uow:
        assert await uow.session.get(User, 777) is None
    assert not [call for call in fake_telegram.calls("sendMessage") if call.get("chat_id") == 777]
    assert not any("business_connection_id" in call for call in fake_telegram.calls("sendMessage"))


def test_no_handler_but_the_guard_accepts_an_edit_or_a_business_message(bot: BotRunner) -> None:
    app = bot.app
    assert app is not None
    base: dict[str, Any] = {
        "message_id": 3,
        "from": {"id": 1, "is_bot": False, "first_name": "Mark"},
        "chat": {"id": 1, "type": "private", "first_name": "Mark"},
        "date": 1_700_000_000,
        "edit_date": 1_700_000_100,
    }
    samples: dict[str, dict[str, Any]] = {
        "command": {
            "text": "/new Jan",
            "entities": [{"type": "bot_command", "offset": 0, "length": 4}],
        },
        "text": {"text": "Kowalski"},
        "contact": {"contact": {"phone_number": "+48600100200", "first_name": "Jan"}},
        "document": {"document": {"file_id": "f", "file_unique_id": "u", "file_name": "a.csv"}},
        "location": {"location": {"latitude": 52.2, "longitude": 21.0}},
    }
    updates = []
    for content in samples.values():
        message = {**base, **content}
        updates.append(Update.de_json({"update_id": 1, "edited_message": message}, app.bot))
        business = {**message, "business_connection_id": "c"}
        updates.append(Update.de_json({"update_id": 2, "business_message": business}, app.bot))
        updates.append(
            Update.de_json({"update_id": 3, "edited_business_message": business}, app.bot)
        )
    accepting = [
        (group, type(handler).__name__, getattr(handler.callback, "__name__", "?"))
        for group, handlers in app.handlers.items()
        if group != GUARD_GROUP
        for handler in handlers
        for update in updates
        if handler.check_update(update)
    ]
    assert accepting == []


# --- 10 and 8: forged ids and amounts -----------------------------------------------------------
async def test_forged_ids_and_amounts_change_nothing_and_log_no_error(
    bot: BotRunner, fake_telegram: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    people = await seed_team(bot, fake_telegram, "North", [(1, "Mark", "en", "manager")])
    mark = people["Mark"]
    deal_id = await seed_deal(bot, 1, "Jan Kowalski")
    await mark.send("/find Kowalski")
    await mark.expect("#1 · Jan Kowalski")
    caplog.set_level(logging.WARNING)
    for forged in (
        "d:o:²",
        "d:o:99999999999999999999",
        "d:o:١",
        "r:d:³",
        "tm:m:9223372036854775808",
        f"dw:ok:{deal_id}:9223372036854775807",
        f"dw:ok:{deal_id}:0",
    ):
        await mark.forge_tap(forged)
        text, alert = await mark.expect_answer()
        while text is None:
            text, alert = await mark.expect_answer()
        assert alert and "out of date" in text, (forged, text)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    saved = (await _deals(bot))[0]
    assert (saved.status, saved.value_minor) == (DealStatus.OPEN, None)

    # The amount a win is confirmed with comes from the flow, never from the button.
    await mark.forge_tap(f"d:o:{deal_id}")
    await mark.expect("#1 · Jan Kowalski")
    await mark.tap("✅ Won")
    await mark.expect("Contract signed")
    await mark.send("93 500")
    confirm = await mark.expect("Mark #1 Jan Kowalski as won")
    data = _data(confirm, "✅ Yes, won")
    assert "9350000" not in data
    await mark.tap("✅ Yes, won")
    await mark.expect("🎉")
    saved = (await _deals(bot))[0]
    assert (saved.status, saved.value_minor) == (DealStatus.WON, 9_350_000)


async def test_sums_never_overflow_even_with_absurd_stored_amounts(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock
) -> None:
    people = await seed_team(bot, fake_telegram, "North", [(1, "Mark", "en", "manager")])
    mark = people["Mark"]
    member = await _member(bot, 1)
    for name in ("A", "B", "C"):
        deal_id = await seed_deal(bot, 1, name)
        async with bot.runtime.uow() as uow:
            await deals.win(uow, member, deal_id, 100, clock.now())
            await uow.commit()
    # As a forged tap could store before the fix: three values near the 64-bit limit.
    async with bot.runtime.uow() as uow:
        await uow.session.exec(
            update(DealEvent)
            .where(col(DealEvent.kind) == EventKind.WON)
            .values(amount_minor=9_223_372_036_854_775_000)
        )
        await uow.session.exec(update(Deal).values(value_minor=9_223_372_036_854_775_000))
        await uow.commit()
    clock.advance(minutes=1)
    await mark.send("/digest")
    digest = await mark.expect("today so far")
    assert "Won: 3" in digest.text
    await mark.send("/report")
    await mark.expect("Which period")
    await mark.tap("This month")
    await mark.expect(predicate=lambda m: m.event == "edit")
    for section in ("📊 Activity", "🔻 Funnel", "👥 People"):
        await mark.tap(section)
        shown = await mark.expect(predicate=lambda m: m.event == "edit")
        assert "went wrong" not in shown.text


# --- 11: double taps ----------------------------------------------------------------------------
async def test_a_double_tap_acts_once(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock
) -> None:
    people = await seed_team(bot, fake_telegram, "North", [(1, "Mark", "en", "manager")])
    mark = people["Mark"]
    deal_id = await seed_deal(bot, 1, "Jan Kowalski")
    await mark.send("/find Kowalski")
    card = await mark.expect("#1 · Jan Kowalski")

    # An activity: the second tap of the same button of the same message writes nothing.
    await mark.tap("📞 Activity", message=card)
    menu = await mark.expect("What did you do")
    call = _data(menu, "📞 Call")
    await mark.forge_tap(call, menu.message_id)
    await mark.expect("Logged")
    await mark.forge_tap(call, menu.message_id)
    await _already_done(mark)
    assert len(await _events(bot, deal_id, EventKind.ACTIVITY)) == 1
    # The next-contact pick, twice.
    picker = fake_telegram_last(mark)
    tomorrow = _data(picker, "Tomorrow morning")
    await mark.forge_tap(tomorrow, picker.message_id)
    await mark.expect(predicate=lambda m: m.text.startswith("#1 · "))
    await mark.forge_tap(tomorrow, picker.message_id)
    await _already_done(mark)
    assert len(await _events(bot, deal_id, EventKind.FOLLOW_UP_SET)) == 1

    # The same card shows the activity menu again later: a new version, a new tap that counts.
    await mark.tap("📞 Activity", message=picker.message_id)
    again = await mark.expect("What did you do")
    assert _data(again, "📞 Call") != call
    await mark.tap("📞 Call", message=again)
    await mark.expect("Logged")
    assert len(await _events(bot, deal_id, EventKind.ACTIVITY)) == 2
    await mark.tap("🚫 No date yet")
    card = await mark.expect(predicate=lambda m: m.text.startswith("#1 · "))

    # A stage move (the call moved the deal to "Contacted" already).
    moves = len(await _events(bot, deal_id, EventKind.STAGE_CHANGED))
    await mark.tap("➡️ Stage", message=card)
    stages = await mark.expect("to which stage")
    move = _data(stages, "Test drive")
    await mark.forge_tap(move, stages.message_id)
    await mark.expect("moved to")
    await mark.forge_tap(move, stages.message_id)
    await _already_done(mark)
    assert len(await _events(bot, deal_id, EventKind.STAGE_CHANGED)) == moves + 1
    await mark.tap("🚫 No date yet")
    card = await mark.expect(predicate=lambda m: m.text.startswith("#1 · "))

    # A resignation (the win-back pick ends it) and then a win of another deal.
    await mark.tap("❌ Resign", message=card)
    await mark.expect("Why did")
    await mark.tap("Price too high")
    await mark.expect("comment")
    await mark.send("Too expensive")
    winback = await mark.expect("When should we get back")
    month = _data(winback, "In 3 months")
    await mark.forge_tap(month, winback.message_id)
    await mark.expect(predicate=lambda m: "Lost at" in m.text)
    await mark.forge_tap(month, winback.message_id)
    await _already_done(mark)
    assert len(await _events(bot, deal_id, EventKind.LOST)) == 1

    other = await seed_deal(bot, 1, "Ewa Lis")
    async with bot.runtime.uow() as uow:
        await deals.edit(uow, await _member(bot, 1), other, "value", 5_000_000, clock.now())
        await uow.commit()
    await mark.forge_tap(f"dw:ask:{other}")
    ask = await mark.expect("Contract signed with Ewa Lis")
    won = ask.buttons[0][0].callback_data or ""
    await mark.forge_tap(won, ask.message_id)
    await mark.expect("🎉")
    await mark.forge_tap(won, ask.message_id)
    await _already_done(mark)
    assert len(await _events(bot, other, EventKind.WON)) == 1


def fake_telegram_last(user: FakeUser) -> BotMessage:
    return user.last


async def test_a_double_tap_on_a_reminder_acts_once(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock
) -> None:
    people = await seed_team(
        bot, fake_telegram, "North", [(1, "Mark", "en", "manager")], morning_agenda=False
    )
    mark = people["Mark"]
    due = clock.now() + timedelta(hours=1)
    first = await seed_deal(bot, 1, "Jan Kowalski", next_contact=due)
    second = await seed_deal(bot, 1, "Ewa Lis", next_contact=due)
    clock.moment = due
    assert await bot.tick() == 2
    one = await mark.expect("Jan Kowalski")
    two = await mark.expect("Ewa Lis")
    snooze = _data(one, "💤 Snooze")
    await mark.forge_tap(snooze, one.message_id)
    menu = await mark.expect("Remind me about")
    tomorrow = _data(menu, "Tomorrow morning")
    await mark.forge_tap(tomorrow, menu.message_id)
    await mark.expect("I'll remind you")
    await mark.forge_tap(tomorrow, menu.message_id)
    await _already_done(mark)
    pending = [r for r in await _reminders(bot, first) if r.status == ReminderStatus.PENDING]
    assert len(pending) == 1
    done = _data(two, "✅ Done")
    await mark.forge_tap(done, two.message_id)
    await mark.expect("What happened")
    await mark.forge_tap(done, two.message_id)
    await _already_done(mark)
    assert [r.status for r in await _reminders(bot, second)] == [ReminderStatus.DONE]


# --- 7: the check right before a send ---------------------------------------------------------
async def test_a_claimed_reminder_whose_deal_changed_goes_where_it_should_or_nowhere(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock
) -> None:
    people = await seed_team(
        bot,
        fake_telegram,
        "North",
        [(1, "Mark", "en", "manager"), (2, "Ann", "en", "salesperson")],
        morning_agenda=False,
    )
    mark, ann = people["Mark"], people["Ann"]
    due = clock.now() + timedelta(hours=1)
    names = ("First", "Won meanwhile", "Moved meanwhile", "Handed to Mark")
    ids = [await seed_deal(bot, 2, name, next_contact=due) for name in names]
    clock.moment = due
    manager = await _member(bot, 1)
    import asyncio

    dispatcher = bot.runtime.dispatcher
    assert dispatcher is not None
    waiting, changed = asyncio.Event(), asyncio.Event()
    real_wait = dispatcher.gate.wait

    async def held(chat_id: int) -> None:
        # The message waits for its slot (one a second per chat): the deals change meanwhile.
        waiting.set()
        await changed.wait()
        await real_wait(chat_id)

    dispatcher.gate.wait = held  # type: ignore[method-assign]
    tick = asyncio.create_task(bot.tick())
    await waiting.wait()
    now = clock.now()
    async with bot.runtime.uow() as uow:
        await deals.win(uow, manager, ids[1], 1000, now)
        await deals.plan_next_contact(uow, manager, ids[2], now + timedelta(days=2), now)
        await deals.reassign(uow, manager, ids[3], manager.id or 0, now)
        await uow.commit()
    changed.set()
    assert await tick == 1
    dispatcher.gate.wait = real_wait  # type: ignore[method-assign]
    only = await ann.expect("First")
    assert only.text.startswith("⏰ Time to contact First")  # the one left: no list of one
    await ann.expect_no_message(0.5)
    statuses = {
        name: [(r.kind, r.status) for r in await _reminders(bot, deal_id)]
        for name, deal_id in zip(names, ids, strict=True)
    }
    assert statuses["First"] == [(ReminderKind.NEXT_CONTACT, ReminderStatus.SENT)]
    assert statuses["Won meanwhile"] == [(ReminderKind.NEXT_CONTACT, ReminderStatus.CANCELLED)]
    assert statuses["Moved meanwhile"] == [
        (ReminderKind.NEXT_CONTACT, ReminderStatus.CANCELLED),
        (ReminderKind.NEXT_CONTACT, ReminderStatus.PENDING),
    ]
    # Routed to the new owner, on the next pass.
    assert await bot.tick() == 1
    await mark.expect("Handed to Mark")
    assert [r.member_id for r in await _reminders(bot, ids[3])] == [manager.id]


# --- 6: people who leave ------------------------------------------------------------------------
async def test_a_leavers_reminders_reach_a_manager_until_they_are_handed_over(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock
) -> None:
    people = await seed_team(
        bot,
        fake_telegram,
        "North",
        [
            (1, "Mark", "en", "manager"),
            (2, "Ann", "en", "salesperson"),
            (3, "Pete", "en", "salesperson"),
        ],
        morning_agenda=False,
    )
    mark, ann, pete = people["Mark"], people["Ann"], people["Pete"]
    ann_member = await _member(bot, 2)
    now = clock.now()
    await seed_deal(bot, 2, "Open One", next_contact=now + timedelta(hours=2))
    lost = await seed_deal(bot, 2, "Lost One")
    won = await seed_deal(bot, 2, "Won One")
    async with bot.runtime.uow() as uow:
        reason = (await uow.teams.loss_reasons(ann_member.team_id))[0]
        await deals.resign(
            uow, ann_member, lost, reason.id or 0, "no money", now + timedelta(days=1), now
        )
        await deals.win(uow, ann_member, won, 9_000_000, now)
        await deals.plan_handover(uow, ann_member, won, now + timedelta(days=1), now)
        await uow.commit()
    async with bot.runtime.reader() as uow:
        from bot.services.digest import day_period

        team = await uow.teams.get(ann_member.team_id)
        assert team is not None
        period = day_period(
            team, bot.runtime.i18n.translator("en", team.timezone).local(now).date()
        )
        before = (await uow.analytics.figures(team.id or 0, period, now)).members[
            ann_member.id or 0
        ]

    await mark.send("/team")
    await mark.expect("Invite link")
    await mark.tap("Ann")
    await mark.expect("Role:")
    await mark.tap("⛔ Turn off access")
    await mark.expect("Turn off access for Ann?")
    await mark.tap("⛔ Yes, turn off")
    picker = await mark.expect("Who takes over the deals of Ann")
    assert "Pete" in picker.button_texts
    await ann.expect("turned off by a manager")

    # Not handed over yet: the open deal's reminder goes once to the manager who turned her off.
    clock.moment = now + timedelta(hours=2)
    assert await bot.tick() == 1
    routed = await mark.expect("Open One")
    assert "Ann" in routed.text
    assert await bot.tick() == 0
    await mark.send("/team")
    team_screen = await mark.expect("Invite link")
    assert "3 reminders of people who left" in team_screen.text

    await mark.tap("📦 Ann")
    await mark.expect("Who takes over the deals of Ann")
    await mark.tap("Pete")
    done = await mark.expect("handed over to Pete")
    assert "3 follow-ups go to Pete" in done.text
    told = await pete.expect("handed you")
    assert "Ann" in told.text
    clock.moment = now + timedelta(days=1, minutes=1)
    assert await bot.tick() == 2
    await pete.expect("Handover for Won One")
    assert [m for m in pete.messages if "Time to win back Lost One" in m.text], [
        m.text[:60] for m in pete.messages
    ]
    assert {r.member_id for r in await _reminders(bot, won)} == {(await _member(bot, 3)).id}

    # Who the report credits did not move with the deals.
    async with bot.runtime.reader() as uow:
        after = (
            await uow.analytics.figures(team.id or 0, period, now + timedelta(days=2))
        ).members[ann_member.id or 0]
    assert (after.won, after.lost) == (before.won, before.lost) == (1, 1)


# --- 17: notices that must arrive ---------------------------------------------------------------
async def test_a_reassignment_notice_survives_a_telegram_error(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock
) -> None:
    people = await seed_team(
        bot,
        fake_telegram,
        "North",
        [(1, "Mark", "en", "manager"), (2, "Ann", "en", "salesperson")],
    )
    mark, ann = people["Mark"], people["Ann"]
    await seed_deal(bot, 1, "Jan Kowalski")
    await mark.send("/find Kowalski")
    await mark.expect("#1 · Jan Kowalski")
    await mark.tap("👤 Reassign")
    await mark.expect("Who takes over")
    fake_telegram.fail_next("sendMessage", 502, "Bad Gateway")
    await mark.tap("Ann")
    card = await mark.expect(predicate=lambda m: m.event == "edit" and "Owner: Ann" in m.text)
    assert "went wrong" not in card.text
    await ann.expect_no_message(0.5)
    clock.advance(seconds=30)
    await bot.tick()
    told = await ann.expect("Mark gave you deal #1")
    assert "Jan Kowalski" in told.text and told.buttons


# --- 14: the digest and the agenda are retried, part by part ------------------------------------
async def test_a_digest_whose_picture_failed_sends_only_the_picture_again(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock
) -> None:
    people = await seed_team(
        bot, fake_telegram, "North", [(1, "Mark", "en", "manager")], morning_agenda=False
    )
    mark = people["Mark"]
    await seed_deal(bot, 1, "Jan Kowalski")
    clock.moment = clock.now().replace(hour=18, minute=5)
    fake_telegram.fail_next("sendPhoto", 500, "Internal Server Error")
    await bot.tick()
    await mark.expect("digest for")
    await mark.expect_no_message(0.5)
    clock.advance(minutes=1)
    await bot.tick()
    picture = await mark.expect(predicate=lambda m: m.photo is not None)
    assert picture.photo
    clock.advance(minutes=10)
    await bot.tick()
    await mark.expect_no_message(0.5)
    texts = [m for m in mark.messages if "digest for" in m.text]
    assert len(texts) == 1


async def test_one_managers_broken_digest_does_not_stop_the_others(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await seed_team(
        bot, fake_telegram, "Broken", [(1, "Mark", "en", "manager")], morning_agenda=False
    )
    second = await seed_team(
        bot, fake_telegram, "Fine", [(2, "Olga", "en", "manager")], morning_agenda=False
    )
    import bot.dispatcher as dispatcher_module

    real = dispatcher_module.build_digest

    async def broken(runtime, t, team, *args, **kwargs):  # type: ignore[no-untyped-def]
        if team.name == "Broken":
            raise RuntimeError("a bug in one team's digest")
        return await real(runtime, t, team, *args, **kwargs)

    monkeypatch.setattr(dispatcher_module, "build_digest", broken)
    clock.moment = clock.now().replace(hour=18, minute=5)
    await bot.tick()
    await second["Olga"].expect("digest for")
    await first["Mark"].expect_no_message(0.3)
    monkeypatch.setattr(dispatcher_module, "build_digest", real)
    clock.advance(minutes=2)
    await bot.tick()
    await first["Mark"].expect("digest for")


async def test_the_morning_agenda_arrives_after_a_server_error(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock
) -> None:
    people = await seed_team(bot, fake_telegram, "North", [(1, "Mark", "en", "manager")])
    mark = people["Mark"]
    await seed_deal(bot, 1, "Jan Kowalski")

    def agendas() -> list[BotMessage]:
        return [m for m in mark.messages if "Good morning" in m.text]

    clock.moment = clock.now().replace(hour=9, minute=30) + timedelta(days=1)
    fake_telegram.fail_next("sendMessage", 502, "Bad Gateway")
    await bot.tick()  # the agenda fails; yesterday's digest, due since 18:00, goes out
    await mark.expect("digest for")
    assert agendas() == []
    clock.advance(minutes=1)
    await bot.tick()
    agenda = await mark.expect("Good morning")
    assert "Jan Kowalski" in agenda.text
    clock.advance(minutes=30)
    await bot.tick()
    await mark.expect_no_message(0.3)
    assert len(agendas()) == 1


# --- 15: long lists -----------------------------------------------------------------------------
async def test_a_busy_day_is_split_and_every_part_is_accepted(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock
) -> None:
    people = await seed_team(bot, fake_telegram, "North", [(1, "Mark", "en", "manager")])
    mark = people["Mark"]
    member = await _member(bot, 1)
    now = clock.now()
    long = " Długie-Nazwisko-Ω" * 10
    for index in range(15):
        await seed_deal(bot, 1, f"Overdue {index}{long}", next_contact=now + timedelta(minutes=5))
        await seed_deal(bot, 1, f"Later {index}{long}", next_contact=now + timedelta(hours=3))
        await seed_deal(bot, 1, f"Unplanned {index}{long}")
        lost = await seed_deal(bot, 1, f"Lost {index}{long}")
        async with bot.runtime.uow() as uow:
            reason = (await uow.teams.loss_reasons(member.team_id))[0]
            await deals.resign(
                uow, member, lost, reason.id or 0, "later", now + timedelta(days=3), now
            )
            await uow.commit()
    async with bot.runtime.uow() as uow:
        for stage in await uow.teams.stages(member.team_id):
            stage.name = f"Stage {stage.position} " + "x" * 56
            await uow.teams.save(stage)
        await uow.commit()
    clock.advance(minutes=10)
    fake_telegram.errors.clear()
    await mark.send("/today")
    first = await mark.expect("Your day")
    rest = await mark.expect(predicate=lambda m: m.message_id > first.message_id)
    assert rest.buttons and not first.buttons
    assert fake_telegram.errors == []
    assert all(len(m.text) <= 4096 for m in mark.messages)


# --- 1 and 3: heavy work never blocks another team ----------------------------------------------
async def test_another_teams_help_is_answered_while_a_bomb_is_parsed(
    fake_telegram: FakeTelegram, db_url: str, clock: FakeClock
) -> None:
    from tests.test_import_limits import names_sheet, random_words, shared_strings, sheet, workbook

    strings = shared_strings(["Name", *random_words(300_000, 3, seed=2)])
    bomb = workbook(sheet(names_sheet(1)), strings)
    bot = BotRunner(
        fake_telegram,
        db_url,
        clock,
        import_cpu_seconds=1,
        import_max_shared_strings_bytes=len(strings) + 1,
    )
    await bot.start()
    try:
        first = await seed_team(bot, fake_telegram, "First", [(1, "Mark", "en", "manager")])
        second = await seed_team(bot, fake_telegram, "Second", [(2, "Olga", "en", "salesperson")])
        mark, olga = first["Mark"], second["Olga"]
        await mark.send_document(bomb, "clients.xlsx")
        await mark.expect("Reading the file")
        await olga.send("/help")
        await olga.expect("Pocket CRM")
        # The parse was still running when /help was answered; it ends in the CPU limit.
        assert not [m for m in mark.messages if "takes too long" in m.text]
        refusal = await mark.expect("takes too long to read", timeout=15)
        assert "5,000 rows" in refusal.text
        # One heavy job per team at a time, and a translated refusal past ten in an hour.
        await bot.jobs_done()
        for _ in range(9):
            await mark.send("/export")
            await mark.expect(predicate=lambda m: m.document is not None, timeout=15)
            await mark.expect(predicate=lambda m: m.document is not None, timeout=15)
            await bot.jobs_done()
        await mark.send("/export")
        await mark.expect("the most files a team can ask for in an hour")
    finally:
        await bot.stop()


# --- 12, 13: a stage named like mathtext; another salesperson's deal of the same client ---------
async def test_a_stage_named_like_a_formula_and_many_stages_still_draw_the_funnel(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock
) -> None:
    from bot.storage.models import Stage

    people = await seed_team(
        bot, fake_telegram, "North", [(1, "Mark", "en", "manager")], morning_agenda=False
    )
    mark = people["Mark"]
    member = await _member(bot, 1)
    async with bot.runtime.uow() as uow:
        first = (await uow.teams.stages(member.team_id))[0]
        first.name = "$\\foo$ ^{x}_"
        extra = [
            Stage(team_id=member.team_id, name=f"$Stage {n}$", position=10 + n) for n in range(12)
        ]
        await uow.teams.save(first, *extra)
        await uow.commit()
    await seed_deal(bot, 1, "Jan Kowalski")
    clock.moment = clock.now().replace(hour=18, minute=5)
    await bot.tick()
    await mark.expect("digest for")
    picture = await mark.expect(predicate=lambda m: m.photo is not None)
    assert picture.photo and picture.photo.startswith(b"\x89PNG")


async def test_history_lists_only_the_deals_the_viewer_may_see(
    bot: BotRunner, fake_telegram: FakeTelegram
) -> None:
    people = await seed_team(
        bot,
        fake_telegram,
        "North",
        [
            (1, "Mark", "en", "manager"),
            (2, "Ann", "en", "salesperson"),
            (3, "Pete", "en", "salesperson"),
        ],
    )
    ann = people["Ann"]
    mine = await seed_deal(bot, 2, "Jan Kowalski", phone="+48600100200")
    team = (await _member(bot, 2)).team_id
    pete = await _member(bot, 3)
    from bot.services.deals import NewDeal

    async with bot.runtime.uow() as uow:
        saved = await uow.session.get(Deal, mine)
        team_row = await uow.teams.get(team)
        assert saved is not None and team_row is not None
        view = await deals.create_deal(
            uow,
            pete,
            team_row,
            NewDeal(name="Jan Kowalski", client_id=saved.client_id),
            bot.clock.now(),
        )
        await uow.commit()
    await ann.send("/find Kowalski")
    await ann.expect("#1 · Jan Kowalski")
    await ann.tap("📜 History")
    history = await ann.expect("History of #1")
    assert f"#{view.deal.number}" not in history.text
    assert "Other deals of this client" not in history.text


# --- 16: a long import preview ------------------------------------------------------------------
async def test_a_preview_of_long_cells_is_shortened_and_split(
    bot: BotRunner, fake_telegram: FakeTelegram
) -> None:
    people = await seed_team(bot, fake_telegram, "North", [(1, "Mark", "en", "manager")])
    mark = people["Mark"]
    name, stage = "Ω<&>" * 40, "Etap " + "Ω<&>" * 300
    lines = ["Name;Phone;Value;Stage"]
    lines += [f"Client {n} {name};+48 600 100 {n:03d};95000;{stage}" for n in range(12)]
    lines += [f"Bad {n} {name};12;lots;" for n in range(40)]
    fake_telegram.errors.clear()
    await mark.send_document("\r\n".join(lines).encode(), "clients.csv", "text/csv")
    await mark.expect("Reading the file")
    preview = await mark.expect("I read 12 clients")
    last = preview
    if not preview.buttons:
        last = await mark.expect(predicate=lambda m: bool(m.buttons))
    assert "✅ Import" in last.button_texts
    shown = preview.text + last.text
    assert "Ω<&>" in shown and stage not in shown  # shortened, and escaped for Telegram's HTML
    assert "…and 2 more" in shown and last is not preview  # too long for one message: split
    assert all(len(m.text) <= 4096 for m in mark.messages)
    assert fake_telegram.errors == []


# --- 18: never an edit that changes nothing -----------------------------------------------------
async def test_no_edit_telegram_would_refuse_as_not_modified(
    bot: BotRunner, fake_telegram: FakeTelegram
) -> None:
    people = await seed_team(bot, fake_telegram, "North", [(1, "Mark", "en", "manager")])
    mark = people["Mark"]

    def card_of(number: int) -> Callable[[BotMessage], bool]:
        return lambda message: message.text.startswith(f"#{number} · ")

    for number, first in enumerate(("Anna", "Bart", "Celina", "Dawid", "Ewa", "Filip"), 1):
        await mark.send(f"/new {first} Kowalski +48 600 100 20{number} 95000")
        picker = await mark.expect(f"#{number}")
        await mark.tap("Tomorrow morning", message=picker)
        await mark.expect(predicate=card_of(number))
    await mark.send("/report")
    await mark.expect("Which period")
    await mark.tap("This month")
    tabs = await mark.expect(predicate=lambda m: m.event == "edit")
    selected = next(b for row in tabs.buttons for b in row if b.text.startswith("•"))
    await mark.tap(selected.text, message=tabs)
    await mark.expect_answer()
    refused = [e for e in fake_telegram.errors if "not modified" in e[2]]
    assert refused == []


async def test_a_redelivery_racing_the_first_attempt_applies_nothing_twice(
    bot: BotRunner, fake_telegram: FakeTelegram
) -> None:
    """Telegram delivers an update again when the answer was late (webhook) while the first
    attempt still runs, possibly in another process. Both get past the account loader; only the
    first commit counts, so the step is answered once and the flow moves one step."""
    people = await seed_team(bot, fake_telegram, "North", [(1, "Mark", "en", "manager")])
    mark = people["Mark"]
    await mark.send("/new")
    await mark.expect("What is their name?")
    await mark.send("Jan Race")
    await mark.expect("phone number?")
    app = bot.app
    assert app is not None
    payload: dict[str, Any] = {
        "update_id": 50_000,
        "message": {
            "message_id": 900,
            "from": {"id": 1, "is_bot": False, "first_name": "Mark", "language_code": "en"},
            "chat": {"id": 1, "type": "private", "first_name": "Mark"},
            "date": 1_700_000_000,
            "text": "+48 600 100 200",
        },
    }
    await asyncio.gather(
        app.process_update(Update.de_json(payload, app.bot)),
        app.process_update(Update.de_json(payload, app.bot)),
    )
    await mark.expect("What is the deal worth?")
    await mark.send("95000")
    await mark.expect("Which car")
    texts = [event.text for event in mark.events if event.event == "new"]
    assert sum("What is the deal worth?" in text for text in texts) == 1, texts
    assert not [text for text in texts if "doesn't look like a phone" in text], texts
    async with bot.runtime.uow() as uow:
        state = await uow.conversations.get(1)
    assert state is not None and state.step == "model"
    assert state.data["phone"] == "+48600100200" and state.data["value"] == 9_500_000
