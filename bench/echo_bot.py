"""The smallest python-telegram-bot v22 bot that answers like the CRM bot does: every text message
with one `send_message`, every button tap with `answer_callback_query` and one
`edit_message_text`. `bench.interactive` runs it as the reference for CPU and latency.

    TELEGRAM_BOT_TOKEN=... TELEGRAM_API_BASE_URL=http://127.0.0.1:PORT/bot \
        python bench/echo_bot.py [--rate-limiter [--max-retries N]]

Polling, the same update kinds as the CRM bot, one update at a time (PTB's default, as the CRM
bot). `--rate-limiter` puts PTB's `AIORateLimiter` in front of the Bot API: its defaults (30
requests a second with a chat id, 20 a minute per group), and `--max-retries` tries after a 429
(PTB's default is 0: the answer is lost).
"""

from __future__ import annotations

import argparse
import logging
import os

from telegram import Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

ALLOWED_UPDATES = [Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY]


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is not None and message.text is not None:
        await context.bot.send_message(chat_id=message.chat_id, text=message.text)


async def on_tap(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    # The query's id makes every edit differ from the message it replaces ("not modified").
    await query.edit_message_text(f"✓ {query.data} {query.id}")


def build(rate_limiter: bool, max_retries: int) -> Application:  # type: ignore[type-arg]
    builder = (
        ApplicationBuilder()
        .token(os.environ["TELEGRAM_BOT_TOKEN"])
        .base_url(os.environ.get("TELEGRAM_API_BASE_URL", "https://api.telegram.org/bot"))
    )
    application: Application = (  # type: ignore[type-arg]
        builder.rate_limiter(AIORateLimiter(max_retries=max_retries)).build()
        if rate_limiter
        else builder.build()
    )
    application.add_handler(MessageHandler(filters.TEXT, on_text))
    application.add_handler(CallbackQueryHandler(on_tap))
    return application


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate-limiter", action="store_true", help="behind AIORateLimiter")
    parser.add_argument(
        "--max-retries", type=int, default=0, help="AIORateLimiter's tries after a 429 (0)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    build(args.rate_limiter, args.max_retries).run_polling(
        poll_interval=0, allowed_updates=ALLOWED_UPDATES
    )


if __name__ == "__main__":
    main()
