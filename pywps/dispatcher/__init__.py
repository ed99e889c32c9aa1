"""The dispatcher: everything between the front-ends and the backends, one module per concern.

=================  =================================================================================
``admission``      an Execute becomes a job: record, directory, fetched references; queued or run now
``supervisor``     the thread that claims queued jobs, follows runners, adopts orphans, reaps, cleans
``results``        the end of a job from its hand-back, published outputs, status documents
``actions``        dismiss, pause, resume, remove old jobs
=================  =================================================================================

:class:`Dispatcher` wires them to one job store and one backend; the front-ends (WPS 1.0.0 today, WPS
2.0.0 and OGC API - Processes next) call it and nothing below it. The job store is the only truth.
"""

from __future__ import annotations

import os
from typing import Any

from pywps.backends.base import Processing, backend_class
from pywps.config import Config, job_side
from pywps.dispatcher.actions import OperatorActions
from pywps.dispatcher.admission import Admission, fetch_policy
from pywps.dispatcher.results import Outcome, Results
from pywps.dispatcher.supervisor import Supervisor, new_instance_id
from pywps.jobs.model import JobRecord
from pywps.jobs.store import JobStore
from pywps.requestmodel import ExecuteRequest

__all__ = ["Dispatcher", "Outcome", "fetch_policy"]


def make_backend(config: Config) -> Processing:
    """The backend ``[processing] mode`` names, given its typed settings."""
    return backend_class(config.processing.mode).from_config(config)


class Dispatcher:
    """Runs Execute requests through the configured backend, with the job store as the only truth."""

    def __init__(self, config: Config, processes: dict[str, Any], store: JobStore | None = None,
                 backend: Processing | None = None) -> None:
        self.config = config
        self.processes = processes
        self.store = store or JobStore(config.logging.database)
        self.backend = backend or make_backend(config)
        self.instance = new_instance_id()
        self.jobs_root = config.server.workdir / "jobs"
        self.parallel = max(1, config.server.parallelprocesses)
        self.supervisor = Supervisor(self)
        self.results = Results(config, processes, self.store, self.backend, self.jobs_root, self.supervisor.wake)
        self.admission = Admission(self)
        self.actions = OperatorActions(self)
        self.backend.bind(self.instance, self.supervisor.runner_ended)

    # -- life cycle ------------------------------------------------------------------------------

    def ensure_started(self) -> None:
        """Start the supervisor thread in this process (again after a fork); never in a job's process."""
        if job_side():
            return
        self.supervisor.ensure_started()

    def stop(self) -> None:
        self.supervisor.stop()

    def wake(self) -> None:
        """Let the supervisor run a round now (a job was queued, a slot freed)."""
        self.supervisor.wake.set()

    def tick(self) -> None:
        self.supervisor.tick()

    # -- the front-ends' calls -------------------------------------------------------------------

    def submit(self, process: Any, request: ExecuteRequest, protocol: str = "wps1",
               subscriber: dict | None = None) -> JobRecord:
        """Queue an asynchronous job (``protocol``: the front-end it came in by)."""
        return self.admission.submit(process, request, protocol, subscriber)

    def execute_sync(self, process: Any, request: ExecuteRequest, protocol: str = "wps1") -> Outcome:
        """Run a job now and wait for it; ServerBusy when no slot is free."""
        return self.admission.execute_sync(process, request, protocol)

    def dismiss(self, job_id: str, reason: str = "Job dismissed by the client",
                discard_results: bool = False) -> JobRecord:
        """Stop a job (``discard_results``: also a finished one's outputs, WPS 2.0.0 / OGC API)."""
        return self.actions.dismiss(job_id, reason, discard_results)

    def pause(self, job_id: str) -> JobRecord:
        return self.actions.pause(job_id)

    def resume(self, job_id: str) -> JobRecord:
        return self.actions.resume(job_id)

    def cleanup(self, older_than: float | None = None) -> list[str]:
        return self.actions.cleanup(older_than)

    def status_location(self, job_id: str) -> str:
        return self.results.status_location(job_id)

    def output_file(self, job_id: str, name: str) -> tuple[int, os.stat_result] | None:
        return self.results.output_file(job_id, name)

    def output_mime_type(self, job_id: str, name: str) -> str | None:
        return self.results.output_mime_type(job_id, name)
