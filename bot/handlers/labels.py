"""Translated names of the CRM's fixed vocabulary: stages, loss reasons, activities, sources.
A stage or reason the team named itself is shown as typed."""

from __future__ import annotations

from babel.dates import get_day_names

from bot.domain import ActivityKind, ClientSource
from bot.i18n import NP_, Translator
from bot.storage.models import LossReason, Stage

STAGE_NAMES = {
    "new_lead": NP_("stage", "New lead"),
    "contacted": NP_("stage", "Contacted"),
    "needs_identified": NP_("stage", "Needs identified"),
    "test_drive": NP_("stage", "Test drive"),
    "offer_sent": NP_("stage", "Offer sent"),
    "negotiation": NP_("stage", "Negotiation"),
}

REASON_NAMES = {
    "price": NP_("reason", "Price too high"),
    "competitor": NP_("reason", "Chose a competitor"),
    "financing": NP_("reason", "Financing or leasing refused"),
    "postponed": NP_("reason", "Postponed the purchase"),
    "lost_contact": NP_("reason", "Lost contact"),
    "product": NP_("reason", "Product or delivery time"),
    "trade_in": NP_("reason", "Trade-in value"),
    "changed_needs": NP_("reason", "Changed needs"),
    "other": NP_("reason", "Other"),
}

ACTIVITY_NAMES = {
    ActivityKind.CALL: NP_("button", "📞 Call"),
    ActivityKind.MESSAGE: NP_("button", "✉️ Message or e-mail"),
    ActivityKind.MEETING: NP_("button", "🤝 Meeting"),
    ActivityKind.PRESENTATION: NP_("button", "🚘 Presentation"),
    ActivityKind.TEST_DRIVE: NP_("button", "🏁 Test drive"),
    ActivityKind.OFFER_SENT: NP_("button", "📄 Offer sent"),
}

SOURCE_NAMES = {
    ClientSource.WALK_IN: NP_("button", "🚶 Walk-in"),
    ClientSource.PHONE_CALL: NP_("button", "📞 Phone call"),
    ClientSource.WEBSITE: NP_("button", "🌐 Website"),
    ClientSource.REFERRAL: NP_("button", "🤝 Referral"),
    ClientSource.RETURNING: NP_("button", "🔁 Returning client"),
    ClientSource.OTHER: NP_("button", "✳️ Other"),
}


def stage_name(t: Translator, stage: Stage) -> str:
    if stage.name:
        return stage.name
    return t.pgettext("stage", STAGE_NAMES.get(stage.key or "", stage.key or "?"))


def reason_name(t: Translator, reason: LossReason) -> str:
    if reason.name:
        return reason.name
    return t.pgettext("reason", REASON_NAMES.get(reason.key or "", reason.key or "?"))


def activity_name(t: Translator, kind: str) -> str:
    return t.pgettext("button", ACTIVITY_NAMES[ActivityKind(kind)])


def source_name(t: Translator, source: str) -> str:
    return t.pgettext("button", SOURCE_NAMES[ClientSource(source)])


def working_hours(t: Translator, days: int, start: int, end: int) -> str:
    """`pon., wt., śr. 09:00–18:00`: the working days (a bit mask, Monday = bit 0) and hours."""
    names = get_day_names("abbreviated", locale=t.locale)
    chosen = ", ".join(names[day] for day in range(7) if days & (1 << day))
    return f"{chosen} {start // 60:02d}:{start % 60:02d}–{end // 60:02d}:{end % 60:02d}"


def target_text(t: Translator, deals: int | None, money: int | None, currency: str) -> str:
    if not deals:
        return t._("not set")
    text = t.ngettext("{n} sale a month", "{n} sales a month", deals).format(n=t.number(deals))
    return f"{text} · {t.money(money, currency)}" if money else text
