"""Hostile request text: characters XML 1.0 cannot carry.

Parser level (``pywps.request``, ``pywps.execute`` validation); the same requests end to end, with the
job slots checked, are in ``tests/e2e/test_hostile_requests.py``.
"""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from pywps.exceptions import InvalidParameterValue
from pywps.request import check_xml_chars, parse_request
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

