"""Admission, queue, polling, reaping and dismissal of jobs: the layer above the job store and the backends.

Every server process runs one dispatcher thread. It claims queued jobs while the store says a slot is free
(counted across every process and host sharing the store), follows the jobs it owns through their job
directories, and adopts the jobs of server instances that are gone: their runners are re-attached when
still alive, otherwise the jobs fail saying why (or are requeued when they never started).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import socket
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pywps.backends.base import Processing, RunnerState, RunnerStatus, backend_class
from pywps.config import Config
from pywps.exceptions import NoApplicableCode, ServerBusy, StorageNotSupported
from pywps.jobs.jobdir import JobDir
from pywps.jobs.model import JobRecord, JobStatus
from pywps.jobs.store import JobStore, QueueFull
from pywps.requestmodel import ExecuteRequest, OutputResult

log = logging.getLogger(__name__)

WPS_STATUS = {
    JobStatus.ACCEPTED: "accepted",
    JobStatus.STARTED: "started",
    JobStatus.PAUSED: "paused",
    JobStatus.SUCCEEDED: "succeeded",
    JobStatus.FAILED: "failed",
    JobStatus.DISMISSED: "failed",
}


@dataclasses.dataclass
class Outcome:
    """What a finished sync job produced, for the response encoder."""

    job: JobRecord
    outputs: list[OutputResult]
    exception: NoApplicableCode | None
    document: bytes


class Dispatcher:
    """Runs Execute requests through the configured backend, with the job store as the only truth."""

    def __init__(self, config: Config, processes: dict[str, Any], store: JobStore | None = None,
                 backend: Processing | None = None) -> None:
        self.config = config
        self.processes = processes
        self.store = store or JobStore(config.database)
        self.backend = backend or backend_class(config.mode)(config)
        self.instance = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.jobs_root = config.workdir / "jobs"
        self.parallel = max(1, config.getint("server", "parallelprocesses", 2))
        self.max_queued = config.getint("server", "maxprocesses", 30)
        self.poll_interval = config.getduration("jobs", "poll_interval", 0.25)
        self.stale_after = config.getduration("jobs", "stale_after", 30)
        self.sync_timeout = config.getduration("server", "sync_timeout", 0) or None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._sync_ids: set[str] = set()
        self._sync_handles: set[str] = set()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = -1
        self._last_reap = 0.0
        self._last_beat = 0.0
        self.heartbeat = config.getduration("jobs", "heartbeat", 2)
        self._config_dict = config.to_dict()
        self._label_backend()
        self.cleanup_interval = config.getduration("jobs", "cleanup_interval", 3600)
        self._last_cleanup = time.monotonic()
        if hasattr(self.backend, "on_exit"):
            self.backend.on_exit = self._runner_ended  # follow a job the moment its runner ends

    # -- life cycle ------------------------------------------------------------------------------

    def _runner_ended(self, handle: str) -> None:
        """Wake the dispatcher for an async job's runner; a sync request finalizes its own job."""
        with self._lock:
            if handle in self._sync_handles:
                return
        self._wake.set()

    def _label_backend(self) -> None:
        """Backends that label their runners (containers) use this server instance's id."""
        if hasattr(self.backend, "instance_id"):
            self.backend.instance_id = self.instance

    def ensure_started(self) -> None:
        """Start the dispatcher thread in this process (again after a fork)."""
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
                return
            if self._pid != os.getpid() and self._pid != -1:
                self.store.after_fork()
                self.instance = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
                self._label_backend()
            self._pid = os.getpid()
            self.jobs_root.mkdir(parents=True, exist_ok=True)
            self.store.register_instance(self.instance, socket.gethostname(), os.getpid())
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="pywps-dispatcher", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            self.store.remove_instance(self.instance)
        except Exception:
            log.debug("could not deregister instance", exc_info=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("dispatcher tick failed")
            self._wake.wait(self.poll_interval)
            self._wake.clear()

    def tick(self) -> None:
        """One round: follow own jobs, start queued jobs; heartbeats, orphans and cleanup on their own periods."""
        now = time.monotonic()
        beat = now - self._last_beat >= self.heartbeat
        if beat:
            self._last_beat = now
            self.store.beat_instance(self.instance)
        self._follow_running(beat)
        if now - self._last_reap > min(5.0, self.stale_after / 2):
            self._last_reap = now
            self._reap_dead_instances()
        self._start_queued()
        if self.cleanup_interval and now - self._last_cleanup > self.cleanup_interval:
            self._last_cleanup = now
            removed = self.cleanup()
            if removed:
                log.info("removed %d job(s) older than the retention", len(removed))

    # -- admission -------------------------------------------------------------------------------

    def prepare(self, process: Any, request: ExecuteRequest, is_async: bool) -> tuple[JobRecord, JobDir]:
        """Create the job record and its directory: request, fetched reference inputs, process spec."""
        from pywps.worker import process_spec

        if request.store_execute_response and not process.store_supported:
            raise StorageNotSupported("this process does not support storeExecuteResponse",
                                      locator="storeExecuteResponse")
        job = JobRecord.new(process.identifier, "", is_async, self.backend.name)
        jobdir = JobDir.create(self.jobs_root, job.id)
        request = self._fetch_references(request, jobdir)
        request_dict = request.to_dict()
        job.request = json.dumps(request_dict)
        jobdir.write_job({
            "job_id": job.id,
            "output_url": f"{self.config.outputurl}{job.id}/",
            "process": process_spec(process),
            "request": request_dict,
            "limits": {"maxsingleinputsize": self.config.getsize("server", "maxsingleinputsize")},
            "cleantempdir": self.config.getbool("server", "cleantempdir", True),
            "debug": self.config.getstr("logging", "level").upper() == "DEBUG",
            "config": self._config_dict,
        })
        return job, jobdir

    def _fetch_references(self, request: ExecuteRequest, jobdir: JobDir) -> ExecuteRequest:
        if not any(i.kind == "reference" for i in request.inputs):
            return request
        from pywps.inout.fetch import fetch_reference

        policy = self.fetch_policy()
        inputs_dir = jobdir.indir / "inputs"
        inputs_dir.mkdir(exist_ok=True)
        fetched = []
        for n, value in enumerate(request.inputs):
            if value.kind == "reference":
                dest = inputs_dir / f"{n:03d}"
                fetch_reference(value, dest, policy)
                value = dataclasses.replace(value, file=f"inputs/{dest.name}")
            fetched.append(value)
        return dataclasses.replace(request, inputs=tuple(fetched))

    def fetch_policy(self):
        from pywps.inout.fetch import FetchPolicy

        cfg = self.config
        return FetchPolicy(
            allow_private=cfg.getbool("server", "reference_allow_private"),
            allowed_hosts=tuple(cfg.getlist("server", "reference_allowed_hosts")),
            allowed_input_paths=tuple(cfg.getlist("server", "allowedinputpaths")),
            timeout=(min(5.0, cfg.getfloat("server", "reference_timeout", 30)),
                     cfg.getfloat("server", "reference_timeout", 30)),
            max_size=cfg.getsize("server", "maxsingleinputsize"),
            max_redirects=cfg.getint("server", "reference_max_redirects", 3),
        )

    def submit(self, process: Any, request: ExecuteRequest) -> JobRecord:
        """Queue an asynchronous job; answer with its accepted status document."""
        self.ensure_started()
        job, jobdir = self.prepare(process, request, is_async=True)
        job.response = self.render(job, process, request, JobStatus.ACCEPTED,
                                   message="Process accepted, waiting for a free slot")
        try:
            self.store.submit(job, max_queued=self.max_queued)
        except QueueFull:
            jobdir.remove()
            raise ServerBusy(f"Maximum number of queued processes ({self.max_queued}) reached. "
                             "Please try later.", locator="maxprocesses") from None
        self._write_static_status(job)
        self._wake.set()
        return job

    def execute_sync(self, process: Any, request: ExecuteRequest) -> Outcome:
        """Run a job now, in its own runner, and wait for it; ServerBusy when no slot is free."""
        if not getattr(self.backend, "accepts_sync", True):
            from pywps.exceptions import OptionNotSupported

            raise OptionNotSupported(
                f"mode {self.backend.name!r} runs jobs asynchronously only: "
                "use storeExecuteResponse=true&status=true", locator="storeExecuteResponse")
        self.ensure_started()
        job, jobdir = self.prepare(process, request, is_async=False)
        job.owner = self.instance
        with self._lock:
            self._sync_ids.add(job.id)
        try:
            if not self.store.claim_sync(job, self.parallel):
                jobdir.remove()
                raise ServerBusy(f"Maximum number of parallel running processes ({self.parallel}) reached. "
                                 "Please try later.", locator="parallelprocesses")
            handle = self._start_runner(job, jobdir, record=False)
            if handle is None:
                return self._outcome(job.id)
            with self._lock:
                self._sync_handles.add(handle)
            status = self.backend.wait(handle, self.sync_timeout)
            if status.state not in (RunnerState.EXITED, RunnerState.LOST):
                self.backend.cancel(handle)
                status = RunnerStatus(RunnerState.EXITED, None,
                                      f"killed: synchronous time limit {self.sync_timeout:g} s")
            job.handle = handle
            return self.finalize(job, status)
        finally:
            with self._lock:
                self._sync_ids.discard(job.id)
                self._sync_handles.discard(job.handle or "")

    def _outcome(self, job_id: str) -> Outcome:
        """The outcome of a job that ended before it could run, from the store."""
        job = self.store.get(job_id)
        assert job is not None
        result = JobDir(self.jobs_root / job_id).read_result() or {}
        return Outcome(job, [], _exception(result, job), job.response or b"")

    def _start_runner(self, job: JobRecord, jobdir: JobDir, record: bool = True) -> str | None:
        """Start the job's runner; ``record`` its handle in the store (sync jobs keep it in memory)."""
        try:
            handle = self.backend.start(job.id, jobdir.path, job.process)
        except Exception as exc:
            log.exception("could not start job %s", job.id)
            message = f"could not start the job ({self.backend.name}): {exc}"
            jobdir.write_result([], {"code": "NoApplicableCode", "locator": "", "text": message})
            self.finalize(job, RunnerStatus(RunnerState.LOST, None, message))
            return None
        if record:
            self.store.set_handle(job.id, handle)
        return handle

    # -- following jobs --------------------------------------------------------------------------

    def _start_queued(self) -> None:
        if not self.store.count(["accepted"]):  # a read, before any write transaction
            return
        while not self._stop.is_set():
            job = self.store.claim_next(self.instance, self.backend.name, self.parallel)
            if job is None:
                return
            process = self.processes.get(job.process)
            jobdir = JobDir(self.jobs_root / job.id)
            if process is not None:
                self._progress(job, process, 0, "Process started")
            self._start_runner(job, jobdir)

    def _follow_running(self, beat: bool = True) -> None:
        with self._lock:
            skip = set(self._sync_ids)
        jobs = [j for j in self.store.running(owner=self.instance) if j.id not in skip]
        if not jobs:
            return
        if beat:
            self.store.heartbeat(self.instance, [j.id for j in jobs])
        with_handle = [j for j in jobs if j.handle]
        statuses = self.backend.poll_many([j.handle for j in with_handle]) if with_handle else {}
        for job in with_handle:
            status = statuses.get(job.handle) or RunnerStatus(RunnerState.LOST, None, "unknown to the backend")
            if status.state in (RunnerState.EXITED, RunnerState.LOST):
                self.finalize(job, status)
            else:
                self._sync_progress(job, status)
        for job in jobs:
            if job.handle or _age(job.started) <= self.stale_after:
                continue
            if job.is_async:
                self.store.transition(job.id, JobStatus.ACCEPTED, message="requeued: the runner never started")
            else:
                self.finalize(job, RunnerStatus(RunnerState.LOST, None,
                                                "the server ended during this synchronous request"))

    def _sync_progress(self, job: JobRecord, status: RunnerStatus) -> None:
        process = self.processes.get(job.process)
        if process is None:
            return
        state = JobDir(self.jobs_root / job.id).read_status() or {}
        percent = int(state.get("percent") or 0)
        message = state.get("message") or job.message or ""
        paused = status.state == RunnerState.PAUSED
        if paused and job.status != JobStatus.PAUSED:
            self._progress(job, process, percent, "Process paused", JobStatus.PAUSED)
        elif not paused and (percent != job.percent or message != job.message or job.status != JobStatus.STARTED):
            self._progress(job, process, percent, message)

    def _progress(self, job: JobRecord, process: Any, percent: int, message: str,
                  status: JobStatus = JobStatus.STARTED) -> None:
        request = ExecuteRequest.from_dict(json.loads(job.request))
        job.percent, job.message = percent, message
        # status=false: the stored document keeps saying "accepted" until the job ends (WPS 1.0.0)
        document = (self.render(job, process, request, status, percent=percent, message=message)
                    if request.status or not request.store_execute_response else None)
        if self.store.transition(job.id, status, percent=percent, message=message, response=document):
            if document is not None:
                job.response = document
                self._write_static_status(job)

    def finalize(self, job: JobRecord, status: RunnerStatus) -> Outcome:
        """Record the end of a job from its result file (or from what the backend says happened)."""
        jobdir = JobDir(self.jobs_root / job.id)
        result = jobdir.read_result()
        process = self.processes.get(job.process)
        request = ExecuteRequest.from_dict(json.loads(job.request))
        outputs: list[OutputResult] = []
        exc: NoApplicableCode | None = None
        if result is not None and result.get("exception") is None:
            outputs = [OutputResult.from_dict(o) for o in result.get("outputs", [])]
            self._publish(job.id, outputs, move=True)
            final, message = JobStatus.SUCCEEDED, "Process succeeded"
        else:
            if result is not None:
                exc = _exception(result, job)
            else:
                why = status.message or "the job's runner ended without writing a result"
                exc = NoApplicableCode(f"Process failed: {why}")
            final, message = JobStatus.FAILED, exc.description if exc else ""
        document = self.render(job, process, request, final, outputs=outputs, exception=exc, message=message)
        if self.store.transition(job.id, final, percent=100 if final is JobStatus.SUCCEEDED else None,
                                 message=message, response=document):
            job.status, job.response = final, document
            self._write_static_status(job)
        else:  # already final (dismissed meanwhile): report what the store says
            current = self.store.get(job.id)
            document = (current.response if current else None) or document
        self._cleanup_runner(job)
        if job.is_async:
            self._wake.set()  # its slot is free: start the next queued job now (sync: the next tick does)
        return Outcome(job, outputs, exc, document)

    def _cleanup_runner(self, job: JobRecord) -> None:
        if job.handle:
            try:
                self.backend.cleanup(job.handle)
            except Exception:
                log.warning("cleanup of job %s failed", job.id, exc_info=True)

    def _publish(self, job_id: str, outputs: list[OutputResult], move: bool) -> None:
        """Move the job's files under ``outputpath``/JOB_ID and point ``href`` of references at ``outputurl``."""
        source = JobDir(self.jobs_root / job_id).files_dir
        target = self.config.outputpath / job_id
        if move and source.is_dir() and any(source.iterdir()):
            target.mkdir(parents=True, exist_ok=True)
            for entry in source.iterdir():
                if not (target / entry.name).exists():
                    shutil.move(str(entry), target / entry.name)
        for output in outputs:
            if output.file and output.as_reference:
                output.href = f"{self.config.outputurl}{job_id}/{Path(output.file).name}"

    def output_file(self, job_id: str, name: str) -> Path | None:
        """Where a published output (or a not yet moved sync output) lives."""
        for base in (self.config.outputpath / job_id, JobDir(self.jobs_root / job_id).files_dir):
            path = base / name
            if path.is_file():
                return path
        return None

    def output_mime_type(self, job_id: str, name: str) -> str | None:
        """The mimeType the job declared for an output file, from its result."""
        result = JobDir(self.jobs_root / job_id).read_result() or {}
        for output in result.get("outputs", []):
            if output.get("file") and Path(output["file"]).name == name:
                return output.get("mime_type")
        return None

    # -- orphans ---------------------------------------------------------------------------------

    def _reap_dead_instances(self) -> None:
        host = socket.gethostname()
        dead = set(self.store.dead_instances(self.stale_after))
        for instance in self.store.instances():
            if instance["host"] == host and not _pid_alive(int(instance["pid"])):
                dead.add(instance["id"])
        dead.discard(self.instance)
        for instance in dead:
            adopted = self.store.adopt(instance, self.instance)
            self.store.remove_instance(instance)
            if adopted:
                log.warning("adopted %d job(s) of server instance %s, which is gone", adopted, instance)
        for job in self.store.stale(self.stale_after):
            if job.owner != self.instance and job.id not in self._sync_ids:
                self.store.adopt(job.owner or "", self.instance)
        reap = getattr(self.backend, "reap", None)
        if reap is not None:  # runners (containers) whose job is unknown or finished
            live = [j.id for j in self.store.list(status=["accepted", "started", "paused"], limit=100000)]
            reap(live, live_instances=[i["id"] for i in self.store.instances()], min_age=60)

    # -- operator actions ------------------------------------------------------------------------

    def dismiss(self, job_id: str, reason: str = "Job dismissed by the client") -> JobRecord:
        """Commit ``dismissed`` first, then stop the runner; a finished job is left as it is."""
        job = self._job(job_id)
        process = self.processes.get(job.process)
        request = ExecuteRequest.from_dict(json.loads(job.request))
        exc = NoApplicableCode(reason)
        document = self.render(job, process, request, JobStatus.DISMISSED, exception=exc, message=reason)
        if self.store.transition(job.id, JobStatus.DISMISSED, message=reason, response=document):
            if job.handle:
                self.backend.cancel(job.handle)
                self._cleanup_runner(job)
            job = self.store.get(job.id) or job
            self._write_static_status(job)
        self._wake.set()
        return job

    def pause(self, job_id: str) -> JobRecord:
        """Suspend a running job (backends that can: multiprocessing, docker)."""
        return self._suspend_or_resume(job_id, JobStatus.STARTED, self.backend.pause, "Process paused",
                                       JobStatus.PAUSED)

    def resume(self, job_id: str) -> JobRecord:
        """Let a paused job run on."""
        return self._suspend_or_resume(job_id, JobStatus.PAUSED, self.backend.resume, "Process resumed",
                                       JobStatus.STARTED)

    def _suspend_or_resume(self, job_id: str, expected: JobStatus, act, message: str,
                           new_status: JobStatus) -> JobRecord:
        job = self._job(job_id)
        if job.status != expected or not job.handle:
            raise NoApplicableCode(f"job {job_id} is {job.status.value}, not {expected.value}", code=400)
        act(job.handle)
        process = self.processes.get(job.process)
        if process is not None:
            self._progress(job, process, job.percent or 0, message, new_status)
        return self.store.get(job.id) or job

    def _job(self, job_id: str) -> JobRecord:
        from pywps.exceptions import InvalidParameterValue

        job = self.store.get(job_id)
        if job is None:
            raise InvalidParameterValue(f"no job {job_id!r}", locator="jobid")
        return job

    def cleanup(self, older_than: float | None = None) -> list[str]:
        """Delete finished jobs older than the retention, with their directories and outputs."""
        age = older_than if older_than is not None else self.config.getduration("jobs", "retention", 7 * 86400)
        removed = self.store.delete_older_than(timedelta(seconds=age))
        for job_id in removed:
            shutil.rmtree(self.jobs_root / job_id, ignore_errors=True)
            shutil.rmtree(self.config.outputpath / job_id, ignore_errors=True)
            (self.config.outputpath / f"{job_id}.xml").unlink(missing_ok=True)
        return removed

    # -- documents -------------------------------------------------------------------------------

    def status_location(self, job_id: str) -> str:
        return f"{self.config.outputurl}{job_id}.xml"

    def render(self, job: JobRecord, process: Any, request: ExecuteRequest, status: JobStatus, *,
               percent: int | None = None, message: str = "", outputs: list[OutputResult] = (),
               exception: NoApplicableCode | None = None) -> bytes:
        """The ExecuteResponse document for a job in ``status``."""
        from pywps.encode.execute import execute_response
        from pywps.ows import xml_bytes

        if process is None:
            process = _MissingProcess(job.process)
        element = execute_response(
            process=process, status=WPS_STATUS[status], service_instance=self.config.url,
            status_location=self.status_location(job.id) if request.store_execute_response else None,
            creation_time=job.created or datetime.now(UTC), percent=percent, message=message,
            outputs=list(outputs), exception=exception, request=request,
            language=request.language or self.config.languages[0],
        )
        return xml_bytes(element)

    def _write_static_status(self, job: JobRecord) -> None:
        """Keep a copy of the status document under ``outputpath`` for servers that serve it as a file."""
        if not job.is_async or not job.response:
            return
        path = self.config.outputpath / f"{job.id}.xml"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(job.response)
            os.replace(tmp, path)
        except OSError:
            log.warning("could not write the static status document %s", path, exc_info=True)


class _MissingProcess:
    """Stands in for a process this server no longer offers, so its jobs can still be reported."""

    def __init__(self, identifier: str) -> None:
        self.identifier, self.title, self.abstract, self.version = identifier, identifier, "", "None"
        self.metadata: list = []
        self.profile: list = []


def _exception(result: dict, job: JobRecord) -> NoApplicableCode | None:
    """Rebuild the OWS exception a worker reported."""
    import pywps.exceptions as exceptions

    data = result.get("exception")
    if not data:
        return None
    cls = getattr(exceptions, str(data.get("code", "")), None)
    if not (isinstance(cls, type) and issubclass(cls, NoApplicableCode)):
        cls = NoApplicableCode
    return cls(data.get("text", ""), locator=data.get("locator", "") or "")


def _age(moment: datetime | None) -> float:
    if moment is None:
        return 0.0
    return (datetime.now(UTC) - moment).total_seconds()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
