"""Helpers for the deployment tests: WPS requests over HTTP and waiting on status documents."""

from __future__ import annotations

import http.client
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from lxml import etree

IN_CI = os.environ.get("CI", "").lower() == "true"
NS = {"wps": "http://www.opengis.net/wps/1.0.0", "ows": "http://www.opengis.net/ows/1.1",
      "xlink": "http://www.w3.org/1999/xlink"}
FINAL = ("ProcessSucceeded", "ProcessFailed")


def unavailable(why: str) -> None:
    """Skip outside CI when a service is truly missing; fail under CI=true."""
    if IN_CI:
        pytest.fail(f"deployment tests must run under CI: {why}")
    pytest.skip(why)


def execute_url(base: str, identifier: str, inputs: str = "", asynchronous: bool = False, extra: str = "") -> str:
    url = f"{base}?service=WPS&request=Execute&version=1.0.0&identifier={identifier}"
    if inputs:
        url += f"&DataInputs={inputs}"
    if asynchronous:
        url += "&storeExecuteResponse=true&status=true"
    return url + extra


def status_of(document: bytes) -> tuple[str, str]:
    """(ProcessAccepted|ProcessStarted|ProcessPaused|ProcessSucceeded|ProcessFailed, its text)."""
    root = etree.fromstring(document)
    status = root.find("wps:Status", NS)
    assert status is not None, document[:500]
    child = status[0]
    text = child.text or ""
    if etree.QName(child).localname == "ProcessFailed":
        text = " ".join(root.xpath("//ows:ExceptionText/text()", namespaces=NS))
    return etree.QName(child).localname, text


def submit(base: str, identifier: str, inputs: str = "", session: requests.Session | None = None,
           extra: str = "") -> str:
    """Submit an async Execute; return its statusLocation."""
    resp = (session or requests).get(execute_url(base, identifier, inputs, True, extra), timeout=60)
    assert resp.status_code == 200, resp.text[:1000]
    location = etree.fromstring(resp.content).get("statusLocation")
    assert location, resp.text[:1000]
    return location


def job_id(location: str) -> str:
    return location.rsplit("/", 1)[1].removesuffix(".xml")


def poll_status(location: str, opener: Callable[[str], bytes] | None = None) -> tuple[str, str]:
    data = opener(location) if opener else requests.get(location, timeout=30).content
    return status_of(data)


def wait_final(location: str, timeout: float = 90, opener: Callable[[str], bytes] | None = None) -> tuple[str, str]:
    """Poll a status document until the job has ended; fail with its last state otherwise."""
    deadline = time.monotonic() + timeout
    last: tuple[str, str] = ("", "")
    while time.monotonic() < deadline:
        try:
            last = poll_status(location, opener)
        except (requests.RequestException, etree.XMLSyntaxError, OSError):
            pass
        if last[0] in FINAL:
            return last
        time.sleep(0.3)
    raise AssertionError(f"job {location} did not end within {timeout} s; last status {last}")


def wait_until(predicate: Callable[[], object], timeout: float = 30, interval: float = 0.2, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"not within {timeout} s: {what}")


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over a Unix socket (gunicorn's in the server image and the systemd unit)."""

    def __init__(self, path: str, timeout: float = 30) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


def unix_get(sock: Path, url: str) -> tuple[int, bytes, dict[str, str]]:
    """GET over the Unix socket ``sock``; ``url`` may be absolute (only its path and query are used)."""
    parts = urlsplit(url)
    conn = UnixHTTPConnection(str(sock))
    try:
        conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers={"Host": "localhost"})
        resp = conn.getresponse()
        return resp.status, resp.read(), dict(resp.getheaders())
    finally:
        conn.close()
