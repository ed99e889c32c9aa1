"""Operator and client actions on jobs: dismiss (cancel), pause, resume, and removing old jobs."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from typing import TYPE_CHECKING

from pywps.exceptions import NoApplicableCode, NoSuchJob
from pywps.jobs.jobdir import JobDir
from pywps.jobs.model import JobRecord, JobStatus
from pywps.requestmodel import ExecuteRequest

if TYPE_CHECKING:
    from pywps.dispatcher import Dispatcher


class OperatorActions:
    """What a client (Dismiss) or an operator (``pywps jobs``) can do to a job."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.d = dispatcher

    def job(self, job_id: str) -> JobRecord:
        job = self.d.store.get(job_id)
        if job is None:
            raise NoSuchJob(f"no job {job_id!r}", locator="jobid")
        return job

    def dismiss(self, job_id: str, reason: str = "Job dismissed by the client",
                discard_results: bool = False) -> JobRecord:
        """Commit ``dismissed`` first, then stop the runner. A finished job is left as it is, unless
        ``discard_results`` (WPS 2.0.0 Dismiss, OGC API DELETE): then it is dismissed and its outputs are
        removed."""
        job = self.job(job_id)
        if job.is_final:
            if discard_results and job.status is not JobStatus.DISMISSED:
                self._discard(job, reason)
            return self.d.store.get(job.id) or job
        results = self.d.results
        request = ExecuteRequest.from_dict(json.loads(job.request))
        exc = NoApplicableCode(reason)
        document = results.document(job, self.d.processes.get(job.process), request, JobStatus.DISMISSED,
                                    exception=exc, message=reason)
        if self.d.store.transition(job.id, JobStatus.DISMISSED, message=reason, response=document):
            if job.handle:
                self.d.backend.cancel(job.handle)
                results.cleanup_runner(job)
            job = self.d.store.get(job.id) or job
            results.write_static_status(job)
        self.d.wake()
        return job

    def _discard(self, job: JobRecord, reason: str) -> None:
        results = self.d.results
        request = ExecuteRequest.from_dict(json.loads(job.request))
        exc = NoApplicableCode(reason)
        document = results.document(job, self.d.processes.get(job.process), request, JobStatus.DISMISSED,
                                    exception=exc, message=reason)
        if self.d.store.discard(job.id, reason, document):
            outputs = self.d.config.server.outputpath
            shutil.rmtree(outputs / job.id, ignore_errors=True)
            shutil.rmtree(JobDir(self.d.jobs_root / job.id).outdir, ignore_errors=True)
            job.status, job.response = JobStatus.DISMISSED, document
            results.write_static_status(job)

    def pause(self, job_id: str) -> JobRecord:
        """Suspend a running job (backends that can: multiprocessing, docker)."""
        return self._suspend_or_resume(job_id, JobStatus.STARTED, JobStatus.PAUSED, "Process paused")

    def resume(self, job_id: str) -> JobRecord:
        """Let a paused job run on."""
        return self._suspend_or_resume(job_id, JobStatus.PAUSED, JobStatus.STARTED, "Process resumed")

    def _suspend_or_resume(self, job_id: str, expected: JobStatus, new_status: JobStatus, message: str) -> JobRecord:
        job = self.job(job_id)
        if job.status != expected or not job.handle:
            raise NoApplicableCode(f"job {job_id} is {job.status.value}, not {expected.value}", code=400)
        act = self.d.backend.pause if new_status is JobStatus.PAUSED else self.d.backend.resume
        act(job.handle)
        process = self.d.processes.get(job.process)
        if process is not None:
            self.d.results.progress(job, process, job.percent or 0, message, new_status)
        return self.d.store.get(job.id) or job

    def cleanup(self, older_than: float | None = None) -> list[str]:
        """Delete finished jobs older than the retention, with their directories and outputs."""
        age = older_than if older_than is not None else self.d.config.jobs.retention
        removed = self.d.store.delete_older_than(timedelta(seconds=age))
        outputs = self.d.config.server.outputpath
        for job_id in removed:
            shutil.rmtree(self.d.jobs_root / job_id, ignore_errors=True)
            shutil.rmtree(outputs / job_id, ignore_errors=True)
            (outputs / f"{job_id}.xml").unlink(missing_ok=True)
        return removed
