"""/team: the team's people, the invite link, and a manager's promote / demote / access."""

from __future__ import annotations

from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler

from bot.context import BotContext
from bot.domain import NoticeKind, Role
from bot.handlers import commands_menu
from bot.handlers.common import (
    answer,
    display_name,
    h,
    manager_only,
    member_only,
    once_per_tap,
    run_rule,
)
from bot.keyboards import (
    ID,
    TEAM,
    args,
    button,
    data,
    markup,
    named,
    parse_id,
    pattern,
    rows,
    share_button,
)
from bot.screens import audit as audit_screen
from bot.services import audit, teams
from bot.services.errors import Problem, RuleError
from bot.storage.models import Member, Team
from bot.storage.teams import MemberView
from bot.storage.unit_of_work import UnitOfWork

PAGE_SIZE = 10


def _role_icon(view: MemberView) -> str:
    if not view.member.active:
        return "⛔"
    return "👑" if view.member.role == Role.MANAGER else "👤"


def _role_label(ctx: BotContext, view: MemberView) -> str:
    t = ctx.t
    if not view.member.active:
        return t._("access off")
    return t._("manager") if view.member.role == Role.MANAGER else t._("salesperson")


async def _team_screen(ctx: BotContext, page: int) -> tuple[str, InlineKeyboardMarkup | None]:
    t = ctx.t
    team, me = ctx.me.team, ctx.me.member
    assert team is not None and team.id is not None and me is not None
    async with ctx.runtime.uow() as uow:
        people = await uow.teams.members(team.id)
    active = sum(1 for view in people if view.member.active)
    header = t.ngettext(
        "👥 <b>{team}</b>: {n} person", "👥 <b>{team}</b>: {n} people", active
    ).format(team=h(team.name), n=t.number(active))
    if not ctx.me.is_manager:
        managers = ", ".join(
            h(display_name(v.user))
            for v in people
            if v.member.active and v.member.role == Role.MANAGER
        )
        return "\n".join([header, t._("Managers: {names}").format(names=managers)]), None
    pages = max(1, -(-len(people) // PAGE_SIZE))
    page = min(max(page, 0), pages - 1)
    shown = people[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    lines = [header, ""]
    for view in shown:
        you = t._(" (you)") if view.member.id == me.id else ""
        blocked = " · " + t._("🔕 blocked the bot") if view.user.bot_blocked else ""
        lines.append(
            f"{_role_icon(view)} {h(display_name(view.user))}{you}: "
            f"{_role_label(ctx, view)}{blocked}"
        )
    assert team.invite_code is not None
    async with ctx.runtime.uow() as uow:
        leavers = await uow.deals.pending_of_leavers(team.id)
    names = {view.member.id: view for view in people}
    leaver_buttons = []
    if leavers:
        waiting = sum(count for _, count in leavers)
        lines += [
            "",
            t.ngettext(
                "⏰ {n} reminder of people who left: hand it over.",
                "⏰ {n} reminders of people who left: hand them over.",
                waiting,
            ).format(n=t.number(waiting)),
        ]
        leaver_buttons = [
            button(
                f"📦 {display_name(names[member_id].user)[:30]} ({count})",
                data(TEAM, "ho", member_id),
            )
            for member_id, count in leavers
            if member_id in names
        ]
    lines += [
        "",
        t._("Invite link (works for everyone you send it to, until you make a new one):"),
        ctx.runtime.link(teams.INVITE_PREFIX + team.invite_code),
        "",
        t._("Tap a person to change their role or access."),
    ]
    people_buttons = [
        button(named(f"{_role_icon(v)} ", display_name(v.user)), data(TEAM, "m", v.member.id))
        for v in shown
    ]
    paging = []
    if page > 0:
        paging.append(button("◀️", data(TEAM, "list", page - 1)))
    if page < pages - 1:
        paging.append(button("▶️", data(TEAM, "list", page + 1)))
    keyboard = markup(
        *rows(people_buttons, 2),
        paging,
        *rows(leaver_buttons[:10], 1),
        [invite_share_button(ctx, team)],
        [button(t.pgettext("button", "🔄 New invite link"), data(TEAM, "inv"))],
        [button(t.pgettext("button", "🧾 Audit"), data(TEAM, "au", 0))],
    )
    return "\n".join(lines), keyboard


def invite_share_button(ctx: BotContext, team: Team) -> InlineKeyboardButton:
    """Send the invite link on in one tap (Telegram's share screen, any chat)."""
    t = ctx.t
    assert team.invite_code is not None
    link = ctx.runtime.link(teams.INVITE_PREFIX + team.invite_code)
    message = t._("Join our team {team} in the CRM bot:").format(team=team.name)
    return share_button(t.pgettext("button", "📤 Share the invite"), link, message)


@member_only
async def team_command(update: Update, ctx: BotContext) -> None:
    text, keyboard = await _team_screen(ctx, 0)
    await answer(update, ctx, text, keyboard)


@manager_only
async def show_page(update: Update, ctx: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    text, keyboard = await _team_screen(ctx, parse_id(args(query.data, 1)[0]) or 0)
    await answer(update, ctx, text, keyboard, edit=True)


@manager_only
async def show_audit(update: Update, ctx: BotContext) -> None:
    """`tm:au:<page>`: the team's audit, newest first, a page at a time."""
    query = update.callback_query
    assert query is not None
    team = ctx.me.team
    assert team is not None and team.id is not None
    t = ctx.t
    async with ctx.runtime.uow() as uow:
        total = await uow.audit.count(team.id)
        pages = max(1, -(-total // audit_screen.PAGE_SIZE))
        page = min(max(parse_id(args(query.data, 1)[0]) or 0, 0), pages - 1)
        entries = await audit.page(
            uow, team.id, page * audit_screen.PAGE_SIZE, audit_screen.PAGE_SIZE
        )
        people = {v.member.id or 0: display_name(v.user) for v in await uow.teams.members(team.id)}
    lines = [t._("🧾 <b>Audit of {team}</b>").format(team=h(team.name)), ""]
    if entries:
        lines += audit_screen.audit_lines(t, team, entries, people)
        if pages > 1:
            lines += ["", t._("Page {page} of {pages}").format(page=page + 1, pages=pages)]
    else:
        lines.append(
            t._(
                "Nothing yet: exports, imports, erasures, role and access changes, "
                "hand-overs and settings will be listed here."
            )
        )
    paging = []
    if page > 0:
        paging.append(button(t.pgettext("button", "◀️ Newer"), data(TEAM, "au", page - 1)))
    if page < pages - 1:
        paging.append(button(t.pgettext("button", "Older ▶️"), data(TEAM, "au", page + 1)))
    keyboard = markup(paging, [button(t.pgettext("button", "◀️ Back"), data(TEAM, "list", 0))])
    await answer(update, ctx, "\n".join(lines), keyboard, edit=True)


async def _member_view(ctx: BotContext, raw_id: str) -> MemberView:
    """A member of the asking manager's team, or a stale-button error."""
    team = ctx.me.team
    assert team is not None and team.id is not None
    member_id = parse_id(raw_id)
    if member_id is not None:
        async with ctx.runtime.uow() as uow:
            for view in await uow.teams.members(team.id):
                if view.member.id == member_id:
                    return view
    raise RuleError(Problem.STALE)


async def _carried(ctx: BotContext, member_id: int | None) -> int:
    """How many deals a hand-over of this member would move (open ones, and closed ones with
    a pending reminder)."""
    async with ctx.runtime.uow() as uow:
        return len(await uow.deals.carried_by(member_id or 0))


def _member_screen(
    ctx: BotContext, view: MemberView, carried: int
) -> tuple[str, InlineKeyboardMarkup]:
    t = ctx.t
    member = view.member
    lines = [
        f"{_role_icon(view)} <b>{h(display_name(view.user))}</b>",
        t._("Role: {role}").format(role=_role_label(ctx, view)),
        t._("In the team since {date}").format(date=t.date(member.joined_at)),
    ]
    if view.user.bot_blocked:
        lines.append(t._("🔕 Has blocked the bot: gets no reminders until they open it again."))
    if view.user.username:
        lines.append(f"@{h(view.user.username)}")
    lines.append(
        t.ngettext(
            "{n} deal open or with a follow-up planned",
            "{n} deals open or with a follow-up planned",
            carried,
        ).format(n=t.number(carried))
    )
    buttons = []
    if member.active and member.role == Role.SALESPERSON:
        buttons.append(
            button(t.pgettext("button", "👑 Make manager"), data(TEAM, "mgr", member.id))
        )
    if member.active and member.role == Role.MANAGER:
        buttons.append(
            button(t.pgettext("button", "👤 Make salesperson"), data(TEAM, "sp", member.id))
        )
    if member.active:
        buttons.append(
            button(t.pgettext("button", "⛔ Turn off access"), data(TEAM, "off", member.id))
        )
    else:
        buttons.append(
            button(t.pgettext("button", "✅ Give access back"), data(TEAM, "on", member.id))
        )
    if carried:
        buttons.append(
            button(t.pgettext("button", "📦 Hand over deals"), data(TEAM, "ho", member.id))
        )
    keyboard = markup(
        *rows(buttons, 1), [button(t.pgettext("button", "◀️ Back"), data(TEAM, "list", 0))]
    )
    return "\n".join(lines), keyboard


@manager_only
async def show_member(update: Update, ctx: BotContext) -> None:
    query = update.callback_query
    assert query is not None

    async def show() -> None:
        view = await _member_view(ctx, args(query.data, 1)[0])
        text, keyboard = _member_screen(ctx, view, await _carried(ctx, view.member.id))
        await answer(update, ctx, text, keyboard, edit=True)

    await run_rule(update, ctx, show)


@manager_only
async def change_member(update: Update, ctx: BotContext) -> None:
    """Promote, demote, turn access off (after a confirmation) or back on."""
    query = update.callback_query
    assert query is not None
    action = (query.data or "").split(":")[1]
    raw_id = args(query.data, 1)[0]
    actor = ctx.me.member
    team = ctx.me.team
    assert actor is not None and team is not None
    t = ctx.t

    async def change() -> None:
        view = await _member_view(ctx, raw_id)
        if action == "off":
            name = h(display_name(view.user))
            text = t._(
                "Turn off access for {name}? They will no longer see the team's deals. "
                "Their history stays."
            ).format(name=name)
            keyboard = markup(
                [
                    button(
                        t.pgettext("button", "⛔ Yes, turn off"),
                        data(TEAM, "offok", view.member.id),
                    )
                ],
                [button(t.pgettext("button", "◀️ Back"), data(TEAM, "m", view.member.id))],
            )
            await answer(update, ctx, text, keyboard, edit=True)
            return
        member_id = view.member.id
        assert member_id is not None
        async with ctx.db() as uow:
            now = ctx.runtime.clock.now()
            before = view.member.model_copy()
            if action == "mgr":
                member = await teams.set_role(uow, actor, member_id, Role.MANAGER)
            elif action == "sp":
                member = await teams.set_role(uow, actor, member_id, Role.SALESPERSON)
            elif action == "offok":
                member = await teams.deactivate(uow, actor, member_id, now)
            else:
                member = await teams.reactivate(uow, actor, member_id)
            changed = (before.role, before.active) != (member.role, member.active)
            if changed and member.id != actor.id:
                await _tell_member(uow, team, view.user.id, member, now)
            await uow.commit()
        if changed:
            # Their menu first: by the time either of them reads the change, it matches it.
            await commands_menu.sync_for(ctx, view.user, member)
            ctx.kick_notices()
        updated = MemberView(member, view.user)
        if member.id == actor.id:
            ctx.me.member = member if member.active else None
        carried = await _carried(ctx, member.id)
        if action == "offok" and carried and member.id != actor.id:
            # The leaver's deals and follow-ups need someone now: ask at once.
            await _receiver_screen(update, ctx, updated)
        else:
            text, keyboard = _member_screen(ctx, updated, carried)
            await answer(update, ctx, text, keyboard, edit=True)

    await run_rule(update, ctx, change)


async def _tell_member(
    uow: UnitOfWork, team: Team, user_id: int, member: Member, now: datetime
) -> None:
    """A notice (sent by the dispatcher, in their language) about their new role or access."""
    if not member.active:
        kind = NoticeKind.ACCESS_OFF
    elif member.role == Role.MANAGER:
        kind = NoticeKind.ROLE_MANAGER
    else:
        kind = NoticeKind.ROLE_SALESPERSON
    await uow.notices.add(user_id, kind, now, team_id=team.id)


@manager_only
async def renew_invite(update: Update, ctx: BotContext) -> None:
    query = update.callback_query
    assert query is not None
    t = ctx.t
    if (query.data or "") == data(TEAM, "inv"):
        text = t._("Make a new invite link? The current link stops working at once.")
        keyboard = markup(
            [button(t.pgettext("button", "🔄 Yes, new link"), data(TEAM, "invok"))],
            [button(t.pgettext("button", "◀️ Back"), data(TEAM, "list", 0))],
        )
        await answer(update, ctx, text, keyboard, edit=True)
        return
    team, actor = ctx.me.team, ctx.me.member
    assert team is not None and team.id is not None and actor is not None

    async def renew() -> None:
        async with ctx.db() as uow:
            fresh = await uow.teams.get(team.id or 0)
            assert fresh is not None
            await teams.renew_invite(uow, fresh, actor)
            await uow.commit()
        ctx.me.team = fresh
        text, keyboard = await _team_screen(ctx, 0)
        await answer(
            update,
            ctx,
            t._("✅ New invite link made. The old one no longer works.") + "\n\n" + text,
            keyboard,
            edit=True,
        )

    await run_rule(update, ctx, renew)


async def _receiver_screen(update: Update, ctx: BotContext, source: MemberView) -> None:
    team = ctx.me.team
    assert team is not None and team.id is not None
    async with ctx.runtime.uow() as uow:
        people = await uow.teams.members(team.id, active_only=True)
    t = ctx.t
    text = t._(
        "📦 Who takes over the deals of {name}, with their follow-ups "
        "(win-backs and handovers of closed deals too)?"
    ).format(name=h(display_name(source.user)))
    choices = [
        button(named("", display_name(p.user)), data(TEAM, "hot", source.member.id, p.member.id))
        for p in people
        if p.member.id != source.member.id
    ]
    back = [button(t.pgettext("button", "◀️ Back"), data(TEAM, "m", source.member.id))]
    await answer(update, ctx, text, markup(*rows(choices[:40], 2), back), edit=True)


@manager_only
async def choose_receiver(update: Update, ctx: BotContext) -> None:
    """`tm:ho:<member>`: to whom a leaver's (or anyone's) deals and follow-ups go."""
    query = update.callback_query
    assert query is not None

    async def choose() -> None:
        await _receiver_screen(update, ctx, await _member_view(ctx, args(query.data, 1)[0]))

    await run_rule(update, ctx, choose)


@manager_only
@once_per_tap
async def hand_over(update: Update, ctx: BotContext) -> None:
    """`tm:hot:<from>:<to>`: every open deal and pending reminder moves in one step."""
    from bot.services import deals

    query = update.callback_query
    assert query is not None
    actor = ctx.me.member
    team = ctx.me.team
    assert actor is not None and team is not None

    async def move() -> None:
        raw_from, raw_to = args(query.data, 2)[:2]
        source = await _member_view(ctx, raw_from)
        target = await _member_view(ctx, raw_to)
        now = ctx.runtime.clock.now()
        async with ctx.db() as uow:
            moved = await deals.hand_over(
                uow, actor, source.member.id or 0, target.member.id or 0, now
            )
            if (moved.deals or moved.reminders) and target.member.id != actor.id:
                await uow.notices.add(
                    target.user.id,
                    NoticeKind.DEALS_HANDED_OVER,
                    now,
                    team_id=team.id,
                    actor=actor.id,
                    source=source.member.id,
                    deals=moved.deals,
                    reminders=moved.reminders,
                )
            await uow.commit()
        ctx.kick_notices()
        t = ctx.t
        done = t.ngettext(
            "✅ {n} deal handed over to {name}.",
            "✅ {n} deals handed over to {name}.",
            moved.deals,
        ).format(n=t.number(moved.deals), name=h(display_name(target.user)))
        if moved.reminders:
            done += "\n" + t.ngettext(
                "⏰ {n} follow-up goes to {name} from now on.",
                "⏰ {n} follow-ups go to {name} from now on.",
                moved.reminders,
            ).format(n=t.number(moved.reminders), name=h(display_name(target.user)))
        text, keyboard = _member_screen(ctx, source, 0)
        await answer(update, ctx, f"{done}\n\n{text}", keyboard, edit=True)

    await run_rule(update, ctx, move)


def register(app: Application) -> None:  # type: ignore[type-arg]
    app.add_handler(CommandHandler("team", team_command))
    app.add_handler(CallbackQueryHandler(show_page, pattern=pattern(TEAM, "list")))
    app.add_handler(CallbackQueryHandler(show_member, pattern=pattern(TEAM, "m")))
    app.add_handler(CallbackQueryHandler(show_audit, pattern=rf"^tm:au:{ID}$"))
    app.add_handler(
        CallbackQueryHandler(change_member, pattern=rf"^tm:(mgr|sp|off|offok|on):{ID}$")
    )
    app.add_handler(CallbackQueryHandler(renew_invite, pattern=r"^tm:(inv|invok)$"))
    app.add_handler(CallbackQueryHandler(choose_receiver, pattern=rf"^tm:ho:{ID}$"))
    app.add_handler(CallbackQueryHandler(hand_over, pattern=rf"^tm:hot:{ID}:{ID}$"))
