"""The emu collection's test-suite, written the way PyWPS 4 collections write theirs; every response XSD-validated."""

from __future__ import annotations

import base64
import json

import pytest
from lxml import etree

from pywps import Service, get_ElementMakerForVersion
from pywps.app.basic import get_xpath_ns
from pywps.tests import WpsClient, assert_process_exception, assert_response_success, client_for
from tests.compat.emu import processes
from tests.compat.emu.processes.wps_bbox import Box
from tests.compat.emu.processes.wps_hello import Hello
from tests.xsd import validate

VERSION = "1.0.0"
WPS, OWS = get_ElementMakerForVersion(VERSION)
xpath_ns = get_xpath_ns(VERSION)
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"


@pytest.fixture(scope="module")
def client(cfgfile):
    service = Service(processes=processes(), cfgfiles=[str(cfgfile)])
    yield client_for(service)
    service.close()


def checked(resp):
    """Validate the response body against the official schemas and return the response."""
    validate(resp.get_data())
    return resp


def get_output(doc):
    """The outputs of an ExecuteResponse as {identifier: value} (the helper emu's tests use)."""
    output = {}
    for output_el in xpath_ns(doc, "/wps:ExecuteResponse/wps:ProcessOutputs/wps:Output"):
        [identifier_el] = xpath_ns(output_el, "./ows:Identifier")
        lit_el = xpath_ns(output_el, "./wps:Data/wps:LiteralData")
        if lit_el:
            output[identifier_el.text] = lit_el[0].text
        ref_el = xpath_ns(output_el, "./wps:Reference")
        if ref_el:
            output[identifier_el.text] = ref_el[0].attrib["href"]
        data_el = xpath_ns(output_el, "./wps:Data/wps:ComplexData")
        if data_el:
            output[identifier_el.text] = data_el[0]
        bbox_el = xpath_ns(output_el, "./wps:Data/wps:BoundingBoxData")
        if bbox_el:
            output[identifier_el.text] = bbox_el[0]
    return output


def literal_input(identifier, value, **attrs):
    return WPS.Input(OWS.Identifier(identifier), WPS.Data(WPS.LiteralData(str(value), **attrs)))


def execute(identifier, *inputs, form=None):
    doc = WPS.Execute(OWS.Identifier(identifier), WPS.DataInputs(*inputs), version=VERSION, service="WPS")
    if form is not None:
        doc.append(form)
    return doc


class TestCapabilitiesAndDescriptions:
    def test_wps_caps(self, client):
        resp = checked(client.get("?service=wps&request=getcapabilities&version=1.0.0"))
        names = resp.xpath_text("/wps:Capabilities/wps:ProcessOfferings/wps:Process/ows:Identifier")
        assert sorted(names.split()) == sorted(p.identifier for p in processes())
        assert resp.xpath("/wps:Capabilities/wps:Languages/wps:Supported/ows:Language")

    def test_describe_all(self, client):
        resp = checked(client.get("?service=wps&request=DescribeProcess&version=1.0.0&identifier=all"))
        assert len(resp.xpath("/wps:ProcessDescriptions/ProcessDescription")) == len(processes())

    def test_describe_inout(self, client):
        resp = checked(client.get("?service=wps&request=DescribeProcess&version=1.0.0&identifier=inout"))
        [desc] = resp.xpath("/wps:ProcessDescriptions/ProcessDescription")
        assert desc.get("{http://www.opengis.net/wps/1.0.0}processVersion") == "1.0"
        assert desc.get("storeSupported") == "true" and desc.get("statusSupported") == "true"
        types = {
            xpath_ns(i, "./ows:Identifier")[0].text: xpath_ns(i, "./LiteralData/ows:DataType")[0].text
            for i in resp.xpath("//DataInputs/Input[LiteralData]")
        }
        assert types["int"] == "integer" and types["datetime"] == "dateTime" and types["uri"] == "anyURI"
        assert types["positive"] == "positiveInteger" and types["non_negative"] == "nonNegativeInteger"
        [choice] = resp.xpath("//DataInputs/Input[ows:Identifier='string_multiple_choice']")
        assert choice.get("minOccurs") == "0" and choice.get("maxOccurs") == "2"
        assert sorted(xpath_ns(choice, ".//ows:AllowedValues/ows:Value/text()")) == [
            "black swan", "grey heron", "red kite", "white stork"]
        assert xpath_ns(choice, ".//DefaultValue")[0].text == "black swan"
        [rng] = resp.xpath("//DataInputs/Input[ows:Identifier='int_range']//ows:Range")
        assert xpath_ns(rng, "./ows:MinimumValue")[0].text == "1"
        assert xpath_ns(rng, "./ows:MaximumValue")[0].text == "10"
        assert resp.xpath("//DataInputs/Input[ows:Identifier='any_value']//ows:AnyValue")
        assert resp.xpath("//DataInputs/Input[ows:Identifier='bbox']/BoundingBoxData/Supported/CRS")

    def test_describe_metadata(self, client):
        resp = checked(client.get("?service=wps&request=DescribeProcess&version=1.0.0&identifier=hello"))
        titles = [m.get("{http://www.w3.org/1999/xlink}title") for m in resp.xpath("//ProcessDescription/ows:Metadata")]
        assert titles == ["Project site", "Process notes", "Usage guide"]

    def test_describe_uoms(self, client):
        resp = checked(client.get("?service=wps&request=DescribeProcess&version=1.0.0&identifier=distance"))
        assert resp.xpath_text("//Input/LiteralData/UOMs/Default/ows:UOM") == "metre"
        assert resp.xpath_text("//Input/LiteralData/UOMs/Supported/ows:UOM").split() == ["metre", "kilometre", "feet"]
        assert resp.xpath("//Output[ows:Identifier='converted']/LiteralOutput/UOMs/Supported")

    @pytest.mark.parametrize("language, title, input_title, output_title", [
        ("en-US", "Greeting in three languages", "Any word", "Salutation"),
        ("fr-CA", "Salutation en trois langues", "N'importe quel mot", "Salutation en français"),
        ("de-DE", "Gruß in drei Sprachen", "Irgendein Wort", "Gruß"),
    ])
    def test_describe_translated(self, client, language, title, input_title, output_title):
        resp = checked(client.get("?service=wps&request=DescribeProcess&version=1.0.0&identifier=translation"
                                  f"&language={language}"))
        assert resp.xpath_text("//ProcessDescription/ows:Title") == title
        assert resp.xpath_text("//Input/ows:Title") == input_title
        assert resp.xpath_text("//Output/ows:Title") == output_title
        assert resp.xml.get("{http://www.w3.org/XML/1998/namespace}lang") == language

    def test_capabilities_translated(self, client):
        resp = checked(client.get("?service=wps&request=GetCapabilities&language=fr-CA"))
        assert resp.xpath_text("//wps:Process[ows:Identifier='translation']/ows:Title") == "Salutation en trois langues"
        assert resp.xpath_text("/wps:Capabilities/wps:Languages/wps:Default/ows:Language") == "en-US"


class TestHello:
    def test_wps_hello_get(self, client):
        datainputs = "name=Marigold"
        resp = checked(client.get(
            f"?service=WPS&request=Execute&version=1.0.0&identifier=hello&datainputs={datainputs}"))
        assert_response_success(resp)
        assert get_output(resp.xml) == {"output": "Hello Marigold"}

    def test_wps_hello_post(self, client):
        resp = checked(client.post_xml(doc=execute("hello", literal_input("name", "foo"))))
        assert_response_success(resp)
        assert get_output(resp.xml) == {"output": "Hello foo"}
        assert resp.xpath("/wps:ExecuteResponse/wps:Process/@wps:processVersion")[0] == "1.5"

    def test_own_service_per_test(self, cfgfile):
        """``client_for(Service(processes=[Hello()]))`` per test, as most collections do."""
        service = Service(processes=[Hello()], cfgfiles=[str(cfgfile)])
        try:
            client = client_for(service)
            assert isinstance(client, WpsClient)
            resp = client.get("?service=WPS&request=Execute&version=1.0.0&identifier=hello&datainputs=name=x")
            assert_response_success(resp)
            assert resp.xpath_text("//wps:LiteralData") == "Hello x"
        finally:
            service.close()

    def test_service_without_cfgfiles(self, tmp_path, monkeypatch):
        """``Service(processes=[...])`` on the built-in defaults (workdir moved by environment variable)."""
        monkeypatch.delenv("PYWPS_CFG", raising=False)
        monkeypatch.setenv("PYWPS_SERVER_WORKDIR", str(tmp_path / "work"))
        monkeypatch.chdir(tmp_path)
        service = Service(processes=[Hello()])
        try:
            client = client_for(service)
            resp = checked(client.get("?service=WPS&request=Execute&version=1.0.0&identifier=hello"
                                      "&datainputs=name=defaults"))
            assert_response_success(resp)
            assert get_output(resp.xml) == {"output": "Hello defaults"}
            assert_response_success(client.post_xml(doc=execute("hello", literal_input("name", "again"))))
        finally:
            service.close()

    def test_missing_input(self, client):
        resp = checked(client.get("?service=WPS&request=Execute&version=1.0.0&identifier=hello"))
        assert_process_exception(resp, code="MissingParameterValue")
        assert resp.xpath("//ows:Exception/@locator") == ["name"]


class TestInOut:
    def test_defaults(self, client):
        resp = checked(client.post_xml(doc=execute("inout", literal_input("repeated", 1))))
        assert_response_success(resp)
        out = get_output(resp.xml)
        assert out["string"] == "a plain default"
        assert out["int"] == "7"
        assert float(out["float"]) == 3.1415
        assert out["boolean"] == "false"
        assert out["date"] == "2012-05-01"
        assert out["time"] == "12:00:00"
        assert out["datetime"].startswith("2016-09-02T12:00:00")
        assert out["uri"] == "https://example.org/data.nc"
        assert out["positive"] == "3" and out["non_negative"] == "0"
        assert out["string_choice"] == "west"
        assert out["string_multiple_choice"] == "black swan"
        assert out["any_value"] == "anything"
        assert out["text"].text == "nothing was sent"

    def test_every_literal_type_by_kvp(self, client):
        datainputs = ";".join([
            "string=Wow", "int=42", "float=2.5", "boolean=true", "date=2020-02-29", "time=23:59:58",
            "datetime=2021-01-02T03:04:05Z", "uri=https://example.com/x", "positive=9", "non_negative=0",
            "string_choice=north", "string_multiple_choice=red kite", "string_multiple_choice=white stork",
            "int_range=10", "any_value=!?*", "repeated=1", "repeated=2", "repeated=39",
            "bbox=1,2,3,4,EPSG:3035",
        ])
        resp = checked(client.get(f"?service=WPS&request=Execute&version=1.0.0&identifier=inout"
                                  f"&DataInputs={datainputs}"))
        assert_response_success(resp)
        out = get_output(resp.xml)
        assert out["string"] == "Wow" and out["int"] == "42" and float(out["float"]) == 2.5
        assert out["boolean"] == "true" and out["date"] == "2020-02-29" and out["time"] == "23:59:58"
        assert out["datetime"].startswith("2021-01-02T03:04:05")
        assert out["string_multiple_choice"] == "red kite, white stork"
        assert out["int_range"] == "10" and out["any_value"] == "!?*"
        assert out["repeated"] == "42"
        bbox = out["bbox"]
        assert xpath_ns(bbox, "./ows:LowerCorner")[0].text.split() == ["1.0", "2.0"]
        assert bbox.get("crs") == "EPSG:3035"

    @pytest.mark.parametrize("name, value", [
        ("int", "seven"), ("positive", "0"), ("non_negative", "-1"), ("date", "2021-02-30"),
        ("string_choice", "up"), ("int_range", "11"), ("boolean", "maybe"), ("time", "25:00:00"),
    ])
    def test_invalid_literal(self, client, name, value):
        resp = checked(client.post_xml(doc=execute("inout", literal_input("repeated", 1),
                                                   literal_input(name, value))))
        assert_process_exception(resp, code="InvalidParameterValue")
        assert resp.xpath("//ows:Exception/@locator") == [name]

    def test_too_many_occurrences(self, client):
        resp = checked(client.post_xml(doc=execute("inout", *[literal_input("repeated", i) for i in range(6)])))
        assert_process_exception(resp, code="InvalidParameterValue")
        assert resp.xpath("//ows:Exception/@locator") == ["repeated"]

    def test_complex_xml_file_passthrough(self, client):
        xml = WPS.Input(OWS.Identifier("xml"), WPS.Data(WPS.ComplexData(
            etree.fromstring('<feature xmlns="urn:emu"><name>duck</name></feature>'), mimeType="text/xml")))
        resp = checked(client.post_xml(doc=execute("inout", literal_input("repeated", 1), xml)))
        assert_response_success(resp)
        data = get_output(resp.xml)["xml"]
        assert data.get("mimeType") == "text/xml"
        assert data.xpath("//e:name/text()", namespaces={"e": "urn:emu"}) == ["duck"]

    def test_invalid_gml_refused_in_strict_mode(self, client):
        xml = WPS.Input(OWS.Identifier("xml"), WPS.Data(WPS.ComplexData("<not gml", mimeType="application/gml+xml")))
        resp = checked(client.post_xml(doc=execute("inout", literal_input("repeated", 1), xml)))
        assert_process_exception(resp, code="InvalidParameterValue")

    def test_text_by_reference(self, client, dataserver):
        url = dataserver.add("/inout.txt", "referenced text\n")
        text = WPS.Input(OWS.Identifier("text"), WPS.Reference({XLINK_HREF: url}, mimeType="text/plain"))
        resp = checked(client.post_xml(doc=execute("inout", literal_input("repeated", 1), text)))
        assert_response_success(resp)
        assert get_output(resp.xml)["text"].text.strip() == "referenced text"


class TestWordCounter:
    TEXT = "The quick brown fox jumps over the lazy dog. The dog sleeps.\n" * 3

    def test_inline_text_stream_and_file(self, client):
        inpt = WPS.Input(OWS.Identifier("text"), WPS.Data(WPS.ComplexData(self.TEXT, mimeType="text/plain")))
        resp = checked(client.post_xml(doc=execute("wordcounter", inpt)))
        assert_response_success(resp)
        out = get_output(resp.xml)
        assert out["words"] == "36" and out["source"] == "data"
        ref = resp.xpath("//wps:Output[ows:Identifier='output']/wps:Reference")[0]
        assert ref.get("mimeType") == "application/json"
        served = client.get(ref.get("href").split("://", 1)[1].split("/", 1)[1].join(["/", ""]))
        assert served.status_code == 200
        assert json.loads(served.get_data())["the"] == 9

    def test_reference_via_kvp(self, client, dataserver):
        url = dataserver.add("/fox.txt", self.TEXT)
        resp = checked(client.get(f"?service=WPS&request=Execute&version=1.0.0&identifier=wordcounter"
                                  f"&DataInputs=text=@xlink:href={url}@mimeType=text/plain"))
        assert_response_success(resp)
        out = get_output(resp.xml)
        assert out["words"] == "36" and out["source"] == "url"

    def test_reference_too_large(self, client, dataserver):
        url = dataserver.add("/huge.txt", "word " * 60_000)
        resp = checked(client.get(f"?service=WPS&request=Execute&version=1.0.0&identifier=wordcounter"
                                  f"&DataInputs=text=@xlink:href={url}"))
        assert_process_exception(resp, code="FileSizeExceeded")
        assert resp.status_code == 413
        assert resp.xpath("//ows:Exception/@locator") == ["text"]


class TestOutputFormats:
    @pytest.mark.parametrize("mime, check", [
        ("application/json", lambda body: json.loads(body)[1] == {"n": 2, "square": 4}),
        ("text/csv", lambda body: body.decode().splitlines() == ["n,square", "1,1", "2,4", "3,9"]),
        ("text/plain", lambda body: body.decode().splitlines()[-1] == "3 9"),
    ])
    def test_raw_data_output_in_requested_format(self, client, mime, check):
        resp = client.get(f"?service=WPS&request=Execute&version=1.0.0&identifier=output_formats"
                          f"&DataInputs=rows=3&RawDataOutput=table@mimeType={mime}")
        assert resp.status_code == 200
        assert resp.headers["Content-Type"].split(";")[0] == mime
        assert check(resp.get_data())

    def test_document_with_data_format(self, client):
        form = WPS.ResponseForm(WPS.ResponseDocument(
            WPS.Output(OWS.Identifier("table"), mimeType="text/csv"),
            WPS.Output(OWS.Identifier("netcdf"), asReference="true")))
        resp = checked(client.post_xml(doc=execute("output_formats", literal_input("rows", 2), form=form)))
        assert_response_success(resp)
        out = get_output(resp.xml)
        assert out["table"].get("mimeType") == "text/csv"
        assert out["table"].text.splitlines() == ["n,square", "1,1", "2,4"]
        assert out["netcdf"].endswith(".nc")

    def test_binary_by_value_is_base64(self, client):
        form = WPS.ResponseForm(WPS.ResponseDocument(WPS.Output(OWS.Identifier("table"),
                                                                mimeType="application/x-netcdf")))
        resp = checked(client.post_xml(doc=execute("output_formats", literal_input("rows", 2), form=form)))
        assert_response_success(resp)
        table = get_output(resp.xml)["table"]
        assert table.get("encoding") == "base64"
        assert base64.b64decode(table.text) == b"CDF\x01\x00\x00"

    def test_unsupported_format(self, client):
        resp = checked(client.get("?service=WPS&request=Execute&version=1.0.0&identifier=output_formats"
                                  "&RawDataOutput=table@mimeType=image/png"))
        assert_process_exception(resp, code="InvalidParameterValue")
        assert resp.xpath("//ows:Exception/@locator") == ["table"]


class TestMetaLink:
    def test_metalink4_lists_served_files(self, client):
        resp = checked(client.post_xml(doc=execute("multiple_outputs", literal_input("count", 3))))
        assert_response_success(resp)
        data = get_output(resp.xml)["output"]
        assert data.get("mimeType").startswith("application/metalink+xml")
        ns = {"ml": "urn:ietf:params:xml:ns:metalink"}
        urls = data.xpath("//ml:file/ml:metaurl/text() | //ml:file/ml:url/text()", namespaces=ns)
        assert len(urls) == 3
        for n, url in enumerate(sorted(urls)):
            served = client.get("/" + url.split("://", 1)[1].split("/", 1)[1])
            assert served.status_code == 200, url
            assert served.get_data(as_text=True) == f"line from part {n}\n"


class TestAsync:
    def test_sleep_async(self, client):
        from tests.conftest import wait_for

        resp = checked(client.get("?service=WPS&request=Execute&version=1.0.0&identifier=sleep"
                                  "&DataInputs=delay=0.2&storeExecuteResponse=true&status=true"))
        assert resp.status_code == 200
        location = resp.xml.get("statusLocation")
        path = "/" + location.split("://", 1)[1].split("/", 1)[1]

        def finished():
            doc = checked(client.get(path))
            return doc if doc.xpath("//wps:ProcessSucceeded") else None

        final = wait_for(finished, timeout=60)
        assert get_output(final.xml) == {"sleep_output": "awake again"}


class TestErrors:
    def test_process_error_message_shown(self, client):
        resp = checked(client.get("?service=WPS&request=Execute&version=1.0.0&identifier=show_error"
                                  "&DataInputs=message=Hull%20breach"))
        assert resp.xpath("//wps:Status/wps:ProcessFailed")
        assert resp.xpath_text("//wps:ProcessFailed//ows:ExceptionText") == "Hull breach"

    def test_unexpected_exception_no_traceback(self, client):
        resp = checked(client.get("?service=WPS&request=Execute&version=1.0.0&identifier=show_error"
                                  "&DataInputs=nice=false"))
        assert resp.xpath("//wps:Status/wps:ProcessFailed")
        body = resp.get_data(as_text=True)
        assert "Traceback" not in body and "wps_error.py" not in body and "_handler" not in body
        assert_response_success(client.get("?service=WPS&request=Execute&version=1.0.0&identifier=hello"
                                           "&DataInputs=name=still%20here"))

    def test_unexpected_exception_message_hidden(self, client):
        resp = checked(client.get("?service=WPS&request=Execute&version=1.0.0&identifier=show_error"
                                  "&DataInputs=nice=false"))
        assert resp.xpath("//wps:Status/wps:ProcessFailed")
        assert "credentials" not in resp.get_data(as_text=True)
        assert_response_success(client.get("?service=WPS&request=Execute&version=1.0.0&identifier=hello"
                                           "&DataInputs=name=still%20here"))


class TestUomTranslationConfig:
    def test_uom_in_and_out(self, client):
        form = WPS.ResponseForm(WPS.ResponseDocument(WPS.Output(OWS.Identifier("converted"), uom="metre"),
                                                     WPS.Output(OWS.Identifier("input_unit"))))
        resp = checked(client.post_xml(doc=execute("distance", literal_input("distance", 2.5, uom="kilometre"),
                                                   form=form)))
        assert_response_success(resp)
        [converted] = resp.xpath("//wps:Output[ows:Identifier='converted']/wps:Data/wps:LiteralData")
        assert float(converted.text) == 2500.0 and converted.get("uom") == "metre"
        assert get_output(resp.xml)["input_unit"] == "kilometre"

    def test_uom_by_kvp(self, client):
        resp = checked(client.get("?service=WPS&request=Execute&version=1.0.0&identifier=distance"
                                  "&DataInputs=distance=1000@uom=feet&ResponseDocument=converted@uom=metre"))
        assert_response_success(resp)
        assert float(resp.xpath_text("//wps:LiteralData")) == pytest.approx(304.8)

    def test_unknown_uom(self, client):
        resp = checked(client.get("?service=WPS&request=Execute&version=1.0.0&identifier=distance"
                                  "&DataInputs=distance=1@uom=parsec"))
        assert_process_exception(resp, code="InvalidParameterValue")
        assert resp.xpath("//ows:Exception/@locator") == ["distance"]

    @pytest.mark.parametrize("language, answer, title", [
        ("fr-CA", "Bonjour", "Salutation en français"), ("de-DE", "Hallo", "Gruß"), (None, "Hello", "Salutation")])
    def test_execute_in_language(self, client, language, answer, title):
        query = "?service=WPS&request=Execute&version=1.0.0&identifier=translation"
        resp = checked(client.get(query + (f"&language={language}" if language else "")))
        assert_response_success(resp)
        assert get_output(resp.xml) == {"output1": answer}
        assert resp.xpath_text("//wps:Output/ows:Title") == title

    def test_get_config_value(self, client):
        resp = checked(client.get("?service=WPS&request=Execute&version=1.0.0&identifier=show_config"))
        assert_response_success(resp)
        out = get_output(resp.xml)
        assert out["url"].startswith("http://127.0.0.1:") and out["url"].endswith("/wps")
        assert out["maxsize"] == "200kb"
        assert out["custom"] == "/data/archive"

    def test_bbox_post(self, cfgfile):
        service = Service(processes=[Box()], cfgfiles=[str(cfgfile)])
        try:
            client = client_for(service)
            bbox = WPS.Input(OWS.Identifier("bbox"), WPS.Data(WPS.BoundingBoxData(
                OWS.LowerCorner("15.0 50.0"), OWS.UpperCorner("16.0 51.0"), crs="epsg:4326", dimensions="2")))
            resp = checked(client.post_xml(doc=execute("bbox", bbox)))
            assert_response_success(resp)
            [out] = resp.xpath("//wps:Output/wps:Data/wps:BoundingBoxData")
            assert out.get("crs") == "epsg:4326"
            assert [float(v) for v in xpath_ns(out, "./ows:UpperCorner")[0].text.split()] == [16.0, 51.0]
        finally:
            service.close()

    def test_storage_not_supported(self, client):
        resp = checked(client.get("?service=WPS&request=Execute&version=1.0.0&identifier=nostore"
                                  "&storeExecuteResponse=true"))
        assert_process_exception(resp, code="StorageNotSupported")
        assert resp.status_code == 400
        resp = checked(client.get("?service=WPS&request=Execute&version=1.0.0&identifier=nostore&DataInputs=x=3"))
        assert get_output(resp.xml) == {"y": "9"}
