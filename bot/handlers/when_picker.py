"""Choosing a moment with one thumb: buttons for the usual answers, a two-tap calendar, or free
text in the user's language ("jutro 10:00", "завтра в 10", "mâine la 10", "15.12 14:30").

Callback data: `p:<purpose>:<deal id>:<choice>:<deal version>`, purposes:
  n — the next contact of an open deal ("no date yet" allowed; the deal is then flagged),
  h — the handover of a won deal (a reminder, and a satisfaction call a week later),
  w — the win-back date of a resignation being recorded (reason and comment wait in the flow).
The deal's version makes a tap on an old picker (the deal changed since it was shown) stale, so
an old "Tomorrow morning" never moves a newer decision back.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from babel.dates import format_skeleton
from telegram import InlineKeyboardButton, Update
from telegram.ext import Application, CallbackQueryHandler

from bot.context import BotContext
from bot.handlers.common import answer, h, member_only, once_per_tap, run_rule
from bot.handlers.deal_card import int_arg, me, show_card
from bot.handlers.deal_views import DEAL
from bot.handlers.flows import ask, text_step
from bot.keyboards import args, button, data, markup, parse_id, pattern, rows
from bot.services import deals
from bot.services.dates import WhenError, later_today_hours, parse_when_and_step, preset
from bot.services.errors import Problem, RuleError
from bot.storage.deals import DealView
from bot.storage.models import ConversationState
from bot.storage.unit_of_work import UnitOfWork

PICK = "p"
PURPOSES = ("n", "h", "w")
PICK_DAYS = 14
PICK_HOURS = range(8, 20)
WINBACK_PRESETS = (
    ("in_1_month", 30),
    ("in_3_months", 90),
    ("in_6_months", 180),
    ("in_12_months", 365),
)


def _team_tz(ctx: BotContext) -> str:
    team = ctx.me.team
    assert team is not None
    return team.timezone


def _morning(ctx: BotContext) -> int:
    team = ctx.me.team
    assert team is not None
    return team.work_start_minute // 60


def _question(ctx: BotContext, view: DealView, purpose: str) -> str:
    t = ctx.t
    name = h(view.client.name)
    if purpose == "h":
        return t._("🚗 When is the car handed over to {name}?").format(name=name)
    if purpose == "w":
        return t._("🔁 When should we get back to {name}?").format(name=name)
    return t._("⏰ When is the next contact with {name}?").format(name=name)


def _preset_rows(
    ctx: BotContext, purpose: str, deal_id: int, version: int, suggested_days: int | None
) -> list[list[InlineKeyboardButton]]:
    t = ctx.t
    now = ctx.runtime.clock.now()

    def choice(label: str, value: str) -> InlineKeyboardButton:
        return button(label, data(PICK, purpose, deal_id, value, version))

    if purpose == "w":
        labels = {
            "in_1_month": t.pgettext("button", "In 1 month"),
            "in_3_months": t.pgettext("button", "In 3 months"),
            "in_6_months": t.pgettext("button", "In 6 months"),
            "in_12_months": t.pgettext("button", "In 12 months"),
        }
        buttons = [
            choice(("⭐ " if days == suggested_days else "") + labels[name], name)
            for name, days in WINBACK_PRESETS
        ]
        return [
            *rows(buttons, 2),
            [
                choice(t.pgettext("button", "📅 Another date"), "type"),
                choice(t.pgettext("button", "🚫 Never"), "never"),
            ],
        ]
    today = [
        choice(
            t._("Today {time}").format(time=t.time(moment)),
            "at" + t.local(moment).strftime("%Y%m%d%H%M"),
        )
        for moment in later_today_hours(tz=_team_tz(ctx), now=now, count=3)
    ]
    result = [today] if today else []
    result += rows(
        [
            choice(t.pgettext("button", "Tomorrow morning"), "tomorrow_morning"),
            choice(t.pgettext("button", "In 2 days"), "in_2_days"),
            choice(t.pgettext("button", "Next Monday"), "next_monday"),
            choice(t.pgettext("button", "In a week"), "next_week"),
        ],
        2,
    )
    last = [choice(t.pgettext("button", "📅 Pick a date"), "days")]
    if purpose == "n":
        last.append(choice(t.pgettext("button", "🚫 No date yet"), "none"))
    result.append(last)
    return result


async def ask_when(
    update: Update,
    ctx: BotContext,
    view: DealView,
    purpose: str,
    *,
    intro: str = "",
    undo_event_id: int | None = None,
    flow_data: dict[str, Any] | None = None,
    suggested_days: int | None = None,
    extra_rows: list[list[InlineKeyboardButton]] | None = None,
    begun: ConversationState | None = None,
) -> None:
    """Show the picker (editing the tapped message, or as a new one after typed text) and wait
    for typed text too. `extra_rows` go under the picker's own buttons. `begun`: the picker's
    step as `picker_step` wrote it in the caller's transaction."""
    t = ctx.t
    deal_id = view.deal.id
    assert deal_id is not None
    lines = [intro] if intro else []
    lines.append(_question(ctx, view, purpose))
    if (
        purpose == "n"
        and view.deal.next_contact_at
        and view.deal.next_contact_at > ctx.runtime.clock.now()
    ):
        lines.append(
            t._("Planned now: {when}").format(
                when=t.when(view.deal.next_contact_at, ctx.runtime.clock.now())
            )
        )
    lines.append(t._("Tap a button or type it, for example: tomorrow 10:00, 15.12 14:30, friday."))
    keyboard_rows = _preset_rows(ctx, purpose, deal_id, view.deal.version, suggested_days)
    if (
        purpose == "n"
        and view.deal.next_contact_at
        and view.deal.next_contact_at > ctx.runtime.clock.now()
    ):
        keyboard_rows.append(
            [button(t.pgettext("button", "✔️ Keep as planned"), data(DEAL, "c", deal_id))]
        )
    if undo_event_id is not None:
        keyboard_rows.append(
            [button(t.pgettext("button", "↩️ Undo"), data(DEAL, "u", deal_id, undo_event_id))]
        )
    if purpose == "h":
        keyboard_rows.append([button(t.pgettext("button", "Later"), data(DEAL, "c", deal_id))])
    keyboard_rows += extra_rows or []
    await ask(
        update,
        ctx,
        PICK,
        purpose,
        "\n".join(lines),
        markup(*keyboard_rows),
        begun=begun,
        deal_id=deal_id,
        **(flow_data or {}),
    )


async def picker_step(
    uow: UnitOfWork, ctx: BotContext, deal_id: int, purpose: str
) -> ConversationState:
    """Write the step `ask_when` waits in, inside the caller's transaction (for `begun`)."""
    return await uow.conversations.start(
        ctx.me.user.id, PICK, purpose, {"deal_id": deal_id}, ctx.runtime.clock.now()
    )


def _local_moment(ctx: BotContext, stamp: str) -> datetime:
    """`YYYYmmddHHMM` in the team's zone → UTC."""
    from zoneinfo import ZoneInfo

    try:
        local = datetime.strptime(stamp, "%Y%m%d%H%M").replace(tzinfo=ZoneInfo(_team_tz(ctx)))
    except ValueError as error:
        raise RuleError(Problem.STALE) from error
    return local.astimezone(ZoneInfo("UTC"))


async def _days_screen(
    update: Update, ctx: BotContext, purpose: str, deal_id: int, version: int
) -> None:
    t = ctx.t
    today = t.local(ctx.runtime.clock.now()).date()
    buttons = [
        button(
            # "niedz., 29.11": the weekday and a numeric date fit three to a row.
            format_skeleton("MEd", today + timedelta(days=offset), locale=t.locale),
            data(
                PICK,
                purpose,
                deal_id,
                "day" + (today + timedelta(days=offset)).strftime("%Y%m%d"),
                version,
            ),
        )
        for offset in range(PICK_DAYS)
    ]
    keyboard = markup(
        *rows(buttons, 3),
        [button(t.pgettext("button", "◀️ Back"), data(PICK, purpose, deal_id, "menu", version))],
    )
    await answer(update, ctx, t._("📅 Which day? Or type the date."), keyboard, edit=True)


async def _hours_screen(
    update: Update, ctx: BotContext, purpose: str, deal_id: int, day: str, version: int
) -> None:
    t = ctx.t
    now = ctx.runtime.clock.now()
    moments = [_local_moment(ctx, f"{day}{hour:02d}00") for hour in PICK_HOURS]
    buttons = [
        button(
            t.time(moment),
            data(PICK, purpose, deal_id, "at" + f"{day}{t.local(moment).hour:02d}00", version),
        )
        for moment in moments
        if moment > now
    ]
    keyboard = markup(
        *rows(buttons, 4),
        [button(t.pgettext("button", "◀️ Back"), data(PICK, purpose, deal_id, "days", version))],
    )
    day_label = t.date(moments[0])
    await answer(
        update,
        ctx,
        t._("🕒 At what time on {day}? Or type it, like 14:30.").format(day=day_label),
        keyboard,
        edit=True,
    )


async def _apply(
    update: Update,
    ctx: BotContext,
    purpose: str,
    deal_id: int,
    when: datetime | None,
    version: int | None = None,
    *,
    step: str | None = None,
) -> None:
    """Store the chosen moment for its purpose and show the card. A tapped button carries the
    deal's version when it was shown: a deal changed since then makes the tap stale."""
    now = ctx.runtime.clock.now()
    state = ctx.flow
    flow_data = dict(state.data) if state is not None and state.flow == PICK else {}
    async with ctx.db() as uow:
        if version is not None:
            current = await uow.deals.get(deal_id)
            if current is None or current.version != version:
                raise RuleError(Problem.STALE)
        undo_event_id = None
        if purpose == "n":
            view = await deals.plan_next_contact(uow, me(ctx), deal_id, when, now, step)
        elif purpose == "h":
            if when is None:
                raise RuleError(Problem.STALE)
            view = await deals.plan_handover(uow, me(ctx), deal_id, when, now)
        else:
            if flow_data.get("deal_id") != deal_id or "reason_id" not in flow_data:
                raise RuleError(Problem.STALE)
            view, event = await deals.resign(
                uow,
                me(ctx),
                deal_id,
                int(flow_data["reason_id"]),
                str(flow_data["comment"]),
                when,
                now,
            )
            undo_event_id = event.id
        await uow.conversations.clear(ctx.me.user.id)
        await uow.commit()
    ctx.flow = None
    await show_card(update, ctx, view, undo_event_id=undo_event_id)


@member_only
@once_per_tap
async def picked(update: Update, ctx: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    purpose = (query.data or "").split(":")[1]

    async def run() -> None:
        if purpose not in PURPOSES:
            raise RuleError(Problem.STALE)
        deal_id, version = int_arg(update, 0), int_arg(update, 2)
        choice = args(query.data, 2)[1]
        now = ctx.runtime.clock.now()
        tz = _team_tz(ctx)
        if choice == "menu":
            async with ctx.runtime.uow() as uow:
                view = await deals.load(uow, me(ctx), deal_id)
            flow_data = dict(ctx.flow.data) if ctx.flow and ctx.flow.flow == PICK else {}
            flow_data.pop("deal_id", None)
            await ask_when(update, ctx, view, purpose, flow_data=flow_data)
        elif choice == "days":
            await _days_screen(update, ctx, purpose, deal_id, version)
        elif choice.startswith("day") and parse_id(choice[3:]) is not None:
            await _hours_screen(update, ctx, purpose, deal_id, choice[3:], version)
        elif choice.startswith("at"):
            await _apply(update, ctx, purpose, deal_id, _local_moment(ctx, choice[2:]), version)
        elif (choice == "none" and purpose == "n") or (choice == "never" and purpose == "w"):
            await _apply(update, ctx, purpose, deal_id, None, version)
        elif choice == "type":
            await answer(
                update, ctx, ctx.t._("📅 Type the date, for example 15.03 or 15.03.2027.")
            )
        else:
            try:
                when = preset(choice, tz=tz, now=now, morning_hour=_morning(ctx))
            except ValueError as error:
                raise RuleError(Problem.STALE) from error
            await _apply(update, ctx, purpose, deal_id, when, version)

    await run_rule(update, ctx, run)


async def _typed(update: Update, ctx: BotContext, state: ConversationState) -> None:
    assert update.effective_message is not None
    if ctx.me.member is None:
        return
    deal_id = int(state.data.get("deal_id", 0))

    async def run() -> None:
        try:
            # "jutro 10:00 zadzwonić w sprawie leasingu": the words after the moment are the
            # planned next step.
            when, step = parse_when_and_step(
                update.effective_message.text or "",  # type: ignore[union-attr]
                language=ctx.t.language.value,
                tz=_team_tz(ctx),
                now=ctx.runtime.clock.now(),
                default_hour=_morning(ctx),
            )
        except WhenError as error:
            typed = update.effective_message.text or ""  # type: ignore[union-attr]
            if error.reason != "past" and not any(char.isdigit() for char in typed):
                # Words that are no date at all while the picker waits: a client's name is a
                # search, as anywhere else (the picker stays, its buttons still work).
                from bot.handlers.lists import search

                if await search(update, ctx, typed, quiet_if_none=True):
                    return
            problem = Problem.WHEN_PAST if error.reason == "past" else Problem.WHEN_UNREADABLE
            raise RuleError(problem) from error
        await _apply(update, ctx, state.step, deal_id, when, step=step)
        ctx.prompt_summary = _summary(ctx, state.step, when)

    await run_rule(update, ctx, run)  # a date that does not read keeps the step: type again


def _summary(ctx: BotContext, purpose: str, when: datetime | None) -> str:
    """The picker answered by typing becomes one line saying what was chosen."""
    t = ctx.t
    now = ctx.runtime.clock.now()
    if purpose == "h" and when is not None:
        return t._("🚗 Handover: {when}").format(when=t.when(when, now))
    if purpose == "w":
        if when is None:
            return t._("🔁 No win-back planned")
        return t._("🔁 Win back: {when}").format(when=t.date(when))
    if when is None:
        return t._("⚠️ No next contact planned")
    return t._("⏰ Next contact: {when}").format(when=t.when(when, now))


for _purpose in PURPOSES:
    text_step(PICK, _purpose)(_typed)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CallbackQueryHandler(picked, pattern=pattern(PICK)))
