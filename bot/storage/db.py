"""The engine and session factory, for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 10_000
# The database holds clients' names, phones and notes: only the bot's own user may read it.
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
READ_ONLY = "crm_read_only"
# Rows ANALYZE samples per index on SQLite: milliseconds on millions of rows, and enough for the
# planner to tell a period's deals from the whole team's.
SQLITE_ANALYSIS_LIMIT = 1000
# Per connection on PostgreSQL. The report's aggregates cost enough to trigger JIT compilation,
# which takes longer than the query; and asyncpg's prepared statements would move to generic
# plans after five runs, which get periods and salespeople badly wrong.
POSTGRES_SETTINGS = {"jit": "off", "plan_cache_mode": "force_custom_plan"}


def async_url(database_url: str) -> URL:
    """Accept `sqlite:///…` and `postgresql://…` (or `postgres://…`) and pick the async driver."""
    url = make_url(database_url.replace("postgres://", "postgresql://", 1))
    backend = url.get_backend_name()
    if backend == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    if backend == "postgresql":
        return url.set(drivername="postgresql+asyncpg")
    raise ValueError(f"unsupported DATABASE_URL backend: {backend!r} (use sqlite or postgresql)")


def libpq_url(database_url: str) -> str:
    """The URL as libpq and asyncpg take it (`postgresql://…`, no `+driver`)."""
    url = make_url(database_url.replace("postgres://", "postgresql://", 1))
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _prepare_sqlite(engine: AsyncEngine) -> None:
    """WAL, a busy timeout, foreign keys, and `BEGIN IMMEDIATE` for every transaction.

    pysqlite's own transaction handling is switched off so that SQLAlchemy's `begin` emits our
    BEGIN: a read that later writes would otherwise fail with "database is locked" at once.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Deleted and overwritten content is zeroed in the file, so erased personal data
        # leaves it (with a checkpoint: `Database.checkpoint`).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A report only reads: a deferred BEGIN lets writers go on while it runs (WAL).
        if connection.get_execution_options().get(READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def _is_file_database(url: URL) -> bool:
    database = url.database or ""
    in_memory = url.query.get("mode") == "memory"
    return bool(database) and database != ":memory:" and not in_memory


def prepare_sqlite_file(path: Path) -> None:
    """Create the database file (0600) and its directory (0700) before SQLite opens them, so
    the process umask never decides who may read clients' data; tighten existing ones.

    SQLite creates its `-wal` and `-shm` files with the database file's mode. An existing
    directory is made 0700 only when it is the bot's own: created here, or holding nothing
    but this database's files (never a shared place such as /tmp or a home directory).
    """
    directory = path.parent
    created = not directory.exists()
    if created:
        directory.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR_MODE)
    if created or _holds_only(directory, path):
        _make_private(directory, PRIVATE_DIR_MODE)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        pass
    else:
        os.close(descriptor)
    for file in (path, *(path.with_name(path.name + suffix) for suffix in SQLITE_COMPANIONS)):
        if file.exists():
            _make_private(file, PRIVATE_FILE_MODE)


# The bot's own files beside its database: the lock it holds while it runs (`bot.backup`), the
# erasure log, the files a restore moves aside, the daily backups' folder.
BOT_COMPANIONS = (".lock", ".erasures.jsonl")


def _holds_only(directory: Path, database: Path) -> bool:
    own = {
        database.name,
        "backups",
        *(database.name + suffix for suffix in (*SQLITE_COMPANIONS, *BOT_COMPANIONS)),
    }
    try:
        if hasattr(os, "geteuid") and directory.stat().st_uid != os.geteuid():
            return False
        return {entry.name for entry in directory.iterdir()} <= own
    except OSError:
        return False


def _make_private(path: Path, mode: int) -> None:
    try:
        if stat.S_IMODE(path.stat().st_mode) != mode:
            path.chmod(mode)
    except OSError as error:
        log.warning("could not make %s private (mode %o): %s", path, mode, error)


def create_engine(database_url: str, *, echo: bool = False) -> AsyncEngine:
    url = async_url(database_url)
    if url.get_backend_name() == "sqlite":
        if _is_file_database(url) and not url.query.get("uri"):
            path = Path(url.database or "").expanduser()
            prepare_sqlite_file(path)
            url = url.set(database=str(path))
        engine = create_async_engine(
            url, echo=echo, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        )
        _prepare_sqlite(engine)
        return engine
    return create_async_engine(
        url,
        echo=echo,
        pool_size=5,
        max_overflow=10,
        pool_pre_ping=True,
        connect_args={"server_settings": POSTGRES_SETTINGS},
    )


# The tables whose rows an erasure rewrites (`bot.storage.erasure`).
ERASED_TABLES = ("client", "deal", "dealevent", "reminder", "conversationstate")


class WriteLock:
    """SQLite takes one writer at a time; its busy handler makes the others sleep and retry
    (sleeps that show up as latency). This lock queues a process's write transactions instead,
    first come first served; a unit of work opened inside another one of the same task goes
    through (it would wait for itself otherwise)."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        self._depth = 0

    async def acquire(self) -> None:
        task = asyncio.current_task()
        if task is not None and task is self._owner:
            self._depth += 1
            return
        await self._lock.acquire()
        self._owner, self._depth = task, 1

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._owner = None
            self._lock.release()


class Database:
    """One engine and its session factory for the life of the process."""

    def __init__(self, database_url: str, *, echo: bool = False) -> None:
        self.url = database_url
        self.engine = create_engine(database_url, echo=echo)
        self.sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )
        # SQLite: this process's write transactions queue here, not in SQLite's busy handler.
        self.write_lock = WriteLock() if self.is_sqlite else None
        # For work that only reads (digests, reports): on SQLite it does not take the write lock.
        self.read_sessions = async_sessionmaker(
            self.engine.execution_options(**{READ_ONLY: True}),
            class_=AsyncSession,
            expire_on_commit=False,
        )

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    async def refresh_statistics(self) -> None:
        """Planner statistics for SQLite (PostgreSQL's autovacuum keeps its own): without them
        SQLite picks indexes blindly, e.g. a team's 200,000 deals instead of a quarter's."""
        if not self.is_sqlite:
            return
        async with self.engine.begin() as connection:
            await connection.exec_driver_sql(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
            await connection.exec_driver_sql("ANALYZE")

    async def checkpoint(self) -> None:
        """After an erasure, the old versions of what was erased leave the database. SQLite
        (with `secure_delete` on, erased pages are zeroed): write the WAL into the file and
        empty it. PostgreSQL: VACUUM the tables an erasure writes, so the dead row versions
        that still hold the old values are cleaned out now instead of at autovacuum's whim."""
        if not self.is_sqlite:
            async with self.engine.connect() as connection:
                autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
                await autocommit.exec_driver_sql(f"VACUUM {', '.join(ERASED_TABLES)}")
            return
        async with self.engine.connect() as connection:
            # Outside a transaction (ours all BEGIN IMMEDIATE): on the driver's connection.
            raw = (await connection.get_raw_connection()).driver_connection
            assert raw is not None
            cursor = await raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy, _, _ = await cursor.fetchone()
            await cursor.close()
            if busy:
                log.warning("the WAL checkpoint could not finish: a reader held it")

    async def dispose(self) -> None:
        await self.engine.dispose()


async def server_major(database: Database) -> int | None:
    """PostgreSQL's major version (None for SQLite), for the pg_dump that may back it up."""
    if database.is_sqlite:
        return None
    async with database.engine.connect() as connection:
        number = (await connection.exec_driver_sql("SHOW server_version_num")).scalar()
    return int(str(number)) // 10_000
