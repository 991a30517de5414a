"""Card actions that take a few taps and maybe a typed line: note, edit, activity, won, resign.

Each has its own callback prefix (dn, de, da, dw, dx) which is also the name of its text step,
so a tap on another card's button leaves the step and does what that button says.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CallbackQueryHandler

from bot.context import BotContext
from bot.domain import COMMENT_MAX, NOTE_MAX, ActivityKind
from bot.handlers.common import h, member_only, once_per_tap, run_rule
from bot.handlers.deal_card import int_arg, me, show_card, show_choices
from bot.handlers.deal_views import DEAL, field_label, money
from bot.handlers.flows import ask, text_step
from bot.handlers.labels import ACTIVITY_NAMES, activity_name, reason_name, stage_name
from bot.handlers.when_picker import WINBACK_PRESETS, ask_when
from bot.keyboards import args, button, data, markup, pattern
from bot.services import deals
from bot.services.deals import EDITABLE
from bot.services.errors import Problem, RuleError
from bot.services.quick_entry import format_phone, parse_amount, parse_phone
from bot.storage.models import ConversationState

NOTE, EDIT, ACTIVITY, WON, RESIGN = "dn", "de", "da", "dw", "dx"


def _back(ctx: BotContext, deal_id: int | None) -> list:  # type: ignore[type-arg]
    return [button(ctx.t.pgettext("button", "◀️ Back"), data(DEAL, "c", deal_id))]


def _typed_text(update: Update) -> str:
    message = update.effective_message
    return (message.text or "") if message else ""


# --- note ----------------------------------------------------------------------------------
@member_only
async def ask_note(update: Update, ctx: BotContext) -> None:
    async def run() -> None:
        async with ctx.runtime.uow() as uow:
            view = await deals.load(uow, me(ctx), int_arg(update))
        text = ctx.t._(
            "📝 Send the note for #{number} {name} ({limit} characters at most)."
        ).format(number=view.deal.number, name=h(view.client.name), limit=NOTE_MAX)
        keyboard = markup(_back(ctx, view.deal.id))
        await ask(update, ctx, NOTE, "text", text, keyboard, deal_id=view.deal.id)

    await run_rule(update, ctx, run)


@text_step(NOTE, "text")
async def receive_note(update: Update, ctx: BotContext, state: ConversationState) -> None:
    async def run() -> None:
        async with ctx.db() as uow:
            view = await deals.add_note(
                uow,
                me(ctx),
                int(state.data["deal_id"]),
                _typed_text(update),
                ctx.runtime.clock.now(),
            )
            await uow.conversations.clear(ctx.me.user.id)
            await uow.commit()
        ctx.flow = None
        if view.deal.status == "open":
            await ask_when(update, ctx, view, "n", intro=ctx.t._("📝 Note saved."))
        else:
            await show_card(update, ctx, view, prefix=ctx.t._("📝 Note saved."))

    await run_rule(update, ctx, run)


# --- edit ----------------------------------------------------------------------------------
@member_only
async def edit_menu(update: Update, ctx: BotContext) -> None:
    async def run() -> None:
        async with ctx.runtime.uow() as uow:
            view = await deals.load(uow, me(ctx), int_arg(update))
        t = ctx.t
        buttons = [
            button(field_label(t, field), data(EDIT, "f", view.deal.id, field))
            for field in EDITABLE
        ]
        text = t._("✏️ What to change in #{number} {name}?").format(
            number=view.deal.number, name=h(view.client.name)
        )
        extra = []
        if deals.is_manager(me(ctx)):  # the client's requests under the GDPR
            label = t.pgettext("button", "📇 Client's data (access request)")
            extra.append([button(label, data(EDIT, "cx", view.deal.id))])
            if view.client.erased_at is None:
                label = t.pgettext("button", "🧹 Erase client data")
                extra.append([button(label, data(EDIT, "er", view.deal.id))])
        await show_choices(update, ctx, view, text, buttons, per_row=3, extra=extra)

    await run_rule(update, ctx, run)


@member_only
async def ask_field(update: Update, ctx: BotContext) -> None:
    async def run() -> None:
        query = update.callback_query
        assert query is not None
        field = args(query.data, 2)[1]
        if field not in EDITABLE:
            raise RuleError(Problem.STALE)
        async with ctx.runtime.uow() as uow:
            view = await deals.load(uow, me(ctx), int_arg(update))
        t = ctx.t
        current = {
            "name": h(view.client.name),
            "phone": format_phone(view.client.phone) if view.client.phone else "—",
            "company": h(view.client.company or "—"),
            "model": h(view.deal.model or "—"),
            "email": h(view.client.email or "—"),
            "value": money(t, view.deal, view.deal.value_minor),
        }[field]
        text = t._("✏️ Send the new value of «{field}». Now: {current}").format(
            field=h(field_label(t, field)), current=current
        )
        keyboard = markup(_back(ctx, view.deal.id))
        await ask(update, ctx, EDIT, "value", text, keyboard, deal_id=view.deal.id, field=field)

    await run_rule(update, ctx, run)


@text_step(EDIT, "value")
async def receive_field(update: Update, ctx: BotContext, state: ConversationState) -> None:
    async def run() -> None:
        field = str(state.data["field"])
        raw = _typed_text(update).strip()
        team = ctx.me.team
        assert team is not None
        value: str | int | None = raw
        if field == "phone":
            value = parse_phone(raw, team.country)
            if value is None:
                raise RuleError(Problem.BAD_PHONE)
        elif field == "value":
            value = parse_amount(raw)
            if value is None:
                raise RuleError(Problem.BAD_AMOUNT)
        async with ctx.db() as uow:
            view = await deals.edit(
                uow, me(ctx), int(state.data["deal_id"]), field, value, ctx.runtime.clock.now()
            )
            await uow.conversations.clear(ctx.me.user.id)
            await uow.commit()
        ctx.flow = None
        await show_card(update, ctx, view, prefix=ctx.t._("✅ Saved."))

    await run_rule(update, ctx, run)


# --- activity ------------------------------------------------------------------------------
@member_only
async def pick_activity(update: Update, ctx: BotContext) -> None:
    async def run() -> None:
        async with ctx.runtime.uow() as uow:
            view = await deals.load_open(uow, me(ctx), int_arg(update))
        t = ctx.t
        buttons = [
            button(
                activity_name(t, kind),
                data(ACTIVITY, "log", view.deal.id, kind, view.deal.version),
            )
            for kind in ACTIVITY_NAMES
        ]
        text = t._("📞 What did you do with {name}?").format(name=h(view.client.name))
        await show_choices(update, ctx, view, text, buttons, per_row=2)

    await run_rule(update, ctx, run)


@member_only
@once_per_tap
async def log_activity(update: Update, ctx: BotContext) -> None:
    async def run() -> None:
        query = update.callback_query
        assert query is not None
        deal_id, kind = int_arg(update), args(query.data, 2)[1]
        if kind not in ActivityKind._value2member_map_:
            raise RuleError(Problem.STALE)
        if kind == ActivityKind.OFFER_SENT:
            await ask_offer(update, ctx, deal_id)
            return
        await _log(update, ctx, deal_id, ActivityKind(kind), None)

    await run_rule(update, ctx, run)


async def ask_offer(update: Update, ctx: BotContext, deal_id: int) -> None:
    """The offer's value: typed, the deal's value in one tap, or skipped. (Moving a deal to the
    offer stage asks this too: the offer is logged, and the deal moves with it.)"""
    async with ctx.runtime.uow() as uow:
        view = await deals.load_open(uow, me(ctx), deal_id)
    t = ctx.t
    text = t._("📄 What is the offer's value? For example 95 000.")
    choices = []
    if view.deal.value_minor:
        choices.append(
            button(
                "✅ " + money(t, view.deal, view.deal.value_minor),
                data(ACTIVITY, "ofv", deal_id, view.deal.version),
            )
        )
    choices.append(
        button(t.pgettext("button", "⏭ Skip"), data(ACTIVITY, "nov", deal_id, view.deal.version))
    )
    keyboard = markup(choices, _back(ctx, view.deal.id))
    await ask(update, ctx, ACTIVITY, "offer", text, keyboard, deal_id=deal_id)


async def _log(
    update: Update, ctx: BotContext, deal_id: int, kind: ActivityKind, amount: int | None
) -> None:
    t = ctx.t
    async with ctx.db() as uow:
        logged = await deals.log_and_advance(
            uow, me(ctx), deal_id, kind, ctx.runtime.clock.now(), amount
        )
        await uow.conversations.clear(ctx.me.user.id)
        await uow.commit()
    ctx.flow = None
    view = logged.view
    lines = [t._("✅ Logged: {activity}.").format(activity=h(activity_name(t, kind)))]
    if logged.revalued:
        lines.append(
            t._("💰 The deal's value is now {value}.").format(
                value=money(t, view.deal, view.deal.value_minor)
            )
        )
    if logged.moved is not None:
        lines.append(t._("➡️ Moved to {stage}.").format(stage=h(stage_name(t, view.stage))))
    undo = logged.moved.id if logged.moved is not None else None
    await ask_when(update, ctx, view, "n", intro="\n".join(lines), undo_event_id=undo)


@member_only
@once_per_tap
async def offer_without_value(update: Update, ctx: BotContext) -> None:
    await run_rule(
        update, ctx, lambda: _log(update, ctx, int_arg(update), ActivityKind.OFFER_SENT, None)
    )


@member_only
@once_per_tap
async def offer_at_deal_value(update: Update, ctx: BotContext) -> None:
    """`da:ofv:<deal>:<version>`: the offer is for the deal's value as it stands."""

    async def run() -> None:
        deal_id = int_arg(update)
        async with ctx.runtime.uow() as uow:
            view = await deals.load_open(uow, me(ctx), deal_id)
        await _log(update, ctx, deal_id, ActivityKind.OFFER_SENT, view.deal.value_minor)

    await run_rule(update, ctx, run)


@text_step(ACTIVITY, "offer")
async def receive_offer_value(update: Update, ctx: BotContext, state: ConversationState) -> None:
    async def run() -> None:
        amount = parse_amount(_typed_text(update))
        if amount is None:
            raise RuleError(Problem.BAD_AMOUNT)
        await _log(update, ctx, int(state.data["deal_id"]), ActivityKind.OFFER_SENT, amount)

    await run_rule(update, ctx, run)


# --- won ------------------------------------------------------------------------------------
# The amount waits in the flow state, never in a button: a button's data can be forged.
@member_only
async def ask_won(update: Update, ctx: BotContext) -> None:
    async def run() -> None:
        async with ctx.runtime.uow() as uow:
            view = await deals.load_open(uow, me(ctx), int_arg(update))
        t = ctx.t
        value = view.deal.value_minor
        text = t._(
            "✅ Contract signed with {name}? Send the final value, or confirm it below."
        ).format(name=h(view.client.name))
        keyboard = [_back(ctx, view.deal.id)]
        if value:
            keyboard.insert(
                0,
                [
                    button(
                        "✅ " + money(t, view.deal, value),
                        data(WON, "ok", view.deal.id, view.deal.version),
                    )
                ],
            )
        await ask(
            update, ctx, WON, "value", text, markup(*keyboard), deal_id=view.deal.id, amount=value
        )

    await run_rule(update, ctx, run)


@text_step(WON, "value")
async def receive_won_value(update: Update, ctx: BotContext, state: ConversationState) -> None:
    async def run() -> None:
        amount = parse_amount(_typed_text(update))
        if amount is None:
            raise RuleError(Problem.BAD_AMOUNT)
        async with ctx.runtime.uow() as uow:
            view = await deals.load_open(uow, me(ctx), int(state.data["deal_id"]))
        t = ctx.t
        text = t._("Mark #{number} {name} as won for {value}?").format(
            number=view.deal.number, name=h(view.client.name), value=money(t, view.deal, amount)
        )
        keyboard = markup(
            [
                button(
                    t.pgettext("button", "✅ Yes, won"),
                    data(WON, "ok", view.deal.id, view.deal.version),
                )
            ],
            _back(ctx, view.deal.id),
        )
        await ask(update, ctx, WON, "value", text, keyboard, deal_id=view.deal.id, amount=amount)

    await run_rule(update, ctx, run)


@member_only
@once_per_tap
async def confirm_won(update: Update, ctx: BotContext) -> None:
    async def run() -> None:
        deal_id = int_arg(update, 0)
        state = ctx.flow
        if state is None or state.flow != WON or state.data.get("deal_id") != deal_id:
            raise RuleError(Problem.STALE)
        amount = state.data.get("amount")
        if not isinstance(amount, int):
            raise RuleError(Problem.STALE)
        async with ctx.db() as uow:
            view, event = await deals.win(uow, me(ctx), deal_id, amount, ctx.runtime.clock.now())
            await uow.conversations.clear(ctx.me.user.id)
            await uow.commit()
        ctx.flow = None
        intro = ctx.t._("🎉 #{number} won for {value}!").format(
            number=view.deal.number, value=money(ctx.t, view.deal, amount)
        )
        await ask_when(update, ctx, view, "h", intro=intro, undo_event_id=event.id)

    await run_rule(update, ctx, run)


# --- resign --------------------------------------------------------------------------------
@member_only
async def ask_reason(update: Update, ctx: BotContext) -> None:
    async def run() -> None:
        await ask_reason_for(update, ctx, int_arg(update))

    await run_rule(update, ctx, run)


async def ask_reason_for(update: Update, ctx: BotContext, deal_id: int) -> None:
    """The reason buttons of a resignation (from the card or from a reminder)."""
    async with ctx.runtime.uow() as uow:
        view = await deals.load_open(uow, me(ctx), deal_id)
        reasons = await uow.teams.loss_reasons(view.deal.team_id)
    t = ctx.t
    buttons = [
        button(reason_name(t, reason), data(RESIGN, "r", view.deal.id, reason.id))
        for reason in reasons
    ]
    text = t._("❌ Why did {name} resign?").format(name=h(view.client.name))
    await show_choices(update, ctx, view, text, buttons)


@member_only
async def ask_comment(update: Update, ctx: BotContext) -> None:
    async def run() -> None:
        deal_id, reason_id = int_arg(update, 0), int_arg(update, 1)
        async with ctx.runtime.uow() as uow:
            view = await deals.load_open(uow, me(ctx), deal_id)
            reasons = {r.id: r for r in await uow.teams.loss_reasons(view.deal.team_id)}
        if reason_id not in reasons:
            raise RuleError(Problem.STALE)
        t = ctx.t
        text = t._(
            "💬 {reason}. A short comment, please: what exactly happened? "
            "({limit} characters at most)"
        ).format(reason=h(reason_name(t, reasons[reason_id])), limit=COMMENT_MAX)
        keyboard = markup([button(t.pgettext("button", "◀️ Back"), data(RESIGN, "ask", deal_id))])
        await ask(
            update, ctx, RESIGN, "comment", text, keyboard, deal_id=deal_id, reason_id=reason_id
        )

    await run_rule(update, ctx, run)


@text_step(RESIGN, "comment")
async def receive_comment(update: Update, ctx: BotContext, state: ConversationState) -> None:
    async def run() -> None:
        comment = deals.clean_text(_typed_text(update), COMMENT_MAX)
        deal_id, reason_id = int(state.data["deal_id"]), int(state.data["reason_id"])
        async with ctx.runtime.uow() as uow:
            view = await deals.load_open(uow, me(ctx), deal_id)
            reasons = {r.id: r for r in await uow.teams.loss_reasons(view.deal.team_id)}
        reason = reasons.get(reason_id)
        if reason is None:
            raise RuleError(Problem.STALE)
        suggested = min(
            (days for _, days in WINBACK_PRESETS),
            key=lambda days: abs(days - (reason.winback_days or 90)),
        )
        await ask_when(
            update,
            ctx,
            view,
            "w",
            flow_data={"reason_id": reason_id, "comment": comment},
            suggested_days=suggested,
        )

    await run_rule(update, ctx, run)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CallbackQueryHandler(ask_note, pattern=pattern(NOTE, "ask")))
    app.add_handler(CallbackQueryHandler(edit_menu, pattern=pattern(EDIT, "menu")))
    app.add_handler(CallbackQueryHandler(ask_field, pattern=pattern(EDIT, "f")))
    app.add_handler(CallbackQueryHandler(pick_activity, pattern=pattern(ACTIVITY, "pick")))
    app.add_handler(CallbackQueryHandler(log_activity, pattern=pattern(ACTIVITY, "log")))
    app.add_handler(CallbackQueryHandler(offer_without_value, pattern=pattern(ACTIVITY, "nov")))
    app.add_handler(CallbackQueryHandler(offer_at_deal_value, pattern=pattern(ACTIVITY, "ofv")))
    app.add_handler(CallbackQueryHandler(ask_won, pattern=pattern(WON, "ask")))
    app.add_handler(CallbackQueryHandler(confirm_won, pattern=pattern(WON, "ok")))
    app.add_handler(CallbackQueryHandler(ask_reason, pattern=pattern(RESIGN, "ask")))
    app.add_handler(CallbackQueryHandler(ask_comment, pattern=pattern(RESIGN, "r")))
