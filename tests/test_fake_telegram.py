"""The fake Bot API server, driven by the real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import struct
import zlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from tests.fakes.telegram_html import EntityParseError, parse_formatted, parse_html
from tests.fakes.telegram_server import FakeTelegram, FakeUser

TOKEN = "123456:TEST"


def ptb_message(description: str) -> str:
    """What PTB makes of a Telegram error description (it strips the prefix, capitalizes)."""
    stripped = description.removeprefix("Bad Request: ")
    return stripped.capitalize() if stripped != description else stripped


class Clock:
    """A manual clock for the token buckets and callback query ages."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Without it RetryAfter.__init__ itself emits a PTBDeprecationWarning (an error here).
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    yield


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest_asyncio.fixture
async def fake(clock: Clock) -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(token=TOKEN, bot_username="crm_test_bot", clock=clock)
    await server.start()
    yield server
    await server.stop()


@pytest_asyncio.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(fake.token, base_url=fake.base_url, base_file_url=fake.base_file_url) as b:
        yield b


@pytest_asyncio.fixture
async def alice(fake: FakeTelegram) -> FakeUser:
    user = fake.user(1001, "Alice", language_code="pl", username="alice")
    await user.send("/start")
    return user


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 2, 3, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + b"\xff\x00\x00" * 2 + b"\x00" + b"\x00\xff\x00" * 2 * 2)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )


# --------------------------------------------------------------------------------------------
# The HTML parser on its own


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<foo>bar</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("ы <foo>", 'Unsupported start tag "foo" at byte offset 3'),
        ("x<5", "Unclosed start tag at byte offset 1"),
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("text</b>", "Unexpected end tag at byte offset 4"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
    ],
)
def test_html_errors_match_telegram(source: str, error: str) -> None:
    with pytest.raises(EntityParseError) as info:
        parse_html(source)
    assert str(info.value) == error


def test_html_entities_and_offsets() -> None:
    parsed = parse_html(
        '😀 <b>Ja&amp;N</b> &lt;3 &nbsp; a & b > c <a href="https://x.io/?a=1&amp;b=2">l</a>'
        '<pre><code class="language-python">x</code></pre>'
        "<blockquote expandable>q</blockquote>"
    )
    assert parsed.text == "😀 Ja&N <3 &nbsp; a & b > c lxq"
    assert parsed.entities == [
        {"type": "bold", "offset": 3, "length": 4},  # the emoji counts two UTF-16 units
        {"type": "text_link", "offset": 28, "length": 1, "url": "https://x.io/?a=1&b=2"},
        {"type": "pre", "offset": 29, "length": 1, "language": "python"},
        {"type": "expandable_blockquote", "offset": 30, "length": 1},
    ]


def test_markdown_v2_reserved_characters() -> None:
    with pytest.raises(EntityParseError) as info:
        parse_formatted("Saved.", "MarkdownV2")
    assert (
        str(info.value) == "Character '.' is reserved and must be escaped with the preceding '\\'"
    )
    assert parse_formatted("*Saved*\\.", "MarkdownV2").text == "Saved."


# --------------------------------------------------------------------------------------------
# Transport


async def test_get_me_unknown_method_and_wrong_token(fake: FakeTelegram, bot: Bot) -> None:
    me = await bot.get_me()
    assert me.username == "crm_test_bot"
    assert me.is_bot
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{fake.base_url}{fake.token}/fooBar") as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found",
            }
        # JSON bodies are accepted too
        async with session.post(f"{fake.base_url}{fake.token}/getMe", json={}) as response:
            assert (await response.json())["result"]["id"] == 123456
    with pytest.raises(InvalidToken):
        async with Bot("999:WRONG", base_url=fake.base_url):
            pass


async def test_injected_server_errors(fake: FakeTelegram, bot: Bot, alice: FakeUser) -> None:
    fake.fail_next("sendMessage", status=502, description="Bad Gateway", times=2)
    for _ in range(2):
        with pytest.raises(NetworkError) as info:
            await bot.send_message(alice.id, "hi")
        assert type(info.value) is NetworkError
    await bot.send_message(alice.id, "hi")
    assert [m.text for m in alice.messages] == ["hi"]

    fake.fail_next(
        "sendMessage", status=429, description="Too Many Requests: retry after 7", retry_after=7
    )
    with pytest.raises(RetryAfter) as retry:
        await bot.send_message(alice.id, "again")
    assert retry.value.retry_after == dtm.timedelta(seconds=7)


# --------------------------------------------------------------------------------------------
# Validation


async def test_text_length_counts_after_entity_parsing(bot: Bot, alice: FakeUser) -> None:
    await bot.send_message(alice.id, "<b>" + "a" * 4096 + "</b>", parse_mode=ParseMode.HTML)
    assert len(alice.last.text) == 4096
    await bot.send_message(alice.id, "&lt;" * 4096, parse_mode=ParseMode.HTML)
    assert alice.last.text == "<" * 4096

    for text, mode in [("a" * 4097, None), ("&lt;" * 4097, ParseMode.HTML)]:
        with pytest.raises(BadRequest) as info:
            await bot.send_message(alice.id, text, parse_mode=mode)
        assert info.value.message == ptb_message("Bad Request: message is too long")
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(alice.id, "")
    with pytest.raises(BadRequest, match="Message must be non-empty"):
        await bot.send_message(alice.id, " <b> </b>\n", parse_mode=ParseMode.HTML)
    assert len(alice.messages) == 2


async def test_html_errors_reach_ptb(fake: FakeTelegram, bot: Bot, alice: FakeUser) -> None:
    cases = {
        "Price < 5": 'Unsupported start tag "" at byte offset 6',
        "<b>Team": 'Can\'t find end tag corresponding to start tag "b"',
        "Team <i": "Unclosed start tag at byte offset 5",
        "Team</b>": "Unexpected end tag at byte offset 4",
    }
    for text, error in cases.items():
        with pytest.raises(BadRequest) as info:
            await bot.send_message(alice.id, text, parse_mode=ParseMode.HTML)
        expected = f"Bad Request: can't parse entities: {error}"
        assert info.value.message == ptb_message(expected)
        assert fake.errors[-1] == ("sendMessage", 400, expected)  # the exact Telegram text
    with pytest.raises(BadRequest, match="reserved and must be escaped"):
        await bot.send_message(alice.id, "Done!", parse_mode=ParseMode.MARKDOWN_V2)
    assert alice.messages == []


async def test_callback_data_is_limited_to_64_bytes(bot: Bot, alice: FakeUser) -> None:
    ok = "д" * 32  # 64 bytes
    await bot.send_message(alice.id, "ok", reply_markup=keyboard([("A", ok)]))
    assert alice.last.buttons[0][0].callback_data == ok
    with pytest.raises(BadRequest) as info:
        await bot.send_message(alice.id, "x", reply_markup=keyboard([("A", ok + "x")]))
    assert info.value.message == "Button_data_invalid"  # PTB's capitalize() of BUTTON_DATA_INVALID


async def test_inline_keyboard_rules(bot: Bot, alice: FakeUser) -> None:
    with pytest.raises(BadRequest, match="Reply markup is too long"):
        await bot.send_message(alice.id, "x", reply_markup=keyboard([("b", "d")] * 9))
    with pytest.raises(BadRequest, match="is invalid: unsupported url protocol"):
        await bot.send_message(
            alice.id,
            "x",
            reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("Call", url="tel:+48600100200")]]
            ),
        )
    with pytest.raises(BadRequest, match="text buttons are unallowed in the inline keyboard"):
        await bot.send_message(
            alice.id,
            "x",
            reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("No action")]]),
        )
    await bot.send_message(
        alice.id,
        "links",
        reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("Site", url="https://example.com")]]
        ),
    )
    await bot.send_message(
        alice.id, "menu", reply_markup=ReplyKeyboardMarkup([["Deals", "Clients"]])
    )
    assert alice.last.reply_keyboard == [["Deals", "Clients"]]
    assert alice.reply_keyboard == [["Deals", "Clients"]]


async def test_edits_and_not_modified(bot: Bot, alice: FakeUser) -> None:
    markup = keyboard([("✅ Done", "deal:1:done")])
    sent = await bot.send_message(
        alice.id, "<b>Deal</b> #1", parse_mode="HTML", reply_markup=markup
    )
    first = await alice.expect(contains="Deal #1")
    assert first.event == "new" and first.html == "<b>Deal</b> #1"

    with pytest.raises(BadRequest) as info:
        await bot.edit_message_text(
            "<b>Deal</b> #1", alice.id, sent.message_id, parse_mode="HTML", reply_markup=markup
        )
    assert "Message is not modified" in info.value.message
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(alice.id, sent.message_id, reply_markup=markup)

    await bot.edit_message_text("Deal #1 closed", alice.id, sent.message_id)
    edited = await alice.expect(contains="closed")
    assert edited.event == "edit"
    assert edited.buttons == []  # an edit without reply_markup drops the keyboard
    assert alice.last.edit_count == 1
    assert first.text == "Deal #1"  # snapshots do not change afterwards
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", alice.id, 999)

    assert await bot.delete_message(alice.id, sent.message_id)
    assert alice.messages == []
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(alice.id, sent.message_id)


async def test_unknown_blocked_and_deactivated_chats(fake: FakeTelegram, bot: Bot) -> None:
    stranger = fake.user(2002, "Bob")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(stranger.id, "hi")
    await stranger.send("hello")
    await bot.send_message(stranger.id, "hi")

    stranger.block()
    with pytest.raises(Forbidden) as info:
        await bot.send_message(stranger.id, "still there?")
    assert info.value.message == "Forbidden: bot was blocked by the user"
    with pytest.raises(Forbidden):
        await bot.send_chat_action(stranger.id, "typing")
    updates = await bot.get_updates(timeout=0)
    member = updates[-1].my_chat_member
    assert member is not None
    assert (member.old_chat_member.status, member.new_chat_member.status) == ("member", "kicked")

    stranger.unblock()
    await bot.send_message(stranger.id, "welcome back")
    stranger.deactivate()
    with pytest.raises(Forbidden, match="user is deactivated"):
        await bot.send_message(stranger.id, "hi")
    assert [m.text for m in stranger.messages] == ["hi", "welcome back"]


# --------------------------------------------------------------------------------------------
# Flood control


async def test_flood_limit_per_chat(
    fake: FakeTelegram, bot: Bot, alice: FakeUser, clock: Clock
) -> None:
    for i in range(3):
        await bot.send_message(alice.id, f"m{i}")
    for _ in range(2):
        with pytest.raises(RetryAfter) as info:
            await bot.send_message(alice.id, "too fast")
        assert info.value.retry_after == dtm.timedelta(seconds=1)
    assert [m.text for m in alice.messages] == ["m0", "m1", "m2"]
    assert [(e.method, e.chat_id, e.scope) for e in fake.flood_errors] == [
        ("sendMessage", alice.id, "chat")
    ] * 2

    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{fake.base_url}{fake.token}/sendMessage", data={"chat_id": alice.id, "text": "x"}
        ) as response,
    ):
        assert response.status == 429
        assert response.headers["Retry-After"] == "1"
        assert await response.json() == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        }

    clock.advance(1.0)  # one token back at 1 msg/s
    await bot.send_message(alice.id, "m3")
    with pytest.raises(RetryAfter):
        await bot.edit_message_text("m3 edited", alice.id, alice.last.message_id)
    clock.advance(2.5)
    await bot.edit_message_text("m3 edited", alice.id, alice.last.message_id)

    fake.flood_limits = False
    for i in range(10):
        await bot.send_message(alice.id, f"burst {i}")


async def test_group_and_global_flood_limits(clock: Clock) -> None:
    async with (
        FakeTelegram(
            clock=clock, chat_burst=100, chat_rate=100, group_per_minute=2, global_burst=4
        ) as fake,
        Bot(fake.token, base_url=fake.base_url) as bot,
    ):
        group = fake.group(-100123, "Sales team")
        for _ in range(2):
            await bot.send_message(group.id, "hello team")
        with pytest.raises(RetryAfter) as info:
            await bot.send_message(group.id, "third")
        assert info.value.retry_after == dtm.timedelta(seconds=30)
        assert fake.flood_errors[-1].scope == "group"

        users = [fake.user(3000 + i, f"U{i}", started=True) for i in range(3)]
        await bot.send_message(users[0].id, "a")
        await bot.send_message(users[1].id, "b")
        with pytest.raises(RetryAfter):
            await bot.send_message(users[2].id, "c")
        assert fake.flood_errors[-1].scope == "global"
        assert users[2].messages == []


# --------------------------------------------------------------------------------------------
# Updates


async def test_get_updates_offset_and_long_poll(fake: FakeTelegram, bot: Bot) -> None:
    carol = fake.user(1003, "Carol")
    await carol.send("/start join-abc")
    updates = await bot.get_updates(timeout=0)
    assert len(updates) == 1
    message = updates[0].message
    assert message is not None and message.text == "/start join-abc"
    assert message.entities[0].type == "bot_command" and message.entities[0].length == 6
    assert message.from_user is not None and message.from_user.first_name == "Carol"
    assert len(await bot.get_updates(timeout=0)) == 1  # not confirmed yet

    next_offset = updates[0].update_id + 1
    assert await bot.get_updates(offset=next_offset, timeout=0) == ()
    assert fake.pending_updates == []

    loop = asyncio.get_running_loop()
    started = loop.time()
    poll = asyncio.create_task(bot.get_updates(offset=next_offset, timeout=5))
    await asyncio.sleep(0.05)
    assert not poll.done()
    await carol.send("second")
    woken = await asyncio.wait_for(poll, 2)
    assert loop.time() - started < 1
    assert woken[0].message is not None and woken[0].message.text == "second"


async def test_conflicting_get_updates(clock: Clock) -> None:
    async with (
        FakeTelegram(detect_conflicts=True, clock=clock) as fake,
        Bot(fake.token, base_url=fake.base_url) as first,
        Bot(fake.token, base_url=fake.base_url) as second,
    ):
        poll = asyncio.create_task(first.get_updates(timeout=5))
        await asyncio.sleep(0.05)
        assert await second.get_updates(timeout=0) == ()
        with pytest.raises(Conflict, match="terminated by other getUpdates request"):
            await asyncio.wait_for(poll, 2)


async def test_group_command_entity(fake: FakeTelegram, bot: Bot, alice: FakeUser) -> None:
    group = fake.group(-100123, "Sales team")
    await group.send(alice, "/report@crm_test_bot today")
    update = (await bot.get_updates(timeout=0))[-1]
    assert update.message is not None
    assert update.message.chat.type == "supergroup"
    assert update.message.entities[0].length == len("/report@crm_test_bot")
    await bot.send_message(group.id, "Report for today")
    assert (await group.expect(contains="Report")).chat_id == group.id


# --------------------------------------------------------------------------------------------
# Simulated users


async def test_expect_and_tap_roundtrip(
    fake: FakeTelegram, bot: Bot, alice: FakeUser, clock: Clock
) -> None:
    await bot.send_message(alice.id, "Welcome")
    await bot.send_message(
        alice.id,
        "No team yet",
        reply_markup=keyboard([("Create a team", "team:new"), ("Create", "x:create")]),
    )
    msg = await alice.expect(contains="team")
    assert msg.text == "No team yet"
    assert msg.button_texts == ["Create a team", "Create"]
    await alice.expect_no_message(within=0.1)  # "Welcome" was consumed on the way

    query_id = await alice.tap("Create")  # the exact match wins over "Create a team"
    tapped = [u for u in await bot.get_updates(timeout=0) if u.callback_query]
    query = tapped[-1].callback_query
    assert query is not None and query.id == query_id
    assert query.data == "x:create"
    assert query.message is not None and query.message.message_id == msg.message_id
    assert query.from_user.id == alice.id

    assert await bot.answer_callback_query(query_id, text="Creating…")
    assert await alice.expect_answer() == ("Creating…", False)
    assert alice.answers == [("Creating…", False)]
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query_id)

    late = await alice.tap("team", message=msg)
    clock.advance(16)
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(late)
    fresh = await alice.forge_tap("deal:42:open")
    with pytest.raises(BadRequest, match="Message_too_long"):
        await bot.answer_callback_query(fresh, text="x" * 201)
    assert fake.callback_queries[fresh].data == "deal:42:open"

    with pytest.raises(AssertionError, match="no bot message has a button 'Delete'"):
        await alice.tap("Delete")


async def test_expect_timeout_lists_what_arrived(bot: Bot, alice: FakeUser) -> None:
    await bot.send_message(alice.id, "Something else")
    with pytest.raises(AssertionError) as info:
        await alice.expect(contains="Team", timeout=0.05)
    assert "Something else" in str(info.value)
    assert (await alice.expect()).text == "Something else"  # the cursor stayed put


async def test_documents_photos_and_files(fake: FakeTelegram, bot: Bot, alice: FakeUser) -> None:
    csv_bytes = "name,phone\nŁukasz,+48600100200\n".encode()
    await alice.send_document(csv_bytes, "clients.csv", "text/csv")
    update = (await bot.get_updates(timeout=0))[-1]
    assert update.message is not None and update.message.document is not None
    file = await update.message.document.get_file()
    assert bytes(await file.download_as_bytearray()) == csv_bytes

    await bot.send_document(
        alice.id, csv_bytes, filename="export.csv", caption="<b>Export</b>", parse_mode="HTML"
    )
    document = alice.last.document
    assert document is not None
    assert (document.data, document.filename, document.caption) == (
        csv_bytes,
        "export.csv",
        "Export",
    )
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await bot.send_document(alice.id, csv_bytes, filename="x.csv", caption="c" * 1025)

    png = tiny_png()
    sent = await bot.send_photo(alice.id, png, caption="Chart")
    assert alice.last.photo == png and alice.last.text == "Chart"
    assert (sent.photo[-1].width, sent.photo[-1].height) == (2, 3)
    with pytest.raises(BadRequest, match="Image_process_failed"):
        await bot.send_photo(alice.id, b"not an image")
    await alice.share_contact("+48600100200", "Jan", "Kowalski")
    contact = (await bot.get_updates(timeout=0))[-1].message
    assert contact is not None and contact.contact is not None
    assert contact.contact.user_id == alice.id


async def test_commands_menu_and_chat(fake: FakeTelegram, bot: Bot, alice: FakeUser) -> None:
    await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("deals", "Deals")])
    await bot.set_my_commands(
        [BotCommand("start", "Początek")],
        scope=BotCommandScopeAllPrivateChats(),
        language_code="pl",
    )
    assert fake.commands() == [
        {"command": "start", "description": "Start"},
        {"command": "deals", "description": "Deals"},
    ]
    assert fake.commands({"type": "all_private_chats"}, "pl") == [
        {"command": "start", "description": "Początek"}
    ]
    assert fake.commands({"type": "all_private_chats"}) == []
    mine = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="pl")
    assert [c.command for c in mine] == ["start"]
    with pytest.raises(BadRequest):
        await bot.set_my_commands([BotCommand("Bad-Name", "x")])
    await bot.delete_my_commands()
    assert fake.commands() == []

    chat = await bot.get_chat(alice.id)
    assert (chat.type, chat.first_name, chat.username) == ("private", "Alice", "alice")
    await bot.set_chat_menu_button()
    assert fake.calls("setChatMenuButton") == [{}]


# --------------------------------------------------------------------------------------------
# A real Application polling the fake


async def test_application_polls_the_fake(fake: FakeTelegram, alice: FakeUser) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(
            update.effective_chat.id,
            f"Hi <b>{update.effective_user.first_name if update.effective_user else ''}</b>",
            parse_mode=ParseMode.HTML,
            reply_markup=keyboard([("Ping", "ping")]),
        )

    async def ping(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("pong")
        await query.edit_message_text("Pong!")

    app: Application[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(ping, pattern="^ping$"))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            greeting = await alice.expect(contains="Hi Alice")
            assert greeting.entities == [{"type": "bold", "offset": 3, "length": 5}]
            await alice.tap("Ping")
            await alice.expect(contains="Pong!")
            assert await alice.expect_answer() == ("pong", False)
        finally:
            await app.updater.stop()
            await app.stop()
    assert fake.pending_updates == []  # confirmed at shutdown
    sent = fake.calls("sendMessage")[0]
    assert json.loads(json.dumps(sent["reply_markup"])) == {
        "inline_keyboard": [[{"text": "Ping", "callback_data": "ping"}]]
    }
