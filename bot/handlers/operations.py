"""The daily backup: at BACKUP_HOUR (server time) a verified copy goes into BACKUP_DIR and all
but the newest BACKUP_KEEP are deleted (`bot.backup`). On PostgreSQL only the active sender
makes it (pg_dump, when installed). A failure is logged and told to BOT_ADMINS once, until a
backup succeeds again; the age of the newest backup is a metric (`bot.metrics`)."""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime, time

from telegram.ext import Application

from bot.backup import BackupError, make_backup
from bot.context import BotContext
from bot.handlers.common import notify, translator_for
from bot.storage.db import server_major

log = logging.getLogger(__name__)

JOB_NAME = "backup"


def schedule(application: Application, hour: int | None) -> None:  # type: ignore[type-arg]
    """The daily backup job at `hour` o'clock server time (none when `hour` is None)."""
    if hour is None or application.job_queue is None:
        return
    local = datetime.now().astimezone().tzinfo
    application.job_queue.run_daily(daily_backup, time(hour, 0, tzinfo=local), name=JOB_NAME)


async def daily_backup(ctx: BotContext) -> None:
    runtime = ctx.runtime
    dispatcher = runtime.dispatcher
    if dispatcher is not None and dispatcher.sender is not None and not dispatcher.sender.holding:
        return  # a standby: the active sender backs the database up
    settings = runtime.settings
    try:
        written = await make_backup(
            settings.database_url,
            settings.backup_dir,
            settings.backup_keep,
            server_version=await server_major(runtime.db),
        )
    except (BackupError, OSError, sqlite3.Error) as error:
        log.error("the daily backup failed: %s", error)
        if not runtime.backup_failure_told:
            runtime.backup_failure_told = True
            await _tell_admins(ctx, str(error))
        return
    runtime.backup_failure_told = False
    log.info("daily backup written: %s", written)


async def _tell_admins(ctx: BotContext, reason: str) -> None:
    runtime = ctx.runtime
    for admin in sorted(runtime.settings.bot_admins):
        async with runtime.uow() as uow:
            user = await uow.users.get(admin)
        if user is None:
            continue
        t = translator_for(ctx, user)
        text = t._(
            "⚠️ Tonight's backup of the CRM failed: {reason}\n"
            "The bot keeps working. The server's log has the details; I will tell you again "
            "only after a backup has worked."
        ).format(reason=reason[:300])
        await notify(ctx, user, text)
