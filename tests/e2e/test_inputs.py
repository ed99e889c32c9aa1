"""Inputs and outputs end to end over real HTTP: a live server running the emu collection, a data server on 127.0.0.1.

References (KVP and XML, GET and POST with headers and bodies, BodyReference), size limits, SSRF and file://
policies, requested output formats, stored responses without status, StorageNotSupported, lineage,
multiple occurrences, defaults and units. Every XML response is XSD-validated.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import requests
from lxml import etree

from pywps import get_ElementMakerForVersion
from pywps.ows import NAMESPACES
from tests.compat.dataserver import DataServer
from tests.compat.emu import processes as emu_processes
from tests.conftest import LiveServer, wait_for
from tests.xsd import validate

WPS, OWS = get_ElementMakerForVersion("1.0.0")
NS = NAMESPACES["1.0.0"]
HREF = "{http://www.w3.org/1999/xlink}href"
EMU = "tests.compat.emu:processes"


def start_server(directory, **sections) -> LiveServer:
    """gunicorn (one worker) serving the emu collection on 127.0.0.1."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PYWPS_PROCESSES", EMU)
        return LiveServer(directory, 1, **sections).start()


@pytest.fixture(scope="module")
def data() -> Iterator[DataServer]:
    server = DataServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def wps(tmp_path_factory) -> Iterator[LiveServer]:
    """Private addresses allowed (the data server is on 127.0.0.1), 100 kB per input, 1.5 s to answer."""
    server = start_server(tmp_path_factory.mktemp("wps"), server={"maxsingleinputsize": "100kb",
                                                                   "reference_timeout": "1.5"})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def strict(tmp_path_factory) -> Iterator[LiveServer]:
    """The default reference policy (private addresses refused) and one allowed input directory."""
    directory = tmp_path_factory.mktemp("strict")
    allowed = directory / "allowed"
    allowed.mkdir()
    (allowed / "words.txt").write_text("one two three\n")
    (directory / "secret.txt").write_text("top secret\n")
    (allowed / "link.txt").symlink_to(directory / "secret.txt")
    server = start_server(directory, server={"reference_allow_private": "false", "allowedinputpaths": str(allowed)})
    yield server
    server.stop()


def xml(resp: requests.Response) -> etree._Element:
    validate(resp.content)
    return etree.fromstring(resp.content)


def xp(doc: etree._Element, path: str) -> list:
    return doc.xpath(path, namespaces=NS)


def exception_of(resp: requests.Response) -> tuple[str, str | None, int]:
    doc = xml(resp)
    [exc] = xp(doc, "/ows:ExceptionReport/ows:Exception")
    return exc.get("exceptionCode"), exc.get("locator"), resp.status_code


def outputs(doc: etree._Element) -> dict[str, object]:
    assert xp(doc, "/wps:ExecuteResponse/wps:Status/wps:ProcessSucceeded"), etree.tostring(doc).decode()
    found: dict[str, object] = {}
    for out in xp(doc, "//wps:ProcessOutputs/wps:Output"):
        name = xp(out, "ows:Identifier")[0].text
        literal = xp(out, "wps:Data/wps:LiteralData")
        ref = xp(out, "wps:Reference")
        cplx = xp(out, "wps:Data/wps:ComplexData")
        found[name] = literal[0].text if literal else (ref[0] if ref else (cplx[0] if cplx else None))
    return found


def execute(identifier: str, *inputs, form=None, **attrs) -> bytes:
    doc = WPS.Execute(OWS.Identifier(identifier), WPS.DataInputs(*inputs), service="WPS", version="1.0.0")
    if form is not None:
        doc.append(form)
    return etree.tostring(doc)


def literal(identifier: str, value: object, **attrs) -> etree._Element:
    return WPS.Input(OWS.Identifier(identifier), WPS.Data(WPS.LiteralData(str(value), **attrs)))


def reference(identifier: str, href: str, *children, **attrs) -> etree._Element:
    return WPS.Input(OWS.Identifier(identifier), WPS.Reference({HREF: href}, *children, **attrs))


def kvp(server: LiveServer, identifier: str, datainputs: str = "", **params: str) -> requests.Response:
    query = f"service=WPS&request=Execute&version=1.0.0&identifier={identifier}"
    if datainputs:
        query += f"&DataInputs={quote(datainputs, safe='=;@:/,')}"
    for key, value in params.items():
        query += f"&{key}={quote(value, safe='=;@:/,')}"
    return requests.get(f"{server.url}?{query}", timeout=60)


TEXT = "alpha beta gamma alpha\n" * 10


class TestReferences:
    def test_kvp_xlink_href(self, wps, data):
        url = data.add("/kvp.txt", TEXT)
        out = outputs(xml(kvp(wps, "wordcounter", f"text=@xlink:href={url}@mimeType=text/plain")))
        assert out["words"] == "40" and out["source"] == "url"
        assert any(s.path == "/kvp.txt" and s.method == "GET" for s in data.seen)

    def test_post_reference_get(self, wps, data):
        url = data.add("/get.txt", TEXT)
        resp = wps.post(execute("wordcounter", reference("text", url, mimeType="text/plain", method="GET")))
        out = outputs(xml(resp))
        assert out["words"] == "40"
        counts = requests.get(out["output"].get("href"), timeout=10)
        assert counts.status_code == 200 and counts.json()["alpha"] == 20

    def test_post_reference_post_with_header_and_body(self, wps, data):
        body = WPS.Body(etree.fromstring('<q:Query xmlns:q="urn:q"><q:word>alpha</q:word></q:Query>'))
        ref = reference("text", f"{data.base}/echo/post", WPS.Header(key="X-Emu-Token", value="s3cret"), body,
                        mimeType="text/plain", method="POST")
        out = outputs(xml(wps.post(execute("inout", literal("repeated", 1), ref))))
        echoed = json.loads(out["text"].text)
        assert echoed["method"] == "POST"
        assert etree.fromstring(echoed["body"].encode()).xpath("//q:word/text()", namespaces={"q": "urn:q"}) == [
            "alpha"]
        seen = [s for s in data.seen if s.path == "/echo/post"][-1]
        assert seen.headers["x-emu-token"] == "s3cret"

    def test_post_reference_with_text_body(self, wps, data):
        ref = reference("text", f"{data.base}/echo/text", WPS.Body("plain body text"), method="POST")
        out = outputs(xml(wps.post(execute("inout", literal("repeated", 1), ref))))
        assert json.loads(out["text"].text)["body"] == "plain body text"

    def test_post_reference_body_reference(self, wps, data):
        body_url = data.add("/query.xml", "<query>beta</query>", "text/xml")
        ref = reference("text", f"{data.base}/echo/bodyref", WPS.BodyReference({HREF: body_url}), method="POST")
        out = outputs(xml(wps.post(execute("inout", literal("repeated", 1), ref))))
        assert json.loads(out["text"].text)["body"] == "<query>beta</query>"
        assert [s.method for s in data.seen if s.path in ("/query.xml", "/echo/bodyref")][-2:] == ["GET", "POST"]

    def test_kvp_href_with_query_string(self, wps, data):
        data.add("/query", TEXT)
        href = quote(f"{data.base}/query?a=1&b=two", safe="")
        resp = requests.get(f"{wps.url}?service=WPS&request=Execute&version=1.0.0&identifier=wordcounter"
                            f"&DataInputs=text=@xlink:href={href}@mimeType=text/plain", timeout=60)
        assert outputs(xml(resp))["words"] == "40"
        assert data.seen[-1].path == "/query?a=1&b=two"

    def test_literal_input_by_reference(self, wps, data):
        url = data.add("/number.txt", "12\n")
        out = outputs(xml(wps.post(execute("inout", literal("repeated", 1), reference("int", url)))))
        assert out["int"] == "12"

    def test_redirects_followed(self, wps, data):
        final = data.add("/final.txt", TEXT)
        data.add("/hop2", "", status=302, headers={"Location": final})
        url = data.add("/hop1", "", status=301, headers={"Location": "/hop2"})
        assert outputs(xml(kvp(wps, "wordcounter", f"text=@xlink:href={url}")))["words"] == "40"

    def test_redirect_loop_refused(self, wps, data):
        url = data.add("/loop", "", status=302, headers={"Location": "/loop"})
        assert exception_of(kvp(wps, "wordcounter", f"text=@xlink:href={url}")) == (
            "InvalidParameterValue", "text", 400)

    def test_reference_timeout(self, wps, data):
        url = data.add("/slow.txt", TEXT, delay=4)
        started = time.monotonic()
        code, locator, status = exception_of(kvp(wps, "wordcounter", f"text=@xlink:href={url}"))
        assert (code, locator) == ("NoApplicableCode", "text") and status >= 500
        assert time.monotonic() - started < 3.5

    def test_reference_not_found(self, wps, data):
        code, locator, status = exception_of(kvp(wps, "wordcounter", f"text=@xlink:href={data.base}/missing"))
        assert (code, locator, status) == ("InvalidParameterValue", "text", 400)


class TestSizes:
    def test_inline_too_large(self, wps):
        inpt = WPS.Input(OWS.Identifier("text"), WPS.Data(WPS.ComplexData("x " * 60_000, mimeType="text/plain")))
        assert exception_of(wps.post(execute("wordcounter", inpt))) == ("FileSizeExceeded", "text", 413)

    def test_inline_too_large_async(self, wps):
        inpt = WPS.Input(OWS.Identifier("text"), WPS.Data(WPS.ComplexData("x " * 60_000, mimeType="text/plain")))
        form = WPS.ResponseForm(WPS.ResponseDocument(storeExecuteResponse="true", status="true"))
        assert exception_of(wps.post(execute("wordcounter", inpt, form=form))) == ("FileSizeExceeded", "text", 413)

    def test_reference_too_large(self, wps, data):
        url = data.add("/big.txt", "y " * 60_000)
        code, locator, status = exception_of(kvp(wps, "wordcounter", f"text=@xlink:href={url}"))
        assert (code, locator, status) == ("FileSizeExceeded", "text", 413)

    def test_reference_too_large_without_content_length(self, wps, data):
        url = data.add("/chunked.txt", "z " * 60_000, chunked=True)
        resp = wps.post(execute("wordcounter", reference("text", url)))
        assert exception_of(resp) == ("FileSizeExceeded", "text", 413)

    def test_reference_just_under_the_limit(self, wps, data):
        url = data.add("/fits.txt", "w " * 50_000, chunked=True)
        assert outputs(xml(kvp(wps, "wordcounter", f"text=@xlink:href={url}")))["words"] == "50000"


class TestReferencePolicy:
    def test_private_address_refused_by_default(self, strict, data):
        url = data.add("/private.txt", TEXT)
        before = len(data.seen)
        code, locator, status = exception_of(kvp(strict, "wordcounter", f"text=@xlink:href={url}"))
        assert (code, locator, status) == ("InvalidParameterValue", "text", 400)
        assert len(data.seen) == before  # never contacted

    @pytest.mark.parametrize("href", [
        "http://localhost:{port}/private.txt", "http://[::1]:{port}/x", "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/x", "http://0.0.0.0:{port}/x", "http://2130706433:{port}/x",
    ])
    def test_private_addresses_in_post_refused(self, strict, data, href):
        resp = strict.post(execute("wordcounter", reference("text", href.format(port=data.port))))
        assert exception_of(resp) == ("InvalidParameterValue", "text", 400)

    def test_body_reference_to_private_address_refused(self, strict, data):
        ref = reference("text", "http://93.184.215.14/x", WPS.BodyReference({HREF: f"{data.base}/query.xml"}),
                        method="POST")
        assert exception_of(strict.post(execute("wordcounter", ref))) == ("InvalidParameterValue", "text", 400)

    @pytest.mark.parametrize("scheme", ["ftp://127.0.0.1/x", "gopher://127.0.0.1:70/x", "data:text/plain,abc"])
    def test_other_schemes_refused(self, strict, scheme):
        resp = strict.post(execute("wordcounter", reference("text", scheme)))
        assert exception_of(resp) == ("InvalidParameterValue", "text", 400)

    def test_file_under_allowed_path(self, strict):
        path = strict.directory / "allowed" / "words.txt"
        out = outputs(xml(kvp(strict, "wordcounter", f"text=@xlink:href={path.as_uri()}")))
        assert out["words"] == "3"

    @pytest.mark.parametrize("name", ["secret.txt", "allowed/../secret.txt", "allowed/link.txt", "allowed"])
    def test_file_outside_allowed_path_refused(self, strict, name):
        href = "file://" + str(strict.directory) + "/" + name
        resp = strict.post(execute("wordcounter", reference("text", href)))
        assert exception_of(resp) == ("InvalidParameterValue", "text", 400)
        assert "top secret" not in resp.text

    def test_file_refused_without_allowed_paths(self, wps, tmp_path):
        (tmp_path / "a.txt").write_text("a b c")
        resp = wps.post(execute("wordcounter", reference("text", (tmp_path / "a.txt").as_uri())))
        assert exception_of(resp) == ("InvalidParameterValue", "text", 400)


class TestOutputFormats:
    @pytest.mark.parametrize("mime", ["text/csv", "application/json", "application/geo+json"])
    def test_raw_data_output_mime_type(self, wps, mime):
        resp = kvp(wps, "output_formats", "rows=3", RawDataOutput=f"table@mimeType={mime}")
        assert resp.status_code == 200
        assert resp.headers["Content-Type"].split(";")[0] == mime
        if "json" in mime:
            assert resp.json()

    def test_raw_data_output_post(self, wps):
        form = WPS.ResponseForm(WPS.RawDataOutput(OWS.Identifier("table"), mimeType="text/csv"))
        resp = wps.post(execute("output_formats", literal("rows", 2), form=form))
        assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/csv")
        assert resp.text.splitlines() == ["n,square", "1,1", "2,4"]

    @pytest.mark.parametrize("mime", ["text/csv", "application/geo+json", "application/x-netcdf"])
    def test_as_reference_served_with_its_type(self, wps, mime):
        form = WPS.ResponseForm(WPS.ResponseDocument(
            WPS.Output(OWS.Identifier("table"), asReference="true", mimeType=mime)))
        ref = outputs(xml(wps.post(execute("output_formats", literal("rows", 2), form=form))))["table"]
        assert ref.get("mimeType") == mime
        served = requests.get(ref.get("href"), timeout=10)
        assert served.status_code == 200
        assert served.headers["Content-Type"].split(";")[0] == mime

    def test_as_reference_without_extension_served_with_its_type(self, wps):
        form = WPS.ResponseForm(WPS.ResponseDocument(
            WPS.Output(OWS.Identifier("table"), asReference="true", mimeType="application/x-emu-table")))
        ref = outputs(xml(wps.post(execute("output_formats", literal("rows", 2), form=form))))["table"]
        served = requests.get(ref.get("href"), timeout=10)
        assert served.headers["Content-Type"].split(";")[0] == "application/x-emu-table"

    def test_encoding_base64_requested(self, wps):
        resp = kvp(wps, "output_formats", "rows=1", ResponseDocument="table@mimeType=text/csv@encoding=base64")
        table = outputs(xml(resp))["table"]
        assert table.get("encoding") == "base64" and table.get("mimeType") == "text/csv"
        assert base64.b64decode(table.text).decode() == "n,square\n1,1\n"

    def test_schema_requested_and_echoed(self, wps):
        form = WPS.ResponseForm(WPS.ResponseDocument(WPS.Output(OWS.Identifier("output"),
                                                                mimeType="application/metalink+xml; version=4.0",
                                                                schema="metalink/4.0/metalink4.xsd")))
        out = outputs(xml(wps.post(execute("multiple_outputs", literal("count", 1), form=form))))["output"]
        assert out.get("schema") == "metalink/4.0/metalink4.xsd"

    def test_unsupported_mime_type(self, wps):
        resp = kvp(wps, "output_formats", RawDataOutput="table@mimeType=image/png")
        assert exception_of(resp) == ("InvalidParameterValue", "table", 400)


class TestStoredResponses:
    def test_store_without_status_answers_at_once(self, wps):
        started = time.monotonic()
        resp = kvp(wps, "sleep", "delay=0.5", storeExecuteResponse="true")
        assert time.monotonic() - started < 1.5
        doc = xml(resp)
        assert xp(doc, "//wps:Status/wps:ProcessAccepted")
        location = doc.get("statusLocation")
        assert location.startswith("http://127.0.0.1:")
        seen = []

        def finished():
            current = xml(requests.get(location, timeout=10))
            seen.append(etree.QName(xp(current, "//wps:Status/*")[0]).localname)
            return current if seen[-1] in ("ProcessSucceeded", "ProcessFailed") else None

        final = wait_for(finished, timeout=60, interval=0.05)
        assert outputs(final) == {"sleep_output": "awake again"}
        assert set(seen) <= {"ProcessAccepted", "ProcessStarted", "ProcessSucceeded"}

    def test_store_without_status_no_progress_updates(self, wps):
        doc = xml(kvp(wps, "sleep", "delay=0.4", storeExecuteResponse="true", status="false"))
        location = doc.get("statusLocation")
        seen = []

        def finished():
            current = xml(requests.get(location, timeout=10))
            seen.append(etree.QName(xp(current, "//wps:Status/*")[0]).localname)
            return current if seen[-1] in ("ProcessSucceeded", "ProcessFailed") else None

        wait_for(finished, timeout=60, interval=0.05)
        assert "ProcessStarted" not in seen, seen

    def test_storage_not_supported(self, wps):
        resp = kvp(wps, "nostore", "x=2", storeExecuteResponse="true")
        assert exception_of(resp) == ("StorageNotSupported", "storeExecuteResponse", 400)
        form = WPS.ResponseForm(WPS.ResponseDocument(storeExecuteResponse="true", status="true"))
        code, _, status = exception_of(wps.post(execute("nostore", form=form)))
        assert (code, status) == ("StorageNotSupported", 400)
        assert outputs(xml(kvp(wps, "nostore", "x=2")))["y"] == "4"


class TestRequestFeatures:
    def test_lineage_post(self, wps, data):
        form = WPS.ResponseForm(WPS.ResponseDocument(
            WPS.Output(OWS.Identifier("repeated"), OWS.Title("Sum"), asReference="false"),
            WPS.Output(OWS.Identifier("text"), mimeType="text/plain"),
            lineage="true"))
        body = WPS.Body("q")
        ref = reference("text", f"{data.base}/echo/lineage", WPS.Header(key="X-A", value="1"), body,
                        method="POST", mimeType="text/plain")
        doc = xml(wps.post(execute("inout", literal("repeated", 3), literal("repeated", 4),
                                   literal("string", "lin"), ref, form=form)))
        inputs = xp(doc, "/wps:ExecuteResponse/wps:DataInputs/wps:Input")
        assert [xp(i, "ows:Identifier")[0].text for i in inputs] == ["repeated", "repeated", "string", "text"]
        assert xp(inputs[0], "wps:Data/wps:LiteralData")[0].text == "3"
        [echoed_ref] = xp(inputs[3], "wps:Reference")
        assert echoed_ref.get(HREF) == f"{data.base}/echo/lineage" and echoed_ref.get("method") == "POST"
        assert xp(echoed_ref, "wps:Header")[0].get("key") == "X-A"
        assert xp(echoed_ref, "wps:Body")[0].text == "q"
        defs = xp(doc, "/wps:ExecuteResponse/wps:OutputDefinitions/wps:Output")
        assert [xp(d, "ows:Identifier")[0].text for d in defs] == ["repeated", "text"]
        assert defs[1].get("mimeType") == "text/plain"
        assert outputs(doc)["repeated"] == "7"

    def test_lineage_false_by_default(self, wps):
        doc = xml(wps.post(execute("inout", literal("repeated", 1))))
        assert not xp(doc, "/wps:ExecuteResponse/wps:DataInputs")
        assert not xp(doc, "/wps:ExecuteResponse/wps:OutputDefinitions")

    def test_multiple_occurrences(self, wps):
        out = outputs(xml(kvp(wps, "inout", "repeated=1;repeated=2;repeated=3;repeated=4;repeated=5;"
                                            "string_multiple_choice=red kite;string_multiple_choice=grey heron")))
        assert out["repeated"] == "15"
        assert out["string_multiple_choice"] == "red kite, grey heron"

    def test_too_few_and_too_many_occurrences(self, wps):
        assert exception_of(kvp(wps, "inout", "string=x")) == ("MissingParameterValue", "repeated", 400)
        resp = kvp(wps, "inout", "repeated=1;string_multiple_choice=red kite;string_multiple_choice=grey heron;"
                                 "string_multiple_choice=white stork")
        assert exception_of(resp) == ("InvalidParameterValue", "string_multiple_choice", 400)

    def test_missing_optional_inputs_take_defaults(self, wps):
        out = outputs(xml(kvp(wps, "inout", "repeated=1")))
        assert out["string"] == "a plain default" and out["int"] == "7" and out["string_choice"] == "west"
        assert outputs(xml(kvp(wps, "sleep", "")))["sleep_output"] == "awake again"

    def test_uom_literal_input_and_output(self, wps):
        resp = kvp(wps, "distance", "distance=3@uom=kilometre", ResponseDocument="converted@uom=feet;input_unit")
        doc = xml(resp)
        [converted] = xp(doc, "//wps:Output[ows:Identifier='converted']/wps:Data/wps:LiteralData")
        assert converted.get("uom") == "feet"
        assert float(converted.text) == pytest.approx(3000 / 0.3048)
        assert outputs(doc)["input_unit"] == "kilometre"

    def test_uom_lineage_post(self, wps):
        form = WPS.ResponseForm(WPS.ResponseDocument(WPS.Output(OWS.Identifier("converted"), uom="metre"),
                                                     lineage="true"))
        doc = xml(wps.post(execute("distance", literal("distance", 1, uom="feet"), form=form)))
        assert xp(doc, "//wps:DataInputs//wps:LiteralData")[0].get("uom") == "feet"
        assert xp(doc, "//wps:OutputDefinitions/wps:Output")[0].get("uom") == "metre"
        assert xp(doc, "//wps:ProcessOutputs//wps:LiteralData")[0].get("uom") == "metre"

    def test_unsupported_uom(self, wps):
        resp = kvp(wps, "distance", "distance=3", ResponseDocument="converted@uom=parsec")
        assert exception_of(resp) == ("InvalidParameterValue", "converted", 400)


def test_emu_collection_is_served(wps):
    doc = xml(requests.get(wps.url, params={"service": "WPS", "request": "GetCapabilities"}, timeout=10))
    names = {e.text for e in xp(doc, "//wps:ProcessOfferings/wps:Process/ows:Identifier")}
    assert names == {p.identifier for p in emu_processes()}
