"""Job store load test: submit/get latency under N processes, each with a dispatcher-like thread.

    python bench/bench_store.py --url sqlite:////tmp/bench.db --procs 4 --n 500
    python bench/bench_store.py --url "$(.ci/postgres.sh url)" --procs 4 --n 500

Each process stands for a gunicorn worker: its main thread submits jobs (and reads one back, as a
statusLocation poll would), while a background thread claims queued jobs, reports progress,
heartbeats and finishes them, as the dispatcher does. Prints latency percentiles in milliseconds.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import statistics
import threading
import time
import uuid

from pywps.jobs.model import JobRecord, JobStatus
from pywps.jobs.store import JobStore

log = logging.getLogger(__name__)


def _dispatcher(store: JobStore, owner: str, stop: threading.Event, parallel: int, interval: float) -> None:
    """Claim, progress, heartbeat and finish jobs every ``interval`` s, like the dispatcher thread."""
    response = b"<wps:ExecuteResponse>" + b"x" * 2000 + b"</wps:ExecuteResponse>"
    while not stop.is_set():
        while store.claim_next(owner, "bench", parallel) is not None:
            pass
        running = store.running(owner=owner)
        store.heartbeat(owner, [j.id for j in running])
        for job in running:
            age = time.time() - job.started.timestamp()
            if age > 0.5:
                store.transition(job.id, JobStatus.SUCCEEDED, response=response)
            else:
                store.transition(job.id, JobStatus.STARTED, percent=int(age * 1000), message="working")
        stop.wait(interval)


def _worker(url: str, n: int, parallel: int, interval: float, queue) -> None:
    """One server process: submit ``n`` jobs while a dispatcher thread works the queue."""
    store = JobStore(url)
    owner = f"bench-{uuid.uuid4().hex[:8]}"
    store.register_instance(owner, "localhost", 0)
    stop = threading.Event()
    thread = threading.Thread(target=_dispatcher, args=(store, owner, stop, parallel, interval), daemon=True)
    thread.start()
    submit_ms, get_ms = [], []
    request = json.dumps({"identifier": "bench", "inputs": [{"identifier": "x", "data": "1" * 500}]})
    for _ in range(n):
        job = JobRecord.new("bench", request, True, "bench")
        t0 = time.perf_counter()
        store.submit(job, max_queued=100_000)
        t1 = time.perf_counter()
        store.get(job.id)
        t2 = time.perf_counter()
        submit_ms.append((t1 - t0) * 1000)
        get_ms.append((t2 - t1) * 1000)
        time.sleep(0.002)
    stop.set()
    thread.join()
    store.remove_instance(owner)
    store.dispose()
    queue.put((submit_ms, get_ms))


def _pct(values: list[float], p: float) -> float:
    """The p-th percentile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    """Run the load test and print the percentiles."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="sqlite:////tmp/pywps-bench-store.db")
    parser.add_argument("--procs", type=int, default=4)
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--interval", type=float, default=0.25, help="dispatcher poll interval (s)")
    args = parser.parse_args()
    JobStore(args.url).dispose()                            # create the schema once
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    work = (args.url, args.n, args.parallel, args.interval, queue)
    procs = [ctx.Process(target=_worker, args=work) for _ in range(args.procs)]
    t0 = time.perf_counter()
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    wall = time.perf_counter() - t0
    for name, idx in (("submit", 0), ("get", 1)):
        values = [v for r in results for v in r[idx]]
        print(f"{name:6s} n={len(values)} mean={statistics.fmean(values):.2f} p50={_pct(values, 50):.2f} "
              f"p95={_pct(values, 95):.2f} p99={_pct(values, 99):.2f} max={max(values):.2f} ms")
    print(f"wall {wall:.1f}s, {args.procs * args.n / wall:.0f} submits/s")


if __name__ == "__main__":
    main()
