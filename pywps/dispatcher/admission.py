"""Admission: an Execute request becomes a job — its record, its directory with the fetched reference
inputs and ``job.json`` — queued (asynchronous) or run at once and waited for (synchronous).

Every front-end (WPS 1.0.0, WPS 2.0.0, OGC API - Processes) admits jobs here. A request refused here
(a bad reference, no free slot, a full queue) leaves nothing behind; a job admitted here always ends
(see ``Results.abandon``), whatever fails afterwards.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import TYPE_CHECKING, Any

from pywps.backends.base import RunnerState, RunnerStatus
from pywps.config import Config
from pywps.exceptions import NoApplicableCode, OptionNotSupported, ServerBusy, StorageNotSupported
from pywps.inout.fetch import FetchPolicy, fetch_reference
from pywps.jobs.jobdir import JobDir
from pywps.jobs.model import JobRecord, JobStatus
from pywps.jobs.store import QueueFull
from pywps.registry import process_spec
from pywps.requestmodel import ExecuteRequest

if TYPE_CHECKING:
    from pywps.dispatcher import Dispatcher

log = logging.getLogger(__name__)


def fetch_policy(config: Config) -> FetchPolicy:
    """The server-side request forgery guard for reference inputs (and anything else fetched for a job)."""
    server = config.server
    return FetchPolicy(
        allow_private=server.reference_allow_private,
        allowed_hosts=server.reference_allowed_hosts,
        allowed_input_paths=server.allowedinputpaths,
        timeout=(min(5.0, server.reference_timeout), server.reference_timeout),
        max_size=server.maxsingleinputsize,
        max_redirects=server.reference_max_redirects,
    )


class Admission:
    """Turn requests into jobs: ``submit`` (asynchronous) and ``execute_sync``."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.d = dispatcher
        self.config = dispatcher.config
        self._job_config = self.config.for_job()  # what a job may know: no server paths, no credentials
        self._specs: dict[int, tuple[Any, dict[str, Any]]] = {}  # process_spec per process (it resolves paths)

    def prepare(self, process: Any, request: ExecuteRequest, is_async: bool, protocol: str = "wps1",
                subscriber: dict | None = None) -> tuple[JobRecord, JobDir]:
        """Create the job record and its directory: request, fetched reference inputs, process spec.
        ``protocol`` names the front-end (wps1, wps2, ogcapi); ``subscriber`` is what the client asked to be
        told (OGC API callbacks)."""
        if request.store_execute_response and not process.store_supported:
            raise StorageNotSupported("this process does not support storeExecuteResponse",
                                      locator="storeExecuteResponse")
        job = JobRecord.new(process.identifier, "", is_async, self.d.backend.name)
        job.protocol = protocol
        job.subscriber = json.dumps(subscriber) if subscriber else None
        jobdir = JobDir.create(self.d.jobs_root, job.id)
        try:
            request = self._fetch_references(request, jobdir)
            request_dict = request.to_dict()
            job.request = json.dumps(request_dict)
            jobdir.write_job({
                "job_id": job.id,
                "output_url": f"{self.config.server.outputurl}{job.id}/",
                "process": self._spec(process),
                "request": request_dict,
                "limits": {"maxsingleinputsize": self.config.server.maxsingleinputsize},
                "cleantempdir": self.config.server.cleantempdir,
                "debug": self.config.logging.level == "DEBUG",
                "config": self._job_config,
            })
        except BaseException:
            jobdir.remove()  # the job never existed: leave nothing behind
            raise
        return job, jobdir

    def _spec(self, process: Any) -> dict[str, Any]:
        """How a worker finds ``process``, worked out once per process object."""
        known = self._specs.get(id(process))
        if known is None or known[0] is not process:
            if len(self._specs) > 10000:  # processes are the app's; never more than a few hundred
                self._specs.clear()
            known = self._specs[id(process)] = (process, process_spec(process))
        return known[1]

    def _fetch_references(self, request: ExecuteRequest, jobdir: JobDir) -> ExecuteRequest:
        if not any(i.kind == "reference" for i in request.inputs):
            return request
        policy = fetch_policy(self.config)
        jobdir.inputs_dir.mkdir(exist_ok=True)
        fetched = []
        for n, value in enumerate(request.inputs):
            if value.kind == "reference":
                dest = jobdir.inputs_dir / f"{n:03d}"
                fetch_reference(value, dest, policy)
                value = dataclasses.replace(value, file=f"inputs/{dest.name}")
            fetched.append(value)
        return dataclasses.replace(request, inputs=tuple(fetched))

    def submit(self, process: Any, request: ExecuteRequest, protocol: str = "wps1",
               subscriber: dict | None = None) -> JobRecord:
        """Queue an asynchronous job; answer with its accepted status document."""
        self.d.ensure_started()
        job, jobdir = self.prepare(process, request, is_async=True, protocol=protocol, subscriber=subscriber)
        try:
            job.message = "Process accepted, waiting for a free slot"
            job.response = self.d.results.document(job, process, request, JobStatus.ACCEPTED,
                                                   message=job.message)
            self.d.store.submit(job, max_queued=self.config.server.maxprocesses)
        except QueueFull:
            jobdir.remove()
            raise ServerBusy(f"Maximum number of queued processes ({self.config.server.maxprocesses}) reached. "
                             "Please try later.", locator="maxprocesses") from None
        except BaseException:
            jobdir.remove()  # not in the store: nothing was admitted
            raise
        self.d.results.write_static_status(job)
        self.d.wake()
        return job

    def execute_sync(self, process: Any, request: ExecuteRequest, protocol: str = "wps1"):
        """Run a job now, in its own runner, and wait for it; ServerBusy when no slot is free."""
        if not self.d.backend.accepts_sync:
            raise OptionNotSupported(
                f"mode {self.d.backend.name!r} runs jobs asynchronously only: "
                "use storeExecuteResponse=true&status=true", locator="storeExecuteResponse")
        self.d.ensure_started()
        job, jobdir = self.prepare(process, request, is_async=False, protocol=protocol)
        job.owner = self.d.instance
        supervisor, results = self.d.supervisor, self.d.results
        supervisor.follow_sync(job.id)
        admitted = False
        try:
            try:
                admitted = self.d.store.claim_sync(job, self.d.parallel)
            finally:
                if not admitted:
                    jobdir.remove()
            if not admitted:
                raise ServerBusy(f"Maximum number of parallel running processes ({self.d.parallel}) reached. "
                                 "Please try later.", locator="parallelprocesses")
            handle = supervisor.launch(job, jobdir, record=False)
            if handle is None:
                return results.outcome(job.id)
            job.handle = handle
            supervisor.follow_sync(job.id, handle)
            timeout = self.config.server.sync_timeout or None
            status = self.d.backend.wait(handle, timeout)
            if status.state not in (RunnerState.EXITED, RunnerState.LOST):
                self.d.backend.cancel(handle)
                status = RunnerStatus(RunnerState.EXITED, None, f"killed: synchronous time limit {timeout:g} s")
            return results.finalize(job, status)
        except BaseException as exc:
            if admitted and not isinstance(exc, NoApplicableCode):
                log.exception("job %s: unexpected error; the job is ended", job.id)
                results.abandon(job, f"Process failed: internal error in the server ({type(exc).__name__}); "
                                     f"job {job.id}")
            raise
        finally:
            supervisor.unfollow_sync(job.id, job.handle)
