"""Start the bot (`python run_bot.py`: polling, or webhook mode when WEBHOOK_URL is set), only
apply database migrations (`python run_bot.py migrate`), say whether the bot is ready
(`python run_bot.py check`: the database answers, the schema is at head, a bot process ticked
lately; exit 0 when ready, 1 when not), copy the database while the bot runs
(`python run_bot.py backup PATH`: a file, or a folder for `crm-<time>.sqlite3`; PostgreSQL:
pg_dump), or put a backup back (`python run_bot.py restore PATH`, SQLite, with the bot stopped).
Only a start needs TELEGRAM_BOT_TOKEN.

Exit codes: 0 a normal stop (SIGINT/SIGTERM) or a command done, 1 not ready (`check`) or a
backup or restore that could not be made, 2 a usage error, 75 (EX_TEMPFAIL) Telegram was not
reachable for STARTUP_RETRY_SECONDS, 78 (EX_CONFIG) bad configuration, a refused token, a
database migrated by newer code, or another bot process on the same SQLite file.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import SecretStr, ValidationError
from sqlalchemy.exc import ArgumentError

from bot.config import Settings

if TYPE_CHECKING:
    from bot.logs import Scrubber
    from bot.storage.db import Database

EX_OK = 0
EX_USAGE = 2
EX_TEMPFAIL = 75
EX_CONFIG = 78

USAGE = "usage: python run_bot.py [migrate | check | backup PATH | restore PATH]"
COMMANDS: tuple[list[str], ...] = ([], ["migrate"], ["check"])
WITH_PATH = ("backup", "restore")
EX_NOT_READY = 1
EX_FAILED = 1
TOKEN_HELP = (
    "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather in Telegram (/newbot), then put "
    "its token in the environment or in a .env file (TELEGRAM_BOT_TOKEN=123456:ABC...)."
)
TOKEN_REFUSED = "Telegram refused the token ({status}): check TELEGRAM_BOT_TOKEN from @BotFather"
UNREACHABLE = (
    "Telegram was not reachable at {base_url} for {seconds:.0f} s ({reason}): check the network "
    "and TELEGRAM_API_BASE_URL; giving up"
)
DATABASE_URL_HELP = (
    "Configuration error: DATABASE_URL is not a database URL (use sqlite:///path/to/file or "
    "postgresql://user:password@host:5432/database)"
)

log = logging.getLogger("run_bot")


class ConfigurationError(Exception):
    """A one-line explanation of what is wrong with the configuration."""


class _MigrateSettings(Settings):
    """Migrations do not talk to Telegram: the token may be missing."""

    telegram_bot_token: SecretStr = SecretStr("")


def load_settings(*, need_token: bool = True) -> Settings:
    try:
        settings = Settings() if need_token else _MigrateSettings()  # type: ignore[call-arg]
    except ValidationError as error:
        if any(e["loc"] == ("telegram_bot_token",) for e in error.errors()):
            raise ConfigurationError(TOKEN_HELP) from None
        raise ConfigurationError(_describe(error)) from None
    if need_token and not settings.telegram_bot_token.get_secret_value().strip():
        raise ConfigurationError(TOKEN_HELP)
    from bot.storage.db import async_url

    try:
        async_url(settings.database_url)
    except ArgumentError:  # its text repeats the URL, password included
        raise ConfigurationError(DATABASE_URL_HELP) from None
    except ValueError as error:
        raise ConfigurationError(f"Configuration error: {error}") from None
    return settings


def _describe(error: ValidationError) -> str:
    """One line: each bad variable with what is wrong (never the value: it may be secret)."""
    problems = [
        f"{'.'.join(str(part) for part in e['loc']).upper()}: {e['msg']}" for e in error.errors()
    ]
    return "Configuration error: " + "; ".join(problems)


def configure_logging(settings: Settings) -> Scrubber:
    from bot.logs import configure_logging as configure

    token = settings.telegram_bot_token.get_secret_value()
    secrets = [token] if token else []
    if settings.webhook_secret is not None:
        secrets.append(settings.webhook_secret.get_secret_value())
    try:
        return configure(settings.log_level, secrets=secrets)
    except ValueError as error:
        raise ConfigurationError(f"Configuration error: LOG_LEVEL: {error}") from None


def _migrate(settings: Settings) -> None:
    from bot.storage.db import Database
    from bot.storage.migrate import SchemaTooNew

    try:
        asyncio.run(_upgrade(Database(settings.database_url)))
    except SchemaTooNew as error:
        raise ConfigurationError(f"Refusing to migrate: {error}") from None


async def _upgrade(database: Database) -> None:
    from bot.storage.migrate import upgrade

    try:
        await upgrade(database)
    finally:
        await database.dispose()


def _run(settings: Settings, scrub: Scrubber) -> int:
    """The bot, holding its SQLite file's lock for its whole life (one process per file)."""
    from bot.backup import BackupError, hold_lock, sqlite_path

    database = sqlite_path(settings.database_url)
    if database is None:
        return _run_bot(settings, scrub)
    try:
        with hold_lock(database):
            return _run_bot(settings, scrub)
    except BackupError as error:
        print(f"Refusing to start: {error}", file=sys.stderr)
        return EX_CONFIG


def _backup(settings: Settings, target: Path) -> int:
    from bot.backup import BackupError, backup_postgres, backup_sqlite, sqlite_path
    from bot.storage.db import Database, server_major

    async def run() -> Path:
        database = sqlite_path(settings.database_url)
        if database is not None:
            return await backup_sqlite(database, target)
        db = Database(settings.database_url)
        try:
            version = await server_major(db)
        finally:
            await db.dispose()
        return await backup_postgres(settings.database_url, target, version)

    try:
        written = asyncio.run(run())
    except (BackupError, OSError) as error:
        print(f"Backup failed: {error}", file=sys.stderr)
        return EX_FAILED
    print(f"backup written to {written} ({written.stat().st_size:,} bytes, verified)")
    return EX_OK


def _restore(settings: Settings, backup_file: Path) -> int:
    from bot.backup import BackupError, restore_sqlite, sqlite_path
    from bot.storage.migrate import known_revisions

    database = sqlite_path(settings.database_url)
    if database is None:
        print(
            "restore puts a SQLite backup back; for PostgreSQL use pg_restore (see the "
            "README's Operating section)",
            file=sys.stderr,
        )
        return EX_USAGE
    try:
        restored = restore_sqlite(database, backup_file, known_revisions())
    except (BackupError, OSError) as error:
        print(f"Restore refused: {error}", file=sys.stderr)
        return EX_FAILED
    _migrate(settings)  # a backup made by older code is brought up to date
    again = asyncio.run(_reapply_erasures(settings))
    print(
        f"restored {backup_file} into {database} (schema {restored.revision}, now up to date); "
        f"the database that was there is at {restored.aside}; "
        f"{again} client(s) erased again, as the erasure log says"
    )
    return EX_OK


async def _reapply_erasures(settings: Settings) -> int:
    from bot.clock import SystemClock
    from bot.services.erasure import ErasureLog, reapply_log
    from bot.storage.db import Database
    from bot.storage.unit_of_work import UnitOfWork

    database = Database(settings.database_url)
    clock = SystemClock()
    try:
        done = await reapply_log(
            lambda: UnitOfWork(database.sessions, clock),
            ErasureLog(settings.erasure_log_path),
            clock.now(),
        )
        await database.checkpoint()
    finally:
        await database.dispose()
    return done


def _run_bot(settings: Settings, scrub: Scrubber) -> int:
    from bot import lifecycle
    from bot.app import build_application, runtime_of, stop_senders
    from bot.storage.migrate import SchemaTooNew
    from bot.web import WebServer, set_webhook, uses

    application = build_application(settings)
    runtime = runtime_of(application)
    server = WebServer(application, runtime) if uses(settings) else None
    runtime.web = server

    async def ready() -> None:
        if settings.webhook_mode:
            await set_webhook(application, runtime)  # listening already: nothing is refused

    async def serve(stop: asyncio.Event) -> None:
        assert server is not None
        await server.serve(stop, ready=ready)

    try:
        asyncio.run(
            lifecycle.run(
                application,
                serve=serve if server is not None else None,
                polling=not settings.webhook_mode,
                startup_retry_seconds=settings.startup_retry_seconds,
                before_stop=lambda: stop_senders(application),
            )
        )
    except lifecycle.TokenRefused as refused:
        print(TOKEN_REFUSED.format(status=refused.status), file=sys.stderr)
        return EX_CONFIG
    except lifecycle.TelegramUnreachable as unreachable:
        line = UNREACHABLE.format(
            base_url=unreachable.base_url,
            seconds=unreachable.seconds,
            reason=unreachable.reason,
        )
        print(scrub(line), file=sys.stderr)
        return EX_TEMPFAIL
    except SchemaTooNew as error:
        print(f"Refusing to start: {error}", file=sys.stderr)
        return EX_CONFIG
    return EX_OK


def _check(settings: Settings) -> int:
    """The readiness checks from a shell: one line per check, exit 0 when all are fine."""
    from bot.health import Report, database_checks, tick_check
    from bot.storage.db import Database

    async def run() -> Report:
        database = Database(settings.database_url)
        report = Report()
        try:
            await database_checks(database, report)
            if report.checks.get("database") == "ok":
                from bot.clock import SystemClock
                from bot.storage.unit_of_work import UnitOfWork

                clock = SystemClock()
                try:
                    async with UnitOfWork(database.sessions, clock) as uow:
                        last = await uow.workers.last_tick()
                except Exception:
                    last = None
                tick_check(last, clock.now(), settings.reminder_tick_seconds, report)
        finally:
            await database.dispose()
        return report

    report = asyncio.run(run())
    for name, result in report.checks.items():
        print(f"{name}: {result}")
    print("ready" if report.ready else "not ready")
    return EX_OK if report.ready else EX_NOT_READY


def main(argv: list[str]) -> int:
    with_path = len(argv) == 2 and argv[0] in WITH_PATH and bool(argv[1].strip())
    if argv not in COMMANDS and not with_path:
        print(USAGE, file=sys.stderr)
        return EX_USAGE
    command = argv[0] if argv else "run"
    try:
        settings = load_settings(need_token=command == "run")
        scrub = configure_logging(settings)
        if command == "backup":
            return _backup(settings, Path(argv[1]).expanduser())
        if command == "restore":
            return _restore(settings, Path(argv[1]).expanduser())
        if command == "migrate":
            _migrate(settings)
            log.info("database is up to date")
            return EX_OK
        if command == "check":
            return _check(settings)
        return _run(settings, scrub)
    except ConfigurationError as error:
        print(error, file=sys.stderr)
        return EX_CONFIG


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
