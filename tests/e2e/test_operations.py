"""GetCapabilities, DescribeProcess and Execute through the WSGI app; every document is XSD-validated."""

from __future__ import annotations

import base64

import pytest

from pywps.tests import assert_process_exception, assert_response_success
from tests.conftest import wait_for
from tests.xsd import validate

EXECUTE = """<?xml version="1.0" encoding="UTF-8"?>
<wps:Execute service="WPS" version="1.0.0" xmlns:wps="http://www.opengis.net/wps/1.0.0"
  xmlns:ows="http://www.opengis.net/ows/1.1" xmlns:xlink="http://www.w3.org/1999/xlink">
  <ows:Identifier>{identifier}</ows:Identifier>
  <wps:DataInputs>{inputs}</wps:DataInputs>
  {form}
</wps:Execute>"""


def execute_xml(identifier: str, inputs: str, form: str = "") -> str:
    return EXECUTE.format(identifier=identifier, inputs=inputs, form=form)


def literal(identifier: str, value: str) -> str:
    return (f"<wps:Input><ows:Identifier>{identifier}</ows:Identifier>"
            f"<wps:Data><wps:LiteralData>{value}</wps:LiteralData></wps:Data></wps:Input>")


def ok(resp):
    validate(resp.get_data())
    return resp


def exception_of(resp):
    validate(resp.get_data())
    element = resp.xpath("/ows:ExceptionReport/ows:Exception")[0]
    return element.get("exceptionCode"), element.get("locator")


class TestGetCapabilities:
    def test_kvp(self, client):
        resp = ok(client.get("/wps?service=WPS&request=GetCapabilities"))
        assert resp.status_code == 200
        ids = resp.xpath_text("/wps:Capabilities/wps:ProcessOfferings/wps:Process/ows:Identifier").split()
        assert {"say_hello", "add", "sleep", "echo_complex", "fail"} <= set(ids)
        assert resp.xpath("/wps:Capabilities/wps:Languages/wps:Default/ows:Language")

    def test_root_path_and_case_insensitive_keys(self, client):
        resp = ok(client.get("/?SERVICE=wps&REQUEST=getcapabilities"))
        assert resp.status_code == 200

    def test_post(self, client):
        body = ('<wps:GetCapabilities service="WPS" xmlns:wps="http://www.opengis.net/wps/1.0.0" '
                'xmlns:ows="http://www.opengis.net/ows/1.1"><wps:AcceptVersions><ows:Version>1.0.0</ows:Version>'
                '</wps:AcceptVersions></wps:GetCapabilities>')
        resp = ok(client.post_xml("/wps", doc=body))
        assert resp.xpath("/wps:Capabilities")

    def test_version_negotiation_failed(self, client):
        resp = client.get("/wps?service=WPS&request=GetCapabilities&AcceptVersions=3.0.0")
        assert resp.status_code == 400
        assert exception_of(resp)[0] == "VersionNegotiationFailed"

    def test_unknown_language(self, client):
        resp = client.get("/wps?service=WPS&request=GetCapabilities&language=xx-XX")
        assert exception_of(resp) == ("InvalidParameterValue", "language")

    @pytest.mark.parametrize("query, code, locator, status", [
        ("request=GetCapabilities", "MissingParameterValue", "service", 400),
        ("service=WFS&request=GetCapabilities", "InvalidParameterValue", "service", 400),
        ("service=WPS", "MissingParameterValue", "request", 400),
        ("service=WPS&request=Frobnicate", "OperationNotSupported", "request", 501),
    ])
    def test_bad_kvp(self, client, query, code, locator, status):
        resp = client.get(f"/wps?{query}")
        assert resp.status_code == status
        assert exception_of(resp) == (code, locator)


class TestDescribeProcess:
    def test_one_several_all(self, client):
        one = ok(client.get("/wps?service=WPS&request=DescribeProcess&version=1.0.0&identifier=say_hello"))
        assert len(one.xpath("//ProcessDescription")) == 1
        two = ok(client.get("/wps?service=WPS&request=DescribeProcess&version=1.0.0&identifier=say_hello,add"))
        assert len(two.xpath("//ProcessDescription")) == 2
        every = ok(client.get("/wps?service=WPS&request=DescribeProcess&version=1.0.0&identifier=all"))
        assert len(every.xpath("//ProcessDescription")) >= 8

    def test_unknown_identifier(self, client):
        resp = client.get("/wps?service=WPS&request=DescribeProcess&version=1.0.0&identifier=nope")
        assert resp.status_code == 400
        assert exception_of(resp) == ("InvalidParameterValue", "identifier")

    def test_missing_identifier_and_version(self, client):
        assert exception_of(client.get("/wps?service=WPS&request=DescribeProcess&version=1.0.0")) == (
            "MissingParameterValue", "identifier")
        assert exception_of(client.get("/wps?service=WPS&request=DescribeProcess&identifier=add")) == (
            "MissingParameterValue", "version")

    def test_post(self, client):
        body = ('<wps:DescribeProcess service="WPS" version="1.0.0" xmlns:wps="http://www.opengis.net/wps/1.0.0" '
                'xmlns:ows="http://www.opengis.net/ows/1.1"><ows:Identifier>add</ows:Identifier>'
                '</wps:DescribeProcess>')
        resp = ok(client.post_xml("/wps", doc=body))
        assert resp.xpath_text("//ProcessDescription/ows:Identifier") == "add"


class TestExecuteSync:
    def test_kvp_literal(self, client):
        resp = ok(client.get("/wps?service=WPS&request=Execute&version=1.0.0&identifier=say_hello"
                             "&DataInputs=name=World"))
        assert_response_success(resp)
        assert resp.xpath_text("//wps:Output/wps:Data/wps:LiteralData") == "Hello World"

    def test_post_literal(self, client):
        resp = ok(client.post_xml("/wps", doc=execute_xml("add", literal("a", "2") + literal("b", "40"))))
        assert_response_success(resp)
        assert float(resp.xpath_text("//wps:Output/wps:Data/wps:LiteralData")) == 42.0

    def test_allowed_values_enforced(self, client):
        resp = client.post_xml("/wps", doc=execute_xml("add", literal("a", "4")))
        assert resp.status_code == 400
        assert exception_of(resp) == ("InvalidParameterValue", "a")

    def test_missing_input(self, client):
        resp = client.get("/wps?service=WPS&request=Execute&version=1.0.0&identifier=say_hello")
        assert exception_of(resp) == ("MissingParameterValue", "name")

    def test_unknown_process(self, client):
        resp = client.get("/wps?service=WPS&request=Execute&version=1.0.0&identifier=nope&DataInputs=a=1")
        assert exception_of(resp) == ("InvalidParameterValue", "identifier")

    def test_failing_process_reports_its_message(self, client):
        resp = ok(client.get("/wps?service=WPS&request=Execute&version=1.0.0&identifier=fail"
                             "&DataInputs=message=boom%20here"))
        assert resp.xpath("//wps:Status/wps:ProcessFailed")
        assert "boom here" in resp.xpath_text("//wps:ProcessFailed//ows:ExceptionText")
        again = client.get("/wps?service=WPS&request=Execute&version=1.0.0&identifier=say_hello&DataInputs=name=x")
        assert_response_success(again)

    def test_raw_data_output(self, client):
        resp = client.get("/wps?service=WPS&request=Execute&version=1.0.0&identifier=say_hello"
                          "&DataInputs=name=Raw&RawDataOutput=output")
        assert resp.status_code == 200
        assert resp.get_data(as_text=True) == "Hello Raw"

    def test_as_reference_is_served(self, client):
        resp = ok(client.get("/wps?service=WPS&request=Execute&version=1.0.0&identifier=echo_complex"
                             "&DataInputs=input=%7B%22a%22%3A1%7D@mimeType=application/json"
                             "&ResponseDocument=output@asReference=true@mimeType=application/json"))
        assert_response_success(resp)
        href = resp.xpath("//wps:Output/wps:Reference")[0].get("href")
        path = href.split("127.0.0.1:5000", 1)[1]
        served = client.get(path)
        assert served.status_code == 200
        assert served.get_data(as_text=True).strip() == '{"a":1}'

    def test_complex_xml_inline(self, client):
        inputs = ('<wps:Input><ows:Identifier>input</ows:Identifier><wps:Data>'
                  '<wps:ComplexData mimeType="text/xml"><root xmlns="urn:x"><a>1</a></root></wps:ComplexData>'
                  '</wps:Data></wps:Input>')
        resp = ok(client.post_xml("/wps", doc=execute_xml("echo_complex", inputs, (
            '<wps:ResponseForm><wps:ResponseDocument><wps:Output mimeType="text/xml">'
            '<ows:Identifier>output</ows:Identifier></wps:Output></wps:ResponseDocument></wps:ResponseForm>'))))
        assert_response_success(resp)
        assert resp.xml.xpath("//x:root/x:a", namespaces={"x": "urn:x"})[0].text == "1"

    def test_base64_binary(self, client):
        payload = bytes(range(256))
        inputs = ('<wps:Input><ows:Identifier>input</ows:Identifier><wps:Data>'
                  '<wps:ComplexData mimeType="application/octet-stream" encoding="base64">'
                  f'{base64.b64encode(payload).decode()}</wps:ComplexData></wps:Data></wps:Input>')
        resp = ok(client.post_xml("/wps", doc=execute_xml("echo_binary", inputs)))
        assert_response_success(resp)
        data = resp.xpath("//wps:Output/wps:Data/wps:ComplexData")[0]
        assert data.get("encoding") == "base64"
        assert base64.b64decode(data.text) == payload

    def test_bbox(self, client):
        inputs = ('<wps:Input><ows:Identifier>bbox</ows:Identifier><wps:Data>'
                  '<wps:BoundingBoxData crs="EPSG:4326" dimensions="2"><ows:LowerCorner>1 2</ows:LowerCorner>'
                  '<ows:UpperCorner>3 4</ows:UpperCorner></wps:BoundingBoxData></wps:Data></wps:Input>')
        resp = ok(client.post_xml("/wps", doc=execute_xml("echo_bbox", inputs)))
        assert_response_success(resp)
        assert resp.xpath_text("//wps:Output//ows:LowerCorner").split() == ["1.0", "2.0"] or \
            resp.xpath_text("//wps:Output//ows:LowerCorner").split() == ["1", "2"]

    def test_lineage(self, client):
        resp = ok(client.get("/wps?service=WPS&request=Execute&version=1.0.0&identifier=say_hello"
                             "&DataInputs=name=L&lineage=true"))
        assert resp.xpath("/wps:ExecuteResponse/wps:DataInputs/wps:Input")
        assert resp.xpath("/wps:ExecuteResponse/wps:OutputDefinitions/wps:Output")

    def test_multiple_outputs(self, client):
        resp = ok(client.get("/wps?service=WPS&request=Execute&version=1.0.0&identifier=multiple_outputs"
                             "&DataInputs=text=two%20words"))
        assert_response_success(resp)
        assert len(resp.xpath("//wps:ProcessOutputs/wps:Output")) == 3


class TestSafety:
    def test_request_too_large(self, make_client):
        client = make_client(server={"maxrequestsize": "1kb"})
        resp = client.post_xml("/wps", doc=execute_xml("say_hello", literal("name", "x" * 4000)))
        assert resp.status_code == 413
        assert exception_of(resp)[0] == "FileSizeExceeded"

    def test_external_entities_refused(self, client):
        body = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                '<wps:GetCapabilities service="WPS" xmlns:wps="http://www.opengis.net/wps/1.0.0">&e;'
                '</wps:GetCapabilities>')
        resp = client.post_xml("/wps", doc=body)
        assert resp.status_code == 400
        assert "root:" not in resp.get_data(as_text=True)

    def test_malformed_xml(self, client):
        resp = client.post_xml("/wps", doc="<wps:Execute")
        assert resp.status_code == 400
        assert_process_exception(resp)

    def test_private_reference_refused_by_default(self, make_client):
        client = make_client(server={"reference_allow_private": "false"})
        resp = client.get("/wps?service=WPS&request=Execute&version=1.0.0&identifier=echo_complex"
                          "&DataInputs=input=@xlink:href=http://127.0.0.1:9/x@mimeType=text/plain")
        assert 400 <= resp.status_code < 500
        assert_process_exception(resp)

    def test_output_path_traversal(self, client):
        assert client.get("/outputs/../../etc/passwd").status_code == 404
        assert client.get("/outputs/..%2F..%2Fetc/passwd").status_code == 404

    def test_health(self, client):
        assert client.get("/health").status_code == 200


class TestExecuteAsync:
    def test_accepted_then_succeeded_with_progress(self, client):
        resp = ok(client.get("/wps?service=WPS&request=Execute&version=1.0.0&identifier=sleep"
                             "&DataInputs=delay=1&storeExecuteResponse=true&status=true"))
        assert resp.xpath("//wps:Status/wps:ProcessAccepted") or resp.xpath("//wps:Status/wps:ProcessStarted")
        location = resp.xml.get("statusLocation")
        path = location.split("127.0.0.1:5000", 1)[1]
        seen = set()

        def done():
            doc = ok(client.get(path))
            started = doc.xpath("//wps:Status/wps:ProcessStarted")
            if started:
                seen.add(int(started[0].get("percentCompleted", 0)))
            return doc if doc.xpath("//wps:Status/wps:ProcessSucceeded") else None

        final = wait_for(done, timeout=30, interval=0.05)
        assert final.xpath_text("//wps:Output/wps:Data/wps:LiteralData") == "done sleeping"
        assert any(0 < p < 100 for p in seen), seen

    def test_async_failure(self, client):
        resp = ok(client.get("/wps?service=WPS&request=Execute&version=1.0.0&identifier=fail"
                             "&DataInputs=message=async%20boom&storeExecuteResponse=true&status=true"))
        path = resp.xml.get("statusLocation").split("127.0.0.1:5000", 1)[1]
        final = wait_for(lambda: (d := client.get(path)).xpath("//wps:ProcessFailed") and d, timeout=30)
        validate(final.get_data())
        assert "async boom" in final.xpath_text("//ows:ExceptionText")

    def test_status_without_store_is_invalid(self, client):
        resp = client.get("/wps?service=WPS&request=Execute&version=1.0.0&identifier=say_hello"
                          "&DataInputs=name=x&status=true")
        assert exception_of(resp) == ("InvalidParameterValue", "status")
