"""/report: the funnel over the deals created in a period (today, this week, this month, last
month, this quarter), losses by stage and reason in units and money, and the time deals spend
in each stage. A manager sees the team; a salesperson their own deals."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from babel.numbers import format_percent
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.context import BotContext
from bot.handlers.common import answer, h, member_only, run_rule
from bot.handlers.deal_card import me
from bot.handlers.digest import split_message
from bot.handlers.labels import reason_name, stage_name
from bot.i18n import Translator
from bot.keyboards import args, button, data, markup, rows
from bot.services import report
from bot.services.errors import Problem, RuleError
from bot.services.working_hours import local_wall_time
from bot.storage.analytics import Money, Period

REPORT = "rp"
PERIODS = ("today", "week", "month", "last_month", "quarter")


def period_bounds(name: str, today: date, timezone: str) -> tuple[date, date]:
    """Local calendar bounds [first day, day after the last)."""
    if name == "today":
        return today, today + timedelta(days=1)
    if name == "week":
        start = today - timedelta(days=today.weekday())
        return start, start + timedelta(days=7)
    if name == "month":
        start = today.replace(day=1)
        return start, (start + timedelta(days=32)).replace(day=1)
    if name == "last_month":
        end = today.replace(day=1)
        return (end - timedelta(days=1)).replace(day=1), end
    if name == "quarter":
        start = today.replace(month=3 * ((today.month - 1) // 3) + 1, day=1)
        end_month = start.month + 3
        end = start.replace(year=start.year + (end_month > 12), month=(end_month - 1) % 12 + 1)
        return start, end
    raise RuleError(Problem.STALE)


def _period_keyboard(t: Translator) -> InlineKeyboardMarkup:
    labels = {
        "today": t.pgettext("button", "Today"),
        "week": t.pgettext("button", "This week"),
        "month": t.pgettext("button", "This month"),
        "last_month": t.pgettext("button", "Last month"),
        "quarter": t.pgettext("button", "This quarter"),
    }
    return markup(*rows([button(labels[name], data(REPORT, "p", name)) for name in PERIODS], 2))


def _percent(t: Translator, value: float | None) -> str:
    return "—" if value is None else format_percent(value, "#,##0.#%", locale=t.locale)


def _money(t: Translator, money: Money) -> str:
    return " + ".join(t.money(v, c) for c, v in sorted(money.items())) or "—"


@member_only
async def report_command(update: Update, ctx: BotContext) -> None:
    await answer(update, ctx, ctx.t._("📈 Which period?"), _period_keyboard(ctx.t))


@member_only
async def show_report(update: Update, ctx: BotContext) -> None:
    query = update.callback_query
    assert query is not None

    async def run() -> None:
        name = args(query.data, 1)[0]
        if name not in PERIODS:
            raise RuleError(Problem.STALE)
        team = ctx.me.team
        assert team is not None and team.id is not None
        t = ctx.t
        now = ctx.runtime.clock.now()
        first, after = period_bounds(name, t.local(now).date(), team.timezone)
        period = Period(
            local_wall_time(first, 0, team.timezone), local_wall_time(after, 0, team.timezone)
        )
        owner = None if ctx.me.is_manager else me(ctx).id
        async with ctx.runtime.uow() as uow:
            stages = await uow.teams.stages(team.id, include_retired=True)
            reasons = {
                r.id: r for r in await uow.teams.loss_reasons(team.id, include_retired=True)
            }
            cohort = await uow.analytics.cohort(team.id, period, owner)
            seconds = await uow.analytics.stage_durations(team.id, period) if owner is None else {}
        result = report.funnel([s for s in stages if not s.retired], cohort)
        text = _render(
            t, name, first, after, result, report.durations(seconds), stages, reasons, cohort, now
        )
        parts = split_message(text)
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            await answer(
                update,
                ctx,
                part,
                _period_keyboard(t) if last else None,
                edit=index == 0 and len(parts) == 1,
            )

    await run_rule(update, ctx, run)


def _render(
    t: Translator,
    name: str,
    first: date,
    after: date,
    result: report.Funnel,
    times: dict[int, report.Duration],
    stages: list,
    reasons: dict,
    cohort: list,
    now: datetime,  # type: ignore[type-arg]
) -> str:
    last_day = after - timedelta(days=1)
    span = t.date(first) if first == last_day else f"{t.date(first)} – {t.date(last_day)}"
    lines = [
        t._("📈 <b>Report</b>: {period}").format(period=span),
        "",
        t.ngettext(
            "Funnel of the {n} deal created in the period:",
            "Funnel of the {n} deals created in the period:",
            result.created,
        ).format(n=t.number(result.created)),
    ]
    for step in result.steps:
        lines.append(
            t._("{stage}: {reached} · lost {lost} · on to the next {conversion}").format(
                stage=h(stage_name(t, step.stage)),
                reached=t.number(step.reached),
                lost=t.number(step.lost),
                conversion=_percent(t, step.conversion),
            )
        )
    lines.append(
        t._("✅ Won: {won} · lead to sale {conversion}").format(
            won=t.number(result.won), conversion=_percent(t, result.lead_to_sale)
        )
    )
    by_pair: dict[tuple[int, int], tuple[int, Money]] = {}
    for deal in cohort:
        if deal.status != "lost":
            continue
        key = (deal.stage_id, deal.loss_reason_id or 0)
        count, money = by_pair.get(key, (0, {}))
        money = dict(money)
        if deal.value_minor:
            money[deal.currency] = money.get(deal.currency, 0) + deal.value_minor
        by_pair[key] = (count + 1, money)
    if by_pair:
        stage_of = {s.id: s for s in stages}
        lines += ["", t._("💸 <b>Where the money leaks</b> (stage · reason)")]
        for (stage_id, reason_id), (count, money) in sorted(
            by_pair.items(), key=lambda item: -item[1][0]
        ):
            reason = reasons.get(reason_id)
            why = h(reason_name(t, reason)) if reason else "?"
            where = h(stage_name(t, stage_of[stage_id]))
            lines.append(f"   {where} · {why}: {t.number(count)} · {_money(t, money)}")
    if times:
        stage_of = {s.id: s for s in stages}
        lines += ["", t._("⏱ <b>Days in stage</b> (average · median)")]
        for stage_id, duration in times.items():
            if stage_id in stage_of:
                average = t.number(round(duration.average_days, 1))
                middle = t.number(round(duration.median_days, 1))
                lines.append(f"   {h(stage_name(t, stage_of[stage_id]))}: {average} · {middle}")
    return "\n".join(lines)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("report", report_command))
    app.add_handler(CallbackQueryHandler(show_report, pattern=rf"^{REPORT}:p:\w+$"))
