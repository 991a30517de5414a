"""Finding deals: `/clients` (my open deals by stage), a salesperson's open deals for a manager
(from the report), `/find <text>`, plain text as a search, and deep links
`https://t.me/<bot>?start=deal-<number>` that open a card."""

from __future__ import annotations

import re
from itertools import groupby

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.context import BotContext
from bot.handlers.common import answer, display_name, h, manager_only, member_only, run_rule
from bot.handlers.deal_card import me, show_card
from bot.handlers.deal_views import DEAL_LINK_PREFIX, deal_button, deal_line
from bot.handlers.flows import on_free_text
from bot.handlers.labels import stage_name
from bot.handlers.new_deal import offer_new_client
from bot.keyboards import ID, args, button, data, markup, parse_id, rows
from bot.services import deals
from bot.services.errors import Problem, RuleError
from bot.storage.teams import MemberView

LIST = "ls"
PAGE_SIZE = 10
SEARCH_LIMIT = 20
NUMBER = re.compile(r"^#?([0-9]{1,9})$")


@member_only
async def clients_command(update: Update, ctx: BotContext) -> None:
    await _show_page(update, ctx, 0)


@member_only
async def clients_page(update: Update, ctx: BotContext) -> None:
    query = update.callback_query
    await _show_page(update, ctx, parse_id(args(query.data if query else None, 1)[0]) or 0)


@manager_only
async def member_deals(update: Update, ctx: BotContext) -> None:
    """`ls:o:<member>` (from the report: a new message) and `ls:m:<member>:<page>` (turning
    its pages): a salesperson's open deals by stage, for a manager."""
    query = update.callback_query
    raw_member, raw_page = args(query.data if query else None, 2)[:2]
    opening = (query.data or "").startswith(f"{LIST}:o:") if query else False

    async def run() -> None:
        async with ctx.runtime.uow() as uow:
            views = {v.member.id: v for v in await uow.teams.members(me(ctx).team_id)}
        view = views.get(parse_id(raw_member) or 0)
        if view is None:
            raise RuleError(Problem.STALE)
        page = parse_id(raw_page) or 0
        await _show_page(update, ctx, page, view, edit=not opening)

    await run_rule(update, ctx, run)


async def _show_page(
    update: Update,
    ctx: BotContext,
    page: int,
    view: MemberView | None = None,
    *,
    edit: bool = True,
) -> None:
    """One page of open deals grouped by stage: mine, or (`view`) a salesperson's."""
    member = me(ctx)
    owner = member.id if view is None else view.member.id
    async with ctx.runtime.uow() as uow:
        rows_found = await uow.deals.open_deals(member.team_id, owner)
    t = ctx.t
    now = ctx.runtime.clock.now()
    if not rows_found:
        empty = (
            t._("You have no open deals. /new logs a client.")
            if view is None
            else t._("{name} has no open deals.").format(name=h(display_name(view.user)))
        )
        await answer(update, ctx, empty, edit=edit)
        return
    pages = -(-len(rows_found) // PAGE_SIZE)
    page = min(max(page, 0), pages - 1)
    shown = rows_found[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    if view is None:
        header = t.ngettext(
            "📋 You have {n} open deal", "📋 You have {n} open deals", len(rows_found)
        ).format(n=t.number(len(rows_found)))
    else:
        header = t.ngettext(
            "📋 {name} has {n} open deal", "📋 {name} has {n} open deals", len(rows_found)
        ).format(name=h(display_name(view.user)), n=t.number(len(rows_found)))
    lines = [header]
    for _, group in groupby(shown, key=lambda row: row[2].id):
        items = list(group)
        lines += ["", f"<b>{h(stage_name(t, items[0][2]))}</b>"]
        lines += [
            deal_line(t, deal, client, stage, now, with_stage=False)
            for deal, client, stage in items
        ]

    def turn(to: int) -> str:
        return data(LIST, "p", to) if view is None else data(LIST, "m", owner, to)

    paging = []
    if page > 0:
        paging.append(button("◀️", turn(page - 1)))
    if page < pages - 1:
        paging.append(button("▶️", turn(page + 1)))
    keyboard = markup(*rows([deal_button(d, c) for d, c, _ in shown], 2), paging)
    await answer(update, ctx, "\n".join(lines), keyboard, edit=edit)


async def search(
    update: Update, ctx: BotContext, text: str, *, quiet_if_none: bool = False
) -> bool:
    """Name, company, car, phone (any format) or `#number`; a salesperson sees only their own
    deals, a manager the whole team's. Returns whether anything was found; with
    `quiet_if_none`, nothing found says nothing (the caller answers)."""
    member = me(ctx)
    query = " ".join(text.split())[:100]
    number_match = NUMBER.match(query)
    digits = re.sub(r"\D", "", query)
    async with ctx.runtime.uow() as uow:
        found = await uow.deals.search(
            member.team_id,
            text=query if not number_match else "",
            phone_digits=digits if len(digits) >= 5 else None,
            number=int(number_match.group(1)) if number_match else None,
            owner_member_id=None if ctx.me.is_manager else member.id,
            limit=SEARCH_LIMIT,
        )
    t = ctx.t
    if not found:
        if quiet_if_none:
            return False
        if number_match or not query:
            await answer(
                update, ctx, t._("🔍 Nothing found for «{query}».").format(query=h(query))
            )
            return False
        await offer_new_client(update, ctx, query)
        return False
    if len(found) == 1:
        deal = found[0][0]
        async with ctx.runtime.uow() as uow:
            view = await deals.load(uow, member, deal.id or 0)
        await show_card(update, ctx, view, edit=False)
        return True
    now = ctx.runtime.clock.now()
    lines = [
        t.ngettext("🔍 {n} deal found:", "🔍 {n} deals found:", len(found)).format(
            n=t.number(len(found))
        )
    ]
    lines += [deal_line(t, deal, client, stage, now) for deal, client, stage in found]
    keyboard = markup(*rows([deal_button(d, c) for d, c, _ in found], 2))
    await answer(update, ctx, "\n".join(lines), keyboard)
    return True


@member_only
async def find_command(update: Update, ctx: BotContext) -> None:
    message = update.effective_message
    assert message is not None
    text = (message.text or "").partition(" ")[2].strip()
    if not text:
        await answer(
            update,
            ctx,
            ctx.t._("Send /find with a name, phone or #number, for example: /find Kowalski"),
        )
        return
    await search(update, ctx, text)


@on_free_text
async def free_text(update: Update, ctx: BotContext) -> None:
    """Plain text outside any flow is a search; people outside a team are shown the way in."""
    from bot.handlers.common import not_in_team_text

    if ctx.me.member is None:
        await answer(update, ctx, not_in_team_text(ctx))
        return
    message = update.effective_message
    assert message is not None
    await search(update, ctx, message.text or "")


async def open_deal_link(update: Update, ctx: BotContext, payload: str) -> None:
    """`/start deal-12`: deal #12 of the opener's own team, if they may see it."""
    from bot.handlers.common import not_in_team_text

    if ctx.me.member is None:
        await answer(update, ctx, not_in_team_text(ctx))
        return
    number = payload.removeprefix(DEAL_LINK_PREFIX)

    async def run() -> None:
        found = parse_id(number)
        if found is None:
            raise RuleError(Problem.DEAL_NOT_FOUND)
        async with ctx.runtime.uow() as uow:
            view = await deals.find_by_number(uow, me(ctx), found)
        await show_card(update, ctx, view, edit=False)

    await run_rule(update, ctx, run)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("clients", clients_command))
    app.add_handler(CommandHandler("find", find_command))
    app.add_handler(CallbackQueryHandler(clients_page, pattern=rf"^{LIST}:p:"))
    app.add_handler(
        CallbackQueryHandler(member_deals, pattern=rf"^{LIST}:(?:m:{ID}:{ID}|o:{ID})$")
    )
