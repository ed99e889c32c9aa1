"""WPS 2.0.0 Dismiss really stops the work, in every backend: the ``hostile_ticker`` job appends a line to
``out/ticks`` every 0.1 s; once Dismiss has answered, no line is added. Multiprocessing always; docker and
Slurm when their engine is there (under CI=true they must be, as in tests/docker and tests/scheduler)."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from lxml import etree

from pywps.processes import hostile
from tests.docker.conftest import IMAGE, docker_client  # noqa: F401 - the real engine fixture
from tests.wps2.wpsxml import NS1, document, execute, job_id_of, job_request, literal, report, status_of, ticks, wait
from tests.xsd import validate

IN_CI = os.environ.get("CI", "").lower() == "true"
SLURM_CONF = Path("/etc/slurm/slurm.conf")
MODES = {
    "multiprocessing": {},
    "docker": {"mode": "docker", "docker_image": IMAGE},
    "scheduler": {"mode": "scheduler", "scheduler": "slurm", "scheduler_poll_interval": "0.2",
                  "scheduler_query_interval": "0.5"},
}


def _unavailable(why: str) -> None:
    if IN_CI:
        pytest.fail(f"must run under CI: {why}")
    pytest.skip(why)


def _require_slurm(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Slurm controller and node are up (the checks of tests/scheduler/conftest.py)."""
    import subprocess

    if not SLURM_CONF.exists():
        _unavailable(f"{SLURM_CONF} is missing (run .ci/slurm.sh start)")
    for command in ("sbatch", "squeue", "scancel", "sinfo"):
        if shutil.which(command) is None:
            _unavailable(f"{command} is not installed (run .ci/slurm.sh start)")
    monkeypatch.setenv("SLURM_CONF", str(SLURM_CONF))
    state = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=30)
    if state.returncode != 0 or not ({"idle", "mixed", "allocated"} & set(state.stdout.split())):
        _unavailable(f"Slurm is not up: {state.stdout.strip()} {state.stderr.strip()}")


@pytest.fixture(params=[
    "multiprocessing", pytest.param("docker", marks=pytest.mark.docker),
    pytest.param("scheduler", marks=pytest.mark.slurm),
])
def client(request, make_client, tmp_path, monkeypatch):
    """A WSGI client serving the hostile test processes in one processing mode."""
    mode = request.param
    if mode == "docker":
        engine = request.getfixturevalue("docker_client")
    elif mode == "scheduler":
        _require_slurm(monkeypatch)
    client = make_client(hostile.testing_processes(), processing=MODES[mode], server={"parallelprocesses": 2})
    client.runner_alive = RUNNER_ALIVE[mode] if mode != "docker" else lambda job: _container_running(engine, job)
    yield client
    if mode == "docker":
        from pywps.backends.docker import LABEL_INSTANCE, LABEL_JOBDIR

        for summary in engine.api.containers(all=True, filters={"label": LABEL_INSTANCE}):
            if (summary.get("Labels") or {}).get(LABEL_JOBDIR, "").startswith(str(tmp_path)):
                try:
                    engine.api.remove_container(summary["Id"], force=True, v=True)
                except Exception:  # noqa: BLE001 - gone already, or being removed by the backend
                    pass


def post(client, body: str):
    return client.post("/wps", data=body, content_type="text/xml")


def _process_running(job) -> bool:
    """The job's process (handle ``host:pid:start``) exists and is not a zombie."""
    pid = str(job.handle).rsplit(":", 2)[1]
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def _container_running(engine, job) -> bool:
    from pywps.backends.docker import LABEL_JOB

    return bool(engine.api.containers(filters={"label": f"{LABEL_JOB}={job.id}", "status": "running"}))


def _batch_job_running(job) -> bool:
    import subprocess

    batch_id = str(job.handle).split(":")[1]
    out = subprocess.run(["squeue", "-h", "-t", "all", "-j", batch_id, "-o", "%T"], capture_output=True, text=True,
                         timeout=30)
    return out.stdout.strip() in ("PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "SUSPENDED")


RUNNER_ALIVE = {"multiprocessing": _process_running, "scheduler": _batch_job_running}


def test_dismiss_stops_the_work(client):
    dispatcher = client.application.extensions["pywps"]["dispatcher"]
    info = document(post(client, execute("hostile_ticker", literal("seconds", "300"), mode="async")).get_data(),
                    "StatusInfo")
    job_id = job_id_of(info)
    marker = dispatcher.jobs_root / job_id / "out" / "ticks"
    wait(lambda: ticks(marker) >= 3, 180)  # it runs (a batch job or a container may take a while to start)
    job = dispatcher.store.get(job_id)
    assert job.handle and client.runner_alive(job), job  # its runner: a process group, container or batch job

    resp = post(client, job_request("Dismiss", job_id))
    answered = ticks(marker)
    assert resp.status_code == 200 and status_of(document(resp.get_data(), "StatusInfo")) == "Dismissed"
    time.sleep(1.5)  # fifteen tick periods
    assert ticks(marker) == answered, f"{ticks(marker) - answered} tick(s) after Dismiss answered"

    status = client.get(f"/wps?service=WPS&version=2.0.0&request=GetStatus&jobId={job_id}")
    assert status_of(document(status.get_data(), "StatusInfo")) == "Dismissed"
    result = client.get(f"/wps?service=WPS&version=2.0.0&request=GetResult&jobId={job_id}")
    assert report(result.get_data(), result.status_code) == ("NoSuchJob", job_id, 400)
    wps1 = client.get(f"/outputs/{job_id}.xml")  # the WPS 1.0.0 view of the same job
    validate(wps1.get_data())
    texts = etree.fromstring(wps1.get_data()).xpath("//wps:ProcessFailed//ows:ExceptionText/text()", namespaces=NS1)
    assert "dismissed" in " ".join(texts).lower()
    wait(lambda: dispatcher.store.count(["accepted", "started", "paused"]) == 0, 60)  # its slot is free
    wait(lambda: not client.runner_alive(job), 60, 0.2)  # and its runner is gone (batch job: CANCELLED)
    assert ticks(marker) == answered


def test_scheduler_sync_refuse_offers_asynchronous_execution_only(make_client, monkeypatch):
    """``scheduler_sync = refuse``: no sync-execute, mode=sync is NoSuchMode, mode=auto is asynchronous."""
    _require_slurm(monkeypatch)
    client = make_client(hostile.testing_processes(), processing={**MODES["scheduler"], "scheduler_sync": "refuse"})
    caps = document(client.get("/wps?service=WPS&request=GetCapabilities&AcceptVersions=2.0.0").get_data(),
                    "Capabilities")
    assert set(caps.xpath("//wps:ProcessSummary/@jobControlOptions", namespaces={"wps": caps.nsmap["wps"]})) == {
        "async-execute dismiss"}
    resp = post(client, execute("say_hello", literal("name", "x"), mode="sync"))
    assert report(resp.get_data(), resp.status_code) == ("NoSuchMode", "mode", 400)
    info = document(post(client, execute("say_hello", literal("name", "x"), mode="auto")).get_data(), "StatusInfo")
    assert status_of(document(post(client, job_request("Dismiss", job_id_of(info))).get_data(),
                              "StatusInfo")) in ("Dismissed", "Succeeded")
