"""WPS 2.0.0 request bodies and answer readers shared by the tests/wps2 suites (no pytest, no server)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

from tests.xsd import validate

WPS = "http://www.opengis.net/wps/2.0"
OWS = "http://www.opengis.net/ows/2.0"
OWS11 = "http://www.opengis.net/ows/1.1"
WPS1 = "http://www.opengis.net/wps/1.0.0"
XLINK = "http://www.w3.org/1999/xlink"
NS = {"wps": WPS, "ows": OWS, "xlink": XLINK}
NS1 = {"wps": WPS1, "ows": OWS11}
DECLARE = f'xmlns:wps="{WPS}" xmlns:ows="{OWS}" xmlns:xlink="{XLINK}"'


def literal(identifier: str, value: str) -> str:
    """A ``wps:Input`` with a literal value."""
    return f'<wps:Input id={quoteattr(identifier)}><wps:Data><wps:LiteralValue>{escape(value)}' \
           "</wps:LiteralValue></wps:Data></wps:Input>"


def execute(identifier: str, *inputs: str, mode: str = "sync", response: str = "document",
            outputs: tuple[str, ...] = (), transmission: str = "value") -> str:
    """A WPS 2.0.0 ``wps:Execute`` document (valid against the schema when at least one output is named)."""
    wanted = "".join(f'<wps:Output id={quoteattr(o)} transmission="{transmission}"/>' for o in outputs)
    return (f'<wps:Execute {DECLARE} service="WPS" version="2.0.0" mode="{mode}" response="{response}">'
            f"<ows:Identifier>{escape(identifier)}</ows:Identifier>{''.join(inputs)}{wanted}</wps:Execute>")


def job_request(operation: str, job_id: str) -> str:
    """A ``wps:GetStatus``, ``wps:GetResult`` or ``wps:Dismiss`` document."""
    return (f'<wps:{operation} {DECLARE} service="WPS" version="2.0.0"><wps:JobID>{escape(job_id)}</wps:JobID>'
            f"</wps:{operation}>")


def document(body: bytes, root: str) -> etree._Element:
    """A schema-valid WPS 2.0 document with the given root element (``wps:`` local name)."""
    validate(body)
    element = etree.fromstring(body)
    assert element.tag == f"{{{WPS}}}{root}", body[:500]
    return element


def report(body: bytes, status: int) -> tuple[str, str | None, int]:
    """(exceptionCode, locator, HTTP status) of a schema-valid OWS 2.0 ExceptionReport."""
    validate(body)
    root = etree.fromstring(body)
    assert root.tag == f"{{{OWS}}}ExceptionReport", body[:500]
    assert root.get("version") == "2.0.0"
    [exc] = root.findall(f"{{{OWS}}}Exception")
    return exc.get("exceptionCode"), exc.get("locator"), status


def status_of(element: etree._Element) -> str:
    return element.findtext(f"{{{WPS}}}Status") or ""


def job_id_of(element: etree._Element) -> str:
    return element.findtext(f"{{{WPS}}}JobID") or ""


def ticks(path: Path) -> int:
    """Lines the hostile_ticker process wrote so far."""
    try:
        return len(path.read_text().splitlines())
    except OSError:
        return 0


def wait(predicate: Callable[[], Any], timeout: float = 60, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value is not None and value is not False and not (isinstance(value, (list, tuple)) and not value):
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")
