"""Logging a client: `/new` step by step (name → phone → value → source → next contact), the
one-line quick entry (`/new Jan Kowalski +48 600 100 200 95000 Octavia`), a contact shared from
the phone book, and what happens when the phone is already a client of the team."""

from __future__ import annotations

from typing import Any

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import BotContext
from bot.domain import CLIENT_NAME_MAX, ClientSource
from bot.handlers.common import (
    answer,
    display_name,
    h,
    member_only,
    notify,
    run_rule,
    translator_for,
)
from bot.handlers.deal_card import int_arg, me
from bot.handlers.deal_views import deal_button
from bot.handlers.flows import begin, finish, text_step
from bot.handlers.labels import SOURCE_NAMES, source_name
from bot.handlers.when_picker import ask_when
from bot.keyboards import args, button, data, markup, rows
from bot.services import deals
from bot.services.deals import NewDeal
from bot.services.errors import Problem, RuleError
from bot.services.quick_entry import format_phone, parse_amount, parse_phone, parse_quick_entry
from bot.storage.models import ConversationState

NEW = "nd"
STEPS = ("name", "phone", "value", "source")


def _country(ctx: BotContext) -> str:
    team = ctx.me.team
    assert team is not None
    return team.country


async def _ask(update: Update, ctx: BotContext, step: str, collected: dict[str, Any]) -> None:
    """Wait for `step`, showing its question with skip / back buttons."""
    await begin(ctx, NEW, step, **collected)
    t = ctx.t
    name = h(collected.get("name", ""))
    skip = button(t.pgettext("button", "⏭ Skip"), data(NEW, "skip"))
    back = button(t.pgettext("button", "◀️ Back"), data(NEW, "back"))
    if step == "name":
        text = t._("👤 New client. What is their name?")
        keyboard = markup([button(t.pgettext("button", "✖️ Cancel"), data(NEW, "cancel"))])
    elif step == "phone":
        text = t._("📞 {name}'s phone number? Or share the contact from your phone book.").format(
            name=name
        )
        keyboard = markup([skip, back])
    elif step == "value":
        text = t._("💰 What is the deal worth? For example 95 000.")
        keyboard = markup([skip, back])
    else:
        text = t._("📣 How did {name} come to you?").format(name=name)
        sources = [
            button(source_name(t, source), data(NEW, "src", source)) for source in SOURCE_NAMES
        ]
        keyboard = markup(*rows(sources, 2), [skip, back])
    await answer(update, ctx, text, keyboard, edit=True)


async def _next(update: Update, ctx: BotContext, step: str, collected: dict[str, Any]) -> None:
    later = STEPS[STEPS.index(step) + 1 :]
    for candidate in later:
        if candidate not in collected:
            await _ask(update, ctx, candidate, collected)
            return
    await _create(update, ctx, collected)


async def _create(update: Update, ctx: BotContext, collected: dict[str, Any]) -> None:
    team = ctx.me.team
    assert team is not None
    source = collected.get("source")
    new = NewDeal(
        name=str(collected.get("name", "")),
        phone=collected.get("phone"),
        value_minor=collected.get("value"),
        source=ClientSource(source) if source else None,
        note=collected.get("note"),
        client_id=collected.get("client_id"),
    )
    async with ctx.db() as uow:
        view = await deals.create_deal(uow, me(ctx), team, new, ctx.runtime.clock.now())
        await uow.conversations.clear(ctx.me.user.id)
        await uow.commit()
    ctx.flow = None
    intro = ctx.t._("✅ Saved as deal #{number}: {name}.").format(
        number=view.deal.number, name=h(view.client.name)
    )
    await ask_when(update, ctx, view, "n", intro=intro)


async def _phone_is_free(
    update: Update, ctx: BotContext, phone: str, collected: dict[str, Any]
) -> bool:
    """A phone that is already a client of the team: the owner is offered the card or a new
    deal; anyone else is told whose client it is, and the managers decide."""
    team = ctx.me.team
    assert team is not None and team.id is not None
    async with ctx.runtime.uow() as uow:
        clients = await uow.deals.clients_with_phone(team.id, phone)
        known = [(client, await uow.deals.deals_of_client(client.id or 0)) for client in clients]
    known = [(client, client_deals) for client, client_deals in known if client_deals]
    if not known:
        return True
    client, client_deals = known[0]
    latest = client_deals[-1]
    t = ctx.t
    if deals.may_see(me(ctx), latest):
        await begin(ctx, NEW, "phone", **collected)
        text = t._(
            "📇 {name} is already your client (deal #{number}). "
            "Open the card, or start a new deal for them?"
        ).format(name=h(client.name), number=latest.number)
        keyboard = markup(
            [deal_button(latest, client)],
            [button(t.pgettext("button", "➕ New deal for them"), data(NEW, "again", client.id))],
            [button(t.pgettext("button", "◀️ Back"), data(NEW, "back"))],
        )
        await answer(update, ctx, text, keyboard, edit=True)
        return False
    async with ctx.runtime.uow() as uow:
        owner = await uow.teams.member_by_id(latest.owner_member_id)
        owner_user = await uow.users.get(owner.user_id) if owner else None
        managers = await uow.teams.managers(team.id)
    owner_name = display_name(owner_user) if owner_user else "?"
    await finish(ctx)
    text = t._(
        "☎️ This number belongs to a client of {owner} (deal #{number}). "
        "Your managers have been told and will decide."
    ).format(owner=h(owner_name), number=latest.number)
    await answer(update, ctx, text)
    for manager in managers:
        mt = translator_for(ctx, manager.user, team.timezone)
        note = mt._(
            "☎️ {seller} wanted to add a client with the phone {phone}, "
            "already served by {owner} (deal #{number})."
        ).format(
            seller=h(display_name(ctx.me.user)),
            phone=format_phone(phone),
            owner=h(owner_name),
            number=latest.number,
        )
        await notify(ctx, manager.user, note, reply_markup=markup([deal_button(latest, client)]))
    return False


@member_only
async def new_command(update: Update, ctx: BotContext) -> None:
    message = update.effective_message
    assert message is not None
    line = (message.text or "").partition(" ")[2].strip()
    if not line:
        await _ask(update, ctx, "name", {})
        return

    async def run() -> None:
        entry = parse_quick_entry(line, _country(ctx))
        collected: dict[str, Any] = {"source": None, "note": entry.note}
        if entry.phone:
            collected["phone"] = entry.phone
            if not await _phone_is_free(
                update, ctx, entry.phone, {**collected, "name": entry.name}
            ):
                return
        if entry.amount_minor:
            collected["value"] = entry.amount_minor
        if not entry.name:
            await _ask(
                update,
                ctx,
                "name",
                {**collected, "phone": entry.phone, "value": entry.amount_minor},
            )
            return
        collected.setdefault("phone", None)
        collected.setdefault("value", None)
        collected["name"] = deals.clean_text(entry.name, CLIENT_NAME_MAX)
        await _create(update, ctx, collected)

    await run_rule(update, ctx, run)


@member_only
async def shared_contact(update: Update, ctx: BotContext) -> None:
    message = update.effective_message
    assert message is not None and message.contact is not None
    contact = message.contact
    name = " ".join(part for part in (contact.first_name, contact.last_name) if part)
    raw = contact.phone_number
    phone = parse_phone(raw if raw.startswith("+") else "+" + raw, _country(ctx)) or parse_phone(
        raw, _country(ctx)
    )

    async def run() -> None:
        collected: dict[str, Any] = {"name": deals.clean_text(name, CLIENT_NAME_MAX) or ""}
        if phone is None:
            await answer(update, ctx, problem_free_text(ctx))
            await _ask(update, ctx, "phone", collected)
            return
        collected["phone"] = phone
        if await _phone_is_free(update, ctx, phone, collected):
            await _ask(update, ctx, "value", collected)

    await run_rule(update, ctx, run)


def problem_free_text(ctx: BotContext) -> str:
    return ctx.t._("That doesn't look like a phone number. Send it like +48 600 100 200.")


async def _collected(ctx: BotContext) -> tuple[str, dict[str, Any]]:
    state = ctx.flow
    if state is None or state.flow != NEW:
        raise RuleError(Problem.STALE)
    return state.step, dict(state.data)


@member_only
async def step_button(update: Update, ctx: BotContext) -> None:
    """skip / back / cancel / a source / a new deal for a known client / create from search."""
    query = update.callback_query
    assert query is not None
    action = (query.data or "").split(":")[1]

    async def run() -> None:
        if action == "cancel":
            await finish(ctx)
            await answer(
                update,
                ctx,
                ctx.t._("OK, cancelled. Everything saved before stays saved."),
                edit=True,
            )
            return
        if action == "again":
            await _new_deal_for_client(update, ctx, int_arg(update))
            return
        step, collected = await _collected(ctx)
        if action == "create":
            await _ask(update, ctx, "phone", collected)
        elif action == "skip" and step != "name":
            collected[step] = None
            await _next(update, ctx, step, collected)
        elif action == "back":
            index = STEPS.index(step) if step in STEPS else 0
            previous = STEPS[max(index - 1, 0)]
            collected.pop(previous, None)
            await _ask(update, ctx, previous, collected)
        elif action == "src" and step == "source":
            source = args(query.data, 1)[0]
            if source not in ClientSource._value2member_map_:
                raise RuleError(Problem.STALE)
            collected["source"] = source
            await _create(update, ctx, collected)
        else:
            raise RuleError(Problem.STALE)

    await run_rule(update, ctx, run)


async def _new_deal_for_client(update: Update, ctx: BotContext, client_id: int) -> None:
    async with ctx.runtime.uow() as uow:
        client = await uow.deals.client(client_id)
        client_deals = await uow.deals.deals_of_client(client_id) if client else []
    if client is None or not any(deals.may_see(me(ctx), d) for d in client_deals):
        raise RuleError(Problem.STALE)
    await _create(
        update,
        ctx,
        {"name": client.name, "client_id": client.id, "source": ClientSource.RETURNING},
    )


@text_step(NEW, "name")
async def receive_name(update: Update, ctx: BotContext, state: ConversationState) -> None:
    async def run() -> None:
        assert update.effective_message is not None
        collected = dict(state.data)
        collected["name"] = deals.clean_text(update.effective_message.text or "", CLIENT_NAME_MAX)
        await _next(update, ctx, "name", collected)

    await run_rule(update, ctx, run)


@text_step(NEW, "phone")
async def receive_phone(update: Update, ctx: BotContext, state: ConversationState) -> None:
    async def run() -> None:
        assert update.effective_message is not None
        phone = parse_phone(update.effective_message.text or "", _country(ctx))
        if phone is None:
            raise RuleError(Problem.BAD_PHONE)
        collected = {**state.data, "phone": phone}
        if await _phone_is_free(update, ctx, phone, collected):
            await _next(update, ctx, "phone", collected)

    await run_rule(update, ctx, run)


@text_step(NEW, "value")
async def receive_value(update: Update, ctx: BotContext, state: ConversationState) -> None:
    async def run() -> None:
        assert update.effective_message is not None
        amount = parse_amount(update.effective_message.text or "")
        if amount is None:
            raise RuleError(Problem.BAD_AMOUNT)
        await _next(update, ctx, "value", {**state.data, "value": amount})

    await run_rule(update, ctx, run)


@text_step(NEW, "source")
async def source_typed(update: Update, ctx: BotContext, state: ConversationState) -> None:
    await _ask(update, ctx, "source", dict(state.data))


async def offer_new_client(update: Update, ctx: BotContext, name: str) -> None:
    """After a search found nothing: one tap creates a client with that name."""
    t = ctx.t
    await begin(ctx, NEW, "offer", name=name)
    text = t._("🔍 Nothing found for «{query}». Create a new client with this name?").format(
        query=h(name)
    )
    keyboard = markup([button(t.pgettext("button", "➕ New client"), data(NEW, "create"))])
    await answer(update, ctx, text, keyboard)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("new", new_command))
    app.add_handler(MessageHandler(filters.CONTACT, shared_contact))
    app.add_handler(CallbackQueryHandler(step_button, pattern=rf"^{NEW}:"))
