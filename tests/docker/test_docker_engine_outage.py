"""The Docker engine stopped and started again (for real): a job that never started waits and then runs;
one that waits longer than [jobs] start_timeout fails saying why; a sync Execute gets 503 meanwhile."""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import ROOT, wait_for
from tests.docker.conftest import IMAGE
from tests.handback_attacks import execute, final_document

pytestmark = pytest.mark.docker

ENGINE = ROOT / ".ci" / "docker-engine.sh"


def engine(action: str) -> None:
    args = ["bash", str(ENGINE), action] + (["--force"] if action == "stop" else [])
    done = subprocess.run(args, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def stopped_engine(docker_client):
    """Stop the real engine for the test; it is started again whatever happens."""
    engine("stop")
    try:
        yield
    finally:
        engine("start")


def test_a_queued_job_waits_for_the_engine_then_runs(make_client, docker_client):
    client = make_client(processing={"mode": "docker", "docker_image": IMAGE},
                         jobs={"start_timeout": "120"})
    engine("stop")
    try:
        resp = execute(client, "say_hello", "name=patient")
        assert resp.status_code == 200, resp.get_data(as_text=True)
        store = client.application.extensions["pywps"]["dispatcher"].store
        job = wait_for(lambda: (j := store.list(limit=1)[0]).message.startswith("waiting to start") and j, 30, 0.1)
        assert "Docker engine unreachable" in job.message and job.status.value == "accepted"
        sync = execute(client, "say_hello", "name=now", asynchronous=False)
        assert sync.status_code == 503 and b"ServerBusy" in sync.get_data()
    finally:
        engine("start")
    final = final_document(client, resp, timeout=120)
    assert final.xpath("//wps:ProcessSucceeded"), final.get_data(as_text=True)


def test_a_job_waiting_past_start_timeout_fails_saying_why(make_client, stopped_engine):
    client = make_client(processing={"mode": "docker", "docker_image": IMAGE}, jobs={"start_timeout": "3"})
    final = final_document(client, execute(client, "say_hello", "name=never"), timeout=60)
    assert final.xpath("//wps:ProcessFailed")
    text = final.xpath_text("//ows:ExceptionText")
    assert "could not start the job (docker)" in text and "Docker engine unreachable" in text, text
