"""The one web server: Starlette, served by uvicorn in the bot's own event loop, in polling and
in webhook mode, whenever one of its uses is configured (the webhook, metrics, the board).

Routes (on WEB_LISTEN):
- `POST <path of WEBHOOK_URL>`: Telegram's updates. The secret header must match (else 403,
  nothing handled); a body over 1 MB is 413, one that is not JSON 400. The route awaits the
  update's handlers and answers after them: 500 only when the failure was transient (the
  database unreachable, a lock timeout), so Telegram delivers it again and the processed-updates
  table keeps the redelivery from acting twice; a handler's bug is logged and answered 200 (a
  500 every time would block that chat for a day).
- `GET /healthz`: the process is alive. `GET /readyz`: the database answers, the schema is at
  head, this process's tick loop ran within three intervals (`bot.health`).
While the process stops, the webhook and /readyz answer 503 at once (a proxy passes the update on
to another process).

uvicorn traps SIGINT/SIGTERM itself; here it does not (`_Server`): `bot.lifecycle` handles the
signals in one place and tells the server to stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route
from telegram import Update

from bot import health
from bot.lifecycle import ALLOWED_UPDATES
from bot.metrics import CONTENT_TYPE

if TYPE_CHECKING:
    from bot.app import BotApplication
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1024 * 1024
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
REFUSED_LOG_EVERY = 60.0  # seconds between two log lines about refused webhook requests


class _Server(uvicorn.Server):
    """uvicorn without its own signal handlers (the lifecycle owns SIGINT/SIGTERM)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def webhook_path(url: str) -> str:
    """`https://crm.example.com/telegram/x` → `/telegram/x`."""
    return urlsplit(url).path or "/"


class WebServer:
    def __init__(self, application: BotApplication, runtime: Runtime) -> None:
        self.application = application
        self.runtime = runtime
        self.draining = False
        self._refused = 0
        self._refused_logged = 0.0
        self._extra: list[BaseRoute] = []

    # --- what it serves --------------------------------------------------------------------
    def add_routes(self, routes: list[BaseRoute]) -> None:
        """Routes of other uses (the managers' board) on the same server."""
        self._extra += routes

    def app(self) -> Starlette:
        """What WEB_LISTEN serves: health, the webhook, the board (and /metrics when
        METRICS_LISTEN is the same address)."""
        settings = self.runtime.settings
        routes: list[BaseRoute] = [
            Route("/healthz", self.healthz, methods=["GET"]),
            Route("/readyz", self.readyz, methods=["GET"]),
        ]
        if settings.webhook_url:
            routes.append(
                Route(webhook_path(settings.webhook_url), self.webhook, methods=["POST"])
            )
        if settings.metrics_listen == settings.web_listen:
            routes.append(Route("/metrics", self.metrics, methods=["GET"]))
        return Starlette(routes=[*routes, *self._extra])

    def metrics_app(self) -> Starlette:
        """What METRICS_LISTEN serves on an address of its own (never through the proxy)."""
        return Starlette(
            routes=[
                Route("/metrics", self.metrics, methods=["GET"]),
                Route("/healthz", self.healthz, methods=["GET"]),
            ]
        )

    def listeners(self) -> list[tuple[str, Starlette]]:
        settings = self.runtime.settings
        main = bool(settings.webhook_url or settings.web_app_url)
        served: list[tuple[str, Starlette]] = []
        if main or settings.metrics_listen == settings.web_listen:
            served.append((settings.web_listen, self.app()))
        if settings.metrics_listen and settings.metrics_listen != settings.web_listen:
            served.append((settings.metrics_listen, self.metrics_app()))
        return served

    async def metrics(self, request: Request) -> Response:
        return Response(self.runtime.metrics.render(), media_type=CONTENT_TYPE)

    async def healthz(self, request: Request) -> Response:
        return PlainTextResponse("ok")

    async def readyz(self, request: Request) -> Response:
        if self.draining:
            return JSONResponse({"ready": False, "why": "stopping"}, status_code=503)
        report = await health.readiness(self.runtime)
        return JSONResponse(report.as_json(), status_code=200 if report.ready else 503)

    async def webhook(self, request: Request) -> Response:
        if self.draining:
            return PlainTextResponse("stopping", status_code=503)
        secret = self.runtime.settings.webhook_secret
        given = request.headers.get(SECRET_HEADER, "")
        if secret is None or not hmac.compare_digest(
            given.encode(), secret.get_secret_value().encode()
        ):
            self._log_refused(request)
            return PlainTextResponse("forbidden", status_code=403)
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
            return PlainTextResponse("too large", status_code=413)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                return PlainTextResponse("too large", status_code=413)
        try:
            data = json.loads(body)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update")
            update = Update.de_json(data, self.application.bot)
        except (ValueError, TypeError, KeyError):
            return PlainTextResponse("bad request", status_code=400)
        transient = self.runtime.transient_failures
        transient.discard(update.update_id)
        await self.application.process_update(update)
        if update.update_id in transient:
            transient.discard(update.update_id)
            return PlainTextResponse("try again", status_code=500)
        return Response(status_code=200)

    def _log_refused(self, request: Request) -> None:
        self._refused += 1
        now = time.monotonic()
        if now - self._refused_logged >= REFUSED_LOG_EVERY:
            client = request.client.host if request.client else "?"
            log.warning(
                "refused %s webhook request(s) without the right secret (last from %s)",
                self._refused,
                client,
            )
            self._refused, self._refused_logged = 0, now

    # --- running it --------------------------------------------------------------------------
    async def serve(self, stop: asyncio.Event, *, ready: Callable[[], Awaitable[None]]) -> None:
        """Listen (WEB_LISTEN, and METRICS_LISTEN when it is another address) until `stop` is
        set. `ready` runs once every socket listens (in webhook mode: setWebhook, so Telegram
        never posts to a closed port)."""
        servers: list[tuple[_Server, asyncio.Task[None]]] = []
        try:
            for listen, app in self.listeners():
                host, port = self.runtime.settings.address(listen)
                config = uvicorn.Config(
                    app,
                    host=host,
                    port=port,
                    log_config=None,
                    access_log=False,
                    lifespan="off",
                    timeout_graceful_shutdown=5,
                )
                server = _Server(config)
                serving = asyncio.create_task(server.serve(), name=f"web-{port}")
                servers.append((server, serving))
                while not server.started and not serving.done():  # noqa: ASYNC110
                    await asyncio.sleep(0.02)  # uvicorn has no event for it
                if serving.done():
                    await serving  # could not listen: the error says why
                    return
            await ready()
            await stop.wait()
        finally:
            self.draining = True
            for server, _ in servers:
                server.should_exit = True
            for _, serving in servers:
                with contextlib.suppress(asyncio.CancelledError):
                    await serving


async def set_webhook(application: BotApplication, runtime: Runtime) -> None:
    """Every process registers the same webhook: the URL as given, the secret, the one list of
    update types, the connections Telegram may open; pending updates are never dropped."""
    settings = runtime.settings
    url = settings.webhook_url
    assert url is not None and settings.webhook_secret is not None
    if urlsplit(url).scheme != "https":
        log.warning("WEBHOOK_URL is not https: real Telegram accepts only https on 443/80/88/8443")
    await application.bot.set_webhook(
        url,
        secret_token=settings.webhook_secret.get_secret_value(),
        allowed_updates=ALLOWED_UPDATES,
        max_connections=settings.webhook_max_connections,
        drop_pending_updates=False,
    )
    log.info("webhook set: %s", url)


def uses(settings: Any) -> bool:
    """Whether the web server has anything to serve."""
    return bool(settings.webhook_url or settings.web_app_url or settings.metrics_listen)
