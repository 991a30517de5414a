"""The manager's daily digest: a working tool, not just text. Figures of the day, each
salesperson's line opening their overdue and no-contact list (with 🔔 to nudge them), deal
numbers as links to the card, a picture of the funnel; split cleanly when long."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.context import BotContext
from bot.handlers.common import (
    answer,
    display_name,
    h,
    manager_only,
    notify,
    run_rule,
    translator_for,
)
from bot.handlers.deal_card import me
from bot.handlers.deal_views import deal_button, deal_line
from bot.keyboards import ID, args, button, data, markup, parse_id, rows
from bot.screens.digest import DIGEST, LIST_MAX, build_digest, funnel_picture, send_digest
from bot.services.errors import Problem, RuleError
from bot.storage.teams import MemberView


@manager_only
async def digest_command(update: Update, ctx: BotContext) -> None:
    """Today's digest so far; the scheduled one still goes out at the digest hour."""
    team = ctx.me.team
    assert team is not None
    now = ctx.runtime.clock.now()
    text, keyboard, _ = await build_digest(
        ctx.runtime, ctx.t, team, ctx.t.local(now).date(), now, so_far=True
    )
    chat = update.effective_chat
    assert chat is not None
    await send_digest(ctx.bot, chat.id, text, keyboard)
    picture, caption = await funnel_picture(ctx.runtime, ctx.t, team)
    await ctx.bot.send_photo(chat.id, picture, caption=caption)


@manager_only
async def member_list(update: Update, ctx: BotContext) -> None:
    """`dg:m:<member>`: that salesperson's overdue and no-contact deals, with 🔔 to nudge them."""

    async def run() -> None:
        view, slipping = await _slipping(ctx, update)
        t = ctx.t
        now = ctx.runtime.clock.now()
        lines = [
            t._("📋 <b>{name}</b>: overdue or with no next contact").format(
                name=h(display_name(view.user))
            )
        ]
        async with ctx.runtime.uow() as uow:
            stage_of = {
                s.id: s for s in await uow.teams.stages(view.member.team_id, include_retired=True)
            }
        lines += [
            deal_line(t, deal, client, stage_of[deal.stage_id], now)
            for deal, client in slipping[:LIST_MAX]
        ]
        keyboard = markup(
            *rows([deal_button(deal, client) for deal, client in slipping[:LIST_MAX]], 2),
            [button(t.pgettext("button", "🔔 Nudge"), data(DIGEST, "n", view.member.id))],
        )
        await answer(update, ctx, "\n".join(lines), keyboard)

    await run_rule(update, ctx, run)


@manager_only
async def nudge(update: Update, ctx: BotContext) -> None:
    """🔔: the salesperson gets their slipping deals, each opening its card."""

    async def run() -> None:
        view, slipping = await _slipping(ctx, update)
        team = ctx.me.team
        assert team is not None
        st = translator_for(ctx, view.user, team.timezone)
        now = ctx.runtime.clock.now()
        async with ctx.runtime.uow() as uow:
            stage_of = {
                s.id: s for s in await uow.teams.stages(team.id or 0, include_retired=True)
            }
        lines = [
            st._("🔔 {manager} asks you to take care of these deals:").format(
                manager=h(display_name(ctx.me.user))
            )
        ]
        lines += [
            deal_line(st, deal, client, stage_of[deal.stage_id], now)
            for deal, client in slipping[:LIST_MAX]
        ]
        keyboard = markup(
            *rows([deal_button(deal, client) for deal, client in slipping[:LIST_MAX]], 2)
        )
        delivered = await notify(ctx, view.user, "\n".join(lines), reply_markup=keyboard)
        t = ctx.t
        text = (
            t._("🔔 {name} got the list.") if delivered else t._("🔕 {name} could not be reached.")
        )
        await answer(update, ctx, text.format(name=h(display_name(view.user))), alert=True)

    await run_rule(update, ctx, run)


async def _slipping(ctx: BotContext, update: Update) -> tuple[MemberView, list]:  # type: ignore[type-arg]
    query = update.callback_query
    member_id = parse_id(args(query.data if query else None, 1)[0])
    manager = me(ctx)
    if member_id is None:
        raise RuleError(Problem.STALE)
    async with ctx.runtime.uow() as uow:
        people = {
            v.member.id: v for v in await uow.teams.members(manager.team_id, active_only=True)
        }
        view = people.get(member_id)
        if view is None:
            raise RuleError(Problem.STALE)
        slipping = await uow.analytics.slipping(
            manager.team_id, member_id, ctx.runtime.clock.now()
        )
    return view, slipping


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("digest", digest_command))
    app.add_handler(CallbackQueryHandler(member_list, pattern=rf"^{DIGEST}:m:{ID}$"))
    app.add_handler(CallbackQueryHandler(nudge, pattern=rf"^{DIGEST}:n:{ID}$"))
