"""/report through the fake Bot API, on both databases, against a scripted fortnight whose right
answers are worked out by hand below (money sums, shares and days in stage included).

The team: Marek (manager), Ania and Piotr. Deal numbers: #1 Jan Kowalski and #2 Zofia in the
week of 16 November; #3 Adam, #4 Beata, #5 Cezary, #6 Jan Kowalski again (the client who bought
#1), #7 Dorota, #8 Edward and #9 Edward again in the week of 23 November, the week reported.

Week of 23 November (the cohort of 7 deals, #3–#9):
    #3 Adam     Ania   new → contacted (1 d) → offer sent (1 d) → won 95 000
    #4 Beata    Ania   new → contacted (1 d) → offer sent (4 d), open
    #5 Cezary   Ania   new → contacted (1,5 d) → lost there after 0,5 d: competitor, 60 000
    #6 Jan K.   Ania   lost at new lead after 3 d: price, 120 000 (had bought #1 before)
    #7 Dorota   Piotr  new → contacted (1 d) → offer sent (1 d) → lost after 2 d: financing, 90 000
    #8 Edward   Piotr  lost at new lead after 1 d: price, 70 000
    #9 Edward   Piotr  created and won the same day for 65 000 (Edward came back)
Funnel: new lead 7, lost 2 (#6 #8) → contacted 5 (71,4 %), lost 1 (#5) → test drive 4 (the
third stage of a new team's pipeline, skipped, 80 %; #4's test drive is logged through the
services, which move no deal) → offer sent 4 (100 %), lost 1 (#7) → negotiation 2 (50 %) →
won 2 (100 %); lead to sale 2/7 = 28,6 %; won 95 000 + 65 000 = 160 000 zł.
Days in stage by the moves out of it: new lead 1, 1, 1,5, 1 → average 1,1, median 1; contacted
1, 1, 4 → average 2, median 1.
Resignations (4, 340 000 zł; process 1 + 2 + 3 + 4 → 2,5 days on average; 1 had bought before):
    new lead 2 (50 %) · 190 000 zł (55,9 %) · 1 and 3 days in the stage → 2
    contacted 1 (25 %) · 60 000 zł (17,6 %) · 0,5;   offer sent 1 (25 %) · 90 000 zł (26,5 %) · 2
    price 2 · 190 000 zł · process 1 and 3 → 2;  financing 1 · 90 000 zł · 4;  competitor · 2
    Ania 2 (50 %) · 180 000 zł (52,9 %);  Piotr 2 (50 %) · 160 000 zł (47,1 %)
Activity against the week before (#1 #2: 2 new, 2 calls, 1 meeting, #1 won for 48 000):
    new leads 7 (2); calls 4 (2); meetings 1 (1); test drives 1 (0); offers 2 (0), 98 000 +
    88 000 = 186 000 zł; stage moves 7 (0); won 2 (1). The conversions count deals among deals:
    call → meeting: of #3 #4 #5 #7 called on Tuesday, #3 (meeting) and #4 (test drive) met on
    Wednesday: 2/4 = 50 % (the week before: of #1 #2 called, #1 met: 1/2 = 50 %);
    meeting → offer: of #3 #4 met, #3 got its offer in the same visit (#7's offer had no
    meeting, #4's move to "offer sent" is not an offer sent): 1/2 = 50 % (of #1, none: 0 %);
    offer → sale: of #3 #7 offered, #3 was won (#9 won without an offer: not an offer's sale):
    1/2 = 50 % (no offers: —); lead → sale 28,6 % (#1 and #2 both won by now: 100 %).
Win-back: #5's win-back is due on 30 November; of the 4 who resigned, Edward came back: 25 %.
Targets in December (today is 1 December; #2 won this morning for 50 000): the team 1 of 10 and
50 000 of 1 000 000 zł; the last 90 days' conversion is 4 won of 9 created (#1 #2 #3 #9), so the
9 sales still needed take ⌈9 · 9/4⌉ = 21 new clients. Ania 1 of 4: her 3 won of 6 → 50 %,
3 more sales need 6 clients.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

from openpyxl import load_workbook

from bot.domain import ActivityKind, ClientSource
from bot.i18n import Translator
from bot.services import deals, targets
from bot.services.deals import NewDeal
from bot.storage.models import Member, Team
from tests.conftest import FakeClock
from tests.fakes.telegram_server import BotMessage, FakeTelegram, FakeUser
from tests.harness import BotRunner, seed_team

MONDAY = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 09:00 in Warsaw
WEEK_BEFORE = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
TODAY = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


class History:
    def __init__(self, bot: BotRunner, clock: FakeClock) -> None:
        self.bot, self.clock = bot, clock
        self.ids: dict[int, int] = {}

    async def members(self) -> tuple[Team, Member, Member, Member, dict[str, int]]:
        async with self.bot.runtime.uow() as uow:
            marek, ania, piotr = [await uow.teams.member(1, user) for user in (1, 2, 3)]
            team = await uow.teams.get(1)
            reasons = {r.key or "": r.id or 0 for r in await uow.teams.loss_reasons(1)}
            self.stages = {s.key or "": s.id or 0 for s in await uow.teams.stages(1)}
        assert team and marek and ania and piotr
        return team, marek, ania, piotr, reasons

    async def run(self, when: datetime, action: Any) -> Any:
        self.clock.moment = when
        async with self.bot.runtime.uow() as uow:
            result = await action(uow)
            await uow.commit()
        return result

    async def new(
        self, when: datetime, who: Member, team: Team, number: int, name: str, **fields: Any
    ) -> None:
        client_of = fields.pop("client_of", None)
        if client_of is not None:
            async with self.bot.runtime.uow() as uow:
                old = await uow.deals.get(self.ids[client_of])
                assert old is not None
                fields["client_id"] = old.client_id
        view = await self.run(
            when,
            lambda u: deals.create_deal(u, who, team, NewDeal(name=name, **fields), when),
        )
        assert view.deal.number == number
        self.ids[number] = view.deal.id

    async def move(self, when: datetime, who: Member, number: int, stage: str) -> None:
        await self.run(
            when, lambda u: deals.move_stage(u, who, self.ids[number], self.stages[stage], when)
        )

    async def activity(
        self,
        when: datetime,
        who: Member,
        number: int,
        kind: ActivityKind,
        amount: int | None = None,
    ) -> None:
        await self.run(
            when, lambda u: deals.log_activity(u, who, self.ids[number], kind, when, amount)
        )

    async def win(self, when: datetime, who: Member, number: int, value: int) -> None:
        await self.run(when, lambda u: deals.win(u, who, self.ids[number], value, when))

    async def resign(
        self,
        when: datetime,
        who: Member,
        number: int,
        reason: int,
        comment: str,
        winback: datetime | None = None,
    ) -> None:
        await self.run(
            when,
            lambda u: deals.resign(u, who, self.ids[number], reason, comment, winback, when),
        )


def day(n: float) -> timedelta:
    return timedelta(days=n)


async def _script(bot: BotRunner, clock: FakeClock) -> None:
    history = History(bot, clock)
    team, marek, ania, piotr, reason = await history.members()
    # The week before.
    await history.new(
        WEEK_BEFORE,
        ania,
        team,
        1,
        "Jan Kowalski",
        value_minor=5_000_000,
        source=ClientSource.PHONE_CALL,
    )
    await history.new(WEEK_BEFORE, ania, team, 2, "Zofia")
    for number in (1, 2):
        await history.activity(WEEK_BEFORE + day(1), ania, number, ActivityKind.CALL)
    await history.activity(WEEK_BEFORE + day(2), ania, 1, ActivityKind.MEETING)
    await history.win(WEEK_BEFORE + day(3), ania, 1, 4_800_000)
    # The week reported.
    for number, who, name, value, source in (
        (3, ania, "Adam", 10_000_000, ClientSource.WALK_IN),
        (4, ania, "Beata", 8_000_000, ClientSource.WEBSITE),
        (5, ania, "Cezary", 6_000_000, ClientSource.WALK_IN),
    ):
        await history.new(MONDAY, who, team, number, name, value_minor=value, source=source)
    await history.new(MONDAY, ania, team, 6, "", value_minor=12_000_000, client_of=1)
    await history.new(
        MONDAY, piotr, team, 7, "Dorota", value_minor=9_000_000, source=ClientSource.REFERRAL
    )
    await history.new(MONDAY, piotr, team, 8, "Edward", value_minor=7_000_000)
    tuesday = MONDAY + day(1)
    for number, who in ((3, ania), (4, ania), (5, ania), (7, piotr)):
        await history.activity(tuesday, who, number, ActivityKind.CALL)
    for number, who in ((3, ania), (4, ania), (7, piotr)):
        await history.move(tuesday, who, number, "contacted")
    await history.move(tuesday + timedelta(hours=12), ania, 5, "contacted")
    await history.resign(tuesday, piotr, 8, reason["price"], "Za drogo")
    wednesday = MONDAY + day(2)
    await history.activity(wednesday, ania, 3, ActivityKind.MEETING)
    await history.activity(wednesday, ania, 4, ActivityKind.TEST_DRIVE)
    for number, who, offer in ((3, ania, 9_800_000), (7, piotr, 8_800_000)):
        await history.move(wednesday, who, number, "offer_sent")
        await history.activity(wednesday, who, number, ActivityKind.OFFER_SENT, offer)
    await history.resign(
        wednesday,
        ania,
        5,
        reason["competitor"],
        "Kupił u konkurencji",
        winback=datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
    )
    await history.win(MONDAY + day(3), ania, 3, 9_500_000)
    await history.resign(MONDAY + day(3), ania, 6, reason["price"], "Czeka na rabat <50%>")
    await history.resign(MONDAY + day(4), piotr, 7, reason["financing"], "Bank odmówił")
    await history.move(MONDAY + day(5), ania, 4, "offer_sent")
    await history.new(MONDAY + day(5), piotr, team, 9, "", client_of=8)
    await history.win(MONDAY + day(5) + timedelta(hours=2), piotr, 9, 6_500_000)
    # This morning.
    await history.win(TODAY, ania, 2, 5_000_000)
    await history.run(TODAY, lambda u: targets.set_target(u, marek, None, 10, 100_000_000))
    await history.run(TODAY, lambda u: targets.set_target(u, marek, ania.id, 4, None))
    clock.moment = TODAY + timedelta(minutes=30)


def _lines(message: BotMessage) -> list[str]:
    return message.text.split("\n")


def _money(t: Translator, whole: int) -> str:
    return t.money(whole * 100, "PLN")


async def _section(user: FakeUser, t: Translator, label: str) -> BotMessage:
    await user.tap(t.pgettext("button", label))
    return await user.expect(predicate=lambda m: m.event == "edit" and "• " in str(m.buttons))


async def test_the_report_of_a_scripted_fortnight(
    bot: BotRunner, fake_telegram: FakeTelegram, clock: FakeClock
) -> None:
    clock.moment = WEEK_BEFORE - day(1)
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
    await _script(bot, clock)
    marek, ania = people["Marek"], people["Ania"]
    t = bot.runtime.i18n.translator("pl", "Europe/Warsaw")

    def stage(key: str) -> str:
        names = {
            "new_lead": "New lead",
            "contacted": "Contacted",
            "test_drive": "Test drive",
            "offer_sent": "Offer sent",
            "negotiation": "Negotiation",
        }
        return t.pgettext("stage", names[key])

    def reason(name: str) -> str:
        return t.pgettext("reason", name)

    # A typed range: the week of 23 November.
    await marek.send("/report")
    await marek.expect("📈")
    await marek.tap(t.pgettext("button", "📅 Other dates"))
    await marek.expect("📅")
    await marek.send("32.11-40.11")
    await marek.expect(
        t._(
            "I couldn't read those dates. Send two dates like 1.11-15.11 (at most two "
            "years apart) or a month like November."
        )
    )
    await marek.send("23.11-29.11")
    funnel = await marek.expect(t._("Funnel of the {n} deal created in the period:").split()[0])
    lines = _lines(funnel)
    assert f"23–{t.date(MONDAY + day(6))}" in lines[0]
    step = t._("{stage}: {reached} · lost {lost} · on to the next {conversion}")
    for key, reached, lost, conversion in (
        ("new_lead", 7, 2, 0.714),
        ("contacted", 5, 1, 0.8),
        ("test_drive", 4, 0, 1.0),  # where "needs_identified" was: the same 4, all skipped
        ("offer_sent", 4, 1, 0.5),
        ("negotiation", 2, 0, 1.0),
    ):
        expected = step.format(
            stage=stage(key), reached=reached, lost=lost, conversion=t.percent(conversion)
        )
        assert expected in lines, (expected, lines)
    won = t._("✅ Won: {won} · lead to sale {conversion}").format(
        won=2, conversion=t.percent(0.286)
    )
    assert f"{won} · {_money(t, 160_000)}" in lines
    assert f"   {stage('new_lead')}: {t.number(1.1)} · 1" in lines
    assert f"   {stage('contacted')}: 2 · 1" in lines

    losses = await _section(marek, t, "💸 Losses")
    lines = _lines(losses)
    assert (
        t._("❌ <b>Resignations recorded in the period</b>: {n} · {money}")
        .replace("<b>", "")
        .replace("</b>", "")
        .format(n=4, money=_money(t, 340_000))
        in lines
    )
    assert (
        t._("⏳ From the first contact to the resignation, in days on average: {days}").format(
            days=t.number(2.5)
        )
        in lines
    )
    assert (
        t.ngettext(
            "🔁 {n} of these clients had bought from us before.",
            "🔁 {n} of these clients had bought from us before.",
            1,
        ).format(n=1)
        in lines
    )

    def share(count: int, part: float, money: int, money_part: float) -> str:
        return f"{count} ({t.percent(part)}) · {_money(t, money)} ({t.percent(money_part)})"

    for expected in (
        f"   {stage('new_lead')}: {share(2, 0.5, 190_000, 0.559)} · 2",
        f"   {stage('contacted')}: {share(1, 0.25, 60_000, 0.176)} · {t.number(0.5)}",
        f"   {stage('offer_sent')}: {share(1, 0.25, 90_000, 0.265)} · 2",
        f"   {reason('Price too high')}: {share(2, 0.5, 190_000, 0.559)} · 2",
        f"   {reason('Financing or leasing refused')}: {share(1, 0.25, 90_000, 0.265)} · 4",
        f"   {reason('Chose a competitor')}: {share(1, 0.25, 60_000, 0.176)} · 2",
        f"   Ania: {share(2, 0.5, 180_000, 0.529)}",
        f"   Piotr: {share(2, 0.5, 160_000, 0.471)}",
        f"   {stage('new_lead')} · {reason('Price too high')}: 2 · {_money(t, 190_000)}",
        f"   {stage('offer_sent')} · {reason('Financing or leasing refused')}: 1 · "
        f"{_money(t, 90_000)}",
    ):
        assert expected in lines, (expected, lines)
    # Comments by reason, the largest loss first, newest first within a reason.
    price_at = lines.index(f"{reason('Price too high')} (2)")
    three_days = t.ngettext("{n} day", "{n} days", 3).format(n=3)
    one_day = t.ngettext("{n} day", "{n} days", 1).format(n=1)
    assert lines[price_at + 1] == (
        f"   #6 Jan Kowalski · {three_days} · {t._('🔁 bought before')} · «Czeka na rabat <50%>»"
    )
    assert lines[price_at + 2] == f"   #8 Edward · {one_day} · «Za drogo»"
    assert 'href="https://t.me/crm_test_bot?start=deal-6"' in losses.html

    # Every resignation with its comment, as a spreadsheet.
    await marek.tap(t.pgettext("button", "📎 All comments (XLSX)"))
    sheet_message = await marek.expect(predicate=lambda m: m.document is not None)
    assert sheet_message.document is not None
    sheet = load_workbook(io.BytesIO(sheet_message.document.data)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 5
    by_number = {row[0]: row for row in rows[1:]}
    assert by_number[6][:6] == (
        6,
        "Jan Kowalski",
        reason("Price too high"),
        stage("new_lead"),
        "Ania",
        "Czeka na rabat <50%>",
    )
    assert by_number[6][6] == datetime(2026, 11, 26, 9, 0)  # Warsaw wall time
    assert by_number[6][7:] == (120_000, "PLN", 3, t._("yes"))
    assert by_number[8][9:] == (1, t._("no"))

    activity = await _section(marek, t, "📊 Activity")
    lines = _lines(activity)

    def was(now: str | int, before: str | int) -> str:
        return t._("{now} (was {before})").format(now=now, before=before)

    assert (
        t._("Compared with {period}").format(period=f"16–{t.date(WEEK_BEFORE + day(6))}") in lines
    )
    assert t._("🆕 New leads: {value}").format(value=was(7, 2)) in lines
    for expected in (
        f"   {t.pgettext('button', '📞 Call')}: {was(4, 2)}",
        f"   {t.pgettext('button', '🤝 Meeting')}: {was(1, 1)}",
        f"   {t.pgettext('button', '🏁 Test drive')}: {was(1, 0)}",
        t._("📄 Offers sent: {value} · {money}").format(value=was(2, 0), money=_money(t, 186_000)),
        t._("➡️ Stage moves: {n}").format(n=was(7, 0)),
        t._("✅ Won: {n} · {money}").format(n=was(2, 1), money=_money(t, 160_000)),
        f"   {t._('call → meeting')}: {was(t.percent(0.5), t.percent(0.5))}",
        f"   {t._('meeting → offer')}: {was(t.percent(0.5), t.percent(0))}",
        f"   {t._('offer → sale')}: {was(t.percent(0.5), '—')}",
        f"   {t._('lead → sale')}: {was(t.percent(0.286), t.percent(1))}",
    ):
        assert expected in lines, (expected, lines)
    # Under the conversions, one line says what they count.
    counted = t._(
        "<i>Of the deals with the first step in the period, the share that then had the "
        "second; a meeting is any face-to-face contact (also a presentation or a test "
        "drive); lead → sale as in the funnel.</i>"
    )
    lead_to_sale_at = lines.index(
        f"   {t._('lead → sale')}: {was(t.percent(0.286), t.percent(1))}"
    )
    assert lines[lead_to_sale_at + 1] == counted.replace("<i>", "").replace("</i>", "")
    sources = next(line for line in lines if t.pgettext("button", "🚶 Walk-in") in line)
    assert f"{t.pgettext('button', '🚶 Walk-in')} 2" in sources
    assert f"{t._('source not given')} 2" in sources
    assert f"{t.pgettext('button', '📞 Phone call')} 1" in sources

    goals = await _section(marek, t, "🎯 Targets")
    lines = _lines(goals)
    assert lines[0] == f"📈 {t.pgettext('button', '🎯 Targets')}"
    month = t._("<b>{month}</b>").format(month=t.month(TODAY.date()))
    assert month.replace("<b>", "").replace("</b>", "") in lines
    needed = t.ngettext(
        "at {conversion} lead to sale, {n} more new client is needed",
        "at {conversion} lead to sale, {n} more new clients are needed",
        21,
    ).format(conversion=t.percent(0.444), n=21)
    team_line = t._("🎯 Target this month: {won} of {target} sales").format(won=1, target=10)
    money_line = t._("{won} of {target}").format(
        won=_money(t, 50_000), target=_money(t, 1_000_000)
    )
    assert f"{team_line} · {money_line} · {needed}" in lines
    ania_needs = t.ngettext(
        "at {conversion} lead to sale, {n} more new client is needed",
        "at {conversion} lead to sale, {n} more new clients are needed",
        6,
    ).format(conversion=t.percent(0.5), n=6)
    ania_line = t._("<b>{name}</b>: {won} of {target} sales").format(name="Ania", won=1, target=4)
    assert f"{ania_line.replace('<b>', '').replace('</b>', '')} · {ania_needs}" in lines

    winback = await _section(marek, t, "🔁 Win-back")
    lines = _lines(winback)
    assert t.ngettext("🔁 {n} win-back due:", "🔁 {n} win-backs due:", 1).format(n=1) in lines
    assert "   #5 Cezary" in lines
    assert (
        t.ngettext(
            "Of the {n} client who resigned in the period, {back} came back and bought "
            "within 12 months ({share}).",
            "Of the {n} clients who resigned in the period, {back} came back and bought "
            "within 12 months ({share}).",
            4,
        ).format(n=4, back=1, share=t.percent(0.25))
        in lines
    )
    assert f"   {reason('Price too high')}: 1 / 2" in lines

    team_screen = await _section(marek, t, "👥 People")
    lines = _lines(team_screen)
    ania_stats = t._(
        "<b>{name}</b>: new {new} · won {won} ({won_money}) · lost {lost} ({lost_money}, "
        "{share} of the losses) · activities {activities} · open {open}"
    ).format(
        name="Ania",
        new=4,
        won=1,
        won_money=_money(t, 95_000),
        lost=2,
        lost_money=_money(t, 180_000),
        share=t.percent(0.5),
        activities=6,
        open=1,
    )
    assert ania_stats.replace("<b>", "").replace("</b>", "") in lines
    # Ania's open deals, by stage, from the report.
    assert "📋 Piotr" not in str(team_screen.buttons)
    await marek.tap("📋 Ania (1)")
    listed = await marek.expect("Beata")
    assert listed.event == "new"  # the report stays on screen above it
    assert stage("offer_sent") in listed.text and "#4 Beata" in listed.button_texts

    # Piotr's lost #7 is handed to Ania afterwards: the loss stays credited to Piotr, who owned
    # the deal when it was lost.
    async with bot.runtime.uow() as uow:
        boss, seller = await uow.teams.member(1, 1), await uow.teams.member(1, 2)
        seven = await uow.deals.by_number(1, 7)
        assert boss and seller and seven
        await deals.reassign(uow, boss, seven.id or 0, seller.id or 0, clock.now())
        await uow.commit()

    # Ania's own report: her deals only, and no salespeople screen.
    await ania.send("/report")
    await ania.expect("📈")
    await ania.tap(t.pgettext("button", "This week"))
    own = await ania.expect(predicate=lambda m: m.event == "edit")
    assert t._("Your deals") in own.text
    assert t.pgettext("button", "👥 People") not in own.button_texts
    await ania.forge_tap("rp:s:m:20261123-20261129")
    text, alert = await ania.expect_answer()
    while not text:
        text, alert = await ania.expect_answer()
    assert text == t._("This button is out of date. Nothing was changed.") and alert
    await ania.forge_tap("rp:s:l:20261123-20261129")
    mine = await ania.expect(predicate=lambda m: m.event == "edit" and "❌" in m.text)
    assert (
        t._("❌ <b>Resignations recorded in the period</b>: {n} · {money}")
        .replace("<b>", "")
        .replace("</b>", "")
        .format(n=2, money=_money(t, 180_000))
        in mine.text
    )
    assert "Piotr" not in mine.text and "Edward" not in mine.text and "Dorota" not in mine.text
    # Stages retired since stay in the report where deals still stand at them (#5 lost at
    # Contacted); an empty one drops out.
    from bot.services import pipeline

    async with bot.runtime.uow() as uow:
        boss = await uow.teams.member(1, 1)
        assert boss is not None
        for key in ("contacted", "test_drive"):  # the empty third stage of the new pipeline
            stage_id = next(s.id for s in await uow.teams.stages(1) if s.key == key)
            await pipeline.set_retired(uow, boss, "stage", stage_id or 0, True)
        await uow.commit()
    # Tapped on the spreadsheet (a file cannot be edited into text): the answer comes anew.
    await marek.forge_tap("rp:s:f:20261123-20261129", sheet_message.message_id)
    again = await marek.expect(predicate=lambda m: m.event == "new" and "✅" in m.text)
    lines = _lines(again)
    assert (
        step.format(stage=stage("contacted"), reached=5, lost=1, conversion=t.percent(0.8))
        in lines
    )
    assert stage("test_drive") not in again.text

    # Tapping faster than a thumb meets the flood limit; those waits are retried, nothing else
    # may be refused.
    assert [error for error in fake_telegram.errors if error[1] != 429] == []
