"""Runs the real Application against the fake Bot API server, the way `run_polling` would,
but inside the test's event loop (run_polling would install signal handlers and close it)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.app import BotApplication, build_application, runtime_of, stop_senders
from bot.config import Settings
from bot.i18n import Translator
from bot.lifecycle import ALLOWED_UPDATES
from bot.runtime import Runtime
from bot.storage.models import Member
from tests.conftest import FakeClock
from tests.fakes.telegram_server import FakeTelegram, FakeUser


def _erasure_log(db_url: str) -> Path | None:
    """Beside a SQLite file (the default); for PostgreSQL a temporary folder, not ./data."""
    if db_url.startswith("sqlite"):
        return None
    return Path(tempfile.mkdtemp(prefix="crm-erasures-")) / "erasures.jsonl"


class BotRunner:
    def __init__(
        self,
        fake: FakeTelegram,
        db_url: str,
        clock: FakeClock,
        admins: Iterable[int] = (),
        **overrides: Any,
    ) -> None:
        self.fake = fake
        self.settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            telegram_bot_token=fake.token,
            telegram_api_base_url=fake.base_url,
            database_url=db_url,
            bot_admins=frozenset(admins),
            # The tests drive the reminder tick themselves (`await runner.tick()`), with the clock.
            reminder_tick_seconds=3600,
            **{
                "backup_hour": None,
                "erasure_log": _erasure_log(db_url),
                # Paced for the fake's limits of one chat, as for Telegram's in production.
                "chat_burst": fake.chat_burst,
                "chat_rate": fake.chat_rate,
                **overrides,
            },
        )
        self.clock = clock
        self.app: BotApplication | None = None

    @property
    def runtime(self) -> Runtime:
        assert self.app is not None
        return runtime_of(self.app)

    def t(self, user: FakeUser) -> Translator:
        """The translator a user should be answered with (their language as the bot knows it)."""
        return self.runtime.i18n.translator(user.language_code or "en")

    async def jobs_done(self) -> None:
        """Wait until the background jobs this process started have finished."""
        jobs = self.runtime.jobs
        assert jobs is not None
        await jobs.idle()

    async def tick(self) -> int:
        """One pass of the reminder dispatcher at the test clock's `now`."""
        dispatcher = self.runtime.dispatcher
        assert dispatcher is not None
        return await dispatcher.tick()

    async def start(self) -> None:
        app = build_application(self.settings, clock=self.clock)
        await app.initialize()
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(
            poll_interval=0, timeout=1, allowed_updates=ALLOWED_UPDATES
        )
        self.app = app

    async def stop(self) -> None:
        app, self.app = self.app, None
        if app is None:
            return
        assert app.updater is not None
        await stop_senders(app)
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)

    async def restart(self) -> None:
        await self.stop()
        await self.start()


async def seed_team(
    bot: BotRunner,
    fake: FakeTelegram,
    team_name: str,
    people: list[tuple[int, str, str, str]],
    *,
    morning_agenda: bool = True,
) -> dict[str, FakeUser]:
    """A team onboarded directly through the services (onboarding itself is tested elsewhere).

    `people`: (user id, first name, language, "manager" | "salesperson"); the first person is
    the founding manager and sets the team's defaults from their language.
    """
    from bot.domain import Role
    from bot.services import teams
    from bot.storage.models import User

    now = bot.clock.now()
    users: dict[str, FakeUser] = {}
    async with bot.runtime.uow() as uow:
        team = None
        for user_id, name, language, role in people:
            user = await uow.users.add(
                User(
                    id=user_id,
                    first_name=name,
                    language=language,
                    created_at=now,
                    last_seen_at=now,
                )
            )
            if team is None:
                team, _ = await teams.create_team(uow, user, team_name, now, allowed=True)
            else:
                await teams.join_team(uow, user, team.invite_code or "", now)
            member = await uow.teams.member(team.id or 0, user_id)
            assert member is not None
            member.role = Role(role)
            member.morning_agenda = morning_agenda
            await uow.teams.save(member)
            users[name] = fake.user(user_id, name, language_code=language, started=True)
        await uow.commit()
    return users


async def member_of(bot: BotRunner, user_id: int) -> Member:
    """The active membership of a seeded person."""
    async with bot.runtime.uow() as uow:
        user = await uow.users.get(user_id)
        assert user is not None and user.team_id is not None
        member = await uow.teams.member(user.team_id, user_id)
        assert member is not None
        return member


async def seed_deal(
    bot: BotRunner,
    user_id: int,
    name: str,
    *,
    phone: str | None = None,
    note: str | None = None,
    next_contact: datetime | None = None,
    step: str | None = None,
) -> int:
    """A deal of `user_id`, with its next contact planned (a reminder), through the services."""
    from bot.services import deals
    from bot.services.deals import NewDeal

    now = bot.clock.now()
    async with bot.runtime.uow() as uow:
        user = await uow.users.get(user_id)
        assert user is not None and user.team_id is not None
        team = await uow.teams.get(user.team_id)
        member = await uow.teams.member(user.team_id, user_id)
        assert team is not None and member is not None
        view = await deals.create_deal(
            uow, member, team, NewDeal(name=name, phone=phone, note=note), now
        )
        deal_id = view.deal.id or 0
        if next_contact is not None:
            await deals.plan_next_contact(uow, member, deal_id, next_contact, now, step)
        await uow.commit()
    return deal_id
