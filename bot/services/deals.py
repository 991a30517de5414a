"""The life of a deal: created, moved through stages, worked on, won or resigned, reopened,
reassigned. Every change appends a `DealEvent`; nothing is ever deleted.

Who may act: the deal's owner, or an active manager of its team. Anyone else, another team
included, gets the same answer as for a deal that does not exist. Every action checks the
deal's current state, so a stale or repeated button changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.domain import (
    CLIENT_NAME_MAX,
    COMMENT_MAX,
    COMPANY_MAX,
    EMAIL_MAX,
    MAX_AMOUNT_MINOR,
    MODEL_MAX,
    NEXT_STEP_MAX,
    NOTE_MAX,
    SATISFACTION_CALL_DAYS,
    UNDO_WINDOW_SECONDS,
    ActivityKind,
    AuditAction,
    ClientSource,
    DealStatus,
    EventKind,
    ReminderKind,
    Role,
)
from bot.services import audit
from bot.services.errors import Problem, RuleError
from bot.storage.deals import DealView
from bot.storage.models import Client, Deal, DealEvent, Member, Reminder, Team
from bot.storage.unit_of_work import UnitOfWork
from bot.text import search_key

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
UNDOABLE = (EventKind.STAGE_CHANGED, EventKind.WON, EventKind.LOST)
STATE_CHANGES = (*UNDOABLE, EventKind.REOPENED, EventKind.UNDONE)


def clean_text(raw: str, limit: int, *, required: bool = True) -> str | None:
    """Whitespace-trimmed text within `limit` characters; the limit is told, never cut."""
    text = raw.strip()
    if not text:
        if required:
            raise RuleError(Problem.NAME_EMPTY)
        return None
    if len(text) > limit:
        raise RuleError(Problem.TOO_LONG, limit=limit)
    return text


def check_amount(amount_minor: int | None) -> None:
    """A positive amount within the stored bound (buttons and typed text alike)."""
    if amount_minor is not None and not 0 < amount_minor <= MAX_AMOUNT_MINOR:
        raise RuleError(Problem.BAD_AMOUNT)


def is_manager(member: Member) -> bool:
    return member.active and member.role == Role.MANAGER


def may_see(member: Member, deal: Deal) -> bool:
    if not member.active or member.team_id != deal.team_id:
        return False
    return is_manager(member) or deal.owner_member_id == member.id


async def load(uow: UnitOfWork, actor: Member, deal_id: int) -> DealView:
    deal = await uow.deals.get(deal_id)
    if deal is None or not may_see(actor, deal):
        raise RuleError(Problem.DEAL_NOT_FOUND)
    view = await uow.deals.view(deal_id)
    assert view is not None
    return view


async def load_any(uow: UnitOfWork, actor: Member, deal_id: int) -> DealView:
    """For a manager: any deal of the team (also of a person who left)."""
    return await load(uow, actor, deal_id)


async def load_open(uow: UnitOfWork, actor: Member, deal_id: int) -> DealView:
    view = await load(uow, actor, deal_id)
    if view.deal.status != DealStatus.OPEN:
        raise RuleError(Problem.DEAL_CLOSED, number=view.deal.number)
    return view


async def find_by_number(uow: UnitOfWork, actor: Member, number: int) -> DealView:
    """`#12` within the actor's own team."""
    deal = await uow.deals.by_number(actor.team_id, number)
    if deal is None or deal.id is None:
        raise RuleError(Problem.DEAL_NOT_FOUND)
    return await load(uow, actor, deal.id)


def _event(
    view: DealView, kind: EventKind, actor: Member, now: datetime, **fields: Any
) -> DealEvent:
    deal = view.deal
    assert deal.id is not None
    return DealEvent(
        team_id=deal.team_id,
        deal_id=deal.id,
        kind=kind,
        at=now,
        actor_member_id=actor.id,
        owner_member_id=deal.owner_member_id,
        **fields,
    )


async def _record(uow: UnitOfWork, view: DealView, event: DealEvent, now: datetime) -> DealEvent:
    await uow.deals.touch(view.deal, now)
    await uow.deals.add(event)
    return event


async def remind(
    uow: UnitOfWork,
    deal: Deal,
    kind: ReminderKind,
    due: datetime,
    now: datetime,
    note: str | None = None,
) -> None:
    """One pending reminder of a kind per deal: a new plan replaces the old."""
    assert deal.id is not None
    await uow.deals.cancel_reminders(deal.id, [kind])
    await uow.deals.add(
        Reminder(
            team_id=deal.team_id,
            deal_id=deal.id,
            member_id=deal.owner_member_id,
            kind=kind,
            due_at=due,
            note=note,
            created_at=now,
        )
    )


async def _reload(uow: UnitOfWork, deal_id: int) -> DealView:
    """The deal's view again, after a change of owner or stage that the view did not follow."""
    view = await uow.deals.view(deal_id)
    assert view is not None
    return view


# --- creating --------------------------------------------------------------------------------
@dataclass(frozen=True)
class NewDeal:
    name: str
    phone: str | None = None
    value_minor: int | None = None
    source: ClientSource | None = None
    note: str | None = None
    company: str | None = None
    client_id: int | None = None  # an existing client of the team (a returning client)
    model: str | None = None  # the car the client wants


async def create_deal(
    uow: UnitOfWork, actor: Member, team: Team, new: NewDeal, now: datetime
) -> DealView:
    if not actor.active or actor.team_id != team.id:
        raise RuleError(Problem.STALE)
    assert team.id is not None
    if new.client_id is not None:
        client = await uow.deals.client(new.client_id)
        if client is None or client.team_id != team.id:
            raise RuleError(Problem.STALE)
    else:
        name = clean_text(new.name, CLIENT_NAME_MAX)
        assert name is not None
        company = clean_text(new.company or "", COMPANY_MAX, required=False)
        client = Client(
            team_id=team.id,
            name=name,
            phone=new.phone,
            company=company,
            source=new.source,
            search_key=search_key(name, company),
            created_at=now,
        )
        await uow.deals.add(client)
    check_amount(new.value_minor)
    note = clean_text(new.note or "", NOTE_MAX, required=False)
    model = clean_text(new.model or "", MODEL_MAX, required=False)
    stages = await uow.teams.stages(team.id)
    assert client.id is not None and actor.id is not None and stages[0].id is not None
    deal = Deal(
        team_id=team.id,
        number=await uow.teams.next_deal_number(team.id),
        client_id=client.id,
        owner_member_id=actor.id,
        stage_id=stages[0].id,
        value_minor=new.value_minor,
        currency=team.currency,
        model=model,
        model_key=search_key(model)[:MODEL_MAX] if model else None,
        last_note=note,
        stage_entered_at=now,
        created_at=now,
        updated_at=now,
    )
    await uow.deals.add(deal)
    assert deal.id is not None
    view = await uow.deals.view(deal.id)
    assert view is not None
    await _record(
        uow,
        view,
        _event(
            view,
            EventKind.CREATED,
            actor,
            now,
            to_stage_id=deal.stage_id,
            amount_minor=new.value_minor,
            data={"source": new.source} if new.source else None,
        ),
        now,
    )
    if note:
        await _record(uow, view, _event(view, EventKind.NOTE, actor, now, text=note), now)
    return view


# --- working the deal ------------------------------------------------------------------------
async def move_stage(
    uow: UnitOfWork, actor: Member, deal_id: int, stage_id: int, now: datetime
) -> tuple[DealView, DealEvent | None]:
    """Move to another stage of the team's pipeline; the same stage again changes nothing."""
    view = await load_open(uow, actor, deal_id)
    stages = {stage.id: stage for stage in await uow.teams.stages(view.deal.team_id)}
    if stage_id not in stages:
        raise RuleError(Problem.STALE)
    if view.deal.stage_id == stage_id:
        return view, None
    deal = view.deal
    event = _event(
        view,
        EventKind.STAGE_CHANGED,
        actor,
        now,
        from_stage_id=deal.stage_id,
        to_stage_id=stage_id,
        stage_seconds=_seconds_in_stage(deal, now),
        data={"stage_entered_at": deal.stage_entered_at.isoformat()},
    )
    deal.stage_id, deal.stage_entered_at = stage_id, now
    view.stage = stages[stage_id]
    return view, await _record(uow, view, event, now)


async def log_activity(
    uow: UnitOfWork,
    actor: Member,
    deal_id: int,
    kind: ActivityKind,
    now: datetime,
    amount_minor: int | None = None,
) -> DealView:
    view = await load_open(uow, actor, deal_id)
    check_amount(amount_minor)
    await _record(
        uow,
        view,
        _event(view, EventKind.ACTIVITY, actor, now, activity=kind, amount_minor=amount_minor),
        now,
    )
    view.deal.last_activity, view.deal.last_activity_at = kind, now
    return view


# The stage an activity belongs to: the first of these keys a team's pipeline has (a team that
# renamed a default stage keeps its key). A test drive in the older pipeline (no "test_drive"
# stage) belongs to "Test drive / negotiation".
ACTIVITY_STAGES: dict[ActivityKind, tuple[str, ...]] = {
    ActivityKind.CALL: ("contacted",),
    ActivityKind.MESSAGE: ("contacted",),
    ActivityKind.MEETING: ("needs_identified", "contacted"),
    ActivityKind.PRESENTATION: ("needs_identified", "contacted"),
    ActivityKind.TEST_DRIVE: ("test_drive", "negotiation"),
    ActivityKind.OFFER_SENT: ("offer_sent",),
}


@dataclass(frozen=True)
class Logged:
    view: DealView
    moved: DealEvent | None  # the stage move the activity made, if any (it can be undone)
    revalued: bool  # the offer's value became the deal's value


async def log_and_advance(
    uow: UnitOfWork,
    actor: Member,
    deal_id: int,
    kind: ActivityKind,
    now: datetime,
    amount_minor: int | None = None,
) -> Logged:
    """Log an activity; when it belongs to a later stage than the deal's, the deal moves there
    (never back); an offer's value becomes the deal's value (the old one stays in the
    history)."""
    view = await log_activity(uow, actor, deal_id, kind, now, amount_minor)
    revalued = False
    if kind == ActivityKind.OFFER_SENT and amount_minor and amount_minor != view.deal.value_minor:
        view = await edit(uow, actor, deal_id, "value", amount_minor, now)
        revalued = True
    stages = await uow.teams.stages(view.deal.team_id)
    by_key = {stage.key: stage for stage in stages if stage.key}
    target = next((by_key[key] for key in ACTIVITY_STAGES[kind] if key in by_key), None)
    if target is None or target.position <= view.stage.position:
        return Logged(view, None, revalued)
    view, moved = await move_stage(uow, actor, deal_id, target.id or 0, now)
    return Logged(view, moved, revalued)


async def plan_next_contact(
    uow: UnitOfWork,
    actor: Member,
    deal_id: int,
    when: datetime | None,
    now: datetime,
    step: str | None = None,
) -> DealView:
    """Plan the next contact (a reminder), or record that there is none yet (flagged)."""
    view = await load_open(uow, actor, deal_id)
    if when is not None and when <= now:
        raise RuleError(Problem.WHEN_PAST)
    step = clean_text(step or "", NEXT_STEP_MAX, required=False)
    deal = view.deal
    deal.next_contact_at, deal.next_step = when, step
    assert deal.id is not None
    if when is None:
        await uow.deals.cancel_reminders(deal.id, [ReminderKind.NEXT_CONTACT])
    else:
        await remind(uow, deal, ReminderKind.NEXT_CONTACT, when, now, step)
    await _record(
        uow, view, _event(view, EventKind.FOLLOW_UP_SET, actor, now, due_at=when, text=step), now
    )
    return view


async def add_note(
    uow: UnitOfWork, actor: Member, deal_id: int, raw: str, now: datetime
) -> DealView:
    view = await load(uow, actor, deal_id)
    text = clean_text(raw, NOTE_MAX)
    view.deal.last_note = text
    await _record(uow, view, _event(view, EventKind.NOTE, actor, now, text=text), now)
    return view


async def set_source(
    uow: UnitOfWork, actor: Member, deal_id: int, source: ClientSource, now: datetime
) -> DealView:
    """Where the client came from (the one-tap choice after a quick entry)."""
    view = await load(uow, actor, deal_id)
    client = view.client
    if client.source == source:
        return view
    old, client.source = client.source, source
    await uow.deals.add(client)
    await _record(
        uow,
        view,
        _event(
            view,
            EventKind.EDITED,
            actor,
            now,
            data={"field": "source", "old": old, "new": source},
        ),
        now,
    )
    return view


async def attach(
    uow: UnitOfWork,
    actor: Member,
    deal_id: int,
    file: dict[str, str],
    caption: str | None,
    now: datetime,
) -> DealView:
    """A photo or a file sent about the deal (Telegram keeps the file; the event keeps its id)."""
    view = await load(uow, actor, deal_id)
    await _record(
        uow, view, _event(view, EventKind.ATTACHMENT, actor, now, text=caption, data=file), now
    )
    return view


EDITABLE = ("name", "phone", "model", "company", "email", "value")


async def edit(
    uow: UnitOfWork,
    actor: Member,
    deal_id: int,
    field: str,
    value: str | int | None,
    now: datetime,
) -> DealView:
    """Change a client or deal field; the old value is kept in the event. `value` comes already
    parsed for phone (E.164) and value (minor units)."""
    view = await load(uow, actor, deal_id)
    client, deal = view.client, view.deal
    old: str | int | None
    if field == "name":
        old, client.name = client.name, clean_text(str(value or ""), CLIENT_NAME_MAX) or ""
        new: str | int | None = client.name
    elif field == "phone":
        old, client.phone = client.phone, (str(value) if value else None)
        new = client.phone
    elif field == "company":
        old, client.company = (
            client.company,
            clean_text(str(value or ""), COMPANY_MAX, required=False),
        )
        new = client.company
    elif field == "model":
        old, deal.model = deal.model, clean_text(str(value or ""), MODEL_MAX, required=False)
        deal.model_key = search_key(deal.model)[:MODEL_MAX] if deal.model else None
        new = deal.model
    elif field == "email":
        email = clean_text(str(value or ""), EMAIL_MAX, required=False)
        if email and not EMAIL.match(email):
            raise RuleError(Problem.BAD_EMAIL)
        old, client.email, new = client.email, email, email
    elif field == "value":
        if not isinstance(value, int):
            raise RuleError(Problem.BAD_AMOUNT)
        check_amount(value)
        old, deal.value_minor, new = deal.value_minor, value, value
    else:
        raise RuleError(Problem.STALE)
    if old == new:
        return view
    client.search_key = search_key(client.name, client.company)
    await uow.deals.add(client)
    await _record(
        uow,
        view,
        _event(view, EventKind.EDITED, actor, now, data={"field": field, "old": old, "new": new}),
        now,
    )
    return view


# --- closing and reopening -------------------------------------------------------------------
def _seconds_in_stage(deal: Deal, now: datetime) -> int:
    return max(int((now - deal.stage_entered_at).total_seconds()), 0)


def _close_snapshot(deal: Deal) -> dict[str, Any]:
    """What closing changes, so an undo can put it back."""
    return {
        "next_contact_at": deal.next_contact_at.isoformat() if deal.next_contact_at else None,
        "next_step": deal.next_step,
        "value_minor": deal.value_minor,
    }


async def win(
    uow: UnitOfWork, actor: Member, deal_id: int, value_minor: int, now: datetime
) -> tuple[DealView, DealEvent]:
    """Contract signed, at its final value."""
    view = await load_open(uow, actor, deal_id)
    check_amount(value_minor)
    deal = view.deal
    event = _event(
        view,
        EventKind.WON,
        actor,
        now,
        from_stage_id=deal.stage_id,
        stage_seconds=_seconds_in_stage(deal, now),
        amount_minor=value_minor,
        data=_close_snapshot(deal),
    )
    deal.status, deal.closed_at, deal.value_minor = DealStatus.WON, now, value_minor
    deal.next_contact_at, deal.next_step = None, None
    assert deal.id is not None
    await uow.deals.cancel_reminders(deal.id, [ReminderKind.NEXT_CONTACT])
    return view, await _record(uow, view, event, now)


async def plan_handover(
    uow: UnitOfWork, actor: Member, deal_id: int, when: datetime, now: datetime
) -> DealView:
    """The car's handover date: a reminder for it and a satisfaction call a week later."""
    view = await load(uow, actor, deal_id)
    if view.deal.status != DealStatus.WON:
        raise RuleError(Problem.STALE)
    if when <= now:
        raise RuleError(Problem.WHEN_PAST)
    deal = view.deal
    deal.handover_at = when
    await remind(uow, deal, ReminderKind.HANDOVER, when, now)
    await remind(
        uow, deal, ReminderKind.SATISFACTION, when + timedelta(days=SATISFACTION_CALL_DAYS), now
    )
    await _record(
        uow,
        view,
        _event(view, EventKind.FOLLOW_UP_SET, actor, now, due_at=when, data={"handover": True}),
        now,
    )
    return view


async def resign(
    uow: UnitOfWork,
    actor: Member,
    deal_id: int,
    reason_id: int,
    comment: str,
    winback_at: datetime | None,
    now: datetime,
) -> tuple[DealView, DealEvent]:
    """Close as lost at the current stage, with the reason, a comment and when to win back."""
    view = await load_open(uow, actor, deal_id)
    reasons = {reason.id: reason for reason in await uow.teams.loss_reasons(view.deal.team_id)}
    if reason_id not in reasons:
        raise RuleError(Problem.STALE)
    text = clean_text(comment, COMMENT_MAX)
    if winback_at is not None and winback_at <= now:
        raise RuleError(Problem.WHEN_PAST)
    deal = view.deal
    event = _event(
        view,
        EventKind.LOST,
        actor,
        now,
        from_stage_id=deal.stage_id,
        reason_id=reason_id,
        text=text,
        due_at=winback_at,
        stage_seconds=_seconds_in_stage(deal, now),
        amount_minor=deal.value_minor,
        data=_close_snapshot(deal),
    )
    deal.status, deal.closed_at = DealStatus.LOST, now
    deal.loss_reason_id, deal.loss_comment, deal.winback_at = reason_id, text, winback_at
    deal.next_contact_at, deal.next_step = None, None
    view.loss_reason = reasons[reason_id]
    assert deal.id is not None
    await uow.deals.cancel_reminders(deal.id, [ReminderKind.NEXT_CONTACT])
    if winback_at is not None:
        await remind(uow, deal, ReminderKind.WINBACK, winback_at, now)
    return view, await _record(uow, view, event, now)


async def reopen(uow: UnitOfWork, actor: Member, deal_id: int, now: datetime) -> DealView:
    view = await load(uow, actor, deal_id)
    deal = view.deal
    if deal.status == DealStatus.OPEN:
        raise RuleError(Problem.DEAL_ALREADY_OPEN, number=deal.number)
    event = _event(
        view,
        EventKind.REOPENED,
        actor,
        now,
        from_stage_id=deal.stage_id,
        data={"status": deal.status},
    )
    _reopen(deal, now)
    view.loss_reason = None
    assert deal.id is not None
    await uow.deals.cancel_reminders(deal.id, [ReminderKind.WINBACK])
    await _record(uow, view, event, now)
    return view


def _reopen(deal: Deal, now: datetime) -> None:
    deal.status, deal.closed_at = DealStatus.OPEN, None
    deal.loss_reason_id, deal.loss_comment, deal.winback_at = None, None, None


async def undo(
    uow: UnitOfWork, actor: Member, deal_id: int, event_id: int, now: datetime
) -> DealView:
    """Take back a stage move, a win or a resignation within a minute (recorded, not erased)."""
    view = await load(uow, actor, deal_id)
    event = await uow.deals.event(event_id)
    if event is None or event.deal_id != deal_id or event.kind not in UNDOABLE:
        raise RuleError(Problem.STALE)
    if event.actor_member_id != actor.id and not is_manager(actor):
        raise RuleError(Problem.STALE)
    if await uow.deals.events_after(deal_id, event_id, STATE_CHANGES):
        raise RuleError(Problem.STALE)
    if now - event.at > timedelta(seconds=UNDO_WINDOW_SECONDS):
        raise RuleError(Problem.UNDO_EXPIRED)
    deal = view.deal
    data = event.data or {}
    if event.kind == EventKind.STAGE_CHANGED:
        assert event.from_stage_id is not None
        deal.stage_id = event.from_stage_id
        deal.stage_entered_at = datetime.fromisoformat(data["stage_entered_at"])
    else:
        _reopen(deal, now)
        assert deal.id is not None
        await uow.deals.cancel_reminders(
            deal.id, [ReminderKind.WINBACK, ReminderKind.HANDOVER, ReminderKind.SATISFACTION]
        )
        deal.value_minor = data.get("value_minor")
        deal.handover_at = None
        deal.next_step = data.get("next_step")
        planned = data.get("next_contact_at")
        deal.next_contact_at = datetime.fromisoformat(planned) if planned else None
        if deal.next_contact_at is not None and deal.next_contact_at > now:
            await remind(
                uow, deal, ReminderKind.NEXT_CONTACT, deal.next_contact_at, now, deal.next_step
            )
    await _record(
        uow, view, _event(view, EventKind.UNDONE, actor, now, undoes_event_id=event.id), now
    )
    return await _reload(uow, deal_id)


# --- owners ----------------------------------------------------------------------------------
async def reassign(
    uow: UnitOfWork, actor: Member, deal_id: int, new_owner_id: int, now: datetime
) -> DealView:
    """A manager gives the deal (and its pending reminders) to another active member."""
    if not is_manager(actor):
        raise RuleError(Problem.STALE)
    view = await load_any(uow, actor, deal_id)
    new_owner = await uow.teams.member_by_id(new_owner_id)
    if new_owner is None or new_owner.team_id != actor.team_id or not new_owner.active:
        raise RuleError(Problem.STALE)
    deal = view.deal
    if deal.owner_member_id == new_owner_id:
        return view
    event = _event(
        view,
        EventKind.REASSIGNED,
        actor,
        now,
        data={"from": deal.owner_member_id, "to": new_owner_id},
    )
    deal.owner_member_id = new_owner_id
    assert deal.id is not None
    await uow.deals.move_reminders(deal.id, new_owner_id)
    await _record(uow, view, event, now)
    return await _reload(uow, deal_id)


@dataclass(frozen=True)
class HandOver:
    deals: int  # open deals moved
    reminders: int  # pending follow-ups moved (of open and closed deals)


async def hand_over(
    uow: UnitOfWork, actor: Member, from_member_id: int, to_member_id: int, now: datetime
) -> HandOver:
    """Hand everything of one member to another: every open deal, and every deal with a pending
    reminder (a win-back of a lost deal, the handover or satisfaction call of a won one), with
    those reminders. A closed deal keeps the owner it was closed by in its history, so the
    report still credits them; only who is reminded changes."""
    if not is_manager(actor):
        raise RuleError(Problem.STALE)
    source = await uow.teams.member_by_id(from_member_id)
    target = await uow.teams.member_by_id(to_member_id)
    if (
        source is None
        or target is None
        or source.team_id != actor.team_id
        or target.team_id != actor.team_id
        or not target.active
        or source.id == target.id
    ):
        raise RuleError(Problem.STALE)
    moved_deals = moved_reminders = 0
    for deal in await uow.deals.carried_by(from_member_id):
        assert deal.id is not None
        moved_reminders += await uow.deals.count_pending(deal.id, from_member_id)
        if deal.status == DealStatus.OPEN:
            moved_deals += 1
        await reassign(uow, actor, deal.id, to_member_id, now)
    if moved_deals or moved_reminders:
        await audit.record(
            uow,
            actor.team_id,
            actor,
            AuditAction.HANDOVER,
            member_id=source.id,
            count=moved_deals,
            to=target.id,
            reminders=moved_reminders,
        )
    return HandOver(moved_deals, moved_reminders)
