"""Asynchronous Execute under load: N jobs submitted by concurrent clients to gunicorn on 127.0.0.1.

    python bench/bench_async.py                              # 1000 jobs, SQLite (+ PostgreSQL if
                                                             #   PYWPS_TEST_PG_URL is set)
    python bench/bench_async.py -n 200 --pg "$(.ci/postgres.sh start | tail -n 1)"
    python bench/bench_async.py --start-pg                   # own throwaway PostgreSQL (.ci/postgres.sh)
    python bench/bench_async.py --databases sqlite --concurrency 32 --json /tmp/async.json

Each job is ``say_hello`` with ``storeExecuteResponse=true&status=true`` (KVP GET). The server runs
gunicorn with 4 sync workers, ``parallelprocesses = 2`` and ``maxprocesses`` above N, on a fresh SQLite
file or a fresh PostgreSQL schema. Reported per database:

* submit latency p50/p99 and submit rate (accepted jobs/s while submitting);
* jobs/s to completion: succeeded jobs / (last ``finished`` in the store - first submit);
* queue wait (started - created) and run time (finished - started) p50/p99, from the store;
* lost jobs: accepted but not ProcessSucceeded at the end, in the store or in the statusLocation document
  (every document is fetched once everything is final) - must be 0;
* ServerBusy answers and other errors.

Completion is watched by counting final jobs in the store (cheaper than polling every statusLocation,
which would load the server under test).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from benchlib import ROOT, Gunicorn, machine, percentile, write_cfg

sys.path.insert(0, str(ROOT))

from pywps.jobs.model import FINAL, JobStatus
from pywps.jobs.store import JobStore

QUERY = ("service=WPS&request=Execute&version=1.0.0&identifier=say_hello&DataInputs=name=job{i}"
         "&storeExecuteResponse=true&status=true")
_STATUS_LOCATION = re.compile(rb'statusLocation="([^"]+)"')
_ACCEPTED = (b"ProcessAccepted", b"ProcessStarted", b"ProcessSucceeded")


@dataclass
class Result:
    """What one run on one database measured."""

    database: str
    jobs: int
    concurrency: int
    workers: int
    accepted: int = 0
    server_busy: int = 0
    errors: int = 0
    submit_p50_ms: float = 0.0
    submit_p99_ms: float = 0.0
    submit_rate: float = 0.0
    completion_s: float = 0.0
    jobs_per_s: float = 0.0
    succeeded: int = 0
    failed: int = 0
    lost: int = 0
    documents_not_succeeded: int = 0
    queue_wait_p50_s: float = 0.0
    queue_wait_p99_s: float = 0.0
    run_p50_s: float = 0.0
    run_p99_s: float = 0.0
    timed_out: bool = False
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


def run(kind: str, args: argparse.Namespace, pg_url: str | None) -> Result:
    """Start a server on a fresh database, submit, wait for every job, check, stop."""
    directory = Path(tempfile.mkdtemp(prefix=f"bench-async-{kind}-"))
    url, drop = _database(kind, pg_url, directory)
    result = Result(kind, args.n, args.concurrency, args.workers)
    server = Gunicorn("ours", sys.executable, "pywps.wsgi:application", args.workers, directory,
                      pythonpath=str(ROOT), ready_path="/health")
    cfg = write_cfg(directory / "pywps.cfg", {
        "server": {"url": server.url, "outputurl": f"{server.base}/outputs/", "outputpath": directory / "outputs",
                   "workdir": directory / "work", "parallelprocesses": args.parallel,
                   "maxprocesses": max(2000, args.n + 100)},
        "logging": {"database": url, "level": "WARNING"},
    })
    server.env = {"PYWPS_CFG": str(cfg), "PYTHONPATH": str(ROOT)}
    store = None
    try:
        server.start()
        store = JobStore(url)
        _submit(server, args, result)
        _wait(store, args, result)
        _check(store, args, result)
    finally:
        server.stop()
        if store is not None:
            store.dispose()
        drop()
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)
    return result


def _submit(server: Gunicorn, args: argparse.Namespace, result: Result) -> None:
    latencies: list[float] = []
    locations: list[str] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        start = time.perf_counter()
        try:
            status, body = _get(f"{server.url}?{QUERY.format(i=i)}")
        except OSError as exc:
            status, body = 0, repr(exc).encode()
        elapsed = (time.perf_counter() - start) * 1000
        match = _STATUS_LOCATION.search(body)
        with lock:
            latencies.append(elapsed)
            if status == 200 and match and any(m in body for m in _ACCEPTED):
                locations.append(match.group(1).decode())
            elif b"ServerBusy" in body:
                result.server_busy += 1
            else:
                result.errors += 1
                if len(result.error_samples) < 5:
                    result.error_samples.append(f"{status}: {body[:500].decode(errors='replace')}")

    result.started_at = time.time()
    with ThreadPoolExecutor(args.concurrency) as pool:
        list(pool.map(one, range(args.n)))
    submit_s = time.time() - result.started_at
    result.accepted = len(locations)
    result.locations = locations
    result.submit_p50_ms = percentile(latencies, 50)
    result.submit_p99_ms = percentile(latencies, 99)
    result.submit_rate = result.accepted / submit_s
    print(f"  {result.database}: {result.accepted} accepted in {submit_s:.1f} s, busy {result.server_busy}, "
          f"errors {result.errors}", file=sys.stderr)


def _wait(store: JobStore, args: argparse.Namespace, result: Result) -> None:
    deadline = time.monotonic() + args.timeout
    last_print = 0.0
    while True:
        final = store.count(list(FINAL))
        if final >= result.accepted:
            return
        if time.monotonic() > deadline:
            result.timed_out = True
            print(f"  {result.database}: timed out with {final}/{result.accepted} final", file=sys.stderr)
            return
        if time.monotonic() - last_print > 10:
            last_print = time.monotonic()
            print(f"  {result.database}: {final}/{result.accepted} final", file=sys.stderr)
        time.sleep(0.2)


def _check(store: JobStore, args: argparse.Namespace, result: Result) -> None:
    jobs = {j.id: j for j in store.list(limit=args.n * 2 + 100)}
    locations = result.locations
    ids = [loc.rsplit("/", 1)[1].removesuffix(".xml") for loc in locations]
    mine = [jobs.get(i) for i in ids]
    result.succeeded = sum(1 for j in mine if j is not None and j.status is JobStatus.SUCCEEDED)
    result.failed = sum(1 for j in mine if j is not None and j.status is JobStatus.FAILED)
    result.lost = result.accepted - result.succeeded
    done = [j for j in mine if j is not None and j.finished is not None]
    if done:
        last = max(j.finished.timestamp() for j in done)
        result.completion_s = last - result.started_at
        result.jobs_per_s = result.succeeded / result.completion_s
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

    with ThreadPoolExecutor(args.concurrency) as pool:
        result.documents_not_succeeded = sum(1 for ok in pool.map(document, locations) if not ok)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=1000, help="jobs to submit")
    parser.add_argument("--concurrency", type=int, default=16, help="concurrent submitting clients")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--parallel", type=int, default=2, help="[server] parallelprocesses")
    parser.add_argument("--pg", default=os.environ.get("PYWPS_TEST_PG_URL"),
                        help="PostgreSQL SQLAlchemy URL (default: $PYWPS_TEST_PG_URL)")
    parser.add_argument("--start-pg", action="store_true",
                        help="start a throwaway PostgreSQL with .ci/postgres.sh in a temp dir, stop it at the end")
    parser.add_argument("--databases", default="sqlite,postgresql", help="which of sqlite,postgresql to run")
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for every job to end")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--keep", action="store_true", help="keep the temp directories (server logs, job dirs)")
    args = parser.parse_args(argv)

    kinds = [k for k in args.databases.split(",") if k]
    pg_dir = None
    if args.start_pg and "postgresql" in kinds:
        pg_dir = tempfile.mkdtemp(prefix="bench-pg-")
        args.pg = _postgres("start", pg_dir).strip().splitlines()[-1]
    try:
        return _main(args, kinds)
    finally:
        if pg_dir:
            _postgres("stop", pg_dir)


def _postgres(action: str, directory: str) -> str:
    """Run ``.ci/postgres.sh ACTION`` with its cluster in ``directory``; its stdout."""
    env = {**os.environ, "PYWPS_PG_DIR": directory}
    return subprocess.run([str(ROOT / ".ci" / "postgres.sh"), action], env=env, check=True,
                          capture_output=True, text=True).stdout


def _main(args: argparse.Namespace, kinds: list[str]) -> int:
    if "postgresql" in kinds and not args.pg:
        print("no PostgreSQL URL (--pg or PYWPS_TEST_PG_URL): skipping postgresql", file=sys.stderr)
        kinds.remove("postgresql")
    print(f"machine: {machine()}", file=sys.stderr)
    print(f"{args.n} jobs, {args.concurrency} clients, gunicorn {args.workers} workers, "
          f"parallelprocesses {args.parallel}", file=sys.stderr)
    results = [run(kind, args, args.pg) for kind in kinds]
    print(f"load average after the run: {' '.join(f'{x:.2f}' for x in os.getloadavg())}", file=sys.stderr)

    print("| database | accepted | ServerBusy | errors | submit p50 ms | submit p99 ms | submits/s | "
          "jobs/s to completion | all done after s | queue wait p50/p99 s | run p50/p99 s | lost |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r.database} | {r.accepted}/{r.jobs} | {r.server_busy} | {r.errors} | {r.submit_p50_ms:.1f} | "
              f"{r.submit_p99_ms:.1f} | {r.submit_rate:.1f} | {r.jobs_per_s:.1f} | {r.completion_s:.1f} | "
              f"{r.queue_wait_p50_s:.1f}/{r.queue_wait_p99_s:.1f} | {r.run_p50_s:.2f}/{r.run_p99_s:.2f} | "
              f"{r.lost} |")
    bad = False
    for r in results:
        if r.lost or r.documents_not_succeeded or r.timed_out or r.errors:
            bad = True
            print(f"\n{r.database}: lost {r.lost} (failed {r.failed}), documents not ProcessSucceeded "
                  f"{r.documents_not_succeeded}, errors {r.errors}, timed out {r.timed_out}")
            for sample in r.error_samples:
                print(f"  {sample}")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "results": [
            {k: v for k, v in asdict(r).items() if k != "locations"} for r in results]}, indent=2))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
