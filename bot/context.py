"""The callback context every handler gets: typed access to the runtime and to who is asking."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.domain import Role
from bot.i18n import Translator
from bot.runtime import Runtime
from bot.storage.models import ConversationState, Member, Team, User
from bot.storage.unit_of_work import UnitOfWork

RUNTIME_KEY = "runtime"


@dataclass
class Account:
    """The person behind an update, as the database knows them."""

    user: User
    team: Team | None = None
    member: Member | None = None
    # The team that turned this person's access off, when they have no team now.
    lost_team: Team | None = None

    @property
    def is_manager(self) -> bool:
        return self.member is not None and self.member.role == Role.MANAGER


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Filled by the account loader (handler group -1) before any feature handler runs."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self.account: Account | None = None
        self.flow: ConversationState | None = None
        self.left_flow: ConversationState | None = None  # ended by this command or tap
        self.update_id: int | None = None
        self.person: int | None = None  # whose update this is (its writes are serialised)
        self.update_recorded = False  # a write of this update committed (and recorded it)
        # Set for a button that must act once per tap (see `handlers.common.once_per_tap`).
        self.tap_key: str | None = None
        # What a question answered by typing becomes (one line, without its buttons).
        self.prompt_summary: str | None = None
        self._t: Translator | None = None

    @property
    def runtime(self) -> Runtime:
        runtime = self.application.bot_data[RUNTIME_KEY]
        assert isinstance(runtime, Runtime)
        return runtime

    @property
    def t(self) -> Translator:
        if self._t is None:
            self._t = self.runtime.i18n.translator("en")
        return self._t

    @t.setter
    def t(self, translator: Translator) -> None:
        self._t = translator

    def db(self) -> UnitOfWork:
        """A unit of work for this update's writes. The first one to commit marks the update
        (and a once-per-tap button) as handled in the same transaction; a redelivery that got
        past the account loader meanwhile then fails at its first commit (DuplicateUpdate),
        so no write of an update is ever applied twice."""
        if self.update_recorded:
            return self.runtime.uow(person=self.person)
        return self.runtime.uow(
            update_id=self.update_id,
            tap_key=self.tap_key,
            person=self.person,
            on_recorded=self._recorded,
        )

    def _recorded(self) -> None:
        self.update_recorded = True

    def kick_notices(self) -> None:
        """A notice was just queued: send it now rather than at the next tick."""
        dispatcher = self.runtime.dispatcher
        if dispatcher is not None:
            dispatcher.kick()

    @property
    def me(self) -> Account:
        assert self.account is not None, "account loader did not run"
        return self.account
