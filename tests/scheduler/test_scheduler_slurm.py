"""The scheduler backend against a real single-node Slurm, running the real worker on real job directories."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from schedjobs import start

from pywps.backends.base import RunnerState, RunnerStatus
from pywps.backends.scheduler import BATCH_LOG, BATCH_SCRIPT, Scheduler
from pywps.exceptions import OptionNotSupported
from pywps.requestmodel import OutputRequest

pytestmark = pytest.mark.slurm


def wait_for(predicate: Callable[[], Any], timeout: float, interval: float = 0.1) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout} s")


def ended(status: RunnerStatus) -> bool:
    return status.state in (RunnerState.EXITED, RunnerState.LOST)


def squeue_state(batch_id: str) -> str:
    out = subprocess.run(["squeue", "-h", "-t", "all", "-j", batch_id, "-o", "%T"],
                         capture_output=True, text=True, timeout=30)
    return out.stdout.strip()


def test_job_succeeds_with_outputs(make_backend, make_job):
    backend = make_backend()
    jobdir = make_job("Greeter", "greeter", {"name": "Slurm"},
                      outputs=(OutputRequest("greeting"), OutputRequest("report", as_reference=True)))
    handle = start(backend, jobdir)
    kind, batch_id, path = Scheduler.parse_handle(handle)
    assert kind == "slurm" and batch_id.isdigit() and path.path == jobdir.path.resolve()
    script = (jobdir.indir / BATCH_SCRIPT).read_text()
    assert "-m pywps.worker" in script and str(jobdir.path.resolve()) in script

    status = backend.wait(handle, timeout=120)

    assert status.state == RunnerState.EXITED and status.exit_code == 0, status
    assert status.message == ""
    result = jobdir.read_result()
    assert result is not None and result["exception"] is None, result
    outputs = {o["identifier"]: o for o in result["outputs"]}
    assert outputs["greeting"]["value"] == "Hello Slurm"
    report = outputs["report"]
    assert report["file"], report
    assert (jobdir.files_dir / report["file"]).read_text() == "report for Slurm\n"
    assert jobdir.read_status()["status"] == "succeeded"
    assert (jobdir.outdir / BATCH_LOG).exists()          # -o: the log is in the job directory
    assert squeue_state(batch_id) == "COMPLETED"
    backend.cleanup(handle)
    assert not (jobdir.indir / BATCH_SCRIPT).exists()
    backend.cleanup(handle)                                # idempotent


def test_failing_process_fails_with_its_message(make_backend, make_job):
    backend = make_backend()
    jobdir = make_job("Failing", "failing")
    handle = start(backend, jobdir)
    status = backend.wait(handle, timeout=120)
    assert status.state == RunnerState.EXITED
    assert status.exit_code == 1, status
    _, batch_id, _ = Scheduler.parse_handle(handle)
    assert f"the batch job {batch_id} failed with exit code 1" in status.message
    result = jobdir.read_result()
    assert result["outputs"] == []
    assert "the river is frozen" in result["exception"]["text"]
    assert jobdir.read_status()["status"] == "failed"


def test_cancel_kills_a_running_job(make_backend, make_job):
    backend = make_backend()
    jobdir = make_job("Sleeper", "sleeper", {"delay": "300"})
    handle = start(backend, jobdir)
    wait_for(lambda: backend.poll(handle).state == RunnerState.RUNNING, 60)
    status = wait_for(lambda: jobdir.read_status(), 60)
    pid = status["pid"]
    assert Path(f"/proc/{pid}").exists()

    backend.cancel(handle)
    final = backend.wait(handle, timeout=60)

    assert final.state == RunnerState.EXITED and final.message == "cancelled", final
    wait_for(lambda: not Path(f"/proc/{pid}").exists(), 30)   # the worker is gone (same node here)
    assert jobdir.read_result() is None
    backend.cancel(handle)                                     # idempotent
    assert backend.poll(handle).message == "cancelled"


def test_cancel_removes_a_pending_job(make_backend, make_job):
    backend = make_backend(scheduler_extra_options="--hold")
    jobdir = make_job("Greeter", "greeter", {"name": "held"})
    handle = start(backend, jobdir)
    _, batch_id, _ = Scheduler.parse_handle(handle)
    assert backend.poll(handle).state == RunnerState.PENDING
    assert squeue_state(batch_id) == "PENDING"
    backend.cancel(handle)
    final = backend.wait(handle, timeout=30)
    assert final.state == RunnerState.EXITED and final.message == "cancelled"
    assert jobdir.read_status() is None                        # it never ran


def test_cancelled_outside_the_server_says_so(make_backend, make_job):
    backend = make_backend()
    jobdir = make_job("Sleeper", "sleeper", {"delay": "300"})
    handle = start(backend, jobdir)
    _, batch_id, _ = Scheduler.parse_handle(handle)
    wait_for(lambda: backend.poll(handle).state == RunnerState.RUNNING, 60)
    subprocess.run(["scancel", batch_id], check=True, timeout=30)
    final = backend.wait(handle, timeout=60)
    assert final.state == RunnerState.EXITED
    assert final.message == "cancelled by the scheduler"


def test_job_over_its_cluster_time_limit(make_backend, make_job):
    backend = make_backend(scheduler_partition="short")      # MaxTime=1 minute (.ci/slurm.sh)
    jobdir = make_job("Sleeper", "sleeper", {"delay": "600"})
    handle = start(backend, jobdir)
    started = time.monotonic()
    final = backend.wait(handle, timeout=200)
    assert final.state == RunnerState.EXITED, final
    assert final.message.startswith("time limit reached on the cluster"), final
    assert "(limit 1:00)" in final.message
    assert time.monotonic() - started >= 55
    assert jobdir.read_result() is None
    assert "TIME LIMIT" in (jobdir.outdir / BATCH_LOG).read_text()


def test_job_over_its_memory_limit(make_backend, make_job):
    backend = make_backend(scheduler_memory="100mb")           # cgroup memory limit on the node
    jobdir = make_job("Hog", "hog", {"megabytes": "400"})
    final = backend.wait(start(backend, jobdir), timeout=120)
    assert final.state == RunnerState.EXITED, final
    assert final.message == "out of memory on the cluster (memory limit 100M)", final
    assert jobdir.read_result() is None


def test_ten_concurrent_jobs_all_finish_polled_in_one_query(make_backend, make_job):
    backend = make_backend()
    queries: list[int] = []
    query = backend.submitter.query

    def counting(ids: list[str]):
        queries.append(len(ids))
        return query(ids)

    backend.submitter.query = counting  # type: ignore[method-assign]
    jobs = [make_job("Greeter", "greeter", {"name": f"n{i}"}, outputs=(OutputRequest("greeting"),))
            for i in range(10)]
    handles = {start(backend, jd): jd for jd in jobs}
    deadline = time.monotonic() + 240
    statuses = {}
    polls = 0
    while time.monotonic() < deadline:
        statuses = backend.poll_many(list(handles))
        polls += 1
        if all(ended(s) for s in statuses.values()):
            break
        time.sleep(0.2)
    assert all(s.state == RunnerState.EXITED and s.exit_code == 0 for s in statuses.values()), statuses
    assert queries and len(queries) <= polls                   # at most one squeue per poll for all ten
    assert queries[0] == 10 and all(n <= 10 for n in queries)
    assert len(queries) < polls or polls < 5                   # and not every time (query_interval = 1 s)
    calls = len(queries)
    assert backend.poll_many(list(handles)) == statuses and len(queries) == calls   # ended: never asked again
    greetings = sorted(jd.read_result()["outputs"][0]["value"] for jd in handles.values())
    assert greetings == sorted(f"Hello n{i}" for i in range(10))


def test_unknown_batch_job_without_result_is_lost(make_backend, tmp_path):
    backend = make_backend()
    jobdir = tmp_path / "gone"
    (jobdir / "out").mkdir(parents=True)
    (jobdir / "out" / BATCH_LOG).write_text("slurmstepd: error: something broke\n")
    status = backend.poll(f"slurm:99999999:{jobdir}")
    assert status.state == RunnerState.LOST
    assert "no longer known to slurm" in status.message and "something broke" in status.message
    (jobdir / "out" / "result.json").write_text('{"outputs": [], "exception": null}')
    assert backend.poll(f"slurm:99999999:{jobdir}").state == RunnerState.EXITED


def test_worker_that_cannot_start_fails_with_the_batch_log(make_backend, make_job):
    backend = make_backend(scheduler_python="/nonexistent/python3")
    jobdir = make_job("Greeter", "greeter", {"name": "x"})
    handle = start(backend, jobdir)
    status = backend.wait(handle, timeout=120)
    assert status.state == RunnerState.EXITED and status.exit_code not in (None, 0), status
    assert "failed with exit code" in status.message and "/nonexistent/python3" in status.message


def test_sync_refused_when_configured(make_backend, make_job):
    backend = make_backend(scheduler_sync="refuse")
    assert not backend.accepts_sync
    jobdir = make_job("Greeter", "greeter", {"name": "x"}, is_async=False)
    with pytest.raises(OptionNotSupported, match="storeExecuteResponse=true"):
        start(backend, jobdir)
    assert not (jobdir.indir / BATCH_SCRIPT).exists()
    async_dir = make_job("Greeter", "greeter", {"name": "y"})
    assert backend.wait(start(backend, async_dir), timeout=120).exit_code == 0


def test_sync_waits_by_default(make_backend, make_job):
    backend = make_backend()
    assert backend.accepts_sync
    jobdir = make_job("Greeter", "greeter", {"name": "sync"}, is_async=False)
    assert backend.wait(start(backend, jobdir), timeout=120).exit_code == 0


def test_a_new_server_follows_jobs_it_did_not_submit(make_backend, make_job):
    first = make_backend()
    jobdir = make_job("Sleeper", "sleeper", {"delay": "2"})
    handle = start(first, jobdir)
    second = make_backend()
    second.adopt([handle])
    assert second.poll(handle).state in (RunnerState.PENDING, RunnerState.RUNNING, RunnerState.EXITED)
    assert second.wait(handle, timeout=120).exit_code == 0
    assert os.path.exists(jobdir.result_path)
