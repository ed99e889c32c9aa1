"""The operator CLI against a running server's job store: list, show, pause, resume, cleanup."""

from __future__ import annotations

import json
import subprocess
import sys

from lxml import etree

from pywps.jobs.model import JobStatus
from pywps.jobs.store import JobStore
from tests.conftest import wait_for

NS = {"wps": "http://www.opengis.net/wps/1.0.0"}


def cli(server, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pywps.cli", "-c", str(server.cfg), *args],
                          capture_output=True, text=True, timeout=60)


def submit(server, delay: str) -> str:
    resp = server.get(service="WPS", request="Execute", version="1.0.0", identifier="sleep",
                      DataInputs=f"delay={delay}", storeExecuteResponse="true", status="true")
    return etree.fromstring(resp.content).get("statusLocation").rsplit("/", 1)[1][:-4]


def test_list_show_pause_resume_cleanup(live_server):
    server = live_server()
    store = JobStore(f"sqlite:///{server.directory / 'jobs.sqlite'}")
    job_id = submit(server, "20")
    wait_for(lambda: (j := store.get(job_id)) and j.handle and j.status == JobStatus.STARTED, timeout=20)

    listed = cli(server, "jobs", "list")
    assert listed.returncode == 0 and job_id in listed.stdout
    shown = json.loads(cli(server, "jobs", "show", job_id).stdout)
    assert shown["status"] == "started" and shown["process"] == "sleep"

    assert cli(server, "jobs", "pause", job_id).returncode == 0
    assert store.get(job_id).status == JobStatus.PAUSED
    status_doc = server.get(service="WPS", request="GetCapabilities")  # the server keeps answering
    assert status_doc.status_code == 200
    doc = etree.fromstring(store.get(job_id).response)
    assert doc.xpath("//wps:ProcessPaused", namespaces=NS)

    assert cli(server, "jobs", "resume", job_id).returncode == 0
    wait_for(lambda: store.get(job_id).status == JobStatus.SUCCEEDED, timeout=60)

    assert cli(server, "jobs", "cleanup", "--older-than", "3600").stdout.startswith("removed 0")
    out = cli(server, "jobs", "cleanup", "--older-than", "0")
    assert out.returncode == 0 and "removed 1" in out.stdout
    assert store.get(job_id) is None
    assert not (server.directory / "work" / "jobs" / job_id).exists()


def test_unknown_job(live_server):
    server = live_server()
    assert cli(server, "jobs", "show", "00000000-0000-4000-8000-000000000000").returncode == 1
