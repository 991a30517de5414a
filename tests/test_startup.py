"""The Application's life driven by `bot.lifecycle` in the test's own event loop: the start-up
retry and its backoff, a refused token, the order initialize → post_init → start → polling →
stop → shutdown → post_shutdown, a server run beside the bot, and the SQLite file's modes."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from telegram.error import Conflict, Forbidden, InvalidToken, TimedOut

from bot import lifecycle
from bot.app import BotApplication, build_application, runtime_of
from bot.config import Settings
from bot.lifecycle import (
    ALLOWED_UPDATES,
    TelegramUnreachable,
    TokenRefused,
    api_base_url,
    polling_error,
    refused_status,
    retry_delays,
)
from bot.storage.db import Database, prepare_sqlite_file
from tests.fakes.telegram_server import FakeTelegram


def _settings(base_url: str, token: str, db_url: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        telegram_bot_token=token,
        telegram_api_base_url=base_url,
        database_url=db_url,
        reminder_tick_seconds=3600,
    )


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_backoff_doubles_from_one_second_up_to_fifteen() -> None:
    delays = retry_delays()
    assert [next(delays) for _ in range(7)] == [1, 2, 4, 8, 15, 15, 15]


def test_the_refusal_status_comes_from_the_chained_error() -> None:
    def refused(message: str) -> InvalidToken:
        try:
            try:
                raise InvalidToken(message)
            except InvalidToken as inner:
                raise InvalidToken("The token `1:x` was rejected by the server.") from inner
        except InvalidToken as outer:
            return outer

    assert refused_status(refused("Unauthorized")) == 401
    assert refused_status(refused("Not Found")) == 404
    assert refused_status(InvalidToken()) == 401


def test_allowed_updates_are_the_kinds_the_bot_handles() -> None:
    assert ALLOWED_UPDATES == ["message", "edited_message", "callback_query", "my_chat_member"]


def test_polling_errors_are_one_line_unless_unexpected(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="bot.lifecycle")
    polling_error(TimedOut())
    polling_error(Conflict("terminated by other getUpdates request"))
    polling_error(Forbidden("odd"))
    levels = [(r.levelno, r.exc_info is not None) for r in caplog.records]
    assert levels == [(logging.WARNING, False), (logging.ERROR, False), (logging.ERROR, True)]
    assert "TimedOut" in caplog.records[0].getMessage()


async def test_the_base_url_is_shown_without_the_token(tmp_path: Path) -> None:
    application = build_application(
        _settings("http://127.0.0.1:1/bot", "42:SECRET", f"sqlite:///{tmp_path / 'x.db'}")
    )
    assert api_base_url(application.bot) == "http://127.0.0.1:1/bot"
    await runtime_of(application).db.dispose()


async def test_an_unreachable_telegram_gives_up_after_the_retry_period(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    base_url = f"http://127.0.0.1:{_closed_port()}/bot"
    application = build_application(
        _settings(base_url, "42:SECRET", f"sqlite:///{tmp_path / 'x.db'}")
    )
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(TelegramUnreachable) as raised:
        await lifecycle.run(application, startup_retry_seconds=1.5, handle_signals=False)
    assert 1.4 < loop.time() - started < 5
    assert raised.value.base_url == base_url
    warnings = [r.getMessage() for r in caplog.records if r.name == "bot.lifecycle"]
    assert len(warnings) == 2, warnings  # attempts at 0 and 1 s, the last one at 1.5 s
    assert "retrying in 1 s" in warnings[0] and "42:SECRET" not in warnings[0]
    await runtime_of(application).db.dispose()


async def test_a_stop_while_waiting_for_telegram_ends_the_start_quietly(tmp_path: Path) -> None:
    application = build_application(
        _settings(
            f"http://127.0.0.1:{_closed_port()}/bot", "42:S", f"sqlite:///{tmp_path / 'x.db'}"
        )
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.call_later(0.3, stop.set)
    started = loop.time()
    await lifecycle.run(application, startup_retry_seconds=60, stop=stop, handle_signals=False)
    assert loop.time() - started < 2
    assert not application.running
    await runtime_of(application).db.dispose()


async def test_a_refused_token_is_not_retried(tmp_path: Path) -> None:
    fake = FakeTelegram()
    await fake.start()
    try:
        application = build_application(
            _settings(fake.base_url, "777:WRONG", f"sqlite:///{tmp_path / 'x.db'}")
        )
        with pytest.raises(TokenRefused) as raised:
            await lifecycle.run(application, startup_retry_seconds=60, handle_signals=False)
        assert raised.value.status == 401
        assert [method for method, _ in fake.requests] == ["getMe"]
    finally:
        await fake.stop()
    await runtime_of(application).db.dispose()


async def test_the_lifecycle_runs_post_init_polls_and_shuts_down_in_order(
    db_url: str,
) -> None:
    fake = FakeTelegram()
    await fake.start()
    application: BotApplication = build_application(_settings(fake.base_url, fake.token, db_url))
    calls: list[str] = []
    post_init, post_shutdown = application.post_init, application.post_shutdown
    assert post_init is not None and post_shutdown is not None

    async def traced_init(app: BotApplication) -> None:
        calls.append("post_init")
        await post_init(app)

    async def traced_shutdown(app: BotApplication) -> None:
        calls.append("post_shutdown")
        assert not app.running
        await post_shutdown(app)

    application.post_init, application.post_shutdown = traced_init, traced_shutdown

    async def serve(stop: asyncio.Event) -> None:
        # Runs beside the started bot: it can talk to it, then ends the run.
        calls.append("serve")
        assert application.running and application.updater is not None
        assert application.updater.running
        anna = fake.user(1, "Anna", language_code="en")
        await anna.send("/start")
        await anna.expect("Anna", timeout=20)
        stop.set()
        await asyncio.sleep(0)

    try:
        await asyncio.wait_for(lifecycle.run(application, serve=serve, handle_signals=False), 30)
    finally:
        await fake.stop()
    assert calls == ["post_init", "serve", "post_shutdown"]
    assert fake.allowed_updates == ALLOWED_UPDATES
    assert runtime_of(application).bot_username == fake.bot_username
    assert not application.running


async def test_a_failing_server_stops_the_bot_and_is_raised(tmp_path: Path) -> None:
    fake = FakeTelegram()
    await fake.start()
    application = build_application(
        _settings(fake.base_url, fake.token, f"sqlite:///{tmp_path / 'x.db'}")
    )

    async def serve(stop: asyncio.Event) -> None:
        raise OSError("address already in use")

    try:
        with pytest.raises(OSError, match="address already in use"):
            await asyncio.wait_for(
                lifecycle.run(application, serve=serve, handle_signals=False), 30
            )
    finally:
        await fake.stop()
    assert not application.running


def test_a_new_database_file_and_directory_are_private(tmp_path: Path, umask_022: None) -> None:
    database = tmp_path / "new" / "data" / "crm.sqlite3"
    prepare_sqlite_file(database)
    assert _mode(database.parent) == 0o700
    assert _mode(database) == 0o600 and database.stat().st_size == 0


def test_existing_files_are_tightened_but_a_shared_directory_is_left(
    tmp_path: Path, umask_022: None
) -> None:
    own = tmp_path / "own"
    own.mkdir(mode=0o755)
    files = [own / name for name in ("crm.sqlite3", "crm.sqlite3-wal", "crm.sqlite3-shm")]
    for file in files:
        file.touch(mode=0o644)
    prepare_sqlite_file(files[0])
    assert _mode(own) == 0o700
    assert [_mode(file) for file in files] == [0o600, 0o600, 0o600]

    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    (shared / "notes.txt").touch()
    (shared / "crm.sqlite3").touch(mode=0o644)
    prepare_sqlite_file(shared / "crm.sqlite3")
    assert _mode(shared) == 0o755
    assert _mode(shared / "crm.sqlite3") == 0o600


async def test_sqlite_makes_its_wal_files_with_the_database_mode(
    tmp_path: Path, umask_022: None
) -> None:
    path = tmp_path / "data" / "crm.sqlite3"
    database = Database(f"sqlite:///{path}")
    try:
        async with database.engine.begin() as connection:
            await connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            await connection.exec_driver_sql("INSERT INTO t VALUES (1)")
        modes = {
            name: _mode(path.with_name(name))
            for name in ("crm.sqlite3", "crm.sqlite3-wal", "crm.sqlite3-shm")
        }
        assert modes == dict.fromkeys(modes, 0o600)
        assert _mode(path.parent) == 0o700
    finally:
        await database.dispose()
