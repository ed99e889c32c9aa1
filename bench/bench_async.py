"""Asynchronous Execute under load: N jobs submitted to gunicorn on 127.0.0.1, closed or open loop.

    python bench/bench_async.py --rates 25,50,100            # open loop: this server and PyWPS 4.8.1 side by
                                                              #   side, 1000 jobs per rate, SQLite for both
    python bench/bench_async.py --rates 50 --servers ours    # this server only
    python bench/bench_async.py                              # closed loop (16 clients): this server on SQLite
                                                              #   (+ PostgreSQL if PYWPS_TEST_PG_URL is set)
    python bench/bench_async.py --start-pg                   # closed loop, own throwaway PostgreSQL too

Each job is ``say_hello`` with ``storeExecuteResponse=true&status=true`` (KVP GET). Every server runs
gunicorn with 4 sync workers, ``parallelprocesses = 2`` and ``maxprocesses`` above N, on a fresh SQLite
file (or a fresh PostgreSQL schema); PyWPS 4.8.1 runs from its own venv (bench/pywps481_app.py, the same
example processes, ``[processing] mode = default``, its SQLite ``[logging] database``).

Open loop (``--rates``): submission i is scheduled at ``start + i / rate`` whatever happened before, sent by
a pool of senders large enough never to hold one back on purpose, and its latency is measured from its
scheduled time, so queueing in front of the server is not hidden (no coordinated omission). Closed loop:
``--concurrency`` clients send back to back (latency is then bounded by Little's law).

Reported per server (and rate or database):

* submit latency p50/p99 and the achieved submit rate;
* jobs/s to completion: succeeded jobs / (last end - first scheduled submit);
* lost jobs: accepted but not succeeded at the end (in the job store, and in the status document: served
  by this server, read from ``outputpath`` for PyWPS 4.8.1) - must be 0; the wait for completion stops
  after ``--stall`` seconds without any job ending;
* queue wait and run time p50/p99 (this server's store only), ServerBusy answers and other errors;
* CPU ms per job: user + system time of the whole server (gunicorn, its workers, the fork server and the
  job processes they reaped) over the run, divided by the accepted jobs.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from benchlib import BENCH, ROOT, Gunicorn, machine, percentile, write_cfg

sys.path.insert(0, str(ROOT))

from pywps.jobs.model import FINAL, JobStatus
from pywps.jobs.store import JobStore

QUERY = ("service=WPS&request=Execute&version=1.0.0&identifier=say_hello&DataInputs=name=job{i}"
         "&storeExecuteResponse=true&status=true")
_STATUS_LOCATION = re.compile(rb'statusLocation="([^"]+)"')
_ACCEPTED = (b"ProcessAccepted", b"ProcessStarted", b"ProcessSucceeded")
OURS, BASELINE = "this server", "PyWPS 4.8.1"
PYWPS481_SUCCEEDED, PYWPS481_FAILED = 4, 5   # pywps.response.status.WPS_STATUS in 4.8.1


@dataclass
class Result:
    """What one run of one server measured."""

    server: str
    database: str
    jobs: int
    load: str                  # "closed, 16 clients" or "open, 50/s"
    workers: int
    accepted: int = 0
    server_busy: int = 0
    errors: int = 0
    submit_p50_ms: float = 0.0
    submit_p99_ms: float = 0.0
    submit_max_ms: float = 0.0
    submit_rate: float = 0.0
    completion_s: float = 0.0
    jobs_per_s: float = 0.0
    succeeded: int = 0
    failed: int = 0
    lost: int = 0
    documents_not_succeeded: int = 0
    queued_at_end: int = 0     # lost jobs still waiting in the server's queue when the wait gave up
    queue_wait_p50_s: float | None = None
    queue_wait_p99_s: float | None = None
    run_p50_s: float | None = None
    run_p99_s: float | None = None
    cpu_ms_per_job: float = 0.0
    stalled: bool = False
    error_samples: list[str] = field(default_factory=list)
    started_at: float = 0.0
    locations: list[str] = field(default_factory=list, repr=False)


def _get(url: str, timeout: float = 60) -> tuple[int, bytes]:
    """One GET on a fresh connection (gunicorn's sync workers close it anyway)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("GET", f"{parts.path}?{parts.query}" if parts.query else parts.path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


# -- the servers -----------------------------------------------------------------------------------


class Target:
    """A server under test: started on a fresh database, watched until every job ended, checked."""

    name = ""

    def __init__(self, directory: Path, args: argparse.Namespace, database: str = "sqlite",
                 pg_url: str | None = None) -> None:
        self.directory = directory
        self.args = args
        self.database = database
        self.pg_url = pg_url
        self.server: Gunicorn | None = None

    def start(self) -> Gunicorn:
        raise NotImplementedError

    def final(self) -> int:
        """How many jobs have ended."""
        raise NotImplementedError

    def check(self, result: Result) -> None:
        """Fill in succeeded/failed/lost, timings and the status documents' verdict."""
        raise NotImplementedError

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


class Ours(Target):
    name = OURS

    def start(self) -> Gunicorn:
        self.url, self._drop = _database(self.database, self.pg_url, self.directory)
        server = Gunicorn("ours", sys.executable, "pywps.wsgi:application", self.args.workers, self.directory,
                          pythonpath=str(ROOT), ready_path="/health")
        cfg = write_cfg(self.directory / "pywps.cfg", {
            "server": {"url": server.url, "outputurl": f"{server.base}/outputs/",
                       "outputpath": self.directory / "outputs", "workdir": self.directory / "work",
                       "parallelprocesses": self.args.parallel, "maxprocesses": max(2000, self.args.n + 100)},
            "logging": {"database": self.url, "level": "WARNING"},
            "processing": {"forkserver": self.args.forkserver},
        })
        server.env = {"PYWPS_CFG": str(cfg), "PYTHONPATH": str(ROOT)}
        self.server = server.start()
        self.store = JobStore(self.url)
        return self.server

    def final(self) -> int:
        return self.store.count(list(FINAL))

    def check(self, result: Result) -> None:
        jobs = {j.id: j for j in self.store.list(limit=self.args.n * 2 + 100)}
        ids = [loc.rsplit("/", 1)[1].removesuffix(".xml") for loc in result.locations]
        mine = [jobs.get(i) for i in ids]
        result.succeeded = sum(1 for j in mine if j is not None and j.status is JobStatus.SUCCEEDED)
        result.failed = sum(1 for j in mine if j is not None and j.status is JobStatus.FAILED)
        result.queued_at_end = sum(1 for j in mine if j is not None and j.status is JobStatus.ACCEPTED)
        done = [j for j in mine if j is not None and j.finished is not None]
        if done:
            _completion(result, max(j.finished.timestamp() for j in done))
            waits = [j.started.timestamp() - j.created.timestamp() for j in done if j.started is not None]
            runs = [j.finished.timestamp() - j.started.timestamp() for j in done if j.started is not None]
            result.queue_wait_p50_s, result.queue_wait_p99_s = percentile(waits, 50), percentile(waits, 99)
            result.run_p50_s, result.run_p99_s = percentile(runs, 50), percentile(runs, 99)

        def document(location: str) -> bool:
            try:
                status, body = _get(location)
            except OSError:
                return False
            return status == 200 and b"ProcessSucceeded" in body

        with ThreadPoolExecutor(8) as pool:
            result.documents_not_succeeded = sum(1 for ok in pool.map(document, result.locations) if not ok)

    def stop(self) -> None:
        super().stop()
        if getattr(self, "store", None) is not None:
            self.store.dispose()
        if getattr(self, "_drop", None) is not None:
            self._drop()


class PyWPS481(Target):
    name = BASELINE

    def start(self) -> Gunicorn:
        python = ensure_pywps481(self.args.pywps481_venv)
        server = Gunicorn("pywps481", str(python), "pywps481_app:application", self.args.workers, self.directory,
                          pythonpath=str(BENCH))
        self.db = self.directory / "pywps-logs.sqlite"
        self.outputs = self.directory / "outputs"
        cfg = write_cfg(self.directory / "pywps.cfg", {
            "server": {"url": server.url, "outputurl": f"{server.base}/outputs/", "outputpath": self.outputs,
                       "workdir": self.directory / "work", "parallelprocesses": self.args.parallel,
                       "maxprocesses": max(2000, self.args.n + 100)},
            "processing": {"mode": "default"},
            "logging": {"database": f"sqlite:///{self.db}", "level": "WARNING"},
        })
        self.outputs.mkdir()
        (self.directory / "work").mkdir()
        server.env = {"PYWPS_CFG": str(cfg), "BENCH_EXAMPLES": str(ROOT / "pywps" / "processes" / "examples.py")}
        self.server = server.start()
        return self.server

    def _rows(self) -> list[tuple[str, int, str]]:
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)
        try:
            return conn.execute("SELECT uuid, status, time_end FROM pywps_requests "
                                "WHERE operation = 'execute'").fetchall()
        finally:
            conn.close()

    def final(self) -> int:
        return sum(1 for _, status, _ in self._rows() if status in (PYWPS481_SUCCEEDED, PYWPS481_FAILED))

    def check(self, result: Result) -> None:
        rows = {uuid: (status, end) for uuid, status, end in self._rows()}
        ids = [loc.rsplit("/", 1)[1].removesuffix(".xml") for loc in result.locations]
        mine = [rows.get(i) for i in ids]
        result.succeeded = sum(1 for r in mine if r is not None and r[0] == PYWPS481_SUCCEEDED)
        result.failed = sum(1 for r in mine if r is not None and r[0] == PYWPS481_FAILED)
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)
        try:  # PyWPS 4.8.1 starts a stored request only when one of its running jobs ends
            stored = {row[0] for row in conn.execute("SELECT uuid FROM pywps_stored_requests")}
        finally:
            conn.close()
        result.queued_at_end = sum(1 for i in ids if i in stored)
        ends = [datetime.fromisoformat(r[1]).timestamp() for r in mine
                if r is not None and r[0] in (PYWPS481_SUCCEEDED, PYWPS481_FAILED) and r[1]]
        if ends:
            _completion(result, max(ends))
        # PyWPS 4.8.1's Service does not serve outputpath: its status documents are read as files

        def document(job: str) -> bool:
            try:
                return b"ProcessSucceeded" in (self.outputs / f"{job}.xml").read_bytes()
            except OSError:
                return False

        result.documents_not_succeeded = sum(1 for i in ids if not document(i))


def _completion(result: Result, last_end: float) -> None:
    result.completion_s = last_end - result.started_at
    result.jobs_per_s = result.succeeded / result.completion_s if result.completion_s > 0 else 0.0


def ensure_pywps481(venv: Path) -> Path:
    """The PyWPS 4.8.1 virtualenv's python (created by bench_ops.py's helper when missing)."""
    sys.path.insert(0, str(BENCH))
    from bench_ops import ensure_venv

    return ensure_venv(venv)


def _database(kind: str, pg_url: str | None, directory: Path) -> tuple[str, object]:
    """A URL to an empty job database and a cleanup callable."""
    if kind == "sqlite":
        return f"sqlite:///{directory / 'jobs.sqlite'}", lambda: None
    import sqlalchemy as sa

    base = sa.make_url(pg_url)
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, poolclass=sa.pool.NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")

    def drop() -> None:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()

    url = base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    return url, drop


# -- load ------------------------------------------------------------------------------------------


class Submissions:
    """Collects what the submitting clients saw."""

    def __init__(self, result: Result) -> None:
        self.result = result
        self.latencies: list[float] = []
        self.lock = threading.Lock()

    def send(self, base_url: str, i: int, since: float) -> None:
        """Submit job ``i``; its latency is counted from ``since`` (perf_counter)."""
        try:
            status, body = _get(f"{base_url}?{QUERY.format(i=i)}")
        except OSError as exc:
            status, body = 0, repr(exc).encode()
        elapsed = (time.perf_counter() - since) * 1000
        match = _STATUS_LOCATION.search(body)
        result = self.result
        with self.lock:
            self.latencies.append(elapsed)
            if status == 200 and match and any(m in body for m in _ACCEPTED):
                result.locations.append(match.group(1).decode())
            elif b"ServerBusy" in body:
                result.server_busy += 1
            else:
                result.errors += 1
                if len(result.error_samples) < 5:
                    result.error_samples.append(f"{status}: {body[:500].decode(errors='replace')}")

    def summarise(self, seconds: float) -> None:
        result = self.result
        result.accepted = len(result.locations)
        result.submit_p50_ms = percentile(self.latencies, 50)
        result.submit_p99_ms = percentile(self.latencies, 99)
        result.submit_max_ms = max(self.latencies, default=0.0)
        result.submit_rate = result.accepted / seconds if seconds > 0 else 0.0


def closed_loop(url: str, n: int, concurrency: int, sink: Submissions) -> float:
    """``concurrency`` clients, each sending its next request as soon as the last one was answered."""
    start = time.perf_counter()
    sink.result.started_at = time.time()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(lambda i: sink.send(url, i, time.perf_counter()), range(n)))
    return time.perf_counter() - start


def open_loop(url: str, n: int, rate: float, senders: int, sink: Submissions) -> float:
    """Submission i at ``start + i / rate``, latency from that moment; ``senders`` threads take the next
    scheduled submission as soon as they are free (if all are busy, the wait is part of the latency)."""
    counter = iter(range(n))
    lock = threading.Lock()
    start = time.perf_counter() + 0.2
    sink.result.started_at = time.time() + 0.2

    def sender() -> None:
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            sink.send(url, i, due)

    threads = [threading.Thread(target=sender, daemon=True) for _ in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start


def warm_up(target: Target, server: Gunicorn, jobs: int) -> int:
    """A few jobs before the measurement (first requests of each worker, its fork server starting);
    returns how many jobs have ended once they are done."""
    if jobs <= 0:
        return target.final()
    sink = Submissions(Result(target.name, target.database, jobs, "warm-up", 0))
    closed_loop(server.url, jobs, 4, sink)
    deadline = time.monotonic() + 120
    while target.final() < len(sink.result.locations) and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    return target.final()


def wait_for_jobs(target: Target, result: Result, stall: float, timeout: float, before: int = 0) -> None:
    """Until every accepted job ended, or nothing ended for ``stall`` seconds (those jobs are lost)."""
    deadline = time.monotonic() + timeout
    last_change, last_final, last_print = time.monotonic(), -1, 0.0
    while True:
        final = target.final() - before
        now = time.monotonic()
        if final >= result.accepted:
            return
        if final != last_final:
            last_final, last_change = final, now
        if now - last_change > stall or now > deadline:
            result.stalled = True
            print(f"  {target.name}: gave up waiting with {final}/{result.accepted} jobs ended "
                  f"(none ended for {now - last_change:.0f} s)", file=sys.stderr)
            return
        if now - last_print > 10:
            last_print = now
            print(f"  {target.name}: {final}/{result.accepted} ended", file=sys.stderr)
        time.sleep(0.2)


def run(target: Target, load: str, args: argparse.Namespace, rate: float | None) -> Result:
    """Start the server on a fresh database, submit, wait for every job, check, stop."""
    result = Result(target.name, target.database, args.n, load, args.workers)
    try:
        server = target.start()
        before = warm_up(target, server, args.warmup)
        cpu0 = server.cpu_seconds()
        sink = Submissions(result)
        if rate is None:
            seconds = closed_loop(server.url, args.n, args.concurrency, sink)
        else:
            seconds = open_loop(server.url, args.n, rate, args.senders, sink)
        sink.summarise(seconds)
        print(f"  {target.name} ({load}): {result.accepted} accepted in {seconds:.1f} s, p99 "
              f"{result.submit_p99_ms:.1f} ms, busy {result.server_busy}, errors {result.errors}", file=sys.stderr)
        wait_for_jobs(target, result, args.stall, args.timeout, before)
        time.sleep(0.5)  # the last job processes are reaped
        result.cpu_ms_per_job = (server.cpu_seconds() - cpu0) * 1000 / max(1, result.accepted)
        target.check(result)
        result.lost = result.accepted - result.succeeded
    finally:
        target.stop()
        if not args.keep:
            shutil.rmtree(target.directory, ignore_errors=True)
    return result


# -- main ------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=1000, help="jobs to submit per run")
    parser.add_argument("--rates", help="open loop: submissions per second, comma separated (e.g. 25,50,100); "
                                        "this server and PyWPS 4.8.1 side by side on SQLite")
    parser.add_argument("--servers", default="ours,pywps481", help="open loop: which of ours,pywps481 to run")
    parser.add_argument("--senders", type=int, default=256, help="open loop: sender threads")
    parser.add_argument("--concurrency", type=int, default=16, help="closed loop: concurrent clients")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--parallel", type=int, default=2, help="[server] parallelprocesses")
    parser.add_argument("--forkserver", choices=["true", "false"], default="true",
                        help="this server's [processing] forkserver")
    parser.add_argument("--pg", default=os.environ.get("PYWPS_TEST_PG_URL"),
                        help="closed loop: PostgreSQL SQLAlchemy URL (default: $PYWPS_TEST_PG_URL)")
    parser.add_argument("--start-pg", action="store_true",
                        help="closed loop: start a throwaway PostgreSQL with .ci/postgres.sh, stop it at the end")
    parser.add_argument("--databases", default="sqlite,postgresql", help="closed loop: sqlite,postgresql")
    parser.add_argument("--warmup", type=int, default=16, help="jobs run (and not counted) before the measurement")
    parser.add_argument("--stall", type=float, default=60, help="give up when no job ended for this long (s)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for every job to end")
    parser.add_argument("--pywps481-venv", type=Path, default=Path("/tmp/pywps481-venv"))
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--keep", action="store_true", help="keep the temp directories (server logs, job dirs)")
    args = parser.parse_args(argv)

    print(f"machine: {machine()}", file=sys.stderr)
    if args.rates:
        results = _open(args)
    else:
        results = _closed(args)
    print(f"load average after the run: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", file=sys.stderr)
    _table(results)
    bad = False
    for r in results:
        if r.server == OURS and (r.lost or r.documents_not_succeeded or r.stalled or r.errors):
            bad = True
        if r.lost or r.documents_not_succeeded or r.stalled or r.errors:
            print(f"\n{r.server} ({r.load}): lost {r.lost} (failed {r.failed}, still queued {r.queued_at_end}), "
                  f"documents not ProcessSucceeded {r.documents_not_succeeded}, errors {r.errors}, "
                  f"stalled {r.stalled}")
            for sample in r.error_samples:
                print(f"  {sample}")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "results": [
            {k: v for k, v in asdict(r).items() if k != "locations"} for r in results]}, indent=2))
    return 1 if bad else 0


def _open(args: argparse.Namespace) -> list[Result]:
    rates = [float(r) for r in args.rates.split(",") if r]
    kinds = [k for k in args.servers.split(",") if k]
    print(f"open loop: {args.n} jobs per run at {', '.join(f'{r:g}/s' for r in rates)}, {args.senders} senders, "
          f"gunicorn {args.workers} workers, parallelprocesses {args.parallel}, SQLite", file=sys.stderr)
    results = []
    for number, rate in enumerate(rates):
        order = kinds if number % 2 == 0 else list(reversed(kinds))   # alternate who goes first
        for kind in order:
            cls = Ours if kind == "ours" else PyWPS481
            directory = Path(tempfile.mkdtemp(prefix=f"bench-async-{kind}-"))
            results.append(run(cls(directory, args), f"open, {rate:g}/s", args, rate))
    return results


def _closed(args: argparse.Namespace) -> list[Result]:
    kinds = [k for k in args.databases.split(",") if k]
    pg_dir = None
    if args.start_pg and "postgresql" in kinds:
        pg_dir = tempfile.mkdtemp(prefix="bench-pg-")
        args.pg = _postgres("start", pg_dir).strip().splitlines()[-1]
    try:
        if "postgresql" in kinds and not args.pg:
            print("no PostgreSQL URL (--pg or PYWPS_TEST_PG_URL): skipping postgresql", file=sys.stderr)
            kinds.remove("postgresql")
        print(f"closed loop: {args.n} jobs, {args.concurrency} clients, gunicorn {args.workers} workers, "
              f"parallelprocesses {args.parallel}", file=sys.stderr)
        results = []
        for kind in kinds:
            directory = Path(tempfile.mkdtemp(prefix=f"bench-async-{kind}-"))
            results.append(run(Ours(directory, args, kind, args.pg), f"closed, {args.concurrency} clients",
                               args, None))
        return results
    finally:
        if pg_dir:
            _postgres("stop", pg_dir)


def _postgres(action: str, directory: str) -> str:
    """Run ``.ci/postgres.sh ACTION`` with its cluster in ``directory``; its stdout."""
    env = {**os.environ, "PYWPS_PG_DIR": directory}
    return subprocess.run([str(ROOT / ".ci" / "postgres.sh"), action], env=env, check=True,
                          capture_output=True, text=True).stdout


def _table(results: list[Result]) -> None:
    def seconds(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.2f}"

    print("| server | load | database | accepted | ServerBusy | errors | submit p50 ms | submit p99 ms | "
          "submit max ms | submits/s | jobs/s to completion | all done after s | queue wait p50/p99 s | "
          "run p50/p99 s | CPU ms/job | lost |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r.server} | {r.load} | {r.database} | {r.accepted}/{r.jobs} | {r.server_busy} | {r.errors} | "
              f"{r.submit_p50_ms:.1f} | {r.submit_p99_ms:.1f} | {r.submit_max_ms:.0f} | {r.submit_rate:.1f} | "
              f"{r.jobs_per_s:.1f} | {r.completion_s:.1f} | "
              f"{seconds(r.queue_wait_p50_s)}/{seconds(r.queue_wait_p99_s)} | "
              f"{seconds(r.run_p50_s)}/{seconds(r.run_p99_s)} | {r.cpu_ms_per_job:.1f} | "
              f"{r.lost}{' (stalled)' if r.stalled else ''} |")


if __name__ == "__main__":
    sys.exit(main())
