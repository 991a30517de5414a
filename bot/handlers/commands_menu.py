"""The command menu (setMyCommands): one per language for newcomers, and one per chat for team
members in their own language, with managers' commands only in managers' menus."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from bot.context import BotContext
from bot.domain import Language, Role
from bot.i18n import N_, I18n, Translator
from bot.storage.models import Member, User

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MenuEntry:
    command: str
    description: str
    for_newcomers: bool = False
    managers_only: bool = False


MENU: tuple[MenuEntry, ...] = (
    MenuEntry("today", N_("My day: who to contact")),
    MenuEntry("new", N_("Log a new client")),
    MenuEntry("clients", N_("My open deals")),
    MenuEntry("find", N_("Find a client or #deal")),
    MenuEntry("start", N_("Main menu"), for_newcomers=True),
    MenuEntry("team", N_("Your team and its people")),
    MenuEntry("digest", N_("Today's digest so far"), managers_only=True),
    MenuEntry("report", N_("Funnel and losses for a period")),
    MenuEntry("export", N_("Export deals to Excel"), managers_only=True),
    MenuEntry("settings", N_("Settings"), managers_only=False),
    MenuEntry("lang", N_("Language"), for_newcomers=True),
    MenuEntry("help", N_("What I can do"), for_newcomers=True),
    MenuEntry("cancel", N_("Cancel what you are doing"), for_newcomers=True),
)


def commands_for(t: Translator, role: Role | None) -> list[BotCommand]:
    """The menu of a newcomer (`role=None`), a salesperson or a manager."""
    entries = [
        entry
        for entry in MENU
        if (
            entry.for_newcomers
            if role is None
            else not entry.managers_only or role == Role.MANAGER
        )
    ]
    return [BotCommand(entry.command, t._(entry.description)) for entry in entries]


async def set_default_menus(bot: Bot, i18n: I18n) -> None:
    """Newcomers' menu in each language (English also as the fallback without language)."""
    for language in Language:
        commands = commands_for(i18n.translator(language), None)
        code = None if language == Language.EN else language.value
        await bot.set_my_commands(commands, language_code=code)


async def sync_for(ctx: BotContext, user: User, member: Member | None) -> None:
    """Set this person's own menu after they join, change role or language, or lose access."""
    t = ctx.runtime.i18n.translator(user.language)
    role = Role(member.role) if member is not None and member.active else None
    try:
        await ctx.bot.set_my_commands(commands_for(t, role), scope=BotCommandScopeChat(user.id))
    except TelegramError as error:
        log.warning("could not set the command menu for %s: %s", user.id, error)
