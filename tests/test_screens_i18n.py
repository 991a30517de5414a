"""Key screens rendered in every language: the deal card and the reminder. Dates and money are
compared through Babel (its spaces vary between CLDR versions), counts go through the
language's plural forms, and no English label is left on a translated screen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from babel.dates import format_datetime
from babel.numbers import format_decimal

from bot.domain import ReminderKind
from bot.handlers.deal_views import age_line, card_text
from bot.i18n import I18n
from bot.screens.reminders import bundle_text, reminder_text
from bot.storage.deals import DealView
from bot.storage.models import Client, Deal, Member, Reminder, Stage, Team, User
from bot.storage.reminders import DueReminder

NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
MARKETS = {
    # language: (zone, currency, a phone of that country, how 95 000 reads there)
    "pl": ("Europe/Warsaw", "PLN", "+48600100200", "95\u00a0000\u00a0zł"),
    "ru": ("Europe/Moscow", "RUB", "+79161234567", "95\u00a0000\u00a0₽"),
    "ro": ("Europe/Bucharest", "RON", "+40722123456", "95.000\u00a0RON"),
    "en": ("Europe/London", "GBP", "+447700900123", "£95,000"),
}
ENGLISH_LABELS = ("Stage:", "Value:", "Owner:", "Next contact", "Time to contact", "Planned:")


def _view(language: str, *, created: datetime = NOW - timedelta(days=5)) -> DealView:
    zone, currency, phone, _ = MARKETS[language]
    team = Team(id=1, name="T", timezone=zone, currency=currency, country="PL", created_at=NOW)
    deal = Deal(
        id=7,
        team_id=1,
        number=12,
        client_id=3,
        owner_member_id=4,
        stage_id=5,
        value_minor=9_500_000,
        currency=currency,
        next_contact_at=datetime(2026, 12, 15, 13, 30, tzinfo=UTC),
        next_step="oferta <leasing> & rata",
        last_note="Kolor: czerwony",
        stage_entered_at=created,
        created_at=created,
        updated_at=NOW,
    )
    client = Client(id=3, team_id=1, name="Kowalski & Syn <VIP>", phone=phone, created_at=created)
    stage = Stage(id=5, team_id=1, key="offer_sent", position=3)
    owner = Member(id=4, team_id=team.id or 1, user_id=99, joined_at=created)
    user = User(id=99, first_name="Anna", language=language, created_at=created, last_seen_at=NOW)
    return DealView(deal, client, stage, owner, user)


@pytest.mark.parametrize("language", MARKETS)
def test_deal_card_in_every_language(i18n: I18n, language: str) -> None:
    zone, _, _, price = MARKETS[language]
    t = i18n.translator(language, zone)
    text = card_text(t, _view(language), NOW)
    assert text.startswith("<b>#12 · Kowalski &amp; Syn &lt;VIP&gt;</b>")
    assert price.replace("\u00a0", " ") in text.replace("\u00a0", " ").replace("\u202f", " ")
    planned = format_datetime(
        datetime(2026, 12, 15, 13, 30, tzinfo=UTC), "d MMMM, HH:mm", tzinfo=t.tz, locale=language
    )
    assert planned in text
    assert "oferta &lt;leasing&gt; &amp; rata" in text
    if language != "en":
        assert not [label for label in ENGLISH_LABELS if label in text]
    expected_dates = {
        "pl": "15 grudnia, ",
        "ru": "15 декабря, ",
        "ro": "15 decembrie, ",
        "en": "15 December, ",
    }
    assert expected_dates[language] in text
    local_time = {"pl": "14:30", "ro": "15:30", "ru": "16:30", "en": "13:30"}[language]
    assert f"{expected_dates[language]}{local_time}" in text


AGE = {
    # n: the word after the number, as a native speaker writes it
    "pl": {1: "dnia", 2: "dni", 5: "dni", 22: "dni"},
    "ru": {
        1: "день",
        2: "дня",
        5: "дней",
        11: "дней",
        12: "дней",
        14: "дней",
        21: "день",
        22: "дня",
        25: "дней",
        101: "день",
        112: "дней",
    },
    "ro": {
        1: "zi",
        2: "zile",
        5: "zile",
        11: "zile",
        19: "zile",
        20: "de zile",
        21: "de zile",
        101: "zile",
        112: "zile",
    },
    "en": {1: "day", 2: "days", 5: "days", 21: "days"},
}


@pytest.mark.parametrize("language", MARKETS)
def test_counts_take_the_right_plural_form(i18n: I18n, language: str) -> None:
    zone = MARKETS[language][0]
    t = i18n.translator(language, zone)
    for days, word in AGE[language].items():
        line = age_line(t, _view(language, created=NOW - timedelta(days=days)).deal, NOW)
        number = format_decimal(days, locale=language)
        assert f"{number} {word}" in line, (days, line)
    assert "(s)" not in age_line(t, _view(language, created=NOW - timedelta(days=3)).deal, NOW)


@pytest.mark.parametrize("language", MARKETS)
def test_reminder_in_every_language(i18n: I18n, language: str) -> None:
    zone = MARKETS[language][0]
    t = i18n.translator(language, zone)
    view = _view(language)
    reminder = Reminder(
        id=1,
        team_id=1,
        deal_id=7,
        member_id=4,
        kind=ReminderKind.NEXT_CONTACT,
        due_at=datetime(2026, 12, 10, 8, 0, tzinfo=UTC),
        created_at=NOW,
    )
    team = Team(id=1, name="T", timezone=zone, currency="PLN", country="PL", created_at=NOW)
    item = DueReminder(
        reminder, view.deal, view.client, view.stage, view.owner, view.owner_user, team
    )
    text = reminder_text(t, item, late=True)
    assert "#12 · Kowalski &amp; Syn &lt;VIP&gt;" in text
    assert format_datetime(reminder.due_at, "d MMMM, HH:mm", tzinfo=t.tz, locale=language) in text
    if language != "en":
        assert not [label for label in ENGLISH_LABELS if label in text]
    bundle = bundle_text(t, [item] * 5)
    assert "(s)" not in bundle and format_decimal(5, locale=language) in bundle


COUNTS = (0, 1, 2, 5, 11, 12, 14, 21, 22, 25, 101, 112)
# How "{n} open deals" ends for each count, as a native speaker writes it.
OPEN_DEALS = {
    "pl": {
        **dict.fromkeys((0, 5, 11, 12, 14, 21, 25, 101, 112), "otwartych transakcji"),
        1: "otwartą transakcję",
        **dict.fromkeys((2, 22), "otwarte transakcje"),
    },
    "ru": {
        **dict.fromkeys((0, 5, 11, 12, 14, 25, 112), "открытых сделок"),
        **dict.fromkeys((1, 21, 101), "открытая сделка"),
        **dict.fromkeys((2, 22), "открытые сделки"),
    },
    "ro": {
        **dict.fromkeys((0, 2, 5, 11, 12, 14, 101, 112), "oportunități deschise"),
        1: "oportunitate deschisă",
        **dict.fromkeys((21, 22, 25), "de oportunități deschise"),
    },
    "en": {**dict.fromkeys(COUNTS, "open deals"), 1: "open deal"},
}


@pytest.mark.parametrize("language", MARKETS)
def test_every_count_the_issue_names_reads_right(i18n: I18n, language: str) -> None:
    t = i18n.translator(language, MARKETS[language][0])
    for n in COUNTS:
        text = t.ngettext("📋 You have {n} open deal", "📋 You have {n} open deals", n).format(
            n=t.number(n)
        )
        assert text.endswith(f"{t.number(n)} {OPEN_DEALS[language][n]}"), (n, text)


@pytest.mark.parametrize(
    ("language", "currency", "amount"),
    [
        ("pl", "PLN", "95 000 zł"),
        ("pl", "EUR", "95 000 €"),
        ("ru", "RUB", "95 000 ₽"),
        ("ru", "EUR", "95 000 €"),
        ("ro", "RON", "95.000 RON"),
        ("ro", "MDL", "95.000 MDL"),
        ("en", "GBP", "£95,000"),
    ],
)
def test_whole_prices_have_no_decimals_and_others_keep_them(
    i18n: I18n, language: str, currency: str, amount: str
) -> None:
    from babel.numbers import format_currency

    t = i18n.translator(language)

    def plain(text: str) -> str:
        return text.replace("\u00a0", " ").replace("\u202f", " ")

    assert plain(t.money(9_500_000, currency)) == amount
    # Babel's own rendering of the same amount, with the cents it keeps when there are any.
    assert t.money(9_500_050, currency) == format_currency(95_000.5, currency, locale=language)


@pytest.mark.parametrize("language", MARKETS)
def test_percentages_follow_the_locale(i18n: I18n, language: str) -> None:
    from babel.numbers import format_percent

    t = i18n.translator(language)
    assert t.percent(0.2) == format_percent(0.2, locale=language)
    assert t.percent(None) == "—"
    # One decimal at most, with the locale's own decimal sign and spacing.
    decimal_sign = "," if language != "en" else "."
    assert t.percent(0.625) == format_percent(0.6, locale=language).replace(
        "60", f"62{decimal_sign}5"
    )
