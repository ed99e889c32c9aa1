"""`pywps dispatcher`: the dispatcher as its own long-lived service, so jobs move with no web process at all."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from pywps.jobs.model import JobStatus
from pywps.jobs.store import JobStore
from tests.conftest import free_port, write_config
from tests.deploy.conftest import job_id, submit, wait_until
from tests.deploy.servers import gunicorn, pywps_command, wait_http


def test_jobs_finish_through_pywps_dispatcher_after_the_web_servers_stop(tmp_path: Path):
    port = free_port()
    cfg = write_config(tmp_path, port, server={"parallelprocesses": 1})
    store = JobStore(f"sqlite:///{tmp_path / 'jobs.sqlite'}")
    web, url = gunicorn(cfg, tmp_path, port=port, workers=2)
    wait_http(web, f"{url}/health")
    ids = [job_id(submit(f"{url}/wps", "sleep", "delay=2")) for _ in range(3)]
    wait_until(lambda: store.get(ids[0]).status == JobStatus.STARTED, 20, what="the first job running")
    assert web.stop() == 0  # every web worker gone: one job running, two queued
    assert store.count(["accepted"]) == 2

    time.sleep(1)
    assert store.count(["accepted"]) == 2  # nothing moves them now
    service = pywps_command("dispatcher", "-c", str(cfg), cwd=tmp_path, log=tmp_path / "dispatcher.log")
    try:
        wait_until(lambda: all(store.get(i).status == JobStatus.SUCCEEDED for i in ids), 60,
                   what=f"all jobs succeeded through pywps dispatcher: {service.output()[-2000:]}")
        jobs = [store.get(i) for i in ids]
        # one slot: the queued jobs ran one after another
        assert jobs[1].started >= jobs[0].finished or jobs[2].started >= jobs[0].finished
        for i in ids:
            assert b"ProcessSucceeded" in (tmp_path / "outputs" / f"{i}.xml").read_bytes()
        assert service.alive()
    finally:
        code = service.stop(signal.SIGTERM)
    assert code == 0, service.output()
    assert "pywps dispatcher" in service.output() and "Traceback" not in service.output()


def test_pywps_dispatcher_alongside_web_servers(tmp_path: Path):
    """Run as a separate service next to gunicorn (the systemd layout of docs/deploy.md): both share the
    job store and the slots, and jobs submitted over HTTP finish."""
    port = free_port()
    cfg = write_config(tmp_path, port, server={"parallelprocesses": 2})
    store = JobStore(f"sqlite:///{tmp_path / 'jobs.sqlite'}")
    service = pywps_command("-c", str(cfg), "dispatcher", cwd=tmp_path, log=tmp_path / "dispatcher.log")
    web, url = gunicorn(cfg, tmp_path, port=port, workers=2)
    try:
        wait_http(web, f"{url}/health")
        ids = [job_id(submit(f"{url}/wps", "sleep", "delay=1")) for _ in range(4)]
        wait_until(lambda: all(store.get(i).status == JobStatus.SUCCEEDED for i in ids), 60,
                   what="all jobs succeeded")
    finally:
        web.stop()
        assert service.stop() == 0, service.output()
