"""The Application's life, driven by hand instead of `run_polling`: start-up that waits for
Telegram, one place for SIGINT/SIGTERM, and an orderly stop.

    initialize (retried while Telegram is unreachable; a refused token is final)
    → post_init → start (JobQueue) → updater.start_polling(ALLOWED_UPDATES)
    → [optional `serve(stop)` coroutine, e.g. a web server] … until stopped
    → updater.stop → stop → post_stop → shutdown → post_shutdown

`run_polling` would install its own signal handlers and close the event loop, and it calls
`post_init` itself; here the loop belongs to the caller, so a web server can share it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import timedelta
from typing import Any

from telegram import Bot, Update
from telegram.error import (
    BadRequest,
    Conflict,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application

log = logging.getLogger(__name__)

# The update kinds the bot handles; Telegram sends nothing else (`getUpdates`/`setWebhook`).
ALLOWED_UPDATES: list[str] = [
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CALLBACK_QUERY,
    Update.MY_CHAT_MEMBER,
]

DEFAULT_STARTUP_RETRY_SECONDS = 60.0
FIRST_RETRY_DELAY = 1.0
MAX_RETRY_DELAY = 15.0
# What stopping may take before the rest is left behind (the process must end within 10 s of
# SIGTERM; leases make whatever was cut short safe to take over).
STOP_TIMEOUT = 7.0
STOP_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGINT, signal.SIGTERM)

AnyApplication = Application[Any, Any, Any, Any, Any, Any]
Serve = Callable[[asyncio.Event], Awaitable[None]]


class TokenRefused(Exception):
    """Telegram answered 401 or 404 to `getMe`: the token is wrong or revoked."""

    def __init__(self, status: int) -> None:
        super().__init__(f"Telegram refused the token ({status})")
        self.status = status


class TelegramUnreachable(Exception):
    """Telegram could not be reached for the whole start-up retry period."""

    def __init__(self, base_url: str, seconds: float, reason: str) -> None:
        super().__init__(f"Telegram is not reachable at {base_url} ({reason})")
        self.base_url = base_url
        self.seconds = seconds
        self.reason = reason


def retry_delays(
    first: float = FIRST_RETRY_DELAY, cap: float = MAX_RETRY_DELAY
) -> Iterator[float]:
    """1, 2, 4, 8, 15, 15, … seconds."""
    delay = first
    while True:
        yield min(delay, cap)
        delay = min(delay * 2, cap)


def api_base_url(bot: Bot) -> str:
    """The Bot API address without the token (PTB appends the token to the base URL)."""
    return bot.base_url.replace(bot.token, "")


def refused_status(error: InvalidToken) -> int:
    """401 (unknown token) or 404 (malformed token), read from PTB's chained errors."""
    current: BaseException | None = error
    while current is not None:
        text = current.message if isinstance(current, TelegramError) else str(current)
        if "404" in text or "not found" in text.lower():
            return 404
        current = current.__cause__
    return 401


def _seconds(value: float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _reason(error: TelegramError) -> str:
    return f"{type(error).__name__}: {error.message}"


async def initialize(
    application: AnyApplication,
    *,
    retry_seconds: float = DEFAULT_STARTUP_RETRY_SECONDS,
    stop: asyncio.Event | None = None,
) -> bool:
    """`application.initialize()`, retried with backoff while Telegram is unreachable.

    Returns False when `stop` was set while waiting. Raises TokenRefused when Telegram refuses
    the token and TelegramUnreachable when `retry_seconds` have passed without an answer.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + retry_seconds
    delays = retry_delays()
    base_url = api_base_url(application.bot)
    while True:
        try:
            await application.initialize()
            return True
        except InvalidToken as error:
            await _close_requests(application)
            raise TokenRefused(refused_status(error)) from None
        except BadRequest:
            await _close_requests(application)
            raise
        except (NetworkError, RetryAfter) as error:  # TimedOut is a NetworkError
            remaining = deadline - loop.time()
            if remaining <= 0:
                await _close_requests(application)
                raise TelegramUnreachable(base_url, retry_seconds, _reason(error)) from None
            delay = next(delays)
            if isinstance(error, RetryAfter):
                delay = max(delay, _seconds(error.retry_after))
            delay = min(delay, remaining)
            log.warning(
                "Telegram is not reachable at %s (%s): check the network and "
                "TELEGRAM_API_BASE_URL; retrying in %.0f s",
                base_url,
                _reason(error),
                delay,
            )
            if stop is None:
                await asyncio.sleep(delay)
            elif await _wait(stop, delay):
                await _close_requests(application)
                return False


async def _wait(event: asyncio.Event, seconds: float) -> bool:
    """Whether `event` was set within `seconds`."""
    try:
        await asyncio.wait_for(event.wait(), seconds)
    except TimeoutError:
        return False
    return True


async def _close_requests(application: AnyApplication) -> None:
    """A failed `initialize` leaves the HTTP clients open; `Application.shutdown` would skip
    them (the application never became initialized)."""
    with contextlib.suppress(Exception):
        await application.bot.shutdown()


@contextlib.contextmanager
def stop_on_signals(
    stop: asyncio.Event, signals: Sequence[signal.Signals] = STOP_SIGNALS
) -> Iterator[None]:
    """SIGINT and SIGTERM set `stop`, in this one place, for as long as the block runs."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []

    def on_signal(received: signal.Signals) -> None:
        if not stop.is_set():
            log.info("stopping (%s)", received.name)
        stop.set()

    for sig in signals:
        try:
            loop.add_signal_handler(sig, on_signal, sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread/Windows
            continue
        installed.append(sig)
    try:
        yield
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)


async def run(
    application: AnyApplication,
    *,
    serve: Serve | None = None,
    startup_retry_seconds: float = DEFAULT_STARTUP_RETRY_SECONDS,
    polling: bool = True,
    stop: asyncio.Event | None = None,
    handle_signals: bool = True,
    before_stop: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Run `application` until SIGINT/SIGTERM (or until `stop` is set), then stop it in order.
    `before_stop` runs first, the moment the stop is asked for (senders finish or give back
    what they hold instead of working through a whole burst).

    `serve(stop)`, if given, runs beside the bot from the moment the bot has started; it must
    return soon after `stop` is set, and stops the bot when it ends by itself. With
    `polling=False` no updates are fetched (a webhook server given as `serve` feeds them).
    Raises TokenRefused or TelegramUnreachable from start-up (see `initialize`).
    """
    stop = stop if stop is not None else asyncio.Event()
    signals = stop_on_signals(stop) if handle_signals else contextlib.nullcontext()
    with signals:
        if not await initialize(application, retry_seconds=startup_retry_seconds, stop=stop):
            return
        try:
            if application.post_init is not None:
                await application.post_init(application)
            await application.start()
            try:
                if polling and not stop.is_set():
                    if application.updater is None:
                        raise RuntimeError("polling needs an Application with an Updater")
                    await application.updater.start_polling(
                        allowed_updates=ALLOWED_UPDATES, error_callback=polling_error
                    )
                await _serve_until_stopped(stop, serve)
            finally:
                if before_stop is not None:
                    await before_stop()
                await _stop(application)
        finally:
            if not application.running:
                await application.shutdown()
            if application.post_shutdown is not None:
                await application.post_shutdown(application)


def polling_error(error: TelegramError) -> None:
    """PTB retries `getUpdates` by itself; a lost connection is one line, not a traceback."""
    if isinstance(error, Conflict):
        log.error("another process is polling with this token: %s", error.message)
    elif isinstance(error, NetworkError | RetryAfter) and not isinstance(error, BadRequest):
        log.warning("polling for updates failed (%s); retrying", _reason(error))
    else:
        log.error("polling for updates failed", exc_info=error)


async def _serve_until_stopped(stop: asyncio.Event, serve: Serve | None) -> None:
    if serve is None:
        await stop.wait()
        return

    async def serving() -> None:
        await serve(stop)

    task = asyncio.create_task(serving(), name="serve")
    waiter = asyncio.create_task(stop.wait(), name="stop")
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if task.done() and not stop.is_set():
            log.warning("the server beside the bot ended; stopping the bot")
        stop.set()
        try:
            await asyncio.wait_for(asyncio.shield(task), STOP_TIMEOUT)
        except TimeoutError:
            log.warning("the server beside the bot did not stop within %.0f s", STOP_TIMEOUT)
    finally:
        waiter.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def _stop(application: AnyApplication) -> None:
    async def steps() -> None:
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
            if application.post_stop is not None:
                await application.post_stop(application)

    try:
        await asyncio.wait_for(steps(), STOP_TIMEOUT)
    except TimeoutError:
        log.warning("the bot did not stop within %.0f s; leaving the rest", STOP_TIMEOUT)
