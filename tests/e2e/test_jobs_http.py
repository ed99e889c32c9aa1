"""Async jobs over real HTTP: limits across gunicorn workers, queue, ServerBusy, crash recovery, cancel."""

from __future__ import annotations

import os
import signal
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from lxml import etree

from pywps.jobs.model import FINAL, JobStatus
from pywps.jobs.store import JobStore
from tests.conftest import wait_for
from tests.xsd import validate

NS = {"wps": "http://www.opengis.net/wps/1.0.0", "ows": "http://www.opengis.net/ows/1.1"}


def submit(server, identifier: str, inputs: str) -> requests.Response:
    return server.get(service="WPS", request="Execute", version="1.0.0", identifier=identifier,
                      DataInputs=inputs, storeExecuteResponse="true", status="true")


def status_of(location: str) -> etree._Element:
    resp = requests.get(location, timeout=30)
    assert resp.status_code == 200, resp.text
    return etree.fromstring(resp.content)


def final_status(location: str, timeout: float = 60) -> etree._Element:
    def check():
        doc = status_of(location)
        return doc if doc.xpath("//wps:ProcessSucceeded|//wps:ProcessFailed", namespaces=NS) else None

    return wait_for(check, timeout=timeout, interval=0.2)


def store_of(server) -> JobStore:
    from pywps.config import load

    return JobStore(load([server.cfg]).database)


def overlapping(jobs) -> list[str]:
    """The jobs running at the most crowded moment, for the failure message."""
    peak, worst = 0, []
    for job in jobs:
        moment = job.started
        crowd = [j for j in jobs if j.started <= moment < j.finished]
        if len(crowd) > peak:
            peak, worst = len(crowd), crowd
    return [f"{j.id[:8]} {j.started.time()} {j.finished.time()} {j.owner} {j.message}" for j in worst]


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    events = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    running = peak = 0
    for _, delta in events:
        running += delta
        peak = max(peak, running)
    return peak


@pytest.mark.slow
def test_200_async_jobs_across_four_gunicorn_workers(live_server, db_url):
    server = live_server(gunicorn_workers=4, server={"parallelprocesses": 2, "maxprocesses": 500},
                         logging={"database": db_url})
    with ThreadPoolExecutor(16) as pool:
        responses = list(pool.map(lambda n: submit(server, "sleep", "delay=0.05"), range(200)))
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses if r.status_code != 200][:1]
    locations = [etree.fromstring(r.content).get("statusLocation") for r in responses]
    assert len(set(locations)) == 200
    store = store_of(server)

    def all_final():
        return store.count(list(FINAL)) >= 200

    wait_for(all_final, timeout=240, interval=1)
    jobs = store.list(limit=1000)
    assert len(jobs) == 200
    assert all(j.status == JobStatus.SUCCEEDED for j in jobs), {j.status for j in jobs}
    intervals = [(j.started.timestamp(), j.finished.timestamp()) for j in jobs]
    assert max_overlap(intervals) <= 2, overlapping(jobs)
    for location in locations[:5]:
        doc = status_of(location)
        validate(etree.tostring(doc))
        assert doc.xpath("//wps:ProcessSucceeded", namespaces=NS)


def test_server_busy_exactly_when_queue_is_full(live_server, db_url):
    server = live_server(gunicorn_workers=2, server={"parallelprocesses": 1, "maxprocesses": 3},
                         logging={"database": db_url})
    codes = [submit(server, "sleep", "delay=3").status_code for _ in range(8)]
    accepted = codes.count(200)
    # one job may already have left the queue for the only slot: 3 queued + at most 1 running
    assert 3 <= accepted <= 4, codes
    assert all(c == 503 for c in codes[accepted:]), codes
    busy = submit(server, "sleep", "delay=3")
    body = etree.fromstring(busy.content)
    assert body.xpath("//ows:Exception/@exceptionCode", namespaces=NS) == ["ServerBusy"]
    validate(busy.content)
    sync = server.get(service="WPS", request="Execute", version="1.0.0", identifier="say_hello",
                      DataInputs="name=x")
    assert sync.status_code == 503


def test_queued_jobs_start_in_submission_order(live_server):
    server = live_server(server={"parallelprocesses": 1, "maxprocesses": 50})
    locations = [etree.fromstring(submit(server, "sleep", "delay=0.2").content).get("statusLocation")
                 for _ in range(6)]
    for location in locations:
        final_status(location)
    jobs = sorted(store_of(server).list(limit=10), key=lambda j: j.created)
    starts = [j.started for j in jobs]
    assert starts == sorted(starts)


def test_server_killed_mid_job_then_restarted(live_server, db_url):
    server = live_server(jobs={"poll_interval": "0.05", "stale_after": "3"}, logging={"database": db_url})
    resp = submit(server, "sleep", "delay=4")
    location = etree.fromstring(resp.content).get("statusLocation")
    wait_for(lambda: status_of(location).xpath("//wps:ProcessStarted", namespaces=NS), timeout=20)
    server.kill(signal.SIGKILL)
    server.start()
    doc = final_status(location, timeout=60)
    assert doc.xpath("//wps:ProcessSucceeded", namespaces=NS), etree.tostring(doc)


def test_worker_killed_mid_job_fails_with_a_clear_message(live_server):
    server = live_server()
    resp = submit(server, "sleep", "delay=20")
    location = etree.fromstring(resp.content).get("statusLocation")
    wait_for(lambda: status_of(location).xpath("//wps:ProcessStarted", namespaces=NS), timeout=20)
    store = store_of(server)
    job = wait_for(lambda: next((j for j in store.list(limit=5) if j.handle), None), timeout=10)
    pid = int(job.handle.split(":")[1])
    os.kill(pid, signal.SIGKILL)
    doc = final_status(location, timeout=30)
    text = " ".join(doc.xpath("//ows:ExceptionText/text()", namespaces=NS))
    assert doc.xpath("//wps:ProcessFailed", namespaces=NS)
    assert "SIGKILL" in text, text
    # the slot is free again
    ok = server.get(service="WPS", request="Execute", version="1.0.0", identifier="say_hello", DataInputs="name=x")
    assert b"ProcessSucceeded" in ok.content


def test_cancel_running_job_from_cli(live_server):
    import subprocess
    import sys

    server = live_server()
    resp = submit(server, "sleep", "delay=30")
    location = etree.fromstring(resp.content).get("statusLocation")
    wait_for(lambda: status_of(location).xpath("//wps:ProcessStarted", namespaces=NS), timeout=20)
    job_id = location.rsplit("/", 1)[1][:-4]
    store = store_of(server)
    job = wait_for(lambda: (j := store.get(job_id)) and j.handle and j, timeout=10)
    pid = int(job.handle.split(":")[1])
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "pywps.cli", "-c", str(server.cfg), "jobs", "cancel", job_id],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert store.get(job_id).status == JobStatus.DISMISSED
    wait_for(lambda: not os.path.exists(f"/proc/{pid}") or open(f"/proc/{pid}/stat").read().split()[2] == "Z",
             timeout=2, interval=0.05)
    assert time.monotonic() - started < 5
    doc = status_of(location)
    assert doc.xpath("//wps:ProcessFailed", namespaces=NS)
