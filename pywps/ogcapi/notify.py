"""Subscriber callbacks (conformance class callback): tell a client when its job runs, succeeds or fails.

A small thread per server process watches the job store for OGC API jobs that carry a subscriber and
hands each event to a sender thread, so neither a job, a request nor the dispatcher's supervisor ever
waits on a client's server. Each callback is an HTTP POST of JSON through the same server-side request
forgery guard and limits as reference inputs (``pywps.dispatcher.fetch_policy``), with
``[ogcapi] callback_timeout``. An event is sent once across every process sharing the work directory: the
first to create its marker file (``O_EXCL``) sends it. The watcher ends itself when no job is waiting for
a callback and starts again with the next job that has a subscriber.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import queue
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pywps.config import Config
from pywps.exceptions import NoApplicableCode
from pywps.inout.fetch import FetchPolicy, fetch_reference
from pywps.jobs.model import FINAL, JobRecord, JobStatus
from pywps.requestmodel import InputValue

log = logging.getLogger(__name__)

IDLE_EXIT = 30.0     # seconds without a job waiting for a callback before the watcher stops
INTERVAL = 0.5       # seconds between looks at the store
LOOKBACK = 300.0     # at start, jobs changed this long ago are looked at (a restart between two looks)


class Notifier:
    """Watches OGC API jobs with a subscriber and posts their callbacks from a background thread."""

    def __init__(self, config: Config, store: Any, policy: FetchPolicy, documents: Any) -> None:
        self.store = store
        timeout = config.ogcapi.callback_timeout or 10.0
        self.policy = dataclasses.replace(policy, timeout=(min(5.0, timeout), timeout), deadline=timeout,
                                          max_size=64 * 1024)
        self.documents = documents   # job -> (event -> JSON body), the routes' encoders
        self.markers = config.server.workdir / "ogcapi-callbacks"
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._sender: threading.Thread | None = None
        self._queue: queue.Queue[tuple[str, str, str, bytes]] = queue.Queue()
        self._pid = -1
        self._wake = threading.Event()
        self._stop = threading.Event()

    # -- life cycle ------------------------------------------------------------------------------

    def ensure_started(self) -> None:
        """Start the watcher (again after a fork or after it went idle)."""
        with self._lock:
            alive = self._thread is not None and self._thread.is_alive() and self._pid == os.getpid()
            if alive:
                self._wake.set()
                return
            self._pid = os.getpid()
            self._stop.clear()
            self._queue = queue.Queue()
            self._thread = threading.Thread(target=self._watch, name="pywps-ogcapi-callbacks", daemon=True)
            self._sender = threading.Thread(target=self._send_loop, name="pywps-ogcapi-sender", daemon=True)
            self._thread.start()
            self._sender.start()

    def start_if_pending(self) -> None:
        """At start-up: follow jobs a previous server process left waiting for a callback."""
        try:
            if self.store.query(protocols=["ogcapi"], with_subscriber=True, limit=1,
                                statuses=[s for s in JobStatus if s not in FINAL]):
                self.ensure_started()
        except Exception:  # the store is down: the next job with a subscriber starts it
            log.debug("callbacks: pending jobs not looked up", exc_info=True)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._queue.put(("", "", "", b""))

    # -- watching --------------------------------------------------------------------------------

    def _watch(self) -> None:
        since = datetime.now(UTC) - timedelta(seconds=LOOKBACK)
        idle_since = time.monotonic()
        while not self._stop.is_set():
            self._wake.wait(INTERVAL)
            self._wake.clear()
            try:
                now = datetime.now(UTC)
                changed = self.store.query(protocols=["ogcapi"], with_subscriber=True,
                                           updated_after=since - timedelta(seconds=2), limit=500)
                since = now
                for job in changed:
                    self._events(job)
                waiting = self.store.query(protocols=["ogcapi"], with_subscriber=True, limit=1,
                                           statuses=[s for s in JobStatus if s not in FINAL])
            except Exception:  # a store outage: try again next round
                log.warning("callbacks: cannot read the job store", exc_info=True)
                continue
            if waiting or not self._queue.empty():
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since > IDLE_EXIT:
                break
        self._queue.put(("", "", "", b""))

    def _events(self, job: JobRecord) -> None:
        try:
            subscriber = json.loads(job.subscriber or "{}")
        except ValueError:
            return
        events = []
        if job.status in (JobStatus.STARTED, JobStatus.PAUSED) or (job.is_final and job.started is not None):
            events.append(("inProgressUri", "running"))
        if job.status is JobStatus.SUCCEEDED:
            events.append(("successUri", "successful"))
        elif job.status is JobStatus.FAILED:
            events.append(("failedUri", "failed"))
        for key, event in events:
            url = subscriber.get(key)
            if not isinstance(url, str) or not self._claim(job.id, event):
                continue
            full = self.store.get(job.id) or job
            self._queue.put((job.id, event, url, json.dumps(self.documents(full, event)).encode()))

    def _claim(self, job_id: str, event: str) -> bool:
        """Whether this process sends this event (the first to create its marker does)."""
        self.markers.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(self.markers / f"{job_id}.{event}", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return False
        os.close(fd)
        return True

    # -- sending ---------------------------------------------------------------------------------

    def _send_loop(self) -> None:
        while True:
            job_id, event, url, body = self._queue.get()
            if not job_id:
                return
            self.send(job_id, event, url, body)

    def send(self, job_id: str, event: str, url: str, body: bytes) -> bool:
        """POST one callback; failures are logged, never raised."""
        value = InputValue("subscriber", kind="reference", href=url, method="POST",
                           headers=(("Content-Type", "application/json"),), body=body.decode())
        with tempfile.TemporaryDirectory(prefix="pywps-callback-") as tmp:
            try:
                fetch_reference(value, Path(tmp) / "answer", self.policy)
            except NoApplicableCode as exc:
                log.warning("job %s: %s callback to %s failed: %s", job_id, event, url, exc.description)
                return False
            except Exception:  # a callback never breaks the server
                log.warning("job %s: %s callback to %s failed", job_id, event, url, exc_info=True)
                return False
        log.info("job %s: %s callback sent to %s", job_id, event, url)
        return True
