"""pywps.encode.json1: negotiation, process descriptions and Execute answers as plain data -> dicts."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from pywps.encode import json1
from pywps.processes.examples import Add, BoundingBoxEcho, ComplexEcho, MultipleOutputs
from pywps.requestmodel import OutputResult


@pytest.mark.parametrize("accept, default, f, expected", [
    (None, "text/xml", None, False),
    (None, "application/json", None, True),
    ("*/*", "text/xml", None, False),
    ("*/*", "application/json", None, True),
    ("application/json", "text/xml", None, True),
    ("application/xml", "application/json", None, False),
    ("text/xml", "application/json", None, False),
    ("application/json, application/xml", "text/xml", None, False),
    ("application/json, application/xml", "application/json", None, True),
    ("application/xml;q=0.1, application/json", "text/xml", None, False),
    ("image/png", "text/xml", None, False),
    (None, "text/xml", "json", True),
    ("*/*", "application/json", "xml", False),
])
def test_wants_json(accept, default, f, expected):
    assert json1.wants_json(accept, default, f) is expected


def test_dumps_indent():
    assert json1.dumps({"a": [1]}, 2) == b'{\n  "a": [\n    1\n  ]\n}'
    assert json1.dumps({"a": [1]}, -1) == b'{"a": [1]}'
    assert json1.dumps({"a": "\u00e9"}, None) == b'{"a": "\\u00e9"}'


def test_process_descriptions_in_pywps4_shape():
    add, echo, bbox = (json1.process(p.json) for p in (Add(), ComplexEcho(), BoundingBoxEcho()))
    assert list(add)[:5] == ["class", "uuid", "workdir", "version", "identifier"]
    assert add["uuid"] == "None" and add["store_supported"] == "true"
    b = add["inputs"][1]
    assert b["type"] == "literal" and b["data"] == "0.0" and "default" not in b
    assert add["outputs"][0]["data"] is None and "metadata" not in add["outputs"][0]
    assert echo["inputs"][0]["mimetype"] == "application/gml+xml" and echo["outputs"][0]["type"] == "complex"
    assert (bbox["outputs"][0]["min_occurs"], bbox["outputs"][0]["max_occurs"]) == ("1", "1")
    json.dumps([add, echo, bbox])  # plain JSON all the way down


def test_capabilities_and_describe():
    metadata = {"identification_title": "T", "identification_keywords": "a,b", "contact_fax": "+1"}
    doc = json1.capabilities([Add().json], metadata, "http://h/wps", ("en-US", "de"), "de", "1.0.0", "5.0")
    assert (doc["title"], doc["keywords"], doc["provider"]["fascimile"]) == ("T", ["a", "b"], "+1")
    assert doc["languages"] == ["en-US", "de"] and doc["processes"][0]["identifier"] == "add"
    assert json1.describe([Add().json], "de", "5.0")["language"] == "de"


def test_execute_answers():
    declared = [o.json for o in MultipleOutputs().outputs]
    results = [OutputResult("upper", "literal", value="AB", data_type="string"),
               OutputResult("length", "literal", value="2", data_type="integer"),
               OutputResult("summary", "complex", value='{"x": 1}', mime_type="application/json")]
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    doc = json1.execute("succeeded", 100, "", when, results, declared)
    assert doc == {"status": {"status": "succeeded", "time": "2026-01-02T03:04:05Z", "percent_done": "100",
                              "message": "Process succeeded"},
                   "outputs": {"upper": "AB", "length": 2, "summary": '{"x": 1}'}}
    # before the end: literal outputs null, complex ones left out; dismissed is failed in WPS 1.0.0
    assert json1.execute("paused", 40, "wait", when, [], declared)["outputs"] == {"upper": None, "length": None}
    failed = json1.execute("dismissed", 100, "", when, [], declared)["status"]
    assert (failed["status"], failed["percent_done"], failed["code"], failed["locator"]) == (
        "failed", "99", "NoApplicableCode", "None")


def test_execute_values_as_pywps4():
    def one(result, **declared):
        return json1.execute("succeeded", 100, "", "t", [result], [{"identifier": "o", **declared}])["outputs"]

    assert one(OutputResult("o", "complex", value="hi", mime_type="text/plain")) == {"o": "<![CDATA[hi]]>"}
    assert one(OutputResult("o", "complex", value="a]]>b", mime_type="text/plain")) == {"o": "YV1dPmI="}
    assert one(OutputResult("o", "complex", value="<a/>", mime_type="text/xml")) == {"o": "<a/>"}
    assert one(OutputResult("o", "complex", value="AAE=", mime_type="image/png", encoding="base64")) == {"o": "AAE="}
    assert one(OutputResult("o", "complex", as_reference=True, href="http://h/o")) == {}
    assert one(OutputResult("o", "literal", value="true", data_type="boolean"), type="literal") == {"o": True}
    assert one(OutputResult("o", "literal", value="1.5", data_type="float"), type="literal") == {"o": 1.5}
    assert one(OutputResult("o", "bbox", lower_corner=[1, 2], upper_corner=[3, 4]), type="bbox") == {
        "o": [1.0, 2.0, 3.0, 4.0]}


def test_served_as_json(make_client):
    """Accept: application/json on the WPS; raw outputs and XML requests of the client stay what they were."""
    client = make_client()
    resp = client.get("/wps?service=WPS&request=Execute&version=1.0.0&identifier=say_hello&DataInputs=name=J",
                      headers={"Accept": "application/json"})
    assert resp.content_type == "application/json"
    assert json.loads(resp.get_data())["outputs"] == {"output": "Hello J"}
    resp = client.get("/wps?service=WPS&request=Execute&version=1.0.0&identifier=say_hello&DataInputs=name=J"
                      "&RawDataOutput=output", headers={"Accept": "application/json"})
    assert resp.get_data() == b"Hello J" and "json" not in resp.content_type
    resp = client.get("/wps?service=WPS&request=GetCapabilities")  # no Accept header, default text/xml
    assert resp.content_type.startswith("text/xml")
    resp = client.get("/wps?service=WPS&request=DescribeProcess&version=1.0.0&identifier=nope",
                      headers={"Accept": "application/json"})
    assert resp.status_code == 400 and b"ExceptionReport" in resp.get_data()  # errors stay OWS reports
