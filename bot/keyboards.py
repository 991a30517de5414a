"""Inline keyboards and the callback-data scheme.

Callback data is `<prefix>:<action>[:<arg>...]`, ASCII only, never user text, always under
Telegram's 64-byte limit (checked here, so a long id can never produce a rejected message).
The prefix names the screen; a pending text step whose flow has the same prefix survives a tap
of that screen's buttons, any other tap leaves the flow.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain import Language
from bot.i18n import LANGUAGE_NAMES

CALLBACK_DATA_MAX_BYTES = 64

# Prefixes (one per screen).
LANG = "lang"
ONBOARDING = "ob"
JOIN = "jn"
TEAM = "tm"
SETTINGS = "st"


def data(prefix: str, action: str, *args: object) -> str:
    value = ":".join([prefix, action, *(str(arg) for arg in args)])
    if len(value.encode()) > CALLBACK_DATA_MAX_BYTES:
        raise ValueError(f"callback data over {CALLBACK_DATA_MAX_BYTES} bytes: {value!r}")
    return value


def pattern(prefix: str, action: str | None = None) -> str:
    """A regex anchored on the prefix (and action), for CallbackQueryHandler."""
    if action is None:
        return rf"^{prefix}:"
    return rf"^{prefix}:{action}(:|$)"


def args(callback_data: str | None, count: int = 0) -> list[str]:
    """The arguments after `<prefix>:<action>`, padded with "" to at least `count` items."""
    found = (callback_data or "").split(":")[2:]
    return found + [""] * (count - len(found))


def button(text: str, callback_data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=callback_data)


def rows(
    buttons: Iterable[InlineKeyboardButton], per_row: int
) -> list[list[InlineKeyboardButton]]:
    items = list(buttons)
    return [items[i : i + per_row] for i in range(0, len(items), per_row)]


def markup(*button_rows: Sequence[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([list(row) for row in button_rows if row])


def language_rows(action: str = "set") -> list[list[InlineKeyboardButton]]:
    return rows(
        (button(LANGUAGE_NAMES[lang], data(LANG, action, lang.value)) for lang in Language), 2
    )
