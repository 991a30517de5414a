"""The manager's daily digest as it reads: figures of the day, each salesperson's line opening
their overdue and no-contact list (with 🔔 to nudge them), deal numbers as links to the card, a
picture of the funnel. Built here for the dispatcher (sent unasked) and `/digest` alike."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date, datetime

from telegram import Bot, InlineKeyboardMarkup

from bot.handlers.common import (
    display_name,
    h,
    split_message,
)
from bot.handlers.deal_views import deal_link, shorten
from bot.handlers.labels import activity_name, reason_name, stage_name
from bot.handlers.report_views import more, target_line
from bot.i18n import Translator
from bot.keyboards import button, data, markup, named, rows
from bot.runtime import Runtime
from bot.services.digest import day_period
from bot.services.targets import month_progress
from bot.storage.analytics import Figures, MemberFigures
from bot.storage.models import Team
from bot.storage.teams import MemberView

DIGEST = "dg"
LIST_MAX = 15
# Resignation comments shown in one digest; a day with more points to /report for the rest.
COMMENTS_MAX = 50


async def build_digest(
    runtime: Runtime,
    t: Translator,
    team: Team,
    day: date,
    now: datetime,
    *,
    missed: list[date] | None = None,
    so_far: bool = False,
) -> tuple[str, InlineKeyboardMarkup | None, Figures]:
    assert team.id is not None
    period = day_period(team, day, until=now if so_far else None)
    async with runtime.reader() as uow:
        figures = await uow.analytics.figures(team.id, period, now, comments=COMMENTS_MAX)
        stuck_total, stuck = await uow.analytics.stuck(team.id, now, LIST_MAX)
        winbacks_total, winbacks = await uow.analytics.winbacks_due(team.id, period.end, LIST_MAX)
        people = await uow.teams.members(team.id, active_only=True)
        stages = {s.id: s for s in await uow.teams.stages(team.id, include_retired=True)}
        reasons = {r.id: r for r in await uow.teams.loss_reasons(team.id, include_retired=True)}
        targets = await month_progress(uow, team, [view.member for view in people], now)
    title = (
        t._("📊 <b>{team}</b>: digest for {date}")
        if not so_far
        else t._("📊 <b>{team}</b>: today so far, {date}")
    )
    lines = [title.format(team=h(team.name), date=t.date(day))]
    if missed:
        days = ", ".join(t.date(d) for d in missed)
        lines.append(
            t.ngettext(
                "⚠️ I was offline: no digest went out for {n} day ({days}).",
                "⚠️ I was offline: no digest went out for {n} days ({days}).",
                len(missed),
            ).format(n=t.number(len(missed)), days=days)
        )
    lines += [
        "",
        t._("🆕 New deals: {n}").format(n=t.number(figures.new_deals)),
        t._("➡️ Stage moves: {n}").format(n=t.number(figures.stage_moves)),
        t._("✅ Won: {n} · {money}").format(
            n=t.number(figures.won), money=t.amounts(figures.won_money)
        ),
        t._("❌ Lost: {n} · {money}").format(
            n=t.number(figures.lost), money=t.amounts(figures.lost_money)
        ),
    ]
    for reason_id, loss in sorted(
        figures.losses_by_reason.items(), key=lambda item: -item[1].count
    ):
        name = reason_name(t, reasons[reason_id]) if reason_id in reasons else "?"
        lines.append(f"   • {h(name)}: {t.number(loss.count)} · {t.amounts(loss.money)}")
    by_stage = [
        f"{h(stage_name(t, stages[stage_id]))} {t.number(loss.count)} · {t.amounts(loss.money)}"
        for stage_id, loss in sorted(
            figures.losses_by_stage.items(),
            key=lambda item: stages[item[0]].position if item[0] in stages else 0,
        )
        if stage_id in stages
    ]
    if by_stage:
        lines.append("   " + t._("by stage: {stages}").format(stages="; ".join(by_stage)))
    if figures.activities:
        done = " · ".join(
            f"{h(activity_name(t, kind))} {t.number(n)}"
            for kind, n in sorted(figures.activities.items())
        )
        lines += ["", t._("📞 Activities: {list}").format(list=done)]
    lines += ["", t._("👥 <b>Salespeople</b>")]
    buttons = []
    for view in people:
        stats = figures.members.get(view.member.id or 0)
        if stats is None:
            continue
        line = _member_line(t, view, stats)
        own = targets.members.get(view.member.id or 0)
        if own is not None:
            line += " · 🎯 " + t._("{won} of {target}").format(
                won=t.number(own.won), target=t.number(own.target_deals)
            )
        lines.append(line)
        if stats.overdue or stats.unplanned:
            label = named("📋 ", display_name(view.user), f" ({stats.overdue + stats.unplanned})")
            buttons.append(button(label, data(DIGEST, "m", view.member.id)))
    if stuck:
        lines += [
            "",
            t.ngettext(
                "🐢 {n} deal stuck in its stage:",
                "🐢 {n} deals stuck in their stage:",
                stuck_total,
            ).format(n=t.number(stuck_total)),
        ]
        for deal, client, stage, days_in_stage in stuck:
            age = t.ngettext("{n} day", "{n} days", days_in_stage).format(
                n=t.number(days_in_stage)
            )
            name = h(shorten(client.name, 40))
            lines.append(
                f"   {deal_link(runtime, deal.number)} {name} · {h(stage_name(t, stage))} · {age}"
            )
        lines += more(t, stuck_total - len(stuck))
    if winbacks:
        lines += [
            "",
            t.ngettext("🔁 {n} win-back due:", "🔁 {n} win-backs due:", winbacks_total).format(
                n=t.number(winbacks_total)
            ),
        ]
        for deal, client in winbacks:
            lines.append(f"   {deal_link(runtime, deal.number)} {h(shorten(client.name, 40))}")
        lines += more(t, winbacks_total - len(winbacks))
    lines += ["", target_line(t, team, targets.team)]
    if figures.comments:
        lines += ["", t._("💬 <b>Why clients resigned</b>")]
        for comment in figures.comments:
            reason = reasons.get(comment.reason_id or 0)
            why = h(reason_name(t, reason)) if reason else "?"
            lines.append(
                f"   {deal_link(runtime, comment.deal_number)} {h(shorten(comment.client, 40))}"
                f" · {why}: {h(shorten(comment.text, 300))}"
            )
        hidden = figures.lost - len(figures.comments)
        if hidden > 0:
            lines.append(
                "   "
                + t.ngettext(
                    "… and {n} more comment: see /report.",
                    "… and {n} more comments: see /report.",
                    hidden,
                ).format(n=t.number(hidden))
            )
    return "\n".join(lines), markup(*rows(buttons[:40], 2)) if buttons else None, figures


def _member_line(t: Translator, view: MemberView, stats: MemberFigures) -> str:
    return t._(
        "<b>{name}</b>: new {new} · won {won} · lost {lost} · activities {activities} · "
        "❗ overdue {overdue} · ⚠️ no contact {unplanned}"
    ).format(
        name=h(display_name(view.user)),
        new=t.number(stats.new),
        won=t.number(stats.won),
        lost=t.number(stats.lost),
        activities=t.number(stats.activities),
        overdue=t.number(stats.overdue),
        unplanned=t.number(stats.unplanned),
    )


async def send_digest(
    bot: Bot,
    chat_id: int,
    text: str,
    keyboard: InlineKeyboardMarkup | None,
    pace: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Long digests go out in several messages; the buttons ride on the last one. `pace` is
    awaited before each message (the dispatcher's per-chat rate gate)."""
    parts = split_message(text)
    for index, part in enumerate(parts):
        if pace is not None:
            await pace()
        await bot.send_message(
            chat_id, part, reply_markup=keyboard if index == len(parts) - 1 else None
        )


async def funnel_picture(runtime: Runtime, t: Translator, team: Team) -> tuple[bytes, str]:
    """Open deals at each stage of the pipeline, now (drawn off the event loop), and the
    caption that says what the picture shows."""
    from bot.charts import capped, funnel_png

    async with runtime.reader() as uow:
        counts = await uow.analytics.open_by_stage(team.id or 0)
        stages = await uow.teams.stages(team.id or 0)
    bars = [(stage_name(t, stage), counts.get(stage.id or 0, 0)) for stage in stages]
    total = sum(count for _, count in bars)
    bars = capped(bars, t.pgettext("stage", "Other stages"))
    picture = await asyncio.to_thread(funnel_png, t._("Open deals by stage"), bars)
    caption = t.ngettext(
        "🔻 {team}: where the {n} open deal stands now, stage by stage.",
        "🔻 {team}: where the {n} open deals stand now, stage by stage.",
        total,
    ).format(team=h(team.name), n=t.number(total))
    return picture, caption
