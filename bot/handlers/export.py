"""/export (managers): the team's deals and event log as XLSX, and the deals as CSV, sent as
documents with headers in the manager's language."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select
from telegram import InputFile, Update
from telegram.ext import Application, CommandHandler

from bot.context import BotContext
from bot.handlers.common import display_name, manager_only
from bot.handlers.labels import activity_name, reason_name, source_name, stage_name
from bot.i18n import Translator
from bot.services.export import csv_bytes, workbook
from bot.storage.models import Client, Deal, DealEvent


def deal_headers(t: Translator) -> list[str]:
    return [
        t._("Number"),
        t._("Client"),
        t._("Phone"),
        t._("Company"),
        t._("E-mail address"),
        t._("Source"),
        t._("Stage"),
        t._("Status"),
        t._("Value"),
        t._("Currency"),
        t._("Owner"),
        t._("Next contact"),
        t._("Loss reason"),
        t._("Loss comment"),
        t._("Win-back"),
        t._("Created"),
        t._("Closed"),
    ]


def event_headers(t: Translator) -> list[str]:
    return [
        t._("Number"),
        t._("When"),
        t._("What"),
        t._("Who"),
        t._("Stage"),
        t._("Amount"),
        t._("Text"),
    ]


async def export_rows(ctx: BotContext) -> tuple[list[list[Any]], list[list[Any]]]:
    t = ctx.t
    team = ctx.me.team
    assert team is not None and team.id is not None
    status_names = {"open": t._("open"), "won": t._("won"), "lost": t._("lost")}
    async with ctx.runtime.uow() as uow:
        stages = {s.id: s for s in await uow.teams.stages(team.id, include_retired=True)}
        reasons = {r.id: r for r in await uow.teams.loss_reasons(team.id, include_retired=True)}
        people = {v.member.id: display_name(v.user) for v in await uow.teams.members(team.id)}
        pairs = list(
            await uow.session.exec(
                select(Deal, Client)
                .join(Client, col(Client.id) == col(Deal.client_id))
                .where(Deal.team_id == team.id)
                .order_by(col(Deal.number))
            )
        )
        numbers = {deal.id: deal.number for deal, _ in pairs}
        events = list(
            await uow.session.exec(
                select(DealEvent).where(DealEvent.team_id == team.id).order_by(col(DealEvent.id))
            )
        )
    deals = [
        [
            deal.number,
            client.name,
            client.phone,
            client.company,
            client.email,
            source_name(t, client.source) if client.source else None,
            stage_name(t, stages[deal.stage_id]),
            status_names.get(deal.status, deal.status),
            deal.value_minor / 100 if deal.value_minor else None,
            deal.currency,
            people.get(deal.owner_member_id),
            deal.next_contact_at,
            reason_name(t, reasons[deal.loss_reason_id])
            if deal.loss_reason_id in reasons
            else None,
            deal.loss_comment,
            deal.winback_at,
            deal.created_at,
            deal.closed_at,
        ]
        for deal, client in pairs
    ]
    log = [
        [
            numbers.get(event.deal_id),
            event.at,
            _event_name(t, event.kind),
            people.get(event.actor_member_id or 0),
            stage_name(t, stages[event.to_stage_id or event.from_stage_id or 0])
            if (event.to_stage_id or event.from_stage_id) in stages
            else None,
            event.amount_minor / 100 if event.amount_minor else None,
            activity_name(t, event.activity) if event.activity else event.text,
        ]
        for event in events
    ]
    return deals, log


def _event_name(t: Translator, kind: str) -> str:
    names = {
        "created": t._("created"),
        "stage_changed": t._("stage changed"),
        "activity": t._("activity"),
        "note": t._("note"),
        "follow_up_set": t._("follow-up planned"),
        "reminder_sent": t._("reminder sent"),
        "won": t._("won"),
        "lost": t._("lost"),
        "reopened": t._("reopened"),
        "reassigned": t._("reassigned"),
        "edited": t._("edited"),
        "undone": t._("undone"),
    }
    return names.get(kind, kind)


@manager_only
async def export_command(update: Update, ctx: BotContext) -> None:
    t = ctx.t
    deals, log = await export_rows(ctx)
    chat = update.effective_chat
    assert chat is not None
    day = t.local(ctx.runtime.clock.now()).strftime("%Y-%m-%d")
    book = workbook(
        [(t._("Deals"), deal_headers(t), deals), (t._("History"), event_headers(t), log)], t.tz
    )
    await ctx.bot.send_document(
        chat.id,
        InputFile(book, filename=f"crm-{day}.xlsx"),
        caption=t._("📦 Deals and their history"),
    )
    table = csv_bytes(deal_headers(t), deals, t.tz)
    await ctx.bot.send_document(chat.id, InputFile(table, filename=f"crm-deals-{day}.csv"))


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("export", export_command))
