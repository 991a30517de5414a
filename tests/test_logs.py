"""What reaches the log: the token never (not in messages, tracebacks, stack information or
uncaught exceptions), third-party start-up chatter only at DEBUG, and a failed update named by
its id, kind, chat and command, never by what the person typed."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest
from telegram.error import InvalidToken, NetworkError

from bot.logs import (
    REDACTED,
    Scrubber,
    ScrubbingFormatter,
    configure_logging,
    parse_level,
    scrub,
)
from tests.fakes.telegram_server import FakeTelegram
from tests.harness import BotRunner, seed_team

TOKEN = "123456789:AAH-secret_Token-value-0123456789abcdef"


@pytest.fixture
def logger() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(ScrubbingFormatter(scrubber=Scrubber(["1:short"])))
    log = logging.getLogger("tests.scrubbing")
    log.addHandler(handler)
    log.propagate = False
    try:
        yield log, stream
    finally:
        log.removeHandler(handler)
        log.propagate = True


def test_the_formatter_scrubs_the_token_in_a_traceback(
    logger: tuple[logging.Logger, io.StringIO],
) -> None:
    log, stream = logger
    try:
        try:
            raise NetworkError(f"httpx.ConnectError: https://api.telegram.org/bot{TOKEN}/getMe")
        except NetworkError as error:
            raise InvalidToken(f"The token `{TOKEN}` was rejected by the server.") from error
    except InvalidToken:
        log.exception("start failed with %s", TOKEN, stack_info=True)
    written = stream.getvalue()
    assert "Traceback" in written and "Stack (most recent call last)" in written
    assert TOKEN not in written and "AAH-secret" not in written
    assert written.count(REDACTED) >= 3
    assert "https://api.telegram.org/bot<token>/getMe" in written


def test_the_given_secrets_go_even_when_they_do_not_look_like_tokens(
    logger: tuple[logging.Logger, io.StringIO],
) -> None:
    log, stream = logger
    log.warning("url http://x/bot1:short/getMe and encoded 1%3Ashort")
    assert "1:short" not in stream.getvalue() and "1%3Ashort" not in stream.getvalue()


def test_scrub_replaces_secrets_and_token_shaped_text() -> None:
    assert scrub(f"a {TOKEN} b") == "a <token> b"
    assert scrub("a s3cret b", ["s3cret"]) == "a <token> b"
    assert scrub("deal #12 at 10:30, phone +48 600 100 200") == (
        "deal #12 at 10:30, phone +48 600 100 200"
    )


def test_log_levels_are_parsed() -> None:
    assert parse_level("debug") == logging.DEBUG and parse_level("30") == 30
    with pytest.raises(ValueError, match="LOUD"):
        parse_level("LOUD")


@pytest.fixture
def restore_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    import threading

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    names = ("httpx", "httpcore", "alembic", "apscheduler", "telegram")
    levels = {name: logging.getLogger(name).level for name in names}
    try:
        yield
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)
        logging.captureWarnings(False)
        for name, old in levels.items():
            logging.getLogger(name).setLevel(old)


def test_third_party_chatter_is_quiet_unless_debug(restore_logging: None) -> None:
    stream = io.StringIO()
    configure_logging("INFO", secrets=[TOKEN], stream=stream)
    for name in ("alembic.runtime.migration", "apscheduler.scheduler", "telegram.ext.Application"):
        logging.getLogger(name).info("chatter")
        assert not logging.getLogger(name).isEnabledFor(logging.INFO)
    logging.getLogger("bot.app").info("bot @x is up (database: sqlite)")
    logging.getLogger("httpx").info(
        "HTTP Request: POST https://api.telegram.org/bot%s/getMe", TOKEN
    )
    assert stream.getvalue().count("\n") == 1 and "is up" in stream.getvalue()

    configure_logging("DEBUG", secrets=[TOKEN], stream=stream)
    assert logging.getLogger("alembic.runtime.migration").isEnabledFor(logging.INFO)
    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
    assert len([h for h in logging.getLogger().handlers if h.get_name() == "bot.logs"]) == 1


@pytest.mark.parametrize("where", ["main", "thread"])
def test_uncaught_exceptions_are_scrubbed(where: str) -> None:
    raising = (
        f"raise RuntimeError('GET https://api.telegram.org/bot{TOKEN}/getMe')"
        if where == "main"
        else textwrap.dedent(
            f"""
            import threading
            def boom():
                raise RuntimeError('GET https://api.telegram.org/bot{TOKEN}/getMe')
            thread = threading.Thread(target=boom, name="worker")
            thread.start()
            thread.join()
            """
        )
    )
    program = (
        "from bot.logs import configure_logging\n"
        f"configure_logging('INFO', secrets=[{TOKEN!r}])\n" + raising
    )
    result = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert "Traceback" in result.stderr and "RuntimeError" in result.stderr, result.stderr
    assert TOKEN not in result.stderr and "bot<token>/getMe" in result.stderr
    if where == "thread":
        assert "Exception in thread worker" in result.stderr


def test_an_update_is_described_by_id_kind_chat_and_command_only() -> None:
    from datetime import UTC, datetime

    from telegram import CallbackQuery, Chat, Message, Update, User

    from bot.handlers.errors import describe

    chat, user = Chat(7, "private"), User(7, "Ola", False)
    now = datetime(2026, 11, 23, tzinfo=UTC)

    def message(text: str) -> Update:
        return Update(9, message=Message(1, now, chat, from_user=user, text=text))

    assert describe(message("/new Jan Kowalski +48 600")) == "update 9, message, chat 7, /new"
    assert describe(message("/new@crm_bot Jan")) == "update 9, message, chat 7, /new"
    assert describe(message("Jan Kowalski")) == "update 9, message, chat 7"
    assert describe(message("/Jan-Kowalski")) == "update 9, message, chat 7, /?"
    tap = CallbackQuery(
        "q", user, "ci", message=Message(2, now, chat, text="card"), data="d:12:Kowalski"
    )
    assert describe(Update(10, callback_query=tap)) == (
        "update 10, callback_query, chat 7, callback d"
    )
    assert describe(None) == "no update"


async def test_a_failed_update_is_logged_without_what_the_person_typed(
    bot: BotRunner,
    fake_telegram: FakeTelegram,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from bot.services import deals

    users = await seed_team(bot, fake_telegram, "Autohaus", [(501, "Ola", "en", "manager")])
    ola = users["Ola"]

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(deals, "create_deal", broken)
    caplog.set_level(logging.INFO)
    update_id = fake_telegram._next_update_id  # the id the next update gets
    await ola.send("/new Jan Kowalski +48 600 100 200 95000 Octavia")
    await ola.expect("Something went wrong", timeout=20)

    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    line = errors[0].getMessage()
    assert f"update {update_id}" in line and "/new" in line and "chat 501" in line
    assert "message" in line
    assert errors[0].exc_info is not None and "went away" in caplog.text  # the trace is kept
    for typed in ("Kowalski", "600 100 200", "600100200", "Octavia", "95000"):
        assert typed not in caplog.text, f"{typed!r} reached the log"


async def test_the_whole_update_is_logged_only_at_debug(
    bot: BotRunner,
    fake_telegram: FakeTelegram,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from bot.services import deals

    users = await seed_team(bot, fake_telegram, "Autohaus", [(502, "Ola", "en", "manager")])

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(deals, "create_deal", broken)
    caplog.set_level(logging.DEBUG, logger="bot.handlers.errors")
    await users["Ola"].send("/new Jan Kowalski +48 600 100 200")
    await users["Ola"].expect("Something went wrong", timeout=20)
    debug = [
        r for r in caplog.records if r.levelno == logging.DEBUG and "Kowalski" in r.getMessage()
    ]
    assert len(debug) == 1 and debug[0].name == "bot.handlers.errors"
