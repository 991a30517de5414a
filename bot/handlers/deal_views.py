"""How deals look: the card, a line in a list, the history. Pure rendering (no I/O)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain import DealStatus, EventKind
from bot.handlers.common import display_name, h
from bot.handlers.labels import activity_name, reason_name, stage_name
from bot.i18n import Translator
from bot.keyboards import button, data, markup, named
from bot.services.quick_entry import format_phone
from bot.storage.deals import DealView
from bot.storage.models import Client, Deal, DealEvent, LossReason, Member, Stage

if TYPE_CHECKING:
    from bot.runtime import Runtime

DEAL = "d"  # callback prefix of the card's own buttons
DEAL_LINK_PREFIX = "deal-"  # `https://t.me/<bot>?start=deal-12` opens deal #12
CARD_NOTE_PREVIEW = 300


def money(t: Translator, deal: Deal, amount_minor: int | None) -> str:
    return t.money(amount_minor, deal.currency) if amount_minor is not None else "—"


def deal_link(runtime: Runtime, number: int) -> str:
    """`#12` as a link that opens the deal's card for whoever may see it."""
    return f'<a href="{runtime.link(f"{DEAL_LINK_PREFIX}{number}")}">#{number}</a>'


def shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def next_contact_line(t: Translator, deal: Deal, now: datetime) -> str:
    if deal.next_contact_at is None:
        return t._("⚠️ No next contact planned")
    step = f" — {h(deal.next_step)}" if deal.next_step else ""
    if deal.next_contact_at <= now:
        return (
            t._("❗ Overdue: contact planned for {when}").format(
                when=t.when(deal.next_contact_at, now)
            )
            + step
        )
    return t._("⏰ Next contact: {when}").format(when=t.when(deal.next_contact_at, now)) + step


def age_line(t: Translator, deal: Deal, now: datetime) -> str:
    days = (t.local(now).date() - t.local(deal.created_at).date()).days
    if days <= 0:
        return t._("🗓 Opened today")
    return t.ngettext("🗓 Open for {n} day", "🗓 Open for {n} days", days).format(n=t.number(days))


def card_text(t: Translator, view: DealView, now: datetime) -> str:
    deal, client = view.deal, view.client
    lines = [f"<b>#{deal.number} · {h(client.name)}</b>"]
    if client.phone:
        lines.append(f"📞 {format_phone(client.phone)}")
    if client.company:
        lines.append(f"🏢 {h(client.company)}")
    if client.email:
        lines.append(f"✉️ {h(client.email)}")
    if client.erased_at is not None and view.erased_by is not None:
        lines.append(
            t._("🧹 Client data erased on {date} by {name}").format(
                date=t.date(client.erased_at), name=h(display_name(view.erased_by))
            )
        )
    elif client.erased_at is not None:  # the team's retention setting did it
        lines.append(
            t._("🧹 Client data erased on {date}: kept as long as the team keeps it").format(
                date=t.date(client.erased_at)
            )
        )
    if deal.model:
        lines.append(f"🚗 {h(deal.model)}")
    stage = h(stage_name(t, view.stage))
    if deal.status == DealStatus.OPEN:
        lines.append(t._("📊 Stage: {stage}").format(stage=stage))
    lines.append(t._("💰 Value: {value}").format(value=money(t, deal, deal.value_minor)))
    lines.append(t._("👤 Owner: {name}").format(name=h(display_name(view.owner_user))))
    if deal.last_activity and deal.last_activity_at:
        lines.append(
            t._("🕘 Last: {activity}, {when}").format(
                activity=h(activity_name(t, deal.last_activity)),
                when=t.when(deal.last_activity_at, now),
            )
        )
    if deal.status == DealStatus.OPEN:
        lines.append(age_line(t, deal, now))
        lines.append(next_contact_line(t, deal, now))
    elif deal.status == DealStatus.WON:
        assert deal.closed_at is not None
        lines.append(
            t._("✅ Won at {stage} on {date}").format(stage=stage, date=t.date(deal.closed_at))
        )
        if deal.handover_at:
            lines.append(t._("🚗 Handover: {when}").format(when=t.when(deal.handover_at, now)))
    else:
        assert deal.closed_at is not None
        lines.append(
            t._("❌ Lost at {stage} on {date}: {reason}").format(
                stage=stage,
                date=t.date(deal.closed_at),
                reason=h(reason_name(t, view.loss_reason)) if view.loss_reason else "—",
            )
        )
        if deal.loss_comment:
            lines.append(f"💬 {h(deal.loss_comment)}")
        if deal.winback_at:
            lines.append(t._("🔁 Win back: {when}").format(when=t.date(deal.winback_at)))
        else:
            lines.append(t._("🔁 No win-back planned"))
    if deal.last_note:
        lines.append(f"📝 {h(shorten(deal.last_note, CARD_NOTE_PREVIEW))}")
    return "\n".join(lines)


def card_keyboard(
    t: Translator, view: DealView, viewer: Member, undo_event_id: int | None = None
) -> InlineKeyboardMarkup:
    deal_id = view.deal.id
    rows: list[list[InlineKeyboardButton]] = []
    if view.deal.status == DealStatus.OPEN:
        rows += [
            [
                button(t.pgettext("button", "➡️ Stage"), data(DEAL, "st", deal_id)),
                button(t.pgettext("button", "📞 Activity"), data("da", "pick", deal_id)),
                button(
                    t.pgettext("button", "⏰ Next"),
                    data("p", "n", deal_id, "menu", view.deal.version),
                ),
            ],
            [
                button(t.pgettext("button", "📝 Note"), data("dn", "ask", deal_id)),
                button(t.pgettext("button", "✏️ Edit"), data("de", "menu", deal_id)),
                button(t.pgettext("button", "📜 History"), data(DEAL, "h", deal_id, 0)),
            ],
            [
                button(t.pgettext("button", "✅ Won"), data("dw", "ask", deal_id)),
                button(t.pgettext("button", "❌ Resign"), data("dx", "ask", deal_id)),
            ],
        ]
    else:
        rows.append(
            [
                button(t.pgettext("button", "🔄 Reopen"), data(DEAL, "ro", deal_id)),
                button(t.pgettext("button", "📝 Note"), data("dn", "ask", deal_id)),
                button(t.pgettext("button", "📜 History"), data(DEAL, "h", deal_id, 0)),
            ]
        )
        if view.deal.status == DealStatus.WON:
            rows.append(
                [
                    button(
                        t.pgettext("button", "🚗 Handover date"),
                        data("p", "h", deal_id, "menu", view.deal.version),
                    )
                ]
            )
    if viewer.role == "manager":
        rows.append([button(t.pgettext("button", "👤 Reassign"), data(DEAL, "ra", deal_id))])
    if undo_event_id is not None:
        rows.append(
            [button(t.pgettext("button", "↩️ Undo"), data(DEAL, "u", deal_id, undo_event_id))]
        )
    return markup(*rows)


def deal_line(
    t: Translator,
    deal: Deal,
    client: Client,
    stage: Stage,
    now: datetime,
    *,
    with_stage: bool = True,
    with_when: bool = True,
    with_status: bool = True,
) -> str:
    """`#12 Jan Kowalski · Octavia · Offer sent · ⏰ 15 December, 14:30` for lists and search
    (`with_stage=False` under a heading that already names the stage)."""
    parts = [f"#{deal.number} {h(shorten(client.name, 40))}"]
    if deal.model:
        parts.append(h(shorten(deal.model, 24)))
    if with_stage:
        parts.append(h(stage_name(t, stage)))
    if not with_status:
        pass  # listed under a heading that says it all ("to contact now")
    elif deal.status == DealStatus.WON:
        parts.append(t._("✅ won"))
    elif deal.status == DealStatus.LOST:
        parts.append(t._("❌ lost"))
    elif deal.next_contact_at is None:
        parts.append(t._("⚠️ no contact planned"))
    elif deal.next_contact_at <= now:
        parts.append(t._("❗ overdue"))
    elif with_when:
        parts.append(f"⏰ {t.when(deal.next_contact_at, now)}")
    return " · ".join(parts)


def deal_button(deal: Deal, client: Client) -> InlineKeyboardButton:
    return button(named(f"#{deal.number} ", client.name), data(DEAL, "o", deal.id))


def event_line(
    t: Translator,
    event: DealEvent,
    stages: dict[int, Stage],
    reasons: dict[int, LossReason],
    deal: Deal,
    now: datetime | None = None,
) -> str:
    def moment(at: datetime) -> str:
        return t.when(at, now) if now is not None else t.datetime(at)

    when = moment(event.at)

    def stage(stage_id: int | None) -> str:
        return h(stage_name(t, stages[stage_id])) if stage_id in stages else "?"

    kind = event.kind
    if kind == EventKind.CREATED:
        text = t._("created at stage {stage}").format(stage=stage(event.to_stage_id))
    elif kind == EventKind.STAGE_CHANGED:
        text = t._("stage: {old} → {new}").format(
            old=stage(event.from_stage_id), new=stage(event.to_stage_id)
        )
    elif kind == EventKind.ACTIVITY:
        text = h(activity_name(t, event.activity or "call"))
        if event.amount_minor:
            text += f": {money(t, deal, event.amount_minor)}"
    elif kind == EventKind.NOTE:
        text = "📝 " + h(shorten(event.text or "", 200))
    elif kind == EventKind.FOLLOW_UP_SET:
        if (event.data or {}).get("handover") and event.due_at:
            text = t._("handover planned for {when}").format(when=moment(event.due_at))
        elif event.due_at:
            text = t._("next contact planned for {when}").format(when=moment(event.due_at))
        else:
            text = t._("no next contact planned")
    elif kind == EventKind.REMINDER_SENT:
        text = t._("reminder sent")
    elif kind == EventKind.WON:
        text = t._("✅ won: {value}").format(value=money(t, deal, event.amount_minor))
    elif kind == EventKind.LOST:
        reason = reasons.get(event.reason_id or 0)
        text = t._("❌ lost at {stage}: {reason}").format(
            stage=stage(event.from_stage_id), reason=h(reason_name(t, reason)) if reason else "?"
        )
        if event.text:
            text += f" — {h(shorten(event.text, 200))}"
    elif kind == EventKind.REOPENED:
        text = t._("🔄 reopened")
    elif kind == EventKind.REASSIGNED:
        text = t._("👤 reassigned")
    elif kind == EventKind.EDITED:
        field = (event.data or {}).get("field", "")
        text = t._("✏️ edited: {field}").format(field=h(field_label(t, field)))
    elif kind == EventKind.UNDONE:
        text = t._("↩️ undone")
    elif kind == EventKind.ATTACHMENT:
        data = event.data or {}
        name = data.get("name") if data.get("type") == "document" else None
        text = "📎 " + (h(shorten(str(name), 60)) if name else t._("photo"))
        if event.text:
            text += f" — {h(shorten(event.text, 200))}"
    else:
        text = h(kind)
    return f"{when} · {text}"


def field_label(t: Translator, field: str) -> str:
    labels = {
        "name": t.pgettext("button", "Name"),
        "phone": t.pgettext("button", "Phone"),
        "company": t.pgettext("button", "Company"),
        "email": t.pgettext("button", "E-mail"),
        "value": t.pgettext("button", "Value"),
        "model": t.pgettext("button", "Car model"),
    }
    return labels.get(field, field)
