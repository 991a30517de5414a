"""How the report and the targets read: one screen per section (funnel, losses, activity,
targets, win-back, people). Pure rendering of what the services worked out (no I/O)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from bot.handlers.common import display_name, h
from bot.handlers.deal_views import shorten
from bot.handlers.labels import activity_name, reason_name, source_name, stage_name
from bot.i18n import NP_, Translator
from bot.services import report
from bot.services.periods import ReportPeriod
from bot.services.targets import Progress, TargetBoard
from bot.storage.analytics import MemberFigures
from bot.storage.models import Client, Deal, LossReason, Stage, Team
from bot.storage.reporting import LostDeal, ProcessCounts
from bot.storage.teams import MemberView

Link = Callable[[int], str]  # deal number -> an HTML link that opens its card

SECTIONS = {
    "f": NP_("button", "🔻 Funnel"),
    "l": NP_("button", "💸 Losses"),
    "k": NP_("button", "📊 Activity"),
    "t": NP_("button", "🎯 Targets"),
    "w": NP_("button", "🔁 Win-back"),
    "m": NP_("button", "👥 People"),
}
# Comments of each reason shown on the losses screen; the rest come as a file.
COMMENTS_PER_REASON = 5
LIST_MAX = 15


def span(t: Translator, period: ReportPeriod) -> str:
    return t.days(period.first, period.last)


def header(t: Translator, section: str, period: ReportPeriod | None, scope: str) -> list[str]:
    """The section and its period (targets are always this month's: no period)."""
    name = h(t.pgettext("button", SECTIONS[section]))
    if period is None:
        return [f"📈 <b>{name}</b>", h(scope), ""]
    title = t._("📈 <b>{section}</b> · {period}").format(section=name, period=span(t, period))
    return [title, h(scope), ""]


def more(t: Translator, hidden: int) -> list[str]:
    """The line under a cut list: how many were left out (none: no line)."""
    if hidden <= 0:
        return []
    return [
        "   " + t.ngettext("… and {n} more", "… and {n} more", hidden).format(n=t.number(hidden))
    ]


def _days(t: Translator, days: float | None) -> str:
    return "—" if days is None else t.number(round(days, 1))


def _named(t: Translator, table: dict[int, Stage] | dict[int, LossReason], key: int | None) -> str:
    item = table.get(key or 0)
    if item is None:
        return "?"
    return h(stage_name(t, item) if isinstance(item, Stage) else reason_name(t, item))


def compared(t: Translator, now: str, before: str) -> str:
    return t._("{now} (was {before})").format(now=now, before=before)


# --- funnel ----------------------------------------------------------------------------------
def funnel_lines(
    t: Translator, result: report.Funnel, times: dict[int, report.Duration], stages: list[Stage]
) -> list[str]:
    lines = [
        t.ngettext(
            "Funnel of the {n} deal created in the period:",
            "Funnel of the {n} deals created in the period:",
            result.created,
        ).format(n=t.number(result.created))
    ]
    for step in result.steps:
        lines.append(
            t._("{stage}: {reached} · lost {lost} · on to the next {conversion}").format(
                stage=h(stage_name(t, step.stage)),
                reached=t.number(step.reached),
                lost=t.number(step.lost),
                conversion=t.percent(step.conversion),
            )
        )
    won = t._("✅ Won: {won} · lead to sale {conversion}").format(
        won=t.number(result.won), conversion=t.percent(result.lead_to_sale)
    )
    if result.won_money:
        won += f" · {t.amounts(result.won_money)}"
    lines.append(won)
    stage_of = {stage.id: stage for stage in stages}
    shown = [(stage_of[s], d) for s, d in times.items() if s in stage_of]
    if shown:
        lines += ["", t._("⏱ <b>Days in stage</b> (average · median)")]
        for stage, duration in sorted(shown, key=lambda item: item[0].position):
            lines.append(
                f"   {h(stage_name(t, stage))}: {_days(t, duration.average_days)}"
                f" · {_days(t, duration.median_days)}"
            )
    return lines


# --- losses ----------------------------------------------------------------------------------
def _share(t: Translator, share: report.LossShare) -> str:
    return (
        f"{t.number(share.count)} ({t.percent(share.count_share)})"
        f" · {t.amounts(share.money)} ({t.percent(share.money_share)})"
    )


def loss_lines(
    t: Translator,
    losses: report.Losses,
    stages: dict[int, Stage],
    reasons: dict[int, LossReason],
    people: dict[int, MemberView],
    comments: list[LostDeal],
    link: Link,
    *,
    by_person: bool,
) -> list[str]:
    """The losses screen; comments beyond a few per reason are counted (the file has all)."""
    total = losses.total
    if not total.count:
        return [t._("No resignations in the period.")]
    lines = [
        t._("❌ <b>Resignations recorded in the period</b>: {n} · {money}").format(
            n=t.number(total.count), money=t.amounts(total.money)
        ),
        t._("⏳ From the first contact to the resignation, in days on average: {days}").format(
            days=_days(t, total.process_days)
        ),
        t.ngettext(
            "🔁 {n} of these clients had bought from us before.",
            "🔁 {n} of these clients had bought from us before.",
            total.bought_before,
        ).format(n=t.number(total.bought_before)),
        "",
        t._("<b>By stage</b> (units · money · days in the stage before)"),
    ]
    for stage_id, share in sorted(
        losses.by_stage.items(),
        key=lambda item: stages[item[0]].position if item[0] in stages else 0,
    ):
        lines.append(
            f"   {_named(t, stages, stage_id)}: {_share(t, share)} · {_days(t, share.stage_days)}"
        )
    lines += ["", t._("<b>By reason</b> (units · money · days of the whole process)")]
    for reason_id, share in losses.ranked(losses.by_reason):
        lines.append(
            f"   {_named(t, reasons, reason_id)}: {_share(t, share)}"
            f" · {_days(t, share.process_days)}"
        )
    if by_person:
        lines += ["", t._("<b>By salesperson</b> (units · money)")]
        for member_id, share in losses.ranked(losses.by_owner):
            view = people.get(member_id)
            name = h(display_name(view.user)) if view else "?"
            lines.append(f"   {name}: {_share(t, share)}")
    lines += ["", t._("💸 <b>Where the money leaks</b> (stage · reason)")]
    for (stage_id, reason_id), share in sorted(
        losses.by_stage_and_reason.items(),
        key=lambda item: (-(item[1].money_share or 0), -item[1].count),
    ):
        lines.append(
            f"   {_named(t, stages, stage_id)} · {_named(t, reasons, reason_id)}: "
            f"{t.number(share.count)} · {t.amounts(share.money)}"
        )
    lines += ["", t._("💬 <b>Comments by reason</b>")]
    for reason_id, share in losses.ranked(losses.by_reason):
        listed = [c for c in comments if (c.reason_id or 0) == reason_id]
        lines.append(f"<b>{_named(t, reasons, reason_id)}</b> ({t.number(share.count)})")
        for comment in listed:
            lines.append("   " + comment_line(t, comment, link))
        lines += more(t, share.count - len(listed))
    return lines


def comment_line(t: Translator, comment: LostDeal, link: Link) -> str:
    days = comment.process_seconds // 86400
    parts = [
        f"{link(comment.number)} {h(shorten(comment.client, 40))}",
        t.ngettext("{n} day", "{n} days", days).format(n=t.number(days)),
    ]
    if comment.bought_before:
        parts.append(t._("🔁 bought before"))
    parts.append(f"«{h(shorten(comment.text, 200))}»")
    return " · ".join(parts)


# --- activity --------------------------------------------------------------------------------
def process_lines(
    t: Translator,
    now: ProcessCounts,
    before: ProcessCounts,
    rates: tuple[report.Conversions, report.Conversions],
    previous: ReportPeriod,
) -> list[str]:
    def count(get: Callable[[ProcessCounts], int]) -> str:
        return compared(t, t.number(get(now)), t.number(get(before)))

    lines = [
        t._("Compared with {period}").format(period=span(t, previous)),
        "",
        t._("🆕 New leads: {value}").format(value=count(lambda c: c.new_leads)),
    ]
    if now.sources:
        unknown = t._("source not given")
        named = [
            f"{h(source_name(t, source)) if source else unknown} {t.number(n)}"
            for source, n in sorted(now.sources.items(), key=lambda item: -item[1])
        ]
        lines.append("   " + " · ".join(named))
    lines.append(t._("📞 <b>Contacts made</b>"))
    kinds = sorted(set(now.activities) | set(before.activities))
    if not kinds:
        lines.append("   —")
    for kind in kinds:
        lines.append(
            f"   {h(activity_name(t, kind))}: "
            + compared(
                t, t.number(now.activities.get(kind, 0)), t.number(before.activities.get(kind, 0))
            )
        )
    lines += [
        t._("📄 Offers sent: {value} · {money}").format(
            value=count(lambda c: c.activities.get("offer_sent", 0)),
            money=t.amounts(now.offers_money),
        ),
        t._("➡️ Stage moves: {n}").format(n=count(lambda c: c.stage_moves)),
        t._("✅ Won: {n} · {money}").format(
            n=count(lambda c: c.won), money=t.amounts(now.won_money)
        ),
        "",
        t._("<b>Conversion</b>"),
    ]
    current, earlier = rates
    for label, value, old in (
        (t._("call → meeting"), current.call_to_meeting, earlier.call_to_meeting),
        (t._("meeting → offer"), current.meeting_to_offer, earlier.meeting_to_offer),
        (t._("offer → sale"), current.offer_to_sale, earlier.offer_to_sale),
        (t._("lead → sale"), current.lead_to_sale, earlier.lead_to_sale),
    ):
        lines.append(f"   {label}: {compared(t, t.percent(value), t.percent(old))}")
    # What the ratios count, so nobody reads them as contacts divided by contacts.
    lines.append(
        t._(
            "<i>Of the deals with the first step in the period, the share that then had the "
            "second; a meeting is any face-to-face contact (also a presentation or a test "
            "drive); lead → sale as in the funnel.</i>"
        )
    )
    return lines


# --- targets ---------------------------------------------------------------------------------
def target_line(t: Translator, team: Team, state: Progress | None) -> str:
    """This month's progress against a target, and the new clients still needed."""
    if state is None:
        return t._("🎯 No monthly target yet: a manager sets one in /settings.")
    line = t._("🎯 Target this month: {won} of {target} sales").format(
        won=t.number(state.won), target=t.number(state.target_deals)
    )
    return line + _progress_tail(t, team, state)


def _progress_tail(t: Translator, team: Team, state: Progress) -> str:
    tail = ""
    if state.target_minor:
        tail += " · " + t._("{won} of {target}").format(
            won=t.money(state.won_minor, team.currency),
            target=t.money(state.target_minor, team.currency),
        )
    if state.clients_needed:
        tail += " · " + t.ngettext(
            "at {conversion} lead to sale, {n} more new client is needed",
            "at {conversion} lead to sale, {n} more new clients are needed",
            state.clients_needed,
        ).format(conversion=t.percent(state.conversion), n=t.number(state.clients_needed))
    return tail


def target_lines(
    t: Translator,
    team: Team,
    board: TargetBoard,
    people: list[MemberView],
    month: date,
    *,
    with_team: bool = True,
) -> list[str]:
    lines = [t._("<b>{month}</b>").format(month=h(t.month(month)))]
    if with_team:
        lines.append(target_line(t, team, board.team))
    personal = [view for view in people if (view.member.id or 0) in board.members]
    if not personal and with_team:
        lines.append(t._("No personal targets yet: a manager sets them in /settings."))
    for view in personal:
        state = board.members[view.member.id or 0]
        lines.append(
            t._("<b>{name}</b>: {won} of {target} sales").format(
                name=h(display_name(view.user)),
                won=t.number(state.won),
                target=t.number(state.target_deals),
            )
            + _progress_tail(t, team, state)
        )
    return lines


# --- win-back --------------------------------------------------------------------------------
def winback_lines(
    t: Translator,
    due_total: int,
    due: list[tuple[Deal, Client]],
    outcome: report.Winbacks,
    reasons: dict[int, LossReason],
    link: Link,
) -> list[str]:
    if due_total:
        lines = [
            t.ngettext("🔁 {n} win-back due:", "🔁 {n} win-backs due:", due_total).format(
                n=t.number(due_total)
            )
        ]
        lines += [f"   {link(deal.number)} {h(shorten(client.name, 40))}" for deal, client in due]
        lines += more(t, due_total - len(due))
    else:
        lines = [t._("🔁 No win-backs due.")]
    lines.append("")
    if not outcome.resigned:
        return [*lines, t._("No resignations in the period.")]
    lines.append(
        t.ngettext(
            "Of the {n} client who resigned in the period, {back} came back and bought "
            "within 12 months ({share}).",
            "Of the {n} clients who resigned in the period, {back} came back and bought "
            "within 12 months ({share}).",
            outcome.resigned,
        ).format(
            n=t.number(outcome.resigned),
            back=t.number(outcome.came_back),
            share=t.percent(outcome.rate),
        )
    )
    for group in outcome.by_reason:
        lines.append(
            f"   {_named(t, reasons, group.reason_id)}: "
            f"{t.number(group.came_back)} / {t.number(group.resigned)}"
        )
    return lines


# --- people ----------------------------------------------------------------------------------
def people_lines(
    t: Translator,
    people: list[MemberView],
    figures: dict[int, MemberFigures],
    losses: report.Losses,
) -> list[str]:
    lines = []
    for view in people:
        stats = figures.get(view.member.id or 0, MemberFigures())
        if not (stats.new or stats.won or stats.lost or stats.activities or stats.open):
            continue  # nothing to say (a manager who does not sell)
        share = losses.by_owner.get(view.member.id or 0)
        lines.append(
            t._(
                "<b>{name}</b>: new {new} · won {won} ({won_money}) · lost {lost} ({lost_money}, "
                "{share} of the losses) · activities {activities} · open {open}"
            ).format(
                name=h(display_name(view.user)),
                new=t.number(stats.new),
                won=t.number(stats.won),
                won_money=t.amounts(stats.won_money),
                lost=t.number(stats.lost),
                lost_money=t.amounts(stats.lost_money),
                share=t.percent(share.count_share if share else None),
                activities=t.number(stats.activities),
                open=t.number(stats.open),
            )
        )
    return lines
