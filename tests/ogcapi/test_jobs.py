"""Conformance classes job-list and dismiss; who may list jobs; one job seen through WPS 1.0.0 and OGC API."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.ogcapi.conftest import job_id_of
from tests.ogcapi.schemas import check_response


def _ticks(api, job_id: str) -> int:
    path = Path(api.dispatcher.jobs_root) / job_id / "out" / "ticks"
    try:
        return len(path.read_text().splitlines())
    except FileNotFoundError:
        return 0


def test_listing_is_off_by_default(api):
    doc = check_response(api.get("jobs"), "exception", 403)
    assert "jobs_listing" in doc["detail"]


def test_listing_with_operator_token(make_api):
    api = make_api(ogcapi={"jobs_listing": "token", "operator_token": "s3cret"})
    resp = api.get("jobs")
    check_response(resp, "exception", 401)
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    check_response(api.get("jobs", headers={"Authorization": "Bearer wrong"}), "exception", 401)
    check_response(api.get("jobs", headers={"Authorization": "Bearer s3cret"}), "jobList")
    page = api.get("jobs?f=html")
    assert page.status_code == 401 and b'name="token"' in page.get_data()
    login = api.client.post("/ogcapi/operator", data={"token": "s3cret"})
    assert login.status_code == 303 and "HttpOnly" in login.headers["Set-Cookie"]
    assert "s3cret" not in login.headers["Set-Cookie"]
    assert api.get("jobs?f=html").status_code == 200  # the cookie
    assert api.client.post("/ogcapi/operator", data={"token": "nope"}).status_code == 401


def test_a_job_url_always_answers(api):
    resp = api.execute("say_hello", {"inputs": {"name": "x"}}, asynchronous=True)
    job_id = job_id_of(resp)
    check_response(api.get(f"jobs/{job_id}"), "statusInfo")


def test_filters_and_paging(make_api):
    api = make_api(ogcapi={"jobs_listing": "open"})
    ids = [job_id_of(api.execute("say_hello", {"inputs": {"name": str(n)}}, asynchronous=True)) for n in range(5)]
    failed = job_id_of(api.execute("fail", {}, asynchronous=True))
    for job_id in [*ids, failed]:
        api.wait(job_id)
    doc = check_response(api.get("jobs?limit=100"), "jobList")
    assert [j["jobID"] for j in doc["jobs"]] == [failed, *reversed(ids)]
    assert {j["protocol"] for j in doc["jobs"]} == {"ogcapi"}
    assert [j["jobID"] for j in check_response(api.get("jobs?processID=fail"), "jobList")["jobs"]] == [failed]
    assert len(check_response(api.get("jobs?processID=fail,say_hello&limit=100"), "jobList")["jobs"]) == 6
    assert [j["jobID"] for j in check_response(api.get("jobs?status=failed"), "jobList")["jobs"]] == [failed]
    assert len(check_response(api.get("jobs?status=successful&limit=100"), "jobList")["jobs"]) == 5
    assert check_response(api.get("jobs?type=process&limit=100"), "jobList")["jobs"]
    assert check_response(api.get("jobs?type=openeo"), "jobList")["jobs"] == []
    assert len(check_response(api.get("jobs?datetime=2000-01-01T00:00:00Z/..&limit=100"), "jobList")["jobs"]) == 6
    assert check_response(api.get("jobs?datetime=../2000-01-01T00:00:00Z"), "jobList")["jobs"] == []
    assert len(check_response(api.get("jobs?minDuration=0&limit=100"), "jobList")["jobs"]) == 6
    assert check_response(api.get("jobs?minDuration=3600"), "jobList")["jobs"] == []
    assert len(check_response(api.get("jobs?maxDuration=3600&limit=100"), "jobList")["jobs"]) == 6
    seen, url = [], "jobs?limit=4"
    while url:
        doc = check_response(api.get(url), "jobList")
        seen += [j["jobID"] for j in doc["jobs"]]
        following = [link["href"] for link in doc["links"] if link["rel"] == "next"]
        url = following[0].split("/ogcapi/", 1)[1] if following else None
    assert seen == [failed, *reversed(ids)]


@pytest.mark.parametrize("query", ["status=done", "datetime=yesterday", "minDuration=x", "maxDuration=-1",
                                   "limit=0", "datetime=2020-01-02T00:00:00Z/2020-01-01T00:00:00Z"])
def test_bad_filters_are_400(make_api, query):
    api = make_api(ogcapi={"jobs_listing": "open"})
    check_response(api.get(f"jobs?{query}"), "exception", 400)


def test_dismiss_stops_the_work(api):
    """hostile_ticker writes a line every 0.1 s: none is written once DELETE has answered."""
    resp = api.execute("hostile_ticker", {"inputs": {"seconds": 60}}, asynchronous=True)
    job_id = job_id_of(resp)
    deadline = time.monotonic() + 20
    while _ticks(api, job_id) < 3:
        assert time.monotonic() < deadline, "the ticker never ticked"
        time.sleep(0.05)
    info = check_response(api.delete(f"jobs/{job_id}"), "statusInfo")
    assert info["status"] == "dismissed"
    after = _ticks(api, job_id)
    time.sleep(1.0)
    assert _ticks(api, job_id) == after, "the job kept running after DELETE answered"
    assert check_response(api.get(f"jobs/{job_id}"), "statusInfo")["status"] == "dismissed"
    doc = check_response(api.get(f"jobs/{job_id}/results"), "exception", 410)
    assert "dismissed" in doc["detail"]
    # dismissing again leaves it as it is
    assert check_response(api.delete(f"jobs/{job_id}"), "statusInfo")["status"] == "dismissed"
    check_response(api.delete("jobs/0c8a4c3e-4f47-4b5e-9a7d-8f5a2f0e9d11"), "exception", 404)


def test_delete_a_finished_job_removes_its_results(api):
    resp = api.execute("say_hello", {"inputs": {"name": "gone"}}, asynchronous=True)
    job_id = job_id_of(resp)
    deadline = time.monotonic() + 30
    while check_response(api.get(f"jobs/{job_id}"), "statusInfo")["status"] != "successful":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert api.get(f"jobs/{job_id}/results").status_code == 200
    info = check_response(api.delete(f"jobs/{job_id}"), "statusInfo")
    assert info["status"] == "dismissed"
    check_response(api.get(f"jobs/{job_id}/results"), "exception", 410)


def test_dismiss_a_queued_job(make_api):
    api = make_api(server={"parallelprocesses": 1})
    first = job_id_of(api.execute("hostile_ticker", {"inputs": {"seconds": 30}}, asynchronous=True))
    api.wait(first, ("running",))
    queued = job_id_of(api.execute("say_hello", {"inputs": {"name": "q"}}, asynchronous=True))
    assert api.status(queued)["status"] == "accepted"
    assert check_response(api.delete(f"jobs/{queued}"), "statusInfo")["status"] == "dismissed"
    api.delete(f"jobs/{first}")
    api.wait(first, ("dismissed",))


def test_a_wps1_job_in_the_job_list(make_api):
    api = make_api(ogcapi={"jobs_listing": "open"})
    resp = api.client.get("/wps?service=WPS&request=Execute&version=1.0.0&identifier=say_hello"
                          "&DataInputs=name=wps&storeExecuteResponse=true&status=true")
    assert resp.status_code == 200
    jobs = check_response(api.get("jobs?processID=say_hello"), "jobList")["jobs"]
    assert len(jobs) == 1 and jobs[0]["protocol"] == "wps1"
    final = api.wait(jobs[0]["jobID"])
    assert final["status"] == "successful"
    assert check_response(api.get(f"jobs/{final['jobID']}/results"), "results") == {"output": "Hello wps"}
    # and an OGC API job through WPS 1.0.0's status URL
    ogc = job_id_of(api.execute("say_hello", {"inputs": {"name": "ogc"}}, asynchronous=True))
    api.wait(ogc)
    status = api.client.get(f"/outputs/{ogc}.xml")
    assert status.status_code == 200 and b"ProcessSucceeded" in status.get_data()


def test_status_progress_while_running(api):
    job_id = job_id_of(api.execute("sleep", {"inputs": {"delay": 2}}, asynchronous=True))
    seen = set()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        info = check_response(api.get(f"jobs/{job_id}"), "statusInfo")
        seen.add(info["progress"])
        if info["status"] == "successful":
            break
        time.sleep(0.1)
    assert any(0 < p < 100 for p in seen), seen
    info = json.loads(api.get(f"jobs/{job_id}").get_data())
    assert info["started"] <= info["finished"]
