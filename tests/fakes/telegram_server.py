"""A fake Telegram Bot API server for end-to-end tests, plus simulated users and groups.

The real python-telegram-bot ``Application`` talks to it over HTTP on 127.0.0.1. It answers like
Telegram does, errors included (see ``/work/shared/TELEGRAM.md``): formatted text is parsed with
Telegram's rules, limits are enforced, flood control hands out 429s, blocked users give 403s.

Usage::

    fake = FakeTelegram(token="123456:TEST", bot_username="crm_test_bot")
    await fake.start()
    app = ApplicationBuilder().token(fake.token).base_url(fake.base_url)
          .base_file_url(fake.base_file_url).build()
    alice = fake.user(1001, "Alice", language_code="pl")
    await alice.send("/start")
    msg = await alice.expect(contains="Welcome")
    await alice.tap("Create a team")
    ...
    await fake.stop()

Webhooks: once the bot calls ``setWebhook``, updates are POSTed to the webhook instead of being
handed out by ``getUpdates`` (which then answers 409). Tests run the bot's endpoint on plain http
on loopback, so the registered public URL is mapped to a local one::

    fake.route_webhook("https://crm.example.com/telegram", "http://127.0.0.1:8080/telegram")
    await alice.send("/start")
    await fake.wait_delivered()
    fake.webhook_deliveries  # every attempt: update_id, chat_id, status, error, times

A non-2xx answer, a timeout or a refused connection leaves the update pending; it is retried
after ``webhook_retry_delay`` seconds, doubling up to ``webhook_max_retry_delay``, and stays ahead
of its chat's later updates (``wait_webhook_attempts`` waits for attempts, whatever the outcome).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import ipaddress
import json
import math
import re
import secrets
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
from aiohttp import web

from .telegram_html import EntityParseError, ParsedText, parse_formatted, strip_whitespace

__all__ = [
    "BotMessage",
    "Button",
    "CallbackQueryRecord",
    "FakeChat",
    "FakeGroup",
    "FakeTelegram",
    "FakeUser",
    "FloodError",
    "SentDocument",
    "UploadedFile",
    "WebhookDelivery",
    "label_width",
]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_BUTTONS = 100
MAX_BUTTONS_PER_ROW = 8
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_DOCUMENT_BYTES = 50 * 1024 * 1024
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
MAX_POLL_TIMEOUT = 50.0
# Widest inline button label a phone shows uncut when 2 (or 3 and more) share a row; counted by
# ``label_width``. Telegram accepts wider ones: ``FakeTelegram.check_button_widths`` records them.
ROW_OF_TWO_MAX_WIDTH = 20
ROW_OF_THREE_MAX_WIDTH = 13

BLOCKED = "Forbidden: bot was blocked by the user"
DEACTIVATED = "Forbidden: user is deactivated"
KICKED = "Forbidden: bot was kicked from the group chat"
CHAT_NOT_FOUND = "Bad Request: chat not found"
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid"
CONFLICT_POLLING = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is "
    "running"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
    "the webhook first"
)
CONFLICT_SET_WEBHOOK = "Conflict: terminated by setWebhook request"
# setWebhook refusals, as tdlib/telegram-bot-api words them (Client.cpp, WebhookActor.cpp).
WEBHOOK_INVALID_URL = "Bad Request: invalid webhook URL specified"
WEBHOOK_HTTPS_REQUIRED = "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
WEBHOOK_BAD_PORT = (
    "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
)
SECRET_TOKEN_TOO_LONG = "Bad Request: secret token is too long"
SECRET_TOKEN_UNALLOWED = "Bad Request: secret token contains unallowed characters"
SECRET_TOKEN_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_PORTS = frozenset({80, 88, 443, 8443})
DEFAULT_WEBHOOK_CONNECTIONS = 40
MAX_WEBHOOK_CONNECTIONS = 100
MAX_SECRET_TOKEN_LENGTH = 256
MAX_WEBHOOK_RETRY_AFTER = 3600.0
TEXT_BUTTONS_UNALLOWED = (
    "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline "
    "keyboard"
)

# Parameters that arrive JSON-encoded inside a form field.
_JSON_FIELDS = frozenset(
    {
        "reply_markup", "entities", "caption_entities", "link_preview_options", "commands",
        "scope", "menu_button", "allowed_updates", "reply_parameters", "media", "results",
        "permissions", "explanation_entities", "options", "question_entities", "reaction",
        "message_ids",
    }
)  # fmt: skip
_CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice",
        "upload_voice", "upload_document", "choose_sticker", "find_location",
        "record_video_note", "upload_video_note",
    }
)  # fmt: skip
_DEFAULT_UPDATE_TYPES_EXCLUDED = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"}
)
_OTHER_INLINE_BUTTON_KINDS = (
    "login_url", "switch_inline_query", "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat", "web_app", "pay", "copy_text", "callback_game",
)  # fmt: skip
# Updates whose webhook queue is their chat (Telegram delivers one at a time per queue).
_MESSAGE_UPDATE_KINDS = frozenset(
    {
        "message", "edited_message", "channel_post", "edited_channel_post", "business_message",
        "edited_business_message",
    }
)  # fmt: skip
# Methods the bot may not call in its answer to a webhook request (beside every get*).
_NOT_IN_WEBHOOK_ANSWER = frozenset({"deletewebhook", "setwebhook", "close", "logout"})
_SECRET_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]*$")
_COMMAND_RE = re.compile(r"^[a-z0-9_]{1,32}$")
_URL_SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*):")
_LEADING_COMMAND_RE = re.compile(r"^/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{3,32})?")
_IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")


# ------------------------------------------------------------------------------------------------
# Records


@dataclass(frozen=True)
class Button:
    """An inline keyboard button as the bot sent it."""

    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class SentDocument:
    """A document the bot sent."""

    data: bytes
    filename: str
    caption: str | None
    mime_type: str | None = None


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request (how uploads appear in ``FakeTelegram.requests``)."""

    filename: str
    content_type: str
    data: bytes

    def __repr__(self) -> str:
        return f"UploadedFile({self.filename!r}, {self.content_type!r}, {len(self.data)} bytes)"


@dataclass
class BotMessage:
    """A message the bot sent to a chat, with its edits applied.

    ``text`` is the plain text (after parsing ``parse_mode``), or the plain caption for photos and
    documents; ``html`` is the raw text/caption the bot sent. Objects returned by ``expect`` are
    snapshots taken at the event; ``event`` says whether that event was a "new" message or an
    "edit".
    """

    message_id: int
    chat_id: int
    date: int
    text: str = ""
    html: str = ""
    parse_mode: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    buttons: list[list[Button]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    reply_keyboard: list[list[str]] | None = None
    photo: bytes | None = None
    document: SentDocument | None = None
    caption: str | None = None
    reply_to_message_id: int | None = None
    edit_count: int = 0
    edit_date: int | None = None
    deleted: bool = False
    event: Literal["new", "edit"] = "new"
    file_id: str | None = None
    file_unique_id: str | None = None
    photo_size: tuple[int, int] = (0, 0)

    @property
    def button_texts(self) -> list[str]:
        """The texts of all inline buttons, row by row."""
        return [button.text for row in self.buttons for button in row]

    def find_button(self, text: str) -> Button | None:
        """The inline button whose text equals ``text``, else the first that contains it."""
        all_buttons = [button for row in self.buttons for button in row]
        for button in all_buttons:
            if button.text == text:
                return button
        for button in all_buttons:
            if text in button.text:
                return button
        return None

    def describe(self) -> str:
        """One line for assertion messages."""
        kind = "photo " if self.photo is not None else "document " if self.document else ""
        buttons = f" buttons={self.button_texts}" if self.buttons else ""
        keyboard = f" keyboard={self.reply_keyboard}" if self.reply_keyboard else ""
        return f"[{self.event} #{self.message_id}] {kind}{self.text!r}{buttons}{keyboard}"


@dataclass
class CallbackQueryRecord:
    """A callback query a simulated user produced by tapping a button."""

    id: str
    user_id: int
    chat_id: int
    message_id: int
    data: str
    created_at: float
    answered: bool = False
    answer_text: str | None = None
    show_alert: bool = False


@dataclass(frozen=True)
class FloodError:
    """A 429 answer the fake gave."""

    method: str
    chat_id: int | None
    retry_after: int
    scope: Literal["chat", "group", "global"]


@dataclass
class WebhookDelivery:
    """One POST of an update to the webhook; a retry is a new record.

    ``status`` is the HTTP status of the answer (None without one: timeout, connection refused or
    closed, webhook deleted meanwhile); ``error`` is what getWebhookInfo's last_error_message
    then says (None for a 2xx). Times are ``time.monotonic()``.
    """

    update_id: int
    chat_id: int | None
    url: str
    started: float
    finished: float | None = None
    status: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """The webhook answered 2xx: the update counts as delivered."""
        return self.status is not None and 200 <= self.status <= 299


@dataclass
class _Webhook:
    """The webhook settings of a successful setWebhook."""

    url: str
    secret_token: str
    max_connections: int
    ip_address: str
    has_certificate: bool


class _Poll:
    """An in-flight getUpdates; ``conflict`` is set when another request terminates it."""

    __slots__ = ("conflict",)

    def __init__(self) -> None:
        self.conflict: str | None = None


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    data: bytes
    file_path: str
    filename: str | None = None
    mime_type: str | None = None


@dataclass
class _Failure:
    status: int
    description: str
    retry_after: int | None
    times: int


class ApiError(Exception):
    """Raised inside handlers; becomes a Telegram-shaped error answer."""

    def __init__(
        self, code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def _bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


class _Signal:
    """Wakes every waiter on ``fire()``; usable from sync code (no lock needed)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, timeout: float) -> None:  # noqa: ASYNC109
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)


class TokenBucket:
    """A token bucket: ``burst`` tokens, refilled at ``rate`` tokens per second."""

    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.updated = now

    def _refill(self, now: float) -> None:
        if now > self.updated:
            self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 if one is available now)."""
        self._refill(now)
        if self.tokens >= 1:
            return 0.0
        return (1 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1


# ------------------------------------------------------------------------------------------------
# Request parameters


class _Params:
    """Typed access to a request's parameters (form fields, JSON body or query string)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def string(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        if isinstance(value, UploadedFile):
            raise _bad(f"{name} must be a string")
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value) if not isinstance(value, (dict, list)) else json.dumps(value)

    def integer(self, name: str, required: bool = False) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise _bad(f"{name} is empty")
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise _bad(f"invalid {name} specified") from None

    def number(self, name: str) -> float | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise _bad(f"invalid {name} specified") from None

    def flag(self, name: str) -> bool:
        value = self.values.get(name)
        if isinstance(value, bool):
            return value
        if value is None:
            return False
        return str(value).strip().lower() in ("true", "1")

    def json(self, name: str) -> Any:
        value = self.values.get(name)
        if isinstance(value, str):
            if value == "":
                return None
            try:
                return json.loads(value)
            except ValueError:
                if name == "reply_markup":
                    raise _bad("can't parse reply keyboard markup JSON object") from None
                raise _bad(f"can't parse {name} JSON object") from None
        return value


def _decode_json_fields(values: dict[str, Any]) -> dict[str, Any]:
    """A copy of the parameters with JSON-encoded fields decoded where possible (for the log)."""
    decoded: dict[str, Any] = {}
    for key, value in values.items():
        if key in _JSON_FIELDS and isinstance(value, str):
            try:
                decoded[key] = json.loads(value)
                continue
            except ValueError:
                pass
        decoded[key] = value
    return decoded


# ------------------------------------------------------------------------------------------------
# Chats and users


class FakeChat:
    """A chat as the test sees it: the bot's messages in it and the events they produced."""

    def __init__(self, fake: FakeTelegram, chat_id: int) -> None:
        self.fake = fake
        self.id = chat_id
        self.known = False
        self._messages: dict[int, BotMessage] = {}
        self._user_messages: dict[int, dict[str, Any]] = {}
        self._events: list[BotMessage] = []
        self._cursor = 0
        self._signal = _Signal()
        self._next_message_id = 1
        self.chat_actions: list[str] = []
        self.menu_button: dict[str, Any] | None = None
        self.reply_keyboard: list[list[str]] | None = None
        """The reply keyboard currently shown (set by a keyboard, cleared by remove_keyboard)."""

    # --- what the API serializes -----------------------------------------------------------

    def to_api(self) -> dict[str, Any]:
        raise NotImplementedError

    def to_full_info(self) -> dict[str, Any]:
        info = self.to_api()
        info.update(
            {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": True,
                    "limited_gifts": True,
                    "unique_gifts": True,
                    "premium_subscription": True,
                    "gifts_from_channels": True,
                },
            }
        )
        return info

    def _take_message_id(self) -> int:
        message_id = self._next_message_id
        self._next_message_id += 1
        return message_id

    def _has_message(self, message_id: int) -> bool:
        return message_id in self._messages or message_id in self._user_messages

    def _record_event(self, message: BotMessage, event: Literal["new", "edit"]) -> None:
        snapshot = copy.deepcopy(message)
        snapshot.event = event
        self._events.append(snapshot)
        self._signal.fire()

    # --- what tests read -------------------------------------------------------------------

    @property
    def messages(self) -> list[BotMessage]:
        """The bot's current (not deleted) messages in this chat, oldest first, edits applied."""
        return [m for m in self._messages.values() if not m.deleted]

    @property
    def last(self) -> BotMessage:
        """The bot's most recent message in this chat."""
        messages = self.messages
        if not messages:
            raise AssertionError(f"{self._name()} has no bot messages")
        return messages[-1]

    def message(self, message_id: int) -> BotMessage:
        """The current state of one bot message."""
        try:
            return self._messages[message_id]
        except KeyError:
            raise AssertionError(f"{self._name()} has no bot message #{message_id}") from None

    @property
    def events(self) -> list[BotMessage]:
        """Every output event in this chat (snapshots), including ones already consumed."""
        return list(self._events)

    async def expect(
        self,
        contains: str | None = None,
        *,
        predicate: Callable[[BotMessage], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> BotMessage:
        """Wait for the next bot output (new message or edit) matching; consume up to it.

        Matches when the plain text contains ``contains`` and ``predicate`` (if given) is true.
        Returns the message as it was right after that event. On timeout raises AssertionError
        listing what arrived, and leaves the cursor where it was.
        """

        def matches(message: BotMessage) -> bool:
            if contains is not None and contains not in message.text:
                return False
            return predicate is None or predicate(message)

        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        position = self._cursor
        while True:
            while position < len(self._events):
                event = self._events[position]
                position += 1
                if matches(event):
                    self._cursor = position
                    return event
            remaining = deadline - loop.time()
            if remaining <= 0:
                wanted = []
                if contains is not None:
                    wanted.append(f"containing {contains!r}")
                if predicate is not None:
                    wanted.append(f"matching {getattr(predicate, '__name__', 'predicate')}")
                raise AssertionError(
                    f"{self._name()}: no bot message {' and '.join(wanted) or 'at all'} within "
                    f"{timeout}s; received since the last expect:\n"
                    + self._describe_events(self._events[self._cursor :])
                )
            await self._signal.wait(remaining)

    async def expect_no_message(self, within: float = 0.5) -> None:
        """Assert that no new bot output arrives in this chat within ``within`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while len(self._events) == self._cursor:
            remaining = deadline - loop.time()
            if remaining <= 0:
                return
            await self._signal.wait(remaining)
        raise AssertionError(
            f"{self._name()}: expected no bot message, got:\n"
            + self._describe_events(self._events[self._cursor :])
        )

    def skip_all(self) -> None:
        """Consume every event received so far."""
        self._cursor = len(self._events)

    @staticmethod
    def _describe_events(events: list[BotMessage]) -> str:
        if not events:
            return "  (nothing)"
        return "\n".join(f"  - {event.describe()}" for event in events)

    def _name(self) -> str:
        return f"chat {self.id}"

    # --- taps ------------------------------------------------------------------------------

    def _find_tap_target(
        self, button_text: str, message: BotMessage | int | None
    ) -> tuple[BotMessage, Button]:
        if message is not None:
            message_id = message if isinstance(message, int) else message.message_id
            target = self.message(message_id)
            if target.deleted:
                raise AssertionError(f"{self._name()}: message #{message_id} was deleted")
            button = target.find_button(button_text)
            if button is None:
                raise AssertionError(
                    f"{self._name()}: message #{message_id} has no button {button_text!r}; "
                    f"buttons: {target.button_texts}"
                )
            return target, button
        for candidate in reversed(self.messages):
            button = candidate.find_button(button_text)
            if button is not None:
                return candidate, button
        listing = "\n".join(
            f"  - #{m.message_id} {m.text[:60]!r}: {m.button_texts}"
            for m in self.messages
            if m.buttons
        )
        raise AssertionError(
            f"{self._name()}: no bot message has a button {button_text!r}; "
            f"messages with buttons:\n{listing or '  (none)'}"
        )

    async def _tap(
        self, user: FakeUser, button_text: str, message: BotMessage | int | None
    ) -> str:
        target, button = self._find_tap_target(button_text, message)
        if button.callback_data is None:
            raise AssertionError(f"button {button.text!r} is a URL button ({button.url})")
        return await self.fake._callback_query(user, self, target, button.callback_data)

    async def _forge_tap(self, user: FakeUser, data: str, message_id: int | None) -> str:
        target = self.last if message_id is None else self.message(message_id)
        return await self.fake._callback_query(user, self, target, data)


class FakeUser(FakeChat):
    """A simulated Telegram user; also their private chat with the bot (chat id = user id)."""

    def __init__(
        self,
        fake: FakeTelegram,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = None,
    ) -> None:
        super().__init__(fake, user_id)
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.blocked = False
        self.deactivated = False
        self.answers: list[tuple[str | None, bool]] = []
        """Callback query answers this user received: (text, show_alert)."""
        self._answer_cursor = 0
        self._answer_signal = _Signal()

    def _name(self) -> str:
        return f"user {self.first_name} ({self.id})"

    def to_user(self) -> dict[str, Any]:
        """The Telegram ``User`` object."""
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    def to_api(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        return chat

    # --- actions ---------------------------------------------------------------------------

    async def send(self, text: str, *, reply_to: int | None = None) -> int:
        """Send a private text message to the bot; returns its message_id."""
        return await self.fake._user_message(self, self, {"text": text}, reply_to=reply_to)

    async def send_photo(self, data: bytes, *, caption: str | None = None) -> int:
        """Send a photo to the bot (Telegram hands the bot several sizes; here one)."""
        stored = self.fake._store_file(data, "photos", "photo.jpg", "image/jpeg")
        size = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "width": 640,
            "height": 480,
            "file_size": len(data),
        }
        content: dict[str, Any] = {"photo": [size]}
        if caption:
            content["caption"] = caption
        return await self.fake._user_message(self, self, content)

    async def edit(self, message_id: int, text: str) -> int:
        """Edit one of this user's own messages: Telegram sends an `edited_message` update
        (same message id, the new text, an edit_date). Returns the update id."""
        original = self._user_messages.get(message_id)
        if original is None:
            raise AssertionError(f"{self._name()}: no message {message_id} of theirs to edit")
        edited = {**original, "text": text, "edit_date": int(time.time())}
        match = _LEADING_COMMAND_RE.match(text)
        edited.pop("entities", None)
        if match:
            edited["entities"] = [
                {"type": "bot_command", "offset": 0, "length": len(match.group(0))}
            ]
        self._user_messages[message_id] = edited
        return self.fake.queue_update({"edited_message": edited})

    async def send_location(
        self, latitude: float, longitude: float, *, live_period: int | None = None
    ) -> int:
        """Send a location (a live one with `live_period`); returns its message_id."""
        location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
        if live_period is not None:
            location["live_period"] = live_period
        return await self.fake._user_message(self, self, {"location": location})

    async def move_live_location(self, message_id: int, latitude: float, longitude: float) -> int:
        """A live location moves: an `edited_message` with the new position."""
        original = self._user_messages.get(message_id)
        if original is None or "location" not in original:
            raise AssertionError(f"{self._name()}: no location message {message_id}")
        location = {**original["location"], "latitude": latitude, "longitude": longitude}
        edited = {**original, "location": location, "edit_date": int(time.time())}
        self._user_messages[message_id] = edited
        return self.fake.queue_update({"edited_message": edited})

    async def share_contact(
        self,
        phone_number: str,
        first_name: str,
        last_name: str | None = None,
        *,
        user_id: int | Literal["self"] | None = "self",
    ) -> int:
        """Share a contact (by default the user's own, as a request_contact button does)."""
        contact: dict[str, Any] = {"phone_number": phone_number, "first_name": first_name}
        if last_name:
            contact["last_name"] = last_name
        contact_user_id = self.id if user_id == "self" else user_id
        if contact_user_id is not None:
            contact["user_id"] = contact_user_id
        return await self.fake._user_message(self, self, {"contact": contact})

    async def send_document(
        self,
        data: bytes,
        filename: str,
        mime_type: str = "application/octet-stream",
        *,
        caption: str | None = None,
    ) -> int:
        """Send a document; the bot can getFile and download it."""
        stored = self.fake._store_file(data, "documents", filename, mime_type)
        document = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": filename,
            "mime_type": mime_type,
            "file_size": len(data),
        }
        content: dict[str, Any] = {"document": document}
        if caption:
            content["caption"] = caption
        return await self.fake._user_message(self, self, content)

    async def tap(self, button_text: str, *, message: BotMessage | int | None = None) -> str:
        """Tap an inline button in the private chat; returns the callback query id.

        Without ``message`` the most recent bot message having a button whose text contains
        ``button_text`` is used (an exact text match wins within that message).
        """
        return await self._tap(self, button_text, message)

    async def forge_tap(self, data: str, message_id: int | None = None) -> str:
        """Send a callback query with arbitrary data on a message (default: the last one)."""
        return await self._forge_tap(self, data, message_id)

    def block(self) -> None:
        """The user blocks the bot: sends answer 403, a my_chat_member update is queued."""
        if not self.blocked:
            self.blocked = True
            self.fake._queue_my_chat_member(self, self, "member", "kicked")

    def unblock(self) -> None:
        """The user unblocks the bot (my_chat_member kicked → member)."""
        if self.blocked:
            self.blocked = False
            self.fake._queue_my_chat_member(self, self, "kicked", "member")

    def deactivate(self) -> None:
        """The user deletes their account: sends answer 403 "user is deactivated"."""
        self.deactivated = True

    async def expect_answer(
        self,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> tuple[str | None, bool]:
        """Wait for the next callback query answer to this user: (text, show_alert)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._answer_cursor >= len(self.answers):
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"{self._name()}: no callback query answer within {timeout}s "
                    f"(answers so far: {self.answers})"
                )
            await self._answer_signal.wait(remaining)
        answer = self.answers[self._answer_cursor]
        self._answer_cursor += 1
        return answer


class FakeGroup(FakeChat):
    """A group (or supergroup, for ids starting with -100) the bot is a member of."""

    def __init__(
        self, fake: FakeTelegram, chat_id: int, title: str, *, username: str | None = None
    ) -> None:
        super().__init__(fake, chat_id)
        self.title = title
        self.username = username
        self.known = True
        self.bot_removed = False
        self.type = "supergroup" if str(chat_id).startswith("-100") else "group"

    def _name(self) -> str:
        return f"group {self.title!r} ({self.id})"

    def to_api(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "type": self.type, "title": self.title}
        if self.username:
            chat["username"] = self.username
        return chat

    async def send(self, user: FakeUser, text: str, *, reply_to: int | None = None) -> int:
        """``user`` writes ``text`` in the group; returns the message_id."""
        return await self.fake._user_message(user, self, {"text": text}, reply_to=reply_to)

    async def tap(
        self, user: FakeUser, button_text: str, *, message: BotMessage | int | None = None
    ) -> str:
        """``user`` taps an inline button on a bot message in this group."""
        return await self._tap(user, button_text, message)

    async def forge_tap(self, user: FakeUser, data: str, message_id: int | None = None) -> str:
        return await self._forge_tap(user, data, message_id)

    def remove_bot(self, by: FakeUser) -> None:
        """``by`` removes the bot from the group: sends answer 403, my_chat_member queued."""
        if not self.bot_removed:
            self.bot_removed = True
            self.fake._queue_my_chat_member(by, self, "member", "left")

    def add_bot(self, by: FakeUser) -> None:
        """``by`` (re-)adds the bot to the group; queues my_chat_member left → member."""
        self.bot_removed = False
        self.fake._queue_my_chat_member(by, self, "left", "member")


# ------------------------------------------------------------------------------------------------
# The server


Handler = Callable[[_Params], Awaitable[Any]]


class FakeTelegram:
    """The fake Bot API server. See the module docstring."""

    def __init__(
        self,
        token: str = "123456:TEST",
        bot_username: str = "crm_test_bot",
        *,
        bot_first_name: str = "CRM Test Bot",
        flood_limits: bool = True,
        chat_rate: float = 1.0,
        chat_burst: int = 3,
        global_rate: float = 30.0,
        global_burst: int = 30,
        group_per_minute: int = 20,
        callback_query_max_age: float = 15.0,
        detect_conflicts: bool = False,
        clock: Callable[[], float] = time.monotonic,
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_timeout: float = 10.0,
        webhook_retry_delay: float = 1.0,
        webhook_max_retry_delay: float = 30.0,
        webhook_queues: Literal["telegram", "chat"] = "telegram",
        set_webhook_min_interval: float = 0.0,
    ) -> None:
        """See the attributes of the same names for the webhook arguments."""
        self.token = token
        self.bot_username = bot_username
        self.bot_first_name = bot_first_name
        self.bot_id = int(token.split(":", 1)[0])
        self.flood_limits = flood_limits
        self.chat_rate = chat_rate
        self.chat_burst = chat_burst
        self.global_rate = global_rate
        self.global_burst = global_burst
        self.group_per_minute = group_per_minute
        self.callback_query_max_age = callback_query_max_age
        self.detect_conflicts = detect_conflicts
        self.clock = clock
        self._host = host
        self._port = port

        self.requests: list[tuple[str, dict[str, Any]]] = []
        """Every API call in order: (method as sent, parameters with JSON fields decoded)."""
        self.accepted: list[tuple[float, int]] = []
        """Every new message the bot sent that was accepted: (the fake's clock, chat id)."""
        self.flood_errors: list[FloodError] = []
        self.errors: list[tuple[str, int, str]] = []
        """Every error answer given: (method, error_code, description), exact Telegram text."""
        self.callback_queries: dict[str, CallbackQueryRecord] = {}
        self.allowed_updates: list[str] | None = None
        """The update types asked for by getUpdates/setWebhook (None: Telegram's default)."""
        self.check_button_widths = False
        """Opt-in: record in ``wide_buttons`` every inline button sent or edited in whose label
        is wider (``label_width``) than a phone shows uncut in its row: over
        ROW_OF_TWO_MAX_WIDTH with one other button, over ROW_OF_THREE_MAX_WIDTH with two or
        more. The request is still accepted, as Telegram does."""
        self.wide_buttons: list[tuple[str, int, str]] = []
        """(label, buttons in its row, the chat's language code or else its id), each once."""

        self.webhook_timeout = webhook_timeout
        """Seconds the webhook has to answer a POST; then "Read timeout expired", retried."""
        self.webhook_retry_delay = webhook_retry_delay
        """Seconds before the first retry of an update the webhook did not take; doubles."""
        self.webhook_max_retry_delay = webhook_max_retry_delay
        """The cap of the doubling retry delay (a Retry-After header in the answer wins)."""
        self.webhook_queues: Literal["telegram", "chat"] = webhook_queues
        """How updates are queued for one-at-a-time delivery. "telegram", as the Bot API server
        does: a chat's messages and edits form one queue, a user's callback queries another, a
        chat's my_chat_member updates a third, other updates are not ordered. "chat": every
        update of a chat (callback queries by their message's chat) in one queue."""
        self.set_webhook_min_interval = set_webhook_min_interval
        """If > 0, a setWebhook with a URL sooner than this after the previous one answers 429
        (Telegram allows one per second); 0 turns the limit off."""
        self.webhook_deliveries: list[WebhookDelivery] = []
        """Every POST to the webhook (retries included), in the order they started."""
        self.webhook_ok_counts: dict[int, int] = {}
        """update_id -> how many POSTs of it the webhook answered with a 2xx."""
        self.webhook_max_in_flight = 0
        """The most webhook POSTs that were in flight at once."""

        self._users: dict[int, FakeUser] = {}
        self._groups: dict[int, FakeGroup] = {}
        self._commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self._default_menu_button: dict[str, Any] = {"type": "default"}
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._updates_signal = _Signal()
        self._failures: dict[str, list[_Failure]] = {}
        self._chat_buckets: dict[int, TokenBucket] = {}
        self._group_buckets: dict[int, TokenBucket] = {}
        self._global_bucket: TokenBucket | None = None
        self._active_poll: _Poll | None = None  # the newest getUpdates (detect_conflicts)
        self._polls: set[_Poll] = set()  # every in-flight getUpdates
        self._closing = False
        self._webhook: _Webhook | None = None
        self._webhook_routes: dict[str, str] = {}
        self._webhook_error: tuple[int, str] | None = None  # (unix date, message)
        self._webhook_task: asyncio.Task[None] | None = None
        self._in_flight: dict[int, asyncio.Task[None]] = {}  # update_id -> its POST
        self._retry_at: dict[int, float] = {}  # update_id -> loop time of its next attempt
        self._fail_counts: dict[int, int] = {}
        self._webhook_signal = _Signal()  # something for the dispatcher to look at
        self._delivered_signal = _Signal()  # a POST finished or the queue was cleared
        self._webhook_session: aiohttp.ClientSession | None = None
        self._next_set_webhook_time = 0.0
        self._runner: web.AppRunner | None = None
        self._base = ""
        self._methods: dict[str, Handler] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "deletewebhook": self._delete_webhook,
            "setwebhook": self._set_webhook,
            "getwebhookinfo": self._get_webhook_info,
            "logout": self._ok,
            "close": self._ok,
            "sendmessage": self._send_message,
            "sendphoto": self._send_photo,
            "senddocument": self._send_document,
            "editmessagetext": self._edit_message_text,
            "editmessagecaption": self._edit_message_caption,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "answercallbackquery": self._answer_callback_query,
            "sendchataction": self._send_chat_action,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "setchatmenubutton": self._set_chat_menu_button,
            "getchatmenubutton": self._get_chat_menu_button,
            "getchat": self._get_chat,
            "getfile": self._get_file,
        }

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        """Start serving on a free port of 127.0.0.1."""
        app = web.Application(client_max_size=MAX_DOCUMENT_BYTES + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        port = self._runner.addresses[0][1]
        self._base = f"http://{self._host}:{port}"
        self._closing = False
        if self._webhook is not None:
            self._start_webhook(self._webhook)

    async def stop(self) -> None:
        """Release long polls, stop webhook deliveries (the webhook stays set) and the server."""
        self._closing = True
        self._updates_signal.fire()
        await self._stop_webhook_tasks()
        if self._webhook_session is not None:
            await self._webhook_session.close()
            self._webhook_session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """Give to PTB as ``base_url`` (the token is appended by PTB)."""
        return f"{self._base}/bot"

    @property
    def base_file_url(self) -> str:
        """Give to PTB as ``base_file_url``."""
        return f"{self._base}/file/bot"

    # --- test API --------------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        started: bool = False,
    ) -> FakeUser:
        """A simulated user (the same object for the same id).

        The bot may write to the user only after the user wrote to it, or with ``started=True``
        (e.g. for users seeded into the database as having started the bot earlier).
        """
        existing = self._users.get(user_id)
        if existing is not None:
            return existing
        user = FakeUser(
            self,
            user_id,
            first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
        )
        user.known = started
        self._users[user_id] = user
        return user

    def group(self, chat_id: int, title: str, *, username: str | None = None) -> FakeGroup:
        """A group the bot is a member of (the same object for the same id)."""
        existing = self._groups.get(chat_id)
        if existing is not None:
            return existing
        group = FakeGroup(self, chat_id, title, username=username)
        self._groups[chat_id] = group
        return group

    def commands(
        self, scope: dict[str, Any] | None = None, language_code: str | None = None
    ) -> list[dict[str, str]]:
        """What setMyCommands stored for (scope, language_code); [] if nothing."""
        return list(self._commands.get(self._commands_key(scope, language_code), []))

    def fail_next(
        self,
        method: str,
        status: int = 502,
        description: str = "Bad Gateway",
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` ("*" = any method) fail this way."""
        failure = _Failure(status, description, retry_after, times)
        self._failures.setdefault(method.lower(), []).append(failure)

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by the bot (via a higher getUpdates offset, or a 2xx answer
        of the webhook)."""
        return list(self._updates)

    @property
    def webhook_url(self) -> str:
        """The webhook URL as registered by setWebhook; "" when none is set."""
        return self._webhook.url if self._webhook is not None else ""

    @property
    def webhook_secret_token(self) -> str:
        """The secret_token of the webhook; "" when none."""
        return self._webhook.secret_token if self._webhook is not None else ""

    def route_webhook(self, public_url: str, local_url: str) -> None:
        """Test-only: POST updates for a webhook URL starting with ``public_url`` to
        ``local_url`` + the rest of it (e.g. the bot's http endpoint on 127.0.0.1).

        May be called before or after setWebhook; the longest matching prefix wins. Without a
        route, updates stay pending (wait_delivered says so when it times out).
        """
        self._webhook_routes[public_url] = local_url
        self._webhook_signal.fire()

    def webhook_target(self) -> str | None:
        """Where updates for the current webhook are POSTed (None: no webhook, or no route)."""
        if self._webhook is None:
            return None
        return self._route(self._webhook.url)

    async def wait_delivered(
        self,
        timeout: float = 5.0,  # noqa: ASYNC109
        *,
        update_id: int | None = None,
    ) -> None:
        """Wait until the webhook took (answered 2xx to) every pending update, or ``update_id``.

        On timeout raises AssertionError describing the webhook, what is pending and the last
        delivery attempts.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            pending = {int(u["update_id"]) for u in self._updates if self._is_allowed(u)}
            if (not pending) if update_id is None else (update_id not in pending):
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"updates not delivered to the webhook within {timeout}s: "
                    + self._describe_webhook(sorted(pending))
                )
            await self._delivered_signal.wait(remaining)

    async def wait_webhook_attempts(
        self,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[WebhookDelivery]:
        """Wait until ``count`` webhook POSTs finished, whatever their outcome; returns those
        finished so far (see ``webhook_deliveries``)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            finished = [d for d in self.webhook_deliveries if d.finished is not None]
            if len(finished) >= count:
                return finished
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(
                    f"{len(finished)} of {count} webhook attempts finished within {timeout}s: "
                    + self._describe_webhook(
                        sorted(int(u["update_id"]) for u in self._updates if self._is_allowed(u))
                    )
                )
            await self._delivered_signal.wait(remaining)

    def calls(self, method: str) -> list[dict[str, Any]]:
        """The parameters of every call of ``method`` (case-insensitive), in order."""
        return [params for name, params in self.requests if name.lower() == method.lower()]

    def queue_update(self, update: dict[str, Any]) -> int:
        """Queue an arbitrary update (update_id is assigned); returns the update_id."""
        update = dict(update)
        update["update_id"] = self._next_update_id
        self._next_update_id += 1
        self._updates.append(update)
        self._updates_signal.fire()
        self._webhook_signal.fire()
        return int(update["update_id"])

    # --- HTTP ------------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        try:
            values = await self._read_params(request)
            self.requests.append((method, _decode_json_fields(values)))
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            handler = self._methods.get(method.lower())
            if handler is None:
                raise ApiError(404, "Not Found")
            failure = self._take_failure(method.lower())
            if failure is not None:
                parameters = None
                if failure.retry_after is not None:
                    parameters = {"retry_after": failure.retry_after}
                raise ApiError(failure.status, failure.description, parameters)
            result = await handler(_Params(values))
        except ApiError as exc:
            self.errors.append((method, exc.code, exc.description))
            return self._error_response(exc)
        return web.json_response({"ok": True, "result": result})

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        values: dict[str, Any] = dict(request.query)
        if request.method not in ("POST", "PUT"):
            return values
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise _bad("can't parse JSON object") from None
            if isinstance(body, dict):
                values.update(body)
            return values
        if not request.can_read_body:
            return values
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                with value.file as handle:
                    data = handle.read()
                values[key] = UploadedFile(value.filename, value.content_type, data)
            elif isinstance(value, (bytes, bytearray)):
                values[key] = bytes(value).decode("utf-8", "replace")
            else:
                values[key] = value
        return values

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        stored = self._files_by_path.get(request.match_info["path"])
        if request.match_info["token"] != self.token or stored is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        return web.Response(body=stored.data, content_type="application/octet-stream")

    @staticmethod
    def _error_response(exc: ApiError) -> web.Response:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": exc.code,
            "description": exc.description,
        }
        headers: dict[str, str] = {}
        if exc.parameters:
            body["parameters"] = exc.parameters
            if "retry_after" in exc.parameters:
                headers["Retry-After"] = str(exc.parameters["retry_after"])
        return web.json_response(body, status=exc.code, headers=headers)

    def _take_failure(self, method: str) -> _Failure | None:
        for key in (method, "*"):
            queue = self._failures.get(key)
            if queue:
                failure = queue[0]
                failure.times -= 1
                if failure.times <= 0:
                    queue.pop(0)
                return failure
        return None

    # --- helpers ---------------------------------------------------------------------------

    def bot_user(self, full: bool = False) -> dict[str, Any]:
        """The bot's ``User`` object (``full`` adds the getMe-only fields)."""
        user: dict[str, Any] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }
        if full:
            user.update(
                {
                    "can_join_groups": True,
                    "can_read_all_group_messages": False,
                    "supports_inline_queries": False,
                    "can_connect_to_business": False,
                    "has_main_web_app": False,
                }
            )
        return user

    def _chat(self, chat_id: int) -> FakeChat:
        chat: FakeChat | None = self._users.get(chat_id) or self._groups.get(chat_id)
        if chat is None or not chat.known:
            raise ApiError(400, CHAT_NOT_FOUND)
        return chat

    def _chat_from(self, params: _Params, name: str = "chat_id") -> FakeChat:
        raw = params.string(name)
        if raw is None or raw == "":
            raise _bad(f"{name} is empty")
        try:
            chat_id = int(raw)
        except ValueError:
            if raw.startswith("@"):
                for group in self._groups.values():
                    if group.username and f"@{group.username}".lower() == raw.lower():
                        return group
            raise ApiError(400, CHAT_NOT_FOUND) from None
        return self._chat(chat_id)

    @staticmethod
    def _check_can_write(chat: FakeChat) -> None:
        if isinstance(chat, FakeUser):
            if chat.deactivated:
                raise ApiError(403, DEACTIVATED)
            if chat.blocked:
                raise ApiError(403, BLOCKED)
        elif isinstance(chat, FakeGroup) and chat.bot_removed:
            raise ApiError(403, KICKED)

    def _check_flood(self, method: str, chat: FakeChat, *, edit: bool = False) -> None:
        """Take a token from every applicable bucket, or raise 429 taking none."""
        if not self.flood_limits:
            return
        now = self.clock()
        buckets: list[tuple[Literal["chat", "group", "global"], TokenBucket]] = []
        chat_bucket = self._chat_buckets.get(chat.id)
        if chat_bucket is None:
            chat_bucket = TokenBucket(self.chat_rate, self.chat_burst, now)
            self._chat_buckets[chat.id] = chat_bucket
        buckets.append(("chat", chat_bucket))
        if not edit:
            if isinstance(chat, FakeGroup):
                group_bucket = self._group_buckets.get(chat.id)
                if group_bucket is None:
                    group_bucket = TokenBucket(
                        self.group_per_minute / 60.0, self.group_per_minute, now
                    )
                    self._group_buckets[chat.id] = group_bucket
                buckets.append(("group", group_bucket))
            if self._global_bucket is None:
                self._global_bucket = TokenBucket(self.global_rate, self.global_burst, now)
            buckets.append(("global", self._global_bucket))
        waits = [(bucket.wait_time(now), scope) for scope, bucket in buckets]
        wait, scope = max(waits, key=lambda item: item[0])
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            self.flood_errors.append(FloodError(method, chat.id, retry_after, scope))
            raise ApiError(
                429,
                f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
            )
        for _, bucket in buckets:
            bucket.take(now)

    def _parse_text(
        self,
        params: _Params,
        text_name: str,
        entities_name: str,
        *,
        caption: bool = False,
    ) -> ParsedText:
        raw = params.string(text_name) or ""
        if not raw and not caption:
            raise _bad("message text is empty")
        explicit_entities = params.json(entities_name)
        parse_mode = params.string("parse_mode")
        if explicit_entities:
            if not isinstance(explicit_entities, list):
                raise _bad(f"can't parse {entities_name} JSON object")
            parsed = ParsedText(raw, list(explicit_entities))
        else:
            try:
                parsed = parse_formatted(raw, parse_mode)
            except EntityParseError as exc:
                raise _bad(f"can't parse entities: {exc}") from None
            except ValueError:
                raise _bad("unsupported parse_mode") from None
        parsed = strip_whitespace(parsed)
        limit = MAX_CAPTION_LENGTH if caption else MAX_TEXT_LENGTH
        if len(parsed.text) > limit:
            raise _bad("message caption is too long" if caption else "message is too long")
        if not parsed.text and not caption:
            raise _bad("message must be non-empty")
        return parsed

    def _parse_reply_markup(
        self, params: _Params
    ) -> tuple[dict[str, Any] | None, list[list[Button]], list[list[str]] | None, bool]:
        """(inline markup, inline buttons, reply keyboard rows, remove_keyboard)."""
        markup = params.json("reply_markup")
        if markup is None:
            return None, [], None, False
        if not isinstance(markup, dict):
            raise _bad("object expected as reply markup")
        if "inline_keyboard" in markup:
            return markup, self._validate_inline_keyboard(markup["inline_keyboard"]), None, False
        if "keyboard" in markup:
            rows = markup["keyboard"]
            if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
                raise _bad(
                    'field "keyboard" of the ReplyKeyboardMarkup must be an Array of Arrays'
                )
            texts: list[list[str]] = []
            for row in rows:
                row_texts: list[str] = []
                for button in row:
                    text = button.get("text") if isinstance(button, dict) else button
                    if not isinstance(text, str):
                        raise _bad(
                            'can\'t parse keyboard button: Field "text" must be of type String'
                        )
                    row_texts.append(text)
                texts.append(row_texts)
            return None, [], texts, False
        if markup.get("remove_keyboard"):
            return None, [], None, True
        if markup.get("force_reply"):
            return None, [], None, False
        raise _bad("can't parse reply keyboard markup JSON object")

    @staticmethod
    def _validate_inline_keyboard(rows: Any) -> list[list[Button]]:
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad(
                'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
            )
        total = sum(len(row) for row in rows)
        if total > MAX_BUTTONS or any(len(row) > MAX_BUTTONS_PER_ROW for row in rows):
            raise _bad("reply markup is too long")
        result: list[list[Button]] = []
        for row in rows:
            result_row: list[Button] = []
            for raw in row:
                if not isinstance(raw, dict):
                    raise _bad("can't parse inline keyboard button: Object expected")
                text = raw.get("text")
                if not isinstance(text, str):
                    raise _bad("can't parse inline keyboard button: Can't find field \"text\"")
                if not text.strip():
                    raise _bad("BUTTON_TEXT_INVALID")
                data = raw.get("callback_data")
                url = raw.get("url")
                if isinstance(url, str) and url:
                    _validate_button_url(url)
                    result_row.append(Button(text, url=url))
                elif isinstance(data, str) and data:
                    if len(data.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES:
                        raise _bad("BUTTON_DATA_INVALID")
                    result_row.append(Button(text, callback_data=data))
                elif any(raw.get(kind) is not None for kind in _OTHER_INLINE_BUTTON_KINDS):
                    result_row.append(Button(text))
                else:
                    raise ApiError(400, TEXT_BUTTONS_UNALLOWED)
            result.append(result_row)
        return result

    def _check_reply_to(self, params: _Params, chat: FakeChat) -> int | None:
        reply_to = params.integer("reply_to_message_id")
        allow_without = params.flag("allow_sending_without_reply")
        parameters = params.json("reply_parameters")
        if isinstance(parameters, dict) and parameters.get("message_id") is not None:
            reply_to = int(parameters["message_id"])
            allow_without = bool(parameters.get("allow_sending_without_reply", allow_without))
        if reply_to is None:
            return None
        if not chat._has_message(reply_to) or (
            reply_to in chat._messages and chat._messages[reply_to].deleted
        ):
            if allow_without:
                return None
            raise _bad("message to be replied not found")
        return reply_to

    def _store_file(
        self, data: bytes, folder: str, filename: str | None, mime_type: str | None
    ) -> _StoredFile:
        unique = secrets.token_hex(8)
        file_id = f"{folder[:3].upper()}-{unique}-{len(self._files)}"
        suffix = ""
        if filename and "." in filename:
            suffix = "." + filename.rsplit(".", 1)[1]
        path = f"{folder}/file_{len(self._files)}{suffix}"
        stored = _StoredFile(file_id, unique, data, path, filename, mime_type)
        self._files[file_id] = stored
        self._files_by_path[path] = stored
        return stored

    def _message_to_api(self, chat: FakeChat, message: BotMessage) -> dict[str, Any]:
        result: dict[str, Any] = {
            "message_id": message.message_id,
            "from": self.bot_user(),
            "chat": chat.to_api(),
            "date": message.date,
        }
        if message.edit_date is not None:
            result["edit_date"] = message.edit_date
        if message.reply_to_message_id is not None:
            original = self._any_message_to_api(chat, message.reply_to_message_id)
            if original is not None:
                result["reply_to_message"] = original
        if message.photo is not None or message.document is not None:
            if message.photo is not None:
                width, height = message.photo_size
                result["photo"] = [
                    {
                        "file_id": message.file_id,
                        "file_unique_id": message.file_unique_id,
                        "width": width,
                        "height": height,
                        "file_size": len(message.photo),
                    }
                ]
            if message.document is not None:
                document: dict[str, Any] = {
                    "file_id": message.file_id,
                    "file_unique_id": message.file_unique_id,
                    "file_name": message.document.filename,
                    "file_size": len(message.document.data),
                }
                if message.document.mime_type:
                    document["mime_type"] = message.document.mime_type
                result["document"] = document
            if message.text:
                result["caption"] = message.text
                if message.entities:
                    result["caption_entities"] = message.entities
        else:
            result["text"] = message.text
            if message.entities:
                result["entities"] = message.entities
        if message.reply_markup is not None:
            result["reply_markup"] = message.reply_markup
        return result

    def _any_message_to_api(self, chat: FakeChat, message_id: int) -> dict[str, Any] | None:
        """A bot or user message of the chat, as a reply_to_message (without its own reply)."""
        if message_id in chat._user_messages:
            result = dict(chat._user_messages[message_id])
            result.pop("reply_to_message", None)
            return result
        original = chat._messages.get(message_id)
        if original is None or original.deleted:
            return None
        return self._message_to_api(chat, dataclasses.replace(original, reply_to_message_id=None))

    def _apply_keyboard(
        self, chat: FakeChat, keyboard: list[list[str]] | None, remove: bool
    ) -> None:
        if keyboard is not None:
            chat.reply_keyboard = keyboard
        elif remove:
            chat.reply_keyboard = None

    def _record_wide_buttons(self, chat: FakeChat, buttons: list[list[Button]]) -> None:
        if not self.check_button_widths:
            return
        language = getattr(chat, "language_code", None) or str(chat.id)
        for row in buttons:
            limit = ROW_OF_TWO_MAX_WIDTH if len(row) == 2 else ROW_OF_THREE_MAX_WIDTH
            for button in row if len(row) >= 2 else ():
                wide = (button.text, len(row), language)
                if label_width(button.text) > limit and wide not in self.wide_buttons:
                    self.wide_buttons.append(wide)

    def _deliver(self, chat: FakeChat, message: BotMessage) -> dict[str, Any]:
        self._record_wide_buttons(chat, message.buttons)
        self.accepted.append((self.clock(), chat.id))
        chat._messages[message.message_id] = message
        chat._record_event(message, "new")
        return self._message_to_api(chat, message)

    # --- simulated user input --------------------------------------------------------------

    async def _user_message(
        self,
        user: FakeUser,
        chat: FakeChat,
        content: dict[str, Any],
        *,
        reply_to: int | None = None,
    ) -> int:
        if chat is user:
            user.known = True
            user.unblock()  # writing to a blocked bot unblocks it, as Telegram clients do
        message_id = chat._take_message_id()
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": user.to_user(),
            "chat": chat.to_api(),
            "date": int(time.time()),
        }
        message.update(content)
        text = content.get("text")
        if isinstance(text, str):
            match = _LEADING_COMMAND_RE.match(text)
            if match:
                message["entities"] = [
                    {"type": "bot_command", "offset": 0, "length": len(match.group(0))}
                ]
        if reply_to is not None:
            original = self._any_message_to_api(chat, reply_to)
            if original is not None:
                message["reply_to_message"] = original
        chat._user_messages[message_id] = message
        self.queue_update({"message": message})
        return message_id

    async def _callback_query(
        self, user: FakeUser, chat: FakeChat, message: BotMessage, data: str
    ) -> str:
        query_id = str(secrets.randbits(63))
        self.callback_queries[query_id] = CallbackQueryRecord(
            id=query_id,
            user_id=user.id,
            chat_id=chat.id,
            message_id=message.message_id,
            data=data,
            created_at=self.clock(),
        )
        self.queue_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user.to_user(),
                    "message": self._message_to_api(chat, message),
                    "chat_instance": str(abs(hash((self.bot_id, chat.id)))),
                    "data": data,
                }
            }
        )
        return query_id

    def _queue_my_chat_member(
        self, by: FakeUser, chat: FakeChat, old_status: str, new_status: str
    ) -> None:
        def member(status: str) -> dict[str, Any]:
            result: dict[str, Any] = {"user": self.bot_user(), "status": status}
            if status == "kicked":
                result["until_date"] = 0
            return result

        self.queue_update(
            {
                "my_chat_member": {
                    "chat": chat.to_api(),
                    "from": by.to_user(),
                    "date": int(time.time()),
                    "old_chat_member": member(old_status),
                    "new_chat_member": member(new_status),
                }
            }
        )

    # --- methods: bot and updates ----------------------------------------------------------

    async def _ok(self, params: _Params) -> bool:
        return True

    async def _get_me(self, params: _Params) -> dict[str, Any]:
        return self.bot_user(full=True)

    def _is_allowed(self, update: dict[str, Any]) -> bool:
        kind = next((key for key in update if key != "update_id"), "")
        if self.allowed_updates:
            return kind in self.allowed_updates
        return kind not in _DEFAULT_UPDATE_TYPES_EXCLUDED

    async def _get_updates(self, params: _Params) -> list[dict[str, Any]]:
        if self._webhook is not None:
            raise ApiError(409, CONFLICT_WEBHOOK)
        offset = params.integer("offset")
        limit = min(max(params.integer("limit") or 100, 1), 100)
        timeout = min(max(params.number("timeout") or 0.0, 0.0), MAX_POLL_TIMEOUT)
        self._update_allowed_updates(params)
        if offset is not None:
            if offset < 0:
                self._updates = self._updates[offset:]
            else:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
        me = _Poll()
        self._polls.add(me)
        if self.detect_conflicts:
            if self._active_poll is not None:
                self._active_poll.conflict = CONFLICT_POLLING
                self._updates_signal.fire()
            self._active_poll = me
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while True:
                if me.conflict is not None:
                    raise ApiError(409, me.conflict)
                self._updates = [u for u in self._updates if self._is_allowed(u)]
                if self._updates or self._closing:
                    return [copy.deepcopy(u) for u in self._updates[:limit]]
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return []
                await self._updates_signal.wait(remaining)
        finally:
            self._polls.discard(me)
            if self._active_poll is me:
                self._active_poll = None

    def _update_allowed_updates(self, params: _Params) -> None:
        allowed = params.json("allowed_updates")
        if isinstance(allowed, list):
            self.allowed_updates = [str(kind) for kind in allowed] or None

    def _drop_pending_updates(self) -> None:
        self._updates.clear()
        self._retry_at.clear()
        self._fail_counts.clear()
        self._delivered_signal.fire()

    async def _delete_webhook(self, params: _Params) -> bool:
        await self._close_webhook()
        if params.flag("drop_pending_updates"):
            self._drop_pending_updates()
        self._updates_signal.fire()
        return True

    async def _set_webhook(self, params: _Params) -> bool:
        url = params.string("url") or ""
        if url and self.set_webhook_min_interval > 0:
            now = time.monotonic()
            if now < self._next_set_webhook_time:
                retry_after = max(1, math.ceil(self._next_set_webhook_time - now))
                raise ApiError(
                    429,
                    f"Too Many Requests: retry after {retry_after}",
                    {"retry_after": retry_after},
                )
            self._next_set_webhook_time = now + self.set_webhook_min_interval
        certificate = params.values.get("certificate")
        if isinstance(certificate, str) and certificate.startswith("attach://"):
            certificate = params.values.get(certificate[len("attach://") :])
        new = _Webhook(
            url=url,
            secret_token=(params.string("secret_token") or "") if url else "",
            max_connections=_webhook_max_connections(params) if url else 0,
            ip_address=(params.string("ip_address") or "") if url else "",
            has_certificate=bool(url) and isinstance(certificate, UploadedFile),
        )
        drop = params.flag("drop_pending_updates")
        current = self._webhook or _Webhook("", "", 0, "", False)
        if new == current and not new.has_certificate and not drop:
            self._update_allowed_updates(params)  # "Webhook is already set"
            return True
        if url:
            for poll in self._polls:
                poll.conflict = CONFLICT_SET_WEBHOOK
            self._updates_signal.fire()
        # Telegram closes the old webhook first: a refused setWebhook leaves none set.
        await self._close_webhook()
        if drop:
            self._drop_pending_updates()
        if not url:
            return True  # "Webhook was deleted"
        scheme, port = _parse_webhook_url(url)
        if len(new.secret_token) > MAX_SECRET_TOKEN_LENGTH:
            raise ApiError(400, SECRET_TOKEN_TOO_LONG)
        if not _SECRET_TOKEN_RE.fullmatch(new.secret_token):
            raise ApiError(400, SECRET_TOKEN_UNALLOWED)
        self._update_allowed_updates(params)
        if scheme != "https":
            raise ApiError(400, WEBHOOK_HTTPS_REQUIRED)
        if port not in WEBHOOK_PORTS:
            raise ApiError(400, WEBHOOK_BAD_PORT)
        if new.ip_address:
            _check_webhook_ip_address(new.ip_address)
        self._webhook = new
        self._webhook_error = None
        self._start_webhook(new)
        return True

    async def _get_webhook_info(self, params: _Params) -> dict[str, Any]:
        webhook = self._webhook
        info: dict[str, Any] = {
            "url": webhook.url if webhook else "",
            "has_custom_certificate": bool(webhook and webhook.has_certificate),
            "pending_update_count": sum(1 for u in self._updates if self._is_allowed(u)),
        }
        if self._webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self._webhook_error
        if webhook is not None:
            info["max_connections"] = webhook.max_connections
            if webhook.ip_address:
                info["ip_address"] = webhook.ip_address
        if self.allowed_updates:
            info["allowed_updates"] = self.allowed_updates
        return info

    # --- webhook delivery ------------------------------------------------------------------

    def _route(self, url: str) -> str | None:
        """The local URL a webhook URL is routed to (longest matching prefix), if any."""
        if "://" not in url:
            url = "https://" + url
        best: str | None = None
        for prefix in self._webhook_routes:
            if url.startswith(prefix) and (best is None or len(prefix) > len(best)):
                best = prefix
        if best is None:
            return None
        return self._webhook_routes[best] + url[len(best) :]

    def _queue_key(self, update: dict[str, Any]) -> tuple[str, int]:
        """The delivery queue of an update: one update of a queue at a time, in order."""
        kind = next((key for key in update if key != "update_id"), "")
        body = update.get(kind)
        chat_id = _update_chat_id(update)
        if self.webhook_queues == "chat" and chat_id is not None:
            return ("chat", chat_id)
        if isinstance(body, dict):
            sender = body.get("from")
            sender_id = sender.get("id") if isinstance(sender, dict) else None
            if kind in _MESSAGE_UPDATE_KINDS and chat_id is not None:
                return ("chat", chat_id)
            if kind == "callback_query" and isinstance(sender_id, int):
                return ("callback_query", sender_id)
            if kind == "my_chat_member" and chat_id is not None:
                return ("my_chat_member", chat_id)
            if kind in ("chat_member", "chat_join_request") and isinstance(sender_id, int):
                return (kind, sender_id)
        return ("update", int(update["update_id"]))

    def _start_webhook(self, webhook: _Webhook) -> None:
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.get_running_loop().create_task(
                self._webhook_loop(webhook)
            )

    async def _stop_webhook_tasks(self) -> None:
        """Cancel the dispatcher and every POST in flight (their updates stay pending)."""
        tasks = list(self._in_flight.values())
        if self._webhook_task is not None:
            tasks.append(self._webhook_task)
            self._webhook_task = None
        self._in_flight.clear()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _close_webhook(self) -> None:
        """What Telegram does on deleteWebhook or before setting another: forget the webhook,
        its last error and retry delays; abandon the POSTs in flight."""
        self._webhook = None
        self._webhook_error = None
        await self._stop_webhook_tasks()
        self._retry_at.clear()
        self._fail_counts.clear()
        self._delivered_signal.fire()

    async def _webhook_loop(self, webhook: _Webhook) -> None:
        loop = asyncio.get_running_loop()
        while self._webhook is webhook and not self._closing:
            wait = self._dispatch(webhook, loop.time())
            await self._webhook_signal.wait(wait)

    def _dispatch(self, webhook: _Webhook, now: float) -> float:
        """Start the POSTs that may start now; returns seconds until a retry is due."""
        self._updates = [u for u in self._updates if self._is_allowed(u)]
        target = self._route(webhook.url)
        if target is None:
            return 3600.0
        next_retry = now + 3600.0
        seen: set[tuple[str, int]] = set()
        for update in self._updates:
            key = self._queue_key(update)
            if key in seen:
                continue  # not the head of its queue: waits for the one before it
            seen.add(key)
            update_id = int(update["update_id"])
            if update_id in self._in_flight:
                continue
            retry_at = self._retry_at.get(update_id, 0.0)
            if retry_at > now:
                next_retry = min(next_retry, retry_at)
                continue
            if len(self._in_flight) >= webhook.max_connections:
                break
            self._in_flight[update_id] = asyncio.get_running_loop().create_task(
                self._post_update(webhook, target, update)
            )
        self.webhook_max_in_flight = max(self.webhook_max_in_flight, len(self._in_flight))
        return max(0.0, next_retry - now)

    def _session(self) -> aiohttp.ClientSession:
        if self._webhook_session is None or self._webhook_session.closed:
            self._webhook_session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=0, force_close=True)
            )
        return self._webhook_session

    async def _post_update(self, webhook: _Webhook, url: str, update: dict[str, Any]) -> None:
        try:
            await self._post_update_once(webhook, url, update)
        finally:
            if self._in_flight.get(int(update["update_id"])) is asyncio.current_task():
                del self._in_flight[int(update["update_id"])]
            self._webhook_signal.fire()
            self._delivered_signal.fire()

    async def _post_update_once(self, webhook: _Webhook, url: str, update: dict[str, Any]) -> None:
        update_id = int(update["update_id"])
        record = WebhookDelivery(update_id, _update_chat_id(update), url, time.monotonic())
        self.webhook_deliveries.append(record)
        headers = {"Content-Type": "application/json"}
        if webhook.secret_token:
            headers[SECRET_TOKEN_HEADER] = webhook.secret_token
        body = json.dumps(update, ensure_ascii=False).encode("utf-8")
        retry_after: float | None = None
        answer = b""
        answer_type = ""
        error: str | None = None
        try:
            async with self._session().post(
                url,
                data=body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
                allow_redirects=False,
            ) as response:
                record.status = response.status
                answer = await response.read()
                answer_type = response.content_type
                if not 200 <= response.status <= 299:
                    error = f"Wrong response from the webhook: {response.status} {response.reason}"
                    retry_after = _retry_after_header(response.headers.get("Retry-After"))
        except asyncio.CancelledError:
            record.error = "Canceled"  # webhook deleted or replaced, or the fake stopped
            record.finished = time.monotonic()
            raise
        except TimeoutError:
            record.status = None
            error = "Read timeout expired"
        except aiohttp.ClientConnectorError as exc:
            error = (
                "Connection refused"
                if isinstance(exc.os_error, ConnectionRefusedError)
                else f"Connection error: {exc.os_error}"
            )
        except aiohttp.ClientError:
            record.status = None
            error = "Webhook connection closed"
        record.finished = time.monotonic()
        record.error = error
        if self._webhook is not webhook:
            return  # deleted or replaced meanwhile: the outcome no longer matters
        if error is not None:
            self._webhook_error = (int(time.time()), error)
            fails = self._fail_counts.get(update_id, 0) + 1
            self._fail_counts[update_id] = fails
            if retry_after is None:
                retry_after = min(
                    self.webhook_retry_delay * 2 ** (fails - 1), self.webhook_max_retry_delay
                )
            self._retry_at[update_id] = asyncio.get_running_loop().time() + retry_after
            return
        self.webhook_ok_counts[update_id] = self.webhook_ok_counts.get(update_id, 0) + 1
        self._updates = [u for u in self._updates if u["update_id"] != update_id]
        self._retry_at.pop(update_id, None)
        self._fail_counts.pop(update_id, None)
        if answer:
            await self._run_webhook_answer(answer, answer_type)

    async def _run_webhook_answer(self, answer: bytes, content_type: str) -> None:
        """A 2xx answer may carry a method call; Telegram runs it, the bot never sees its result
        (it is logged in ``requests``, its errors in ``errors``)."""
        values: dict[str, Any]
        text = answer.decode("utf-8", "replace")
        if content_type == "application/json":
            try:
                parsed = json.loads(text)
            except ValueError:
                return
            if not isinstance(parsed, dict):
                return
            values = parsed
        elif content_type == "application/x-www-form-urlencoded":
            values = dict(urllib.parse.parse_qsl(text))
        else:
            return
        method = values.pop("method", None)
        if not isinstance(method, str) or not method:
            return
        lowered = method.lower()
        if lowered in _NOT_IN_WEBHOOK_ANSWER or lowered.startswith("get"):
            return
        self.requests.append((method, _decode_json_fields(values)))
        try:
            handler = self._methods.get(lowered)
            if handler is None:
                raise ApiError(404, "Not Found")
            await handler(_Params(values))
        except ApiError as exc:
            self.errors.append((method, exc.code, exc.description))

    def _describe_webhook(self, pending: list[int]) -> str:
        webhook = self._webhook
        if webhook is None:
            state = "no webhook is set (the updates wait for getUpdates)"
        else:
            target = self._route(webhook.url)
            state = f"webhook {webhook.url!r} -> " + (
                repr(target) if target else "no route (call fake.route_webhook)"
            )
        lines = [
            state,
            f"pending update ids: {pending}",
            f"in flight: {sorted(self._in_flight)}",
        ]
        if self._webhook_error is not None:
            lines.append(f"last error: {self._webhook_error[1]!r}")
        attempts = self.webhook_deliveries[-10:]
        lines.append("last attempts:" if attempts else "no attempts")
        lines.extend(
            f"  - update {a.update_id} chat {a.chat_id}: status {a.status} {a.error or ''}"
            for a in attempts
        )
        return "\n".join(lines)

    # --- methods: sending ------------------------------------------------------------------

    async def _send_message(self, params: _Params) -> dict[str, Any]:
        chat = self._chat_from(params)
        self._check_can_write(chat)
        parsed = self._parse_text(params, "text", "entities")
        inline, buttons, keyboard, remove = self._parse_reply_markup(params)
        reply_to = self._check_reply_to(params, chat)
        self._check_flood("sendMessage", chat)
        message = BotMessage(
            message_id=chat._take_message_id(),
            chat_id=chat.id,
            date=int(time.time()),
            text=parsed.text,
            html=params.string("text") or "",
            parse_mode=params.string("parse_mode"),
            entities=parsed.entities,
            buttons=buttons,
            reply_markup=inline,
            reply_keyboard=keyboard,
            reply_to_message_id=reply_to,
        )
        self._apply_keyboard(chat, keyboard, remove)
        return self._deliver(chat, message)

    def _media_input(
        self, params: _Params, name: str, max_bytes: int
    ) -> tuple[bytes, str | None, str | None, _StoredFile | None]:
        """(data, filename, mime type, already stored file) of the photo/document parameter."""
        value = params.values.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            value = params.values.get(value[len("attach://") :])
        if isinstance(value, UploadedFile):
            if not value.data:
                raise _bad("file must be non-empty")
            if len(value.data) > max_bytes:
                raise ApiError(413, "Request Entity Too Large")
            return value.data, value.filename, value.content_type, None
        if isinstance(value, str) and value:
            stored = self._files.get(value)
            if stored is not None:
                return stored.data, stored.filename, stored.mime_type, stored
            if value.startswith(("http://", "https://")):
                filename = value.rsplit("/", 1)[-1] or None
                return b"", filename, None, None
            raise _bad("wrong file identifier/HTTP URL specified")
        raise _bad(f"there is no {name} in the request")

    async def _send_photo(self, params: _Params) -> dict[str, Any]:
        chat = self._chat_from(params)
        self._check_can_write(chat)
        data, filename, mime_type, stored = self._media_input(params, "photo", MAX_PHOTO_BYTES)
        if data and not data.startswith(_IMAGE_SIGNATURES) and not _is_webp(data):
            raise _bad("IMAGE_PROCESS_FAILED")
        parsed = self._parse_text(params, "caption", "caption_entities", caption=True)
        inline, buttons, keyboard, remove = self._parse_reply_markup(params)
        reply_to = self._check_reply_to(params, chat)
        self._check_flood("sendPhoto", chat)
        if stored is None:
            stored = self._store_file(data, "photos", filename or "photo.jpg", mime_type)
        message = BotMessage(
            message_id=chat._take_message_id(),
            chat_id=chat.id,
            date=int(time.time()),
            text=parsed.text,
            html=params.string("caption") or "",
            parse_mode=params.string("parse_mode"),
            entities=parsed.entities,
            buttons=buttons,
            reply_markup=inline,
            reply_keyboard=keyboard,
            photo=data,
            caption=parsed.text or None,
            reply_to_message_id=reply_to,
            file_id=stored.file_id,
            file_unique_id=stored.file_unique_id,
            photo_size=_image_size(data),
        )
        self._apply_keyboard(chat, keyboard, remove)
        return self._deliver(chat, message)

    async def _send_document(self, params: _Params) -> dict[str, Any]:
        chat = self._chat_from(params)
        self._check_can_write(chat)
        data, filename, mime_type, stored = self._media_input(
            params, "document", MAX_DOCUMENT_BYTES
        )
        parsed = self._parse_text(params, "caption", "caption_entities", caption=True)
        inline, buttons, keyboard, remove = self._parse_reply_markup(params)
        reply_to = self._check_reply_to(params, chat)
        self._check_flood("sendDocument", chat)
        if stored is None:
            stored = self._store_file(data, "documents", filename or "document", mime_type)
        message = BotMessage(
            message_id=chat._take_message_id(),
            chat_id=chat.id,
            date=int(time.time()),
            text=parsed.text,
            html=params.string("caption") or "",
            parse_mode=params.string("parse_mode"),
            entities=parsed.entities,
            buttons=buttons,
            reply_markup=inline,
            reply_keyboard=keyboard,
            document=SentDocument(
                data, filename or "document", parsed.text or None, mime_type or None
            ),
            caption=parsed.text or None,
            reply_to_message_id=reply_to,
            file_id=stored.file_id,
            file_unique_id=stored.file_unique_id,
        )
        self._apply_keyboard(chat, keyboard, remove)
        return self._deliver(chat, message)

    async def _send_chat_action(self, params: _Params) -> bool:
        chat = self._chat_from(params)
        self._check_can_write(chat)
        action = params.string("action") or ""
        if action not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        chat.chat_actions.append(action)
        return True

    # --- methods: editing ------------------------------------------------------------------

    def _editable(self, params: _Params) -> tuple[FakeChat, BotMessage]:
        if params.has("inline_message_id"):
            raise _bad("MESSAGE_ID_INVALID")
        chat = self._chat_from(params)
        message_id = params.integer("message_id", required=True)
        assert message_id is not None
        message = chat._messages.get(message_id)
        if message is None or message.deleted:
            if message_id in chat._user_messages:
                raise _bad("message can't be edited")
            raise _bad("message to edit not found")
        return chat, message

    def _finish_edit(
        self, chat: FakeChat, message: BotMessage, method: str, changes: dict[str, Any]
    ) -> dict[str, Any]:
        unchanged = all(getattr(message, key) == value for key, value in changes.items())
        if unchanged:
            raise ApiError(400, NOT_MODIFIED)
        self._check_flood(method, chat, edit=True)
        for key, value in changes.items():
            setattr(message, key, value)
        if "buttons" in changes:
            self._record_wide_buttons(chat, message.buttons)
        message.edit_count += 1
        message.edit_date = int(time.time())
        chat._record_event(message, "edit")
        return self._message_to_api(chat, message)

    def _edit_markup(self, params: _Params) -> tuple[dict[str, Any] | None, list[list[Button]]]:
        inline, buttons, keyboard, remove = self._parse_reply_markup(params)
        if keyboard is not None or remove:
            raise _bad("inline keyboard expected")
        return inline, buttons

    async def _edit_message_text(self, params: _Params) -> dict[str, Any]:
        chat, message = self._editable(params)
        parsed = self._parse_text(params, "text", "entities")
        inline, buttons = self._edit_markup(params)
        if message.photo is not None or message.document is not None:
            raise _bad("there is no text in the message to edit")
        changes = {
            "text": parsed.text,
            "entities": parsed.entities,
            "reply_markup": inline,
            "buttons": buttons,
            # Part of the change, so the snapshot of this edit shows what was sent.
            "html": params.string("text") or "",
            "parse_mode": params.string("parse_mode"),
        }
        return self._finish_edit(chat, message, "editMessageText", changes)

    async def _edit_message_caption(self, params: _Params) -> dict[str, Any]:
        chat, message = self._editable(params)
        parsed = self._parse_text(params, "caption", "caption_entities", caption=True)
        inline, buttons = self._edit_markup(params)
        if message.photo is None and message.document is None:
            raise _bad("there is no caption in the message to edit")
        changes: dict[str, Any] = {
            "text": parsed.text,
            "entities": parsed.entities,
            "reply_markup": inline,
            "buttons": buttons,
        }
        result = self._finish_edit(chat, message, "editMessageCaption", changes)
        message.caption = parsed.text or None
        message.html = params.string("caption") or ""
        if message.document is not None:
            message.document = dataclasses.replace(message.document, caption=parsed.text or None)
        return result

    async def _edit_message_reply_markup(self, params: _Params) -> dict[str, Any]:
        chat, message = self._editable(params)
        inline, buttons = self._edit_markup(params)
        changes = {"reply_markup": inline, "buttons": buttons}
        return self._finish_edit(chat, message, "editMessageReplyMarkup", changes)

    async def _delete_message(self, params: _Params) -> bool:
        chat = self._chat_from(params)
        message_id = params.integer("message_id", required=True)
        assert message_id is not None
        message = chat._messages.get(message_id)
        if message is not None and not message.deleted:
            message.deleted = True
            return True
        if chat._user_messages.pop(message_id, None) is not None:
            return True
        raise _bad("message to delete not found")

    # --- methods: callback queries ---------------------------------------------------------

    async def _answer_callback_query(self, params: _Params) -> bool:
        query_id = params.string("callback_query_id") or ""
        text = params.string("text")
        if text is not None and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad("MESSAGE_TOO_LONG")
        record = self.callback_queries.get(query_id)
        if (
            record is None
            or record.answered
            or self.clock() - record.created_at > self.callback_query_max_age
        ):
            raise ApiError(400, QUERY_TOO_OLD)
        record.answered = True
        record.answer_text = text
        record.show_alert = params.flag("show_alert")
        user = self._users.get(record.user_id)
        if user is not None:
            user.answers.append((text, record.show_alert))
            user._answer_signal.fire()
        return True

    # --- methods: commands, menu, chats, files ---------------------------------------------

    @staticmethod
    def _commands_key(scope: Any, language_code: str | None) -> tuple[str, str]:
        if not scope:
            scope = {"type": "default"}
        return json.dumps(scope, sort_keys=True), language_code or ""

    def _scope_key(self, params: _Params) -> tuple[str, str]:
        scope = params.json("scope")
        if scope is not None and not isinstance(scope, dict):
            raise _bad("can't parse BotCommandScope JSON object")
        if scope and "chat_id" in scope:
            self._chat(int(scope["chat_id"]))
        language_code = params.string("language_code")
        if language_code and not re.fullmatch(r"[a-z]{2}", language_code):
            raise _bad("invalid language code specified")
        return self._commands_key(scope, language_code)

    async def _set_my_commands(self, params: _Params) -> bool:
        commands = params.json("commands")
        if not isinstance(commands, list):
            raise _bad("can't parse commands JSON object")
        if len(commands) > 100:
            raise _bad("too many commands specified")
        stored: list[dict[str, str]] = []
        for command in commands:
            if not isinstance(command, dict):
                raise _bad("can't parse BotCommand JSON object")
            name = str(command.get("command", "")).removeprefix("/")
            description = str(command.get("description", ""))
            if not _COMMAND_RE.fullmatch(name):
                raise _bad("BOT_COMMAND_INVALID")
            if not description.strip():
                raise _bad("command description must be non-empty")
            if len(description) > 256:
                raise _bad("command description is too long")
            stored.append({"command": name, "description": description})
        key = self._scope_key(params)
        if stored:
            self._commands[key] = stored
        else:
            self._commands.pop(key, None)
        return True

    async def _get_my_commands(self, params: _Params) -> list[dict[str, str]]:
        return list(self._commands.get(self._scope_key(params), []))

    async def _delete_my_commands(self, params: _Params) -> bool:
        self._commands.pop(self._scope_key(params), None)
        return True

    async def _set_chat_menu_button(self, params: _Params) -> bool:
        button = params.json("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in (
            "default",
            "commands",
            "web_app",
        ):
            raise _bad("can't parse menu button JSON object")
        if params.has("chat_id"):
            self._chat_from(params).menu_button = button
        else:
            self._default_menu_button = button
        return True

    async def _get_chat_menu_button(self, params: _Params) -> dict[str, Any]:
        if params.has("chat_id"):
            chat = self._chat_from(params)
            if chat.menu_button is not None:
                return chat.menu_button
        return self._default_menu_button

    async def _get_chat(self, params: _Params) -> dict[str, Any]:
        return self._chat_from(params).to_full_info()

    async def _get_file(self, params: _Params) -> dict[str, Any]:
        stored = self._files.get(params.string("file_id") or "")
        if stored is None:
            raise _bad("invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD_BYTES:
            raise _bad("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }


def label_width(text: str) -> int:
    """Characters a person sees: code points, not counting variation selectors (U+FE0E,
    U+FE0F) and zero-width joiners, so "⏰ Programează" is 13."""
    return sum(1 for char in text if char not in "\ufe0e\ufe0f\u200d")


def _validate_button_url(url: str) -> None:
    match = _URL_SCHEME_RE.match(url)
    if match:
        scheme = match.group(1).lower()
        rest = url[match.end() :]
        if scheme not in ("http", "https", "tg") or not rest.startswith("//") or len(rest) <= 2:
            reason = (
                "Unsupported URL protocol"
                if scheme not in ("http", "https", "tg")
                else ("Wrong HTTP URL")
            )
            raise _bad(f"inline keyboard button URL '{url}' is invalid: {reason}")
        return
    host = url.split("/", 1)[0]
    if "." not in host or " " in url or host.startswith(".") or host.endswith("."):
        raise _bad(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


def _is_webp(data: bytes) -> bool:
    return data[:4] == b"RIFF" and data[8:12] == b"WEBP"


def _image_size(data: bytes) -> tuple[int, int]:
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    return (320, 320)


def _webhook_max_connections(params: _Params) -> int:
    """max_connections as Telegram reads it: default 40, clamped to 1-100, junk counts as 0."""
    raw = params.string("max_connections")
    if raw is None or raw == "":
        return DEFAULT_WEBHOOK_CONNECTIONS
    try:
        value = int(raw)
    except ValueError:
        value = 0
    return min(max(value, 1), MAX_WEBHOOK_CONNECTIONS)


def _parse_webhook_url(url: str) -> tuple[str, int]:
    """(scheme, port) of a webhook URL; a URL without a scheme is https, as for Telegram."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        scheme, rest = "https", url
    scheme = scheme.lower()
    if scheme not in ("http", "https"):
        raise ApiError(400, WEBHOOK_INVALID_URL)
    try:
        parts = urllib.parse.urlsplit("//" + rest)
        port = parts.port
    except ValueError:
        raise ApiError(400, WEBHOOK_INVALID_URL) from None
    if not parts.hostname or " " in rest:
        raise ApiError(400, WEBHOOK_INVALID_URL)
    return scheme, port if port is not None else (443 if scheme == "https" else 80)


def _check_webhook_ip_address(value: str) -> None:
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        raise _bad("bad webhook: Invalid IP address specified") from None
    if address.version != 4:
        raise _bad("bad webhook: IPv6-only addresses are not allowed")
    if not address.is_global:
        raise _bad(f"bad webhook: IP address {address} is reserved")


def _update_chat_id(update: dict[str, Any]) -> int | None:
    """The chat an update belongs to (a callback query: its message's chat), if any."""
    kind = next((key for key in update if key != "update_id"), "")
    body = update.get(kind)
    if not isinstance(body, dict):
        return None
    chat = body.get("chat")
    if chat is None and isinstance(body.get("message"), dict):
        chat = body["message"].get("chat")
    if isinstance(chat, dict) and isinstance(chat.get("id"), int):
        return int(chat["id"])
    sender = body.get("from")
    if isinstance(sender, dict) and isinstance(sender.get("id"), int):
        return int(sender["id"])
    return None


def _retry_after_header(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return min(max(seconds, 0.0), MAX_WEBHOOK_RETRY_AFTER)
