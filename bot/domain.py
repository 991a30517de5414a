"""Names of the things the CRM talks about. Pure values: no Telegram, no SQL."""

from __future__ import annotations

from enum import StrEnum


class Language(StrEnum):
    EN = "en"
    PL = "pl"
    RU = "ru"
    RO = "ro"

    @classmethod
    def from_telegram(cls, language_code: str | None) -> Language:
        """Pick the bot language from Telegram's `language_code` (`pl`, `ru-RU`, `ro`...)."""
        base = (language_code or "").split("-")[0].lower()
        try:
            return cls(base)
        except ValueError:
            return cls.EN


class Role(StrEnum):
    MANAGER = "manager"
    SALESPERSON = "salesperson"


class DealStatus(StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


class EventKind(StrEnum):
    CREATED = "created"
    STAGE_CHANGED = "stage_changed"
    ACTIVITY = "activity"
    NOTE = "note"
    FOLLOW_UP_SET = "follow_up_set"
    REMINDER_SENT = "reminder_sent"
    WON = "won"
    LOST = "lost"
    REOPENED = "reopened"
    REASSIGNED = "reassigned"
    EDITED = "edited"
    UNDONE = "undone"
    ATTACHMENT = "attachment"  # a photo or a file sent to the bot while the deal's card was open


class ActivityKind(StrEnum):
    CALL = "call"
    MESSAGE = "message"
    MEETING = "meeting"
    PRESENTATION = "presentation"
    TEST_DRIVE = "test_drive"
    OFFER_SENT = "offer_sent"


class ClientSource(StrEnum):
    WALK_IN = "walk_in"
    PHONE_CALL = "phone_call"
    WEBSITE = "website"
    REFERRAL = "referral"
    RETURNING = "returning"
    OTHER = "other"


class ReminderKind(StrEnum):
    NEXT_CONTACT = "next_contact"
    WINBACK = "winback"
    HANDOVER = "handover"
    SATISFACTION = "satisfaction"


class ReminderStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DONE = "done"
    CANCELLED = "cancelled"


class SendStatus(StrEnum):
    """A notice or a daily message on its way out."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"


class JobStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class JobKind(StrEnum):
    IMPORT_PREVIEW = "import_preview"
    IMPORT_WRITE = "import_write"
    EXPORT = "export"
    LOSSES_FILE = "losses_file"
    CLIENT_EXPORT = "client_export"


class AuditAction(StrEnum):
    """Team-level actions kept in the append-only audit (`bot.services.audit`)."""

    EXPORT = "export"  # the team's deals and history (/export)
    CLIENT_EXPORT = "client_export"  # everything about one client (an access request)
    IMPORT = "import"
    ERASURE = "erasure"  # a client's personal data, on request
    RETENTION_ERASURE = "retention"  # clients closed longer than the team keeps them
    ROLE = "role"
    ACCESS_OFF = "access_off"
    ACCESS_ON = "access_on"
    HANDOVER = "handover"
    SETTING = "setting"
    INVITE = "invite"  # a new invite link (the old one stops working)


class NoticeKind(StrEnum):
    DEALS_HANDED_OVER = "handed_over"
    DEAL_REASSIGNED = "reassigned"
    ACCESS_OFF = "access_off"
    ROLE_MANAGER = "role_manager"
    ROLE_SALESPERSON = "role_salesperson"


class DailyKind(StrEnum):
    DIGEST = "digest"
    AGENDA = "agenda"
    NUDGE = "nudge"


# The default dealership pipeline; the sale itself is the "won" action, not a stage.
DEFAULT_STAGE_KEYS: tuple[str, ...] = (
    "new_lead",
    "contacted",
    "test_drive",
    "offer_sent",
    "negotiation",
)

# How many days a deal may sit in a default stage before the digest calls it stuck ("rotting").
DEFAULT_STAGE_LIMIT_DAYS: dict[str, int] = {
    "new_lead": 2,
    "contacted": 5,
    "needs_identified": 7,
    "test_drive": 7,
    "offer_sent": 7,
    "negotiation": 14,
}

# Default loss reasons with the suggested win-back delay in days (None = ask).
DEFAULT_LOSS_REASONS: tuple[tuple[str, int | None], ...] = (
    ("price", 90),
    ("competitor", 180),
    ("financing", 30),
    ("postponed", 90),
    ("lost_contact", 90),
    ("product", 90),
    ("trade_in", 90),
    ("changed_needs", 180),
    ("other", 90),
)

TEAM_NAME_MAX = 64
CLIENT_NAME_MAX = 200
COMPANY_MAX = 200
EMAIL_MAX = 254
NOTE_MAX = 2000
COMMENT_MAX = 500
NEXT_STEP_MAX = 200
MODEL_MAX = 64
# The largest amount stored, in minor units (10^12 złoty, roubles, lei: `quick_entry` reads no
# more); a team's sums stay far below what a 64-bit integer holds.
MAX_AMOUNT_MINOR = 10**14

# A stage move, a win or a resignation can be taken back this long after it (a mis-tap).
UNDO_WINDOW_SECONDS = 60
# The satisfaction call comes this many days after the handover.
SATISFACTION_CALL_DAYS = 7
