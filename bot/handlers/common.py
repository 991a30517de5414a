"""Plumbing shared by every handler: who is asking, guards, answering and notifying."""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime, timedelta
from html import escape, unescape
from typing import Any, TypeAlias

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.context import Account, BotContext
from bot.domain import Language
from bot.i18n import Translator
from bot.services.errors import Problem, RuleError
from bot.services.teams import active_membership
from bot.storage.models import ConversationState, User
from bot.storage.unit_of_work import DuplicateTap
from bot.storage.users import AccountRow

log = logging.getLogger(__name__)

Handler: TypeAlias = Callable[[Update, BotContext], Coroutine[Any, Any, None]]

MESSAGE_LIMIT = 4096  # characters of a Telegram message, after entity parsing

# Why a tapped message cannot be edited in place (then the answer is a new message).
UNEDITABLE = (
    "message can't be edited",
    "message to edit not found",
    "there is no text in the message to edit",
)
# Bad requests that are part of normal life: a double tap, an old button.
HARMLESS_BAD_REQUESTS = ("message is not modified", "query is too old", "query id is invalid")


def h(text: object) -> str:
    """Escape user text (names, notes, team names) for HTML messages."""
    return escape(str(text), quote=False)


def display_name(user: User) -> str:
    name = " ".join(part for part in (user.first_name, user.last_name) if part)
    if name:
        return name
    return f"@{user.username}" if user.username else str(user.id)


# --- loading the account (handler group -1) -----------------------------------------------
async def load_account(update: Update, ctx: BotContext) -> None:
    """Find or create the user, their team and pending flow; pick the language.

    Most updates only read: one statement, without the write lock, fetches the user, their
    membership and team, their flow and whether the update was handled before. Only a new
    person, a changed profile, a flow the update leaves, a bot unblocked or a `last_seen_at`
    older than `SEEN_EVERY` writes (read again in a write transaction). Nothing is cached:
    access turned off, a new role or a setting changed by another process counts at the next
    update."""
    tg_user = update.effective_user
    chat = update.effective_chat
    if tg_user is None or chat is None or chat.type != ChatType.PRIVATE:
        return
    runtime = ctx.runtime
    ctx.update_id = update.update_id
    ctx.person = tg_user.id
    now = runtime.clock.now()
    async with runtime.reader() as reader:
        row = await reader.users.account(tg_user.id, update.update_id)
    if row is not None and row.processed:
        log.info("update %s was handled before; skipped", update.update_id)
        raise ApplicationHandlerStop
    if row is not None and not _account_changes(update, row, now):
        member, team = row.member, row.team
        account = Account(user=row.user)
        if member is not None and member.active and team is not None:
            account.team, account.member = team, member
        elif row.user.team_id is not None:
            account.lost_team = team
        _use_account(ctx, account, row.flow)
        return
    async with runtime.uow(person=tg_user.id) as uow:
        if await uow.users.is_processed(update.update_id):
            log.info("update %s was handled before; skipped", update.update_id)
            raise ApplicationHandlerStop
        user = await uow.users.get(tg_user.id)
        if user is None:
            user = User(
                id=tg_user.id,
                language=Language.from_telegram(tg_user.language_code).value,
                created_at=now,
                last_seen_at=now,
            )
        user.first_name = tg_user.first_name[:256]
        user.last_name = tg_user.last_name[:256] if tg_user.last_name else None
        user.username = tg_user.username
        user.last_seen_at = now
        if update.my_chat_member is None:
            user.bot_blocked = False
        await uow.users.add(user)
        account = Account(user=user)
        membership = await active_membership(uow, user)
        if membership is not None:
            account.team, account.member = membership
        elif user.team_id is not None:
            account.lost_team = await uow.teams.get(user.team_id)
        flow = await uow.conversations.get(user.id)
        if flow is not None and _leaves_flow(update, flow.flow):
            await uow.conversations.clear(user.id)
            ctx.left_flow, flow = flow, None
        await uow.commit()
    _use_account(ctx, account, flow)


# The loader writes `last_seen_at` when it is older than this (retention reads it in days).
SEEN_EVERY = timedelta(hours=1)


def _account_changes(update: Update, row: AccountRow, now: datetime) -> bool:
    """Whether this update changes what is stored of the person (see `load_account`)."""
    tg_user = update.effective_user
    assert tg_user is not None
    user = row.user
    return (
        user.first_name != tg_user.first_name[:256]
        or user.last_name != (tg_user.last_name[:256] if tg_user.last_name else None)
        or user.username != tg_user.username
        or (user.bot_blocked and update.my_chat_member is None)
        or now - user.last_seen_at >= SEEN_EVERY
        or (row.flow is not None and _leaves_flow(update, row.flow.flow))
    )


def _use_account(ctx: BotContext, account: Account, flow: ConversationState | None) -> None:
    ctx.account = account
    ctx.flow = flow
    team = account.team
    ctx.t = ctx.runtime.i18n.translator(account.user.language, team.timezone if team else "UTC")


def _leaves_flow(update: Update, flow: str) -> bool:
    """A command, or a button of another screen, ends a pending text step."""
    if update.callback_query is not None:
        return (update.callback_query.data or "").split(":", 1)[0] != flow
    message = update.effective_message
    return bool(message and message.text and message.text.startswith("/"))


# --- guards -------------------------------------------------------------------------------
def member_only(handler: Handler) -> Handler:
    """Only for people in a team; others are told how to get into one."""

    @functools.wraps(handler)
    async def guarded(update: Update, ctx: BotContext) -> None:
        if ctx.me.member is None:
            await answer(update, ctx, not_in_team_text(ctx))
            return
        await handler(update, ctx)

    return guarded


def manager_only(handler: Handler) -> Handler:
    @functools.wraps(handler)
    async def guarded(update: Update, ctx: BotContext) -> None:
        if ctx.me.member is None:
            await answer(update, ctx, not_in_team_text(ctx))
            return
        if not ctx.me.is_manager:
            await answer(update, ctx, ctx.t._("Only a manager can do this."), alert=True)
            return
        await handler(update, ctx)

    return guarded


def once_per_tap(handler: Handler) -> Handler:
    """A button that acts (logs an activity, wins, resigns, moves, snoozes, closes a reminder)
    acts once per tap: a second tap on the same button of the same message is answered
    "Already done ✅" and writes nothing. The key (chat, message, button) is recorded in the
    same transaction as the action (`ctx.db()`), and kept two days."""

    @functools.wraps(handler)
    async def guarded(update: Update, ctx: BotContext) -> None:
        query = update.callback_query
        if query is not None and query.message is not None and query.data:
            raw = f"{query.message.chat.id}:{query.message.message_id}:{query.data}"
            key = "tap:" + hashlib.sha1(raw.encode()).hexdigest()
            async with ctx.runtime.reader() as uow:
                seen = await uow.users.is_handled_tap(key)
            if seen:
                await acknowledge(update, problem_text(ctx.t, RuleError(Problem.ALREADY_DONE)))
                return
            ctx.tap_key = key
        await handler(update, ctx)

    return guarded


def not_in_team_text(ctx: BotContext) -> str:
    t = ctx.t
    if ctx.me.lost_team is not None:
        return t._(
            "Your access to <b>{team}</b> has been turned off by a manager. "
            "Send /start to create or join a team."
        ).format(team=h(ctx.me.lost_team.name))
    return t._("You are not in a team yet. Send /start to create one or to join yours.")


def problem_text(t: Translator, error: RuleError) -> str:
    """The translated answer to a broken rule."""
    details = {
        key: t.time(value) if isinstance(value, datetime) else h(value)
        for key, value in error.details.items()
    }
    texts = {
        Problem.NOT_ALLOWED_TO_CREATE: t._(
            "Only the bot's administrators can create teams here. "
            "Ask your manager for an invite link."
        ),
        Problem.ALREADY_IN_TEAM: t._("You are already in team <b>{team}</b>."),
        Problem.ALREADY_IN_THIS_TEAM: t._("You are already in <b>{team}</b>."),
        Problem.INVALID_INVITE: t._(
            "This invite link does not work: it may have been replaced by a new one. "
            "Ask your manager for the current link."
        ),
        Problem.DEACTIVATED_HERE: t._(
            "Your access to <b>{team}</b> is turned off. "
            "Ask a manager of the team to turn it back on."
        ),
        Problem.LAST_MANAGER: t._(
            "A team needs at least one manager. Make someone else a manager first."
        ),
        Problem.NOT_IN_TEAM: t._(
            "You are not in a team yet. Send /start to create one or to join yours."
        ),
        Problem.NAME_EMPTY: t._("The name can't be empty. Send it again."),
        Problem.NAME_TOO_LONG: t._(
            "That's too long: {limit} characters at most. Send a shorter one."
        ),
        Problem.STALE: t._("This button is out of date. Nothing was changed."),
        Problem.BAD_VALUE: t._("I couldn't read that. Try again."),
        Problem.TOO_LONG: t._("That's too long: {limit} characters at most. Send a shorter one."),
        Problem.BAD_PHONE: t._(
            "That doesn't look like a phone number. Send it like +48 600 100 200."
        ),
        Problem.BAD_AMOUNT: t._("I couldn't read the amount. Send it like 95000 or 95 000."),
        Problem.BAD_EMAIL: t._("That doesn't look like an e-mail address."),
        Problem.DEAL_NOT_FOUND: t._("No such deal among the ones you can see."),
        Problem.DEAL_CLOSED: t._("Deal #{number} is already closed. Reopen it first."),
        Problem.DEAL_ALREADY_OPEN: t._("Deal #{number} is already open."),
        Problem.UNDO_EXPIRED: t._("Too late to undo: it can be taken back within a minute."),
        Problem.WHEN_PAST: t._("That time has already passed. Send a later one."),
        Problem.STAGE_NOT_EMPTY: t.ngettext(
            "This stage still holds {count} open deal: move it on before retiring the stage.",
            "This stage still holds {count} open deals: move them on before retiring the stage.",
            int(str(error.details.get("count", 0))),
        ),
        Problem.WHEN_UNREADABLE: t._(
            "I couldn't read that date. Try for example: tomorrow 10:00, 15.12 14:30, friday."
        ),
        Problem.JOB_BUSY: t._("⏳ Already preparing one: it will come here when it is ready."),
        Problem.JOB_LIMIT: t._(
            "That's the most files a team can ask for in an hour. Try again after {at}."
        ),
        Problem.ALREADY_DONE: t._("Already done ✅"),
    }
    text = texts[error.problem]
    return text.format(**details) if details else text


_TAG = re.compile(r"<(/?)([a-z]+)[^>]*>")


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Messages of at most `limit` characters, split between lines. A line too long for one
    message is cut at a space outside any tag, its open tags closed before the cut and opened
    again after it, so every part is valid HTML on its own. No part is empty."""
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        for piece in _cut_line(line, limit):
            candidate = f"{current}\n{piece}" if current else piece
            if len(candidate) > limit:
                parts.append(current)
                current = piece
            else:
                current = candidate
    parts.append(current)
    return [part.strip("\n") for part in parts if part.strip()]


def _cut_line(line: str, limit: int) -> list[str]:
    pieces: list[str] = []
    reopen = ""
    while len(reopen) + len(line) > limit:
        line = reopen + line
        budget = limit - 64  # room for the tags closed at the cut
        cut, inside = 0, False
        open_tags: list[tuple[str, str]] = []
        for index, char in enumerate(line[:budget]):
            if char == "<":
                inside = True
            elif char == ">":
                inside = False
            elif char == " " and not inside:
                cut = index
        if cut == 0:  # no space at all: cut between tags
            cut = budget
            while "<" in line[:cut] and line.rfind("<", 0, cut) > line.rfind(">", 0, cut):
                cut = line.rfind("<", 0, cut)
        for match in _TAG.finditer(line[:cut]):
            if match.group(1):
                if open_tags and open_tags[-1][0] == match.group(2):
                    open_tags.pop()
            else:
                open_tags.append((match.group(2), match.group(0)))
        closing = "".join(f"</{name}>" for name, _ in reversed(open_tags))
        pieces.append(line[:cut] + closing)
        reopen = "".join(tag for _, tag in open_tags)
        line = line[cut:].lstrip(" ")
    pieces.append(reopen + line)
    return pieces


# --- answering ----------------------------------------------------------------------------
async def answer(
    update: Update,
    ctx: BotContext,
    text: str,
    keyboard: InlineKeyboardMarkup | None = None,
    *,
    edit: bool = False,
    alert: bool = False,
) -> Message | None:
    """Reply to whatever the user did.

    After a button tap: with `edit`, the tapped message is edited in place; without it, a short
    alert-free toast is shown when `alert` is False and the text goes out as a new message.
    """
    query = update.callback_query
    if query is not None:
        await acknowledge(update, text if alert else None, alert=alert)
        if alert:
            return None
        # A file, a photo or a message too old to reach has no text to edit into.
        if edit and isinstance(query.message, Message) and query.message.text is not None:
            if _same_content(query.message, text, keyboard):
                return query.message  # Telegram refuses an edit that changes nothing
            try:
                edited = await query.edit_message_text(text, reply_markup=keyboard)
            except BadRequest as error:
                reason = error.message.lower()
                if "not modified" in reason:
                    return None
                if not any(part in reason for part in UNEDITABLE):
                    raise
                # Too old to edit, deleted, or a file: the answer comes as a new message.
            else:
                return edited if isinstance(edited, Message) else None
    chat = update.effective_chat
    assert chat is not None
    return await ctx.bot.send_message(chat.id, text, reply_markup=keyboard)


def plain_text(html: str) -> str:
    """What Telegram shows of an HTML message: tags dropped, entities decoded, trimmed."""
    return unescape(_ANY_TAG.sub("", html)).strip()


_ANY_TAG = re.compile(r"<[^>]*>")


def _same_content(message: Message, text: str, keyboard: InlineKeyboardMarkup | None) -> bool:
    def buttons(markup: InlineKeyboardMarkup | None) -> object:
        return markup.to_dict()["inline_keyboard"] if markup and markup.inline_keyboard else []

    current = (
        message.reply_markup if isinstance(message.reply_markup, InlineKeyboardMarkup) else None
    )
    return message.text == plain_text(text) and buttons(current) == buttons(keyboard)


async def answer_long(
    update: Update, ctx: BotContext, text: str, keyboard: InlineKeyboardMarkup | None = None
) -> None:
    """A text that may pass Telegram's 4,096 characters, as several messages split between
    lines; the buttons ride on the last one."""
    parts = split_message(text)
    for index, part in enumerate(parts):
        await answer(update, ctx, part, keyboard if index == len(parts) - 1 else None)


async def acknowledge(update: Update, text: str | None = None, *, alert: bool = False) -> None:
    """Answer a callback query once; an old or already answered query is not an error."""
    query = update.callback_query
    if query is None:
        return
    try:
        await query.answer(text[:200] if text else None, show_alert=alert)
    except BadRequest as error:
        if not is_harmless(error):
            raise


def is_harmless(error: BadRequest) -> bool:
    message = error.message.lower()
    return any(part in message for part in HARMLESS_BAD_REQUESTS)


async def notify(ctx: BotContext, user: User, text: str, **kwargs: Any) -> bool:
    """Best effort: send to another user (a join, a nudge, a duplicate phone); one who blocked
    the bot is marked, and whatever goes wrong the actor's own action stands. Messages that
    must arrive go through the notice table instead (see `bot.screens.notices`)."""
    try:
        await ctx.bot.send_message(user.id, text, **kwargs)
    except Forbidden:
        async with ctx.runtime.uow() as uow:
            await uow.users.mark_blocked(user.id, True)
            await uow.commit()
        log.info("user %s blocked the bot; marked", user.id)
        return False
    except TelegramError as error:
        # "chat not found" (they never opened the bot), a timeout, a 5xx, a 429: the sender's
        # own action has succeeded; this message simply was not delivered.
        log.warning("could not notify %s: %s", user.id, error)
        return False
    return True


def translator_for(ctx: BotContext, user: User, timezone: str = "UTC") -> Translator:
    return ctx.runtime.i18n.translator(user.language, timezone)


async def run_rule(update: Update, ctx: BotContext, action: Callable[[], Awaitable[None]]) -> bool:
    """Run an action; a broken rule becomes a translated answer (and False). A replayed update
    (DuplicateUpdate: its writes were committed before) stops the whole update: it goes on to
    the error handler, which says nothing."""
    try:
        await action()
    except RuleError as error:
        # After a button tap the answer is a pop-up: the screen under it stays as it was.
        tapped = update.callback_query is not None
        await answer(update, ctx, problem_text(ctx.t, error), alert=tapped)
        return False
    except DuplicateTap:
        await acknowledge(update, problem_text(ctx.t, RuleError(Problem.ALREADY_DONE)))
        return False
    return True
