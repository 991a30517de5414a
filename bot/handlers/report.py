"""/report: a period (today, this week, this month, last month, this quarter, or dates typed
in), then one screen per section: the funnel of the deals created in it, the losses (where,
why, whose, the comments), the activity compared with the period before, the targets, the
win-backs, and the salespeople (a manager opens anyone's open deals from there). A manager
sees the team; a salesperson the same for their own deals.

Buttons carry the section and the period (`rp:s:l:20261101-20261130`), so a report keeps
working after a restart and can be opened again from an old message."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.context import BotContext
from bot.domain import JobKind
from bot.handlers import report_views as views
from bot.handlers.common import (
    answer,
    display_name,
    member_only,
    run_rule,
    split_message,
)
from bot.handlers.deal_card import me
from bot.handlers.deal_views import deal_link
from bot.handlers.flows import begin, finish, text_step
from bot.handlers.jobs import queue_job
from bot.i18n import Translator
from bot.keyboards import args, button, data, markup, named, rows
from bot.runtime import Runtime
from bot.services import periods, report
from bot.services.digest import day_period
from bot.services.errors import Problem, RuleError
from bot.services.periods import ReportPeriod
from bot.services.targets import month_progress
from bot.storage.analytics import Period
from bot.storage.models import ConversationState, Team

REPORT = "rp"
LIST = "ls"  # the salesperson's open deals (bot.handlers.lists)
MANAGER_SECTIONS = ("f", "l", "k", "t", "w", "m")
OWN_SECTIONS = ("f", "l", "k", "t", "w")


def _period_keyboard(t: Translator) -> InlineKeyboardMarkup:
    labels = {
        "today": t.pgettext("button", "Today"),
        "week": t.pgettext("button", "This week"),
        "month": t.pgettext("button", "This month"),
        "last_month": t.pgettext("button", "Last month"),
        "quarter": t.pgettext("button", "This quarter"),
    }
    named = [button(labels[name], data(REPORT, "p", name)) for name in periods.NAMED]
    return markup(
        *rows(named, 2), [button(t.pgettext("button", "📅 Other dates"), data(REPORT, "c"))]
    )


def _section_keyboard(
    t: Translator, sections: tuple[str, ...], current: str, period: ReportPeriod
) -> list[list]:  # type: ignore[type-arg]
    def label(section: str) -> str:
        text = t.pgettext("button", views.SECTIONS[section])
        return f"• {text}" if section == current else text

    return [
        *rows([button(label(s), data(REPORT, "s", s, period.code)) for s in sections], 3),
        [button(t.pgettext("button", "📅 Period"), data(REPORT, "b"))],
    ]


@member_only
async def report_command(update: Update, ctx: BotContext) -> None:
    """/report, and `rp:b` (back to the periods) in place."""
    await answer(update, ctx, ctx.t._("📈 Which period?"), _period_keyboard(ctx.t), edit=True)


@member_only
async def on_period(update: Update, ctx: BotContext) -> None:
    """`rp:p:<period>`: the funnel of that period (the report's first screen)."""
    query = update.callback_query
    await _tapped(update, ctx, "f", args(query.data if query else None, 1)[0])


@member_only
async def on_section(update: Update, ctx: BotContext) -> None:
    """`rp:s:<section>:<period>`."""
    query = update.callback_query
    section, code = args(query.data if query else None, 2)[:2]
    await _tapped(update, ctx, section, code)


async def _tapped(update: Update, ctx: BotContext, section: str, code: str) -> None:
    async def run() -> None:
        period = periods.from_code(code, ctx.t.local(ctx.runtime.clock.now()).date())
        if period is None:
            raise RuleError(Problem.STALE)
        await show(update, ctx, section, period, edit=True)

    await run_rule(update, ctx, run)


@member_only
async def ask_range(update: Update, ctx: BotContext) -> None:
    await begin(ctx, REPORT, "range")
    await answer(
        update,
        ctx,
        ctx.t._(
            "📅 Send the dates, for example <code>1.11-15.11</code>, "
            "<code>01.11.2026 - 30.11.2026</code> or a month: <code>November</code>."
        ),
    )


@text_step(REPORT, "range")
async def typed_range(update: Update, ctx: BotContext, state: ConversationState) -> None:
    message = update.effective_message
    assert message is not None
    today = ctx.t.local(ctx.runtime.clock.now()).date()
    period = periods.parse_range(message.text or "", today)
    if period is None:
        await answer(
            update,
            ctx,
            ctx.t._(
                "I couldn't read those dates. Send two dates like 1.11-15.11 (at most two "
                "years apart) or a month like November."
            ),
        )
        return
    await finish(ctx)
    await show(update, ctx, "f", period, edit=False)


async def show(
    update: Update, ctx: BotContext, section: str, period: ReportPeriod, *, edit: bool
) -> None:
    text, keyboard = await render(viewer(ctx), section, period)
    parts = split_message(text)
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        await answer(update, ctx, part, keyboard if last else None, edit=edit and len(parts) == 1)


Rows = list[list]  # type: ignore[type-arg]


@dataclass(frozen=True)
class Viewer:
    """Who reads the report: a manager sees the team, a salesperson (`owner`) their deals."""

    runtime: Runtime
    t: Translator
    team: Team
    member_id: int
    manager: bool

    @property
    def team_id(self) -> int:
        assert self.team.id is not None
        return self.team.id

    @property
    def owner(self) -> int | None:
        return None if self.manager else self.member_id

    def link(self, number: int) -> str:
        return deal_link(self.runtime, number)

    def bounds(self, period: ReportPeriod) -> tuple[Period, Period]:
        return periods.measured(period, self.team.timezone, self.runtime.clock.now())


def viewer(ctx: BotContext) -> Viewer:
    team = ctx.me.team
    assert team is not None
    return Viewer(ctx.runtime, ctx.t, team, me(ctx).id or 0, ctx.me.is_manager)


async def _funnel(v: Viewer, period: ReportPeriod) -> tuple[list[str], Rows]:
    current, _ = v.bounds(period)
    async with v.runtime.reader() as uow:
        stages = await uow.teams.stages(v.team_id, include_retired=True)
        cohort = await uow.reporting.cohort(v.team_id, current, v.owner)
        times = await uow.reporting.stage_times(v.team_id, current, v.owner)
    # A retired stage stays in the reports of the deals that still stand at it.
    standing = {group.stage_id for group in cohort}
    shown = [s for s in stages if not s.retired or s.id in standing]
    result = report.funnel(shown, cohort)
    return views.funnel_lines(v.t, result, report.durations(times), stages), []


async def _losses(v: Viewer, period: ReportPeriod) -> tuple[list[str], Rows]:
    current, _ = v.bounds(period)
    async with v.runtime.reader() as uow:
        stages = {s.id or 0: s for s in await uow.teams.stages(v.team_id, include_retired=True)}
        reasons = {
            r.id or 0: r for r in await uow.teams.loss_reasons(v.team_id, include_retired=True)
        }
        people = {m.member.id or 0: m for m in await uow.teams.members(v.team_id)}
        groups = await uow.reporting.losses(v.team_id, current, v.owner)
        comments = await uow.reporting.lost_deals(
            v.team_id, current, v.owner, per_reason=views.COMMENTS_PER_REASON
        )
    losses = report.losses(groups, v.team.currency)
    lines = views.loss_lines(
        v.t, losses, stages, reasons, people, comments, v.link, by_person=v.manager
    )
    extra: Rows = []
    if losses.total.count:
        label = v.t.pgettext("button", "📎 All comments (XLSX)")
        extra.append([button(label, data(REPORT, "x", period.code))])
    return lines, extra


async def _process(v: Viewer, period: ReportPeriod) -> tuple[list[str], Rows]:
    current, before = v.bounds(period)
    async with v.runtime.reader() as uow:
        now_counts = await uow.reporting.process(v.team_id, current, v.owner)
        before_counts = await uow.reporting.process(v.team_id, before, v.owner)
        now_cohort = await uow.reporting.conversion(v.team_id, current)
        before_cohort = await uow.reporting.conversion(v.team_id, before)
    rates = (
        report.conversions(now_counts, report.lead_to_sale(now_cohort, v.owner)),
        report.conversions(before_counts, report.lead_to_sale(before_cohort, v.owner)),
    )
    lines = views.process_lines(v.t, now_counts, before_counts, rates, periods.previous(period))
    return lines, []


async def _targets(v: Viewer, period: ReportPeriod) -> tuple[list[str], Rows]:
    now = v.runtime.clock.now()
    async with v.runtime.reader() as uow:
        people = await uow.teams.members(v.team_id, active_only=True)
        if not v.manager:
            people = [view for view in people if view.member.id == v.member_id]
        board = await month_progress(uow, v.team, [view.member for view in people], now)
    month = v.t.local(now).date()
    if v.manager:
        return views.target_lines(v.t, v.team, board, people, month), []
    if not board.members:
        return [v.t._("You have no personal target this month.")], []
    return views.target_lines(v.t, v.team, board, people, month, with_team=False), []


async def _winbacks(v: Viewer, period: ReportPeriod) -> tuple[list[str], Rows]:
    current, _ = v.bounds(period)
    today_end = day_period(v.team, v.t.local(v.runtime.clock.now()).date()).end
    async with v.runtime.reader() as uow:
        reasons = {
            r.id or 0: r for r in await uow.teams.loss_reasons(v.team_id, include_retired=True)
        }
        total, due = await uow.analytics.winbacks_due(
            v.team_id, today_end, views.LIST_MAX, v.owner
        )
        outcome = report.winbacks(
            await uow.reporting.winback_outcomes(v.team_id, current, v.owner)
        )
    return views.winback_lines(v.t, total, due, outcome, reasons, v.link), []


async def _people(v: Viewer, period: ReportPeriod) -> tuple[list[str], Rows]:
    current, _ = v.bounds(period)
    async with v.runtime.reader() as uow:
        people = await uow.teams.members(v.team_id, active_only=True)
        figures = await uow.analytics.figures(v.team_id, current, v.runtime.clock.now())
        losses = report.losses(await uow.reporting.losses(v.team_id, current), v.team.currency)
    lines = views.people_lines(v.t, people, figures.members, losses)
    buttons = [
        button(
            named(
                "📋 ",
                display_name(view.user),
                f" ({figures.members[view.member.id or 0].open})",
            ),
            data(LIST, "o", view.member.id),
        )
        for view in people
        if view.member.id in figures.members and figures.members[view.member.id].open
    ]
    return lines, rows(buttons[:40], 2)


Section = Callable[[Viewer, ReportPeriod], Awaitable[tuple[list[str], Rows]]]
SECTIONS: dict[str, Section] = {
    "f": _funnel,
    "l": _losses,
    "k": _process,
    "t": _targets,
    "w": _winbacks,
    "m": _people,
}


async def render(
    v: Viewer, section: str, period: ReportPeriod
) -> tuple[str, InlineKeyboardMarkup]:
    """One screen of the report, with the section buttons under it."""
    sections = MANAGER_SECTIONS if v.manager else OWN_SECTIONS
    if section not in sections:
        raise RuleError(Problem.STALE)
    scope = v.team.name if v.manager else v.t._("Your deals")
    lines = views.header(v.t, section, None if section == "t" else period, scope)
    body, extra = await SECTIONS[section](v, period)
    keyboard = markup(*extra, *_section_keyboard(v.t, sections, section, period))
    return "\n".join([*lines, *body]), keyboard


@member_only
async def comments_file(update: Update, ctx: BotContext) -> None:
    """`rp:x:<period>`: every resignation of the period with its comment, as a spreadsheet,
    written in the background (`bot.jobs.exports`) and sent here."""

    async def run() -> None:
        t = ctx.t
        query = update.callback_query
        code = args(query.data if query else None, 1)[0]
        if periods.from_code(code, t.local(ctx.runtime.clock.now()).date()) is None:
            raise RuleError(Problem.STALE)
        await queue_job(
            update,
            ctx,
            JobKind.LOSSES_FILE,
            t._("📎 Preparing the file… I'll send it here when it is ready."),
            period=code,
        )

    await run_rule(update, ctx, run)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("report", report_command))
    app.add_handler(CallbackQueryHandler(on_period, pattern=rf"^{REPORT}:p:[\w-]+$"))
    app.add_handler(CallbackQueryHandler(on_section, pattern=rf"^{REPORT}:s:\w:[\w-]+$"))
    app.add_handler(CallbackQueryHandler(ask_range, pattern=rf"^{REPORT}:c$"))
    app.add_handler(CallbackQueryHandler(report_command, pattern=rf"^{REPORT}:b$"))
    app.add_handler(CallbackQueryHandler(comments_file, pattern=rf"^{REPORT}:x:[\w-]+$"))
