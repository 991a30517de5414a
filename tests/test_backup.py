"""Backups and restores as the operator runs them: `python run_bot.py backup PATH` while the bot
runs (no token needed), the bot's lock on its SQLite file (a second bot refused, a restore
refused while it runs), `restore` moving the current file aside with its -wal/-shm, upgrading
an older backup and refusing a newer one; the daily backup with its folder, pruning and the
admins told once about a failure; pg_dump on PostgreSQL with the password kept off the command
line."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bot.backup import BackupError, make_backup, pg_dump_command, prune
from bot.storage.db import Database
from bot.storage.migrate import upgrade
from tests.conftest import FakeClock
from tests.fakes.telegram_server import FakeTelegram
from tests.harness import BotRunner, seed_team
from tests.test_run_bot import EX_CONFIG, RUN_BOT, _env, _read_until


def _run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(RUN_BOT), *args],
        cwd=tmp_path,
        env=_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _names(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        return [row[0] for row in connection.execute("SELECT name FROM client ORDER BY id")]


async def _start_bot(tmp_path: Path, fake: FakeTelegram) -> asyncio.subprocess.Process:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(RUN_BOT),
        cwd=tmp_path,
        env=_env(
            TELEGRAM_BOT_TOKEN=fake.token,
            TELEGRAM_API_BASE_URL=fake.base_url,
            BOT_ADMINS="1",
        ),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    log = await _read_until(process.stderr, "is up", 30)
    assert "is up" in log, log
    return process


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is None:
        process.terminate()
        await asyncio.wait_for(process.wait(), 15)


async def test_backup_while_running_then_restore_it_later(tmp_path: Path) -> None:
    fake = FakeTelegram()
    await fake.start()
    database = tmp_path / "data" / "crm.sqlite3"
    process = await _start_bot(tmp_path, fake)
    try:
        anna = fake.user(1, "Anna", language_code="en")
        await anna.send("/start")
        await anna.expect(predicate=lambda m: bool(m.buttons), timeout=30)
        await anna.tap("➕ Create a team")
        await anna.expect("64", timeout=30)
        await anna.send("North Motors")
        await anna.expect("North Motors", timeout=30)
        await anna.send("/new Jan Kowalski +48 600 100 200 95000")
        await anna.expect("Saved as deal", timeout=30)

        # A backup of the running bot, without a token.
        made = await asyncio.to_thread(_run, tmp_path, "backup", "backups/first.sqlite3")
        assert made.returncode == 0, made.stderr
        backup = tmp_path / "backups" / "first.sqlite3"
        assert _mode(backup) == 0o600
        assert _names(backup) == ["Jan Kowalski"]
        with sqlite3.connect(backup) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)

        # The bot holds its file: a second bot and a restore are refused.
        second = await asyncio.to_thread(
            _run, tmp_path, TELEGRAM_BOT_TOKEN=fake.token, TELEGRAM_API_BASE_URL=fake.base_url
        )
        assert second.returncode == EX_CONFIG, second.stderr
        assert "another process holds" in second.stderr
        refused = await asyncio.to_thread(_run, tmp_path, "restore", "backups/first.sqlite3")
        assert refused.returncode == 1 and "a bot is running" in refused.stderr, refused.stderr

        await anna.send("/new Ewa Lis +48 600 100 203 70000")
        await anna.expect("Saved as deal", timeout=30)
        process.kill()  # a crash: the last writes are in the -wal beside the file
        await process.wait()
    finally:
        await _stop(process)
        await fake.stop()
    assert database.with_name("crm.sqlite3-wal").exists()

    restored = await asyncio.to_thread(_run, tmp_path, "restore", "backups/first.sqlite3")
    assert restored.returncode == 0, restored.stderr
    assert _names(database) == ["Jan Kowalski"]
    assert _mode(database) == 0o600
    aside = [path.name for path in (tmp_path / "data").iterdir() if "before-restore" in path.name]
    assert len(aside) == 3 and {name.rsplit("-", 1)[-1] for name in aside} >= {"wal", "shm"}
    (kept_name,) = [name for name in aside if not name.endswith(("-wal", "-shm"))]
    kept = tmp_path / "data" / kept_name
    assert _names(kept) == ["Jan Kowalski", "Ewa Lis"]  # nothing is lost by a restore


async def test_restore_upgrades_an_older_backup_and_refuses_a_newer_one(tmp_path: Path) -> None:
    old = tmp_path / "old.sqlite3"
    database = Database(f"sqlite:///{old}")
    try:
        await upgrade(database, "0006")
    finally:
        await database.dispose()
    made = await asyncio.to_thread(_run, tmp_path, "restore", str(old))
    assert made.returncode == 0, made.stderr
    with sqlite3.connect(tmp_path / "data" / "crm.sqlite3") as connection:
        (revision,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    assert revision != "0006" and "schema 0006" in made.stdout

    newer = tmp_path / "newer.sqlite3"
    newer.write_bytes((tmp_path / "data" / "crm.sqlite3").read_bytes())
    with sqlite3.connect(newer) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    refused = await asyncio.to_thread(_run, tmp_path, "restore", str(newer))
    assert refused.returncode == 1 and "newer version" in refused.stderr, refused.stderr
    not_a_db = tmp_path / "notes.txt"
    not_a_db.write_text("hello")
    refused = await asyncio.to_thread(_run, tmp_path, "restore", str(not_a_db))
    assert refused.returncode == 1 and "not" in refused.stderr
    usage = await asyncio.to_thread(_run, tmp_path, "restore")
    assert usage.returncode == 2


async def test_the_daily_backup_keeps_the_newest_in_a_private_folder(tmp_path: Path) -> None:
    live = tmp_path / "live.sqlite3"
    database = Database(f"sqlite:///{live}")
    try:
        await upgrade(database)
    finally:
        await database.dispose()
    folder = tmp_path / "backups"
    written = []
    for second in range(4):
        path = await make_backup(f"sqlite:///{live}", folder, keep=3)
        os.utime(path, (1_700_000_000 + second, 1_700_000_000 + second))
        written.append(path)
        await asyncio.sleep(1.01)  # the names carry the second
    assert _mode(folder) == 0o700
    assert sorted(folder.iterdir()) == sorted(written[1:])
    assert prune(folder, 1) == [written[2], written[1]]
    with pytest.raises(BackupError, match="no database"):
        await make_backup(f"sqlite:///{tmp_path / 'gone.sqlite3'}", folder, keep=3)


async def test_a_failed_daily_backup_is_told_to_the_admins_once(
    tmp_path: Path, fake_telegram: FakeTelegram, db_url: str, backend: str, clock: FakeClock
) -> None:
    from bot.context import BotContext
    from bot.handlers.operations import daily_backup

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")  # the backup folder cannot be made here
    runner = BotRunner(
        fake_telegram, db_url, clock, admins=[1], backup_dir=blocker / "backups", backup_keep=2
    )
    await runner.start()
    try:
        people = await seed_team(runner, fake_telegram, "North", [(1, "Anna", "en", "manager")])
        assert runner.app is not None
        context = BotContext(runner.app)
        for _ in range(2):
            await daily_backup(context)
        told = [m for m in people["Anna"].messages if "backup of the CRM failed" in m.text]
        assert len(told) == 1, [m.text for m in people["Anna"].messages]
        if backend == "sqlite":  # works again: the next failure is told again
            runner.runtime.settings.backup_dir = tmp_path / "backups"
            await daily_backup(context)
            assert len(list((tmp_path / "backups").iterdir())) == 1
            assert not runner.runtime.backup_failure_told
    finally:
        await runner.stop()


def test_pg_dump_gets_the_password_from_the_environment() -> None:
    dump = pg_dump_command(
        "postgresql+asyncpg://crm:s3cret@db.internal:5432/crm", Path("/tmp/x.dump")
    )
    assert all("s3cret" not in part for part in dump.command)
    assert dump.environment["PGPASSWORD"] == "s3cret"
    assert dump.command[-1] == "postgresql://crm@db.internal:5432/crm"


async def test_backup_on_postgresql_runs_pg_dump(
    tmp_path: Path, db_url: str, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("pg_dump is for PostgreSQL")
    database = Database(db_url)
    try:
        await upgrade(database)
    finally:
        await database.dispose()
    made = await asyncio.to_thread(_run, tmp_path, "backup", "crm.dump", DATABASE_URL=db_url)
    assert made.returncode == 0, made.stderr
    listing = (
        await asyncio.to_thread(
            subprocess.run,
            ["pg_restore", "--list", str(tmp_path / "crm.dump")],
            capture_output=True,
            text=True,
            check=True,
        )
    ).stdout
    assert "TABLE public deal" in listing
    assert _mode(tmp_path / "crm.dump") == 0o600
