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
from bot.handlers.common import answer, problem_text
from bot.handlers.flows import finish, route_text
from bot.services.errors import Problem, RuleError

log = logging.getLogger(__name__)


async def help_command(update: Update, ctx: BotContext) -> None:
    t = ctx.t
    lines = [t._("📇 <b>Pocket CRM</b>: your clients and deals, always at hand."), ""]
    if ctx.me.member is None:
        lines += [
            t._("/start: create your team, or join it with your manager's invite link"),
            t._("/lang: change the language"),
        ]
    else:
        lines += [t._("/team: your team and its people")]
        if ctx.me.is_manager:
            lines += [
                t._("/team also holds the invite link and who is a manager"),
                t._("/settings: time zone, currency, phone country, digest hour"),
            ]
        lines += [t._("/lang: change the language")]
    lines += [t._("/cancel: leave what you are doing (what was saved stays saved)")]
    await answer(update, ctx, "\n".join(lines))


async def cancel_command(update: Update, ctx: BotContext) -> None:
    # A command ends a pending flow before any handler runs (see `load_account`).
    had_flow = ctx.left_flow is not None or await finish(ctx)
    t = ctx.t
    text = (
        t._("OK, cancelled. Everything saved before stays saved.")
        if had_flow
        else t._("There is nothing to cancel.")
    )
    await answer(update, ctx, text)


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
