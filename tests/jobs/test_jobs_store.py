"""JobStore behaviour, the same on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa

from pywps.jobs.migrations import SCHEMA_VERSION, current_version, jobs, upgrade
from pywps.jobs.model import FINAL, RUNNING, JobRecord, JobStatus, QueueFull
from pywps.jobs.store import JobStore


def new_job(process: str = "hello", is_async: bool = True) -> JobRecord:
    return JobRecord.new(process, json.dumps({"identifier": process}), is_async, "multiprocessing")


def submit(store: JobStore, n: int = 1, **kw) -> list[JobRecord]:
    out = []
    for _ in range(n):
        job = new_job(**kw)
        store.submit(job)
        out.append(job)
    return out


def test_submit_get_roundtrip(store):
    job = new_job()
    store.submit(job)
    got = store.get(job.id)
    assert got is not None
    assert got.id == job.id and got.process == "hello" and got.request == job.request
    assert got.status is JobStatus.ACCEPTED and got.is_async is True
    assert abs((got.created - job.created).total_seconds()) < 1e-3
    assert got.created.tzinfo is not None
    assert got.owner is None and got.started is None and got.response is None
    assert store.get("00000000-0000-4000-8000-000000000000") is None


def test_queue_order_is_submission_order(store):
    submitted = submit(store, 5)
    claimed = [store.claim_next("a", "multiprocessing", 10) for _ in range(5)]
    assert [c.id for c in claimed] == [j.id for j in submitted]
    assert all(c.status is JobStatus.STARTED and c.owner == "a" for c in claimed)
    assert all(c.started and c.heartbeat for c in claimed)
    assert store.claim_next("a", "multiprocessing", 10) is None


def test_claim_respects_max_running(store):
    submit(store, 3)
    first = store.claim_next("a", "multiprocessing", 2)
    second = store.claim_next("b", "multiprocessing", 2)
    assert first and second
    assert store.claim_next("a", "multiprocessing", 2) is None          # counted across owners
    assert store.transition(first.id, JobStatus.PAUSED)
    assert store.claim_next("a", "multiprocessing", 2) is None          # paused still holds its slot
    assert store.transition(first.id, JobStatus.DISMISSED)
    third = store.claim_next("a", "multiprocessing", 2)
    assert third is not None and store.count(RUNNING) == 2
    assert store.count(JobStatus.ACCEPTED) == 0


def test_claim_skips_dismissed(store):
    a, b = submit(store, 2)
    assert store.transition(a.id, JobStatus.DISMISSED)
    assert store.claim_next("x", "multiprocessing", 5).id == b.id


def test_queue_full(store):
    submit(store, 2)
    store.submit(new_job(), max_queued=3)
    with pytest.raises(QueueFull):
        store.submit(new_job(), max_queued=3)
    assert store.count(JobStatus.ACCEPTED) == 3
    store.claim_next("a", "multiprocessing", 1)
    store.submit(new_job(), max_queued=3)                              # a running job is not queued
    assert store.count([JobStatus.ACCEPTED]) == 3


def test_claim_sync(store):
    assert store.claim_sync(new_job(is_async=False), max_running=2)
    job = new_job(is_async=False)
    job.owner = "srv"
    assert store.claim_sync(job, max_running=2)
    assert job.status is JobStatus.STARTED
    got = store.get(job.id)
    assert got.status is JobStatus.STARTED and got.owner == "srv" and got.started and not got.is_async
    assert not store.claim_sync(new_job(is_async=False), max_running=2)
    assert store.count(RUNNING) == 2
    submit(store, 1)
    assert store.claim_next("srv", "multiprocessing", 2) is None       # sync jobs hold slots too


def test_transitions_apply_only_from_allowed_states(store):
    (job,) = submit(store)
    assert not store.transition(job.id, JobStatus.SUCCEEDED)            # accepted -> succeeded refused
    assert not store.transition(job.id, JobStatus.PAUSED)
    assert store.claim_next("a", "multiprocessing", 1).id == job.id
    assert store.transition(job.id, JobStatus.STARTED, percent=10, message="working")
    assert store.transition(job.id, JobStatus.PAUSED)
    assert store.transition(job.id, JobStatus.STARTED)
    assert store.transition(job.id, JobStatus.SUCCEEDED, message="done", response=b"<final/>")
    got = store.get(job.id)
    assert got.status is JobStatus.SUCCEEDED and got.percent == 100 and got.message == "done"
    assert got.response == b"<final/>" and got.finished is not None
    # final is never overwritten; late or duplicate writes are refused and change nothing
    for status in JobStatus:
        assert not store.transition(job.id, status, message="late", response=b"<late/>")
    again = store.get(job.id)
    assert again.status is JobStatus.SUCCEEDED and again.message == "done" and again.response == b"<final/>"
    assert not store.transition("00000000-0000-4000-8000-000000000000", JobStatus.FAILED)


def test_progress_never_moves_backwards(store):
    (job,) = submit(store)
    store.claim_next("a", "multiprocessing", 1)
    assert store.transition(job.id, JobStatus.STARTED, percent=40, message="forty")
    assert store.transition(job.id, JobStatus.STARTED, percent=20, message="late twenty")
    got = store.get(job.id)
    assert got.percent == 40 and got.message == "late twenty"
    assert store.transition(job.id, JobStatus.STARTED, percent=60)
    assert store.get(job.id).percent == 60
    assert store.transition(job.id, JobStatus.FAILED, message="boom")
    got = store.get(job.id)
    assert got.status is JobStatus.FAILED and got.percent == 60 and got.message == "boom"


def test_requeue_clears_claim(store):
    (job,) = submit(store)
    store.claim_next("a", "multiprocessing", 1)
    store.set_handle(job.id, "1234")
    assert store.transition(job.id, JobStatus.ACCEPTED, message="requeued")
    got = store.get(job.id)
    assert got.status is JobStatus.ACCEPTED and got.owner is None and got.handle is None
    assert got.started is None and got.heartbeat is None
    assert store.claim_next("b", "multiprocessing", 1).owner == "b"


def test_handle_response_owner(store):
    (job,) = submit(store)
    assert store.set_response(job.id, b"<accepted/>")
    assert store.get_response(job.id) == b"<accepted/>"
    store.claim_next("a", "multiprocessing", 1)
    assert store.transition(job.id, JobStatus.STARTED, handle="container-1", owner="b")
    got = store.get(job.id)
    assert got.handle == "container-1" and got.owner == "b"
    assert store.set_handle(job.id, "container-2") and store.get(job.id).handle == "container-2"
    assert not store.set_handle("00000000-0000-4000-8000-000000000000", "x")
    assert store.get_response("00000000-0000-4000-8000-000000000000") is None


def test_list_and_count(store):
    a = submit(store, 2, process="p1")
    b = submit(store, 1, process="p2")
    store.claim_next("srv", "multiprocessing", 5)
    assert [j.id for j in store.list()] == [b[0].id, a[1].id, a[0].id]   # newest first
    assert [j.id for j in store.list(process="p1")] == [a[1].id, a[0].id]
    assert [j.id for j in store.list(status=JobStatus.STARTED)] == [a[0].id]
    assert [j.id for j in store.list(status=["accepted"], limit=1)] == [b[0].id]
    assert [j.id for j in store.list(limit=1, offset=1)] == [a[1].id]
    assert [j.id for j in store.list(owner="srv")] == [a[0].id]
    assert store.count(JobStatus.ACCEPTED) == 2 and store.count(FINAL) == 0
    assert store.count(list(JobStatus)) == 3


def test_heartbeat_running_stale(store):
    a, b, c = submit(store, 3)
    store.claim_next("s1", "multiprocessing", 5)
    store.claim_next("s1", "multiprocessing", 5)
    store.claim_next("s2", "multiprocessing", 5)
    assert [j.id for j in store.running()] == [a.id, b.id, c.id]
    assert [j.id for j in store.running(owner="s1")] == [a.id, b.id]
    time.sleep(0.3)
    assert {j.id for j in store.stale(0.2)} == {a.id, b.id, c.id}
    assert store.heartbeat("s1", [a.id, c.id]) == 1                       # c belongs to s2
    assert {j.id for j in store.stale(0.2)} == {b.id, c.id}
    assert store.heartbeat("s2") == 1
    assert store.heartbeat("s1", []) == 0
    assert [j.id for j in store.stale(0.2)] == [b.id]
    store.transition(b.id, JobStatus.FAILED, message="lost")
    assert store.stale(0.2) == []
    assert store.stale(60) == []


def test_instances_and_adopt(store):
    store.register_instance("i1", "host-a", 100)
    store.register_instance("i2", "host-b", 200)
    store.register_instance("i2", "host-b", 201)                          # re-register replaces
    assert [(i["id"], i["pid"]) for i in store.instances()] == [("i1", 100), ("i2", 201)]
    time.sleep(0.3)
    assert store.beat_instance("i2")
    assert store.dead_instances(0.2) == ["i1"]
    a, b = submit(store, 2)
    store.claim_next("i1", "multiprocessing", 5)
    store.claim_next("i1", "multiprocessing", 5)
    store.transition(b.id, JobStatus.SUCCEEDED)
    assert store.adopt("i1", "i2") == 1                                   # only running jobs move
    assert store.get(a.id).owner == "i2" and store.get(b.id).owner == "i1"
    store.remove_instance("i1")
    assert not store.beat_instance("i1")
    assert store.dead_instances(0.2) == []


def test_delete_older_than(store):
    done, failed, running, queued = submit(store, 4)
    for _ in range(3):
        store.claim_next("s", "multiprocessing", 5)
    store.transition(done.id, JobStatus.SUCCEEDED)
    store.transition(failed.id, JobStatus.FAILED)
    assert store.delete_older_than(timedelta(hours=1)) == []
    time.sleep(0.2)
    assert sorted(store.delete_older_than(timedelta(seconds=0.1))) == sorted([done.id, failed.id])
    assert store.get(done.id) is None and store.get(running.id) is not None
    assert store.delete_older_than(timedelta(0), statuses=[JobStatus.ACCEPTED]) == [queued.id]
    assert store.count(list(JobStatus)) == 1


def test_schema_created_once_and_reopened(store_url):
    s1 = JobStore(store_url)
    s1.submit(new_job())
    s2 = JobStore(store_url)                                              # existing schema is kept
    assert s2.count(JobStatus.ACCEPTED) == 1
    with s2.engine.connect() as conn:
        assert current_version(conn) == SCHEMA_VERSION
    s1.dispose()
    s2.dispose()


def test_upgrade_steps_run_in_order(store):
    calls = []
    first, second = SCHEMA_VERSION + 1, SCHEMA_VERSION + 2

    def step_a(conn):
        calls.append(first)
        conn.execute(sa.text(f"ALTER TABLE {jobs.name} ADD COLUMN extra2 INTEGER"))

    def step_b(conn):
        calls.append(second)
        conn.execute(sa.text(f"UPDATE {jobs.name} SET extra2 = 7"))

    steps = {first: step_a, second: step_b}
    store.submit(new_job())
    with store._write() as conn:
        assert upgrade(conn, steps, latest=second) == SCHEMA_VERSION
    with store._write() as conn:
        assert upgrade(conn, steps, latest=second) == second              # nothing left to do
        assert current_version(conn) == second
        assert conn.execute(sa.text(f"SELECT extra2 FROM {jobs.name}")).scalar() == 7
    assert calls == [first, second]


def test_a_version_1_store_is_upgraded_keeping_its_jobs(tmp_path):
    """A job store written by the first schema gains protocol, outputs and subscriber; its jobs stay."""
    url = f"sqlite:///{tmp_path / 'v1.sqlite'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE pywps_jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id VARCHAR(36) NOT NULL UNIQUE, "
            "process VARCHAR(255) NOT NULL, request TEXT NOT NULL, status VARCHAR(16) NOT NULL, "
            "percent INTEGER NOT NULL, message TEXT NOT NULL, is_async BOOLEAN NOT NULL, created FLOAT NOT NULL, "
            "started FLOAT, finished FLOAT, updated FLOAT NOT NULL, backend VARCHAR(64) NOT NULL, "
            "handle VARCHAR(255), owner VARCHAR(255), heartbeat FLOAT, response BLOB)")
        conn.exec_driver_sql("CREATE TABLE pywps_instances (id VARCHAR(255) PRIMARY KEY, host VARCHAR(255) "
                             "NOT NULL, pid INTEGER NOT NULL, started FLOAT NOT NULL, heartbeat FLOAT NOT NULL)")
        conn.exec_driver_sql("CREATE TABLE pywps_schema_version (version INTEGER NOT NULL)")
        conn.exec_driver_sql("INSERT INTO pywps_schema_version VALUES (1)")
        conn.exec_driver_sql(
            "INSERT INTO pywps_jobs (id, process, request, status, percent, message, is_async, created, "
            "updated, backend) VALUES ('0b6f9d3e-2f57-4d5e-9a43-0c8c1a2f0b99', 'p', '{}', 'succeeded', 100, "
            "'', 1, 1.0, 1.0, 'multiprocessing')")
    engine.dispose()
    upgraded = JobStore(url)
    job = upgraded.get("0b6f9d3e-2f57-4d5e-9a43-0c8c1a2f0b99")
    assert job is not None and job.protocol == "wps1" and job.outputs is None
    fresh = new_job()
    fresh.protocol = "ogcapi"
    upgraded.submit(fresh)
    assert upgraded.get(fresh.id).protocol == "ogcapi"
    upgraded.dispose()


def test_plain_path_and_memory_urls(tmp_path):
    s = JobStore(str(tmp_path / "plain.db"))
    assert s.url.startswith("sqlite:///") and s.dialect == "sqlite"
    s.submit(new_job())
    assert s.count(JobStatus.ACCEPTED) == 1
    s.dispose()
    m = JobStore("sqlite://")
    m.submit(new_job())
    assert m.count([JobStatus.ACCEPTED]) == 1
    m.dispose()


def test_a_finished_job_can_be_discarded_only_explicitly(store):
    job = new_job()
    store.submit(job)
    assert not store.discard(job.id, "too early")                      # queued: not finished
    assert store.claim_next("i1", "multiprocessing", 4).id == job.id
    assert store.transition(job.id, JobStatus.SUCCEEDED)
    assert not store.transition(job.id, JobStatus.DISMISSED)            # a late dismiss never applies
    assert store.discard(job.id, "results discarded by the client", b"<doc/>")
    got = store.get(job.id)
    assert got.status is JobStatus.DISMISSED and got.message == "results discarded by the client"
    assert not store.discard(job.id, "again")
