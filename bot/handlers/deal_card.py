"""The deal card: open it, move the stage, read the history, reassign, undo, reopen.

The card is one message edited in place as things change; screens reached from its buttons
(stage list, history, …) replace it and lead back to it.
"""

from __future__ import annotations

from datetime import timedelta

from telegram import InlineKeyboardButton, Update
from telegram.ext import Application, CallbackQueryHandler

from bot.context import BotContext
from bot.domain import ActivityKind, DealStatus, NoticeKind
from bot.handlers.common import (
    answer,
    display_name,
    h,
    member_only,
    once_per_tap,
    run_rule,
)
from bot.handlers.deal_views import DEAL, card_keyboard, card_text, deal_button, event_line
from bot.handlers.labels import stage_name
from bot.keyboards import args, button, data, markup, named, parse_id, pattern, rows
from bot.services import deals
from bot.services.errors import Problem, RuleError
from bot.storage.deals import DealView
from bot.storage.models import Member

HISTORY_PAGE = 10
# A card shown again within this time does not write its moment again (attachments go to the
# card sent last, for `bot.handlers.attachments.OPEN_FOR`).
OPENED_AGAIN_AFTER = timedelta(minutes=1)


def me(ctx: BotContext) -> Member:
    member = ctx.me.member
    assert member is not None
    return member


def int_arg(update: Update, index: int = 0) -> int:
    """An id from the callback data; anything else is a forged or stale button."""
    query = update.callback_query
    value = parse_id(args(query.data if query else None, index + 1)[index])
    if value is None:
        raise RuleError(Problem.STALE)
    return value


async def show_card(
    update: Update,
    ctx: BotContext,
    view: DealView,
    *,
    edit: bool = True,
    undo_event_id: int | None = None,
    prefix: str = "",
) -> None:
    t = ctx.t
    now = ctx.runtime.clock.now()
    text = card_text(t, view, now)
    if prefix:
        text = f"{prefix}\n\n{text}"
    await answer(update, ctx, text, card_keyboard(t, view, me(ctx), undo_event_id), edit=edit)
    # A photo or a file sent in the next minutes belongs to this deal (the moment is written
    # again at most once a minute for the same card: one write less on most taps).
    user = ctx.me.user
    if (
        user.open_deal_id != view.deal.id
        or user.open_deal_at is None
        or now - user.open_deal_at >= OPENED_AGAIN_AFTER
    ):
        async with ctx.runtime.uow() as uow:
            await uow.users.opened_card(user.id, view.deal.id or 0, now)
            await uow.commit()
        user.open_deal_id, user.open_deal_at = view.deal.id, now


async def show_choices(
    update: Update,
    ctx: BotContext,
    view: DealView,
    text: str,
    buttons: list[InlineKeyboardButton],
    per_row: int = 1,
    extra: list[list[InlineKeyboardButton]] | None = None,
) -> None:
    """A screen of choices about one deal, in place of its card, with a way back to it."""
    back = [button(ctx.t.pgettext("button", "◀️ Back"), data(DEAL, "c", view.deal.id))]
    keyboard = markup(*rows(buttons, per_row), *(extra or []), back)
    await answer(update, ctx, text, keyboard, edit=True)


@member_only
async def open_card(update: Update, ctx: BotContext) -> None:
    """`d:o:<id>` sends the card as a new message; `d:c:<id>` redraws it in place."""

    async def run() -> None:
        async with ctx.runtime.uow() as uow:
            view = await deals.load(uow, me(ctx), int_arg(update))
        query = update.callback_query
        await show_card(
            update, ctx, view, edit=bool(query and query.data and query.data.startswith("d:c:"))
        )

    await run_rule(update, ctx, run)


@member_only
async def choose_stage(update: Update, ctx: BotContext) -> None:
    async def run() -> None:
        async with ctx.runtime.uow() as uow:
            view = await deals.load_open(uow, me(ctx), int_arg(update))
            stages = await uow.teams.stages(view.deal.team_id)
        t = ctx.t
        deal_id = view.deal.id
        buttons = [
            button(
                ("• " if stage.id == view.deal.stage_id else "") + stage_name(t, stage),
                data(DEAL, "mv", deal_id, stage.id, view.deal.version),
            )
            for stage in stages
        ]
        text = t._("➡️ Move #{number} {name} to which stage?").format(
            number=view.deal.number, name=h(view.client.name)
        )
        await show_choices(update, ctx, view, text, buttons)

    await run_rule(update, ctx, run)


@member_only
@once_per_tap
async def move_stage(update: Update, ctx: BotContext) -> None:
    from bot.handlers.when_picker import ask_when

    async def run() -> None:
        deal_id, stage_id = int_arg(update, 0), int_arg(update, 1)
        if await _is_offer_stage(ctx, deal_id, stage_id):
            # Moving to the offer stage is sending an offer: its value is asked and the offer
            # logged, and the deal moves with it.
            from bot.handlers.deal_actions import ask_offer

            await ask_offer(update, ctx, deal_id)
            return
        async with ctx.db() as uow:
            view, event = await deals.move_stage(
                uow, me(ctx), deal_id, stage_id, ctx.runtime.clock.now()
            )
            await uow.commit()
        if event is None:
            await show_card(update, ctx, view)
            return
        moved = ctx.t._("➡️ #{number} moved to {stage}.").format(
            number=view.deal.number, stage=h(stage_name(ctx.t, view.stage))
        )
        await ask_when(update, ctx, view, "n", intro=moved, undo_event_id=event.id)

    await run_rule(update, ctx, run)


async def _is_offer_stage(ctx: BotContext, deal_id: int, stage_id: int) -> bool:
    """The offer stage, further on than the deal stands now."""
    async with ctx.runtime.uow() as uow:
        view = await deals.load_open(uow, me(ctx), deal_id)
        stages = {stage.id: stage for stage in await uow.teams.stages(view.deal.team_id)}
    target = stages.get(stage_id)
    return (
        target is not None
        and target.key in deals.ACTIVITY_STAGES[ActivityKind.OFFER_SENT]
        and target.position > view.stage.position
    )


@member_only
async def history(update: Update, ctx: BotContext) -> None:
    async def run() -> None:
        deal_id, page = int_arg(update, 0), int_arg(update, 1)
        async with ctx.runtime.uow() as uow:
            view = await deals.load(uow, me(ctx), deal_id)
            total = await uow.deals.count_events(deal_id)
            events = await uow.deals.events(
                deal_id, offset=page * HISTORY_PAGE, limit=HISTORY_PAGE
            )
            stages = {
                s.id: s for s in await uow.teams.stages(view.deal.team_id, include_retired=True)
            }
            reasons = {
                r.id: r
                for r in await uow.teams.loss_reasons(view.deal.team_id, include_retired=True)
            }
            others = [
                d for d in await uow.deals.deals_of_client(view.client.id or 0) if d.id != deal_id
            ]
        t = ctx.t
        lines = [
            t._("📜 <b>History of #{number} · {name}</b>").format(
                number=view.deal.number, name=h(view.client.name)
            ),
            "",
        ]
        lines += [
            event_line(t, event, stages, reasons, view.deal, ctx.runtime.clock.now())  # type: ignore[arg-type]
            for event in events
        ]
        # Only deals the viewer may see: another salesperson's deal of the same client stays
        # theirs.
        visible_others = [d for d in others if deals.may_see(me(ctx), d)]
        if visible_others:
            lines += ["", t._("Other deals of this client:")]
            for other in visible_others:
                status = {DealStatus.OPEN: "🟢", DealStatus.WON: "✅", DealStatus.LOST: "❌"}[
                    DealStatus(other.status)
                ]
                lines.append(f"{status} #{other.number}")
        paging = []
        if page > 0:
            paging.append(button("◀️", data(DEAL, "h", deal_id, page - 1)))
        if (page + 1) * HISTORY_PAGE < total:
            paging.append(button("▶️", data(DEAL, "h", deal_id, page + 1)))
        keyboard = markup(
            paging,
            *rows([deal_button(d, view.client) for d in visible_others[:6]], 2),
            [button(t.pgettext("button", "◀️ Back"), data(DEAL, "c", deal_id))],
        )
        await answer(update, ctx, "\n".join(lines), keyboard, edit=True)

    await run_rule(update, ctx, run)


@member_only
async def choose_owner(update: Update, ctx: BotContext) -> None:
    async def run() -> None:
        if not ctx.me.is_manager:
            raise RuleError(Problem.STALE)
        async with ctx.runtime.uow() as uow:
            view = await deals.load(uow, me(ctx), int_arg(update))
            people = await uow.teams.members(view.deal.team_id, active_only=True)
        t = ctx.t
        deal_id = view.deal.id
        buttons = [
            button(
                named(
                    "• " if p.member.id == view.deal.owner_member_id else "",
                    display_name(p.user),
                ),
                data(DEAL, "rt", deal_id, p.member.id),
            )
            for p in people
        ]
        text = t._("👤 Who takes over #{number} {name}?").format(
            number=view.deal.number, name=h(view.client.name)
        )
        await show_choices(update, ctx, view, text, buttons[:40], per_row=2)

    await run_rule(update, ctx, run)


@member_only
async def reassign(update: Update, ctx: BotContext) -> None:
    async def run() -> None:
        deal_id, member_id = int_arg(update, 0), int_arg(update, 1)
        now = ctx.runtime.clock.now()
        async with ctx.db() as uow:
            before = await deals.load(uow, me(ctx), deal_id)
            previous_owner = before.deal.owner_member_id
            view = await deals.reassign(uow, me(ctx), deal_id, member_id, now)
            told = previous_owner != member_id and member_id != me(ctx).id
            if told:
                await uow.notices.add(
                    view.owner_user.id,
                    NoticeKind.DEAL_REASSIGNED,
                    now,
                    team_id=view.deal.team_id,
                    actor=me(ctx).id,
                    deal=deal_id,
                )
            await uow.commit()
        if told:
            ctx.kick_notices()
        await show_card(update, ctx, view)

    await run_rule(update, ctx, run)


@member_only
async def undo(update: Update, ctx: BotContext) -> None:
    async def run() -> None:
        deal_id, event_id = int_arg(update, 0), int_arg(update, 1)
        async with ctx.db() as uow:
            view = await deals.undo(uow, me(ctx), deal_id, event_id, ctx.runtime.clock.now())
            await uow.commit()
        await show_card(update, ctx, view, prefix=ctx.t._("↩️ Undone."))

    await run_rule(update, ctx, run)


@member_only
async def reopen(update: Update, ctx: BotContext) -> None:
    from bot.handlers.when_picker import ask_when

    async def run() -> None:
        async with ctx.db() as uow:
            view = await deals.reopen(uow, me(ctx), int_arg(update), ctx.runtime.clock.now())
            await uow.commit()
        intro = ctx.t._("🔄 #{number} is open again.").format(number=view.deal.number)
        await ask_when(update, ctx, view, "n", intro=intro)

    await run_rule(update, ctx, run)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CallbackQueryHandler(open_card, pattern=r"^d:[oc]:"))
    app.add_handler(CallbackQueryHandler(choose_stage, pattern=pattern(DEAL, "st")))
    app.add_handler(CallbackQueryHandler(move_stage, pattern=pattern(DEAL, "mv")))
    app.add_handler(CallbackQueryHandler(history, pattern=pattern(DEAL, "h")))
    app.add_handler(CallbackQueryHandler(choose_owner, pattern=pattern(DEAL, "ra")))
    app.add_handler(CallbackQueryHandler(reassign, pattern=pattern(DEAL, "rt")))
    app.add_handler(CallbackQueryHandler(undo, pattern=pattern(DEAL, "u")))
    app.add_handler(CallbackQueryHandler(reopen, pattern=pattern(DEAL, "ro")))
