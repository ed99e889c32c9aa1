"""Outages caused for real: the job store (PostgreSQL stopped and started), a full disk (a 2 MiB tmpfs).

For each: every job reaches a final state that names its cause, no request gets a 500 or an HTML page,
and the log holds a bounded number of lines per outage.
"""

from __future__ import annotations

import time

import pytest
import requests
from lxml import etree

from tests.conftest import wait_for

NS = {"wps": "http://www.opengis.net/wps/1.0.0", "ows": "http://www.opengis.net/ows/1.1"}


def execute(server, identifier: str, inputs: str, asynchronous: bool) -> requests.Response:
    params = {"service": "WPS", "request": "Execute", "version": "1.0.0", "identifier": identifier,
              "DataInputs": inputs}
    if asynchronous:
        params.update(storeExecuteResponse="true", status="true")
    return requests.get(server.url, params=params, timeout=60)


def state(body: bytes) -> str:
    doc = etree.fromstring(body)
    found = doc.xpath("//wps:Status/*", namespaces=NS)
    return etree.QName(found[0]).localname if found else etree.QName(doc).localname


def assert_xml_not_html(resp: requests.Response) -> None:
    assert resp.status_code != 500, resp.text
    assert "xml" in resp.headers.get("Content-Type", ""), resp.headers
    etree.fromstring(resp.content)  # well-formed XML, never Flask's HTML page


@pytest.mark.postgres
def test_postgresql_stopped_and_started_again(live_server, private_postgres):
    server = live_server(gunicorn_workers=2, logging={"database": private_postgres.url, "level": "WARNING"},
                         jobs={"poll_interval": "0.1", "stale_after": "60"},
                         server={"parallelprocesses": 4})
    locations = []
    for _ in range(3):
        resp = execute(server, "sleep", "delay=3", asynchronous=True)
        assert resp.status_code == 200, resp.text
        locations.append(etree.fromstring(resp.content).get("statusLocation"))
    private_postgres.pause()
    try:
        time.sleep(1)
        for asynchronous in (False, True):
            resp = execute(server, "say_hello", "name=outage", asynchronous)
            assert resp.status_code == 503, resp.text
            assert_xml_not_html(resp)
            assert b"ServerBusy" in resp.content and b"job store is unavailable" in resp.content
            assert resp.headers.get("Retry-After")
        status = requests.get(locations[0], timeout=30)
        assert_xml_not_html(status)
        assert status.status_code in (200, 503)
        time.sleep(6)  # the jobs end meanwhile; their end cannot be recorded yet
    finally:
        private_postgres.resume()
    for location in locations:
        final = wait_for(lambda loc=location: (r := requests.get(loc, timeout=30)).status_code == 200
                         and state(r.content) in ("ProcessSucceeded", "ProcessFailed") and r, 90, 0.3)
        assert state(final.content) == "ProcessSucceeded", final.text
    resp = execute(server, "say_hello", "name=back", asynchronous=False)
    assert resp.status_code == 200 and b"Hello back" in resp.content
    log = (server.directory / f"server-{server.port}.log").read_text()
    started = log.count("job store unavailable")
    assert 1 <= started <= 4, log[-4000:]              # once per worker process and outage
    assert log.count("job store available again") >= 1, log[-4000:]
    assert log.count("dispatcher round failed") == 0, log[-4000:]


def test_disk_full_fails_the_job_naming_the_cause(live_server, small_disk):
    """Outputs that do not fit: the job fails saying 'No space left on device' and where; when the disk
    is full, new requests get a 503 naming it; when space returns, jobs run again."""
    server = live_server(server={"workdir": small_disk / "work", "outputpath": small_disk / "outputs"},
                         logging={"database": f"sqlite:///{small_disk / 'jobs.sqlite'}", "level": "WARNING"})
    resp = execute(server, "echo_complex", "input=" + "x" * 200, asynchronous=False)
    assert resp.status_code == 200, resp.text
    filler = small_disk / "filler"
    with open(filler, "wb") as handle:  # fill what is left
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass
    try:
        resp = execute(server, "say_hello", "name=full", asynchronous=False)
        assert_xml_not_html(resp)
        assert resp.status_code in (503, 200), resp.text
        if resp.status_code == 503:
            assert b"No space left on device" in resp.content or b"unavailable" in resp.content, resp.text
        else:
            assert state(resp.content) == "ProcessFailed" and b"No space left on device" in resp.content
    finally:
        filler.unlink()
    resp = execute(server, "say_hello", "name=again", asynchronous=False)
    assert resp.status_code == 200 and b"Hello again" in resp.content, resp.text


def test_outputs_larger_than_the_disk(live_server, small_disk):
    """The job's files are fine in its work directory but cannot be published: failed, naming the path."""
    server = live_server(server={"outputpath": small_disk / "outputs", "maxsingleinputsize": "8mb",
                                 "maxrequestsize": "16mb"}, logging={"level": "WARNING"})
    big = "x" * 3_000_000  # echo_complex writes it back as a file: more than the 2 MiB disk holds
    resp = requests.post(server.url, data=(
        '<wps:Execute service="WPS" version="1.0.0" xmlns:wps="http://www.opengis.net/wps/1.0.0" '
        'xmlns:ows="http://www.opengis.net/ows/1.1"><ows:Identifier>echo_complex</ows:Identifier>'
        '<wps:DataInputs><wps:Input><ows:Identifier>input</ows:Identifier><wps:Data>'
        f'<wps:ComplexData mimeType="text/plain">{big}</wps:ComplexData></wps:Data></wps:Input>'
        '</wps:DataInputs><wps:ResponseForm><wps:ResponseDocument><wps:Output asReference="true">'
        '<ows:Identifier>output</ows:Identifier></wps:Output></wps:ResponseDocument></wps:ResponseForm>'
        '</wps:Execute>'), headers={"Content-Type": "text/xml"}, timeout=60)
    assert_xml_not_html(resp)
    assert state(resp.content) == "ProcessFailed", resp.text
    text = " ".join(etree.fromstring(resp.content).xpath("//ows:ExceptionText/text()", namespaces=NS))
    assert "No space left on device" in text and str(small_disk / "outputs") in text, text
    resp = execute(server, "say_hello", "name=after", asynchronous=False)
    assert resp.status_code == 200 and b"Hello after" in resp.content
