"""Start the bot (`python run_bot.py`) or only apply database migrations
(`python run_bot.py migrate`).

Exit codes: 0 a normal stop (SIGINT/SIGTERM), 2 a usage error, 75 (EX_TEMPFAIL) Telegram was
not reachable for STARTUP_RETRY_SECONDS, 78 (EX_CONFIG) bad configuration or a refused token.
"""

from __future__ import annotations

import asyncio
import logging
import sys
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

USAGE = "usage: python run_bot.py [migrate]"
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
    try:
        return configure(settings.log_level, secrets=[token] if token else [])
    except ValueError as error:
        raise ConfigurationError(f"Configuration error: LOG_LEVEL: {error}") from None


def _migrate(settings: Settings) -> None:
    from bot.storage.db import Database

    asyncio.run(_upgrade(Database(settings.database_url)))


async def _upgrade(database: Database) -> None:
    from bot.storage.migrate import upgrade

    try:
        await upgrade(database)
    finally:
        await database.dispose()


def _run(settings: Settings, scrub: Scrubber) -> int:
    from bot import lifecycle
    from bot.app import build_application, stop_senders

    application = build_application(settings)
    try:
        asyncio.run(
            lifecycle.run(
                application,
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
    return EX_OK


def main(argv: list[str]) -> int:
    if argv not in ([], ["migrate"]):
        print(USAGE, file=sys.stderr)
        return EX_USAGE
    migrate = argv == ["migrate"]
    try:
        settings = load_settings(need_token=not migrate)
        scrub = configure_logging(settings)
        if migrate:
            _migrate(settings)
            log.info("database is up to date")
            return EX_OK
        return _run(settings, scrub)
    except ConfigurationError as error:
        print(error, file=sys.stderr)
        return EX_CONFIG


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
