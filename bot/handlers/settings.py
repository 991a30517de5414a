"""/settings: a manager changes the team's name, time zone, currency, phone country and the
hour of the daily digest, by button or by typing."""

from __future__ import annotations

from babel.dates import get_day_names
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.context import BotContext
from bot.domain import TEAM_NAME_MAX
from bot.handlers import labels
from bot.handlers.common import (
    answer,
    display_name,
    h,
    manager_only,
    member_only,
    problem_text,
    run_rule,
)
from bot.handlers.flows import begin, text_step
from bot.handlers.labels import reason_name, stage_name, target_text
from bot.i18n import Translator
from bot.keyboards import ID, SETTINGS, args, button, data, markup, named, parse_id, pattern, rows
from bot.services import pipeline
from bot.services.errors import Problem, RuleError
from bot.services.targets import parse_target, set_target
from bot.services.team_settings import (
    COMMON_COUNTRIES,
    COMMON_CURRENCIES,
    COMMON_TIMEZONES,
    RETENTION_YEARS,
    Setting,
    adjust_working_hours,
    change_setting,
    toggle_morning_agenda,
)
from bot.storage.models import ConversationState, LossReason, Stage, Team


def _settings_screen(ctx: BotContext) -> tuple[str, InlineKeyboardMarkup]:
    """Everyone's own settings; for managers, the team's too."""
    t = ctx.t
    team, member = ctx.me.team, ctx.me.member
    assert team is not None and member is not None
    agenda = t._("on") if member.morning_agenda else t._("off")
    lines = [t._("🌅 Morning agenda: {state}").format(state=agenda)]
    keyboard_rows = [
        [button(t.pgettext("button", "🌅 Morning agenda on/off"), data(SETTINGS, "ag"))]
    ]
    if ctx.me.is_manager:
        lines = [
            t._("⚙️ <b>Settings of {team}</b>").format(team=h(team.name)),
            "",
            t._("Time zone: {timezone}").format(timezone=h(t.timezone_name(team.timezone))),
            t._("Currency: {currency}").format(currency=h(t.currency_name(team.currency))),
            t._("Phone numbers from: {country}").format(country=h(t.country_name(team.country))),
            t._("Daily digest at {hour}").format(hour=f"{team.digest_hour:02d}:00"),
            t._("Working hours: {hours}").format(
                hours=labels.working_hours(
                    t, team.work_days, team.work_start_minute, team.work_end_minute
                )
            ),
            _retention_text(t, team),
            "",
            *lines,
        ]
        keyboard_rows = [
            [
                button(t.pgettext("button", "✏️ Name"), data(SETTINGS, "ask", Setting.NAME)),
                button(
                    t.pgettext("button", "🕒 Time zone"), data(SETTINGS, "ask", Setting.TIMEZONE)
                ),
            ],
            [
                button(
                    t.pgettext("button", "💰 Currency"), data(SETTINGS, "ask", Setting.CURRENCY)
                ),
                button(
                    t.pgettext("button", "☎️ Phone country"), data(SETTINGS, "ask", Setting.COUNTRY)
                ),
            ],
            [
                button(
                    t.pgettext("button", "📨 Digest time"),
                    data(SETTINGS, "ask", Setting.DIGEST_HOUR),
                ),
                button(t.pgettext("button", "🕘 Working hours"), data(SETTINGS, "wh")),
            ],
            [
                button(t.pgettext("button", "🎯 Targets"), data(SETTINGS, "tg")),
                button(t.pgettext("button", "🧭 Pipeline"), data(SETTINGS, "pl", "stage")),
            ],
            [button(t.pgettext("button", "📋 Loss reasons"), data(SETTINGS, "pl", "reason"))],
            [
                button(
                    t.pgettext("button", "🧹 Data retention"),
                    data(SETTINGS, "ask", Setting.ERASE_YEARS),
                )
            ],
            *keyboard_rows,
        ]
    return "\n".join(lines), markup(*keyboard_rows)


def _retention_text(t: Translator, team: Team) -> str:
    years = team.erase_closed_years
    if not years:
        return t._("🧹 Clients' personal data: kept for good")
    return t.ngettext(
        "🧹 Clients' personal data: erased {n} year after their last deal closed",
        "🧹 Clients' personal data: erased {n} years after their last deal closed",
        years,
    ).format(n=t.number(years))


@member_only
async def settings_command(update: Update, ctx: BotContext) -> None:
    text, keyboard = _settings_screen(ctx)
    await answer(update, ctx, text, keyboard)


@member_only
async def toggle_agenda(update: Update, ctx: BotContext) -> None:
    member = ctx.me.member
    assert member is not None

    async def toggle() -> None:
        async with ctx.db() as uow:
            ctx.me.member = await toggle_morning_agenda(uow, member)
            await uow.commit()
        text, keyboard = _settings_screen(ctx)
        await answer(update, ctx, text, keyboard, edit=True)

    await run_rule(update, ctx, toggle)


def _working_hours_screen(ctx: BotContext) -> tuple[str, InlineKeyboardMarkup]:
    t = ctx.t
    team = ctx.me.team
    assert team is not None
    names = get_day_names("abbreviated", locale=t.locale)
    days = [
        button(
            ("✅ " if team.work_days & (1 << day) else "▫️ ") + names[day],
            data(SETTINGS, "wd", day),
        )
        for day in range(7)
    ]
    start, end = team.work_start_minute // 60, team.work_end_minute // 60
    text = "\n".join(
        [
            t._("🕘 <b>Working hours</b>: {hours}").format(
                hours=labels.working_hours(
                    t, team.work_days, team.work_start_minute, team.work_end_minute
                )
            ),
            t._(
                "Automatic messages (win-backs, agendas, catch-up after a break) wait for "
                "working time. A time a salesperson chose is kept."
            ),
        ]
    )
    keyboard = markup(
        *rows(days, 4),
        [
            button("◀️", data(SETTINGS, "ws", -1)),
            button(t._("Start {hour}").format(hour=f"{start:02d}:00"), data(SETTINGS, "wh")),
            button("▶️", data(SETTINGS, "ws", 1)),
        ],
        [
            button("◀️", data(SETTINGS, "we", -1)),
            button(t._("End {hour}").format(hour=f"{end:02d}:00"), data(SETTINGS, "wh")),
            button("▶️", data(SETTINGS, "we", 1)),
        ],
        [button(t.pgettext("button", "◀️ Back"), data(SETTINGS, "show"))],
    )
    return text, keyboard


@manager_only
async def working_hours(update: Update, ctx: BotContext) -> None:
    """`st:wh` shows the screen; `st:wd:<day>`, `st:ws:<±1>`, `st:we:<±1>` change it."""
    query = update.callback_query
    assert query is not None
    action = (query.data or "").split(":")[1]
    raw = args(query.data, 1)[0]
    member = ctx.me.member
    assert member is not None

    async def change() -> None:
        if action != "wh":
            magnitude = parse_id(raw.removeprefix("-"))
            if magnitude is None:
                raise RuleError(Problem.STALE)
            value = -magnitude if raw.startswith("-") else magnitude
            async with ctx.db() as uow:
                ctx.me.team = await adjust_working_hours(
                    uow,
                    member,
                    toggle_day=value if action == "wd" else None,
                    start_hours=value if action == "ws" else 0,
                    end_hours=value if action == "we" else 0,
                )
                await uow.commit()
        text, keyboard = _working_hours_screen(ctx)
        await answer(update, ctx, text, keyboard, edit=True)

    await run_rule(update, ctx, change)


def _choices(ctx: BotContext, setting: Setting) -> tuple[str, InlineKeyboardMarkup]:
    """The question for one setting, with buttons for the usual answers."""
    t = ctx.t
    back = [button(t.pgettext("button", "◀️ Back"), data(SETTINGS, "show"))]
    if setting == Setting.NAME:
        prompt = t._("Send the new team name ({limit} characters at most).").format(
            limit=TEAM_NAME_MAX
        )
        return prompt, markup(back)
    if setting == Setting.TIMEZONE:
        prompt = t._("Choose the time zone, or send its name, like Europe/Warsaw.")
        options = [
            button(t.timezone_city(zone), data(SETTINGS, "set", setting, zone))
            for zone in COMMON_TIMEZONES
        ]
        return prompt, markup(*rows(options, 2), back)
    if setting == Setting.CURRENCY:
        prompt = t._("Choose the currency, or send its three-letter code, like EUR.")
        options = [
            button(code, data(SETTINGS, "set", setting, code)) for code in COMMON_CURRENCIES
        ]
        return prompt, markup(*rows(options, 5), back)
    if setting == Setting.COUNTRY:
        prompt = t._(
            "Which country are phone numbers from, when typed without a +code? "
            "Choose, or send a two-letter code like PL."
        )
        options = [
            button(t.country_name(code)[:30], data(SETTINGS, "set", setting, code))
            for code in COMMON_COUNTRIES
        ]
        return prompt, markup(*rows(options, 2), back)
    if setting == Setting.ERASE_YEARS:
        prompt = t._(
            "How long to keep the personal data of clients whose deals are all closed? After "
            "that, their name, phone, e-mail, notes and comments are erased for good; the "
            "deals stay in the figures without their name. Nothing is erased while a deal is "
            "open or a follow-up is planned."
        )
        options = [
            button(
                t.ngettext("{n} year", "{n} years", years).format(n=t.number(years)),
                data(SETTINGS, "set", setting, years),
            )
            for years in RETENTION_YEARS
        ]
        keep = button(t.pgettext("button", "♾ Keep for good"), data(SETTINGS, "set", setting, 0))
        return prompt, markup(*rows(options, 4), [keep], back)
    prompt = t._("At what hour should managers get the daily digest?")
    options = [
        button(f"{hour:02d}:00", data(SETTINGS, "set", setting, hour)) for hour in range(7, 23)
    ]
    return prompt, markup(*rows(options, 4), back)


@manager_only
async def show_settings(update: Update, ctx: BotContext) -> None:
    text, keyboard = _settings_screen(ctx)
    await answer(update, ctx, text, keyboard, edit=True)


@manager_only
async def ask_setting(update: Update, ctx: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    raw = args(query.data, 1)[0]
    if raw not in Setting._value2member_map_:
        await answer(update, ctx, problem_text(ctx.t, RuleError(Problem.STALE)), alert=True)
        return
    setting = Setting(raw)
    if setting not in (Setting.DIGEST_HOUR, Setting.ERASE_YEARS):  # these by button only
        await begin(ctx, SETTINGS, setting.value)
    text, keyboard = _choices(ctx, setting)
    await answer(update, ctx, text, keyboard, edit=True)


async def _apply(update: Update, ctx: BotContext, setting: Setting, raw: str, edit: bool) -> None:
    member = ctx.me.member
    assert member is not None

    async def apply() -> None:
        async with ctx.db() as uow:
            team = await change_setting(uow, member, setting, raw)
            await uow.conversations.clear(ctx.me.user.id)
            await uow.commit()
        ctx.me.team, ctx.flow = team, None
        ctx.t = ctx.runtime.i18n.translator(ctx.t.language, team.timezone)
        text, keyboard = _settings_screen(ctx)
        await answer(update, ctx, ctx.t._("✅ Saved.") + "\n\n" + text, keyboard, edit=edit)

    await run_rule(update, ctx, apply)


@manager_only
async def set_by_button(update: Update, ctx: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    raw_setting, value = args(query.data, 2)[:2]
    if raw_setting not in Setting._value2member_map_:
        await answer(update, ctx, problem_text(ctx.t, RuleError(Problem.STALE)), alert=True)
        return
    await _apply(update, ctx, Setting(raw_setting), value, edit=True)


async def _typed(update: Update, ctx: BotContext, state: ConversationState) -> None:
    assert update.effective_message is not None
    if ctx.me.member is None or not ctx.me.is_manager:
        return
    # A value that does not read stays in this step: the user is told and types again.
    await _apply(update, ctx, Setting(state.step), update.effective_message.text or "", edit=False)


for _setting in (Setting.NAME, Setting.TIMEZONE, Setting.CURRENCY, Setting.COUNTRY):
    text_step(SETTINGS, _setting.value)(_typed)


@manager_only
async def targets_screen(update: Update, ctx: BotContext) -> None:
    """`st:tg` lists the targets; `st:tg:<member or 0>` asks for one."""
    query = update.callback_query
    assert query is not None
    team = ctx.me.team
    assert team is not None and team.id is not None
    t = ctx.t
    raw = args(query.data, 1)[0]
    async with ctx.runtime.uow() as uow:
        people = await uow.teams.members(team.id, active_only=True)
    who_id = parse_id(raw)
    if who_id is not None:
        who = who_id
        if who and who not in {view.member.id for view in people}:
            await answer(update, ctx, problem_text(t, RuleError(Problem.STALE)), alert=True)
            return
        await begin(ctx, SETTINGS, "target", member_id=who)
        prompt = t._(
            "🎯 Send the monthly target: the number of sales, and the money if you like, "
            "for example 10 or 10 1 500 000. Send 0 to remove it."
        )
        await answer(
            update,
            ctx,
            prompt,
            markup([button(t.pgettext("button", "◀️ Back"), data(SETTINGS, "tg"))]),
            edit=True,
        )
        return
    lines = [
        t._("🎯 <b>Monthly targets</b>"),
        t._("Team: {target}").format(
            target=target_text(t, team.target_deals, team.target_minor, team.currency)
        ),
    ]
    buttons = [button(t.pgettext("button", "🎯 Team"), data(SETTINGS, "tg", 0))]
    for view in people:
        name = h(display_name(view.user))
        own = target_text(t, view.member.target_deals, view.member.target_minor, team.currency)
        lines.append(f"{name}: {own}")
        buttons.append(
            button(named("🎯 ", display_name(view.user)), data(SETTINGS, "tg", view.member.id))
        )
    keyboard = markup(
        *rows(buttons[:40], 2), [button(t.pgettext("button", "◀️ Back"), data(SETTINGS, "show"))]
    )
    await answer(update, ctx, "\n".join(lines), keyboard, edit=True)


@text_step(SETTINGS, "target")
async def receive_target(update: Update, ctx: BotContext, state: ConversationState) -> None:
    assert update.effective_message is not None
    member = ctx.me.member
    if member is None or not ctx.me.is_manager:
        return
    raw = (update.effective_message.text or "").strip()

    async def save() -> None:
        deals, money = (None, None) if raw == "0" else parse_target(raw)
        who = int(state.data.get("member_id", 0)) or None
        async with ctx.db() as uow:
            changed = await set_target(uow, member, who, deals, money)
            await uow.conversations.clear(ctx.me.user.id)
            await uow.commit()
        if who is None:
            assert isinstance(changed, Team)
            ctx.me.team = changed
        ctx.flow = None
        await answer(update, ctx, ctx.t._("✅ Saved.") + " /settings")

    await run_rule(update, ctx, save)


def _entry_name(t: Translator, kind: str, entry: Stage | LossReason) -> str:
    if isinstance(entry, Stage):
        return stage_name(t, entry)
    return reason_name(t, entry)


@manager_only
async def pipeline_screen(update: Update, ctx: BotContext) -> None:
    """`st:pl:<kind>` lists the stages or reasons; `st:pe:<kind>:<id>` shows one."""
    query = update.callback_query
    assert query is not None
    action = (query.data or "").split(":")[1]
    kind, raw_id = args(query.data, 2)[:2]
    team = ctx.me.team
    assert team is not None and team.id is not None
    t = ctx.t

    async def show() -> None:
        if kind not in ("stage", "reason"):
            raise RuleError(Problem.STALE)
        async with ctx.runtime.uow() as uow:
            found = await pipeline.entries(uow, team.id or 0, kind)  # type: ignore[arg-type]
        if action == "pe":
            entry = next((e for e in found if str(e.id) == raw_id), None)
            if entry is None:
                raise RuleError(Problem.STALE)
            await _entry_screen(update, ctx, kind, entry)
            return
        title = (
            t._("🧭 <b>Pipeline stages</b>") if kind == "stage" else t._("📋 <b>Loss reasons</b>")
        )
        lines = [title, t._("Tap one to rename, move or retire it.")]
        buttons = [
            button(
                ("🗄 " if e.retired else "") + _entry_name(t, kind, e)[:30],
                data(SETTINGS, "pe", kind, e.id),
            )
            for e in found
        ]
        keyboard = markup(
            *rows(buttons[:40], 1),  # a team's own names can be long: one a row
            [button(t.pgettext("button", "➕ Add"), data(SETTINGS, "pa", kind))],
            [button(t.pgettext("button", "◀️ Back"), data(SETTINGS, "show"))],
        )
        await answer(update, ctx, "\n".join(lines), keyboard, edit=True)

    await run_rule(update, ctx, show)


async def _entry_screen(
    update: Update, ctx: BotContext, kind: str, entry: Stage | LossReason
) -> None:
    t = ctx.t
    state = t._("retired") if entry.retired else t._("in use")
    text = f"<b>{h(_entry_name(t, kind, entry))}</b> · {state}"
    retire = (
        button(t.pgettext("button", "♻️ Restore"), data(SETTINGS, "pr", kind, entry.id, 0))
        if entry.retired
        else button(t.pgettext("button", "🗄 Retire"), data(SETTINGS, "pr", kind, entry.id, 1))
    )
    keyboard = markup(
        [
            button("⬆️", data(SETTINGS, "pm", kind, entry.id, -1)),
            button("⬇️", data(SETTINGS, "pm", kind, entry.id, 1)),
        ],
        [button(t.pgettext("button", "✏️ Rename"), data(SETTINGS, "pn", kind, entry.id)), retire],
        [button(t.pgettext("button", "◀️ Back"), data(SETTINGS, "pl", kind))],
    )
    await answer(update, ctx, text, keyboard, edit=True)


@manager_only
async def pipeline_change(update: Update, ctx: BotContext) -> None:
    """Move (`pm`), retire or restore (`pr`), or start renaming (`pn`) / adding (`pa`)."""
    query = update.callback_query
    assert query is not None
    action = (query.data or "").split(":")[1]
    kind, raw_id, raw_value = args(query.data, 3)[:3]
    member = ctx.me.member
    assert member is not None
    t = ctx.t

    async def change() -> None:
        if kind not in ("stage", "reason"):
            raise RuleError(Problem.STALE)
        if action == "pa":
            await begin(ctx, SETTINGS, "pipe_add", kind=kind)
            await answer(
                update,
                ctx,
                t._("➕ Send the name ({limit} characters at most).").format(
                    limit=pipeline.NAME_MAX
                ),
            )
            return
        entry_id = parse_id(raw_id)
        if entry_id is None:
            raise RuleError(Problem.STALE)
        if action == "pn":
            await begin(ctx, SETTINGS, "pipe_name", kind=kind, entry_id=entry_id)
            await answer(
                update,
                ctx,
                t._("✏️ Send the new name ({limit} characters at most).").format(
                    limit=pipeline.NAME_MAX
                ),
            )
            return
        async with ctx.db() as uow:
            if action == "pm":
                await pipeline.move(uow, member, kind, entry_id, -1 if raw_value == "-1" else 1)  # type: ignore[arg-type]
            else:
                await pipeline.set_retired(uow, member, kind, entry_id, raw_value == "1")  # type: ignore[arg-type]
            await uow.commit()
            found = await pipeline.entries(uow, member.team_id, kind)  # type: ignore[arg-type]
        entry = next(e for e in found if e.id == entry_id)
        await _entry_screen(update, ctx, kind, entry)

    await run_rule(update, ctx, change)


async def _pipeline_text(update: Update, ctx: BotContext, state: ConversationState) -> None:
    assert update.effective_message is not None
    member = ctx.me.member
    if member is None or not ctx.me.is_manager:
        return
    kind = str(state.data.get("kind"))
    if kind not in ("stage", "reason"):
        return

    async def save() -> None:
        text = update.effective_message.text or ""  # type: ignore[union-attr]
        async with ctx.db() as uow:
            if state.step == "pipe_add":
                await pipeline.add(uow, member, kind, text)  # type: ignore[arg-type]
            else:
                await pipeline.rename(uow, member, kind, int(state.data["entry_id"]), text)  # type: ignore[arg-type]
            await uow.conversations.clear(ctx.me.user.id)
            await uow.commit()
        ctx.flow = None
        back = markup([button(ctx.t.pgettext("button", "◀️ Back"), data(SETTINGS, "pl", kind))])
        await answer(update, ctx, ctx.t._("✅ Saved."), back)

    await run_rule(update, ctx, save)


text_step(SETTINGS, "pipe_add")(_pipeline_text)
text_step(SETTINGS, "pipe_name")(_pipeline_text)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("settings", settings_command))
    app.add_handler(CallbackQueryHandler(show_settings, pattern=pattern(SETTINGS, "show")))
    app.add_handler(CallbackQueryHandler(ask_setting, pattern=pattern(SETTINGS, "ask")))
    app.add_handler(CallbackQueryHandler(set_by_button, pattern=pattern(SETTINGS, "set")))
    app.add_handler(CallbackQueryHandler(toggle_agenda, pattern=pattern(SETTINGS, "ag")))
    app.add_handler(CallbackQueryHandler(targets_screen, pattern=rf"^st:tg(:{ID})?$"))
    app.add_handler(CallbackQueryHandler(pipeline_screen, pattern=r"^st:(pl|pe):"))
    app.add_handler(CallbackQueryHandler(pipeline_change, pattern=r"^st:(pa|pn|pm|pr):"))
    app.add_handler(CallbackQueryHandler(working_hours, pattern=rf"^st:(wh|wd|ws|we)(:-?{ID})?$"))
