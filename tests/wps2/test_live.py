"""WPS 2.0.0 over real HTTP against gunicorn with two workers (one job store): OWSLib reads what it can of
WPS 2.0.0 (``owslib.wps`` parses only WPS 1.0.0 process lists, so the capabilities' OWS 2.0 sections), and
raw XML requests do everything else. Requests of one job may land on either worker."""

from __future__ import annotations

import uuid

import pytest
import requests
from lxml import etree

from tests.wps2.wpsxml import (
    DECLARE,
    NS,
    NS1,
    document,
    execute,
    job_id_of,
    job_request,
    literal,
    report,
    status_of,
    wait,
)
from tests.xsd import validate


@pytest.fixture
def server(live_server, monkeypatch):
    monkeypatch.setenv("PYWPS_PROCESSES", "pywps.processes:example_processes")
    return live_server(gunicorn_workers=2)


def post(server, body: str) -> requests.Response:
    return requests.post(server.url, data=body.encode(), headers={"Content-Type": "text/xml"}, timeout=60)


def get(server, **params: str) -> requests.Response:
    return requests.get(server.url, params={"service": "WPS", "version": "2.0.0", **params}, timeout=60)


def ok(resp: requests.Response, root: str) -> etree._Element:
    assert resp.status_code == 200, resp.text[:800]
    assert resp.headers["Content-Type"].startswith("text/xml")
    return document(resp.content, root)


def final_status(server, job_id: str, timeout: float = 60) -> str:
    def done():
        status = status_of(ok(get(server, request="GetStatus", jobId=job_id), "StatusInfo"))
        return status if status in ("Succeeded", "Failed", "Dismissed") else None

    return wait(done, timeout, 0.2)


def test_owslib_reads_the_wps2_capabilities(server):
    from owslib.wps import WebProcessingService

    wps = WebProcessingService(server.url, version="2.0.0")  # GetCapabilities&version=2.0.0
    assert wps.identification.type == "WPS"
    assert wps.identification.versions == ["1.0.0", "2.0.0"]
    assert wps.provider.name
    assert [op.name for op in wps.operations] == ["GetCapabilities", "DescribeProcess", "Execute", "GetStatus",
                                                   "GetResult", "Dismiss"]
    assert [m["type"] for m in wps.getOperationByName("Execute").methods] == ["Post"]
    assert wps.getOperationByName("GetStatus").methods[0]["url"] == server.url
    resp = requests.get(server.url, params={"service": "WPS", "request": "GetCapabilities", "version": "2.0.0"},
                        timeout=60)
    root = ok(resp, "Capabilities")
    assert "say_hello" in root.xpath("wps:Contents/wps:ProcessSummary/ows:Identifier/text()", namespaces=NS)


def test_describe_and_execute_over_http(server):
    body = (f'<wps:DescribeProcess {DECLARE} service="WPS" version="2.0.0"><ows:Identifier>echo_complex'
            "</ows:Identifier></wps:DescribeProcess>")
    offering = ok(post(server, body), "ProcessOfferings")
    assert offering.xpath("//wps:ProcessOffering/@outputTransmission", namespaces=NS) == ["value reference"]
    result = ok(post(server, execute("say_hello", literal("name", "HTTP"), outputs=("output",))), "Result")
    assert result.xpath("//wps:LiteralValue/text()", namespaces=NS) == ["Hello HTTP"]
    data = '<wps:Input id="input"><wps:Data mimeType="application/json">{"a": [1, 2]}</wps:Data></wps:Input>'
    result = ok(post(server, execute("echo_complex", data, outputs=("output",), transmission="reference")),
                "Result")
    href = result.xpath("//wps:Reference/@xlink:href", namespaces=NS)[0]
    fetched = requests.get(href, timeout=60)
    assert fetched.status_code == 200 and fetched.json() == {"a": [1, 2]}
    raw = post(server, execute("say_hello", literal("name", "raw"), response="raw"))
    assert raw.status_code == 200 and raw.content == b"Hello raw"


def test_async_job_over_http_on_two_workers(server):
    for _ in range(3):  # each request may be served by either worker
        info = ok(post(server, execute("say_hello", literal("name", "async"), mode="async")), "StatusInfo")
        job_id = job_id_of(info)
        assert final_status(server, job_id) == "Succeeded"
        result = ok(post(server, job_request("GetResult", job_id)), "Result")
        assert result.xpath("//wps:LiteralValue/text()", namespaces=NS) == ["Hello async"]


def test_dismiss_and_errors_over_http(server):
    info = ok(post(server, execute("sleep", literal("delay", "120"), mode="async")), "StatusInfo")
    job_id = job_id_of(info)
    wait(lambda: status_of(ok(get(server, request="GetStatus", jobId=job_id), "StatusInfo")) == "Running", 60, 0.2)
    resp = get(server, request="GetResult", jobId=job_id)
    assert report(resp.content, resp.status_code) == ("ResultNotReady", job_id, 400)
    assert status_of(ok(get(server, request="Dismiss", jobId=job_id), "StatusInfo")) == "Dismissed"
    assert final_status(server, job_id) == "Dismissed"
    resp = post(server, job_request("GetResult", job_id))
    assert report(resp.content, resp.status_code) == ("NoSuchJob", job_id, 400)
    unknown = str(uuid.uuid4())
    resp = get(server, request="GetStatus", jobId=unknown)
    assert report(resp.content, resp.status_code) == ("NoSuchJob", unknown, 400)
    resp = requests.get(server.url, params={"service": "WPS", "request": "Execute", "version": "2.0.0",
                                            "identifier": "say_hello"}, timeout=60)
    assert report(resp.content, resp.status_code) == ("OperationNotSupported", "request", 501)


def test_a_wps1_job_seen_through_wps2_over_http(server):
    resp = requests.get(server.url, params={
        "service": "WPS", "request": "Execute", "version": "1.0.0", "identifier": "say_hello",
        "DataInputs": "name=both", "storeExecuteResponse": "true", "status": "true"}, timeout=60)
    location = etree.fromstring(resp.content).get("statusLocation")
    job_id = location.rsplit("/", 1)[1].removesuffix(".xml")
    assert final_status(server, job_id) == "Succeeded"
    result = ok(get(server, request="GetResult", jobId=job_id), "Result")
    assert result.xpath("//wps:LiteralValue/text()", namespaces=NS) == ["Hello both"]
    status = requests.get(location, timeout=60)
    validate(status.content)
    assert etree.fromstring(status.content).xpath("//wps:ProcessSucceeded", namespaces=NS1)
