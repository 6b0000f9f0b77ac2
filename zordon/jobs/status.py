"""The states a job moves through, and which moves are allowed."""

from __future__ import annotations

import enum

from zordon.errors import InvalidRequest


class JobStatus(enum.StrEnum):
    NOT_STARTED = "not_started"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    WAITING_FOR_SUBJOBS = "waiting_for_subjobs"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    ERROR = "error"

    @property
    def finished(self) -> bool:
        return self in FINISHED

    def can_become(self, other: JobStatus) -> bool:
        return other in _NEXT[self]


FINISHED = frozenset({JobStatus.COMPLETED, JobStatus.CANCELLED, JobStatus.ERROR})

_NEXT: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.NOT_STARTED: frozenset(
        {JobStatus.SCHEDULED, JobStatus.WAITING_FOR_SUBJOBS, *FINISHED}
    ),
    JobStatus.SCHEDULED: frozenset(
        {JobStatus.RUNNING, JobStatus.NOT_STARTED, *FINISHED}
    ),
    JobStatus.RUNNING: frozenset(
        {JobStatus.WAITING_FOR_SUBJOBS, JobStatus.NOT_STARTED, *FINISHED}
    ),
    JobStatus.WAITING_FOR_SUBJOBS: frozenset(
        {JobStatus.RUNNING, JobStatus.NOT_STARTED, *FINISHED}
    ),
    JobStatus.COMPLETED: frozenset(),
    JobStatus.CANCELLED: frozenset(),
    JobStatus.ERROR: frozenset(),
}


def string_to_status(text: str) -> JobStatus:
    """Parse a status name, case-insensitively, with spaces or underscores."""
    key = str(text).strip().lower().replace(" ", "_").replace("-", "_")
    try:
        return JobStatus(key)
    except ValueError as exc:
        names = ", ".join(s.value for s in JobStatus)
        raise InvalidRequest(f"unknown status {text!r}; use one of {names}") from exc
