"""Every screen of the report in every language, on both databases: numbers, money, dates and
plural forms in the reader's locale, and no English label left on a translated screen."""

from __future__ import annotations

import pytest

from bot.domain import ActivityKind
from bot.handlers.report import MANAGER_SECTIONS, Viewer, render
from bot.services import deals, periods
from tests.conftest import FakeClock
from tests.fakes.telegram_server import FakeTelegram
from tests.harness import BotRunner, seed_deal, seed_team

MARKETS = {
    # language: (zone, currency)
    "pl": ("Europe/Warsaw", "PLN"),
    "ru": ("Europe/Moscow", "RUB"),
    "ro": ("Europe/Bucharest", "RON"),
    "en": ("Europe/London", "GBP"),
}
ENGLISH = (
    "Funnel",
    "created in the period",
    "lead to sale",
    "Won:",
    "Days in stage",
    "Resignations recorded",
    "By stage",
    "By reason",
    "By salesperson",
    "Where the money leaks",
    "Comments by reason",
    "bought before",
    "Compared with",
    "New leads",
    "Contacts made",
    "Offers sent",
    "Stage moves",
    "Conversion",
    "(was ",
    "Target this month",
    "win-back",
    "came back",
    "activities",
)


@pytest.mark.parametrize("language", MARKETS)
async def test_every_report_screen_in_every_language(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock, language: str
) -> None:
    zone, currency = MARKETS[language]
    await seed_team(
        bot,
        fake_telegram,
        "Auto",
        [(1, "Boss", language, "manager"), (2, "Seller", language, "salesperson")],
        morning_agenda=False,
    )
    ids = [await seed_deal(bot, 2, name) for name in ("One", "Two", "Three", "Four", "Five")]
    async with bot.runtime.uow() as uow:
        seller = await uow.teams.member(1, 2)
        boss = await uow.teams.member(1, 1)
        team = await uow.teams.get(1)
        reason = (await uow.teams.loss_reasons(1))[0].id or 0
        stages = await uow.teams.stages(1)
        assert seller and boss and team
        for deal_id in ids:
            await deals.edit(uow, seller, deal_id, "value", 5_000_000, clock.now())
            await deals.log_activity(uow, seller, deal_id, ActivityKind.CALL, clock.now())
        await deals.move_stage(uow, seller, ids[0], stages[1].id or 0, clock.now())
        await deals.win(uow, seller, ids[0], 4_900_000, clock.now())
        for deal_id in ids[1:3]:
            await deals.resign(uow, seller, deal_id, reason, "Too <dear> & far", None, clock.now())
        await uow.commit()
    clock.advance(hours=2)
    t = bot.runtime.i18n.translator(language, zone)
    period = periods.named("week", t.local(clock.now()).date())
    viewer = Viewer(bot.runtime, t, team, boss.id or 0, True)
    for section in MANAGER_SECTIONS:
        text, keyboard = await render(viewer, section, period)
        if language != "en":
            left = [word for word in ENGLISH if word in text]
            assert left == [], (section, left, text)
        assert len(text) < 4096
        data = [str(b.callback_data) for row in keyboard.inline_keyboard for b in row]
        assert all(len(item.encode()) <= 64 for item in data)
        if section == "f":
            assert t.money(4_900_000, currency) in text
            assert t.percent(0.2) in text  # 1 of 5 won
        if section == "l":
            assert t.money(10_000_000, currency) in text  # two resignations of 50 000
            assert "Too &lt;dear&gt; &amp; far" in text
        if section == "m":
            assert t.percent(1.0) in text  # all the losses are the seller's
