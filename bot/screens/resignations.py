"""The resignations of a report period as a spreadsheet: every lost deal with its reason,
stage, owner at closing, comment, value and how long the process took."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from bot.handlers.common import display_name, h
from bot.handlers.labels import reason_name, stage_name
from bot.handlers.report_views import span
from bot.i18n import Translator
from bot.services import periods
from bot.services.export import amount, workbook
from bot.services.periods import ReportPeriod
from bot.storage.models import Team

if TYPE_CHECKING:
    from bot.runtime import Runtime


async def resignations_file(
    runtime: Runtime, t: Translator, team: Team, owner: int | None, period: ReportPeriod
) -> tuple[bytes, str, str, int]:
    """(workbook, file name, caption, rows); `owner` limits it to a salesperson's own deals.
    Text is written as text (never a formula), the workbook off the event loop."""
    assert team.id is not None
    current, _ = periods.measured(period, team.timezone, runtime.clock.now())
    async with runtime.reader() as uow:
        stages = {s.id: s for s in await uow.teams.stages(team.id, include_retired=True)}
        reasons = {r.id: r for r in await uow.teams.loss_reasons(team.id, include_retired=True)}
        people = {m.member.id: display_name(m.user) for m in await uow.teams.members(team.id)}
        lost = await uow.reporting.lost_deals(team.id, current, owner)
    headers = [
        t._("Number"),
        t._("Client"),
        t._("Loss reason"),
        t._("Stage"),
        t._("Owner"),
        t._("Loss comment"),
        t._("Resigned"),
        t._("Value"),
        t._("Currency"),
        t._("Days from the first contact"),
        t._("Bought before"),
    ]
    table = [
        [
            deal.number,
            deal.client,
            reason_name(t, reasons[deal.reason_id]) if deal.reason_id in reasons else None,
            stage_name(t, stages[deal.stage_id]) if deal.stage_id in stages else None,
            people.get(deal.owner_member_id),
            deal.text,
            deal.at,
            amount(deal.value_minor),
            deal.currency,
            round(deal.process_seconds / 86400, 1),
            t._("yes") if deal.bought_before else t._("no"),
        ]
        for deal in lost
    ]
    book = await asyncio.to_thread(workbook, [(t._("Resignations"), headers, table)], t.tz)
    name = f"resignations-{period.first:%Y%m%d}-{period.last:%Y%m%d}.xlsx"
    caption = t._("💬 Resignations {period}").format(period=h(span(t, period)))
    return book, name, caption, len(table)
