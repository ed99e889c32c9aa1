"""Jobs: the state machine (``model``), the SQL store (``store``) and the job directory (``jobdir``).

Only the SQLAlchemy-free parts are imported here, so the worker can import ``pywps.jobs.jobdir`` without
pulling in SQLAlchemy; import ``JobStore`` from :mod:`pywps.jobs.store`.
"""

from __future__ import annotations

from pywps.jobs.model import FINAL, RUNNING, TRANSITIONS, JobRecord, JobStatus, QueueFull

__all__ = ["FINAL", "RUNNING", "TRANSITIONS", "JobRecord", "JobStatus", "QueueFull"]
