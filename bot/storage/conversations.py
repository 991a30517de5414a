"""Where each user is in a multi-step flow, kept in the database so restarts continue it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.models import ConversationState


class ConversationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: int) -> ConversationState | None:
        return await self.session.get(ConversationState, user_id)

    async def start(
        self, user_id: int, flow: str, step: str, data: dict[str, Any], now: datetime
    ) -> ConversationState:
        state = await self.get(user_id)
        if state is None:
            state = ConversationState(user_id=user_id, flow=flow, step=step, updated_at=now)
        state.flow, state.step, state.data, state.updated_at = flow, step, dict(data), now
        self.session.add(state)
        return state

    async def remember(self, user_id: int, flow: str, step: str, key: str, value: Any) -> bool:
        """Add one value to the data of the user's flow, if it is still at `flow`/`step`."""
        state = await self.get(user_id)
        if state is None or (state.flow, state.step) != (flow, step):
            return False
        state.data = {**state.data, key: value}
        self.session.add(state)
        return True

    async def clear(self, user_id: int) -> bool:
        state = await self.get(user_id)
        if state is None:
            return False
        await self.session.delete(state)
        return True
