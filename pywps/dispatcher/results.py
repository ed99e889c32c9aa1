"""Job results: the end of a job read from its hand-back, outputs published, status documents recorded.

``Results`` is the only writer of a job's progress and end in the store besides admission and operator
actions; every front-end reads documents and output files through it. What a runner left in ``out/`` is
read only through :mod:`pywps.jobs.handback` (hostile input); documents are encoded only by ``encode/``.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import threading
from typing import Any

from pywps.backends.base import Processing, RunnerStatus
from pywps.config import Config
from pywps.encode.execute import MissingProcess, job_document
from pywps.exceptions import NoApplicableCode, exception_from_dict
from pywps.jobs.handback import HandBack, UntrustedOutput, media_type, open_published, xml_safe
from pywps.jobs.jobdir import JobDir
from pywps.jobs.model import JobRecord, JobStatus
from pywps.jobs.store import JobStore
from pywps.requestmodel import ExecuteRequest, OutputResult

log = logging.getLogger(__name__)

MANIFEST = "published.json"  # in the job directory's root: the server's, never the runner's


@dataclasses.dataclass
class Outcome:
    """What a finished job produced, for the response encoder."""

    job: JobRecord
    outputs: list[OutputResult]
    exception: NoApplicableCode | None
    document: bytes


class Results:
    """Finalize jobs, record their progress, publish their outputs and serve them back."""

    def __init__(self, config: Config, processes: dict[str, Any], store: JobStore, backend: Processing,
                 jobs_root: Any, wake: threading.Event) -> None:
        self.config = config
        self.processes = processes
        self.store = store
        self.backend = backend
        self.jobs_root = jobs_root
        self._wake = wake  # set when a slot frees: the supervisor starts the next queued job at once
        # why a job failed, kept when the store could not record it (full disk, store down): the end is
        # recorded with its first cause once the store answers again, not with what is seen by then
        self._unrecorded: dict[str, tuple[list[OutputResult], NoApplicableCode | None]] = {}

    # -- reading a job ---------------------------------------------------------------------------

    def jobdir(self, job_id: str) -> JobDir:
        return JobDir(self.jobs_root / job_id)

    def handback(self, job_id: str) -> HandBack:
        """The reader of what job ``job_id`` left in its ``out/`` (hostile input, see jobs/handback.py)."""
        return HandBack(self.jobdir(job_id).outdir, trusted_roots=(self.config.server.workdir,))

    def status_location(self, job_id: str) -> str:
        return f"{self.config.server.outputurl}{job_id}.xml"

    def document(self, job: JobRecord, process: Any, request: ExecuteRequest, status: JobStatus, *,
                 percent: int | None = None, message: str = "", outputs: list[OutputResult] = (),
                 exception: NoApplicableCode | None = None) -> bytes:
        """The ExecuteResponse of ``job`` in ``status`` (encoded by ``encode/``)."""
        return job_document(job, process, request, status, service_url=self.config.server.url,
                            status_location=self.status_location(job.id),
                            language=self.config.server.languages[0], percent=percent, message=message,
                            outputs=outputs, exception=exception)

    # -- progress --------------------------------------------------------------------------------

    def progress(self, job: JobRecord, process: Any, percent: int, message: str,
                 status: JobStatus = JobStatus.STARTED, handle: str | None = None) -> bool:
        """Record a running job's progress (and its status document, when the client asked for one), with
        its runner's ``handle`` when just started (one write); whether the state machine allowed it."""
        request = ExecuteRequest.from_dict(json.loads(job.request))
        job.percent, job.message = percent, message
        # status=false: the stored document keeps saying "accepted" until the job ends (WPS 1.0.0)
        document = (self.document(job, process, request, status, percent=percent, message=message)
                    if request.status or not request.store_execute_response else None)
        if not self.store.transition(job.id, status, percent=percent, message=message, response=document,
                                     handle=handle):
            return False
        if handle is not None:
            job.handle = handle
        if document is not None:
            job.response = document
            self.write_static_status(job)
        return True

    # -- the end of a job ------------------------------------------------------------------------

    def finalize(self, job: JobRecord, status: RunnerStatus) -> Outcome:
        """Record the end of a job from its result file (or from what the backend says happened).

        The result and output files are hostile input: whatever they hold, the job ends (failed, saying why,
        when they cannot be accepted), its runner is cleaned up and its slot is free.
        """
        try:
            process = self.processes.get(job.process)
            request = ExecuteRequest.from_dict(json.loads(job.request))
            try:
                if job.id in self._unrecorded:
                    outputs, exc = self._unrecorded[job.id]
                else:
                    outputs, exc = self._collect(job, status)
            except UntrustedOutput as error:
                log.warning("job %s: its results were refused: %s", job.id, error)
                outputs, exc = [], NoApplicableCode(f"Process failed: {error}")
            except OSError as error:
                log.error("job %s: publishing its outputs failed: %s", job.id, error)
                outputs, exc = [], NoApplicableCode(
                    f"Process failed: its outputs could not be published ({error.strerror or error}"
                    f"{': ' + str(error.filename) if error.filename else ''})")
            if exc is None:
                final, message = JobStatus.SUCCEEDED, "Process succeeded"
            else:
                final, message = JobStatus.FAILED, exc.description
                self._log_failure(job, exc)
            try:
                document = self.document(job, process, request, final, outputs=outputs, exception=exc,
                                         message=message)
            except Exception as error:  # noqa: BLE001 - e.g. an output value XML cannot carry
                log.warning("job %s: its response cannot be encoded: %s", job.id, error)
                exc = NoApplicableCode(f"Process failed: its outputs cannot be encoded in the response ({error})")
                final, message, outputs = JobStatus.FAILED, exc.description, []
                document = self.failure_document(job, process, request, exc)
            published = json.dumps([o.to_dict() for o in outputs]) if final is JobStatus.SUCCEEDED else None
            self._unrecorded[job.id] = (outputs, exc)
            recorded = self.store.transition(job.id, final, percent=100 if final is JobStatus.SUCCEEDED else None,
                                             message=message, response=document, outputs=published)
            self._unrecorded.pop(job.id, None)
            if recorded:
                job.status, job.response, job.outputs = final, document, published
                self.write_static_status(job)
            else:  # already final (dismissed meanwhile): report what the store says
                current = self.store.get(job.id)
                document = (current.response if current else None) or document
        finally:
            self.cleanup_runner(job)
        if job.is_async:
            self._wake.set()  # its slot is free: start the next queued job now (sync: the next round does)
        return Outcome(job, outputs, exc, document)

    def _collect(self, job: JobRecord, status: RunnerStatus) -> tuple[list[OutputResult], NoApplicableCode | None]:
        """The outputs (published under ``outputpath``) or the exception a job's result describes."""
        handback = self.handback(job.id)
        result = handback.result()
        if result is None:
            why = status.message or "the job's runner ended without writing a result"
            return [], NoApplicableCode(f"Process failed: {why}{self._disk_hint(job)}")
        if result["exception"] is not None:
            return [], exception_from_dict(result["exception"])
        try:
            outputs = [OutputResult.from_dict(o) for o in result["outputs"]]
        except (KeyError, TypeError, ValueError) as error:
            raise UntrustedOutput(f"result.json describes an output that cannot be read ({error})") from None
        files = {o.file: o.mime_type for o in outputs if o.file}
        handback.publish(self.config.server.outputpath / job.id, required=files,
                         max_total=self.config.server.maxoutputsize)
        _write_manifest(self.jobdir(job.id), files)
        for output in outputs:
            if output.file and output.as_reference:
                output.href = f"{self.config.server.outputurl}{job.id}/{output.file}"
        return outputs, None

    def _disk_hint(self, job: JobRecord) -> str:
        """Why a runner may have written nothing: its directory's file system is full."""
        outdir = self.jobdir(job.id).outdir
        tail = self.handback(job.id).log_tail("worker.log", 4000)
        try:
            info = os.statvfs(outdir)
            full = info.f_bavail * info.f_frsize < 64 * 1024
        except OSError:
            full = False
        if full or "No space left on device" in tail:
            return f" (No space left on device: {outdir})"
        return ""

    def _log_failure(self, job: JobRecord, exc: NoApplicableCode) -> None:
        """A failed job in the server's log (with the end of its worker log), where operators look."""
        tail = self.handback(job.id).log_tail("worker.log", 2000).strip()
        log.warning("job %s (process %s) failed: %s%s", job.id, job.process, exc.description,
                    f"\n  worker.log ends with:\n{tail}" if tail else "")

    def outcome(self, job_id: str) -> Outcome:
        """The outcome of a job that ended before it could run, from the store."""
        job = self.store.get(job_id)
        assert job is not None
        return Outcome(job, [], self.recorded_exception(job_id), job.response or b"")

    def recorded_exception(self, job_id: str) -> NoApplicableCode | None:
        """The exception a job's runner recorded in its result, if it recorded one: its own class (a WPS 2.0
        code such as WrongInputData), where the WPS 1.0.0 status document shows the OWS code."""
        try:
            result = self.handback(job_id).result() or {}
        except UntrustedOutput:
            return None
        return exception_from_dict(result["exception"]) if result.get("exception") else None

    def failure_document(self, job: JobRecord, process: Any, request: ExecuteRequest | None,
                         exc: NoApplicableCode) -> bytes:
        """A failed ExecuteResponse that can always be encoded (no lineage, no outputs, a safe message)."""
        exc = type(exc)(xml_safe(exc.description), locator=xml_safe(exc.locator or "", 200))
        if request is None:
            request = ExecuteRequest(identifier=job.process, store_execute_response=job.is_async)
        try:
            return self.document(job, process, request, JobStatus.FAILED, exception=exc, message=exc.description)
        except Exception:
            log.warning("job %s: even its failure cannot be encoded with its request", job.id, exc_info=True)
            bare = ExecuteRequest(identifier=job.process, store_execute_response=job.is_async)
            return self.document(job, MissingProcess(job.process), bare, JobStatus.FAILED, exception=exc,
                                 message=exc.description)

    def abandon(self, job: JobRecord, message: str) -> None:
        """The last resort after an unexpected error: stop the runner and end the job failed, so its slot is
        free; when even the store cannot record it, the next round (or the reaper) retries."""
        if job.handle:
            try:
                self.backend.cancel(job.handle)
            except Exception:
                log.warning("job %s: cancel failed", job.id, exc_info=True)
        exc = NoApplicableCode(message)
        try:
            request = ExecuteRequest.from_dict(json.loads(job.request)) if job.request else None
        except (ValueError, TypeError, KeyError):
            request = None
        try:
            document: bytes | None = self.failure_document(job, self.processes.get(job.process), request, exc)
        except Exception:
            log.exception("job %s: no failure document could be encoded", job.id)
            document = None
        try:
            if self.store.transition(job.id, JobStatus.FAILED, message=message, response=document):
                job.status, job.response = JobStatus.FAILED, document
                self.write_static_status(job)
        except Exception:
            log.exception("job %s: could not record its failure; it is retried", job.id)
        self.cleanup_runner(job)
        self._wake.set()

    def cleanup_runner(self, job: JobRecord) -> None:
        if job.handle:
            try:
                self.backend.cleanup(job.handle)
            except Exception:
                log.warning("cleanup of job %s failed", job.id, exc_info=True)

    # -- documents and files for the front-ends --------------------------------------------------

    def write_static_status(self, job: JobRecord) -> None:
        """Keep a copy of the status document under ``outputpath`` for servers that serve it as a file."""
        if not job.is_async or not job.response:
            return
        path = self.config.server.outputpath / f"{job.id}.xml"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(job.response)
            os.replace(tmp, path)
        except Exception:
            log.warning("could not write the static status document %s", path, exc_info=True)

    def output_file(self, job_id: str, name: str) -> tuple[int, os.stat_result] | None:
        """An open descriptor and its ``fstat`` of a published output (a lone regular file under
        ``outputpath``/JOB_ID, no link followed), or None; the caller closes the descriptor."""
        try:
            return open_published(self.config.server.outputpath, job_id, name)
        except (OSError, UntrustedOutput) as exc:
            if not isinstance(exc, FileNotFoundError):
                log.warning("refused to serve output %s/%s: %s", job_id, name, exc)
            return None

    def output_mime_type(self, job_id: str, name: str) -> str | None:
        """The mimeType the job declared for a published output file (checked when it was published)."""
        return _read_manifest(self.jobdir(job_id)).get(name)


def _write_manifest(jobdir: JobDir, files: dict[str, str | None]) -> None:
    """Remember the published files and their (checked) media types, for serving them."""
    if jobdir.path is None or not files:
        return
    clean = {name: media_type(mime) for name, mime in files.items()}
    tmp = jobdir.path / f".{MANIFEST}.{os.getpid()}"
    tmp.write_text(json.dumps(clean))
    os.replace(tmp, jobdir.path / MANIFEST)


def _read_manifest(jobdir: JobDir) -> dict[str, str | None]:
    if jobdir.path is None:
        return {}
    try:
        with open(jobdir.path / MANIFEST, "rb") as handle:
            data = json.loads(handle.read(1024 * 1024))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
