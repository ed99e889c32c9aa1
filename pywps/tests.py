"""Test helpers, PyWPS 4 compatible: ``client_for(service)``, ``WpsClient``, ``WpsTestResponse`` and assertions.

Existing process collections' test suites run against this server with them unchanged.
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from werkzeug.test import Client
from werkzeug.wrappers import Response

from pywps.ows import NAMESPACES, parse_xml

xpath_ns = NAMESPACES["1.0.0"]


class WpsClient(Client):
    """A werkzeug test client with WPS helpers."""

    def post_xml(self, *args: Any, **kwargs: Any) -> Any:
        doc = kwargs.pop("doc")
        data = etree.tostring(doc, pretty_print=True) if not isinstance(doc, (bytes, str)) else doc
        kwargs["data"] = data
        kwargs.setdefault("content_type", "text/xml")
        return self.post(*args, **kwargs)

    def post_json(self, *args: Any, **kwargs: Any) -> Any:
        import json

        doc = kwargs.pop("doc")
        kwargs["data"] = json.dumps(doc)
        kwargs["content_type"] = "application/json"
        return self.post(*args, **kwargs)


class WpsTestResponse(Response):
    """A response whose XML body can be queried with WPS namespaces."""

    @property
    def xml(self) -> etree._Element:
        cached = getattr(self, "_xml", None)
        if cached is None:
            cached = self._xml = parse_xml(self.get_data())
        return cached

    def xpath(self, path: str) -> list:
        return self.xml.xpath(path, namespaces=xpath_ns)

    def xpath_text(self, path: str) -> str:
        return " ".join(e.text or "" for e in self.xpath(path))


def client_for(service: Any) -> WpsClient:
    """A test client for a ``Service`` (or any WSGI app)."""
    return WpsClient(service, WpsTestResponse)


def assert_response_accepted(resp: WpsTestResponse) -> None:
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.headers["Content-Type"].startswith("text/xml")
    success = resp.xpath_text("/wps:ExecuteResponse/wps:Status/wps:ProcessAccepted")
    assert success is not None and resp.xpath("/wps:ExecuteResponse/wps:Status/wps:ProcessAccepted")


def assert_process_started(resp: WpsTestResponse) -> None:
    assert resp.status_code == 200
    assert resp.xpath("/wps:ExecuteResponse/wps:Status/wps:ProcessStarted")


def assert_response_success(resp: WpsTestResponse) -> None:
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.headers["Content-Type"].startswith("text/xml")
    success = resp.xpath("/wps:ExecuteResponse/wps:Status/wps:ProcessSucceeded")
    assert len(success) == 1, resp.get_data(as_text=True)


def assert_process_exception(resp: WpsTestResponse, code: str | None = None) -> None:
    assert resp.status_code >= 400, resp.status_code
    assert resp.headers["Content-Type"].startswith("text/xml")
    elements = resp.xpath("/ows:ExceptionReport/ows:Exception")
    assert elements, resp.get_data(as_text=True)
    if code is not None:
        assert elements[0].attrib["exceptionCode"] == code, elements[0].attrib["exceptionCode"]


def assert_pywps_version(resp: WpsTestResponse) -> None:
    assert resp.xpath("/wps:Capabilities") or resp.xpath("/wps:ProcessDescriptions")
