"""`python run_bot.py` as a real process: configuration errors and their exit codes, migrations
without a token, a start with only the token and the API address that creates its SQLite file
and answers /start, a refused token, an unreachable Telegram, SIGTERM, and the file modes."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import inspect

from bot.storage.db import Database
from tests.fakes.telegram_server import FakeTelegram

RUN_BOT = Path(__file__).resolve().parent.parent / "run_bot.py"
CONFIG_VARIABLES = (
    "TELEGRAM_BOT_TOKEN",
    "TELEGRAM_API_BASE_URL",
    "DATABASE_URL",
    "BOT_ADMINS",
    "LOG_LEVEL",
    "STARTUP_RETRY_SECONDS",
)
EX_TEMPFAIL = 75
EX_CONFIG = 78


def _env(**values: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in CONFIG_VARIABLES}
    env.update(values)
    return env


def test_a_missing_token_says_how_to_get_one(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(RUN_BOT)],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == EX_CONFIG
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "@BotFather" in lines[0] and "TELEGRAM_BOT_TOKEN" in lines[0]


def test_an_invalid_setting_is_a_configuration_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(RUN_BOT)],
        cwd=tmp_path,
        env=_env(TELEGRAM_BOT_TOKEN="1:x", REMINDER_TICK_SECONDS="0"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == EX_CONFIG
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "REMINDER_TICK_SECONDS" in lines[0], result.stderr
    usage = subprocess.run(
        [sys.executable, str(RUN_BOT), "nonsense"],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert usage.returncode == 2 and "usage" in usage.stderr


async def test_migrate_alone_builds_the_schema_without_a_token(
    tmp_path: Path, db_url: str
) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(RUN_BOT),
        "migrate",
        cwd=tmp_path,
        env=_env(DATABASE_URL=db_url),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    # Alembic's context and plugin lines are DEBUG-only: one line says it is done.
    lines = stderr.decode().strip().splitlines()
    assert len(lines) == 1 and "database is up to date" in lines[0], lines
    database = Database(db_url)
    try:
        async with database.engine.connect() as connection:
            tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
    finally:
        await database.dispose()
    assert {"team", "deal", "dealevent", "reminder", "conversationstate"} <= set(tables)


async def test_the_bot_starts_with_only_a_token_and_an_api_address(tmp_path: Path) -> None:
    fake = FakeTelegram()
    await fake.start()
    # A file, not a pipe: at DEBUG the log outgrows a pipe nobody reads until the end.
    log_path = tmp_path / "bot.log"
    with log_path.open("wb") as log_file:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(RUN_BOT),
            cwd=tmp_path,
            env=_env(
                TELEGRAM_BOT_TOKEN=fake.token,
                TELEGRAM_API_BASE_URL=fake.base_url,
                LOG_LEVEL="DEBUG",
            ),
            stdout=log_file,
            stderr=log_file,
        )
    try:
        anna = fake.user(1, "Anna", language_code="pl")
        await anna.send("/start")
        welcome = await anna.expect("Anna", timeout=30)
        assert welcome.text.startswith("👋 Cześć")
        assert (tmp_path / "data" / "crm.sqlite3").exists()
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.wait(), 30)
        await fake.stop()
    log = log_path.read_text()
    assert process.returncode == 0, log[-2000:]
    assert "is up" in log
    assert fake.token not in log, "the token leaked into the log"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_a_refused_token_is_one_line_and_exit_78(tmp_path: Path) -> None:
    fake = FakeTelegram()
    await fake.start()
    wrong = "654321:AAHwrongTokenThatTelegramDoesNotKnow12345"
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(RUN_BOT),
            cwd=tmp_path,
            env=_env(TELEGRAM_BOT_TOKEN=wrong, TELEGRAM_API_BASE_URL=fake.base_url),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    finally:
        await fake.stop()
    output = stdout.decode() + stderr.decode()
    assert process.returncode == EX_CONFIG, output
    assert output.strip().splitlines() == [
        "Telegram refused the token (401): check TELEGRAM_BOT_TOKEN from @BotFather"
    ]
    assert wrong not in output and "AAHwrong" not in output


async def test_an_unreachable_telegram_is_retried_then_exit_75(tmp_path: Path) -> None:
    base_url = f"http://127.0.0.1:{_closed_port()}/bot"
    token = "654321:AAHsomeTokenForAnUnreachableTelegram123"
    started = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(RUN_BOT),
        cwd=tmp_path,
        env=_env(
            TELEGRAM_BOT_TOKEN=token,
            TELEGRAM_API_BASE_URL=base_url,
            STARTUP_RETRY_SECONDS="3",
        ),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 30)
    elapsed = time.monotonic() - started
    output = stdout.decode() + stderr.decode()
    assert process.returncode == EX_TEMPFAIL, output
    assert elapsed < 10, f"took {elapsed:.1f} s"
    assert "Traceback" not in output
    assert token not in output
    lines = output.strip().splitlines()
    # Attempts at 0, 1 and 3 s: a line for each of the first two, one for giving up.
    assert 2 <= len(lines) <= 4, lines
    assert all(base_url in line and "TELEGRAM_API_BASE_URL" in line for line in lines), lines
    assert "retrying in 1 s" in lines[0]
    assert "giving up" in lines[-1]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def _read_until(stream: asyncio.StreamReader, marker: str, seconds: float) -> str:
    seen = ""
    async with asyncio.timeout(seconds):
        while marker not in seen:
            line = await stream.readline()
            if not line:
                break
            seen += line.decode()
    return seen


@pytest.mark.parametrize("existing", [False, True], ids=["fresh", "existing"])
async def test_sigterm_stops_cleanly_and_the_database_is_private(
    tmp_path: Path, existing: bool
) -> None:
    data = tmp_path / "data"
    if existing:  # left by an older version, under umask 022
        data.mkdir(mode=0o755)
        data.chmod(0o755)
        (data / "crm.sqlite3").touch(mode=0o644)
        (data / "crm.sqlite3").chmod(0o644)
    fake = FakeTelegram()
    await fake.start()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(RUN_BOT),
        cwd=tmp_path,
        env=_env(TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_API_BASE_URL=fake.base_url),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        umask=0o022,
    )
    try:
        assert process.stderr is not None
        log = await _read_until(process.stderr, "is up", 30)
        assert "is up" in log, log
        database = data / "crm.sqlite3"
        modes = {
            "data": _mode(data),
            "db": _mode(database),
            "wal": _mode(database.with_name("crm.sqlite3-wal")),
            "shm": _mode(database.with_name("crm.sqlite3-shm")),
        }
        assert modes == {"data": 0o700, "db": 0o600, "wal": 0o600, "shm": 0o600}
        anna = fake.user(1, "Anna", language_code="en")
        await anna.send("/start")
        await anna.expect("Anna", timeout=30)
        assert fake.allowed_updates == [
            "message",
            "edited_message",
            "callback_query",
            "my_chat_member",
        ]
        process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        _, rest = await asyncio.wait_for(process.communicate(), 15)
        stopped_in = time.monotonic() - signalled
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await fake.stop()
    log += rest.decode()
    assert process.returncode == 0, log[-2000:]
    assert stopped_in < 10, f"took {stopped_in:.1f} s to stop"
    # One start line; no third-party chatter at INFO.
    assert log.count("is up") == 1
    for noise in ("alembic", "apscheduler", "Context impl", "Added job", "Application started"):
        assert noise not in log, log
    assert "Traceback" not in log
    assert fake.token not in log


def test_bot_admins_and_base_urls_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bot.config import Settings

    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "1:x")
    monkeypatch.setenv("BOT_ADMINS", "12, 34 56")
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", "http://127.0.0.1:8081/bot/")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.bot_admins == {12, 34, 56}
    assert settings.telegram_api_base_url == "http://127.0.0.1:8081/bot"
    assert settings.telegram_file_base_url == "http://127.0.0.1:8081/file/bot"
    assert settings.may_create_team(34) and not settings.may_create_team(99)
    monkeypatch.setenv("BOT_ADMINS", "")
    assert Settings(_env_file=None).may_create_team(99)  # type: ignore[call-arg]
    assert "1:x" not in repr(Settings(_env_file=None))  # type: ignore[call-arg]
