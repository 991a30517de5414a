"""Rule violations a user can cause; handlers turn each into a translated answer."""

from __future__ import annotations

from enum import StrEnum


class Problem(StrEnum):
    NOT_ALLOWED_TO_CREATE = "not_allowed_to_create"
    ALREADY_IN_TEAM = "already_in_team"
    ALREADY_IN_THIS_TEAM = "already_in_this_team"
    INVALID_INVITE = "invalid_invite"
    DEACTIVATED_HERE = "deactivated_here"
    LAST_MANAGER = "last_manager"
    NOT_IN_TEAM = "not_in_team"
    NAME_EMPTY = "name_empty"
    NAME_TOO_LONG = "name_too_long"
    STALE = "stale"
    BAD_VALUE = "bad_value"
    TOO_LONG = "too_long"
    BAD_PHONE = "bad_phone"
    BAD_AMOUNT = "bad_amount"
    BAD_EMAIL = "bad_email"
    DEAL_NOT_FOUND = "deal_not_found"
    DEAL_CLOSED = "deal_closed"
    DEAL_ALREADY_OPEN = "deal_already_open"
    UNDO_EXPIRED = "undo_expired"
    WHEN_PAST = "when_past"
    WHEN_UNREADABLE = "when_unreadable"
    STAGE_NOT_EMPTY = "stage_not_empty"
    JOB_BUSY = "job_busy"
    JOB_LIMIT = "job_limit"
    ALREADY_DONE = "already_done"


class RuleError(Exception):
    def __init__(self, problem: Problem, **details: object) -> None:
        super().__init__(problem.value)
        self.problem = problem
        self.details = details
