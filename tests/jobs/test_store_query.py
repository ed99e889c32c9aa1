"""JobStore.query / query_count / status_counts: the filters behind OGC API /jobs and the operator page."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from pywps.jobs.model import JobRecord, JobStatus
from pywps.jobs.store import JobStore


def _job(store: JobStore, process: str, protocol: str = "ogcapi", subscriber: str | None = None) -> JobRecord:
    job = JobRecord.new(process, "{}", True, "multiprocessing")
    job.protocol, job.subscriber = protocol, subscriber
    store.submit(job)
    return job


def test_filters(tmp_path):
    store = JobStore(f"sqlite:///{tmp_path / 'jobs.sqlite'}")
    a = _job(store, "a")
    b = _job(store, "b", protocol="wps1")
    c = _job(store, "a", subscriber='{"successUri": "http://x"}')
    assert [j.id for j in store.query()] == [c.id, b.id, a.id]
    assert [j.id for j in store.query(processes=["a"])] == [c.id, a.id]
    assert [j.id for j in store.query(protocols=["wps1"])] == [b.id]
    assert [j.id for j in store.query(with_subscriber=True)] == [c.id]
    assert [j.id for j in store.query(limit=1, offset=1)] == [b.id]
    assert store.query_count(processes=["a"]) == 2
    # durations: only jobs that started; a running job counts until now
    assert store.claim_next("me", "multiprocessing", 5).id == a.id
    store.transition(a.id, JobStatus.SUCCEEDED)
    assert [j.id for j in store.query(min_duration=0)] == [a.id]
    assert store.query(min_duration=60) == []
    assert [j.id for j in store.query(max_duration=60)] == [a.id]
    assert [j.id for j in store.query(statuses=[JobStatus.SUCCEEDED])] == [a.id]
    assert store.status_counts() == {"accepted": 2, "succeeded": 1}
    now = datetime.now(UTC)
    assert store.query_count(created_after=now + timedelta(seconds=5)) == 0
    assert store.query_count(created_before=now + timedelta(seconds=5)) == 3
    moment = datetime.now(UTC)
    time.sleep(0.01)
    store.transition(c.id, JobStatus.DISMISSED)
    assert [j.id for j in store.query(updated_after=moment)] == [c.id]
