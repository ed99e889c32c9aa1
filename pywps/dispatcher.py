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
from typing import Any

from pywps.backends.base import Processing, RunnerState, RunnerStatus, backend_class
from pywps.config import Config
from pywps.exceptions import NoApplicableCode, ServerBusy, StorageNotSupported
from pywps.jobs.handback import HandBack, UntrustedOutput, media_type, open_published, xml_safe
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
        self._job_config = config.for_job()  # what a job may know: no paths of the server, no credentials
        self.max_output = config.getsize("server", "maxoutputsize", 0)
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
        try:
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
                "config": self._job_config,
            })
        except BaseException:
            jobdir.remove()  # the job never existed: leave nothing behind
            raise
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
        try:
            job.response = self.render(job, process, request, JobStatus.ACCEPTED,
                                       message="Process accepted, waiting for a free slot")
            self.store.submit(job, max_queued=self.max_queued)
        except QueueFull:
            jobdir.remove()
            raise ServerBusy(f"Maximum number of queued processes ({self.max_queued}) reached. "
                             "Please try later.", locator="maxprocesses") from None
        except BaseException:
            jobdir.remove()  # not in the store: nothing was admitted
            raise
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
        admitted = False
        try:
            try:
                admitted = self.store.claim_sync(job, self.parallel)
            finally:
                if not admitted:
                    jobdir.remove()
            if not admitted:
                raise ServerBusy(f"Maximum number of parallel running processes ({self.parallel}) reached. "
                                 "Please try later.", locator="parallelprocesses")
            handle = self._start_runner(job, jobdir, record=False)
            if handle is None:
                return self._outcome(job.id)
            job.handle = handle
            with self._lock:
                self._sync_handles.add(handle)
            status = self.backend.wait(handle, self.sync_timeout)
            if status.state not in (RunnerState.EXITED, RunnerState.LOST):
                self.backend.cancel(handle)
                status = RunnerStatus(RunnerState.EXITED, None,
                                      f"killed: synchronous time limit {self.sync_timeout:g} s")
            return self.finalize(job, status)
        except BaseException as exc:
            if admitted and not isinstance(exc, NoApplicableCode):
                log.exception("job %s: unexpected error; the job is ended", job.id)
                self._abandon(job, f"Process failed: internal error in the server ({type(exc).__name__}); "
                                   f"job {job.id}")
            raise
        finally:
            with self._lock:
                self._sync_ids.discard(job.id)
                self._sync_handles.discard(job.handle or "")

    def _outcome(self, job_id: str) -> Outcome:
        """The outcome of a job that ended before it could run, from the store."""
        job = self.store.get(job_id)
        assert job is not None
        try:
            result = self.handback(job_id).result() or {}
        except UntrustedOutput:
            result = {}
        return Outcome(job, [], _exception(result, job), job.response or b"")

    def _start_runner(self, job: JobRecord, jobdir: JobDir, record: bool = True) -> str | None:
        """Start the job's runner; ``record`` its handle in the store (sync jobs keep it in memory)."""
        try:
            handle = self.backend.start(job.id, jobdir.path, job.process)
        except Exception as exc:
            log.exception("could not start job %s", job.id)
            self.finalize(job, RunnerStatus(RunnerState.LOST, None,
                                            f"could not start the job ({self.backend.name}): {exc}"))
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
            try:
                process = self.processes.get(job.process)
                if process is not None:
                    self._progress(job, process, 0, "Process started")
                self._start_runner(job, JobDir(self.jobs_root / job.id))
            except Exception as exc:
                log.exception("job %s: could not be started; the job is ended", job.id)
                self._abandon(job, f"Process failed: the server could not start job {job.id} "
                                   f"({type(exc).__name__})")

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
            try:
                if status.state in (RunnerState.EXITED, RunnerState.LOST):
                    self.finalize(job, status)
                else:
                    self._sync_progress(job, status)
            except Exception as exc:  # one job's failure never stalls the others, nor keeps its slot
                if _store_unavailable(exc):
                    log.warning("job %s: the job store is unavailable (%s); retried", job.id, type(exc).__name__)
                    continue
                log.exception("job %s: following it failed; the job is ended", job.id)
                self._abandon(job, f"Process failed: internal error in the server ({type(exc).__name__}); "
                                   f"job {job.id}")
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
        state = self.handback(job.id).status() or {}
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

    def handback(self, job_id: str) -> HandBack:
        """The reader of what job ``job_id`` left in its ``out/`` (hostile input, see jobs/handback.py)."""
        return HandBack(JobDir(self.jobs_root / job_id).outdir, trusted_roots=(self.config.workdir,))

    def finalize(self, job: JobRecord, status: RunnerStatus) -> Outcome:
        """Record the end of a job from its result file (or from what the backend says happened).

        The result and output files are hostile input: whatever they hold, the job ends (failed, saying why,
        when they cannot be accepted), its runner is cleaned up and its slot is free.
        """
        try:
            process = self.processes.get(job.process)
            request = ExecuteRequest.from_dict(json.loads(job.request))
            try:
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
            try:
                document = self.render(job, process, request, final, outputs=outputs, exception=exc,
                                       message=message)
            except Exception as error:  # noqa: BLE001 - e.g. an output value XML cannot carry
                log.warning("job %s: its response cannot be encoded: %s", job.id, error)
                exc = NoApplicableCode(f"Process failed: its outputs cannot be encoded in the response ({error})")
                final, message, outputs = JobStatus.FAILED, exc.description, []
                document = self._render_failure(job, process, request, exc)
            if self.store.transition(job.id, final, percent=100 if final is JobStatus.SUCCEEDED else None,
                                     message=message, response=document):
                job.status, job.response = final, document
                self._write_static_status(job)
            else:  # already final (dismissed meanwhile): report what the store says
                current = self.store.get(job.id)
                document = (current.response if current else None) or document
        finally:
            self._cleanup_runner(job)
        if job.is_async:
            self._wake.set()  # its slot is free: start the next queued job now (sync: the next tick does)
        return Outcome(job, outputs, exc, document)

    def _collect(self, job: JobRecord, status: RunnerStatus) -> tuple[list[OutputResult], NoApplicableCode | None]:
        """The outputs (published under ``outputpath``) or the exception a job's result describes."""
        handback = self.handback(job.id)
        result = handback.result()
        if result is None:
            why = status.message or "the job's runner ended without writing a result"
            return [], NoApplicableCode(f"Process failed: {why}")
        if result["exception"] is not None:
            return [], _exception(result, job)
        try:
            outputs = [OutputResult.from_dict(o) for o in result["outputs"]]
        except (KeyError, TypeError, ValueError) as error:
            raise UntrustedOutput(f"result.json describes an output that cannot be read ({error})") from None
        files = {o.file: o.mime_type for o in outputs if o.file}
        handback.publish(self.config.outputpath / job.id, required=files, max_total=self.max_output)
        _write_manifest(JobDir(self.jobs_root / job.id), files)
        for output in outputs:
            if output.file and output.as_reference:
                output.href = f"{self.config.outputurl}{job.id}/{output.file}"
        return outputs, None

    def _render_failure(self, job: JobRecord, process: Any, request: ExecuteRequest | None,
                        exc: NoApplicableCode) -> bytes:
        """A failed ExecuteResponse that can always be encoded (no lineage, no outputs, a safe message)."""
        exc = type(exc)(xml_safe(exc.description), locator=xml_safe(exc.locator or "", 200))
        if request is None:
            request = ExecuteRequest(identifier=job.process, version="1.0.0", store_execute_response=job.is_async)
        try:
            return self.render(job, process, request, JobStatus.FAILED, exception=exc, message=exc.description)
        except Exception:
            log.warning("job %s: even its failure cannot be encoded with its request", job.id, exc_info=True)
            bare = ExecuteRequest(identifier=job.process, version="1.0.0", store_execute_response=job.is_async)
            return self.render(job, _MissingProcess(job.process), bare, JobStatus.FAILED, exception=exc,
                               message=exc.description)

    def _abandon(self, job: JobRecord, message: str) -> None:
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
            document: bytes | None = self._render_failure(job, self.processes.get(job.process), request, exc)
        except Exception:
            log.exception("job %s: no failure document could be encoded", job.id)
            document = None
        try:
            if self.store.transition(job.id, JobStatus.FAILED, message=message, response=document):
                job.status, job.response = JobStatus.FAILED, document
                self._write_static_status(job)
        except Exception:
            log.exception("job %s: could not record its failure; it is retried", job.id)
        self._cleanup_runner(job)
        self._wake.set()

    def _cleanup_runner(self, job: JobRecord) -> None:
        if job.handle:
            try:
                self.backend.cleanup(job.handle)
            except Exception:
                log.warning("cleanup of job %s failed", job.id, exc_info=True)

    def output_file(self, job_id: str, name: str) -> tuple[int, os.stat_result] | None:
        """An open descriptor and its ``fstat`` of a published output (a lone regular file under
        ``outputpath``/JOB_ID, no link followed), or None; the caller closes the descriptor."""
        try:
            return open_published(self.config.outputpath, job_id, name)
        except (OSError, UntrustedOutput) as exc:
            if not isinstance(exc, FileNotFoundError):
                log.warning("refused to serve output %s/%s: %s", job_id, name, exc)
            return None

    def output_mime_type(self, job_id: str, name: str) -> str | None:
        """The mimeType the job declared for a published output file (checked when it was published)."""
        try:
            return _read_manifest(JobDir(self.jobs_root / job_id)).get(name)
        except ValueError:
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
        except Exception:  # a copy for static serving: the store holds the document
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


MANIFEST = "published.json"  # in the job directory's root: the server's, never the runner's


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
    except OSError:
        return {}
    return data if isinstance(data, dict) else {}


def _store_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` is the job store being unreachable (retry later), not a fault of the job."""
    from sqlalchemy.exc import DBAPIError

    return isinstance(exc, DBAPIError)


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
