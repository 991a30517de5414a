"""`python run_bot.py` as a real process: configuration errors, migrations, and a start with
only the token and the API address that creates its SQLite file and answers /start."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect

from bot.storage.db import Database
from tests.fakes.telegram_server import FakeTelegram

RUN_BOT = Path(__file__).resolve().parent.parent / "run_bot.py"
CONFIG_VARIABLES = ("TELEGRAM_BOT_TOKEN", "TELEGRAM_API_BASE_URL", "DATABASE_URL", "BOT_ADMINS")


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
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "@BotFather" in lines[0] and "TELEGRAM_BOT_TOKEN" in lines[0]


async def test_migrate_alone_builds_the_schema(tmp_path: Path, db_url: str) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(RUN_BOT),
        "migrate",
        cwd=tmp_path,
        env=_env(TELEGRAM_BOT_TOKEN="1:x", DATABASE_URL=db_url),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
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
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(RUN_BOT),
        cwd=tmp_path,
        env=_env(
            TELEGRAM_BOT_TOKEN=fake.token,
            TELEGRAM_API_BASE_URL=fake.base_url,
            LOG_LEVEL="DEBUG",
        ),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
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
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
        await fake.stop()
    log = stderr.decode()
    assert process.returncode == 0, log[-2000:]
    assert "is up" in log
    assert fake.token not in log, "the token leaked into the log"


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
