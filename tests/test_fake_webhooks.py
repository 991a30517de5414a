"""The fake Bot API server's webhooks: setWebhook's rules, delivery, retries, order, limits.

A small aiohttp server in the test plays the bot's webhook endpoint; no bot is involved.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web
from telegram import Bot, Update
from telegram.error import Conflict
from telegram.ext import Application, ApplicationBuilder, CommandHandler, ContextTypes

from tests.fakes.telegram_server import (
    CONFLICT_SET_WEBHOOK,
    CONFLICT_WEBHOOK,
    SECRET_TOKEN_HEADER,
    SECRET_TOKEN_TOO_LONG,
    SECRET_TOKEN_UNALLOWED,
    WEBHOOK_BAD_PORT,
    WEBHOOK_HTTPS_REQUIRED,
    WEBHOOK_INVALID_URL,
    FakeTelegram,
)

TOKEN = "123456:TEST"
PUBLIC = "https://crm.example.com/telegram"
HOOK = f"{PUBLIC}/hook"


@dataclass
class Hit:
    """One request the endpoint received."""

    update: dict[str, Any]
    headers: dict[str, str]
    content_type: str
    started: float
    finished: float | None = None

    @property
    def text(self) -> str:
        message = self.update.get("message") or {}
        return str(message.get("text", ""))

    @property
    def update_id(self) -> int:
        return int(self.update["update_id"])


Behaviour = Callable[[Hit], Awaitable[web.StreamResponse]]


async def answer_ok(hit: Hit) -> web.StreamResponse:
    return web.Response(status=200)


class Endpoint:
    """The bot's webhook endpoint, on plain http on 127.0.0.1."""

    def __init__(self) -> None:
        self.hits: list[Hit] = []
        self.behaviour: Behaviour = answer_ok
        self.active = 0
        self.max_active = 0
        self.hit = asyncio.Event()
        """Set on the first request."""
        self.base = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.2)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.base = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        hit = Hit(await request.json(), dict(request.headers), request.content_type, _now())
        self.hits.append(hit)
        self.hit.set()
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            return await self.behaviour(hit)
        finally:
            self.active -= 1
            hit.finished = _now()

    def texts(self) -> list[str]:
        return [hit.text for hit in self.hits]


def _now() -> float:
    return time.monotonic()


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")
    yield


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram(
        token=TOKEN,
        webhook_timeout=0.5,
        webhook_retry_delay=0.1,
        webhook_max_retry_delay=0.4,
    )
    await server.start()
    yield server
    await server.stop()


@pytest_asyncio.fixture
async def endpoint(fake: FakeTelegram) -> AsyncIterator[Endpoint]:
    server = Endpoint()
    await server.start()
    fake.route_webhook(PUBLIC, f"{server.base}/telegram")
    yield server
    await fake.stop()  # no retries hitting a stopped endpoint
    await server.stop()


async def call(fake: FakeTelegram, method: str, **params: Any) -> dict[str, Any]:
    """A raw Bot API call (JSON body); returns Telegram's answer object."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{fake.base_url}{fake.token}/{method}", json=params) as response,
    ):
        body: dict[str, Any] = await response.json()
        assert response.status == (200 if body["ok"] else body["error_code"])
        return body


async def info(fake: FakeTelegram) -> dict[str, Any]:
    result: dict[str, Any] = (await call(fake, "getWebhookInfo"))["result"]
    return result


# --------------------------------------------------------------------------------------------
# setWebhook's rules


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"url": "http://crm.example.com/hook"}, WEBHOOK_HTTPS_REQUIRED),
        ({"url": "https://crm.example.com:8080/hook"}, WEBHOOK_BAD_PORT),
        ({"url": "ftp://crm.example.com/hook"}, WEBHOOK_INVALID_URL),
        ({"url": "https://:443/hook"}, WEBHOOK_INVALID_URL),
        ({"url": HOOK, "secret_token": "not secret!"}, SECRET_TOKEN_UNALLOWED),
        ({"url": HOOK, "secret_token": "sécret"}, SECRET_TOKEN_UNALLOWED),
        ({"url": HOOK, "secret_token": "a" * 257}, SECRET_TOKEN_TOO_LONG),
        (
            {"url": HOOK, "ip_address": "10.1.2.3"},
            "Bad Request: bad webhook: IP address 10.1.2.3 is reserved",
        ),
        (
            {"url": HOOK, "ip_address": "::1"},
            "Bad Request: bad webhook: IPv6-only addresses are not allowed",
        ),
    ],
)
async def test_set_webhook_refusals(
    fake: FakeTelegram, params: dict[str, Any], description: str
) -> None:
    await call(fake, "setWebhook", url="https://old.example.com/hook")
    answer = await call(fake, "setWebhook", **params)
    assert answer == {"ok": False, "error_code": 400, "description": description}
    # Telegram closes the old webhook before checking the new one: none is left.
    assert (await info(fake))["url"] == ""
    assert fake.calls("setWebhook")[-1]["url"] == params["url"]


async def test_set_webhook_accepts_and_reports_settings(fake: FakeTelegram) -> None:
    for url in (HOOK, "https://crm.example.com:88/a", "https://crm.example.com:8443/a"):
        assert (await call(fake, "setWebhook", url=url))["result"] is True
    await call(fake, "setWebhook", url="https://crm.example.com:80/a", secret_token="a" * 256)
    assert await info(fake) == {
        "url": "https://crm.example.com:80/a",
        "has_custom_certificate": False,
        "pending_update_count": 0,
        "max_connections": 40,
    }
    assert fake.webhook_secret_token == "a" * 256
    # max_connections is clamped to 1-100, as Telegram does.
    await call(fake, "setWebhook", url=HOOK, max_connections=0)
    assert (await info(fake))["max_connections"] == 1
    await call(fake, "setWebhook", url=HOOK, max_connections=1000, ip_address="8.8.8.8")
    assert (await info(fake))["max_connections"] == 100
    assert (await info(fake))["ip_address"] == "8.8.8.8"
    await call(fake, "setWebhook", url=HOOK, allowed_updates=["message", "callback_query"])
    assert (await info(fake))["allowed_updates"] == ["message", "callback_query"]
    assert len(fake.calls("setWebhook")) == 7


async def test_set_webhook_rate_limit_is_opt_in(fake: FakeTelegram) -> None:
    fake.set_webhook_min_interval = 1.0
    await call(fake, "setWebhook", url=HOOK)
    answer = await call(fake, "setWebhook", url=f"{HOOK}/2")
    assert answer["error_code"] == 429
    assert answer["parameters"] == {"retry_after": 1}
    assert (await call(fake, "deleteWebhook"))["ok"]  # deleting is not limited


# --------------------------------------------------------------------------------------------
# Delivery


async def test_delivery_with_secret_header_and_get_updates_conflict(
    fake: FakeTelegram, endpoint: Endpoint
) -> None:
    await call(fake, "setWebhook", url=HOOK, secret_token="s3cr3t-_X")
    alice = fake.user(1001, "Alice")
    update_id = fake.queue_update({"message": {"text": "plain"}})
    await alice.send("hello")
    await fake.wait_delivered(timeout=3)

    assert sorted(endpoint.texts()) == ["hello", "plain"]  # different queues: any order
    hit = next(hit for hit in endpoint.hits if hit.text == "hello")
    assert hit.headers[SECRET_TOKEN_HEADER] == "s3cr3t-_X"
    assert hit.content_type == "application/json"
    assert hit.update["message"]["chat"]["id"] == 1001
    assert hit.update["update_id"] == update_id + 1
    assert [d.status for d in fake.webhook_deliveries] == [200, 200]
    deliveries = sorted(fake.webhook_deliveries, key=lambda d: d.update_id)
    assert [d.chat_id for d in deliveries] == [None, 1001]
    assert all(d.url == f"{endpoint.base}/telegram/hook" for d in fake.webhook_deliveries)
    assert fake.webhook_ok_counts == {update_id: 1, update_id + 1: 1}
    assert fake.pending_updates == []
    assert (await info(fake))["pending_update_count"] == 0
    assert "last_error_message" not in await info(fake)

    answer = await call(fake, "getUpdates")
    assert answer == {"ok": False, "error_code": 409, "description": CONFLICT_WEBHOOK}


async def test_no_secret_no_header(fake: FakeTelegram, endpoint: Endpoint) -> None:
    await call(fake, "setWebhook", url=HOOK)
    await fake.user(1001, "Alice").send("hi")
    await fake.wait_delivered(timeout=3)
    assert SECRET_TOKEN_HEADER not in endpoint.hits[0].headers


async def test_set_webhook_terminates_a_long_poll(fake: FakeTelegram) -> None:
    poll = asyncio.create_task(call(fake, "getUpdates", timeout=5))
    await asyncio.sleep(0.1)
    await call(fake, "setWebhook", url=HOOK)
    answer = await asyncio.wait_for(poll, 2)
    assert answer["description"] == CONFLICT_SET_WEBHOOK


async def test_pending_updates_go_to_a_later_webhook_and_route(fake: FakeTelegram) -> None:
    alice = fake.user(1001, "Alice")
    await alice.send("one")
    await alice.send("two")
    await call(fake, "setWebhook", url="https://later.example.com/x")
    assert (await info(fake))["pending_update_count"] == 2
    with pytest.raises(AssertionError, match="no route"):
        await fake.wait_delivered(timeout=0.2)

    endpoint = Endpoint()
    await endpoint.start()
    try:
        fake.route_webhook("https://later.example.com", endpoint.base)  # after setWebhook
        assert fake.webhook_target() == f"{endpoint.base}/x"
        await fake.wait_delivered(timeout=3)
        assert endpoint.texts() == ["one", "two"]
    finally:
        await fake.stop()
        await endpoint.stop()


async def test_drop_pending_updates(fake: FakeTelegram, endpoint: Endpoint) -> None:
    alice = fake.user(1001, "Alice")
    await alice.send("old")
    await call(fake, "setWebhook", url=HOOK, drop_pending_updates=True)
    await alice.send("new")
    await fake.wait_delivered(timeout=3)
    assert endpoint.texts() == ["new"]


async def test_a_500_is_retried_with_backoff(fake: FakeTelegram, endpoint: Endpoint) -> None:
    async def fail_twice(hit: Hit) -> web.StreamResponse:
        if len(endpoint.hits) <= 2:
            return web.Response(status=500)
        return web.Response(status=200)

    endpoint.behaviour = fail_twice
    await call(fake, "setWebhook", url=HOOK)
    before = int(time.time())
    update_id = fake.queue_update({"message": {"text": "x", "chat": {"id": 7}}})
    await fake.wait_webhook_attempts(1, timeout=3)
    first = await info(fake)
    assert first["pending_update_count"] == 1
    assert first["last_error_message"] == (
        "Wrong response from the webhook: 500 Internal Server Error"
    )
    assert first["last_error_date"] >= before

    await fake.wait_delivered(timeout=3, update_id=update_id)
    deliveries = fake.webhook_deliveries
    assert [d.status for d in deliveries] == [500, 500, 200]
    assert [d.ok for d in deliveries] == [False, False, True]
    assert deliveries[0].error == "Wrong response from the webhook: 500 Internal Server Error"
    assert deliveries[2].error is None
    gaps = [deliveries[i + 1].started - (deliveries[i].finished or 0) for i in range(2)]
    assert gaps[0] >= 0.09  # webhook_retry_delay
    assert gaps[1] >= 0.19  # doubled
    assert fake.webhook_ok_counts == {update_id: 1}
    last = await info(fake)
    assert last["pending_update_count"] == 0
    assert last["last_error_message"].endswith("500 Internal Server Error")  # stays


async def test_retry_after_header_is_honoured(fake: FakeTelegram, endpoint: Endpoint) -> None:
    async def busy_once(hit: Hit) -> web.StreamResponse:
        if len(endpoint.hits) == 1:
            return web.Response(status=429, headers={"Retry-After": "0.5"})
        return web.Response(status=200)

    endpoint.behaviour = busy_once
    await call(fake, "setWebhook", url=HOOK)
    fake.queue_update({"message": {"text": "x", "chat": {"id": 7}}})
    await fake.wait_delivered(timeout=3)
    first, second = fake.webhook_deliveries
    assert first.error == "Wrong response from the webhook: 429 Too Many Requests"
    assert second.started - (first.finished or 0) >= 0.45


async def test_a_slow_endpoint_times_out_and_is_retried(
    fake: FakeTelegram, endpoint: Endpoint
) -> None:
    async def slow_once(hit: Hit) -> web.StreamResponse:
        if len(endpoint.hits) == 1:
            await asyncio.sleep(1.0)  # longer than webhook_timeout=0.5
        return web.Response(status=200)

    endpoint.behaviour = slow_once
    await call(fake, "setWebhook", url=HOOK)
    update_id = fake.queue_update({"message": {"text": "slow", "chat": {"id": 7}}})
    await fake.wait_delivered(timeout=3)
    assert [d.status for d in fake.webhook_deliveries] == [None, 200]
    assert fake.webhook_deliveries[0].error == "Read timeout expired"
    assert (await info(fake))["last_error_message"] == "Read timeout expired"
    # The endpoint saw it twice (it did not answer in time), Telegram counts one delivery.
    assert [hit.update_id for hit in endpoint.hits] == [update_id, update_id]
    assert fake.webhook_ok_counts == {update_id: 1}


async def test_connection_refused_then_routed(fake: FakeTelegram, endpoint: Endpoint) -> None:
    closed = Endpoint()
    await closed.start()
    await closed.stop()  # a port nobody listens on any more
    fake.route_webhook(HOOK, f"{closed.base}/hook")
    await call(fake, "setWebhook", url=HOOK)
    await fake.user(1001, "Alice").send("knock")
    await fake.wait_webhook_attempts(1, timeout=3)
    assert (await info(fake))["last_error_message"] == "Connection refused"
    assert fake.webhook_deliveries[0].status is None

    fake.route_webhook(HOOK, f"{endpoint.base}/hook")
    await fake.wait_delivered(timeout=3)
    assert endpoint.texts() == ["knock"]


# --------------------------------------------------------------------------------------------
# Order and parallelism


async def test_one_chat_in_order_other_chats_in_parallel(
    fake: FakeTelegram, endpoint: Endpoint
) -> None:
    async def slow_first_of_a(hit: Hit) -> web.StreamResponse:
        await asyncio.sleep(0.4 if hit.text == "a1" else 0.05)
        return web.Response(status=200)

    endpoint.behaviour = slow_first_of_a
    await call(fake, "setWebhook", url=HOOK)
    a, b = fake.user(1, "A"), fake.user(2, "B")
    await a.send("a1")
    await a.send("a2")
    await b.send("b1")
    await fake.wait_delivered(timeout=3)
    hits = {hit.text: hit for hit in endpoint.hits}
    assert set(endpoint.texts()[:2]) == {"a1", "b1"}
    assert (hits["b1"].finished or 0) < (hits["a1"].finished or 0)  # B did not wait for A
    assert hits["a2"].started >= (hits["a1"].finished or 0)  # A's second waited for its first
    assert endpoint.max_active == 2


async def test_a_retried_update_stays_ahead_of_its_chat(
    fake: FakeTelegram, endpoint: Endpoint
) -> None:
    async def fail_a1_once(hit: Hit) -> web.StreamResponse:
        if hit.text == "a1" and endpoint.texts().count("a1") == 1:
            return web.Response(status=502)
        return web.Response(status=200)

    endpoint.behaviour = fail_a1_once
    fake.webhook_retry_delay = 0.3
    await call(fake, "setWebhook", url=HOOK)
    a, b = fake.user(1, "A"), fake.user(2, "B")
    await a.send("a1")
    await a.send("a2")
    await b.send("b1")
    await b.send("b2")
    await fake.wait_delivered(timeout=3)
    texts = endpoint.texts()
    assert [t for t in texts if t.startswith("a")] == ["a1", "a1", "a2"]
    assert [t for t in texts if t.startswith("b")] == ["b1", "b2"]
    assert texts.index("b2") < 3  # B went on while A's first waited for its retry
    assert (await info(fake))["last_error_message"] == (
        "Wrong response from the webhook: 502 Bad Gateway"
    )


async def test_max_connections_is_respected(fake: FakeTelegram, endpoint: Endpoint) -> None:
    gate = asyncio.Event()

    async def held(hit: Hit) -> web.StreamResponse:
        await gate.wait()
        await asyncio.sleep(0.02)
        return web.Response(status=200)

    endpoint.behaviour = held
    await call(fake, "setWebhook", url=HOOK, max_connections=3)
    for chat_id in range(1, 9):
        await fake.user(chat_id, f"U{chat_id}").send(f"m{chat_id}")
    await asyncio.sleep(0.2)
    assert endpoint.active == 3
    assert (await info(fake))["pending_update_count"] == 8  # in flight counts as pending
    gate.set()
    await fake.wait_delivered(timeout=3)
    assert endpoint.max_active == 3
    assert fake.webhook_max_in_flight == 3
    assert sorted(endpoint.texts()) == sorted(f"m{i}" for i in range(1, 9))


def _callback_update(chat_id: int) -> dict[str, Any]:
    user = {"id": chat_id, "is_bot": False, "first_name": "A"}
    message = {"message_id": 1, "date": 0, "chat": {"id": chat_id, "type": "private"}}
    return {
        "callback_query": {
            "id": "1",
            "from": user,
            "message": message,
            "chat_instance": "1",
            "data": "tap",
        }
    }


@pytest.mark.parametrize(("queues", "parallel"), [("telegram", 2), ("chat", 1)])
async def test_callback_queries_have_their_own_queue(
    fake: FakeTelegram, endpoint: Endpoint, queues: Any, parallel: int
) -> None:
    async def slow(hit: Hit) -> web.StreamResponse:
        await asyncio.sleep(0.3)
        return web.Response(status=200)

    endpoint.behaviour = slow
    fake.webhook_queues = queues
    await call(fake, "setWebhook", url=HOOK)
    await fake.user(5, "A").send("text")
    fake.queue_update(_callback_update(5))
    await fake.wait_delivered(timeout=3)
    assert endpoint.max_active == parallel
    assert [d.chat_id for d in fake.webhook_deliveries] == [5, 5]


# --------------------------------------------------------------------------------------------
# Back to polling, filters, answers


async def test_delete_webhook_returns_to_polling(fake: FakeTelegram) -> None:
    await call(fake, "setWebhook", url="https://nowhere.example.com/x")  # no route: stays
    alice = fake.user(1001, "Alice")
    await alice.send("kept")
    await alice.send("also kept")
    assert (await call(fake, "getUpdates"))["error_code"] == 409
    assert (await call(fake, "deleteWebhook"))["result"] is True
    assert await info(fake) == {
        "url": "",
        "has_custom_certificate": False,
        "pending_update_count": 2,
    }
    updates = (await call(fake, "getUpdates"))["result"]
    assert [u["message"]["text"] for u in updates] == ["kept", "also kept"]

    await call(fake, "setWebhook", url="https://nowhere.example.com/x")
    await call(fake, "deleteWebhook", drop_pending_updates=True)
    assert (await call(fake, "getUpdates"))["result"] == []


async def test_delete_webhook_abandons_requests_in_flight(
    fake: FakeTelegram, endpoint: Endpoint
) -> None:
    async def hang(hit: Hit) -> web.StreamResponse:
        await asyncio.sleep(1.0)
        return web.Response(status=200)

    endpoint.behaviour = hang
    fake.webhook_timeout = 2.0
    await call(fake, "setWebhook", url=HOOK)
    await fake.user(1001, "Alice").send("mid-air")
    await asyncio.wait_for(endpoint.hit.wait(), 3)
    await call(fake, "deleteWebhook")
    assert fake.webhook_deliveries[0].status is None
    assert fake.webhook_deliveries[0].error == "Canceled"
    updates = (await call(fake, "getUpdates"))["result"]
    assert [u["message"]["text"] for u in updates] == ["mid-air"]  # not acknowledged: kept


async def test_allowed_updates_filter_deliveries(fake: FakeTelegram, endpoint: Endpoint) -> None:
    await call(fake, "setWebhook", url=HOOK, allowed_updates=["callback_query"])
    await fake.user(5, "A").send("not wanted")
    update_id = fake.queue_update(_callback_update(5))
    await fake.wait_delivered(timeout=3)
    assert [hit.update_id for hit in endpoint.hits] == [update_id]
    assert fake.pending_updates == []


async def test_a_method_in_the_webhook_answer_is_run(
    fake: FakeTelegram, endpoint: Endpoint
) -> None:
    async def reply(hit: Hit) -> web.StreamResponse:
        chat_id = hit.update["message"]["chat"]["id"]
        return web.json_response({"method": "sendMessage", "chat_id": chat_id, "text": "pong"})

    endpoint.behaviour = reply
    await call(fake, "setWebhook", url=HOOK)
    alice = fake.user(1001, "Alice")
    await alice.send("ping")
    message = await alice.expect("pong", timeout=3)
    assert message.chat_id == 1001
    assert fake.calls("sendMessage") == [{"chat_id": 1001, "text": "pong"}]


async def test_ptb_bot_sets_and_reads_the_webhook(fake: FakeTelegram, endpoint: Endpoint) -> None:
    async def fail(hit: Hit) -> web.StreamResponse:
        return web.Response(status=503)

    endpoint.behaviour = fail
    async with Bot(fake.token, base_url=fake.base_url) as bot:
        assert await bot.set_webhook(
            HOOK,
            secret_token="abc",
            max_connections=5,
            allowed_updates=["message"],
            drop_pending_updates=True,
        )
        await fake.user(1001, "Alice").send("hi")
        await fake.wait_webhook_attempts(1, timeout=3)
        webhook = await bot.get_webhook_info()
        assert webhook.url == HOOK
        assert webhook.max_connections == 5
        assert webhook.allowed_updates == ("message",)
        assert webhook.pending_update_count == 1
        assert webhook.last_error_message == (
            "Wrong response from the webhook: 503 Service Unavailable"
        )
        assert webhook.last_error_date is not None
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        assert await bot.delete_webhook()
        assert [u.message.text for u in await bot.get_updates() if u.message] == ["hi"]


async def test_an_application_behind_the_webhook(fake: FakeTelegram) -> None:
    """A PTB Application fed by a webhook endpoint: the fake's users work as with polling."""
    app: Application[Any, Any, Any, Any, Any, Any] = (
        ApplicationBuilder()
        .token(fake.token)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .updater(None)
        .build()
    )

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("Welcome, <b>friend</b>", parse_mode="HTML")

    app.add_handler(CommandHandler("start", start))

    async def webhook(request: web.Request) -> web.Response:
        if request.headers.get(SECRET_TOKEN_HEADER) != "top-secret":
            return web.Response(status=403)
        await app.update_queue.put(Update.de_json(await request.json(), app.bot))
        return web.Response()

    web_app = web.Application()
    web_app.router.add_post("/telegram/hook", webhook)
    runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=0.2)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    fake.route_webhook(PUBLIC, f"http://127.0.0.1:{runner.addresses[0][1]}/telegram")
    async with app:
        await app.start()
        try:
            await app.bot.set_webhook(HOOK, secret_token="top-secret")
            alice = fake.user(1001, "Alice")
            await alice.send("/start")
            message = await alice.expect("Welcome", timeout=3)
            assert message.text == "Welcome, friend"
            await fake.wait_delivered(timeout=3)
        finally:
            await app.stop()
    await fake.stop()
    await runner.cleanup()
