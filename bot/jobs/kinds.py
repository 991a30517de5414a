"""Every kind of background job and the function that does it."""

from __future__ import annotations

from bot.domain import JobKind
from bot.jobs import JobRunner
from bot.jobs.exports import RUNNERS as EXPORTS
from bot.jobs.imports import RUNNERS as IMPORTS

RUNNERS: dict[JobKind, JobRunner] = {**IMPORTS, **EXPORTS}
