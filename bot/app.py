"""Wires the whole bot: one builder call, handlers in one ordered place, resources opened in
`post_init` and closed in `post_shutdown`."""

from __future__ import annotations

import logging
import os
import re
import socket
import time
from datetime import timedelta
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Any

from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
)

from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.context import RUNTIME_KEY, BotContext
from bot.dispatcher import Dispatcher
from bot.handlers import (
    attachments,
    basics,
    commands_menu,
    common,
    deal_actions,
    deal_card,
    digest,
    erasure,
    errors,
    export,
    guard,
    imports,
    lists,
    new_deal,
    onboarding,
    operations,
    reminders,
    report,
    settings,
    team,
    today,
    when_picker,
)
from bot.i18n import I18n
from bot.jobs import JobWorker
from bot.jobs.kinds import RUNNERS
from bot.leader import SenderLock
from bot.leases import LeaseKeeper
from bot.metrics import refresh_figures, watch_runtime
from bot.order import PersonOrder
from bot.runtime import Runtime
from bot.sending import SHARED_CAP, SHARED_RATE, SendBudget
from bot.services.erasure import ErasureLog, erase_expired, reapply_log, settle
from bot.storage.db import Database, libpq_url
from bot.storage.migrate import upgrade
from bot.storage.models import Worker
from bot.storage.send_budget import SharedBudget

log = logging.getLogger(__name__)

BotApplication = Application[Any, BotContext, Any, Any, Any, Any]


class CrmApplication(Application):  # type: ignore[type-arg]
    """python-telegram-bot's Application, timing each update for the metrics."""

    async def process_update(self, update: object) -> None:
        started = time.monotonic()
        try:
            await super().process_update(update)
        finally:
            runtime = self.bot_data.get(RUNTIME_KEY)
            if isinstance(runtime, Runtime):
                runtime.metrics.handled(update, time.monotonic() - started)


try:
    VERSION = package_version("pocket-crm-bot")
except PackageNotFoundError:  # run from a checkout that was not installed
    VERSION = "dev"

_BUTTON_PREFIX = re.compile(r"\^([a-z]{1,4}):")  # `^d:` in a button handler's pattern
# How long handled update ids are remembered (polling replays at most the last batch).
PROCESSED_UPDATES_KEPT = timedelta(days=2)
FLOWS_KEPT = timedelta(days=7)  # a flow left this long is abandoned
STRANGERS_KEPT = timedelta(days=30)  # people who wrote but never joined a team


def build_application(settings: Settings, *, clock: Clock | None = None) -> BotApplication:
    runtime = Runtime(
        settings=settings,
        db=Database(settings.database_url),
        i18n=I18n(),
        clock=clock or SystemClock(),
    )
    builder = ApplicationBuilder().application_class(CrmApplication)
    if settings.webhook_mode:
        builder = builder.updater(None)  # updates come through the web server's webhook route
    application = (
        builder.token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_api_base_url)
        .base_file_url(settings.telegram_file_base_url)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        .rate_limiter(SendBudget(chat_burst=settings.chat_burst, chat_rate=settings.chat_rate))
        .concurrent_updates(PersonOrder())
        .context_types(ContextTypes(context=BotContext))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    application.bot_data[RUNTIME_KEY] = runtime
    _register_handlers(application)
    handlers = [handler for group in application.handlers.values() for handler in group]
    runtime.metrics.commands = frozenset(
        command
        for handler in handlers
        if isinstance(handler, CommandHandler)
        for command in handler.commands
    )
    runtime.metrics.callbacks = frozenset(
        match.group(1)
        for handler in handlers
        if isinstance(handler, CallbackQueryHandler) and isinstance(handler.pattern, re.Pattern)
        if (match := _BUTTON_PREFIX.match(handler.pattern.pattern))
    )
    return application


def _register_handlers(application: BotApplication) -> None:
    # Order matters: the guard stops edits and business updates first (-3), group chats are
    # turned away next (-2), then the account, language and pending flow are loaded (-1); in
    # group 0 the first matching handler wins, so feature modules come before the catch-alls in
    # `basics`.
    guard.register(application)
    application.add_handler(guard.PlainUpdates(basics.group_chat), group=-2)
    application.add_handler(guard.PlainUpdates(common.load_account), group=-1)
    onboarding.register(application)
    today.register(application)
    reminders.register(application)
    digest.register(application)
    report.register(application)
    export.register(application)
    imports.register(application)
    team.register(application)
    settings.register(application)
    new_deal.register(application)
    deal_card.register(application)
    deal_actions.register(application)
    erasure.register(application)
    when_picker.register(application)
    lists.register(application)
    attachments.register(application)
    basics.register(application)
    guard.new_messages_only(application)
    application.add_error_handler(errors.on_error)


def runtime_of(application: BotApplication) -> Runtime:
    runtime = application.bot_data[RUNTIME_KEY]
    assert isinstance(runtime, Runtime)
    return runtime


async def _post_init(application: BotApplication) -> None:
    runtime = runtime_of(application)
    await upgrade(runtime.db)
    erased = await reapply_log(
        runtime.uow, ErasureLog(runtime.settings.erasure_log_path), runtime.clock.now()
    )
    if erased:  # a backup from before those erasures was restored
        log.warning("erased %s client(s) again, as the erasure log says", erased)
        await runtime.db.checkpoint()
    await runtime.db.refresh_statistics()
    runtime.bot_username = application.bot.username
    await commands_menu.set_default_menus(application.bot, runtime.i18n)
    runtime.dispatcher = Dispatcher(runtime, application.bot)
    if not runtime.db.is_sqlite:
        runtime.dispatcher.sender = SenderLock(
            libpq_url(runtime.settings.database_url),
            runtime.dispatcher.kick,
            on_promoted=runtime.dispatcher.took_over,
        )
        await runtime.dispatcher.sender.check()  # the first process up sends from the start
        # Every process's messages, replies included, take their tokens from one bucket.
        shared = SharedBudget(runtime.db.engine, rate=SHARED_RATE, cap=SHARED_CAP)
        await shared.ensure()
        runtime.dispatcher.budget.shared = shared
    runtime.dispatcher.budget.on_retry_after = runtime.metrics.retry_after
    watch_runtime(runtime)
    runtime.leases = LeaseKeeper(runtime)
    runtime.leases.start()
    runtime.jobs = JobWorker(
        runtime, application.bot, RUNNERS, poll=min(runtime.settings.reminder_tick_seconds, 5.0)
    )
    runtime.jobs.start()
    if application.job_queue is not None:
        application.job_queue.run_repeating(
            _housekeeping,
            interval=timedelta(hours=1),
            first=timedelta(minutes=1),
            name="housekeeping",
        )
        application.job_queue.run_repeating(
            _tick,
            interval=runtime.settings.reminder_tick_seconds,
            first=runtime.settings.reminder_tick_seconds,
            name="reminders",
            # A long burst spans several intervals; the extra tick returns at once (see
            # Dispatcher.tick) instead of being skipped with a warning every time.
            job_kwargs={"max_instances": 2},
        )
    operations.schedule(application, runtime.settings.backup_hour)
    mode = "webhook" if runtime.settings.webhook_mode else "polling"
    async with runtime.uow() as uow:
        await uow.workers.started(
            Worker(
                id=runtime.worker_id,
                host=socket.gethostname()[:64],
                pid=os.getpid(),
                mode=mode,
                version=VERSION,
                started_at=runtime.clock.now(),
            )
        )
        await uow.commit()
    log.info(
        "bot @%s is up (mode: %s, database: %s, version %s, worker %s)",
        runtime.bot_username,
        mode,
        runtime.db.engine.dialect.name,
        VERSION,
        runtime.worker_id,
    )


async def stop_senders(application: BotApplication) -> None:
    """The moment a stop is asked for: the dispatcher finishes the message in hand and takes no
    more, running jobs are cancelled; what they held goes back at shutdown."""
    runtime = runtime_of(application)
    if runtime.dispatcher is not None:
        await runtime.dispatcher.stop()
    if runtime.jobs is not None:
        await runtime.jobs.stop()


async def _post_shutdown(application: BotApplication) -> None:
    runtime = runtime_of(application)
    await stop_senders(application)
    if runtime.leases is not None:
        await runtime.leases.stop()
    dispatcher = runtime.dispatcher
    if dispatcher is not None and dispatcher.sender is not None:
        await dispatcher.sender.release()
    try:
        async with runtime.uow() as uow:
            await uow.workers.stopped(runtime.worker_id)
            await uow.commit()
    except Exception:
        log.warning("could not remove this process from the workers", exc_info=True)
    await runtime.db.dispose()


async def _tick(ctx: BotContext) -> None:
    """What is due goes out; the database says what that is (restart-proof)."""
    runtime = ctx.runtime
    dispatcher = runtime.dispatcher
    if dispatcher is None:
        return
    async with runtime.uow() as uow:  # `check` and the operator see the tick loop alive
        sender = dispatcher.sender is None or dispatcher.sender.holding
        await uow.workers.ticked(runtime.worker_id, runtime.clock.now(), sender=sender)
        if sender:  # the database's figures, for the metrics (only the sender exports them)
            await refresh_figures(runtime, uow)
        await uow.commit()
    runtime.ticked_at = time.monotonic()
    await dispatcher.tick()


async def _housekeeping(ctx: BotContext) -> None:
    runtime = ctx.runtime
    now = runtime.clock.now()
    async with runtime.uow() as uow:
        await uow.users.forget_processed_before(now - PROCESSED_UPDATES_KEPT)
        # Retention: abandoned flows (and what was typed in them), and people who never joined.
        await uow.users.forget_idle_flows(now - FLOWS_KEPT)
        forgotten = await uow.users.forget_strangers(now - STRANGERS_KEPT)
        await uow.commit()
    if forgotten:
        log.info("forgot %s people who never joined a team", forgotten)
    dispatcher = runtime.dispatcher
    if dispatcher is None or dispatcher.sender is None or dispatcher.sender.holding:
        await erase_expired_clients(runtime)
    await runtime.db.refresh_statistics()


async def erase_expired_clients(runtime: Runtime) -> int:
    """Retention (a team setting, off by default): the personal data of clients whose deals
    all closed more than the team's years ago is erased, like an erasure on request."""
    now = runtime.clock.now()
    async with runtime.uow() as uow:
        erased = [
            entry
            for team in await uow.teams.with_retention()
            for entry in await erase_expired(uow, team, now)
        ]
        await uow.commit()
    await settle(runtime.db, ErasureLog(runtime.settings.erasure_log_path), erased)
    if erased:
        log.info("retention: erased the personal data of %s client(s)", len(erased))
    return len(erased)
