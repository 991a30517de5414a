"""SQLModel tables. Enumerated values are stored as short strings (no database ENUM types),
money as integer minor units (grosze, kopecks, bani), moments as UTC (`UTCDateTime`).

Deals and their events are never deleted: a deal is moved on or closed, and every change is an
appended `DealEvent`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, MetaData, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from bot.domain import DealStatus, JobStatus, ReminderStatus, Role, SendStatus
from bot.storage.types import UTCDateTime

# Constraint names that are stable across SQLite and PostgreSQL (Alembic batch mode needs them).
SQLModel.metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _utc(*, nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime(), nullable=nullable, index=index)


class Team(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    timezone: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    country: str = Field(max_length=2)
    digest_hour: int = 18
    # Working days as a bit mask, Monday = bit 0; default Monday to Saturday.
    work_days: int = 0b0111111
    work_start_minute: int = 9 * 60
    work_end_minute: int = 18 * 60
    invite_code: str | None = Field(default=None, max_length=32, unique=True)
    # Monthly targets: number of sales and, optionally, money (minor units).
    target_deals: int | None = None
    target_minor: int | None = Field(default=None, sa_type=BigInteger)
    deal_counter: int = 0
    created_at: datetime = _utc(nullable=False)
    # Retention: erase the personal data of clients whose deals all closed more than this
    # many years ago (None: never, the default).
    erase_closed_years: int | None = None


class User(SQLModel, table=True):
    """A Telegram user who has written to the bot; the id is Telegram's."""

    __tablename__ = "app_user"  # "user" is reserved in PostgreSQL

    id: int = Field(sa_type=BigInteger, primary_key=True)
    first_name: str = Field(default="", max_length=256)
    last_name: str | None = Field(default=None, max_length=256)
    username: str | None = Field(default=None, max_length=64)
    language: str = Field(max_length=5)
    language_chosen: bool = False
    team_id: int | None = Field(default=None, foreign_key="team.id", index=True)
    bot_blocked: bool = False
    # The deal whose card was sent to this person last, and when: a photo, a file or a place
    # sent soon after belongs to that deal.
    open_deal_id: int | None = None  # a deal's id (no foreign key: deals point at people)
    open_deal_at: datetime | None = _utc()
    created_at: datetime = _utc(nullable=False)
    last_seen_at: datetime = _utc(nullable=False)


class Member(SQLModel, table=True):
    """A user's membership of a team; kept after deactivation so history keeps its owners."""

    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    user_id: int = Field(sa_type=BigInteger, foreign_key="app_user.id", index=True)
    role: str = Field(default=Role.SALESPERSON, max_length=16)
    active: bool = True
    morning_agenda: bool = True
    # Local days the morning agenda / daily nudge went out (each goes out once a day).
    agenda_sent_on: date | None = None
    nudge_sent_on: date | None = None
    # The last local day whose digest this manager got (each day's digest goes out once).
    digest_day: date | None = None
    target_deals: int | None = None
    target_minor: int | None = Field(default=None, sa_type=BigInteger)
    # The lead source this salesperson picked last for a quick entry: offered first next time.
    default_source: str | None = Field(default=None, max_length=16)
    joined_at: datetime = _utc(nullable=False)
    deactivated_at: datetime | None = _utc()
    # The manager who turned this person's access off: their reminders go to them until a
    # receiver is picked (None when the person left by joining another team).
    deactivated_by_member_id: int | None = Field(default=None, foreign_key="member.id")


class Stage(SQLModel, table=True):
    """A step of a team's pipeline. Default stages carry a `key` and are translated; a custom
    or renamed stage carries `name`, shown as typed."""

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    key: str | None = Field(default=None, max_length=32)
    name: str | None = Field(default=None, max_length=64)
    position: int = 0
    limit_days: int | None = None
    retired: bool = False


class LossReason(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    key: str | None = Field(default=None, max_length=32)
    name: str | None = Field(default=None, max_length=64)
    position: int = 0
    winback_days: int | None = None
    retired: bool = False


class Client(SQLModel, table=True):
    __table_args__ = (Index("ix_client_team_id_phone", "team_id", "phone"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    name: str = Field(max_length=200)
    phone: str | None = Field(default=None, max_length=20)
    company: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    source: str | None = Field(default=None, max_length=16)
    # Name and company folded (`bot.text.search_key`): "swiatek" finds "Świątek" on
    # both databases (SQLite's lower() folds ASCII only).
    search_key: str = Field(default="", max_length=420)
    created_at: datetime = _utc(nullable=False)
    # GDPR erasure: the personal data is gone, the row (number, figures) stays.
    erased_at: datetime | None = _utc()
    erased_by_member_id: int | None = Field(default=None, foreign_key="member.id")


class Erasure(SQLModel, table=True):
    """A client's personal data erased on request (who, when; nothing personal). The same
    entries go to an append-only file beside the database, re-applied after a restore."""

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id", index=True)
    client_id: int = Field(foreign_key="client.id")
    # With the id, tells the client apart from another one with the same id (a database
    # rebuilt from an import, say): only this client is erased again after a restore.
    client_created_at: datetime = _utc(nullable=False)
    at: datetime = _utc(nullable=False)
    by_member_id: int | None = Field(default=None, foreign_key="member.id")


class AuditEntry(SQLModel, table=True):
    """A team-level action (an export, an import, an erasure, a role or access change, a
    hand-over, a setting): who, when, what and how many, never a client's personal data.
    Append-only: the database refuses to change or delete a row (triggers, migration 0010)."""

    __tablename__ = "audit"
    __table_args__ = (Index("ix_audit_team_id_id", "team_id", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    at: datetime = _utc(nullable=False)
    actor_member_id: int | None = Field(default=None, foreign_key="member.id")
    action: str = Field(max_length=16)
    # The member acted on (a role, access, the giver of a hand-over), if any.
    member_id: int | None = Field(default=None, foreign_key="member.id")
    count: int | None = None  # rows exported or imported, deals handed over, clients erased
    # Non-personal details: a setting's key with its old and new value, a role, deal numbers.
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class Deal(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("team_id", "number"),
        Index("ix_deal_team_id_status_owner", "team_id", "status", "owner_member_id"),
        Index("ix_deal_team_id_next_contact_at", "team_id", "next_contact_at"),
        # The report's cohort (deals created in a period) and the digest's stuck deals.
        Index("ix_deal_team_id_created_at", "team_id", "created_at"),
        Index("ix_deal_team_id_status_stage_entered_at", "team_id", "status", "stage_entered_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    number: int
    client_id: int = Field(foreign_key="client.id", index=True)
    owner_member_id: int = Field(foreign_key="member.id", index=True)
    stage_id: int = Field(foreign_key="stage.id")
    status: str = Field(default=DealStatus.OPEN, max_length=8)
    value_minor: int | None = Field(default=None, sa_type=BigInteger)
    currency: str = Field(max_length=3)
    # The car (or product) the client wants, as typed, and folded for search.
    model: str | None = Field(default=None, max_length=64)
    model_key: str | None = Field(default=None, max_length=64)
    # What was done last (an activity kind) and when: shown on the card.
    last_activity: str | None = Field(default=None, max_length=16)
    last_activity_at: datetime | None = _utc()
    next_contact_at: datetime | None = _utc()
    next_step: str | None = Field(default=None, max_length=200)
    last_note: str | None = Field(default=None, sa_type=Text)
    loss_reason_id: int | None = Field(default=None, foreign_key="lossreason.id")
    loss_comment: str | None = Field(default=None, sa_type=Text)
    winback_at: datetime | None = _utc()
    handover_at: datetime | None = _utc()
    stage_entered_at: datetime = _utc(nullable=False)
    created_at: datetime = _utc(nullable=False)
    updated_at: datetime = _utc(nullable=False)
    closed_at: datetime | None = _utc()
    # Grows with every change; buttons carry it, so a tap on a screen older than the deal's
    # latest change is recognised (a double tap, or an old picker over a newer decision).
    version: int = 0


class DealEvent(SQLModel, table=True):
    """Append-only log of everything that happens to a deal; analytics read from here."""

    __table_args__ = (
        # A deal's history, its closing event (`kind` and `at` = the deal's), and the stages it
        # reached: covering, so the report's cohort never reads the events themselves.
        Index(
            "ix_dealevent_deal_id_kind_at",
            "deal_id",
            "kind",
            "at",
            "id",
            "to_stage_id",
            "owner_member_id",
        ),
        # A team's events of some kinds in a period, with what the figures count them by.
        Index(
            "ix_dealevent_team_id_kind_at",
            "team_id",
            "kind",
            "at",
            "activity",
            "owner_member_id",
            "actor_member_id",
            "deal_id",
        ),
        # Few events are undos: "was this taken back?" looks into a small partial index.
        Index(
            "ix_dealevent_undoes_event_id",
            "undoes_event_id",
            sqlite_where=text("undoes_event_id IS NOT NULL"),
            postgresql_where=text("undoes_event_id IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    deal_id: int = Field(foreign_key="deal.id")
    kind: str = Field(max_length=24)
    at: datetime = _utc(nullable=False)
    actor_member_id: int | None = Field(default=None, foreign_key="member.id")
    owner_member_id: int | None = Field(default=None, foreign_key="member.id")
    from_stage_id: int | None = Field(default=None, foreign_key="stage.id")
    to_stage_id: int | None = Field(default=None, foreign_key="stage.id")
    activity: str | None = Field(default=None, max_length=16)
    amount_minor: int | None = Field(default=None, sa_type=BigInteger)
    reason_id: int | None = Field(default=None, foreign_key="lossreason.id")
    text: str | None = Field(default=None, sa_type=Text)
    due_at: datetime | None = _utc()
    # For a stage move, a win or a resignation: how long the deal had been in `from_stage_id`.
    stage_seconds: int | None = Field(default=None, sa_type=BigInteger)
    undoes_event_id: int | None = Field(default=None, foreign_key="dealevent.id")
    data: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))


class Reminder(SQLModel, table=True):
    """Something to push to a member at a moment; the database is the source of truth."""

    __table_args__ = (
        Index("ix_reminder_status_due_at", "status", "due_at"),
        # A team's win-backs due (the digest and the report).
        Index("ix_reminder_team_id_kind_status_due_at", "team_id", "kind", "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: int = Field(foreign_key="team.id")
    deal_id: int = Field(foreign_key="deal.id", index=True)
    member_id: int = Field(foreign_key="member.id", index=True)
    kind: str = Field(max_length=16)
    due_at: datetime = _utc(nullable=False)
    status: str = Field(default=ReminderStatus.PENDING, max_length=12)
    note: str | None = Field(default=None, max_length=200)
    attempts: int = 0
    # Not sent before this moment: outside working hours, or after a failed attempt.
    not_before: datetime | None = _utc()
    claimed_at: datetime | None = _utc()
    # The sender holding it (a random id per process start) and until when (see bot.leases).
    claimed_by: str | None = Field(default=None, max_length=32)
    lease_until: datetime | None = _utc()
    sent_at: datetime | None = _utc()
    chat_message_id: int | None = Field(default=None, sa_type=BigInteger)
    created_at: datetime = _utc(nullable=False)


class ConversationState(SQLModel, table=True):
    """Which step of which flow a user is in, and what they typed so far: survives restarts."""

    user_id: int = Field(sa_type=BigInteger, primary_key=True)
    flow: str = Field(max_length=32)
    step: str = Field(max_length=32)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _utc(nullable=False)


class ProcessedUpdate(SQLModel, table=True):
    """Telegram update ids whose writes are committed, so a replayed update writes nothing."""

    update_id: int = Field(sa_type=BigInteger, primary_key=True)
    at: datetime = _utc(nullable=False, index=True)


class GroupNotice(SQLModel, table=True):
    """Group chats already told that the bot works in private chats only."""

    chat_id: int = Field(sa_type=BigInteger, primary_key=True)
    at: datetime = _utc(nullable=False)


class Job(SQLModel, table=True):
    """Heavy work done in the background (import, export, report files): claimed with a lease
    like a reminder, so a restart finishes it; the result is sent to `chat_id`."""

    __table_args__ = (
        Index("ix_job_status_not_before", "status", "not_before"),
        Index("ix_job_team_id_created_at", "team_id", "created_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=24)
    team_id: int = Field(foreign_key="team.id")
    requester_member_id: int = Field(foreign_key="member.id")
    chat_id: int = Field(sa_type=BigInteger)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=JobStatus.PENDING, max_length=12)
    attempts: int = 0
    not_before: datetime | None = _utc()
    claimed_by: str | None = Field(default=None, max_length=32)
    lease_until: datetime | None = _utc()
    error: str | None = Field(default=None, max_length=200)
    created_at: datetime = _utc(nullable=False)
    finished_at: datetime | None = _utc()


class Notice(SQLModel, table=True):
    """A message to another person that must arrive (a hand-over, a reassignment, access
    turned off, a new role): rendered in the recipient's language when it is sent, claimed
    and paced by the dispatcher like a reminder."""

    __table_args__ = (Index("ix_notice_status_not_before", "status", "not_before"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: int | None = Field(default=None, foreign_key="team.id")
    user_id: int = Field(sa_type=BigInteger, foreign_key="app_user.id", index=True)
    kind: str = Field(max_length=24)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=SendStatus.PENDING, max_length=12)
    attempts: int = 0
    not_before: datetime | None = _utc()
    claimed_by: str | None = Field(default=None, max_length=32)
    lease_until: datetime | None = _utc()
    created_at: datetime = _utc(nullable=False)
    sent_at: datetime | None = _utc()


class DailySend(SQLModel, table=True):
    """One day's digest, morning agenda or nudge for one member, while it goes out: which of
    its parts were sent, so a retry after a failure or a crash sends the rest."""

    __table_args__ = (UniqueConstraint("member_id", "kind", "day"),)

    id: int | None = Field(default=None, primary_key=True)
    member_id: int = Field(foreign_key="member.id")
    kind: str = Field(max_length=12)
    day: date
    status: str = Field(default=SendStatus.PENDING, max_length=12)
    parts_sent: int = 0
    attempts: int = 0
    not_before: datetime | None = _utc()
    claimed_by: str | None = Field(default=None, max_length=32)
    lease_until: datetime | None = _utc()
    created_at: datetime = _utc(nullable=False)
    sent_at: datetime | None = _utc()


class HandledTap(SQLModel, table=True):
    """Keys of taps (chat, message, button) and edited messages already dealt with, so a double
    tap writes nothing and an edit is answered once. Kept two days."""

    key: str = Field(max_length=64, primary_key=True)
    at: datetime = _utc(nullable=False, index=True)


class Worker(SQLModel, table=True):
    """A bot process while it runs: what it is, and when its tick loop last ran (for
    `python run_bot.py check` and the operator). Removed when the process stops."""

    id: str = Field(max_length=32, primary_key=True)  # the process's worker id
    host: str = Field(max_length=64)
    pid: int
    mode: str = Field(max_length=12)  # polling / webhook
    version: str = Field(max_length=32)
    sender: bool = False  # the active sender now
    started_at: datetime = _utc(nullable=False)
    ticked_at: datetime | None = _utc()


class SendBudgetRow(SQLModel, table=True):
    """The bot token's send budget shared by the processes on PostgreSQL (one row, id 1; see
    `bot.storage.send_budget`). Unused on SQLite, where one process keeps its own."""

    __tablename__ = "send_budget"

    id: int = Field(primary_key=True)
    tokens: float = 0.0
    refilled_at: datetime = _utc(nullable=False)
    held_until: datetime | None = _utc()  # a 429 holds every process until then
