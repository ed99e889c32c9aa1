"""Hostile request text: characters XML 1.0 cannot carry, and bounding boxes no response could echo.

Parser level (``pywps.request``, ``pywps.execute`` validation); the same requests end to end, with the
job slots checked, are in ``tests/e2e/test_hostile_requests.py``.
"""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from pywps.exceptions import InvalidParameterValue
from pywps.execute import parse_kvp_bbox, validate_execute_request
from pywps.inout.basic import parse_coordinate
from pywps.inout.inputs import BoundingBoxInput
from pywps.process import Process
from pywps.processes.examples import BoundingBoxEcho
from pywps.request import bbox_from_string, check_xml_chars, parse_request
from pywps.requestmodel import ExecuteRequest, GetCapabilitiesRequest, InputValue, OutputRequest

WPS_NS = "http://www.opengis.net/wps/1.0.0"
OWS_NS = "http://www.opengis.net/ows/1.1"

# NUL, SOH, VT, ESC, DEL's neighbours that are fine, U+FFFE/U+FFFF and lone surrogates
BAD = ["\x00", "\x01", "\x0b", "\x0c", "\x1b", "\x1f", "\ufffe", "\uffff", "\ud800", "\udfff"]
GOOD = ["\t", "\n", "\r", "\x7f", "\x85", "\u00e9", "\ud7ff", "\ue000", "\ufffd", "\U0001f600", "\U0010ffff"]


def execute(**params: str) -> dict[str, str]:
    return {"service": "WPS", "request": "Execute", "version": "1.0.0", "identifier": "say_hello", **params}


def refused(method: str, args, body: bytes | None = None, **kwargs) -> InvalidParameterValue:
    with pytest.raises(InvalidParameterValue) as info:
        parse_request(method, args, body, **kwargs)
    assert "XML 1.0" in info.value.description or info.value.locator == "request", info.value
    return info.value


class TestKvpCharacters:
    @pytest.mark.parametrize("char", BAD)
    def test_datainputs_value(self, char):
        assert refused("GET", execute(DataInputs=f"name=a{char}b")).locator == "name"

    @pytest.mark.parametrize("encoded", ["%00", "%01", "%0B", "%1B", "%EF%BF%BE"])
    def test_datainputs_value_percent_encoded(self, encoded):
        """DataInputs items are percent-decoded once more by the parser: ``name=a%2500b`` on the wire."""
        assert refused("GET", execute(DataInputs=f"name=a{encoded}b")).locator == "name"

    def test_datainputs_attribute(self):
        assert refused("GET", execute(DataInputs="name=x@uom=m%01")).locator == "name"
        assert refused("GET", execute(DataInputs="name=@xlink:href=http://x/%00")).locator == "name"

    def test_datainputs_names_the_offending_input(self):
        assert refused("GET", execute(DataInputs="name=ok;other=b\x1bad")).locator == "other"

    def test_datainputs_identifier(self):
        assert refused("GET", execute(DataInputs="na%00me=x")).locator == "DataInputs"
        assert refused("GET", execute(DataInputs="na\x00me")).locator == "DataInputs"

    @pytest.mark.parametrize("param, value, locator", [
        ("identifier", "say\x00hello", "identifier"),
        ("language", "en\x1b", "language"),
        ("version", "1.0.0\x0b", "version"),
        ("service", "WPS\x00", "service"),
        ("storeExecuteResponse", "true\x01", "storeExecuteResponse"),
        ("ResponseDocument", "output@uom=\x01", "output"),
        ("ResponseDocument", "out%00put", "ResponseDocument"),
        ("RawDataOutput", "output@mimeType=text/plain%0B", "output"),
        ("unknown", "\ud800", "unknown"),
    ])
    def test_every_parameter(self, param, value, locator):
        assert refused("GET", execute(**{param: value})).locator == locator

    def test_other_operations(self):
        caps = {"service": "WPS", "request": "GetCapabilities"}
        assert refused("GET", {**caps, "updateSequence": "1\x00"}).locator == "updateSequence"
        assert refused("GET", {**caps, "AcceptVersions": "1.0.0,\x01"}).locator == "AcceptVersions"
        describe = {"service": "WPS", "request": "DescribeProcess", "version": "1.0.0"}
        assert refused("GET", {**describe, "identifier": "add,\x1b"}).locator == "identifier"

    def test_parameter_name(self):
        error = refused("GET", {**execute(), "da\x00ta": "1"})
        assert error.locator == "da\ufffdta"

    def test_repeated_parameter(self):
        """Only the first value of a repeated key is used; the others are checked all the same."""
        args = MultiDict([*execute(DataInputs="name=x").items(), ("language", "en-US"), ("language", "\x00")])
        assert refused("GET", args).locator == "language"

    def test_form_encoded_post(self):
        body = b"service=WPS&request=Execute&version=1.0.0&identifier=say_hello&DataInputs=name%3Da%00b"
        error = refused("POST", {}, body, content_type="application/x-www-form-urlencoded")
        assert error.locator == "name"

    @pytest.mark.parametrize("char", GOOD)
    def test_allowed_characters_pass(self, char):
        req = parse_request("GET", execute(DataInputs=f"name=a{char}b", language=f"en{char}"), None)
        assert req.inputs[0].data == f"a{char}b" and req.language == f"en{char}"

    def test_description_names_the_character(self):
        error = refused("GET", execute(DataInputs="name=ab\x1b"))
        assert "U+001B" in error.description and "position 7" in error.description  # of 'name=ab\x1b'


def xml_execute(value: str, literal_attrs: str = "") -> bytes:
    return (f'<wps:Execute service="WPS" version="1.0.0" xmlns:wps="{WPS_NS}" xmlns:ows="{OWS_NS}">'
            "<ows:Identifier>say_hello</ows:Identifier><wps:DataInputs><wps:Input>"
            f"<ows:Identifier>name</ows:Identifier><wps:Data><wps:LiteralData{literal_attrs}>{value}"
            "</wps:LiteralData></wps:Data></wps:Input></wps:DataInputs></wps:Execute>").encode("utf-8",
                                                                                             "surrogatepass")


class TestXmlCharacters:
    @pytest.mark.parametrize("value", [
        "a\x01b", "<![CDATA[a\x01b]]>", "&#0;", "&#1;", "&#x1B;", "&#xD800;", "&#xFFFE;", "&#xFFFF;", "\ud800",
        "\ufffe", "&#x110000;",
    ])
    def test_refused_by_the_xml_parser(self, value):
        assert refused("POST", {}, xml_execute(value)).locator == "request"

    def test_attribute(self):
        assert refused("POST", {}, xml_execute("x", ' uom="m&#1;"')).locator == "request"

    def test_xml_1_1_declaration_does_not_let_controls_in(self):
        body = b'<?xml version="1.1"?>' + xml_execute("&#1;")
        assert refused("POST", {}, body).locator == "request"

    @pytest.mark.parametrize("value", ["&#x9;&#xA;&#xD;", "&#x85;", "&#x10FFFF;", "\u00e9\U0001f600"])
    def test_allowed(self, value):
        assert parse_request("POST", {}, xml_execute(value)).inputs[0].data

    def test_decoded_request_checked(self):
        """The model check behind the XML parser: every text field, with the field's owner as locator."""
        ok = ExecuteRequest("p", inputs=(InputValue("a", data="x"),), outputs=(OutputRequest("o"),))
        assert check_xml_chars(ok) is ok
        cases = [
            (ExecuteRequest("p\x00"), "identifier"),
            (ExecuteRequest("p", language="e\x01"), "language"),
            (ExecuteRequest("p", inputs=(InputValue("a", kind="complex", data="<x>\x0b</x>"),)), "a"),
            (ExecuteRequest("p", inputs=(InputValue("a", kind="reference", href="http://x/",
                                                    headers=(("k", "v\x00"),)),)), "a"),
            (ExecuteRequest("p", inputs=(InputValue("a", kind="reference", href="http://x/", body="\x1b"),)), "a"),
            (ExecuteRequest("p", inputs=(InputValue("a\ud800"),)), "DataInputs"),
            (ExecuteRequest("p", outputs=(OutputRequest("o", mime_type="text/\x00"),)), "o"),
            (ExecuteRequest("p", outputs=(OutputRequest("o\x00"),)), "ResponseForm"),
            (GetCapabilitiesRequest(sections=("All", "\x01")), "sections"),
        ]
        for request, locator in cases:
            with pytest.raises(InvalidParameterValue) as info:
                check_xml_chars(request)
            assert info.value.locator == locator, request


class TestCoordinates:
    @pytest.mark.parametrize("text, value", [("1", 1.0), (" -2.5 ", -2.5), ("+.5", 0.5), ("1e3", 1000.0),
                                             ("4.", 4.0), ("-0", 0.0), ("1E-2", 0.01)])
    def test_numbers(self, text, value):
        assert parse_coordinate(text) == value

    @pytest.mark.parametrize("text", ["NaN", "nan", "inf", "-INF", "Infinity", "1e999", "-1e400", "1_0", "",
                                      "\u0661", "0x10", "1,5", "1 2", "e3", ".", "1\n2"])
    def test_not_numbers(self, text):
        assert parse_coordinate(text) is None


class TestBoundingBoxes:
    @pytest.mark.parametrize("text", ["NaN,NaN,NaN,NaN", "nan,1,2,3", "1,2,inf,4", "-Infinity,0,1,1",
                                      "1,2,3,1e999", "1_0,0,1,1"])
    def test_non_finite_kvp(self, text):
        with pytest.raises(InvalidParameterValue) as info:
            bbox_from_string(text, "bb")
        assert info.value.locator == "bb"
        with pytest.raises(InvalidParameterValue) as info:
            parse_kvp_bbox(text, "bb")
        assert info.value.locator == "bb"
        with pytest.raises(InvalidParameterValue) as info:
            validate_execute_request(BoundingBoxEcho(), ExecuteRequest("echo_bbox", inputs=(
                InputValue("bbox", data=text),)))
        assert info.value.locator == "bbox"

    @pytest.mark.parametrize("lower, upper", [("NaN NaN", "NaN NaN"), ("0 0", "INF 1"), ("0 0", "1e999 1"),
                                              ("-inf 0", "1 1")])
    def test_non_finite_xml(self, lower, upper):
        body = (f'<wps:Execute service="WPS" version="1.0.0" xmlns:wps="{WPS_NS}" xmlns:ows="{OWS_NS}">'
                "<ows:Identifier>echo_bbox</ows:Identifier><wps:DataInputs><wps:Input>"
                "<ows:Identifier>bbox</ows:Identifier><wps:Data><wps:BoundingBoxData>"
                f"<ows:LowerCorner>{lower}</ows:LowerCorner><ows:UpperCorner>{upper}</ows:UpperCorner>"
                "</wps:BoundingBoxData></wps:Data></wps:Input></wps:DataInputs></wps:Execute>").encode()
        with pytest.raises(InvalidParameterValue) as info:
            parse_request("POST", {}, body)
        assert info.value.locator == "bbox"

    def test_non_finite_typed_value(self):
        """A typed bbox built elsewhere (JSON of a job, a test) is checked too."""
        for corner in (float("nan"), float("inf")):
            with pytest.raises(InvalidParameterValue):
                validate_execute_request(BoundingBoxEcho(), ExecuteRequest("echo_bbox", inputs=(
                    InputValue("bbox", kind="bbox", lower_corner=(0.0, corner), upper_corner=(1.0, 1.0)),)))

    @pytest.mark.parametrize("value", [
        InputValue("bbox", data=",".join(["1"] * 1000)),
        InputValue("bbox", data="0,0,0,1,1,1"),
        InputValue("bbox", data="0,0,0,1,1,1,EPSG:4979,3"),
        InputValue("bbox", kind="bbox", lower_corner=(0.0,) * 500, upper_corner=(1.0,) * 500, dimensions=500),
        InputValue("bbox", kind="bbox", lower_corner=(0.0, 0.0, 0.0), upper_corner=(1.0, 1.0, 1.0), dimensions=3),
    ])
    def test_coordinates_must_match_declared_dimensions(self, value):
        with pytest.raises(InvalidParameterValue) as info:
            validate_execute_request(BoundingBoxEcho(), ExecuteRequest("echo_bbox", inputs=(value,)))
        assert info.value.locator == "bbox"

    def test_three_dimensional_input(self):
        process = Process(lambda r, s: s, "b3", "B3", inputs=[BoundingBoxInput("b", "B", ["EPSG:4979"], dimensions=3)])
        validate_execute_request(process, ExecuteRequest("b3", inputs=(InputValue("b", data="0,0,0,1,1,1"),)))
        with pytest.raises(InvalidParameterValue):
            validate_execute_request(process, ExecuteRequest("b3", inputs=(InputValue("b", data="0,0,1,1"),)))

    @pytest.mark.parametrize("text", ["1,2,3,4", "1,2,3,4,EPSG:3035", "1,2,3,4,EPSG:4326,2",
                                      "170,-10,-170,10,EPSG:4326", "-1.5e2,2,+3,4.", " 1 , 2 , 3 , 4 "])
    def test_valid_boxes_still_pass(self, text):
        request = ExecuteRequest("echo_bbox", inputs=(InputValue("bbox", data=text),))
        validate_execute_request(BoundingBoxEcho(), request)

    def test_lower_above_upper_outside_geographic_crs(self):
        """Kept as before: refused in a projected CRS; a geographic box may cross the antimeridian."""
        with pytest.raises(InvalidParameterValue):
            validate_execute_request(BoundingBoxEcho(), ExecuteRequest("echo_bbox", inputs=(
                InputValue("bbox", data="3,2,1,4,EPSG:3035"),)))
