"""Notices to other people (hand-overs, reassignments, access, roles), rendered when they are
sent, in the recipient's language, from the database as it is then."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import InlineKeyboardMarkup

from bot.domain import NoticeKind
from bot.handlers.common import display_name, h
from bot.handlers.deal_views import card_keyboard, card_text
from bot.storage.models import Notice, User
from bot.storage.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from bot.runtime import Runtime

Rendered = tuple[str, InlineKeyboardMarkup | None]


async def render_notice(
    runtime: Runtime, uow: UnitOfWork, notice: Notice, user: User
) -> Rendered | None:
    """The notice's text and buttons; None when what it is about no longer makes sense."""
    params = notice.params
    team = await uow.teams.get(notice.team_id or 0) if notice.team_id else None
    t = runtime.i18n.translator(user.language, team.timezone if team else "UTC")
    kind = NoticeKind(notice.kind)
    if team is None:
        return None
    team_name = h(team.name)
    if kind == NoticeKind.ACCESS_OFF:
        return t._("Your access to <b>{team}</b> has been turned off by a manager.").format(
            team=team_name
        ), None
    if kind == NoticeKind.ROLE_MANAGER:
        return t._(
            "👑 You are now a manager of <b>{team}</b>. /help shows what you can do."
        ).format(team=team_name), None
    if kind == NoticeKind.ROLE_SALESPERSON:
        return t._("👤 You are now a salesperson in <b>{team}</b>.").format(team=team_name), None
    actor = await _member_name(uow, int(params.get("actor", 0)))
    recipient = await uow.teams.member(team.id or 0, user.id)
    if recipient is None or not recipient.active:
        return None
    if kind == NoticeKind.DEAL_REASSIGNED:
        view = await uow.deals.view(int(params.get("deal", 0)))
        if view is None or view.deal.owner_member_id != recipient.id:
            return None  # reassigned again meanwhile: the newer notice tells
        intro = t._("👤 {manager} gave you deal #{number}.").format(
            manager=h(actor), number=view.deal.number
        )
        text = f"{intro}\n\n{card_text(t, view, runtime.clock.now())}"
        return text, card_keyboard(t, view, recipient)
    # NoticeKind.DEALS_HANDED_OVER
    source = h(await _member_name(uow, int(params.get("source", 0))))
    deals, reminders = int(params.get("deals", 0)), int(params.get("reminders", 0))
    lines = []
    if deals:
        lines.append(
            t.ngettext(
                "📦 {manager} handed you {n} deal of {name}. /clients shows it.",
                "📦 {manager} handed you {n} deals of {name}. /clients shows them.",
                deals,
            ).format(manager=h(actor), n=t.number(deals), name=source)
        )
    if reminders:
        lines.append(
            t.ngettext(
                "⏰ {manager} handed you {n} follow-up of {name}: it comes to you when due.",
                "⏰ {manager} handed you {n} follow-ups of {name}: they come to you when due.",
                reminders,
            ).format(manager=h(actor), n=t.number(reminders), name=source)
        )
    return ("\n".join(lines), None) if lines else None


async def _member_name(uow: UnitOfWork, member_id: int) -> str:
    member = await uow.teams.member_by_id(member_id)
    user = await uow.users.get(member.user_id) if member else None
    return display_name(user) if user else "?"
