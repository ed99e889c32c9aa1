"""Tests for pywps.encode.execute: every document validates against wpsExecute_response.xsd."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import etree

from pywps.encode.execute import execute_response
from pywps.exceptions import InvalidParameterValue, NoApplicableCode
from pywps.ows import OWS_NS, WPS_NS, xml_bytes
from pywps.request import parse_request
from pywps.requestmodel import ExecuteRequest, InputValue, OutputRequest, OutputResult
from tests.xsd import validate

NS = {"wps": WPS_NS, "ows": OWS_NS, "xlink": "http://www.w3.org/1999/xlink"}
WHEN = datetime(2024, 5, 1, 12, 30, 15, tzinfo=UTC)
EXAMPLES = Path("/work/shared/ogc-schemas/examples/wps-1.0.0")


@dataclass
class Meta:
    title: str
    href: str = ""
    role: str = ""


@dataclass
class Described:
    identifier: str
    title: str
    abstract: str = ""


@dataclass
class Proc:
    identifier: str = "buffer"
    title: str = "Buffer a polygon"
    abstract: str = "Buffers & things"
    version: str = "1.2"
    metadata: list = field(default_factory=lambda: [Meta("docs", "http://example.org/doc", "doc"), "plain"])
    profile: list = field(default_factory=list)
    inputs: list = field(default_factory=lambda: [Described("dist", "Distance")])
    outputs: list = field(default_factory=lambda: [Described("poly", "Polygon", "The result")])


def render(**kwargs) -> etree._Element:
    """Build a response with sensible defaults and validate it (element and serialized bytes)."""
    args = dict(process=Proc(), status="succeeded", service_instance="http://localhost:5000/wps",
                status_location=None, creation_time=WHEN)
    args.update(kwargs)
    element = execute_response(**args)
    validate(element, "execute_response")
    validate(xml_bytes(element), "execute_response")
    return element


def one(element: etree._Element, path: str) -> etree._Element:
    found = element.xpath(path, namespaces=NS)
    assert len(found) == 1, path
    return found[0]


def test_accepted_with_status_location():
    doc = render(status="accepted", status_location="http://localhost/out/1.xml", message="queued")
    assert doc.get("statusLocation") == "http://localhost/out/1.xml"
    assert doc.get("serviceInstance") == "http://localhost:5000/wps"
    assert doc.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-US"
    assert one(doc, "wps:Status/wps:ProcessAccepted").text == "queued"
    assert one(doc, "wps:Status").get("creationTime") == "2024-05-01T12:30:15+00:00"
    process = one(doc, "wps:Process")
    assert process.get(f"{{{WPS_NS}}}processVersion") == "1.2"
    assert one(process, "ows:Identifier").text == "buffer"
    assert one(process, "ows:Abstract").text == "Buffers & things"
    meta = process.xpath("ows:Metadata", namespaces=NS)
    assert meta[0].get("{http://www.w3.org/1999/xlink}href") == "http://example.org/doc"
    assert meta[1].get("{http://www.w3.org/1999/xlink}title") == "plain"
    assert not doc.xpath("wps:ProcessOutputs", namespaces=NS)


@pytest.mark.parametrize("status,percent,expected", [("started", 42, "42"), ("paused", 150, "99"),
                                                      ("started", -3, "0"), ("started", None, None)])
def test_started_and_paused(status, percent, expected):
    doc = render(status=status, percent=percent, message="working")
    name = "ProcessStarted" if status == "started" else "ProcessPaused"
    element = one(doc, f"wps:Status/wps:{name}")
    assert element.get("percentCompleted") == expected
    assert element.text == "working"


def test_failed_carries_exception_report():
    doc = render(status="failed", exception=InvalidParameterValue("bad <distance>", locator="dist"),
                 language="de-DE")
    exc = one(doc, "wps:Status/wps:ProcessFailed/ows:ExceptionReport/ows:Exception")
    assert exc.get("exceptionCode") == "InvalidParameterValue" and exc.get("locator") == "dist"
    assert one(exc, "ows:ExceptionText").text == "bad <distance>"
    doc = render(status="failed", message="boom")
    exc = one(doc, "wps:Status/wps:ProcessFailed/ows:ExceptionReport/ows:Exception")
    assert exc.get("exceptionCode") == "NoApplicableCode" and exc.get("locator") is None
    assert one(exc, "ows:ExceptionText").text == "boom"
    doc = render(status="failed", exception=NoApplicableCode())
    assert one(doc, "wps:Status/wps:ProcessFailed/ows:ExceptionReport/ows:Exception") is not None


def test_unknown_status():
    with pytest.raises(ValueError):
        execute_response(process=Proc(), status="dismissed", service_instance="x", status_location=None,
                         creation_time=WHEN)


def test_all_output_kinds():
    png = base64.b64encode(b"\x89PNG...").decode()
    outputs = [
        OutputResult("count", "literal", title="Count", value="7", data_type="integer", uom="m"),
        OutputResult("empty", "literal", value=None),
        OutputResult("gml", "complex", value='<?xml version="1.0" encoding="UTF-8"?>\n<g:Point '
                     'xmlns:g="http://www.opengis.net/gml"><g:pos>1 2</g:pos></g:Point>',
                     mime_type="application/gml+xml", schema="http://schemas.opengis.net/gml/3.1.1/base/gml.xsd"),
        OutputResult("json", "complex", value='{"a": [1, 2], "b": "<x>"}', mime_type="application/json"),
        OutputResult("bad", "complex", value="<not closed", mime_type="text/plain"),
        OutputResult("doctype", "complex", value='<!DOCTYPE x [<!ENTITY e "y">]><x>&e;</x>'),
        OutputResult("img", "complex", value=png, mime_type="image/png", encoding="base64"),
        OutputResult("bb", "bbox", lower_corner=[1, 2], upper_corner=[3.5, 4], crs="EPSG:4326"),
        OutputResult("poly", "complex", as_reference=True, href="http://localhost/out/1/poly.gml",
                     mime_type="application/gml+xml", encoding="UTF-8", schema="http://x/y.xsd"),
    ]
    doc = render(outputs=outputs)
    found = doc.xpath("wps:ProcessOutputs/wps:Output", namespaces=NS)
    out = {one(o, "ows:Identifier").text: o for o in found}
    assert list(out) == [o.identifier for o in outputs]
    literal = one(out["count"], "wps:Data/wps:LiteralData")
    assert (literal.text, literal.get("dataType"), literal.get("uom")) == ("7", "integer", "m")
    assert one(out["count"], "ows:Title").text == "Count"
    assert one(out["empty"], "ows:Title").text == "empty"
    assert not one(out["empty"], "wps:Data/wps:LiteralData").text
    cplx = one(out["gml"], "wps:Data/wps:ComplexData")
    assert cplx.get("mimeType") == "application/gml+xml"
    assert one(cplx, "*").tag == "{http://www.opengis.net/gml}Point"
    assert one(out["json"], "wps:Data/wps:ComplexData").text == '{"a": [1, 2], "b": "<x>"}'
    assert one(out["bad"], "wps:Data/wps:ComplexData").text == "<not closed"
    assert one(out["doctype"], "wps:Data/wps:ComplexData").text.startswith("<!DOCTYPE")
    img = one(out["img"], "wps:Data/wps:ComplexData")
    assert img.get("encoding") == "base64" and base64.b64decode(img.text) == b"\x89PNG..."
    bbox = one(out["bb"], "wps:Data/wps:BoundingBoxData")
    assert (bbox.get("crs"), bbox.get("dimensions")) == ("EPSG:4326", "2")
    assert one(bbox, "ows:LowerCorner").text == "1.0 2.0" and one(bbox, "ows:UpperCorner").text == "3.5 4.0"
    ref = one(out["poly"], "wps:Reference")
    assert ref.get("href") == "http://localhost/out/1/poly.gml"
    assert (ref.get("mimeType"), ref.get("encoding"), ref.get("schema")) == (
        "application/gml+xml", "UTF-8", "http://x/y.xsd")
    assert one(out["poly"], "ows:Title").text == "Polygon"
    assert one(out["poly"], "ows:Abstract").text == "The result"


def test_outputs_only_when_succeeded():
    doc = render(status="started", outputs=[OutputResult("a", "literal", value="1")])
    assert not doc.xpath("wps:ProcessOutputs", namespaces=NS)


def test_lineage_echoes_inputs_and_output_definitions():
    request = ExecuteRequest(
        identifier="buffer", lineage=True, store_execute_response=True,
        inputs=(
            InputValue("dist", data="400", uom="m", data_type="float"),
            InputValue("geom", kind="complex", data="<a xmlns='urn:a'><b/></a>", mime_type="text/xml"),
            InputValue("txt", kind="complex", data="plain text"),
            InputValue("bb", kind="bbox", crs="EPSG:4326", lower_corner=(1.0, 2.0), upper_corner=(3.0, 4.0)),
            InputValue("ref", kind="reference", href="http://example.org/wfs", method="POST",
                       headers=(("Accept", "text/xml"),), body="<GetFeature xmlns='urn:wfs'/>",
                       mime_type="text/xml", file="inputs/003"),
            InputValue("ref2", kind="reference", href="http://example.org/x", method="POST",
                       body_reference="http://example.org/body"),
        ),
        outputs=(OutputRequest("poly", as_reference=True, mime_type="text/xml", title="P", abstract="A",
                               uom="m", encoding="UTF-8", schema="http://s"),),
    )
    doc = render(request=request, outputs=[OutputResult("poly", "complex", as_reference=True, href="http://h/p")])
    inputs = doc.xpath("wps:DataInputs/wps:Input", namespaces=NS)
    assert [one(i, "ows:Identifier").text for i in inputs] == ["dist", "geom", "txt", "bb", "ref", "ref2"]
    assert one(inputs[0], "ows:Title").text == "Distance"
    assert one(inputs[0], "wps:Data/wps:LiteralData").get("uom") == "m"
    assert one(inputs[1], "wps:Data/wps:ComplexData/*").tag == "{urn:a}a"
    assert one(inputs[2], "wps:Data/wps:ComplexData").text == "plain text"
    assert one(inputs[3], "wps:Data/wps:BoundingBoxData/ows:UpperCorner").text == "3.0 4.0"
    ref = one(inputs[4], "wps:Reference")
    assert ref.get("{http://www.w3.org/1999/xlink}href") == "http://example.org/wfs"
    assert one(ref, "wps:Header").get("key") == "Accept"
    assert one(ref, "wps:Body/*").tag == "{urn:wfs}GetFeature"
    assert one(inputs[5], "wps:Reference/wps:BodyReference").get("{http://www.w3.org/1999/xlink}href")
    definition = one(doc, "wps:OutputDefinitions/wps:Output")
    assert definition.get("asReference") == "true" and one(definition, "ows:Title").text == "P"

    # without requested outputs, the definitions come from the results
    request = ExecuteRequest(identifier="buffer", lineage=True)
    doc = render(request=request, outputs=[OutputResult("poly", "literal", value="1")])
    assert one(doc, "wps:OutputDefinitions/wps:Output/ows:Identifier").text == "poly"
    assert not doc.xpath("wps:DataInputs", namespaces=NS)
    # no lineage: nothing echoed
    doc = render(request=ExecuteRequest(identifier="buffer", inputs=request.inputs))
    assert not doc.xpath("wps:DataInputs|wps:OutputDefinitions", namespaces=NS)


def test_lineage_from_parsed_official_example():
    request = parse_request("POST", {}, (EXAMPLES / "51_wpsExecute_request-extended_ResponseDocument.xml")
                            .read_bytes())
    request = ExecuteRequest.from_dict({**request.to_dict(), "lineage": True})
    render(request=request, outputs=[OutputResult("BufferedPolygon", "complex", as_reference=True,
                                                  href="http://h/x.gml", mime_type="text/xml")])


def test_minimal_process_stand_in():
    class Bare:
        identifier = "bare"

    doc = render(process=Bare(), status="succeeded", message="")
    assert one(doc, "wps:Process/ows:Title").text == "bare"
    assert one(doc, "wps:Process").get(f"{{{WPS_NS}}}processVersion") == ""
    assert one(doc, "wps:Status/wps:ProcessSucceeded").text == "Process succeeded"


def test_xml_value_with_leading_whitespace_is_embedded():
    value = '\n  <?xml version="1.0" encoding="UTF-8"?>\n<a xmlns="urn:a">1</a>'
    doc = render(outputs=[OutputResult("x", "complex", value=value, mime_type="text/xml")])
    assert one(doc, "wps:ProcessOutputs/wps:Output/wps:Data/wps:ComplexData/*").tag == "{urn:a}a"
