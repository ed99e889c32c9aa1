"""``/metrics`` in the Prometheus text format and ``/health``, for operators.

Job figures come from the job store, so every server process (gunicorn worker, Apache daemon process) and
host sharing it reports the same numbers: jobs by status and process, the queue, running jobs per backend,
and a histogram of the run time of finished jobs still in the store (jobs removed after ``[jobs]
retention`` leave it, so it can go down: Prometheus treats that as a counter reset).

HTTP requests are counted per process in memory and written, within a second and at every scrape, to
``[server] workdir``/metrics/http-HOST-PID.json; a scrape adds up the files of this host, so the
counters do not depend on which process answers. Files of processes that are gone are folded into one
file per host under a lock, so restarts do not lose counts nor pile up files.

Configuration (``[metrics]``): ``enabled = false`` (off: ``/metrics`` answers 404), ``token =`` (when
set, a scrape must send ``Authorization: Bearer TOKEN``; otherwise 401).
"""

from __future__ import annotations

import fcntl
import hmac
import json
import logging
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from pywps.jobs.migrations import jobs as jobs_table

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
DURATION_BUCKETS = (1.0, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 24 * 3600.0)
STATUSES = ("accepted", "started", "paused", "succeeded", "failed", "dismissed")
OPERATIONS = {"getcapabilities": "GetCapabilities", "describeprocess": "DescribeProcess", "execute": "Execute"}
_FLUSH_EVERY = 1.0
_HOST = socket.gethostname()


def _escape(value: str) -> str:
    return str(value).replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(**labels: Any) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{key}="{_escape(value)}"' for key, value in labels.items()) + "}"


def _number(value: float) -> str:
    if value == int(value):
        return str(int(value))
    return repr(float(value))


class Exposition:
    """Builds one scrape: HELP and TYPE once per family, then its samples."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str) -> None:
        self.lines.append(f"# HELP {name} {help_text}")
        self.lines.append(f"# TYPE {name} {kind}")

    def sample(self, name: str, value: float, **labels: Any) -> None:
        self.lines.append(f"{name}{_labels(**labels)} {_number(value)}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


class HttpCounters:
    """Requests by operation and HTTP status, shared by this host's server processes through small files."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()  # one writer of the file at a time (a request and the timer)
        self._last_flush = 0.0
        self._pid = os.getpid()
        self._timer: threading.Timer | None = None

    @property
    def _own_file(self) -> Path:
        return self.directory / f"http-{_HOST}-{os.getpid()}.json"

    def count(self, operation: str, status: int) -> None:
        with self._lock:
            if self._pid != os.getpid():  # a forked copy starts from zero: the parent's file keeps its counts
                self._counts.clear()
                self._pid = os.getpid()
            self._counts[(operation, str(status))] += 1
            due = time.monotonic() - self._last_flush >= _FLUSH_EVERY
            if not due and (self._timer is None or not self._timer.is_alive()):
                # written a second later even if no other request comes to this process
                self._timer = threading.Timer(_FLUSH_EVERY, self.flush)
                self._timer.daemon = True
                self._timer.start()
        if due:
            self.flush()

    def flush(self) -> None:
        """Write this process's counters (atomically; a failure only delays them)."""
        with self._write_lock:
            with self._lock:
                data = [[op, status, n] for (op, status), n in self._counts.items()]
                self._last_flush = time.monotonic()
            if not data:
                return
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
                tmp = self._own_file.with_suffix(".tmp")
                tmp.write_text(json.dumps(data))
                os.replace(tmp, self._own_file)
            except OSError as exc:
                log.warning("could not write the HTTP request counters to %s: %s", self.directory, exc)

    def totals(self) -> Counter[tuple[str, str]]:
        """Every process's counters on this host (this one's as of now), folding in those of dead ones."""
        self.flush()
        total: Counter[tuple[str, str]] = Counter()
        try:
            self._fold_dead()
            names = sorted(self.directory.glob(f"http-{_HOST}-*.json"))
        except OSError:
            names = []
        for path in names:
            total.update(_read_counts(path))
        return total

    def _fold_dead(self) -> None:
        archive = self.directory / f"http-{_HOST}-archive.json"
        lock_path = self.directory / ".http.lock"
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            dead = []
            for path in self.directory.glob(f"http-{_HOST}-*.json"):
                pid = path.stem.rsplit("-", 1)[-1]
                if pid.isdigit() and not _pid_alive(int(pid)):
                    dead.append(path)
            if not dead:
                return
            merged = _read_counts(archive)
            for path in dead:
                merged.update(_read_counts(path))
            tmp = archive.with_suffix(".tmp")
            tmp.write_text(json.dumps([[op, status, n] for (op, status), n in merged.items()]))
            os.replace(tmp, archive)
            for path in dead:
                path.unlink(missing_ok=True)


def _read_counts(path: Path) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return counts
    for item in data if isinstance(data, list) else []:
        if isinstance(item, list) and len(item) == 3 and isinstance(item[2], int):
            counts[(str(item[0]), str(item[1]))] += item[2]
    return counts


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def operation_of(args: Any, endpoint: str | None, parsed_name: str | None) -> str:
    """The label of a request: the WPS operation, else the endpoint (outputs, health, metrics)."""
    if parsed_name:
        return parsed_name.removesuffix("Request")
    if endpoint in ("wps", "root"):
        for key, value in args.items():
            if key.lower() == "request":
                return OPERATIONS.get(str(value).lower(), "unknown")
        return "unknown"
    return endpoint or "unknown"


def job_metrics(engine: sa.Engine, out: Exposition, buckets: Iterable[float] = DURATION_BUCKETS) -> None:
    """Jobs by status and process, queue length, running per backend, run-time histogram, from the store."""
    table = jobs_table
    with engine.connect() as conn:
        by_status = conn.execute(
            sa.select(table.c.status, table.c.process, sa.func.count()).group_by(table.c.status, table.c.process)
        ).all()
        running = conn.execute(
            sa.select(table.c.backend, sa.func.count()).where(table.c.status.in_(("started", "paused")))
            .group_by(table.c.backend)
        ).all()
        duration = table.c.finished - table.c.started
        bucket_columns = [sa.func.sum(sa.case((duration <= b, 1), else_=0)) for b in buckets]
        histogram = conn.execute(
            sa.select(table.c.process, sa.func.count(), sa.func.coalesce(sa.func.sum(duration), 0.0),
                      *bucket_columns)
            .where(table.c.finished.is_not(None), table.c.started.is_not(None))
            .group_by(table.c.process)
        ).all()
    out.family("pywps_jobs", "gauge", "Jobs in the job store by status and process.")
    queued = 0
    for status, process, count in sorted(by_status):
        out.sample("pywps_jobs", count, status=status, process=process)
        if status == "accepted":
            queued += count
    out.family("pywps_queue_length", "gauge", "Jobs accepted and waiting for a free slot.")
    out.sample("pywps_queue_length", queued)
    out.family("pywps_jobs_running", "gauge", "Jobs holding a processing slot (started or paused) per backend.")
    for backend, count in sorted(running):
        out.sample("pywps_jobs_running", count, backend=backend or "unknown")
    out.family("pywps_job_duration_seconds", "histogram",
               "Run time (start to end) of the finished jobs in the job store, by process.")
    for row in sorted(histogram, key=lambda r: r[0]):
        process, count, total = row[0], row[1], row[2]
        for bound, cumulative in zip(buckets, row[3:], strict=True):
            out.sample("pywps_job_duration_seconds_bucket", cumulative or 0, process=process, le=_number(bound))
        out.sample("pywps_job_duration_seconds_bucket", count, process=process, le="+Inf")
        out.sample("pywps_job_duration_seconds_sum", round(float(total or 0.0), 6), process=process)
        out.sample("pywps_job_duration_seconds_count", count, process=process)


def http_metrics(counters: HttpCounters, out: Exposition) -> None:
    out.family("pywps_http_requests_total", "counter", "HTTP requests answered, by WPS operation and status.")
    for (operation, status), count in sorted(counters.totals().items()):
        out.sample("pywps_http_requests_total", count, operation=operation, status=status)


def authorized(token: str, header: str | None) -> bool:
    """Whether an ``Authorization`` header carries the configured bearer token (constant-time compare)."""
    if not token:
        return True
    scheme, _, given = (header or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def health(store, backend, directories: Iterable[Path]) -> tuple[bool, dict[str, Any]]:
    """Whether the job store answers, the backend can run jobs and the server's directories are writable."""
    report: dict[str, Any] = {}
    ok = True
    try:
        store.count(["accepted"])
        report["store"] = {"status": "ok"}
    except Exception as exc:  # noqa: BLE001 - health reports, never raises
        ok = False
        report["store"] = {"status": "error", "error": type(exc).__name__}
    try:
        backend.check()
        report["backend"] = {"status": "ok", "mode": backend.name}
    except Exception as exc:  # noqa: BLE001
        ok = False
        report["backend"] = {"status": "error", "mode": backend.name, "error": str(exc)[:300]}
    for directory in directories:
        writable = directory.is_dir() and os.access(directory, os.W_OK | os.X_OK)
        report.setdefault("directories", {})[str(directory)] = "ok" if writable else "not writable"
        ok = ok and writable
    report["status"] = "ok" if ok else "error"
    return ok, report


def install(app: Any, config: Any, dispatcher: Any) -> None:
    """Add ``/health`` and ``/metrics`` to the Flask ``app`` and count every request it answers."""
    from flask import Response, g, request

    enabled = config.metrics.enabled
    token = config.metrics.token
    counters = HttpCounters(config.workdir / "metrics")
    app.extensions.setdefault("pywps", {})["http_counters"] = counters

    def count(response: Any) -> Any:
        try:
            counters.count(operation_of(request.args, request.endpoint, g.get("pywps_operation")),
                           response.status_code)
        except Exception:
            log.debug("request not counted", exc_info=True)
        return response

    app.after_request(count)

    def health_view() -> Response:
        ok, report = health(dispatcher.store, dispatcher.backend, (config.workdir, config.outputpath))
        return Response(json.dumps(report) + "\n", status=200 if ok else 503, content_type="application/json")

    def metrics_view() -> Response:
        if not enabled:
            return Response("metrics are off ([metrics] enabled = false)\n", status=404, content_type="text/plain")
        if not authorized(token, request.headers.get("Authorization")):
            return Response("a bearer token is required\n", status=401, content_type="text/plain",
                            headers={"WWW-Authenticate": 'Bearer realm="pywps metrics"'})
        out = Exposition()
        try:
            job_metrics(dispatcher.store.engine, out)
            up = 1
        except Exception as exc:  # noqa: BLE001 - the scrape still reports HTTP counters and pywps_up 0
            log.warning("metrics: the job store could not be read: %s", exc)
            up = 0
        http_metrics(counters, out)
        out.family("pywps_store_up", "gauge", "Whether the job store answered this scrape.")
        out.sample("pywps_store_up", up)
        return Response(out.text(), content_type=CONTENT_TYPE)

    app.add_url_rule("/health", "health", health_view)
    app.add_url_rule("/metrics", "metrics", metrics_view)
