"""The job state machine and the job record, as plain data (no SQLAlchemy, no pywps imports).

States::

    accepted --claim--> started --> succeeded | failed | dismissed
        |                 |  ^  \\--progress--> started   (percent never moves backwards)
        |                 v  |
        |               paused --> failed | dismissed
        +--> failed | dismissed

``started -> accepted`` is the one way back: it requeues a job whose runner never started (the server
that claimed it crashed before handing it to a backend). The store clears owner, handle, heartbeat and
``started`` when it applies it. Final states (``FINAL``) go nowhere, so a late or duplicate write
after a job has ended is refused.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum


class JobStatus(str, Enum):
    """Where a job is in its life."""

    ACCEPTED = "accepted"      # queued, waiting for a slot
    STARTED = "started"        # claimed by a server instance; running or being started
    PAUSED = "paused"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    DISMISSED = "dismissed"

    def __str__(self) -> str:
        return self.value


FINAL: frozenset[JobStatus] = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.DISMISSED})
RUNNING: frozenset[JobStatus] = frozenset({JobStatus.STARTED, JobStatus.PAUSED})

TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    JobStatus.ACCEPTED: frozenset({JobStatus.STARTED, JobStatus.FAILED, JobStatus.DISMISSED}),
    JobStatus.STARTED: frozenset({
        JobStatus.STARTED, JobStatus.PAUSED, JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.DISMISSED,
        JobStatus.ACCEPTED,
    }),
    JobStatus.PAUSED: frozenset({JobStatus.STARTED, JobStatus.FAILED, JobStatus.DISMISSED}),
    JobStatus.SUCCEEDED: frozenset(),
    JobStatus.FAILED: frozenset(),
    JobStatus.DISMISSED: frozenset(),
}

# target -> the states it may be reached from (what ``UPDATE ... WHERE status IN (...)`` uses)
SOURCES: dict[JobStatus, frozenset[JobStatus]] = {
    target: frozenset(src for src, targets in TRANSITIONS.items() if target in targets)
    for target in JobStatus
}


class QueueFull(Exception):
    """``max_queued`` jobs are already waiting; the caller answers ``ServerBusy``."""


def can_transition(current: JobStatus | str, new: JobStatus | str) -> bool:
    """Whether ``current -> new`` is allowed by the state machine."""
    return JobStatus(new) in TRANSITIONS[JobStatus(current)]


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


@dataclass
class JobRecord:
    """One job as the store keeps it; timestamps are timezone-aware UTC datetimes."""

    id: str
    process: str
    request: str                          # json text of ExecuteRequest.to_dict()
    status: JobStatus = JobStatus.ACCEPTED
    percent: int = 0
    message: str = ""
    is_async: bool = True
    created: datetime = field(default_factory=utcnow)
    started: datetime | None = None
    finished: datetime | None = None
    updated: datetime | None = None
    backend: str = ""                     # [processing] mode name
    handle: str | None = None             # pid / container id / batch job id
    owner: str | None = None              # server instance id that claimed the job
    heartbeat: datetime | None = None     # the owner's last sign of life for this job
    response: bytes | None = None         # last rendered ExecuteResponse status document
    protocol: str = "wps1"                # the front-end the job came in by: wps1, wps2, ogcapi
    outputs: str | None = None            # json text: the published outputs (OutputResult.to_dict() list)
    subscriber: str | None = None         # json text: where to tell the client (OGC API callbacks)

    @classmethod
    def new(cls, process: str, request_json: str, is_async: bool, backend: str) -> JobRecord:
        """A fresh ACCEPTED job with a uuid4 id."""
        now = utcnow()
        return cls(id=str(uuid.uuid4()), process=process, request=request_json, is_async=is_async,
                   backend=backend, created=now, updated=now)

    @property
    def is_final(self) -> bool:
        """Whether the job has ended."""
        return self.status in FINAL

    @property
    def is_running(self) -> bool:
        """Whether the job holds a processing slot."""
        return self.status in RUNNING
