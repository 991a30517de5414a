"""Start the bot (`python run_bot.py`) or only apply database migrations
(`python run_bot.py migrate`)."""

from __future__ import annotations

import asyncio
import logging
import sys

from pydantic import ValidationError
from telegram import Update

from bot.config import Settings

TOKEN_HELP = (
    "TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather in Telegram (/newbot), then put "
    "its token in the environment or in a .env file (TELEGRAM_BOT_TOKEN=123456:ABC...)."
)


class _HideToken(logging.Filter):
    """The token is part of every Bot API URL; it must never reach the log."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if self.token:
            message = record.getMessage()
            if self.token in message:
                record.msg, record.args = message.replace(self.token, "<token>"), None
        return True


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    token_filter = _HideToken(settings.telegram_bot_token.get_secret_value())
    for handler in logging.getLogger().handlers:
        handler.addFilter(token_filter)
    # httpx logs every request URL (token included) at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def load_settings() -> Settings:
    try:
        return Settings()  # type: ignore[call-arg]
    except ValidationError as error:
        if any(e["loc"] == ("telegram_bot_token",) for e in error.errors()):
            print(TOKEN_HELP, file=sys.stderr)
        else:
            print(f"Configuration error: {error}", file=sys.stderr)
        raise SystemExit(2) from None


async def _migrate(settings: Settings) -> None:
    from bot.storage.db import Database
    from bot.storage.migrate import upgrade

    database = Database(settings.database_url)
    try:
        await upgrade(database)
    finally:
        await database.dispose()


def main(argv: list[str]) -> int:
    settings = load_settings()
    configure_logging(settings)
    if argv[:1] == ["migrate"]:
        asyncio.run(_migrate(settings))
        logging.getLogger(__name__).info("database is up to date")
        return 0
    if argv:
        print("usage: python run_bot.py [migrate]", file=sys.stderr)
        return 2
    from bot.app import build_application

    application = build_application(settings)
    application.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
