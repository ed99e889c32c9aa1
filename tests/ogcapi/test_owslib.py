"""A real client: OWSLib's owslib.ogcapi.processes.Processes against a live server (pywps serve)."""

from __future__ import annotations

import time

from tests.ogcapi.schemas import check


def test_owslib_processes(live_server):
    from owslib.ogcapi.processes import Processes

    server = live_server(ogcapi={"jobs_listing": "open"})
    client = Processes(f"http://127.0.0.1:{server.port}/ogcapi/")
    client.headers = dict(client.headers)  # OWSLib shares one header dict between instances
    check("landingPage", client.response)
    check("confClasses", client.conformance())
    assert client.api()["openapi"] == "3.0.3"

    processes = client.processes()
    assert "say_hello" in {p["id"] for p in processes}
    description = check("process", client.process("add"))
    assert description["inputs"]["a"]["schema"]["enum"][0] == 1

    result = client.execute("say_hello", inputs={"name": "OWSLib"})  # sync, response=document
    assert check("results", result) == {"output": "Hello OWSLib"}

    accepted = check("statusInfo", client.execute("sleep", inputs={"delay": 0.5}, async_=True))
    job_id = accepted["jobID"]
    deadline = time.monotonic() + 30
    while True:
        status = check("statusInfo", client._request(path=f"jobs/{job_id}"))
        if status["status"] == "successful" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status["status"] == "successful" and status["progress"] == 100
    assert check("results", client._request(path=f"jobs/{job_id}/results")) == {"sleep_output": "done sleeping"}
    jobs = check("jobList", client._request(path="jobs"))
    assert {j["jobID"] for j in jobs["jobs"]} >= {job_id}
