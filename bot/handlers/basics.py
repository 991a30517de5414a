"""/help, /cancel, unknown commands and buttons, plain text with no flow, group chats and
people who block the bot."""

from __future__ import annotations

import logging

from telegram import ChatMemberUpdated, Update
from telegram.constants import ChatMemberStatus, ChatType
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.context import BotContext
from bot.handlers.common import answer, h, problem_text
from bot.handlers.flows import close_prompt, finish, route_text
from bot.services.errors import Problem, RuleError

log = logging.getLogger(__name__)


async def help_command(update: Update, ctx: BotContext) -> None:
    """What this person can do, one line per habit: a salesperson's floor work, and for a
    manager also the team's figures and files."""
    from bot.handlers.new_deal import quick_example

    t = ctx.t
    lines = [t._("📇 <b>Pocket CRM</b>: your clients and deals, always at hand."), ""]
    if ctx.me.member is None:
        lines += [
            t._("/start: create your team, or join it with your manager's invite link"),
            t._("/lang: change the language"),
        ]
    else:
        lines += [
            t._("/today: your day: who to contact, what is overdue, deals with no next step"),
            t._("/new: log a client step by step, or in one line:"),
            f"   <code>{h(quick_example(t))}</code>",
            t._("📱 Share a contact from your phone book: it becomes a new client."),
            t._("🔍 Type a name, a phone or #12 to find a client (or /find)."),
            t._("/clients: your open deals by stage"),
            t._("/report: your funnel and losses for a period"),
        ]
        if ctx.me.is_manager:
            lines += [
                "",
                t._("👑 <b>For managers</b>"),
                t._("/digest: the team's day so far (the full digest comes every evening)"),
                t._("/report: the team's funnel, losses and salespeople"),
                t._("/export: every deal and its history as Excel files"),
                t._("📎 Send a CSV or XLSX file to import clients."),
                t._("/team: people, roles, the invite link; /settings: the team's settings"),
            ]
        else:
            lines += [
                t._("/team: your team and its managers"),
                t._("/settings: your morning agenda"),
            ]
        lines += [t._("/lang: change the language")]
    lines += [t._("/cancel: leave what you are doing (what was saved stays saved)")]
    await answer(update, ctx, "\n".join(lines))


async def cancel_command(update: Update, ctx: BotContext) -> None:
    """Leave what was being asked: the question on screen says it was cancelled, and the
    card it was about comes back."""
    # A command ends a pending flow before any handler runs (see `load_account`).
    left = ctx.left_flow or ctx.flow
    had_flow = ctx.left_flow is not None or await finish(ctx)
    t = ctx.t
    if not had_flow or left is None:
        await answer(update, ctx, t._("There is nothing to cancel."))
        return
    await close_prompt(ctx, left, t._("✖️ Cancelled"))
    deal_id = left.data.get("deal_id")
    if ctx.me.member is not None and isinstance(deal_id, int):
        from bot.handlers.deal_card import show_card
        from bot.services import deals
        from bot.services.errors import RuleError

        try:
            async with ctx.runtime.uow() as uow:
                view = await deals.load(uow, ctx.me.member, deal_id)
        except RuleError:
            pass
        else:
            await show_card(
                update,
                ctx,
                view,
                edit=False,
                prefix=t._("OK, cancelled. Everything saved before stays saved."),
            )
            return
    await answer(update, ctx, t._("OK, cancelled. Everything saved before stays saved."))


async def unknown_command(update: Update, ctx: BotContext) -> None:
    await answer(update, ctx, ctx.t._("I don't know that command. /help shows what I can do."))


async def unknown_button(update: Update, ctx: BotContext) -> None:
    await answer(update, ctx, problem_text(ctx.t, RuleError(Problem.STALE)), alert=True)


async def not_text(update: Update, ctx: BotContext) -> None:
    await answer(update, ctx, ctx.t._("I can only read text here. /help shows what I can do."))


async def group_chat(update: Update, ctx: BotContext) -> None:
    """In a group the bot says once that it works in private chats, then stays silent."""
    chat = update.effective_chat
    if chat is None or chat.type == ChatType.PRIVATE:
        return
    runtime = ctx.runtime
    async with runtime.uow() as uow:
        first_time = await uow.users.claim_group_notice(chat.id, runtime.clock.now())
        await uow.commit()
    if first_time and _bot_is_present(update):
        user = update.effective_user
        t = runtime.i18n.translator(user.language_code if user and user.language_code else "en")
        text = t._(
            "👋 I work in private chats only, so your clients' data stays private. "
            "Open a chat with me: @{bot}"
        ).format(bot=runtime.bot_username)
        await ctx.bot.send_message(chat.id, text)
    raise ApplicationHandlerStop


def _bot_is_present(update: Update) -> bool:
    change = update.my_chat_member
    if change is None:
        return True
    return change.new_chat_member.status in (
        ChatMemberStatus.MEMBER,
        ChatMemberStatus.ADMINISTRATOR,
    )


async def membership_changed(update: Update, ctx: BotContext) -> None:
    """A user blocked or unblocked the bot in their private chat."""
    change: ChatMemberUpdated | None = update.my_chat_member
    if change is None or change.chat.type != ChatType.PRIVATE:
        return
    blocked = change.new_chat_member.status in (ChatMemberStatus.BANNED, ChatMemberStatus.LEFT)
    async with ctx.runtime.uow() as uow:
        await uow.users.mark_blocked(change.chat.id, blocked)
        await uow.commit()
    log.info("user %s %s the bot", change.chat.id, "blocked" if blocked else "unblocked")


def register(app: Application) -> None:  # type: ignore[type-arg]
    """Catch-alls: registered after every feature module (order matters within a group)."""
    app.add_handler(CommandHandler("help", help_command))
    app.add_handler(CommandHandler("cancel", cancel_command))
    app.add_handler(ChatMemberHandler(membership_changed, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, route_text))
    app.add_handler(MessageHandler(filters.COMMAND, unknown_command))
    app.add_handler(CallbackQueryHandler(unknown_button))
    app.add_handler(MessageHandler(filters.ALL & ~filters.StatusUpdate.ALL, not_text))
