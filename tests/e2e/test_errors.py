"""Every OWS exceptionCode with its locator and HTTP status; each ExceptionReport is XSD-validated.

Also: unexpected errors never leak a traceback and the server keeps serving; GetCapabilities sections,
language and updateSequence; DescribeProcess and Execute with a wrong version.
"""

from __future__ import annotations

import time

import pytest
import requests
from lxml import etree

from pywps import LiteralInput, LiteralOutput, Process
from pywps.processes import example_processes
from tests.compat.emu import processes as emu_processes
from tests.conftest import wait_for
from tests.xsd import validate

WPS_NS = "http://www.opengis.net/wps/1.0.0"
OWS_NS = "http://www.opengis.net/ows/1.1"
EXECUTE = "/wps?service=WPS&request=Execute&version=1.0.0&identifier="


def report(resp) -> tuple[str, str | None, int]:
    """(exceptionCode, locator, HTTP status) of an ExceptionReport, after schema validation."""
    body = resp.get_data() if hasattr(resp, "get_data") else resp.content
    validate(body)
    assert resp.headers["Content-Type"].startswith("text/xml")
    root = etree.fromstring(body)
    assert root.tag == f"{{{OWS_NS}}}ExceptionReport", body[:300]
    [exc] = root.findall(f"{{{OWS_NS}}}Exception")
    return exc.get("exceptionCode"), exc.get("locator"), resp.status_code


def no_traceback(text: str) -> None:
    assert "Traceback" not in text and 'File "' not in text and ".py" not in text, text


def post(client, body: str):
    return client.post("/wps", data=body, content_type="text/xml")


def execute_xml(identifier: str, inputs: str = "", form: str = "", version: str = "1.0.0") -> str:
    return (f'<wps:Execute service="WPS" version="{version}" xmlns:wps="{WPS_NS}" xmlns:ows="{OWS_NS}">'
            f"<ows:Identifier>{identifier}</ows:Identifier><wps:DataInputs>{inputs}</wps:DataInputs>{form}"
            "</wps:Execute>")


def literal(identifier: str, value: str) -> str:
    return (f"<wps:Input><ows:Identifier>{identifier}</ows:Identifier>"
            f"<wps:Data><wps:LiteralData>{value}</wps:LiteralData></wps:Data></wps:Input>")


class Exploding:
    """A metadata object whose rendering fails: an unexpected error inside the server, not in a job."""

    @property
    def title(self):
        raise RuntimeError("internal detail /srv/secret/path.py")


class BrokenDescription(Process):
    def __init__(self):
        super().__init__(self._handler, identifier="broken", title="Broken description",
                         metadata=[Exploding()], inputs=[LiteralInput("x", "X", data_type="integer")],
                         outputs=[LiteralOutput("y", "Y", data_type="integer")])

    @staticmethod
    def _handler(request, response):
        return response


@pytest.fixture
def client(make_client):
    return make_client(processes=example_processes() + [p for p in emu_processes() if p.identifier == "nostore"])


class TestMissingParameterValue:
    @pytest.mark.parametrize("query, locator", [
        ("request=GetCapabilities", "service"),
        ("service=WPS", "request"),
        ("service=WPS&request=DescribeProcess&version=1.0.0", "identifier"),
        ("service=WPS&request=DescribeProcess&identifier=add", "version"),
        ("service=WPS&request=Execute&identifier=say_hello&DataInputs=name=x", "version"),
        ("service=WPS&request=Execute&version=1.0.0&DataInputs=name=x", "identifier"),
        ("service=WPS&request=Execute&version=1.0.0&identifier=say_hello", "name"),
    ])
    def test_kvp(self, client, query, locator):
        assert report(client.get(f"/wps?{query}")) == ("MissingParameterValue", locator, 400)

    def test_post(self, client):
        body = f'<wps:DescribeProcess service="WPS" version="1.0.0" xmlns:wps="{WPS_NS}"/>'
        assert report(post(client, body)) == ("MissingParameterValue", "identifier", 400)
        assert report(post(client, execute_xml("say_hello"))) == ("MissingParameterValue", "name", 400)

    def test_empty_post(self, client):
        assert report(client.post("/wps", data=b"", content_type="text/xml")) == (
            "MissingParameterValue", "request", 400)


class TestInvalidParameterValue:
    @pytest.mark.parametrize("query, locator", [
        ("service=WFS&request=GetCapabilities", "service"),
        ("service=WPS&request=DescribeProcess&version=1.0.0&identifier=nope", "identifier"),
        ("service=WPS&request=DescribeProcess&version=1.0.0&identifier=add&language=tlh", "language"),
        ("service=WPS&request=Execute&version=1.0.0&identifier=nope", "identifier"),
        ("service=WPS&request=Execute&version=1.0.0&identifier=add&DataInputs=a=4", "a"),
        ("service=WPS&request=Execute&version=1.0.0&identifier=add&DataInputs=a=one", "a"),
        ("service=WPS&request=Execute&version=1.0.0&identifier=say_hello&DataInputs=name=x;bogus=1", "bogus"),
        ("service=WPS&request=Execute&version=1.0.0&identifier=say_hello&DataInputs=name=x"
         "&ResponseDocument=bogus", "bogus"),
        ("service=WPS&request=Execute&version=1.0.0&identifier=say_hello&DataInputs=name=x"
         "&storeExecuteResponse=maybe", "storeExecuteResponse"),
        ("service=WPS&request=Execute&version=1.0.0&identifier=say_hello&DataInputs=name=x&status=true", "status"),
        ("service=WPS&request=Execute&version=1.0.0&identifier=echo_bbox&DataInputs=bbox=1,2,3", "bbox"),
    ])
    def test_kvp(self, client, query, locator):
        assert report(client.get(f"/wps?{query}")) == ("InvalidParameterValue", locator, 400)

    def test_malformed_xml(self, client):
        code, _locator, status = report(post(client, "<wps:Execute xmlns:wps='x'"))
        assert (code, status) == ("InvalidParameterValue", 400)

    def test_entities_refused(self, client):
        body = ('<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/hostname">]>'
                f'<wps:GetCapabilities service="WPS" xmlns:wps="{WPS_NS}">&x;</wps:GetCapabilities>')
        assert report(post(client, body))[0::2] == ("InvalidParameterValue", 400)

    def test_not_a_wps_document(self, client):
        assert report(post(client, "<html><body/></html>"))[0::2] == ("InvalidParameterValue", 400)


class TestVersions:
    @pytest.mark.parametrize("query", [
        "service=WPS&request=GetCapabilities&AcceptVersions=0.4.0",
        "service=WPS&request=GetCapabilities&AcceptVersions=0.4.0,3.0.0",
    ])
    def test_version_negotiation_failed_kvp(self, client, query):
        assert report(client.get(f"/wps?{query}")) == ("VersionNegotiationFailed", "AcceptVersions", 400)

    def test_version_negotiation_failed_post(self, client):
        body = (f'<wps:GetCapabilities service="WPS" xmlns:wps="{WPS_NS}" xmlns:ows="{OWS_NS}">'
                "<wps:AcceptVersions><ows:Version>0.9.0</ows:Version></wps:AcceptVersions></wps:GetCapabilities>")
        assert report(post(client, body)) == ("VersionNegotiationFailed", "AcceptVersions", 400)

    def test_negotiation_picks_a_supported_version(self, client):
        resp = client.get("/wps?service=WPS&request=GetCapabilities&AcceptVersions=0.4.0,1.0.0")
        validate(resp.get_data())
        assert resp.status_code == 200 and resp.xpath("/wps:Capabilities/@version") == ["1.0.0"]

    @pytest.mark.parametrize("version", ["0.4.0", "1.0", "3.0.0", "x"])
    def test_describe_process_wrong_version(self, client, version):
        resp = client.get(f"/wps?service=WPS&request=DescribeProcess&version={version}&identifier=add")
        assert report(resp) == ("InvalidParameterValue", "version", 400)

    @pytest.mark.parametrize("version", ["0.4.0", "1.0", "x"])
    def test_execute_wrong_version(self, client, version):
        resp = client.get(f"/wps?service=WPS&request=Execute&version={version}&identifier=say_hello"
                          "&DataInputs=name=x")
        assert report(resp) == ("InvalidParameterValue", "version", 400)

    def test_execute_post_wrong_version(self, client):
        resp = post(client, execute_xml("say_hello", literal("name", "x"), version="0.4.0"))
        assert report(resp) == ("InvalidParameterValue", "version", 400)
        body = (f'<wps:DescribeProcess service="WPS" version="2.0.0" xmlns:wps="{WPS_NS}" xmlns:ows="{OWS_NS}">'
                "<ows:Identifier>add</ows:Identifier></wps:DescribeProcess>")
        assert report(post(client, body)) == ("InvalidParameterValue", "version", 400)


class TestGetCapabilities:
    def test_update_sequence(self, make_client):
        client = make_client(server={"updatesequence": "9"})
        newer = client.get("/wps?service=WPS&request=GetCapabilities&updateSequence=10")
        assert report(newer) == ("InvalidUpdateSequence", "updateSequence", 400)
        for value in ("8", "9"):
            resp = client.get(f"/wps?service=WPS&request=GetCapabilities&updateSequence={value}")
            validate(resp.get_data())
            assert resp.status_code == 200 and resp.xpath("/wps:Capabilities/@updateSequence") == ["9"]

    def test_update_sequence_timestamps(self, make_client):
        client = make_client(server={"updatesequence": "2024-05-01T00:00:00Z"})
        resp = client.get("/wps?service=WPS&request=GetCapabilities&updateSequence=2025-01-01T00:00:00Z")
        assert report(resp) == ("InvalidUpdateSequence", "updateSequence", 400)
        older = client.get("/wps?service=WPS&request=GetCapabilities&updateSequence=2023-12-31T00:00:00Z")
        assert older.status_code == 200

    def test_no_update_sequence_configured(self, client):
        resp = client.get("/wps?service=WPS&request=GetCapabilities&updateSequence=42")
        validate(resp.get_data())
        assert resp.status_code == 200 and not resp.xpath("/wps:Capabilities/@updateSequence")

    @pytest.mark.parametrize("sections, present, absent", [
        ("ServiceIdentification", ["ServiceIdentification"], ["ServiceProvider", "OperationsMetadata"]),
        ("ServiceProvider,OperationsMetadata", ["ServiceProvider", "OperationsMetadata"],
         ["ServiceIdentification"]),
        ("ProcessOfferings", [], ["ServiceIdentification", "ServiceProvider", "OperationsMetadata"]),
        ("All", ["ServiceIdentification", "ServiceProvider", "OperationsMetadata"], []),
    ])
    def test_sections(self, client, sections, present, absent):
        resp = client.get(f"/wps?service=WPS&request=GetCapabilities&sections={sections}")
        validate(resp.get_data())
        assert resp.status_code == 200
        for name in present:
            assert resp.xpath(f"/wps:Capabilities/ows:{name}"), name
        for name in absent:
            assert not resp.xpath(f"/wps:Capabilities/ows:{name}"), name
        assert resp.xpath("/wps:Capabilities/wps:ProcessOfferings/wps:Process")
        assert resp.xpath("/wps:Capabilities/wps:Languages")

    def test_unknown_section(self, client):
        resp = client.get("/wps?service=WPS&request=GetCapabilities&sections=Everything")
        assert report(resp) == ("InvalidParameterValue", "sections", 400)

    def test_language(self, make_client):
        client = make_client(processes=emu_processes(), server={"language": "en-US,fr-CA"})
        resp = client.get("/wps?service=WPS&request=GetCapabilities&language=fr-CA")
        validate(resp.get_data())
        assert resp.xpath("/wps:Capabilities/@xml:lang") == ["fr-CA"]
        assert resp.xpath_text("/wps:Capabilities/wps:Languages/wps:Default/ows:Language") == "en-US"
        assert resp.xpath_text("/wps:Capabilities/wps:Languages/wps:Supported/ows:Language").split() == [
            "en-US", "fr-CA"]
        assert resp.xpath_text("//wps:Process[ows:Identifier='translation']/ows:Title") == "Salutation en trois langues"
        body = (f'<wps:GetCapabilities service="WPS" language="fr-CA" xmlns:wps="{WPS_NS}"/>')
        resp = client.post("/wps", data=body, content_type="text/xml")
        validate(resp.get_data())
        assert resp.xpath("/wps:Capabilities/@xml:lang") == ["fr-CA"]
        default = client.get("/wps?service=WPS&request=GetCapabilities")
        assert default.xpath("/wps:Capabilities/@xml:lang") == ["en-US"]
        bad = client.get("/wps?service=WPS&request=GetCapabilities&language=de-DE")
        assert report(bad) == ("InvalidParameterValue", "language", 400)


class TestOperationNotSupported:
    @pytest.mark.parametrize("operation", ["GetStatus", "GetResult", "Dismiss", "Frobnicate"])
    def test_kvp(self, client, operation):
        resp = client.get(f"/wps?service=WPS&request={operation}&version=1.0.0")
        assert report(resp) == ("OperationNotSupported", "request", 501)

    def test_post(self, client):
        resp = post(client, f'<wps:Frobnicate service="WPS" version="1.0.0" xmlns:wps="{WPS_NS}"/>')
        code, _, status = report(resp)
        assert (code, status) == ("OperationNotSupported", 501)


class TestNoApplicableCode:
    def test_raw_output_of_failing_process(self, client):
        resp = client.get(EXECUTE + "fail&DataInputs=message=raw%20failure&RawDataOutput=never")
        code, _, status = report(resp)
        assert (code, status) == ("NoApplicableCode", 500)
        assert "raw failure" in resp.get_data(as_text=True)

    def test_unexpected_server_error_is_hidden_and_server_keeps_serving(self, make_client):
        client = make_client(processes=[*example_processes(), BrokenDescription()])
        resp = client.get("/wps?service=WPS&request=DescribeProcess&version=1.0.0&identifier=broken")
        assert report(resp) == ("NoApplicableCode", None, 500)
        no_traceback(resp.get_data(as_text=True))
        assert "secret" not in resp.get_data(as_text=True)
        again = client.get("/wps?service=WPS&request=DescribeProcess&version=1.0.0&identifier=add")
        assert again.status_code == 200

    def test_failing_handler_never_leaks_a_traceback(self, client):
        resp = client.get(EXECUTE + "fail&DataInputs=message=kaput")
        validate(resp.get_data())
        assert resp.status_code == 200
        [exc] = resp.xpath("//wps:ProcessFailed/ows:ExceptionReport/ows:Exception")
        assert exc.get("exceptionCode") == "NoApplicableCode"
        assert resp.xpath_text("//wps:ProcessFailed//ows:ExceptionText") == "kaput"
        no_traceback(resp.get_data(as_text=True))


class TestFileSizeExceeded:
    def test_request_body(self, make_client):
        client = make_client(server={"maxrequestsize": "2kb"})
        resp = post(client, execute_xml("say_hello", literal("name", "n" * 5000)))
        code, locator, status = report(resp)
        assert (code, status) == ("FileSizeExceeded", 413) and locator

    def test_single_input(self, make_client):
        client = make_client(server={"maxsingleinputsize": "1kb"})
        inputs = ('<wps:Input><ows:Identifier>input</ows:Identifier><wps:Data>'
                  f'<wps:ComplexData mimeType="text/plain">{"t" * 3000}</wps:ComplexData></wps:Data></wps:Input>')
        assert report(post(client, execute_xml("echo_complex", inputs))) == ("FileSizeExceeded", "input", 413)
        resp = client.get(EXECUTE + "echo_complex&DataInputs=input=" + "k" * 3000 + "@mimeType=text/plain")
        assert report(resp) == ("FileSizeExceeded", "input", 413)

    def test_base64_input(self, make_client):
        import base64

        client = make_client(server={"maxsingleinputsize": "1kb"})
        payload = base64.b64encode(bytes(2000)).decode()
        inputs = ('<wps:Input><ows:Identifier>input</ows:Identifier><wps:Data><wps:ComplexData '
                  f'mimeType="application/octet-stream" encoding="base64">{payload}</wps:ComplexData>'
                  '</wps:Data></wps:Input>')
        assert report(post(client, execute_xml("echo_binary", inputs))) == ("FileSizeExceeded", "input", 413)


class TestStorageNotSupported:
    def test_store_and_status(self, client):
        resp = client.get(EXECUTE + "nostore&storeExecuteResponse=true")
        assert report(resp) == ("StorageNotSupported", "storeExecuteResponse", 400)
        resp = client.get(EXECUTE + "nostore&storeExecuteResponse=true&status=true")
        code, locator, status = report(resp)
        assert (code, status) == ("StorageNotSupported", 400) and locator in ("status", "storeExecuteResponse")
        form = ('<wps:ResponseForm><wps:ResponseDocument storeExecuteResponse="true">'
                "<wps:Output><ows:Identifier>y</ows:Identifier></wps:Output></wps:ResponseDocument></wps:ResponseForm>")
        assert report(post(client, execute_xml("nostore", form=form))) == (
            "StorageNotSupported", "storeExecuteResponse", 400)


class TestServerBusy:
    def test_sync_and_queue_limits(self, make_client):
        client = make_client(server={"parallelprocesses": 1, "maxprocesses": 1})
        first = client.get(EXECUTE + "sleep&DataInputs=delay=3&storeExecuteResponse=true&status=true")
        validate(first.get_data())
        location = first.xml.get("statusLocation").split("127.0.0.1:5000", 1)[1]
        wait_for(lambda: client.get(location).xpath("//wps:ProcessStarted"), timeout=30, interval=0.05)
        busy = client.get(EXECUTE + "say_hello&DataInputs=name=x")
        assert report(busy) == ("ServerBusy", "parallelprocesses", 503)
        queued = client.get(EXECUTE + "sleep&DataInputs=delay=0&storeExecuteResponse=true")
        validate(queued.get_data())
        assert queued.xpath("//wps:ProcessAccepted")
        full = client.get(EXECUTE + "sleep&DataInputs=delay=0&storeExecuteResponse=true")
        assert report(full) == ("ServerBusy", "maxprocesses", 503)
        wait_for(lambda: client.get(location).xpath("//wps:ProcessSucceeded"), timeout=60, interval=0.1)
        wait_for(lambda: client.get(EXECUTE + "say_hello&DataInputs=name=y").status_code == 200, timeout=30)


class TestLiveServer:
    def test_unexpected_exception_in_handler(self, live_server, monkeypatch):
        monkeypatch.setenv("PYWPS_PROCESSES", "tests.compat.emu:processes")
        server = live_server(gunicorn_workers=1)
        url = server.url + "?service=WPS&request=Execute&version=1.0.0&identifier=show_error"
        for _ in range(3):
            resp = requests.get(url + "&DataInputs=nice=false", timeout=60)
            validate(resp.content)
            assert resp.status_code == 200 and b"ProcessFailed" in resp.content
            no_traceback(resp.text)
        started = time.monotonic()
        resp = requests.get(server.url + "?service=WPS&request=Execute&version=1.0.0&identifier=hello"
                            "&DataInputs=name=alive", timeout=60)
        assert resp.status_code == 200 and b"Hello alive" in resp.content
        assert time.monotonic() - started < 30

    @pytest.mark.parametrize("query, expected", [
        ("request=GetCapabilities", ("MissingParameterValue", "service", 400)),
        ("service=WPS&request=GetStatus", ("MissingParameterValue", "version", 400)),  # a WPS 2.0.0 operation
        ("service=WPS&request=GetStatus&version=1.0.0", ("OperationNotSupported", "request", 501)),
        ("service=WPS&request=GetCapabilities&AcceptVersions=9.9.9", ("VersionNegotiationFailed", "AcceptVersions",
                                                                      400)),
    ])
    def test_status_codes_over_http(self, live_server, query, expected):
        server = live_server()
        assert report(requests.get(f"{server.url}?{query}", timeout=30)) == expected

    def test_request_too_large_over_http(self, live_server):
        server = live_server(server={"maxrequestsize": "1kb"})
        resp = server.post(execute_xml("say_hello", literal("name", "n" * 4000)))
        code, _, status = report(resp)
        assert (code, status) == ("FileSizeExceeded", 413)
        body = execute_xml("say_hello", literal("name", "c" * 4000)).encode()
        chunks = (body[i:i + 512] for i in range(0, len(body), 512))  # no Content-Length: chunked
        resp = requests.post(server.url, data=chunks, headers={"Content-Type": "text/xml"}, timeout=30)
        code, _, status = report(resp)
        assert (code, status) == ("FileSizeExceeded", 413)
        small = execute_xml("say_hello", literal("name", "chunky")).encode()
        resp = requests.post(server.url, data=iter([small[:50], small[50:]]), headers={"Content-Type": "text/xml"},
                             timeout=30)
        assert resp.status_code == 200 and b"Hello chunky" in resp.content

    @pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
    def test_other_http_methods(self, client, method):
        resp = client.open("/wps?service=WPS&request=GetCapabilities", method=method)
        assert report(resp) == ("OperationNotSupported", "request", 405)
