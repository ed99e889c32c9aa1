"""Tests for pywps.request: KVP and XML POST parsing, errors and locators."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from pywps.exceptions import (
    FileSizeExceeded,
    InvalidParameterValue,
    MissingParameterValue,
    OperationNotSupported,
    OptionNotSupported,
    VersionNegotiationFailed,
    WrongInputData,
)
from pywps.request import bbox_from_string, parse_datainputs, parse_request
from pywps.requestmodel import DescribeProcessRequest, ExecuteRequest, GetCapabilitiesRequest
from tests.xsd import validate

EXAMPLES = Path("/work/shared/ogc-schemas/examples/wps-1.0.0")
HEAD = ('<wps:Execute service="WPS" version="1.0.0" xmlns:wps="http://www.opengis.net/wps/1.0.0" '
        'xmlns:ows="http://www.opengis.net/ows/1.1" xmlns:xlink="http://www.w3.org/1999/xlink">')


def kvp(**args: str):
    """Parse a GET request."""
    return parse_request("GET", args, None)


def execute_xml(inner: str) -> bytes:
    """A WPS 1.0.0 Execute document with the given children after the process identifier."""
    return f"{HEAD}<ows:Identifier>p</ows:Identifier>{inner}</wps:Execute>".encode()


def raises(exc: type, locator: str, *args, **kwargs) -> None:
    """Assert that parse_request raises ``exc`` with ``locator``."""
    with pytest.raises(exc) as info:
        parse_request(*args, **kwargs)
    assert type(info.value) is exc
    assert info.value.locator == locator


# ------------------------------------------------------------------------------------------------- KVP


def test_kvp_getcapabilities_case_insensitive_keys():
    req = parse_request("GET", {"SERVICE": "WPS", "Request": "GetCapabilities", "Language": "fr-CA"}, None)
    assert req == GetCapabilitiesRequest(language="fr-CA", version="1.0.0")


def test_kvp_getcapabilities_options():
    req = kvp(service="WPS", request="getcapabilities", acceptversions="3.0.0, 1.0.0",
              updateSequence="5", sections="ProcessOfferings,Languages")
    assert req.accept_versions == ("3.0.0", "1.0.0")
    assert req.version == "1.0.0"
    assert req.update_sequence == "5"
    assert req.sections == ("ProcessOfferings", "Languages")
    assert kvp(service="WPS", request="GetCapabilities", AcceptVersions="2.0.0").version == "2.0.0"


def test_kvp_getcapabilities_version_negotiation_failed():
    raises(VersionNegotiationFailed, "AcceptVersions", "GET",
           {"service": "WPS", "request": "GetCapabilities", "acceptversions": "0.4.0"}, None)


def test_kvp_service_errors():
    raises(MissingParameterValue, "service", "GET", {"request": "GetCapabilities"}, None)
    raises(InvalidParameterValue, "service", "GET", {"service": "WMS", "request": "GetCapabilities"}, None)


def test_kvp_request_errors():
    raises(MissingParameterValue, "request", "GET", {"service": "WPS"}, None)
    raises(OperationNotSupported, "request", "GET", {"service": "WPS", "request": "GetMap"}, None)
    # GetStatus, GetResult and Dismiss are WPS 2.0.0: without a version they miss one; in WPS 1.0.0 there are none
    raises(MissingParameterValue, "version", "GET", {"service": "WPS", "request": "GetStatus"}, None)
    raises(OperationNotSupported, "request", "GET", {"service": "WPS", "request": "GetStatus", "version": "1.0.0"},
           None)


def test_kvp_version_errors():
    base = {"service": "WPS", "request": "DescribeProcess", "identifier": "a"}
    raises(MissingParameterValue, "version", "GET", base, None)
    raises(InvalidParameterValue, "version", "GET", {**base, "version": "0.4.0"}, None)
    raises(MissingParameterValue, "version", "GET", {**base, "request": "Execute"}, None)


def test_kvp_describeprocess():
    req = kvp(service="WPS", request="DescribeProcess", version="1.0.0", identifier="a, b,c", language="de")
    assert req == DescribeProcessRequest(identifiers=("a", "b", "c"), version="1.0.0", language="de")
    req = kvp(service="WPS", request="DescribeProcess", version="1.0.0", identifier="all")
    assert req.identifiers == ("all",)
    raises(MissingParameterValue, "identifier", "GET",
           {"service": "WPS", "request": "DescribeProcess", "version": "1.0.0"}, None)
    raises(MissingParameterValue, "identifier", "GET",
           {"service": "WPS", "request": "DescribeProcess", "version": "1.0.0", "identifier": " , "}, None)


def test_kvp_execute_full_datainputs():
    req = kvp(
        service="WPS", request="Execute", version="1.0.0", identifier="buffer", lineage="true",
        status="true", storeExecuteResponse="TRUE", language="en-US",
        DataInputs=(
            "a=1;b=@xlink:href=http%3A%2F%2Fexample.org%2Fwfs%3Fa%3D1%26b%3D2@mimeType=text/xml"
            "@encoding=UTF-8@schema=http%3A%2F%2Fs.org%2Fx.xsd@method=post;c=1.5@uom=m@datatype=float;"
            "bbox=1,2,3,4,EPSG:4326;mail=me@example.org;a=2;text=a%3Bb%40c%3Dd"
        ),
        ResponseDocument="out1@asReference=true@mimeType=application/json;out2@uom=m",
    )
    assert isinstance(req, ExecuteRequest)
    assert req.identifier == "buffer" and req.lineage and req.status and req.store_execute_response
    assert req.is_async and not req.raw_output and req.language == "en-US"
    a1, b, c, bbox, mail, a2, text = req.inputs
    assert (a1.identifier, a1.kind, a1.data) == ("a", "literal", "1")
    assert (a2.identifier, a2.data) == ("a", "2")
    assert [i.data for i in req.inputs_for("a")] == ["1", "2"]
    assert b.kind == "reference" and b.href == "http://example.org/wfs?a=1&b=2"
    assert (b.mime_type, b.encoding, b.method) == ("text/xml", "UTF-8", "POST")
    assert b.schema == "http://s.org/x.xsd"
    assert (c.data, c.uom, c.data_type) == ("1.5", "m", "float")
    assert (bbox.kind, bbox.data) == ("literal", "1,2,3,4,EPSG:4326")
    assert mail.data == "me@example.org"
    assert text.data == "a;b@c=d"
    out1, out2 = req.outputs
    assert out1.identifier == "out1" and out1.as_reference and out1.mime_type == "application/json"
    assert out2.identifier == "out2" and not out2.as_reference and out2.uom == "m"


def test_kvp_execute_bracketed_syntax_from_the_standard():
    req = kvp(service="WPS", request="Execute", version="1.0.0", identifier="Buffer",
              DataInputs="[InputPolygon=@xlink:href=http%3A%2F%2Ffoo.bar%2Fsome_WFS_request.xml;BufferDistance=400]",
              ResponseDocument="[BufferedPolygon=@asReference=true]", storeExecuteResponse="true")
    poly, dist = req.inputs
    assert poly.kind == "reference" and poly.href == "http://foo.bar/some_WFS_request.xml"
    assert dist.data == "400"
    assert req.outputs[0].identifier == "BufferedPolygon" and req.outputs[0].as_reference
    assert req.store_execute_response and not req.status


def test_kvp_execute_rawdataoutput():
    req = kvp(service="WPS", request="Execute", version="1.0.0", identifier="p",
              RawDataOutput="result@mimeType=image/png", storeExecuteResponse="true")
    assert req.raw_output and not req.store_execute_response
    assert req.outputs[0].identifier == "result" and req.outputs[0].mime_type == "image/png"
    raises(InvalidParameterValue, "RawDataOutput", "GET",
           {"service": "WPS", "request": "Execute", "version": "1.0.0", "identifier": "p",
            "RawDataOutput": "a;b"}, None)
    raises(InvalidParameterValue, "RawDataOutput", "GET",
           {"service": "WPS", "request": "Execute", "version": "1.0.0", "identifier": "p",
            "RawDataOutput": "a", "ResponseDocument": "b"}, None)


def test_kvp_execute_errors():
    base = {"service": "WPS", "request": "Execute", "version": "1.0.0"}
    raises(MissingParameterValue, "identifier", "GET", base, None)
    raises(InvalidParameterValue, "status", "GET", {**base, "identifier": "p", "status": "maybe"}, None)
    raises(InvalidParameterValue, "x", "GET", {**base, "identifier": "p", "DataInputs": "x"}, None)
    raises(InvalidParameterValue, "DataInputs", "GET", {**base, "identifier": "p", "DataInputs": "=3"}, None)
    raises(InvalidParameterValue, "r", "GET",
           {**base, "identifier": "p", "DataInputs": "r=@xlink:href=http://a@method=PUT"}, None)


def test_parse_datainputs_empty_items_and_request_roundtrip():
    inputs = parse_datainputs(";a=1;;")
    assert len(inputs) == 1
    req = kvp(service="WPS", request="Execute", version="1.0.0", identifier="p", DataInputs="a=1;b=@href=http://x")
    assert ExecuteRequest.from_dict(req.to_dict()) == req


def test_bbox_from_string():
    value = bbox_from_string("1,2,3,4,EPSG:4326", "bb")
    assert (value.kind, value.crs, value.dimensions) == ("bbox", "EPSG:4326", 2)
    assert value.lower_corner == (1.0, 2.0) and value.upper_corner == (3.0, 4.0)
    value = bbox_from_string("46,102,0,47,103,1,urn:ogc:def:crs:EPSG:6.6:4979,3", "bb")
    assert value.dimensions == 3 and value.upper_corner == (47.0, 103.0, 1.0)
    assert bbox_from_string("-1.5,2e1,3,4").crs is None
    for bad in ("1,2,3", "a,b", "1,2,3,4,crs,5", "1,2,3,4,crs,x,y"):
        with pytest.raises(InvalidParameterValue) as info:
            bbox_from_string(bad, "bb")
        assert info.value.locator == "bb"


def test_post_form_encoded_body_is_kvp():
    body = b"service=WPS&request=DescribeProcess&version=1.0.0&identifier=a"
    req = parse_request("POST", {}, body, "application/x-www-form-urlencoded")
    assert req == DescribeProcessRequest(identifiers=("a",))
    req = parse_request("POST", {}, body, content_type="application/x-www-form-urlencoded; charset=UTF-8")
    assert req.identifiers == ("a",)


def test_post_empty_body():
    """CITE A.4.1.2: a POST is an XML request; with no body it is refused even with KVP in its URL."""
    raises(MissingParameterValue, "request", "POST", {}, b"  ")
    caps = {"service": "WPS", "version": "1.0.0", "request": "GetCapabilities"}
    for body in (b"", b" \n", None):
        for content_type in (None, "text/xml", "application/xml", "text/plain"):
            raises(MissingParameterValue, "request", "POST", caps, body, content_type)
    # a form-encoded POST is KVP, its URL parameters included, also with an empty form
    assert parse_request("POST", caps, b"", "application/x-www-form-urlencoded").version == "1.0.0"
    assert parse_request("POST", caps, None, "application/x-www-form-urlencoded; charset=UTF-8").version == "1.0.0"


# ------------------------------------------------------------------------------------------------- XML


REQUEST_EXAMPLES = sorted(p.name for p in EXAMPLES.glob("*_request*.xml") if "SOAP" not in p.name)


@pytest.mark.parametrize("name", REQUEST_EXAMPLES)
def test_official_examples_parse(name):
    body = (EXAMPLES / name).read_bytes()
    validate(body)
    req = parse_request("POST", {}, body)
    assert req.version == "1.0.0"


def test_official_execute_examples_content():
    req = parse_request("POST", {}, (EXAMPLES / "52_wpsExecute_request_ResponseDocument.xml").read_bytes())
    poly, dist = req.inputs
    assert poly.kind == "reference" and poly.method == "POST" and poly.mime_type == "text/xml"
    assert poly.schema == "http://foo.bar/gml_polygon_schema.xsd"
    assert (dist.data, dist.uom) == ("400", "feet")
    assert req.store_execute_response and req.status and req.lineage
    out = req.outputs[0]
    assert out.as_reference and out.title == "Area serviced by playground."

    req = parse_request("POST", {}, (EXAMPLES / "53_wpsExecute_request_ComplexValue.xml").read_bytes())
    complex_input = req.inputs[1]
    assert complex_input.kind == "complex"
    element = etree.fromstring(complex_input.data.encode())
    assert element.tag == "{http://mas.orchestra.jrc.it}RangeToValueMappings"
    assert len(element.findall("{http://mas.orchestra.jrc.it}Mapping")) == 2

    req = parse_request("POST", {}, (EXAMPLES / "50_wpsExecute_request_RawDataOutput.xml").read_bytes())
    assert req.raw_output and req.outputs[0].identifier == "BufferedPolygon"


def test_official_capabilities_and_describe_examples():
    req = parse_request("POST", {}, (EXAMPLES / "10_wpsGetCapabilities_request.xml").read_bytes())
    assert req == GetCapabilitiesRequest(accept_versions=("1.0.0",), language="en-CA")
    req = parse_request("POST", {}, (EXAMPLES / "30_wpsDescribeProcess_request.xml").read_bytes())
    assert req == DescribeProcessRequest(identifiers=("intersection", "union"), language="en-CA")


def test_xml_execute_all_input_kinds():
    body = execute_xml(
        "<wps:DataInputs>"
        '<wps:Input><ows:Identifier>lit</ows:Identifier><wps:Data>'
        '<wps:LiteralData dataType="xs:double" uom="m">3.5</wps:LiteralData></wps:Data></wps:Input>'
        '<wps:Input><ows:Identifier>cdata</ows:Identifier><wps:Data>'
        '<wps:ComplexData mimeType="application/json"><![CDATA[{"a": "<b>"}]]></wps:ComplexData>'
        "</wps:Data></wps:Input>"
        '<wps:Input><ows:Identifier>b64</ows:Identifier><wps:Data>'
        '<wps:ComplexData mimeType="image/png" encoding="base64">aGVs\n  bG8=\n</wps:ComplexData>'
        "</wps:Data></wps:Input>"
        '<wps:Input><ows:Identifier>gml</ows:Identifier><wps:Data>'
        '<wps:ComplexData mimeType="text/xml" schema="http://s/x.xsd"><!-- c -->'
        '<g:Point xmlns:g="http://www.opengis.net/gml"><g:pos>1 2</g:pos></g:Point></wps:ComplexData>'
        "</wps:Data></wps:Input>"
        '<wps:Input><ows:Identifier>bb</ows:Identifier><wps:Data>'
        '<wps:BoundingBoxData crs="EPSG:4326" dimensions="2">'
        "<ows:LowerCorner>1 2</ows:LowerCorner><ows:UpperCorner>3 4</ows:UpperCorner>"
        "</wps:BoundingBoxData></wps:Data></wps:Input>"
        '<wps:Input><ows:Identifier>ref</ows:Identifier>'
        '<wps:Reference xlink:href="http://example.org/wfs" method="POST" mimeType="text/xml" '
        'encoding="UTF-8">'
        '<wps:Header key="Accept" value="text/xml"/><wps:Header key="X-A" value="1"/>'
        "<wps:Body><GetFeature xmlns=\"http://www.opengis.net/wfs\"/></wps:Body></wps:Reference></wps:Input>"
        '<wps:Input><ows:Identifier>ref2</ows:Identifier>'
        '<wps:Reference xlink:href="http://example.org/wfs" method="POST">'
        '<wps:BodyReference xlink:href="http://example.org/body.xml"/></wps:Reference></wps:Input>'
        '<wps:Input><ows:Identifier>ref3</ows:Identifier>'
        '<wps:Reference xlink:href="http://example.org/x" method="POST"><wps:Body>a=1&amp;b=2</wps:Body>'
        "</wps:Reference></wps:Input>"
        "</wps:DataInputs>"
        '<wps:ResponseForm><wps:ResponseDocument storeExecuteResponse="true" status="1" lineage="false">'
        '<wps:Output asReference="true" mimeType="text/xml" encoding="UTF-8" schema="http://s/y.xsd">'
        "<ows:Identifier>o1</ows:Identifier><ows:Title>T</ows:Title><ows:Abstract>A</ows:Abstract></wps:Output>"
        '<wps:Output uom="m"><ows:Identifier>o2</ows:Identifier></wps:Output>'
        "</wps:ResponseDocument></wps:ResponseForm>"
    )
    validate(body, "execute_request")
    req = parse_request("POST", {}, body)
    lit, cdata, b64, gml, bb, ref, ref2, ref3 = req.inputs
    assert (lit.kind, lit.data, lit.data_type, lit.uom) == ("literal", "3.5", "xs:double", "m")
    assert (cdata.kind, cdata.data, cdata.mime_type) == ("complex", '{"a": "<b>"}', "application/json")
    assert (b64.data, b64.encoding) == ("aGVsbG8=", "base64")
    point = etree.fromstring(gml.data.encode())
    assert point.tag == "{http://www.opengis.net/gml}Point" and gml.schema == "http://s/x.xsd"
    assert (bb.kind, bb.crs, bb.dimensions, bb.lower_corner, bb.upper_corner) == (
        "bbox", "EPSG:4326", 2, (1.0, 2.0), (3.0, 4.0))
    assert ref.kind == "reference" and ref.method == "POST"
    assert ref.headers == (("Accept", "text/xml"), ("X-A", "1"))
    assert etree.fromstring(ref.body.encode()).tag == "{http://www.opengis.net/wfs}GetFeature"
    assert ref2.body_reference == "http://example.org/body.xml" and ref2.body is None
    assert ref3.body == "a=1&b=2"
    assert req.store_execute_response and req.status and not req.lineage
    o1, o2 = req.outputs
    assert (o1.as_reference, o1.mime_type, o1.encoding, o1.schema, o1.title, o1.abstract) == (
        True, "text/xml", "UTF-8", "http://s/y.xsd", "T", "A")
    assert (o2.as_reference, o2.uom, o2.title) == (False, "m", None)
    assert ExecuteRequest.from_dict(req.to_dict()) == req


def test_xml_errors():
    raises(InvalidParameterValue, "request", "POST", {}, b"<not xml")
    raises(InvalidParameterValue, "request", "POST", {}, b"<foo/>")
    raises(OperationNotSupported, "GetFeature", "POST", {},
           b'<wps:GetFeature xmlns:wps="http://www.opengis.net/wps/1.0.0" service="WPS"/>')
    raises(InvalidParameterValue, "request", "POST", {},
           b'<!DOCTYPE x [<!ENTITY e "x">]><wps:Execute xmlns:wps="http://www.opengis.net/wps/1.0.0"/>')
    raises(InvalidParameterValue, "service", "POST", {}, execute_xml("").replace(b'"WPS"', b'"WMS"'))
    raises(MissingParameterValue, "version", "POST", {}, execute_xml("").replace(b' version="1.0.0"', b""))
    raises(InvalidParameterValue, "version", "POST", {}, execute_xml("").replace(b'"1.0.0"', b'"2.0.0"'))
    raises(MissingParameterValue, "identifier", "POST", {},
           execute_xml("").replace(b"<ows:Identifier>p</ows:Identifier>", b""))
    raises(MissingParameterValue, "x", "POST", {},
           execute_xml("<wps:DataInputs><wps:Input><ows:Identifier>x</ows:Identifier></wps:Input></wps:DataInputs>"))
    raises(WrongInputData, "bb", "POST", {}, execute_xml(  # shown to a WPS 1.0.0 client as InvalidParameterValue
        "<wps:DataInputs><wps:Input><ows:Identifier>bb</ows:Identifier><wps:Data><wps:BoundingBoxData>"
        "<ows:LowerCorner>1 x</ows:LowerCorner><ows:UpperCorner>3 4</ows:UpperCorner>"
        "</wps:BoundingBoxData></wps:Data></wps:Input></wps:DataInputs>"))
    raises(MissingParameterValue, "r", "POST", {}, execute_xml(
        "<wps:DataInputs><wps:Input><ows:Identifier>r</ows:Identifier><wps:Reference/></wps:Input>"
        "</wps:DataInputs>"))
    raises(MissingParameterValue, "identifier", "POST", {},
           b'<DescribeProcess xmlns="http://www.opengis.net/wps/1.0.0" service="WPS" version="1.0.0"/>')
    raises(VersionNegotiationFailed, "AcceptVersions", "POST", {},
           b'<wps:GetCapabilities xmlns:wps="http://www.opengis.net/wps/1.0.0" '
           b'xmlns:ows="http://www.opengis.net/ows/1.1" service="WPS"><wps:AcceptVersions>'
           b"<ows:Version>9.9.9</ows:Version></wps:AcceptVersions></wps:GetCapabilities>")


@pytest.mark.parametrize("root", ["getcapabilities", "GETCAPABILITIES", "getCapabilities", "describeprocess",
                                  "Describeprocess", "execute", "EXECUTE", "getstatus", "Dismiss".lower()])
@pytest.mark.parametrize("ns", ["http://www.opengis.net/wps/1.0.0", "http://www.opengis.net/wps/2.0"])
def test_xml_root_names_are_case_sensitive(root, ns):
    """CITE A.4.2.2: ``<wps:getcapabilities>`` is not ``<wps:GetCapabilities>``; the same for every operation."""
    body = (f'<wps:{root} xmlns:wps="{ns}" xmlns:ows="http://www.opengis.net/ows/1.1" service="WPS" '
            f'version="1.0.0"><ows:Identifier>p</ows:Identifier></wps:{root}>').encode()
    with pytest.raises(InvalidParameterValue) as info:
        parse_request("POST", {}, body, "text/xml")
    assert info.value.code == 400 and info.value.locator == "request"
    assert "case-sensitive" in str(info.value)


def test_body_size_limit():
    body = execute_xml("")
    assert parse_request("POST", {}, body, max_request_size=len(body)).identifier == "p"
    raises(FileSizeExceeded, "request", "POST", {}, body, max_request_size=len(body) - 1)
    raises(FileSizeExceeded, "request", "POST", {}, body, "text/xml", max_request_size=len(body) - 1)
    with pytest.raises(FileSizeExceeded) as info:
        parse_request("POST", {}, body, max_request_size=10)
    assert info.value.code == 413


# ------------------------------------------------------------------------------------------------- WPS 2.0

W2 = ('xmlns:wps="http://www.opengis.net/wps/2.0" xmlns:ows="http://www.opengis.net/ows/2.0" '
      'xmlns:xlink="http://www.w3.org/1999/xlink"')


def test_wps2_xml_requests():
    caps = f'<wps:GetCapabilities {W2} service="WPS"/>'.encode()
    validate(caps, "wps2")
    assert parse_request("POST", {}, caps).version == "2.0.0"
    desc = f'<wps:DescribeProcess {W2} service="WPS" version="2.0.0"><ows:Identifier>a</ows:Identifier>' \
           "</wps:DescribeProcess>"
    validate(desc.encode(), "wps2")
    assert parse_request("POST", {}, desc.encode()) == DescribeProcessRequest(("a",), version="2.0.0")
    body = (
        f'<wps:Execute {W2} service="WPS" version="2.0.0" mode="async" response="document">'
        "<ows:Identifier>p</ows:Identifier>"
        '<wps:Input id="lit"><wps:Data><wps:LiteralValue uom="m">5</wps:LiteralValue></wps:Data></wps:Input>'
        '<wps:Input id="plain"><wps:Data>7</wps:Data></wps:Input>'
        '<wps:Input id="xml"><wps:Data mimeType="text/xml"><a xmlns="urn:x"/></wps:Data></wps:Input>'
        '<wps:Input id="bb"><wps:Data><ows:BoundingBox crs="EPSG:4326"><ows:LowerCorner>1 2</ows:LowerCorner>'
        "<ows:UpperCorner>3 4</ows:UpperCorner></ows:BoundingBox></wps:Data></wps:Input>"
        '<wps:Input id="ref"><wps:Reference xlink:href="http://x.org/a" mimeType="text/csv"/></wps:Input>'
        '<wps:Output id="out" transmission="reference" mimeType="text/xml"/>'
        "</wps:Execute>"
    ).encode()
    validate(body, "wps2")
    wrapped = parse_request("POST", {}, body)
    assert (wrapped.version, wrapped.mode, wrapped.response) == ("2.0.0", "async", "document")
    req = wrapped.execute  # what a job is made of: the operation sets store/status once the mode is decided
    assert req.version == "2.0.0" and not req.is_async and not req.raw_output
    lit, plain, xml, bb, ref = req.inputs
    assert (lit.kind, lit.data, lit.uom) == ("literal", "5", "m")
    assert (plain.kind, plain.data) == ("literal", "7")
    assert xml.kind == "complex" and xml.mime_type == "text/xml" and "urn:x" in xml.data
    assert bb.kind == "bbox" and bb.upper_corner == (3.0, 4.0)
    assert ref.kind == "reference" and ref.mime_type == "text/csv"
    assert req.outputs[0].as_reference and req.outputs[0].identifier == "out"
    nested = body.replace(b'<wps:Input id="plain"><wps:Data>7</wps:Data></wps:Input>',
                          b'<wps:Input id="n"><wps:Input id="m"><wps:Data>1</wps:Data></wps:Input>'
                          b"</wps:Input>")
    raises(OptionNotSupported, "n", "POST", {}, nested)
    raises(MissingParameterValue, "JobID", "POST", {},
           f'<wps:GetStatus {W2} service="WPS" version="2.0.0"/>'.encode())


def test_wps2_kvp_describe():
    req = kvp(service="WPS", request="DescribeProcess", version="2.0.0", identifier="a")
    assert req.version == "2.0.0"


def test_xml_with_leading_whitespace_and_declaration():
    body = b'\n  <?xml version="1.0" encoding="UTF-8"?>' + execute_xml("")
    assert parse_request("POST", {}, body).identifier == "p"
