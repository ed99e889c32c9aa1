"""The real Docker engine stopped and started again (issue 17). The engine runs with ``--live-restore``
(.ci/docker-engine.sh), as a production engine should:

* a job that never started waits for the engine and runs when it is back; a sync Execute meanwhile gets
  503 ServerBusy; a job that waits longer than ``[jobs] start_timeout`` fails saying why;
* a running container outlives the restart and its job is found again and succeeds;
* a running job whose engine stays away longer than ``[processing] docker_engine_grace`` fails saying why;
* a server started while the engine is down starts, and runs jobs once it is back.

These tests stop the engine every other test uses, so they run last in the session (``restarts_engine``).
"""

from __future__ import annotations

import subprocess

import pytest

from tests.conftest import ROOT, wait_for
from tests.docker.conftest import IMAGE
from tests.handback_attacks import execute, final_document

pytestmark = [pytest.mark.docker, pytest.mark.restarts_engine]

ENGINE = ROOT / ".ci" / "docker-engine.sh"


def engine(action: str) -> None:
    args = ["bash", str(ENGINE), action] + (["--force"] if action == "stop" else [])
    done = subprocess.run(args, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def engine_back(docker_client):
    """Whatever a test does to the engine, it is running again afterwards."""
    yield
    engine("start")


def _docker(**processing: str) -> dict[str, str]:
    return {"mode": "docker", "docker_image": IMAGE, **processing}


def _store(client):
    return client.application.extensions["pywps"]["dispatcher"].store


def test_a_queued_job_waits_for_the_engine_then_runs(make_client, engine_back):
    client = make_client(processing=_docker(), jobs={"start_timeout": "300"})
    engine("stop")
    resp = execute(client, "say_hello", "name=patient")
    assert resp.status_code == 200, resp.get_data(as_text=True)
    job = wait_for(lambda: (j := _store(client).list(limit=1)[0]).message.startswith("waiting to start") and j,
                   30, 0.1)
    assert "Docker engine unreachable" in job.message and job.status.value == "accepted"
    sync = execute(client, "say_hello", "name=now", asynchronous=False)
    assert sync.status_code == 503 and b"ServerBusy" in sync.get_data(), sync.get_data(as_text=True)
    engine("start")
    final = final_document(client, resp, timeout=180)
    assert final.xpath("//wps:ProcessSucceeded"), final.get_data(as_text=True)


def test_a_job_waiting_past_start_timeout_fails_saying_why(make_client, engine_back):
    client = make_client(processing=_docker(), jobs={"start_timeout": "3"})
    engine("stop")
    final = final_document(client, execute(client, "say_hello", "name=never"), timeout=60)
    assert final.xpath("//wps:ProcessFailed")
    text = final.xpath_text("//ows:ExceptionText")
    assert "could not start the job (docker)" in text and "Docker engine unreachable" in text, text


def test_a_running_container_survives_a_live_restore_restart(make_client, engine_back):
    client = make_client(processing=_docker(docker_engine_grace="300"))
    resp = execute(client, "sleep", "delay=12")
    wait_for(lambda: (j := _store(client).list(limit=1)[0]).status.value == "started" and j.percent >= 10, 60, 0.1)
    engine("stop")
    engine("start")
    final = final_document(client, resp, timeout=180)
    assert final.xpath("//wps:ProcessSucceeded"), final.get_data(as_text=True)
    assert final.xpath_text("//wps:LiteralData") == "done sleeping"


def test_a_job_whose_engine_stays_away_fails_naming_the_grace(make_client, engine_back):
    client = make_client(processing=_docker(docker_engine_grace="3"))
    resp = execute(client, "sleep", "delay=60")
    # started means claimed; its container runs once the job has a handle
    wait_for(lambda: (j := _store(client).list(limit=1)[0]).status.value == "started" and j.handle, 60, 0.1)
    engine("stop")
    final = final_document(client, resp, timeout=60)
    assert final.xpath("//wps:ProcessFailed")
    text = final.xpath_text("//ows:ExceptionText")
    assert "Docker engine unreachable" in text and "docker_engine_grace" in text, text


def test_a_server_starts_while_the_engine_is_down(make_client, engine_back):
    engine("stop")
    client = make_client(processing=_docker(), jobs={"start_timeout": "300"})
    assert client.get("/wps?service=WPS&request=GetCapabilities").status_code == 200
    resp = execute(client, "say_hello", "name=late")
    engine("start")
    final = final_document(client, resp, timeout=180)
    assert final.xpath("//wps:ProcessSucceeded"), final.get_data(as_text=True)
