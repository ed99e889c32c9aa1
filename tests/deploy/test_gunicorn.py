"""gunicorn as the README and docs/deploy.md say, with processes from a module outside the repository."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
from lxml import etree

from pywps.jobs.model import JobStatus
from pywps.jobs.store import JobStore
from tests.conftest import free_port, write_config
from tests.deploy.conftest import NS, execute_url, job_id, status_of, submit, wait_final, wait_until
from tests.deploy.servers import gunicorn, wait_http, write_processes_module


def test_gunicorn_serves_your_own_processes_end_to_end(tmp_path: Path):
    port = free_port()
    cfg = write_config(tmp_path, port)
    module_dir = write_processes_module(tmp_path / "mywps")
    server, url = gunicorn(cfg, tmp_path, port=port, PYWPS_PROCESSES="myprocesses:processes",
                           PYTHONPATH=str(module_dir))
    try:
        wps = f"{url}/wps"
        wait_http(server, f"{wps}?service=WPS&request=GetCapabilities")
        caps = requests.get(f"{wps}?service=WPS&request=GetCapabilities", timeout=30)
        identifiers = etree.fromstring(caps.content).xpath("//wps:Process/ows:Identifier/text()", namespaces=NS)
        assert identifiers == ["reverse"]

        sync = requests.get(execute_url(wps, "reverse", "text=gunicorn"), timeout=60)
        assert status_of(sync.content)[0] == "ProcessSucceeded", sync.text
        assert b"nrocinug" in sync.content

        location = submit(wps, "reverse", "text=stored")
        assert wait_final(location, 60)[0] == "ProcessSucceeded"
        document = etree.fromstring(requests.get(location, timeout=30).content)
        href = document.xpath("//wps:Output[ows:Identifier='file']/wps:Reference/@href", namespaces=NS)[0]
        assert href.startswith(f"{url}/outputs/{job_id(location)}/")
        stored = requests.get(href, timeout=30)
        assert stored.status_code == 200 and stored.text == "derots"
        assert (tmp_path / "outputs" / job_id(location)).is_dir()
    finally:
        assert server.stop() == 0


def test_jobs_keep_moving_while_gunicorn_recycles_workers(tmp_path: Path):
    """Workers recycled by --max-requests: every new worker runs a dispatcher from its start, so queued and
    running jobs move on with no request arriving (the status is read from the store and files only)."""
    port = free_port()
    cfg = write_config(tmp_path, port, server={"parallelprocesses": 1})
    server, url = gunicorn(cfg, tmp_path, "--max-requests", "2", port=port, workers=2)
    try:
        wait_http(server, f"{url}/health")
        session = requests.Session()
        locations = [submit(f"{url}/wps", "sleep", "delay=1", session=session) for _ in range(4)]
        session.close()
        store = JobStore(f"sqlite:///{tmp_path / 'jobs.sqlite'}")
        ids = [job_id(loc) for loc in locations]
        wait_until(lambda: all(store.get(i).status == JobStatus.SUCCEEDED for i in ids), 60,
                   what="all four jobs succeeded")
        for i in ids:  # the static copies of the status documents were written too
            assert b"ProcessSucceeded" in (tmp_path / "outputs" / f"{i}.xml").read_bytes()
        assert "Booting worker" in server.output()
    finally:
        server.stop()


@pytest.mark.parametrize("problem", ["parallelprocesses", "outputpath"])
def test_configuration_error_stops_gunicorn_with_one_line(tmp_path: Path, problem: str):
    if problem == "outputpath":  # checked at start (pywps/preflight.py), not when the first job publishes
        (tmp_path / "afile").write_text("")
        cfg = write_config(tmp_path, server={"outputpath": str(tmp_path / "afile")})
    else:
        cfg = write_config(tmp_path, server={"parallelprocesses": "many"})
    server, _ = gunicorn(cfg, tmp_path, workers=1)
    deadline = time.monotonic() + 60
    while server.alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    code = server.stop()
    output = server.output()
    assert code not in (0, None), output
    lines = [line for line in output.splitlines() if line.startswith("pywps: configuration error:")]
    assert len(lines) >= 1 and f"[server] {problem}" in lines[0], output
    assert "Traceback" not in output, output
