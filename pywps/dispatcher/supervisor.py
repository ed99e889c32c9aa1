"""The supervisor: one thread per server process that keeps jobs moving, whether or not requests arrive.

Each round it claims queued jobs while the store says a slot is free (counted across every process and
host sharing the store), follows the jobs this instance owns, adopts the jobs of server instances that
are gone (their runners are re-attached through ``Processing.adopt`` when still alive, otherwise the jobs
fail saying why, or are requeued when they never started), lets the backend reap runners nobody follows,
and removes jobs older than the retention.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from pywps.backends.base import RunnerState, RunnerStatus, RunnerUnavailable
from pywps.dispatcher.outage import ErrorLog, Outage, store_unavailable
from pywps.exceptions import ServerBusy
from pywps.jobs.jobdir import JobDir
from pywps.jobs.model import JobRecord, JobStatus
from pywps.requestmodel import ExecuteRequest

if TYPE_CHECKING:
    from pywps.dispatcher import Dispatcher

log = logging.getLogger(__name__)


def new_instance_id() -> str:
    """This server process's id in the store: host, pid and a random part (pids are reused)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Supervisor:
    """The dispatcher thread: claim, follow, adopt, reap, clean up."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.d = dispatcher
        jobs = dispatcher.config.jobs
        self.poll_interval = jobs.poll_interval
        self.stale_after = jobs.stale_after
        self.heartbeat = jobs.heartbeat
        self.cleanup_interval = jobs.cleanup_interval
        self.wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._sync_ids: set[str] = set()       # sync jobs: their request follows them, not this thread
        self._sync_handles: set[str] = set()
        self._thread: threading.Thread | None = None
        self._pid = -1
        self._last_reap = 0.0
        self._last_beat = 0.0
        self._last_cleanup = time.monotonic()
        self.store_outage = Outage("job store", log, base=max(0.25, self.poll_interval), cap=5.0)
        self.backend_outage = Outage(f"backend {dispatcher.backend.name}", log, base=1.0, cap=15.0)
        self._resume_at = 0.0
        self._waiting: dict[str, float] = {}   # job id -> when it first could not be started
        self.errors = ErrorLog(log)

    # -- life cycle ------------------------------------------------------------------------------

    def runner_ended(self, handle: str) -> None:
        """The backend's ``on_exit``: wake up for an async job's runner; a sync request finalizes its own."""
        with self._lock:
            if handle in self._sync_handles:
                return
        self.wake.set()

    def ensure_started(self) -> None:
        """Start the thread in this process (again after a fork, under a new instance id)."""
        if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._pid == os.getpid() and self._thread is not None and self._thread.is_alive():
                return
            if self._pid != os.getpid() and self._pid != -1:
                self.d.store.after_fork()
                self.d.instance = new_instance_id()
                self.d.backend.bind(self.d.instance, self.runner_ended)
            self._pid = os.getpid()
            self.d.jobs_root.mkdir(parents=True, exist_ok=True)
            try:
                self.d.store.register_instance(self.d.instance, socket.gethostname(), os.getpid())
            except Exception as exc:
                if not store_unavailable(exc):
                    raise
                self.store_outage.failed(exc)  # the thread registers once the store answers
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="pywps-dispatcher", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            self.d.store.remove_instance(self.d.instance)
        except Exception:
            log.debug("could not deregister instance", exc_info=True)

    def _run(self) -> None:
        from pywps.configuration import using

        with using(self.d.config):  # code below that reads the PyWPS 4 facade sees this server's settings
            while not self._stop.is_set():
                delay = self.poll_interval
                try:
                    self.tick()
                    self.store_outage.ok()
                except Exception as exc:  # noqa: BLE001 - logged by Outage or ErrorLog
                    if store_unavailable(exc):
                        delay = self.store_outage.failed(exc)
                    else:
                        self.errors.error("dispatcher round failed", exc)
                self.wake.wait(delay)
                self.wake.clear()

    def tick(self) -> None:
        """One round: follow own jobs, start queued jobs; heartbeats, orphans and cleanup on their own periods."""
        now = time.monotonic()
        beat = now - self._last_beat >= self.heartbeat
        if beat:
            self._last_beat = now
            if not self.d.store.beat_instance(self.d.instance):  # registered late (the store was down)
                self.d.store.register_instance(self.d.instance, socket.gethostname(), os.getpid())
        self.follow_running(beat)
        if now - self._last_reap > min(5.0, self.stale_after / 2):
            self._last_reap = now
            self.reap_dead_instances()
        self.start_queued()
        if self.cleanup_interval and now - self._last_cleanup > self.cleanup_interval:
            self._last_cleanup = now
            removed = self.d.actions.cleanup()
            if removed:
                log.info("removed %d job(s) older than the retention", len(removed))

    # -- sync jobs: followed by their own request ------------------------------------------------

    def follow_sync(self, job_id: str, handle: str | None = None) -> None:
        with self._lock:
            self._sync_ids.add(job_id)
            if handle:
                self._sync_handles.add(handle)

    def unfollow_sync(self, job_id: str, handle: str | None) -> None:
        with self._lock:
            self._sync_ids.discard(job_id)
            self._sync_handles.discard(handle or "")

    # -- starting runners ------------------------------------------------------------------------

    def launch(self, job: JobRecord, jobdir: JobDir, record: bool = True, is_async: bool | None = None) -> str | None:
        """Start the job's runner; ``record`` its handle in the store (sync jobs keep it in memory; an async
        job's caller may record it with its next write).
        None when the backend refused: the job has then ended, failed, saying why — or, when the backend
        cannot start anything for now (``RunnerUnavailable``), an async job is queued again and waits
        (up to ``[jobs] start_timeout``) while a sync one ends and its client is told to try later."""
        try:
            handle = self.d.backend.start(job, jobdir)
        except RunnerUnavailable as exc:
            return self._unavailable(job, exc, record if is_async is None else is_async)
        except Exception as exc:
            log.exception("could not start job %s", job.id)
            self.d.results.finalize(job, RunnerStatus(RunnerState.LOST, None,
                                                      f"could not start the job ({self.d.backend.name}): {exc}"))
            return None
        self.backend_outage.ok()
        self._waiting.pop(job.id, None)
        if record:
            self.d.store.set_handle(job.id, handle)
        return handle

    def _unavailable(self, job: JobRecord, exc: RunnerUnavailable, requeue: bool) -> None:
        delay = self.backend_outage.failed(exc)
        self._resume_at = time.monotonic() + delay
        if len(self._waiting) > 10000:  # jobs another instance started meanwhile
            horizon = time.monotonic() - 2 * self.d.config.jobs.start_timeout
            self._waiting = {k: v for k, v in self._waiting.items() if v > horizon}
        first = self._waiting.setdefault(job.id, time.monotonic())
        waited = time.monotonic() - first
        if requeue and waited < self.d.config.jobs.start_timeout:
            message = f"waiting to start: {exc}"
            request = ExecuteRequest.from_dict(json.loads(job.request))
            document = self.d.results.document(job, self.d.processes.get(job.process), request,
                                               JobStatus.ACCEPTED, message=message)
            if self.d.store.transition(job.id, JobStatus.ACCEPTED, message=message, response=document):
                job.response = document
                self.d.results.write_static_status(job)
            return None
        self._waiting.pop(job.id, None)
        why = f"could not start the job ({self.d.backend.name}): {exc}"
        if requeue:
            why += f" (still after {waited:.0f} s)"
        self.d.results.finalize(job, RunnerStatus(RunnerState.LOST, None, why))
        if not requeue:
            raise ServerBusy(f"{exc}; please try again later", locator="backend")
        return None

    def start_queued(self) -> None:
        store = self.d.store
        if self.backend_outage.active and time.monotonic() < self._resume_at:
            return  # the backend cannot start runners: queued jobs wait (start_timeout bounds it)
        if not store.count(["accepted"]):  # a read, before any write transaction
            return
        while not self._stop.is_set():
            job = store.claim_next(self.d.instance, self.d.backend.name, self.d.parallel)
            if job is None:
                return
            try:
                process = self.d.processes.get(job.process)
                # the runner first, then its handle with the "started" document in one write
                handle = job.handle = self.launch(job, self.d.results.jobdir(job.id), record=process is None,
                                                  is_async=True)
                if handle is not None and process is not None:
                    if not self.d.results.progress(job, process, 0, "Process started", handle=handle):
                        self.d.backend.cancel(handle)  # dismissed meanwhile: its runner goes too
                if self.backend_outage.active and time.monotonic() < self._resume_at:
                    return  # the backend refused for now: wait before claiming again
            except Exception as exc:
                if store_unavailable(exc):
                    raise  # the round waits for the store; the job is requeued if its runner never started
                log.exception("job %s: could not be started; the job is ended", job.id)
                self.d.results.abandon(job, f"Process failed: the server could not start job {job.id} "
                                            f"({type(exc).__name__})")

    # -- following runners -----------------------------------------------------------------------

    def follow_running(self, beat: bool = True) -> None:
        with self._lock:
            skip = set(self._sync_ids)
        store, results = self.d.store, self.d.results
        jobs = [j for j in store.running(owner=self.d.instance) if j.id not in skip]
        if not jobs:
            return
        if beat:
            store.heartbeat(self.d.instance, [j.id for j in jobs])
        with_handle = [j for j in jobs if j.handle]
        statuses = self.d.backend.poll_many([j.handle for j in with_handle]) if with_handle else {}
        for job in with_handle:
            status = statuses.get(job.handle) or RunnerStatus(RunnerState.LOST, None, "unknown to the backend")
            try:
                if status.state in (RunnerState.EXITED, RunnerState.LOST):
                    results.finalize(job, status)
                else:
                    self._progress(job, status)
            except Exception as exc:  # one job's failure never stalls the others, nor keeps its slot
                if store_unavailable(exc):
                    raise  # the whole round waits for the store (one log line per outage)
                log.exception("job %s: following it failed; the job is ended", job.id)
                results.abandon(job, f"Process failed: internal error in the server ({type(exc).__name__}); "
                                     f"job {job.id}")
        for job in jobs:
            if job.handle or _age(job.started) <= self.stale_after:
                continue
            if job.is_async:
                store.transition(job.id, JobStatus.ACCEPTED, message="requeued: the runner never started")
            else:
                results.finalize(job, RunnerStatus(RunnerState.LOST, None,
                                                   "the server ended during this synchronous request"))

    def _progress(self, job: JobRecord, status: RunnerStatus) -> None:
        """Mirror a running job's progress (its hostile ``status.json``) and paused state into the store."""
        process = self.d.processes.get(job.process)
        if process is None:
            return
        state = self.d.results.handback(job.id).status() or {}
        percent = int(state.get("percent") or 0)
        message = state.get("message") or job.message or ""
        paused = status.state == RunnerState.PAUSED
        if paused and job.status != JobStatus.PAUSED:
            self.d.results.progress(job, process, percent, "Process paused", JobStatus.PAUSED)
        elif not paused and (percent != job.percent or message != job.message or job.status != JobStatus.STARTED):
            self.d.results.progress(job, process, percent, message)

    # -- orphans ---------------------------------------------------------------------------------

    def reap_dead_instances(self) -> None:
        """Adopt the jobs of server instances that are gone; let the backend remove unfollowed runners."""
        store, backend = self.d.store, self.d.backend
        host = socket.gethostname()
        dead = set(store.dead_instances(self.stale_after))
        for instance in store.instances():
            if instance["host"] == host and not _pid_alive(int(instance["pid"])):
                dead.add(instance["id"])
        dead.discard(self.d.instance)
        for instance in dead:
            self._adopt(instance)
            store.remove_instance(instance)
        registered = {i["id"] for i in store.instances()}
        for owner in {j.owner for j in store.running()} - registered - {None, self.d.instance}:
            self._adopt(owner)  # a server that stopped cleanly deregistered: its running jobs are orphans now
        with self._lock:
            sync = set(self._sync_ids)
        for job in store.stale(self.stale_after):
            if job.owner != self.d.instance and job.id not in sync:
                self._adopt(job.owner or "")
        live = [j.id for j in store.list(status=["accepted", "started", "paused"], limit=100000)]
        backend.reap(live, live_instances=[i["id"] for i in store.instances()], min_age=60)

    def _adopt(self, instance: str) -> None:
        handles = [j.handle for j in self.d.store.running(owner=instance) if j.handle]
        adopted = self.d.store.adopt(instance, self.d.instance)
        if adopted:
            log.warning("adopted %d job(s) of server instance %s, which is gone", adopted, instance)
            if handles:
                self.d.backend.adopt(handles)


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
