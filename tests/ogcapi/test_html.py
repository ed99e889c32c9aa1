"""The HTML pages without a browser: the process form runs a process, the job page, the operator's page."""

from __future__ import annotations

import io
import re

from tests.ogcapi.conftest import BASE


def _job_url(resp) -> str:
    assert resp.status_code == 303, resp.get_data(as_text=True)[:500]
    return resp.headers["Location"].replace("http://127.0.0.1:5000", "")


def test_form_runs_a_process_and_the_job_page_shows_it(api):
    page = api.get("processes/say_hello?f=html").get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in page and 'name="name"' in page and '<label for="in-name">' in page
    resp = api.client.post(f"{BASE}processes/say_hello/execution", data={"name": "Form"})
    url = _job_url(resp)
    job_id = re.search(r"jobs/([0-9a-f-]{36})", url).group(1)
    api.wait(job_id)
    job_page = api.client.get(url).get_data(as_text=True)
    assert "Hello Form" in job_page and 'http-equiv="refresh"' not in job_page
    assert api.status(job_id)["protocol"] == "ogcapi"


def test_running_job_page_refreshes_and_has_dismiss(api):
    resp = api.client.post(f"{BASE}processes/hostile_ticker/execution", data={"seconds": "30"})
    url = _job_url(resp)
    job_id = url.split("/jobs/")[1].split("?")[0]
    page = api.client.get(url).get_data(as_text=True)
    assert 'http-equiv="refresh"' in page and 'id="dismiss"' in page and "<progress" in page
    back = api.client.post(f"{BASE}jobs/{job_id}/dismiss")
    assert back.status_code == 303
    assert api.status(job_id)["status"] == "dismissed"
    page = api.client.get(url).get_data(as_text=True)
    assert "dismissed" in page and 'id="dismiss"' not in page


def test_file_upload_and_result_download(api):
    resp = api.client.post(f"{BASE}processes/echo_complex/execution", data={
        "input.file": (io.BytesIO(b"uploaded text"), "in.txt"), "input.mediaType": "text/plain"},
        content_type="multipart/form-data")
    url = _job_url(resp)
    job_id = url.split("/jobs/")[1].split("?")[0]
    api.wait(job_id)
    page = api.client.get(url).get_data(as_text=True)
    href = re.search(r'<a href="([^"]+)" class="result-link"', page).group(1)
    assert api.client.get(href.replace("http://127.0.0.1:5000", "")).get_data() == b"uploaded text"


def test_bad_form_input_shows_the_form_again(api):
    resp = api.client.post(f"{BASE}processes/add/execution", data={"a": "4"})
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert 'role="alert"' in page and "inputs/a" in page and '<form method="post"' in page


def test_operator_page_counts(make_api):
    api = make_api(ogcapi={"jobs_listing": "open"})
    api.client.post(f"{BASE}processes/say_hello/execution", data={"name": "x"})
    page = api.get("jobs?f=html").get_data(as_text=True)
    assert 'id="queue"' in page and "running of 2 slots" in page and "say_hello" in page
    filtered = api.get("jobs?f=html&status=failed").get_data(as_text=True)
    assert "0 jobs match" in filtered
