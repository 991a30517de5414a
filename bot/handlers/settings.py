"""/settings: a manager changes the team's name, time zone, currency, phone country and the
hour of the daily digest, by button or by typing."""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.context import BotContext
from bot.domain import TEAM_NAME_MAX
from bot.handlers.common import answer, h, manager_only, problem_text, run_rule
from bot.handlers.flows import begin, text_step
from bot.keyboards import SETTINGS, args, button, data, markup, pattern, rows
from bot.services.errors import Problem, RuleError
from bot.services.team_settings import (
    COMMON_COUNTRIES,
    COMMON_CURRENCIES,
    COMMON_TIMEZONES,
    Setting,
    change_setting,
)
from bot.storage.models import ConversationState


def _settings_screen(ctx: BotContext) -> tuple[str, InlineKeyboardMarkup]:
    t = ctx.t
    team = ctx.me.team
    assert team is not None
    text = "\n".join(
        [
            t._("⚙️ <b>Settings of {team}</b>").format(team=h(team.name)),
            "",
            t._("Time zone: {timezone}").format(timezone=h(t.timezone_name(team.timezone))),
            t._("Currency: {currency}").format(currency=h(t.currency_name(team.currency))),
            t._("Phone numbers from: {country}").format(country=h(t.country_name(team.country))),
            t._("Daily digest at {hour}").format(hour=f"{team.digest_hour:02d}:00"),
        ]
    )
    keyboard = markup(
        [
            button(t.pgettext("button", "✏️ Name"), data(SETTINGS, "ask", Setting.NAME)),
            button(t.pgettext("button", "🕒 Time zone"), data(SETTINGS, "ask", Setting.TIMEZONE)),
        ],
        [
            button(t.pgettext("button", "💰 Currency"), data(SETTINGS, "ask", Setting.CURRENCY)),
            button(
                t.pgettext("button", "☎️ Phone country"), data(SETTINGS, "ask", Setting.COUNTRY)
            ),
        ],
        [
            button(
                t.pgettext("button", "📨 Digest time"), data(SETTINGS, "ask", Setting.DIGEST_HOUR)
            )
        ],
    )
    return text, keyboard


@manager_only
async def settings_command(update: Update, ctx: BotContext) -> None:
    text, keyboard = _settings_screen(ctx)
    await answer(update, ctx, text, keyboard)


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
            button(t.timezone_name(zone)[:40], data(SETTINGS, "set", setting, zone))
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
        return prompt, markup(*rows(options, 3), back)
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
    if setting != Setting.DIGEST_HOUR:
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


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("settings", settings_command))
    app.add_handler(CallbackQueryHandler(show_settings, pattern=pattern(SETTINGS, "show")))
    app.add_handler(CallbackQueryHandler(ask_setting, pattern=pattern(SETTINGS, "ask")))
    app.add_handler(CallbackQueryHandler(set_by_button, pattern=pattern(SETTINGS, "set")))
