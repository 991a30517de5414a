"""Backups and restores of the database.

SQLite: `backup_sqlite(db, target)` copies the live database with SQLite's online backup API
in one step (`pages=-1`, in a thread: copied in small steps, a backup restarts at every write
of the running bot and may never finish), checks the copy with `PRAGMA integrity_check` and
leaves it owner-only (0600). The bot
holds an exclusive `flock` on `<db>.lock` for its whole life (`hold_lock`): a second bot process
on the same file refuses to start, and `restore` refuses while a bot runs. `restore` moves the
current file aside (with its `-wal` and `-shm`), puts the backup in its place, upgrades it if it
is older than the code, and refuses one newer than the code.

PostgreSQL: `pg_dump`/`pg_restore` (see the README); `backup` runs `pg_dump` when it is
installed, with the password in PGPASSWORD, never on the command line.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from sqlalchemy.engine import URL, make_url

BACKUP_GLOB = "crm-*.sqlite3"
DUMP_GLOB = "crm-*.dump"


class BackupError(RuntimeError):
    """Why a backup or a restore could not be made (one line, for the operator)."""


def sqlite_path(database_url: str) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL, or an in-memory database)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).expanduser()


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


# --- the bot's lock on its database file ------------------------------------------------------
@contextlib.contextmanager
def hold_lock(database: Path) -> Iterator[IO[str]]:
    """Hold the exclusive lock of a database file for as long as the block runs; raise
    BackupError at once when another process holds it."""
    from bot.storage.db import prepare_sqlite_file

    prepare_sqlite_file(database)  # the folder (0700) and the file (0600) before the lock
    path = lock_path(database)
    handle = os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT, 0o600), "r+")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(
                f"another process holds {path} (a bot is running on this database)"
            ) from None
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield handle
    finally:
        handle.close()


# --- SQLite -----------------------------------------------------------------------------------
def _copy(source: Path, target: Path) -> None:
    """SQLite's online backup of `source` into `target`, checked, owner-only."""
    partial = target.with_name(target.name + ".partial")
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
    live = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    copy = sqlite3.connect(partial)
    try:
        live.backup(copy, pages=-1)
        result = copy.execute("PRAGMA integrity_check").fetchone()
        if not result or result[0] != "ok":
            raise BackupError(f"the copy failed its integrity check: {result}")
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        copy.close()
        live.close()
    os.chmod(partial, 0o600)
    os.replace(partial, target)


def _backup_sqlite(database: Path, target: Path) -> Path:
    if not database.exists():
        raise BackupError(f"there is no database at {database}")
    if target.is_dir():
        target = target / f"crm-{datetime.now():%Y%m%d-%H%M%S}.sqlite3"
    target.parent.mkdir(parents=True, exist_ok=True)
    _copy(database, target)
    return target


async def backup_sqlite(database: Path, target: Path) -> Path:
    """A verified, owner-only copy of the live database at `target` (a file, or a folder to
    put `crm-<time>.sqlite3` in); returns the file written."""
    return await asyncio.to_thread(_backup_sqlite, database, target)


def schema_revision(database: Path) -> str | None:
    """The Alembic revision a SQLite file is at (None: not a bot database)."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return None
    finally:
        connection.close()
    return str(row[0]) if row else None


def check_backup(backup_file: Path) -> str:
    """A backup file fit to restore: readable, whole, a bot database; returns its revision."""
    if not backup_file.is_file():
        raise BackupError(f"there is no backup at {backup_file}")
    try:
        connection = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
        try:
            result = connection.execute("PRAGMA integrity_check").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{backup_file} is not a SQLite database ({error})") from None
    if not result or result[0] != "ok":
        raise BackupError(f"{backup_file} failed its integrity check: {result}")
    revision = schema_revision(backup_file)
    if revision is None:
        raise BackupError(f"{backup_file} is not a database of this bot")
    return revision


def prune(folder: Path, keep: int, pattern: str = BACKUP_GLOB) -> list[Path]:
    """Delete all but the newest `keep` backups in `folder`; returns the ones deleted."""
    backups = sorted(folder.glob(pattern), key=lambda path: path.stat().st_mtime, reverse=True)
    for old in backups[keep:]:
        with contextlib.suppress(FileNotFoundError):
            old.unlink()
    return backups[keep:]


def newest(folder: Path) -> float | None:
    """Unix time of the newest backup in `folder` (None: none yet)."""
    if not folder.is_dir():
        return None
    paths = [*folder.glob(BACKUP_GLOB), *folder.glob(DUMP_GLOB)]
    times = [path.stat().st_mtime for path in paths]
    return max(times, default=None)


def ensure_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)


# --- PostgreSQL -------------------------------------------------------------------------------
@dataclass(frozen=True)
class PgDump:
    command: list[str]
    environment: dict[str, str]


def pg_dump_command(database_url: str, target: Path) -> PgDump:
    """`pg_dump` of a PostgreSQL URL in the custom format, the password in PGPASSWORD."""
    url = make_url(database_url.replace("postgres://", "postgresql://", 1))
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    plain = URL.create(
        "postgresql",
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    )
    return PgDump(
        ["pg_dump", "--format=custom", "--no-owner", f"--file={target}", plain.render_as_string()],
        environment,
    )


def _major(text: str) -> int | None:
    for word in text.split():
        head = word.split(".")[0]
        if head.isdigit():
            return int(head)
    return None


def _pg_dump_version() -> int | None:
    version = subprocess.run(
        ["pg_dump", "--version"], capture_output=True, text=True, check=False
    ).stdout
    return _major(version)


async def backup_postgres(database_url: str, target: Path, server_version: int | None) -> Path:
    """`pg_dump` of the database at `target` (a file, or a folder for `crm-<time>.dump`)."""
    if shutil.which("pg_dump") is None:
        raise BackupError(
            "pg_dump is not installed: install PostgreSQL's client tools (e.g. apt install "
            "postgresql-client), or back up with pg_dump on the database host (see the README)"
        )
    major = await asyncio.to_thread(_pg_dump_version)
    if server_version is not None and major is not None and major < server_version:
        raise BackupError(
            f"pg_dump {major} is older than the server ({server_version}): install the "
            f"client tools of PostgreSQL {server_version} or newer"
        )
    if await asyncio.to_thread(target.is_dir):
        target = target / f"crm-{datetime.now():%Y%m%d-%H%M%S}.dump"
    dump = pg_dump_command(database_url, target)
    process = await asyncio.create_subprocess_exec(
        *dump.command, env=dump.environment, stderr=asyncio.subprocess.PIPE
    )
    _, errors = await process.communicate()
    if process.returncode != 0:
        raise BackupError(f"pg_dump failed: {errors.decode().strip()[:300]}")
    await asyncio.to_thread(os.chmod, target, 0o600)
    return target


def move_aside(database: Path, stamp: str) -> Path:
    """The current database (and its -wal and -shm) renamed `<name>.before-restore-<stamp>`."""
    aside = database.with_name(f"{database.name}.before-restore-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        current = database.with_name(database.name + suffix)
        if current.exists():
            os.replace(current, aside.with_name(aside.name + suffix))
    return aside


def install(backup_file: Path, database: Path) -> None:
    """Copy the backup into the database's place, owner-only."""
    partial = database.with_name(database.name + ".restoring")
    shutil.copyfile(backup_file, partial)
    os.chmod(partial, 0o600)
    os.replace(partial, database)


# --- the daily backup --------------------------------------------------------------------------
async def make_backup(
    database_url: str, folder: Path, keep: int, *, server_version: int | None = None
) -> Path:
    """One backup into `folder` (0700), then all but the newest `keep` deleted."""
    await asyncio.to_thread(ensure_folder, folder)
    database = sqlite_path(database_url)
    if database is not None:
        written = await backup_sqlite(database, folder)
        pattern = BACKUP_GLOB
    else:
        written = await backup_postgres(database_url, folder, server_version)
        pattern = DUMP_GLOB
    await asyncio.to_thread(prune, folder, keep, pattern)
    return written


# --- restore (SQLite) ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Restored:
    aside: Path  # where the database that was there went
    revision: str  # the backup's schema revision, before it was upgraded


def restore_sqlite(database: Path, backup_file: Path, known: set[str]) -> Restored:
    """Put a backup in the database's place (the caller then upgrades it). Refused while a
    bot holds the database, for a file that is not a whole bot database, and for one made by
    newer code (`known`: the revisions this code has)."""
    revision = check_backup(backup_file)
    if revision not in known:
        raise BackupError(
            f"{backup_file} was made by a newer version of the bot (schema {revision}): "
            "restore it with that version"
        )
    with hold_lock(database):
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        aside = move_aside(database, stamp)
        install(backup_file, database)
    return Restored(aside, revision)
