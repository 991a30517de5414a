"""Inline keyboards and the callback-data scheme.

Callback data is `<prefix>:<action>[:<arg>...]`, ASCII only, never user text, always under
Telegram's 64-byte limit (checked here, so a long id can never produce a rejected message).
The prefix names the screen; a pending text step whose flow has the same prefix survives a tap
of that screen's buttons, any other tap leaves the flow.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from urllib.parse import quote, urlencode

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.domain import Language
from bot.i18n import LANGUAGE_NAMES

CALLBACK_DATA_MAX_BYTES = 64
# An id or a number in callback data: ASCII digits only (`\\d` and `str.isdigit` also take
# "²" or "٣"), and at most 18 of them, so it always fits a 64-bit integer.
ID = "[0-9]{1,18}"
_ID = re.compile(ID)

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


def parse_id(raw: str | None) -> int | None:
    """An id from callback data or typed text, or None for anything else (forged, stale)."""
    if raw is None or not _ID.fullmatch(raw):
        return None
    return int(raw)


def share_button(text: str, url: str, message: str) -> InlineKeyboardButton:
    """A button that opens Telegram's "share" with `url` and a message (to send an invite)."""
    query = urlencode({"url": url, "text": message}, quote_via=quote)
    return InlineKeyboardButton(text, url=f"https://t.me/share/url?{query}")


def button(text: str, callback_data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=callback_data)


# How wide a label can be when buttons share a row, for a phone to show it whole: 20
# characters beside one other button, 13 when three or more share the row.
SHARED_ROW_WIDTH = {2: 20}
CROWDED_ROW_WIDTH = 13
_INVISIBLE = frozenset("\ufe0f\u200d")


def label_width(text: str) -> int:
    """Characters a person sees (variation selectors and joiners take no room)."""
    return sum(1 for char in text if char not in _INVISIBLE)


def row_width(per_row: int) -> int | None:
    """The widest label a row of `per_row` buttons holds (None: one button, any width)."""
    if per_row <= 1:
        return None
    return SHARED_ROW_WIDTH.get(per_row, CROWDED_ROW_WIDTH)


def fit(text: str, width: int | None) -> str:
    """A label cut to `width` visible characters, ending in "…" when cut."""
    if width is None or label_width(text) <= width:
        return text
    kept, seen = [], 0
    for char in text:
        visible = char not in _INVISIBLE
        if visible and seen >= width - 1:
            break
        kept.append(char)
        seen += visible
    return "".join(kept).rstrip() + "…"


def named(prefix: str, name: str, suffix: str = "", width: int | None = 20) -> str:
    """A label around a name (a client's, a person's) that fits `width`: the name is cut, never
    the number or icon around it."""
    if width is None:
        return f"{prefix}{name}{suffix}"
    room = max(width - label_width(prefix) - label_width(suffix), 4)
    return f"{prefix}{fit(name, room)}{suffix}"


def rows(
    buttons: Iterable[InlineKeyboardButton], per_row: int
) -> list[list[InlineKeyboardButton]]:
    """Buttons laid out `per_row` to a row. Fixed labels are translated to fit their row (a test
    checks every language); labels holding names are cut with `fit` where they are built."""
    items = list(buttons)
    return [items[i : i + per_row] for i in range(0, len(items), per_row)]


def markup(*button_rows: Sequence[InlineKeyboardButton]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([list(row) for row in button_rows if row])


def language_rows(action: str = "set") -> list[list[InlineKeyboardButton]]:
    return rows(
        (button(LANGUAGE_NAMES[lang], data(LANG, action, lang.value)) for lang in Language), 2
    )
