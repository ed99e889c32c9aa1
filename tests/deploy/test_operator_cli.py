"""The operator command as an operator types it: options anywhere, every status name, the new state printed,
a clear word without configuration, and `jobs show` with the runner, timings and the tail of worker.log."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from pywps.jobs.model import JobStatus
from pywps.jobs.store import JobStore
from tests.conftest import wait_for
from tests.deploy.conftest import execute_url, job_id, submit
from tests.deploy.servers import environment, run_pywps


@pytest.fixture
def server(live_server):
    return live_server()


def cli(server, *args: str):
    return run_pywps(*args, env=environment())


def running_job(server, delay: str = "300") -> str:
    store = JobStore(f"sqlite:///{server.directory / 'jobs.sqlite'}")
    job = job_id(submit(server.url, "sleep", f"delay={delay}"))
    wait_for(lambda: (j := store.get(job)) and j.handle and j.status == JobStatus.STARTED, timeout=20)
    return job


@pytest.mark.parametrize("order", ["before", "after", "between"])
def test_options_before_or_after_the_subcommand(server, order):
    cfg = str(server.cfg)
    args = {"before": ["-c", cfg, "jobs", "list"], "after": ["jobs", "list", "-c", cfg],
            "between": ["jobs", "-c", cfg, "list"]}[order]
    out = cli(server, *args)
    assert out.returncode == 0, out.stderr
    assert "no configuration" not in out.stderr


def test_status_filter_takes_every_status_name(server):
    job = running_job(server)
    cfg = str(server.cfg)
    for name in ("running", "started", "active", "started,paused"):
        out = cli(server, "jobs", "list", "--status", name, "-c", cfg)
        assert out.returncode == 0 and job in out.stdout, (name, out.stderr)
    for name in ("accepted", "queued", "succeeded", "failed", "dismissed", "paused", "finished"):
        out = cli(server, "jobs", "list", "--status", name, "-c", cfg)
        assert out.returncode == 0 and job not in out.stdout, (name, out.stderr)
    bad = cli(server, "jobs", "list", "--status", "runing", "-c", cfg)
    assert bad.returncode == 2 and "unknown status 'runing'" in bad.stderr and "running" in bad.stderr
    assert "Traceback" not in bad.stderr
    cli(server, "jobs", "cancel", job, "-c", cfg)


def test_actions_print_the_new_state(server):
    job = running_job(server)
    cfg = str(server.cfg)
    paused = cli(server, "jobs", "pause", job, "-c", cfg)
    assert paused.returncode == 0 and f"{job}  started -> paused" in paused.stdout, paused
    resumed = cli(server, "jobs", "resume", job, "-c", cfg)
    assert resumed.returncode == 0 and f"{job}  paused -> started" in resumed.stdout, resumed
    again = cli(server, "jobs", "resume", job, "-c", cfg)
    assert again.returncode == 1 and "not paused" in again.stderr
    cancelled = cli(server, "jobs", "cancel", job, "-c", cfg)
    assert cancelled.returncode == 0, cancelled
    assert f"{job}  started -> dismissed  Job cancelled by the operator" in cancelled.stdout, cancelled


def test_show_has_runner_timings_and_worker_log(server):
    job = running_job(server)
    shown = json.loads(cli(server, "jobs", "show", job, "-c", str(server.cfg)).stdout)
    assert shown["runner"]["backend"] == "multiprocessing"
    pid = shown["runner"]["pid"]
    assert isinstance(pid, int) and Path(f"/proc/{pid}").exists()
    assert shown["started"] and shown["queued_seconds"] is not None and shown["run_seconds"] > 0
    cli(server, "jobs", "cancel", job, "-c", str(server.cfg))

    import requests

    requests.get(execute_url(server.url, "fail"), timeout=60)
    store = JobStore(f"sqlite:///{server.directory / 'jobs.sqlite'}")
    failed = store.list(status="failed", process="fail")[0]
    shown = json.loads(cli(server, "jobs", "show", failed.id, "-c", str(server.cfg)).stdout)
    assert shown["status"] == "failed" and shown["finished"] and shown["run_seconds"] is not None
    assert any("always fails" in line for line in shown["worker_log_tail"]), shown


def test_show_reads_worker_log_as_hostile(server, tmp_path):
    """A job that replaced its worker.log by a link to a server secret gets nothing shown."""
    import requests

    requests.get(execute_url(server.url, "fail"), timeout=60)
    store = JobStore(f"sqlite:///{server.directory / 'jobs.sqlite'}")
    failed = store.list(status="failed", process="fail")[0]
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-VALUE\n")
    log = server.directory / "work" / "jobs" / failed.id / "out" / "worker.log"
    log.unlink()
    log.symlink_to(secret)
    out = cli(server, "jobs", "show", failed.id, "-c", str(server.cfg))
    assert out.returncode == 0 and "TOP-SECRET-VALUE" not in out.stdout
    os.mkfifo(str(log) + ".fifo")
    log.unlink()
    os.rename(str(log) + ".fifo", log)  # a FIFO: reading it must not block
    out = cli(server, "jobs", "show", failed.id, "-c", str(server.cfg))
    assert out.returncode == 0 and json.loads(out.stdout)["worker_log_tail"] == []


def test_without_configuration_the_store_is_named(tmp_path):
    env = environment(TMPDIR=str(tmp_path))
    out = run_pywps("jobs", "list", env=env)
    expected = f"sqlite:///{tmp_path}/pywps/pywps-jobs.sqlite"
    assert out.returncode == 2 and "no configuration given" in out.stderr and expected in out.stderr, out.stderr
    (tmp_path / "pywps").mkdir()
    JobStore(expected)
    out = run_pywps("jobs", "list", env=env)
    assert out.returncode == 0 and expected in out.stderr and "built-in default" in out.stderr, out.stderr


def test_a_missing_or_unreachable_store_is_one_line(tmp_path):
    cfg = tmp_path / "pywps.cfg"
    cfg.write_text(f"[server]\nworkdir = {tmp_path / 'nowhere'}\n")
    out = run_pywps("jobs", "list", "-c", str(cfg))
    assert out.returncode == 2 and "no job store at" in out.stderr and "[server] workdir" in out.stderr
    cfg.write_text("[logging]\ndatabase = postgresql://user:hunter2@127.0.0.1:1/none\n")
    out = run_pywps("jobs", "list", "-c", str(cfg))
    assert out.returncode == 2 and "cannot open the job store" in out.stderr and "[logging] database" in out.stderr
    assert "hunter2" not in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
