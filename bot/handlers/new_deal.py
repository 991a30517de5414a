"""Logging a client: `/new` step by step (name → phone → value → source → next contact), the
one-line quick entry (`/new Jan Kowalski +48 600 100 200 95000 Octavia`), a contact shared from
the phone book, and what happens when the phone is already a client of the team."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters

from bot.context import BotContext
from bot.domain import CLIENT_NAME_MAX, MODEL_MAX, ClientSource
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
from bot.handlers.flows import ask, begin, finish, text_step
from bot.handlers.labels import SOURCE_NAMES, source_name
from bot.handlers.when_picker import ask_when, picker_step
from bot.i18n import Translator
from bot.keyboards import args, button, data, markup, rows
from bot.services import deals
from bot.services.deals import NewDeal
from bot.services.errors import Problem, RuleError
from bot.services.quick_entry import format_phone, parse_amount, parse_phone, parse_quick_entry
from bot.storage.deals import DealView
from bot.storage.models import ConversationState

NEW = "nd"
STEPS = ("name", "phone", "value", "model", "source")
LOW_CAR_VALUE_MINOR = 1000 * 100  # a car's value under this is likely a typo (a phone's tail)
MODEL_WORDS = 5  # a quick entry's tail of at most this many words is the car model


def _country(ctx: BotContext) -> str:
    team = ctx.me.team
    assert team is not None
    return team.country


async def _ask(update: Update, ctx: BotContext, step: str, collected: dict[str, Any]) -> None:
    """Wait for `step`, showing its question with skip / back buttons."""
    t = ctx.t
    name = h(collected.get("name", ""))
    skip = button(t.pgettext("button", "⏭ Skip"), data(NEW, "skip"))
    back = button(t.pgettext("button", "◀️ Back"), data(NEW, "back"))
    if step == "name":
        text = "\n".join(
            [
                t._("👤 New client. What is their name?"),
                "",
                t._("💡 Faster, in one line: {example}").format(example=h(quick_example(t))),
            ]
        )
        keyboard = markup([button(t.pgettext("button", "✖️ Cancel"), data(NEW, "cancel"))])
    elif step == "phone":
        text = t._("📞 {name}'s phone number? Or share the contact from your phone book.").format(
            name=name
        )
        keyboard = markup([skip, back])
    elif step == "value":
        text = t._("💰 What is the deal worth? For example 95 000.")
        keyboard = markup([skip, back])
    elif step == "model":
        text = t._("🚗 Which car is {name} interested in? For example Škoda Octavia.").format(
            name=name
        )
        keyboard = markup([skip, back])
    else:
        text = t._("📣 How did {name} come to you?").format(name=name)
        sources = [
            button(source_name(t, source), data(NEW, "src", source)) for source in SOURCE_NAMES
        ]
        keyboard = markup(*rows(sources, 2), [skip, back])
    await ask(update, ctx, NEW, step, text, keyboard, **collected)


async def _next(update: Update, ctx: BotContext, step: str, collected: dict[str, Any]) -> None:
    later = STEPS[STEPS.index(step) + 1 :]
    for candidate in later:
        if candidate not in collected:
            await _ask(update, ctx, candidate, collected)
            return
    await _create(update, ctx, collected)


async def _create(
    update: Update, ctx: BotContext, collected: dict[str, Any], *, quick: bool = False
) -> None:
    """Create the deal, then ask for the next contact. A quick entry's confirmation echoes what
    was read (with ✏️ Fix, and a question when the value looks too low for a car) and offers the
    lead source in one tap, the salesperson's last choice already applied."""
    team = ctx.me.team
    assert team is not None
    member = me(ctx)
    source = collected.get("source")
    if quick and source is None and member.default_source in ClientSource._value2member_map_:
        source = member.default_source
    new = NewDeal(
        name=str(collected.get("name", "")),
        phone=collected.get("phone"),
        value_minor=collected.get("value"),
        source=ClientSource(source) if source else None,
        note=collected.get("note"),
        client_id=collected.get("client_id"),
        model=collected.get("model"),
    )
    async with ctx.db() as uow:
        view = await deals.create_deal(uow, member, team, new, ctx.runtime.clock.now())
        # The next question's step replaces this flow in the same transaction.
        step = await picker_step(uow, ctx, view.deal.id or 0, "n")
        await uow.commit()
    intro, extra = quick_confirmation(ctx, view) if quick else (saved_line(ctx, view), [])
    await ask_when(update, ctx, view, "n", intro=intro, extra_rows=extra, begun=step)


def saved_line(ctx: BotContext, view: DealView) -> str:
    return ctx.t._("✅ Saved as deal #{number}: {name}.").format(
        number=view.deal.number, name=h(view.client.name)
    )


def quick_example(t: Translator) -> str:
    return "/new " + t._("Jan Kowalski +48 600 100 200 95000 Octavia")


def quick_confirmation(
    ctx: BotContext, view: DealView
) -> tuple[str, list[list[InlineKeyboardButton]]]:
    """What a quick entry was read as, and its buttons: ✏️ Fix and the six lead sources."""
    t = ctx.t
    deal, client = view.deal, view.client
    fields = [f"👤 {h(client.name)}"]
    if client.phone:
        fields.append(f"📞 {format_phone(client.phone)}")
    if deal.value_minor:
        fields.append(f"💰 {t.money(deal.value_minor, deal.currency)}")
    if deal.model:
        fields.append(f"🚗 {h(deal.model)}")
    lines = [saved_line(ctx, view), " · ".join(fields)]
    if deal.value_minor and deal.value_minor < LOW_CAR_VALUE_MINOR:
        lines.append(
            t._("⚠️ {value} is low for a car: a typo? ✏️ Fix it.").format(
                value=t.money(deal.value_minor, deal.currency)
            )
        )
    if deal.last_note:
        lines.append(f"📝 {h(deal.last_note)}")
    chosen = client.source
    sources = [
        button(
            ("• " if source == chosen else "") + source_name(t, source),
            data(NEW, "qs", deal.id, source),
        )
        for source in SOURCE_NAMES
    ]
    fix = [button(t.pgettext("button", "✏️ Fix"), data("de", "menu", deal.id))]
    return "\n".join(lines), [*rows(sources, 2), fix]


async def _phone_is_free(
    update: Update, ctx: BotContext, phone: str, collected: dict[str, Any]
) -> bool:
    """A phone that is already a client of the team: the owner is offered the card or a new
    deal; anyone else is told whose client it is, and the managers decide."""
    team = ctx.me.team
    assert team is not None and team.id is not None
    async with ctx.runtime.reader() as uow:
        clients = await uow.deals.clients_with_phone(team.id, phone)
        known = [(client, await uow.deals.deals_of_client(client.id or 0)) for client in clients]
    known = [(client, client_deals) for client, client_deals in known if client_deals]
    if not known:
        return True
    client, client_deals = known[0]
    latest = client_deals[-1]
    t = ctx.t
    if deals.may_see(me(ctx), latest):
        # A screen of choices waits for no text: a name typed now is a search.
        await begin(ctx, NEW, "known", **collected)
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
        tail = entry.note
        # The words after the name, phone and value are the car the client wants ("Octavia",
        # "синий седан"); a longer tail is a note.
        model = (
            tail if tail and len(tail) <= MODEL_MAX and len(tail.split()) <= MODEL_WORDS else None
        )
        collected: dict[str, Any] = {
            "source": None,
            "note": None if model else tail,
            "model": model,
        }
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
        await _create(update, ctx, collected, quick=True)

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
        if action == "qs":
            await _quick_source(update, ctx)
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


async def _quick_source(update: Update, ctx: BotContext) -> None:
    """`nd:qs:<deal>:<source>`: the lead source of a deal just logged in one line; remembered
    as this salesperson's default for the next ones."""
    query = update.callback_query
    assert query is not None
    deal_id, source = int_arg(update), args(query.data, 2)[1]
    if source not in ClientSource._value2member_map_:
        raise RuleError(Problem.STALE)
    async with ctx.db() as uow:
        view = await deals.set_source(
            uow, me(ctx), deal_id, ClientSource(source), ctx.runtime.clock.now()
        )
        member = await uow.teams.member_by_id(me(ctx).id or 0)
        assert member is not None
        member.default_source = source
        await uow.teams.save(member)
        await uow.commit()
    ctx.me.member = member
    intro, extra = quick_confirmation(ctx, view)
    await ask_when(update, ctx, view, "n", intro=intro, extra_rows=extra)


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
        typed = update.effective_message.text or ""
        if not any(char.isdigit() for char in typed):
            # Words where a phone was asked for: say what this step waits for.
            text = ctx.t._(
                "📞 I'm waiting for the phone of {name}: send it, tap ⏭ Skip, or /cancel."
            ).format(name=h(str(state.data.get("name", ""))))
            await answer(update, ctx, text)
            return
        phone = parse_phone(typed, _country(ctx))
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
        typed = update.effective_message.text or ""
        if not any(char.isdigit() for char in typed):
            text = ctx.t._(
                "💰 I'm waiting for the value of the deal with {name}: send it like 95 000, "
                "tap ⏭ Skip, or /cancel."
            ).format(name=h(str(state.data.get("name", ""))))
            await answer(update, ctx, text)
            return
        amount = parse_amount(typed)
        if amount is None:
            raise RuleError(Problem.BAD_AMOUNT)
        await _next(update, ctx, "value", {**state.data, "value": amount})

    await run_rule(update, ctx, run)


@text_step(NEW, "model")
async def receive_model(update: Update, ctx: BotContext, state: ConversationState) -> None:
    async def run() -> None:
        assert update.effective_message is not None
        model = deals.clean_text(update.effective_message.text or "", MODEL_MAX)
        await _next(update, ctx, "model", {**state.data, "model": model})

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
