"""Follow-ups through the fake Bot API, on both databases, with time driven by the test clock:
on-time delivery, every button, snooze, working hours, daylight saving, catch-up after a restart,
429 and 5xx answers, a user who blocked the bot, /today, the morning agenda and the daily nudge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from bot.domain import DealStatus, EventKind, ReminderKind, ReminderStatus
from bot.i18n import Translator
from bot.storage.models import Deal, DealEvent, Reminder
from tests.conftest import FakeClock
from tests.fakes.telegram_server import FakeTelegram, FakeUser
from tests.harness import BotRunner, seed_deal, seed_team

# The clock starts on Monday 23 November 2026, 09:00 UTC (10:00 in Warsaw, 12:00 in Moscow).
WARSAW_1000_TUESDAY = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def tt(bot: BotRunner, user: FakeUser, zone: str) -> Translator:
    return bot.runtime.i18n.translator(user.language_code or "en", zone)


def b(bot: BotRunner, user: FakeUser, label: str) -> str:
    return bot.runtime.i18n.translator(user.language_code or "en").pgettext("button", label)


async def reminders_of(bot: BotRunner, deal_id: int) -> list[Reminder]:
    async with bot.runtime.uow() as uow:
        rows = await uow.session.exec(
            select(Reminder).where(Reminder.deal_id == deal_id).order_by(col(Reminder.id))
        )
        return list(rows)


async def deal_of(bot: BotRunner, deal_id: int) -> Deal:
    async with bot.runtime.uow() as uow:
        found = await uow.session.get(Deal, deal_id)
    assert found is not None
    return found


async def test_a_reminder_arrives_on_time_with_what_is_needed(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock
) -> None:
    people = await seed_team(
        bot,
        fake_telegram,
        "Salon",
        [(1, "Marek", "pl", "manager"), (2, "Ania", "pl", "salesperson")],
        morning_agenda=False,
    )
    ania = people["Ania"]
    deal_id = await seed_deal(
        bot,
        2,
        "Jan Kowalski",
        phone="+48600100200",
        note="Chce kombi <Octavia>",
        next_contact=WARSAW_1000_TUESDAY,
        step="zadzwonić w sprawie leasingu",
    )
    assert await bot.tick() == 0
    clock.moment = WARSAW_1000_TUESDAY - timedelta(seconds=1)
    assert await bot.tick() == 0
    clock.moment = WARSAW_1000_TUESDAY
    assert await bot.tick() == 1
    t = tt(bot, ania, "Europe/Warsaw")
    message = await ania.expect("#1 · Jan Kowalski")
    assert message.text.startswith(t._("⏰ Time to contact {name}").format(name="Jan Kowalski"))
    assert "+48 600 100 200" in message.text
    assert t.pgettext("stage", "New lead") in message.text
    assert (
        "zadzwonić w sprawie leasingu" in message.text and "Chce kombi <Octavia>" in message.text
    )
    assert "⌛" not in message.text
    assert message.button_texts == [
        b(bot, ania, label) for label in ("✅ Done", "💤 Snooze", "❌ Resign", "📇 Card")
    ]
    assert await bot.tick() == 0
    await ania.expect_no_message(within=0.3)
    [reminder] = await reminders_of(bot, deal_id)
    assert (reminder.status, reminder.sent_at, reminder.chat_message_id) == (
        ReminderStatus.SENT,
        WARSAW_1000_TUESDAY,
        message.message_id,
    )
    async with bot.runtime.uow() as uow:
        kinds = [
            e.kind
            for e in await uow.session.exec(select(DealEvent).where(DealEvent.deal_id == deal_id))
        ]
    assert EventKind.REMINDER_SENT in kinds


async def test_done_snooze_resign_and_card(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock
) -> None:
    people = await seed_team(
        bot,
        fake_telegram,
        "Автосалон",
        [(10, "Олег", "ru", "manager"), (11, "Иван", "ru", "salesperson")],
        morning_agenda=False,
    )
    ivan = people["Иван"]
    t = tt(bot, ivan, "Europe/Moscow")
    due = clock.now() + timedelta(hours=1)
    first = await seed_deal(bot, 11, "Анна", next_contact=due)
    second = await seed_deal(bot, 11, "Борис", next_contact=due)
    third = await seed_deal(bot, 11, "Вера", next_contact=due)
    clock.moment = due
    assert await bot.tick() == 3

    # ✅ Done: what happened? A call, then the next contact.
    anna = await ivan.expect("#1 · Анна")
    await ivan.tap(b(bot, ivan, "✅ Done"), message=anna)
    asked = await ivan.expect(
        predicate=lambda m: m.message_id == anna.message_id and m.event == "edit"
    )
    assert b(bot, ivan, "✅ Won") in asked.button_texts
    await ivan.tap(t.pgettext("button", "📞 Call"), message=asked)
    await ivan.expect("⏰")
    await ivan.tap(b(bot, ivan, "Tomorrow morning"))
    await ivan.expect(predicate=lambda m: m.text.startswith("#1 · Анна"))
    reminders = await reminders_of(bot, first)
    assert [r.status for r in reminders] == [ReminderStatus.DONE, ReminderStatus.PENDING]
    assert reminders[1].due_at == datetime(2026, 11, 24, 6, 0, tzinfo=UTC)  # 09:00 Moscow

    # 💤 Snooze by an hour: the deal's planned contact moves, and it comes back.
    boris = (
        await ivan.expect("#2 · Борис")
        if False
        else ivan.messages[[m.message_id for m in ivan.messages].index(anna.message_id) + 1]
    )
    assert "#2 · Борис" in boris.text
    await ivan.tap(b(bot, ivan, "💤 Snooze"), message=boris)
    await ivan.expect("💤")
    await ivan.tap("💤 " + b(bot, ivan, "In 1 hour"))
    snoozed = await ivan.expect(
        predicate=lambda m: m.message_id == boris.message_id and "💤" in m.text
    )
    later = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)
    assert t.datetime(later) in snoozed.text
    assert (await deal_of(bot, second)).next_contact_at == later
    clock.moment = later
    assert await bot.tick() == 1
    await ivan.expect("#2 · Борис")

    # ❌ Resign from the reminder; 📇 opens the card.
    vera = next(m for m in ivan.messages if "#3 · Вера" in m.text)
    await ivan.tap(b(bot, ivan, "📇 Card"), message=vera)
    await ivan.expect(predicate=lambda m: m.text.startswith("#3 · Вера"))
    await ivan.tap(b(bot, ivan, "❌ Resign"), message=vera)
    await ivan.expect("❌")
    await ivan.tap(t.pgettext("reason", "Postponed the purchase"))
    await ivan.expect("💬")
    await ivan.send("Весной")
    await ivan.expect("🔁")
    await ivan.tap("⭐ " + b(bot, ivan, "In 3 months"))
    await ivan.expect(predicate=lambda m: m.text.startswith("#3 · Вера") and "❌" in m.text)
    assert (await deal_of(bot, third)).status == DealStatus.LOST
    # The reminder's old buttons are stale now (it was acted on, the deal is closed).
    [vera_reminder] = [
        r for r in await reminders_of(bot, third) if r.kind == ReminderKind.NEXT_CONTACT
    ]
    assert vera_reminder.status == ReminderStatus.DONE
    await ivan.forge_tap(f"r:z:{vera_reminder.id}:in_1_hour", message_id=vera.message_id)
    while True:
        text, shown = await ivan.expect_answer()
        if text:
            break
    assert shown and text == t._("This button is out of date. Nothing was changed.")
    assert (await deal_of(bot, third)).status == DealStatus.LOST


async def test_working_hours_hold_automatic_messages_not_chosen_times(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock
) -> None:
    people = await seed_team(
        bot,
        fake_telegram,
        "Auto Sud",
        [(20, "Mihai", "ro", "manager"), (21, "Ioana", "ro", "salesperson")],
        morning_agenda=False,
    )
    ioana = people["Ioana"]
    # A time Ioana chose: Monday 20:00 in Bucharest (18:00 UTC), after working hours.
    evening = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
    chosen = await seed_deal(bot, 21, "Ion Popescu", next_contact=evening)
    # An automatic one: a win-back due Sunday 29 November, 10:00 Bucharest.
    lost = await seed_deal(bot, 21, "Maria Ionescu")
    async with bot.runtime.uow() as uow:
        from bot.services import deals

        member = await uow.teams.member((await deal_of(bot, lost)).team_id, 21)
        reasons = await uow.teams.loss_reasons(member.team_id if member else 0)
        assert member is not None
        await deals.resign(
            uow,
            member,
            lost,
            reasons[3].id or 0,
            "Mai târziu",
            datetime(2026, 11, 29, 8, 0, tzinfo=UTC),
            clock.now(),
        )
        await uow.commit()
    clock.moment = evening
    assert await bot.tick() == 1
    await ioana.expect("#1 · Ion Popescu")
    clock.moment = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)  # Sunday: not a working day
    assert await bot.tick() == 0
    [winback] = [r for r in await reminders_of(bot, lost) if r.kind == ReminderKind.WINBACK]
    assert winback.status == ReminderStatus.PENDING and winback.not_before == datetime(
        2026, 11, 30, 7, 0, tzinfo=UTC
    )
    clock.moment = datetime(2026, 11, 30, 6, 59, tzinfo=UTC)
    assert await bot.tick() == 0
    clock.moment = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)  # Monday 09:00 in Bucharest
    assert await bot.tick() == 1
    message = await ioana.expect("#2 · Maria Ionescu")
    t = tt(bot, ioana, "Europe/Bucharest")
    assert message.text.startswith(t._("🔁 Time to win back {name}").format(name="Maria Ionescu"))
    assert "Mai târziu" in message.text
    assert (await reminders_of(bot, chosen))[0].status == ReminderStatus.SENT


async def test_daylight_saving_does_not_move_a_9am_reminder(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock
) -> None:
    people = await seed_team(
        bot, fake_telegram, "Salon", [(1, "Marek", "pl", "manager")], morning_agenda=False
    )
    marek = people["Marek"]
    t = tt(bot, marek, "Europe/Warsaw")
    for number, (before, nine) in enumerate(
        [
            (datetime(2026, 3, 28, 11, 0, tzinfo=UTC), datetime(2026, 3, 29, 7, 0, tzinfo=UTC)),
            (datetime(2026, 10, 24, 10, 0, tzinfo=UTC), datetime(2026, 10, 25, 8, 0, tzinfo=UTC)),
        ],
        start=1,
    ):
        clock.moment = before
        name = ("Klient Marcowy", "Klient Październikowy")[number - 1]
        await marek.send(f"/new {name}")
        await marek.expect(f"#{number}")
        await marek.tap(b(bot, marek, "Tomorrow morning"))
        card = await marek.expect(f"#{number} · {name}")
        assert t.datetime(nine) in card.text and "09:00" in card.text
        clock.moment = nine - timedelta(minutes=1)
        assert await bot.tick() == 0
        clock.moment = nine
        assert await bot.tick() == 1
        await marek.expect(f"#{number} · {name}")
    # 02:30 does not exist that night: it is read as 03:30 (01:30 UTC), never as a past time.
    clock.moment = datetime(2026, 3, 20, 10, 0, tzinfo=UTC)
    await marek.send("/new Klient nocny")
    await marek.expect("#3")
    await marek.send("29.03 2:30")
    card = await marek.expect(predicate=lambda m: m.text.startswith("#3 · "))
    async with bot.runtime.uow() as uow:
        planned = (
            (await uow.session.exec(select(Deal).where(Deal.number == 3))).one().next_contact_at
        )
    assert planned == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


async def test_catch_up_after_a_restart_comes_bundled_and_marked_late(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock
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
        morning_agenda=False,
    )
    sue, tom = people["Sue"], people["Tom"]
    base = clock.now()
    for minutes, name in ((10, "Alpha"), (20, "Beta"), (30, "Gamma")):
        await seed_deal(bot, 2, name, next_contact=base + timedelta(minutes=minutes))
    await seed_deal(bot, 3, "Delta", next_contact=base + timedelta(minutes=15))
    await bot.stop()
    clock.moment = base + timedelta(hours=3)  # 12:00 in London: working hours
    await bot.start()
    assert await bot.tick() == 4
    bundle = await sue.expect("⌛")
    for name in ("Alpha", "Beta", "Gamma"):
        assert name in bundle.text
    assert len(bundle.buttons[0]) + len(bundle.buttons[1] if len(bundle.buttons) > 1 else []) == 3
    single = await tom.expect("#4 · Delta")
    assert "⌛" in single.text
    await sue.tap("⏰ #2 Beta")
    opened = await sue.expect("#2 · Beta")
    assert "⌛" in opened.text and "✅ Done" in opened.button_texts
    # Nothing was lost or sent twice.
    async with bot.runtime.uow() as uow:
        statuses = [r.status for r in await uow.session.exec(select(Reminder))]
    assert statuses == [ReminderStatus.SENT] * 4
    assert await bot.tick() == 0

    # Fallen due overnight, outside working hours: waits for the morning.
    await seed_deal(bot, 2, "Epsilon", next_contact=clock.now() + timedelta(hours=5))  # 17:00
    await bot.stop()
    clock.moment = datetime(2026, 11, 23, 21, 0, tzinfo=UTC)
    await bot.start()
    assert await bot.tick() == 0
    clock.moment = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert await bot.tick() == 1
    late = await sue.expect("#5 · Epsilon")
    assert "⌛" in late.text


async def test_flood_limits_server_errors_and_a_blocked_user(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock
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
        morning_agenda=False,
    )
    mark, sue, tom = people["Mark"], people["Sue"], people["Tom"]
    due = clock.now() + timedelta(minutes=5)
    sue_deal = await seed_deal(bot, 2, "Alpha", next_contact=due)
    tom_deal = await seed_deal(bot, 3, "Beta", next_contact=due)
    clock.moment = due

    # A 429 is waited out and the message still arrives; a 502 is retried later.
    fake_telegram.fail_next(
        "sendMessage", status=429, description="Too Many Requests: retry after 1", retry_after=1
    )
    fake_telegram.fail_next("sendMessage", status=502, description="Bad Gateway")
    sent = await bot.tick()
    assert sent == 1
    delivered = {(await reminders_of(bot, d))[0].status for d in (sue_deal, tom_deal)}
    assert delivered == {ReminderStatus.SENT, ReminderStatus.PENDING}
    clock.moment += timedelta(seconds=30)
    assert await bot.tick() == 1
    await sue.expect("#1 · Alpha")
    await tom.expect("#2 · Beta")

    # Sue blocks the bot: marked, her reminder waits, Tom's goes out, the manager sees it.
    later = clock.now() + timedelta(minutes=10)
    await seed_deal(bot, 2, "Gamma", next_contact=later)
    await seed_deal(bot, 3, "Delta", next_contact=later)
    sue.block()
    clock.moment = later
    assert await bot.tick() == 1
    await tom.expect("#4 · Delta")
    async with bot.runtime.uow() as uow:
        user = await uow.users.get(2)
        gamma = (
            await uow.session.exec(
                select(Reminder)
                .join(Deal, col(Deal.id) == col(Reminder.deal_id))
                .where(Deal.number == 3)
            )
        ).one()
    assert user is not None and user.bot_blocked and gamma.status == ReminderStatus.PENDING
    await mark.send("/team")
    assert "blocked the bot" in (await mark.expect("North")).text
    assert await bot.tick() == 0
    # She comes back: what waited arrives.
    await sue.send("/today")
    await sue.expect("Your day")
    assert await bot.tick() == 1
    await sue.expect("#3 · Gamma")


async def test_today_lists_the_day(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock
) -> None:
    people = await seed_team(
        bot,
        fake_telegram,
        "North",
        [(1, "Mark", "en", "manager"), (2, "Sue", "en", "salesperson")],
        morning_agenda=False,
    )
    sue = people["Sue"]
    now = clock.now()  # 09:00 in London
    await seed_deal(bot, 2, "Overdue One", next_contact=now + timedelta(minutes=1))
    await seed_deal(bot, 2, "Later Today", next_contact=now + timedelta(hours=5))
    await seed_deal(bot, 2, "Tomorrow", next_contact=now + timedelta(days=1))
    await seed_deal(bot, 2, "Nothing Planned")
    lost = await seed_deal(bot, 2, "Come Back")
    async with bot.runtime.uow() as uow:
        from bot.services import deals

        member = await uow.teams.member((await deal_of(bot, lost)).team_id, 2)
        assert member is not None
        reasons = await uow.teams.loss_reasons(member.team_id)
        await deals.resign(
            uow, member, lost, reasons[0].id or 0, "Too pricey", now + timedelta(days=3), now
        )
        await uow.commit()
    clock.moment = now + timedelta(minutes=30)
    await sue.send("/today")
    day = await sue.expect("Your day")
    text = day.text
    assert text.index("1 overdue") < text.index("Overdue One") < text.index("1 due today")
    assert "14:00 · #2 Later Today" in text
    assert "Tomorrow" not in text.split("\n", 1)[1]
    assert "1 deal with no next contact" in text and "Nothing Planned" in text
    assert "1 win-back this week" in text and "Come Back" in text
    assert set(day.button_texts) == {
        "#1 Overdue One",
        "#2 Later Today",
        "#4 Nothing Planned",
        "#5 Come Back",
    }
    await sue.tap("#4 Nothing Planned")
    card = await sue.expect(predicate=lambda m: m.text.startswith("#4 · "))
    assert "No next contact planned" in card.text


async def test_morning_agenda_once_a_day_and_the_nudge(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock
) -> None:
    people = await seed_team(
        bot,
        fake_telegram,
        "Salon",
        [(1, "Marek", "pl", "manager"), (2, "Ania", "pl", "salesperson")],
    )
    marek, ania = people["Marek"], people["Ania"]
    async with bot.runtime.uow() as uow:
        member = await uow.teams.member((await uow.users.get(1)).team_id or 0, 1)  # type: ignore[union-attr]
        assert member is not None
        member.morning_agenda = False
        await uow.teams.save(member)
        await uow.commit()
    clock.moment = datetime(2026, 11, 24, 7, 30, tzinfo=UTC)  # Tuesday 08:30 in Warsaw
    await seed_deal(bot, 2, "Jan", next_contact=datetime(2026, 11, 24, 12, 0, tzinfo=UTC))
    await seed_deal(bot, 1, "Bez planu")
    assert await bot.tick() == 0
    await ania.expect_no_message(within=0.2)
    clock.moment = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # 09:00: the working day starts
    await bot.tick()
    t = tt(bot, ania, "Europe/Warsaw")
    agenda = await ania.expect(t._("🌅 Good morning!"))
    assert "13:00 · #1 Jan" in agenda.text
    nudge = await marek.expect("#2 Bez planu")
    assert t._("⚠️ no contact planned") in nudge.text
    clock.moment += timedelta(hours=2)
    await bot.tick()
    await ania.expect_no_message(within=0.3)
    await marek.expect_no_message(within=0.1)
    clock.moment = datetime(2026, 11, 25, 8, 5, tzinfo=UTC)  # the next morning
    await bot.tick()
    await ania.expect(t._("🌅 Good morning!"))


async def test_a_database_error_after_sending_neither_loses_nor_repeats_the_reminder(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The message went out, then marking it sent failed once (SQLite busy past its timeout):
    the mark is retried, the reminder is not sent again, the other reminders go on."""
    from sqlalchemy.exc import OperationalError

    people = await seed_team(
        bot,
        fake_telegram,
        "Salon",
        [
            (1, "Marek", "pl", "manager"),
            (2, "Ania", "pl", "salesperson"),
            (3, "Piotr", "pl", "salesperson"),
        ],
        morning_agenda=False,
    )
    ania, piotr = people["Ania"], people["Piotr"]
    first = await seed_deal(bot, 2, "Jan", next_contact=WARSAW_1000_TUESDAY)
    second = await seed_deal(bot, 3, "Ewa", next_contact=WARSAW_1000_TUESDAY)
    dispatcher = bot.runtime.dispatcher
    assert dispatcher is not None
    record = dispatcher._record_sent
    failures: list[object] = []

    async def flaky(marks: object) -> None:
        if not failures:
            failures.append(marks)
            raise OperationalError("UPDATE reminder", {}, Exception("database is locked"))
        await record(marks)  # type: ignore[arg-type]

    monkeypatch.setattr(dispatcher, "_record_sent", flaky)
    clock.moment = WARSAW_1000_TUESDAY
    assert await bot.tick() == 2
    await ania.expect("#1 · Jan")
    await piotr.expect("#2 · Ewa")
    assert len(failures) == 1
    for deal_id in (first, second):
        (reminder,) = await reminders_of(bot, deal_id)
        assert reminder.status == ReminderStatus.SENT
    # Long after the lease would have run out, nothing goes out again.
    clock.moment = WARSAW_1000_TUESDAY + timedelta(minutes=10)
    assert await bot.tick() == 0
    await ania.expect_no_message(within=0.3)
    await piotr.expect_no_message(within=0.3)
