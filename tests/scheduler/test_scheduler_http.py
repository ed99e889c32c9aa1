"""Execute over HTTP (the WSGI app and its dispatcher) with ``mode = scheduler`` on the real Slurm."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.conftest import wait_for
from tests.xsd import validate

SCHEDULER = {"mode": "scheduler", "scheduler": "slurm", "scheduler_poll_interval": "0.2"}

pytestmark = pytest.mark.slurm


def execute(client, identifier: str, inputs: str, asynchronous: bool = True):
    form = "&storeExecuteResponse=true&status=true" if asynchronous else ""
    return client.get(f"/wps?service=WPS&request=Execute&version=1.0.0&identifier={identifier}"
                      f"&DataInputs={inputs}{form}")


def follow(client, resp, state: str, timeout: float = 120):
    """Poll the status document until it reaches ``state`` (ProcessSucceeded, ProcessFailed ...)."""
    validate(resp.get_data())
    path = resp.xml.get("statusLocation").split("127.0.0.1:5000", 1)[1]
    return wait_for(lambda: (d := client.get(path)).xpath(f"//wps:Status/wps:{state}") and d, timeout, 0.2)


def batch_id_of(app, job_id: str) -> str:
    job = app.extensions["pywps"]["dispatcher"].store.get(job_id)
    return job.handle.split(":")[1] if job and job.handle else ""


@pytest.fixture
def sclient(slurm, make_client):
    def make(**processing):
        return make_client(processing={**SCHEDULER, **processing})

    return make


def test_async_execute_succeeds_on_the_cluster(sclient):
    client = sclient()
    resp = execute(client, "say_hello", "name=cluster")
    assert resp.status_code == 200
    final = follow(client, resp, "ProcessSucceeded")
    validate(final.get_data())
    assert final.xpath_text("//wps:Output/wps:Data/wps:LiteralData") == "Hello cluster"


def test_async_failure_carries_the_process_message(sclient):
    client = sclient()
    final = follow(client, execute(client, "fail", "message=cluster%20boom"), "ProcessFailed")
    validate(final.get_data())
    assert "cluster boom" in final.xpath_text("//ows:ExceptionText")


def test_dismiss_cancels_the_batch_job(sclient):
    client = sclient()
    resp = execute(client, "sleep", "delay=300")
    job_id = re.search(r"([0-9a-f-]{36})", resp.xml.get("statusLocation")).group(1)
    follow(client, resp, "ProcessStarted")
    app_dispatcher = client.application.extensions["pywps"]["dispatcher"]
    batch_id = batch_id_of(client.application, job_id)
    assert batch_id
    app_dispatcher.dismiss(job_id)

    def gone() -> bool:
        out = subprocess.run(["squeue", "-h", "-t", "all", "-j", batch_id, "-o", "%T"],
                             capture_output=True, text=True, timeout=30)
        return out.stdout.strip() == "CANCELLED"

    wait_for(gone, 60, 0.2)
    final = follow(client, resp, "ProcessFailed", 30)
    assert "dismissed" in final.xpath_text("//ows:ExceptionText").lower()


def test_time_limit_reaches_the_status_document(sclient):
    client = sclient(scheduler_partition="short")           # MaxTime=1 minute
    final = follow(client, execute(client, "sleep", "delay=600"), "ProcessFailed", 200)
    validate(final.get_data())
    assert "time limit reached on the cluster" in final.xpath_text("//ows:ExceptionText")


def test_sync_execute_waits_for_the_batch_job(sclient):
    client = sclient()
    resp = execute(client, "say_hello", "name=sync", asynchronous=False)
    validate(resp.get_data())
    assert resp.xpath_text("//wps:Output/wps:Data/wps:LiteralData") == "Hello sync"


def test_sync_execute_refused_when_configured(sclient):
    client = sclient(scheduler_sync="refuse")
    resp = execute(client, "say_hello", "name=sync", asynchronous=False)
    validate(resp.get_data())
    assert resp.status_code == 501
    assert resp.xpath("//ows:Exception/@exceptionCode") == ["OptionNotSupported"]
    assert resp.xpath("//ows:Exception/@locator") == ["storeExecuteResponse"]
    assert "storeExecuteResponse=true" in resp.get_data(as_text=True)
    ok = follow(client, execute(client, "say_hello", "name=async"), "ProcessSucceeded")
    assert ok.xpath_text("//wps:Output/wps:Data/wps:LiteralData") == "Hello async"
