"""CITE WPS 1.0.0 POST checks over real HTTP: an empty POST body and root elements in the wrong case."""

from __future__ import annotations

import pytest
import requests
from lxml import etree

from tests.xsd import validate

OWS_NS = "http://www.opengis.net/ows/1.1"
WPS_NS = "http://www.opengis.net/wps/1.0.0"


def exception(resp: requests.Response) -> tuple[str, str | None, int]:
    """(exceptionCode, locator, HTTP status) of a schema-valid ExceptionReport."""
    validate(resp.content)
    root = etree.fromstring(resp.content)
    assert root.tag == f"{{{OWS_NS}}}ExceptionReport", resp.text[:300]
    exc = root.find(f"{{{OWS_NS}}}Exception")
    return exc.get("exceptionCode"), exc.get("locator"), resp.status_code


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from tests.conftest import LiveServer

    live = LiveServer(tmp_path_factory.mktemp("cite")).start()
    yield live
    live.stop()


@pytest.mark.parametrize("content_type", [None, "text/xml", "application/xml"])
def test_empty_post_with_kvp_in_url_is_an_exception(server, content_type):
    """A.4.1.2: POST …/wps?service=WPS&version=1.0.0&request=GetCapabilities with no body."""
    headers = {"Content-Type": content_type} if content_type else {}
    resp = requests.post(f"{server.url}?service=WPS&version=1.0.0&request=GetCapabilities", data=b"",
                         headers=headers, timeout=30)
    assert exception(resp) == ("MissingParameterValue", "request", 400)


def test_form_encoded_post_stays_kvp(server):
    url = f"{server.url}?service=WPS&version=1.0.0&request=GetCapabilities"
    resp = requests.post(url, data=b"", headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=30)
    assert resp.status_code == 200 and etree.fromstring(resp.content).tag == f"{{{WPS_NS}}}Capabilities"
    resp = requests.post(server.url, data={"service": "WPS", "request": "DescribeProcess", "version": "1.0.0",
                                           "identifier": "say_hello"}, timeout=30)
    assert resp.status_code == 200 and b"ProcessDescriptions" in resp.content


@pytest.mark.parametrize("root, child", [
    ("getcapabilities", ""),
    ("GETCAPABILITIES", ""),
    ("describeprocess", "<ows:Identifier>say_hello</ows:Identifier>"),
    ("DescribeProcesS", "<ows:Identifier>say_hello</ows:Identifier>"),
    ("execute", "<ows:Identifier>say_hello</ows:Identifier>"),
])
def test_root_in_the_wrong_case_is_an_exception(server, root, child):
    """A.4.2.2: XML names are case-sensitive; every operation's root is checked the same way."""
    body = (f'<?xml version="1.0" encoding="UTF-8"?><wps:{root} xmlns:wps="{WPS_NS}" xmlns:ows="{OWS_NS}" '
            f'service="WPS" version="1.0.0">{child}</wps:{root}>')
    assert exception(server.post(body)) == ("InvalidParameterValue", "request", 400)
    right = {"getcapabilities": "GetCapabilities", "describeprocess": "DescribeProcess"}.get(root.lower())
    if right:  # the same document with the right name is answered
        resp = server.post(body.replace(f"wps:{root}", f"wps:{right}"))
        assert resp.status_code == 200, resp.text
