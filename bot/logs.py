"""Logging set-up: one stderr handler whose formatter scrubs secrets from everything it writes
(the message, tracebacks, stack information), quiet third-party loggers, and exception hooks
that scrub uncaught tracebacks the same way.

The bot token is part of every Bot API URL, so it turns up in httpx and PTB exception texts;
scrubbing only the message (a `logging.Filter`) misses the traceback, which is formatted later.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import traceback
from collections.abc import Iterable
from types import TracebackType
from typing import Any, TextIO
from urllib.parse import quote

REDACTED = "<token>"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Anything shaped like a Bot API token (bot id, a colon, 35 characters), whoever's it is.
TOKEN_PATTERN = re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{30,}")
# httpx logs every request URL, token included, at INFO: never below WARNING.
ALWAYS_QUIET = ("httpx", "httpcore")
# Start-up chatter at INFO (Alembic's context and plugin lines, APScheduler's jobs, PTB's
# "Application started"): shown only with LOG_LEVEL=DEBUG.
QUIET_UNLESS_DEBUG = ("alembic", "apscheduler", "telegram", "uvicorn")


class Scrubber:
    """Replaces the given secrets (as written and percent-encoded) and anything that looks like
    a bot token with `<token>`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        for variant in (secret, quote(secret, safe="")):
            if variant and variant not in self.secrets:
                self.secrets.append(variant)
        # Longer first, so that a secret containing another is replaced whole.
        self.secrets.sort(key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return TOKEN_PATTERN.sub(REDACTED, text)


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with the secrets and anything token-shaped replaced by `<token>`."""
    return Scrubber(secrets)(text)


class ScrubbingFormatter(logging.Formatter):
    """A formatter whose whole output (message, exception text, stack) is scrubbed."""

    def __init__(
        self,
        fmt: str | None = LOG_FORMAT,
        datefmt: str | None = None,
        *,
        scrubber: Scrubber | None = None,
    ) -> None:
        super().__init__(fmt, datefmt)
        self.scrubber = scrubber or Scrubber()

    def format(self, record: logging.LogRecord) -> str:
        text = self.scrubber(super().format(record))
        # The formatted traceback is cached on the record: another handler must not get the
        # unscrubbed one.
        if record.exc_text:
            record.exc_text = self.scrubber(record.exc_text)
        return text

    def formatException(self, ei: Any) -> str:
        return self.scrubber(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        return self.scrubber(super().formatStack(stack_info))


def parse_level(name: str) -> int:
    """`DEBUG`, `info`, `20`, … as a level number; ValueError for anything else."""
    text = name.strip().upper()
    if text.isdigit():
        return int(text)
    level = logging.getLevelNamesMapping().get(text)
    if level is None:
        raise ValueError(f"unknown log level {name!r} (use DEBUG, INFO, WARNING or ERROR)")
    return level


_HANDLER_NAME = "bot.logs"


def configure_logging(
    level: str | int = logging.INFO,
    *,
    secrets: Iterable[str] = (),
    stream: TextIO | None = None,
) -> Scrubber:
    """Log to stderr (or `stream`) through a scrubbing formatter, quiet the third-party loggers,
    and install the exception hooks. Calling it again replaces what an earlier call set up."""
    number = parse_level(level) if isinstance(level, str) else level
    scrubber = Scrubber(secrets)
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == _HANDLER_NAME]:
        root.removeHandler(old)
        old.close()
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(ScrubbingFormatter(scrubber=scrubber))
    root.addHandler(handler)
    root.setLevel(number)
    for name in ALWAYS_QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    quiet = logging.WARNING if number > logging.DEBUG else logging.NOTSET
    for name in QUIET_UNLESS_DEBUG:
        logging.getLogger(name).setLevel(quiet)
    # Python warnings are written through the same scrubbing handler.
    logging.captureWarnings(True)
    install_excepthooks(scrubber)
    return scrubber


def install_excepthooks(scrubber: Scrubber) -> None:
    """Uncaught exceptions (main thread and other threads) are printed scrubbed."""

    def excepthook(
        kind: type[BaseException], value: BaseException, tb: TracebackType | None
    ) -> None:
        text = "".join(traceback.format_exception(kind, value, tb))
        sys.stderr.write(scrubber(text))
        sys.stderr.flush()

    def thread_excepthook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else threading.get_ident()
        text = "".join(
            traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback)
        )
        sys.stderr.write(scrubber(f"Exception in thread {name}:\n{text}"))
        sys.stderr.flush()

    sys.excepthook = excepthook
    threading.excepthook = thread_excepthook
