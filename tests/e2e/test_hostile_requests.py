"""Bad input gets a clear 4xx and never leaks a job slot (issue 10), through ``pywps.Service``.

Control characters anywhere in a request, inline inputs over ``maxsingleinputsize`` (literal and bbox
too, not only complex), NaN/INF and over-long bounding boxes. Every test ends with no job slot taken.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from lxml import etree

from pywps import Service
from pywps.processes import example_processes
from pywps.tests import client_for
from tests.conftest import write_config
from tests.xsd import validate

WPS_NS = "http://www.opengis.net/wps/1.0.0"
OWS_NS = "http://www.opengis.net/ows/1.1"
EXECUTE = "/wps?service=WPS&request=Execute&version=1.0.0"
ASYNC = "&storeExecuteResponse=true&status=true"
LIMIT = 200 * 1024


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    cfg = write_config(tmp_path, server={"maxsingleinputsize": "200kb", "maxrequestsize": "3mb"})
    service = Service(processes=example_processes(), cfgfiles=[str(cfg)])
    yield service
    service.close()


@pytest.fixture
def client(service: Service):
    return client_for(service)


def slots_taken(service: Service) -> int:
    return service.dispatcher.store.count(["accepted", "started", "paused"])


def report(resp) -> tuple[str, str | None, int]:
    """(exceptionCode, locator, HTTP status) of a schema-valid ExceptionReport."""
    body = resp.get_data()
    validate(body)
    root = etree.fromstring(body)
    assert root.tag == f"{{{OWS_NS}}}ExceptionReport", body[:300]
    [exc] = root.findall(f"{{{OWS_NS}}}Exception")
    return exc.get("exceptionCode"), exc.get("locator"), resp.status_code


def succeeded(resp) -> etree._Element:
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    assert resp.xpath("/wps:ExecuteResponse/wps:Status/wps:ProcessSucceeded"), resp.get_data(as_text=True)[:500]
    return resp.xml


def post(client, body: str | bytes):
    return client.post("/wps", data=body, content_type="text/xml")


def execute_xml(identifier: str, data: str, input_id: str = "name") -> str:
    return (f'<wps:Execute service="WPS" version="1.0.0" xmlns:wps="{WPS_NS}" xmlns:ows="{OWS_NS}">'
            f"<ows:Identifier>{identifier}</ows:Identifier><wps:DataInputs><wps:Input>"
            f"<ows:Identifier>{input_id}</ows:Identifier><wps:Data>{data}</wps:Data></wps:Input>"
            "</wps:DataInputs></wps:Execute>")


def bbox_xml(lower: str, upper: str) -> str:
    return execute_xml("echo_bbox", f"<wps:BoundingBoxData><ows:LowerCorner>{lower}</ows:LowerCorner>"
                                    f"<ows:UpperCorner>{upper}</ows:UpperCorner></wps:BoundingBoxData>", "bbox")


class TestControlCharacters:
    @pytest.mark.parametrize("char", ["%00", "%01", "%0B", "%1B", "%EF%BF%BE", "%EF%BF%BF"])
    @pytest.mark.parametrize("mode", ["", ASYNC])
    def test_literal_input(self, service, client, char, mode):
        resp = client.get(f"{EXECUTE}&identifier=say_hello&DataInputs=name=a{char}b{mode}")
        assert report(resp) == ("InvalidParameterValue", "name", 400)
        assert slots_taken(service) == 0 and not service.dispatcher.store.list()

    def test_double_encoded(self, service, client):
        """``%2500`` reaches DataInputs as ``%00``, which its own decoding turns into NUL."""
        resp = client.get(f"{EXECUTE}&identifier=say_hello&DataInputs=name=a%2500b")
        assert report(resp) == ("InvalidParameterValue", "name", 400)
        assert slots_taken(service) == 0

    @pytest.mark.parametrize("query, locator", [
        ("&identifier=say%00hello&DataInputs=name=x", "identifier"),
        ("&identifier=say_hello&DataInputs=name=x&language=en%1B", "language"),
        ("&identifier=say_hello&DataInputs=name=x&ResponseDocument=output@uom=%01", "output"),
        ("&identifier=say_hello&DataInputs=name=x&RawDataOutput=output@mimeType=text/plain%0B", "output"),
        ("&identifier=say_hello&DataInputs=name=x&unused=%00", "unused"),
        ("&identifier=say_hello&DataInputs=na%2500me=x", "DataInputs"),
        ("&identifier=say_hello&DataInputs=name=x@uom=%01", "name"),
        ("&identifier=echo_complex&DataInputs=input=a%01b@mimeType=text/plain", "input"),
        ("&identifier=echo_bbox&DataInputs=bbox=1,2,3,4,EPSG:4326%00", "bbox"),
    ])
    def test_every_parameter(self, service, client, query, locator):
        assert report(client.get(EXECUTE + query)) == ("InvalidParameterValue", locator, 400)
        assert slots_taken(service) == 0

    def test_other_operations(self, service, client):
        resp = client.get("/wps?service=WPS&request=DescribeProcess&version=1.0.0&identifier=add%00")
        assert report(resp) == ("InvalidParameterValue", "identifier", 400)
        resp = client.get("/wps?service=WPS&request=GetCapabilities&language=%1B")
        assert report(resp) == ("InvalidParameterValue", "language", 400)
        assert slots_taken(service) == 0

    @pytest.mark.parametrize("value", ["a&#1;b", "<![CDATA[a\x01b]]>", "&#0;", "&#xFFFE;", "\x1b"])
    def test_xml_post(self, service, client, value):
        resp = post(client, execute_xml("say_hello", f"<wps:LiteralData>{value}</wps:LiteralData>"))
        assert report(resp) == ("InvalidParameterValue", "request", 400)
        assert slots_taken(service) == 0

    def test_allowed_characters_are_echoed(self, service, client):
        value = "tab\tnl\ncr\r\x85\u00e9\U0001f600"
        resp = client.get(f"{EXECUTE}&identifier=say_hello&DataInputs=name={quote(value)}")
        doc = succeeded(resp)
        validate(resp.get_data())
        text = doc.findtext(f".//{{{WPS_NS}}}LiteralData")
        assert text.replace("\r\n", "\n").replace("\r", "\n") == "Hello " + value.replace("\r", "\n")
        assert slots_taken(service) == 0

    def test_server_keeps_serving(self, service, client):
        for char in ("%00", "%01", "%0B", "%1B"):
            client.get(f"{EXECUTE}&identifier=say_hello&DataInputs=name=a{char}b")
        succeeded(client.get(f"{EXECUTE}&identifier=say_hello&DataInputs=name=ok"))
        assert slots_taken(service) == 0


class TestInlineSizes:
    big = "x" * (500 * 1024)

    def test_literal_kvp(self, service, client):
        resp = client.get(f"{EXECUTE}&identifier=say_hello&DataInputs=name={self.big}")
        assert report(resp) == ("FileSizeExceeded", "name", 413)
        assert slots_taken(service) == 0

    def test_literal_kvp_async(self, service, client):
        resp = client.get(f"{EXECUTE}&identifier=say_hello&DataInputs=name={self.big}{ASYNC}")
        assert report(resp) == ("FileSizeExceeded", "name", 413)
        assert slots_taken(service) == 0 and not service.dispatcher.store.list()

    def test_literal_xml(self, service, client):
        resp = post(client, execute_xml("say_hello", f"<wps:LiteralData>{self.big}</wps:LiteralData>"))
        assert report(resp) == ("FileSizeExceeded", "name", 413)
        assert slots_taken(service) == 0

    def test_multibyte_literal_counts_bytes(self, service, client):
        value = "\u00e9" * (LIMIT // 2 + 10)  # fewer characters than the limit, more UTF-8 bytes
        resp = client.get(f"{EXECUTE}&identifier=say_hello&DataInputs=name={quote(value)}")
        assert report(resp) == ("FileSizeExceeded", "name", 413)
        assert slots_taken(service) == 0

    def test_complex_kvp_and_xml(self, service, client):
        resp = client.get(f"{EXECUTE}&identifier=echo_complex&DataInputs=input={self.big}@mimeType=text/plain")
        assert report(resp) == ("FileSizeExceeded", "input", 413)
        data = f'<wps:ComplexData mimeType="text/plain">{self.big}</wps:ComplexData>'
        assert report(post(client, execute_xml("echo_complex", data, "input"))) == ("FileSizeExceeded", "input", 413)
        assert slots_taken(service) == 0

    def test_bbox_text(self, service, client):
        resp = client.get(f"{EXECUTE}&identifier=echo_bbox&DataInputs=bbox=1,2,3,4,EPSG:{self.big}")
        assert report(resp) == ("FileSizeExceeded", "bbox", 413)
        assert slots_taken(service) == 0

    def test_under_the_limit(self, service, client):
        value = "y" * (LIMIT - 1024)
        doc = succeeded(client.get(f"{EXECUTE}&identifier=say_hello&DataInputs=name={value}"))
        assert doc.findtext(f".//{{{WPS_NS}}}LiteralData") == "Hello " + value
        assert slots_taken(service) == 0


class TestBoundingBoxes:
    @pytest.mark.parametrize("text", ["NaN,NaN,NaN,NaN", "1,2,inf,4", "-Infinity,0,1,1", "0,0,1,1e999",
                                      "nan,nan,nan,nan,EPSG:4326,2"])
    def test_non_finite_kvp(self, service, client, text):
        resp = client.get(f"{EXECUTE}&identifier=echo_bbox&DataInputs=bbox={text}")
        assert report(resp) == ("InvalidParameterValue", "bbox", 400)
        assert slots_taken(service) == 0

    @pytest.mark.parametrize("lower, upper", [("NaN NaN", "NaN NaN"), ("0 0", "INF 1"), ("0 -1e400", "1 1")])
    def test_non_finite_xml(self, service, client, lower, upper):
        assert report(post(client, bbox_xml(lower, upper))) == ("InvalidParameterValue", "bbox", 400)
        assert slots_taken(service) == 0

    @pytest.mark.parametrize("mode", ["", ASYNC])
    def test_too_many_coordinates_kvp(self, service, client, mode):
        numbers = ",".join(["1"] * 1000)
        resp = client.get(f"{EXECUTE}&identifier=echo_bbox&DataInputs=bbox={numbers}{mode}")
        assert report(resp) == ("InvalidParameterValue", "bbox", 400)
        assert slots_taken(service) == 0 and not service.dispatcher.store.list()

    def test_too_many_coordinates_xml(self, service, client):
        corner = " ".join(["1"] * 500)
        assert report(post(client, bbox_xml(corner, corner))) == ("InvalidParameterValue", "bbox", 400)
        assert report(post(client, bbox_xml("0 0 0", "1 1 1"))) == ("InvalidParameterValue", "bbox", 400)
        assert slots_taken(service) == 0

    def test_valid_boxes_echoed(self, service, client):
        doc = succeeded(client.get(f"{EXECUTE}&identifier=echo_bbox&DataInputs=bbox=1,2,3,4,EPSG:3035"))
        assert doc.findtext(f".//{{{OWS_NS}}}LowerCorner").split() == ["1.0", "2.0"]
        doc = succeeded(post(client, bbox_xml("170 -10", "-170 10")))  # across the antimeridian, EPSG:4326
        assert doc.findtext(f".//{{{OWS_NS}}}UpperCorner").split() == ["-170.0", "10.0"]
        assert slots_taken(service) == 0
