"""Atomicity across OS processes: claims, slots, the queue limit and first-start schema creation."""

from __future__ import annotations

import json
import multiprocessing
import random
import threading
import time
from pathlib import Path

import sqlalchemy as sa

from pywps.jobs.migrations import schema_version
from pywps.jobs.model import RUNNING, JobRecord, JobStatus, QueueFull
from pywps.jobs.store import JobStore

PROCS = 4
CTX = multiprocessing.get_context("fork")


def new_job(is_async: bool = True) -> JobRecord:
    return JobRecord.new("hello", "{}", is_async, "multiprocessing")


def run_all(target, *args) -> None:
    """Run ``target(i, *args)`` in PROCS forked processes at once; all must exit 0."""
    barrier = CTX.Barrier(PROCS)
    procs = [CTX.Process(target=target, args=(i, barrier, *args)) for i in range(PROCS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * PROCS


def _claimer(i: int, barrier, store: JobStore, max_running: int, out: str) -> None:
    # the store was created in the parent: this also exercises the after-fork pool reset
    claimed, peak = [], 0
    barrier.wait()
    idle_since = None
    while True:
        job = store.claim_next(f"owner-{i}", "multiprocessing", max_running)
        if job is None:
            if store.count(JobStatus.ACCEPTED) == 0:
                if idle_since is None:
                    idle_since = time.monotonic()
                if time.monotonic() - idle_since > 0.2:
                    break
            time.sleep(0.001)
            continue
        idle_since = None
        claimed.append(job.id)
        peak = max(peak, store.count(RUNNING))
        time.sleep(random.random() * 0.002)
        assert store.transition(job.id, JobStatus.SUCCEEDED)
    Path(out, f"{i}.json").write_text(json.dumps({"claimed": claimed, "peak": peak}))


def test_claims_are_atomic_across_processes(store, tmp_path):
    total, max_running = PROCS * 50, 3
    ids = []
    for _ in range(total):
        job = new_job()
        store.submit(job)
        ids.append(job.id)
    run_all(_claimer, store, max_running, str(tmp_path))
    results = [json.loads((tmp_path / f"{i}.json").read_text()) for i in range(PROCS)]
    claimed = [job_id for r in results for job_id in r["claimed"]]
    assert len(claimed) == len(set(claimed)) == total               # no job claimed twice, none lost
    assert set(claimed) == set(ids)
    assert max(r["peak"] for r in results) <= max_running
    assert store.count(JobStatus.SUCCEEDED) == total and store.count(RUNNING) == 0


def test_threads_share_one_store(store):
    total, max_running = 120, 2
    for _ in range(total):
        store.submit(new_job())
    claimed: list[str] = []
    peaks: list[int] = []

    def work(owner: str) -> None:
        while store.count(JobStatus.ACCEPTED) or store.count(RUNNING):
            job = store.claim_next(owner, "multiprocessing", max_running)
            if job is None:
                time.sleep(0.001)
                continue
            claimed.append(job.id)
            peaks.append(store.count(RUNNING))
            store.transition(job.id, JobStatus.STARTED, percent=50)
            store.transition(job.id, JobStatus.SUCCEEDED)

    threads = [threading.Thread(target=work, args=(f"t{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(claimed) == len(set(claimed)) == total
    assert max(peaks) <= max_running


def _sync_claimer(i: int, barrier, store: JobStore, max_running: int, out: str) -> None:
    got, busy, peak = 0, 0, 0
    barrier.wait()
    for _ in range(25):
        job = new_job(is_async=False)
        if store.claim_sync(job, max_running):
            got += 1
            peak = max(peak, store.count(RUNNING))
            time.sleep(random.random() * 0.003)
            assert store.transition(job.id, JobStatus.SUCCEEDED)
        else:
            busy += 1
    Path(out, f"{i}.json").write_text(json.dumps({"got": got, "busy": busy, "peak": peak}))


def test_claim_sync_never_exceeds_slots(store, tmp_path):
    run_all(_sync_claimer, store, 2, str(tmp_path))
    results = [json.loads((tmp_path / f"{i}.json").read_text()) for i in range(PROCS)]
    assert max(r["peak"] for r in results) <= 2
    assert sum(r["got"] for r in results) == store.count(JobStatus.SUCCEEDED) > 0
    assert sum(r["got"] + r["busy"] for r in results) == PROCS * 25


def _submitter(i: int, barrier, store: JobStore, max_queued: int, out: str) -> None:
    accepted = full = 0
    barrier.wait()
    for _ in range(30):
        try:
            store.submit(new_job(), max_queued=max_queued)
            accepted += 1
        except QueueFull:
            full += 1
    Path(out, f"{i}.json").write_text(json.dumps({"accepted": accepted, "full": full}))


def test_queue_limit_is_atomic(store, tmp_path):
    run_all(_submitter, store, 50, str(tmp_path))
    results = [json.loads((tmp_path / f"{i}.json").read_text()) for i in range(PROCS)]
    assert sum(r["accepted"] for r in results) == 50 == store.count(JobStatus.ACCEPTED)
    assert sum(r["full"] for r in results) == PROCS * 30 - 50


def _opener(i: int, barrier, url: str) -> None:
    barrier.wait()
    s = JobStore(url)
    s.submit(new_job())
    s.dispose()


def test_concurrent_first_start_creates_schema_once(store_url):
    run_all(_opener, store_url)
    s = JobStore(store_url)
    try:
        assert s.count(JobStatus.ACCEPTED) == PROCS
        with s.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(schema_version)).scalar() == 1
    finally:
        s.dispose()
