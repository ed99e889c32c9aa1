"""Docker mode over real HTTP: sync and async Execute, parallelprocesses, limits, cancel, server restarts."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import docker.errors
import pytest
import requests
from lxml import etree

from pywps.backends.docker import LABEL_INSTANCE, LABEL_JOB, LABEL_JOBDIR
from pywps.jobs.model import FINAL, JobStatus
from pywps.jobs.store import JobStore
from tests.conftest import wait_for
from tests.docker.conftest import IMAGE, WPS_COMMAND

pytestmark = pytest.mark.docker

NS = {"wps": "http://www.opengis.net/wps/1.0.0", "ows": "http://www.opengis.net/ows/1.1"}
# the two docker transports: the project's worker in the container, or a WPS server in it (this project's own)
TRANSPORTS = {"worker": {}, "wps": {"docker_transport": "wps", "docker_wps_command": WPS_COMMAND}}
# what does not depend on the engine runs on Docker only (the backend's own tests run on both engines); the
# lifecycle over a real server (restart, cancel, pause from the CLI) runs on both
ON_DOCKER = pytest.mark.parametrize("engine", ["docker"], indirect=True)


@pytest.fixture
def docker_server(live_server, engine_client, tmp_path, monkeypatch):
    """Start live servers in mode docker serving the example and hostile processes; clean their containers."""
    monkeypatch.setenv("PYWPS_PROCESSES", "pywps.processes.hostile:testing_processes")

    def start(parallel: int = 2, gunicorn_workers: int = 1, **processing: object):
        keys = {"mode": "docker", "docker_image": IMAGE, **processing}
        return live_server(gunicorn_workers=gunicorn_workers, processing=keys,
                           server={"parallelprocesses": parallel, "maxprocesses": 100})

    yield start
    for summary in engine_client.api.containers(all=True, filters={"label": LABEL_INSTANCE}):
        if (summary.get("Labels") or {}).get(LABEL_JOBDIR, "").startswith(str(tmp_path)):
            try:
                engine_client.api.remove_container(summary["Id"], force=True, v=True)
            except docker.errors.APIError as exc:
                if exc.status_code not in (404, 409):  # gone, or being removed by the server
                    raise


def submit(server, identifier: str, inputs: str) -> str:
    resp = server.get(service="WPS", request="Execute", version="1.0.0", identifier=identifier,
                      DataInputs=inputs, storeExecuteResponse="true", status="true")
    assert resp.status_code == 200, resp.text
    location = etree.fromstring(resp.content).get("statusLocation")
    assert location, resp.text
    return location


def document(location: str) -> etree._Element:
    return etree.fromstring(requests.get(location, timeout=30).content)


def final(location: str, timeout: float = 90) -> etree._Element:
    def check():
        doc = document(location)
        return doc if doc.xpath("//wps:ProcessSucceeded|//wps:ProcessFailed", namespaces=NS) else None

    return wait_for(check, timeout=timeout, interval=0.2)


def failure_text(doc: etree._Element) -> str:
    return " ".join(doc.xpath("//ows:ExceptionText/text()", namespaces=NS))


def job_containers(client, job_id: str) -> list:
    return client.api.containers(all=True, filters={"label": f"{LABEL_JOB}={job_id}"})


@ON_DOCKER
@pytest.mark.parametrize("transport", sorted(TRANSPORTS))
def test_sync_execute_in_a_container(docker_server, engine_client, transport):
    server = docker_server(**TRANSPORTS[transport])
    resp = server.get(service="WPS", request="Execute", version="1.0.0", identifier="say_hello",
                      DataInputs="name=container")
    assert resp.status_code == 200, resp.text
    doc = etree.fromstring(resp.content)
    assert doc.xpath("//wps:ProcessSucceeded", namespaces=NS), resp.text
    assert doc.xpath("//wps:LiteralData/text()", namespaces=NS) == ["Hello container"]
    assert server.get(service="WPS", request="GetCapabilities").status_code == 200


@ON_DOCKER
@pytest.mark.parametrize("transport", sorted(TRANSPORTS))
def test_async_execute_in_a_container_and_container_removed(docker_server, engine_client, transport):
    server = docker_server(**TRANSPORTS[transport])
    location = submit(server, "sleep", "delay=1")
    job_id = location.rsplit("/", 1)[1].removesuffix(".xml")
    wait_for(lambda: job_containers(engine_client, job_id), timeout=20, interval=0.05)
    doc = final(location)
    assert doc.xpath("//wps:ProcessSucceeded", namespaces=NS), etree.tostring(doc)
    wait_for(lambda: not job_containers(engine_client, job_id), timeout=10)


@ON_DOCKER
@pytest.mark.parametrize("transport", sorted(TRANSPORTS))
def test_limits_over_http(docker_server, transport):
    limit = 3 if transport == "worker" else 8  # a WPS server starts first: leave the memory job time to run
    server = docker_server(docker_time_limit=limit, **TRANSPORTS[transport])
    loop = submit(server, "hostile_loop", "")
    memory = submit(server, "hostile_memory", "megabytes=2048")
    doc = final(loop)
    assert doc.xpath("//wps:ProcessFailed", namespaces=NS)
    assert f"killed: time limit {limit} s" in failure_text(doc)
    doc = final(memory)
    assert "killed: out of memory (limit 256 MiB)" in failure_text(doc), etree.tostring(doc)
    # the server keeps serving
    ok = server.get(service="WPS", request="Execute", version="1.0.0", identifier="say_hello", DataInputs="name=x")
    assert b"ProcessSucceeded" in ok.content


@pytest.mark.slow
@ON_DOCKER
def test_20_concurrent_jobs_respect_parallelprocesses(docker_server):
    server = docker_server(parallel=2, gunicorn_workers=2)
    with ThreadPoolExecutor(10) as pool:
        locations = list(pool.map(lambda _: submit(server, "sleep", "delay=0.5"), range(20)))
    store = JobStore(f"sqlite:///{server.directory / 'jobs.sqlite'}")
    wait_for(lambda: store.count(list(FINAL)) >= 20, timeout=240, interval=0.5)
    jobs = store.list(limit=100)
    assert len(jobs) == 20 and all(j.status == JobStatus.SUCCEEDED for j in jobs), {j.status for j in jobs}
    events = sorted([(j.started.timestamp(), 1) for j in jobs] + [(j.finished.timestamp(), -1) for j in jobs])
    running = peak = 0
    for _, delta in events:
        running += delta
        peak = max(peak, running)
    assert peak <= 2
    assert document(locations[0]).xpath("//wps:ProcessSucceeded", namespaces=NS)


@pytest.mark.parametrize("transport", sorted(TRANSPORTS))
def test_server_sigkilled_mid_job_then_restarted(docker_server, engine_client, transport):
    server = docker_server(**TRANSPORTS[transport])
    location = submit(server, "hostile_sleep", "seconds=6;steps=12")
    job_id = location.rsplit("/", 1)[1].removesuffix(".xml")
    wait_for(lambda: [c["State"] for c in job_containers(engine_client, job_id)] == ["running"], timeout=30)
    wait_for(lambda: b"slept 1/12" in etree.tostring(document(location)), timeout=30)
    server.kill(signal.SIGKILL)
    assert [c["State"] for c in job_containers(engine_client, job_id)] == ["running"]
    server.start()
    doc = final(location, timeout=90)
    assert doc.xpath("//wps:ProcessSucceeded", namespaces=NS), etree.tostring(doc)
    wait_for(lambda: not job_containers(engine_client, job_id), timeout=20)


@pytest.mark.parametrize("transport", sorted(TRANSPORTS))
def test_cancel_from_cli_kills_the_container(docker_server, engine_client, transport):
    server = docker_server(**TRANSPORTS[transport])
    location = submit(server, "hostile_sleep", "seconds=60;steps=60")
    wait_for(lambda: document(location).xpath("//wps:ProcessStarted", namespaces=NS), timeout=30)
    job_id = location.rsplit("/", 1)[1].removesuffix(".xml")
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "pywps.cli", "-c", str(server.cfg), "jobs", "cancel", job_id],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    wait_for(lambda: all(c["State"] != "running" for c in job_containers(engine_client, job_id)),
             timeout=2, interval=0.05)
    assert time.monotonic() - started < 5
    assert document(location).xpath("//wps:ProcessFailed", namespaces=NS)


@pytest.mark.parametrize("transport", sorted(TRANSPORTS))
def test_pause_and_resume_from_cli(docker_server, engine_client, transport):
    server = docker_server(**TRANSPORTS[transport])
    location = submit(server, "hostile_sleep", "seconds=3;steps=30")
    wait_for(lambda: b"slept 1/30" in etree.tostring(document(location)), timeout=30)  # its runner started
    job_id = location.rsplit("/", 1)[1].removesuffix(".xml")

    def cli(action: str) -> None:
        out = subprocess.run([sys.executable, "-m", "pywps.cli", "-c", str(server.cfg), "jobs", action, job_id],
                             capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stdout + out.stderr

    cli("pause")
    assert [c["State"] for c in job_containers(engine_client, job_id)] == ["paused"]
    wait_for(lambda: b"paused" in etree.tostring(document(location)).lower(), timeout=30)
    cli("resume")
    doc = final(location, timeout=60)
    assert doc.xpath("//wps:ProcessSucceeded", namespaces=NS), etree.tostring(doc)


@ON_DOCKER
@pytest.mark.parametrize("transport", sorted(TRANSPORTS))
def test_failing_process_reports_its_own_error(docker_server, transport):
    server = docker_server(**TRANSPORTS[transport])
    resp = server.get(service="WPS", request="Execute", version="1.0.0", identifier="fail",
                      DataInputs="message=broken on purpose")
    doc = etree.fromstring(resp.content)
    assert doc.xpath("//wps:ProcessFailed", namespaces=NS), resp.text
    assert "broken on purpose" in failure_text(doc), resp.text


@ON_DOCKER
def test_pool_mode_over_http(docker_server, engine_client):
    server = docker_server(docker_pool_size=1)
    for name in ("a", "b"):
        resp = server.get(service="WPS", request="Execute", version="1.0.0", identifier="say_hello",
                          DataInputs=f"name={name}")
        doc = etree.fromstring(resp.content)
        assert doc.xpath("//wps:LiteralData/text()", namespaces=NS) == [f"Hello {name}"], resp.text
    location = submit(server, "hostile_sleep", "seconds=1;steps=2")
    assert final(location).xpath("//wps:ProcessSucceeded", namespaces=NS)
    # a fresh container is waiting for the next job
    wait_for(lambda: engine_client.api.containers(filters={"label": "pywps.pool"}), timeout=30)


@ON_DOCKER
def test_wps_pool_mode_over_http(docker_server, engine_client, tmp_path):
    """docker_transport = wps from the pool, through a real server: the first job starts a fresh container and
    the pool is started for the server's configuration; later jobs are handed a waiting container (once its
    server answers), which is gone after its one job."""
    server = docker_server(docker_pool_size=1, **TRANSPORTS["wps"])
    jobs = tmp_path / "work" / "jobs"

    def waiting() -> list[str]:
        return [c["Id"] for c in engine_client.api.containers(filters={"label": "pywps.pool"})
                if (c.get("Labels") or {}).get(LABEL_JOBDIR, "").startswith(str(tmp_path))]

    def pooled(job: Path) -> bool:  # the pool's server configuration was written before the job existed
        def mtimes() -> tuple[float, float] | None:
            try:  # None while the job directory is made whole again (its slot moved back)
                return (job / "in" / "wps.cfg").stat().st_mtime, (job / "in" / "job.json").stat().st_mtime
            except FileNotFoundError:
                return None

        config, request = wait_for(mtimes, timeout=30, interval=0.05)
        return config < request

    def hello(name: str) -> None:
        resp = server.get(service="WPS", request="Execute", version="1.0.0", identifier="say_hello",
                          DataInputs=f"name={name}")
        doc = etree.fromstring(resp.content)
        assert doc.xpath("//wps:LiteralData/text()", namespaces=NS) == [f"Hello {name}"], resp.text

    def async_sleep(name: str) -> None:
        location = submit(server, "hostile_sleep", "seconds=1;steps=2")
        assert final(location).xpath("//wps:ProcessSucceeded", namespaces=NS)

    hello("fresh")
    assert not pooled(next(jobs.iterdir()))
    for run in (hello, async_sleep):
        (container,) = wait_for(waiting, timeout=120)
        for attempt in range(20):  # until the container has joined the pool (its server answered)
            before = set(jobs.iterdir())
            run(f"try{attempt}")
            (job,) = set(jobs.iterdir()) - before
            if pooled(job):
                break
        else:
            raise AssertionError("no job was handed to the pool container")
        wait_for(lambda container=container: not engine_client.api.containers(all=True, filters={"id": container}),
                 timeout=30)  # used once, then removed
