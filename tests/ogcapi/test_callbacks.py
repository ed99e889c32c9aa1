"""Conformance class callback: subscriber URIs told, once, from a background thread, through the SSRF guard."""

from __future__ import annotations

import time

from tests.conftest import wait_for
from tests.ogcapi.conftest import job_id_of
from tests.ogcapi.schemas import check, check_response


def test_success_and_in_progress_callbacks(api, receiver):
    subscriber = {"successUri": f"{receiver.url}/done", "inProgressUri": f"{receiver.url}/running",
                  "failedUri": f"{receiver.url}/failed"}
    resp = api.execute("say_hello", {"inputs": {"name": "cb"}, "subscriber": subscriber}, asynchronous=True)
    job_id = job_id_of(resp)
    wait_for(lambda: [p for p in receiver.posts if p[0] == "/done"], timeout=20)
    posts = dict(receiver.posts)
    assert check("results", posts["/done"]) == {"output": "Hello cb"}
    assert check("statusInfo", posts["/running"])["jobID"] == job_id
    time.sleep(1.5)
    assert [p for p, _ in receiver.posts].count("/done") == 1 and "/failed" not in posts


def test_failure_callback(api, receiver):
    resp = api.execute("fail", {"inputs": {"message": "bad day"}, "subscriber": {
        "successUri": f"{receiver.url}/done", "failedUri": f"{receiver.url}/failed"}}, asynchronous=True)
    assert resp.status_code == 201
    wait_for(lambda: [p for p in receiver.posts if p[0] == "/failed"], timeout=20)
    doc = check("exception", dict(receiver.posts)["/failed"])
    assert "bad day" in doc["detail"]


def test_a_dead_subscriber_never_blocks_the_job(api):
    resp = api.execute("say_hello", {"inputs": {"name": "x"}, "subscriber": {
        "successUri": "http://127.0.0.1:9/nobody"}}, asynchronous=True)
    assert api.wait(job_id_of(resp))["status"] == "successful"


def test_subscriber_urls_pass_the_reference_guard(make_api):
    api = make_api(server={"reference_allow_private": "false"})
    doc = check_response(api.execute("say_hello", {"inputs": {"name": "x"}, "subscriber": {
        "successUri": "http://127.0.0.1:8080/hook"}}, asynchronous=True), "exception", 400)
    assert "subscriber/successUri" in doc["detail"] and "non-public" in doc["detail"]
    assert api.job_count() == 0
