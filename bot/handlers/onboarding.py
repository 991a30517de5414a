"""/start, choosing a language, creating a team and joining one with an invite link."""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.context import BotContext
from bot.domain import TEAM_NAME_MAX, Language
from bot.handlers import commands_menu
from bot.handlers.common import (
    acknowledge,
    answer,
    display_name,
    h,
    notify,
    problem_text,
    run_rule,
    translator_for,
)
from bot.handlers.flows import begin, finish, text_step
from bot.handlers.lists import DEAL_LINK_PREFIX, open_deal_link
from bot.i18n import LANGUAGE_NAMES
from bot.keyboards import (
    JOIN,
    LANG,
    ONBOARDING,
    args,
    button,
    data,
    language_rows,
    markup,
    pattern,
)
from bot.services import teams
from bot.services.errors import Problem, RuleError
from bot.storage.models import ConversationState, Team

log = logging.getLogger(__name__)


async def start(update: Update, ctx: BotContext) -> None:
    payload = ctx.args[0] if ctx.args else ""
    if payload.startswith(teams.INVITE_PREFIX):
        code = teams.parse_invite(payload)
        if code is None:
            await answer(update, ctx, problem_text(ctx.t, RuleError(Problem.INVALID_INVITE)))
            return
        await _offer_join(update, ctx, code)
        return
    if payload.startswith(DEAL_LINK_PREFIX):
        await open_deal_link(update, ctx, payload)
        return
    if ctx.me.member is None:
        await _welcome(update, ctx)
        return
    await _welcome_back(update, ctx)


def _welcome_screen(ctx: BotContext) -> tuple[str, InlineKeyboardMarkup]:
    t = ctx.t
    user = ctx.me.user
    lines = [
        t._("👋 Hi, {name}!").format(name=h(user.first_name or display_name(user))),
        t._(
            "I'm your pocket CRM: log a client in seconds, move deals through the stages, "
            "record lost deals with their reasons and never miss a follow-up."
        ),
        "",
        t._("Language: {language}. Tap another one if you prefer.").format(
            language=LANGUAGE_NAMES[t.language]
        ),
    ]
    if ctx.me.lost_team is not None:
        lines += [
            "",
            t._("Your access to <b>{team}</b> has been turned off by a manager.").format(
                team=h(ctx.me.lost_team.name)
            ),
        ]
    lines += [
        "",
        t._(
            "To begin, create your team (you will be its manager) "
            "or join your team with the invite link from your manager."
        ),
    ]
    keyboard = markup(
        *language_rows("start"),
        [button(t.pgettext("button", "➕ Create a team"), data(ONBOARDING, "create"))],
        [button(t.pgettext("button", "🔗 Join a team"), data(ONBOARDING, "join"))],
    )
    return "\n".join(lines), keyboard


async def _welcome(update: Update, ctx: BotContext) -> None:
    text, keyboard = _welcome_screen(ctx)
    await answer(update, ctx, text, keyboard, edit=True)


async def _welcome_back(update: Update, ctx: BotContext) -> None:
    t = ctx.t
    team = ctx.me.team
    assert team is not None
    role = t._("manager") if ctx.me.is_manager else t._("salesperson")
    text = "\n".join(
        [
            t._("👋 Welcome back, {name}!").format(name=h(display_name(ctx.me.user))),
            t._("Team: <b>{team}</b>, your role: {role}.").format(team=h(team.name), role=role),
            "",
            t._("/help shows what I can do."),
        ]
    )
    await answer(update, ctx, text)


async def choose_language(update: Update, ctx: BotContext) -> None:
    """`lang:<where>:<code>`: set the language, then redraw the screen it was chosen on."""
    query = update.callback_query
    assert query is not None
    where, code = (query.data or "").split(":")[1], args(query.data, 1)[0]
    if code not in Language._value2member_map_:
        await answer(update, ctx, problem_text(ctx.t, RuleError(Problem.STALE)), alert=True)
        return
    async with ctx.db() as uow:
        user = await uow.users.get(ctx.me.user.id)
        assert user is not None
        user.language, user.language_chosen = code, True
        await uow.users.add(user)
        await uow.commit()
    ctx.me.user = user
    team = ctx.me.team
    ctx.t = ctx.runtime.i18n.translator(code, team.timezone if team else "UTC")
    await commands_menu.sync_for(ctx, user, ctx.me.member)
    if where == "start" and ctx.me.member is None:
        await _welcome(update, ctx)
        return
    text = ctx.t._("✅ Language: {language}").format(language=LANGUAGE_NAMES[Language(code)])
    await answer(update, ctx, text, edit=True)


async def lang_command(update: Update, ctx: BotContext) -> None:
    t = ctx.t
    text = t._("Choose your language. Now: {language}.").format(
        language=LANGUAGE_NAMES[t.language]
    )
    await answer(update, ctx, text, markup(*language_rows("set")))


# --- creating a team -----------------------------------------------------------------------
async def ask_team_name(update: Update, ctx: BotContext) -> None:
    if ctx.me.member is not None:
        assert ctx.me.team is not None
        error = RuleError(Problem.ALREADY_IN_TEAM, team=ctx.me.team.name)
        await answer(update, ctx, problem_text(ctx.t, error))
        return
    if not ctx.runtime.settings.may_create_team(ctx.me.user.id):
        await answer(update, ctx, problem_text(ctx.t, RuleError(Problem.NOT_ALLOWED_TO_CREATE)))
        return
    await begin(ctx, ONBOARDING, "team_name")
    text = ctx.t._(
        "🏢 What is your team called? Send the name, for example your dealership's name "
        "({limit} characters at most)."
    ).format(limit=TEAM_NAME_MAX)
    await answer(update, ctx, text)


@text_step(ONBOARDING, "team_name")
async def receive_team_name(update: Update, ctx: BotContext, state: ConversationState) -> None:
    assert update.effective_message is not None
    runtime = ctx.runtime
    try:
        name = teams.clean_team_name(update.effective_message.text or "")
    except RuleError as error:
        await answer(update, ctx, problem_text(ctx.t, error))  # still waiting for a name
        return

    async def create() -> None:
        async with ctx.db() as uow:
            user = await uow.users.get(ctx.me.user.id)
            assert user is not None
            allowed = runtime.settings.may_create_team(user.id)
            team, member = await teams.create_team(
                uow, user, name, runtime.clock.now(), allowed=allowed
            )
            await uow.conversations.clear(user.id)
            await uow.commit()
        ctx.me.team, ctx.me.member, ctx.flow = team, member, None
        ctx.t = runtime.i18n.translator(user.language, team.timezone)
        await commands_menu.sync_for(ctx, user, member)
        from bot.handlers.team import invite_share_button

        await answer(
            update, ctx, _team_created_text(ctx, team), markup([invite_share_button(ctx, team)])
        )

    if not await run_rule(update, ctx, create):
        await finish(ctx)


def _team_created_text(ctx: BotContext, team: Team) -> str:
    t = ctx.t
    assert team.invite_code is not None
    return "\n".join(
        [
            t._("✅ Team <b>{team}</b> is ready, and you are its manager.").format(
                team=h(team.name)
            ),
            "",
            t._("Time zone: {timezone}").format(timezone=h(t.timezone_name(team.timezone))),
            t._("Currency: {currency}").format(currency=h(t.currency_name(team.currency))),
            t._("Phone numbers from: {country}").format(country=h(t.country_name(team.country))),
            t._("You can change these in /settings."),
            "",
            t._("Invite your salespeople: send them this link."),
            ctx.runtime.link(teams.INVITE_PREFIX + team.invite_code),
            "",
            t._("/team shows your people and the link at any time."),
        ]
    )


# --- joining a team ------------------------------------------------------------------------
async def ask_invite(update: Update, ctx: BotContext) -> None:
    await begin(ctx, ONBOARDING, "invite")
    text = ctx.t._("🔗 Open the invite link your manager sent you, or paste the link here.")
    await answer(update, ctx, text)


@text_step(ONBOARDING, "invite")
async def receive_invite(update: Update, ctx: BotContext, state: ConversationState) -> None:
    assert update.effective_message is not None
    code = teams.parse_invite(update.effective_message.text or "")
    if code is None:
        await answer(update, ctx, problem_text(ctx.t, RuleError(Problem.INVALID_INVITE)))
        return
    await _offer_join(update, ctx, code)


async def _offer_join(update: Update, ctx: BotContext, code: str) -> None:
    """Join at once, or ask first when it means leaving the current team."""
    async with ctx.runtime.uow() as uow:
        try:
            plan = await teams.plan_join(uow, ctx.me.user, code)
        except RuleError as error:
            await answer(update, ctx, problem_text(ctx.t, error))
            return
    if plan.leaving is None:
        await _join(update, ctx, code)
        return
    t = ctx.t
    text = t._(
        "You are in team <b>{current}</b> now. Joining <b>{team}</b> takes you out of it. "
        "Join <b>{team}</b>?"
    ).format(current=h(plan.leaving.name), team=h(plan.team.name))
    keyboard = markup(
        [
            button(t.pgettext("button", "✅ Join"), data(JOIN, "yes", code)),
            button(t.pgettext("button", "✖️ Stay"), data(JOIN, "no")),
        ]
    )
    await answer(update, ctx, text, keyboard)


async def confirm_join(update: Update, ctx: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    if (query.data or "").startswith(f"{JOIN}:no"):
        await answer(update, ctx, ctx.t._("OK, you stay in your team."), edit=True)
        return
    code = (args(query.data) or [""])[0]
    await _join(update, ctx, code)


async def _join(update: Update, ctx: BotContext, code: str) -> None:
    runtime = ctx.runtime

    async def join() -> None:
        async with ctx.db() as uow:
            user = await uow.users.get(ctx.me.user.id)
            assert user is not None
            plan = await teams.join_team(uow, user, code, runtime.clock.now())
            member = await uow.teams.member(plan.team.id or 0, user.id)
            managers = await uow.teams.managers(plan.team.id or 0)
            old_managers = await uow.teams.managers(plan.leaving.id or 0) if plan.leaving else []
            await uow.conversations.clear(user.id)
            await uow.commit()
        team = plan.team
        ctx.me.team, ctx.me.member, ctx.me.lost_team, ctx.flow = team, member, None, None
        ctx.t = runtime.i18n.translator(user.language, team.timezone)
        await commands_menu.sync_for(ctx, user, member)
        await acknowledge(update)
        from bot.handlers.new_deal import quick_example

        text = "\n".join(
            [
                ctx.t._(
                    "✅ Welcome to <b>{team}</b>! You joined as a salesperson. "
                    "/help shows what I can do."
                ).format(team=h(team.name)),
                "",
                ctx.t._("💡 Log a client in one line: {example}").format(
                    example=h(quick_example(ctx.t))
                ),
            ]
        )
        await answer(update, ctx, text, edit=update.callback_query is not None)
        for view in managers:
            if view.user.id == user.id:
                continue
            mt = translator_for(ctx, view.user, team.timezone)
            note = mt._("👋 {name} joined your team as a salesperson.").format(
                name=h(display_name(user))
            )
            await notify(ctx, view.user, note)
        if plan.leaving is not None:
            for view in old_managers:
                mt = translator_for(ctx, view.user, plan.leaving.timezone)
                note = mt._("{name} left your team <b>{team}</b> to join another team.").format(
                    name=h(display_name(user)), team=h(plan.leaving.name)
                )
                await notify(ctx, view.user, note)

    await run_rule(update, ctx, join)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("lang", lang_command))
    app.add_handler(CallbackQueryHandler(choose_language, pattern=pattern(LANG)))
    app.add_handler(CallbackQueryHandler(ask_team_name, pattern=pattern(ONBOARDING, "create")))
    app.add_handler(CallbackQueryHandler(ask_invite, pattern=pattern(ONBOARDING, "join")))
    app.add_handler(CallbackQueryHandler(confirm_join, pattern=pattern(JOIN)))
