"""Execution (core): sync and async, raw and document, value and reference, every kind of input, and
every bad request answered 4xx with a JSON exception before any job exists."""

from __future__ import annotations

import base64
import json

import pytest

from tests.ogcapi.conftest import job_id_of
from tests.ogcapi.schemas import check, check_response


def test_sync_document(api):
    doc = check_response(api.execute("say_hello", {"inputs": {"name": "World"}, "response": "document"}), "results")
    assert doc == {"output": "Hello World"}


def test_sync_raw_is_the_default(api):
    resp = api.execute("say_hello", {"inputs": {"name": "World"}})
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/plain")
    assert resp.get_data() == b"Hello World"
    assert 'rel="monitor"' in resp.headers["Link"]


def test_sync_raw_several_outputs_is_multipart(api):
    resp = api.execute("multiple_outputs", {"inputs": {"text": "a b"}})
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("multipart/related")
    body = resp.get_data()
    for part in (b"Content-ID: <upper>", b"A B", b"Content-ID: <length>", b'"words": 2'):
        assert part in body


def test_typed_literal_results(api):
    doc = check_response(api.execute("multiple_outputs", {"inputs": {"text": "a b c"}, "response": "document"}),
                         "results")
    assert doc["length"] == 5 and doc["upper"] == "A B C"
    assert doc["summary"] == {"value": {"text": "a b c", "words": 3}, "mediaType": "application/json"}
    assert check_response(api.execute("add", {"inputs": {"a": 2, "b": 1.5}, "response": "document"}),
                          "results") == {"sum": 3.5}


def test_reference_output_document_and_raw(api):
    doc = check_response(api.execute("echo_complex", {
        "inputs": {"input": {"value": "hello", "mediaType": "text/plain"}},
        "outputs": {"output": {"transmissionMode": "reference", "format": {"mediaType": "text/plain"}}},
        "response": "document"}), "results")
    link = doc["output"]
    assert link["type"] == "text/plain" and link["href"].startswith("http://127.0.0.1:5000/outputs/")
    assert api.client.get(link["href"].replace("http://127.0.0.1:5000", "")).get_data() == b"hello"
    raw = api.execute("echo_complex", {"inputs": {"input": {"value": "hi", "mediaType": "text/plain"}},
                                       "outputs": {"output": {"transmissionMode": "reference"}}})
    assert raw.status_code == 204 and 'rel="enclosure"' in raw.headers["Link"]


def test_inputs_json_value_qualified_base64_and_bbox(api):
    geojson = {"type": "Point", "coordinates": [5, 50]}
    doc = check_response(api.execute("echo_complex", {"inputs": {"input": geojson}, "response": "document"}),
                         "results")
    assert doc["output"]["value"] == geojson
    data = bytes(range(256))
    doc = check_response(api.execute("echo_binary", {
        "inputs": {"input": {"value": base64.b64encode(data).decode(), "mediaType": "application/octet-stream"}},
        "response": "document"}), "results")
    assert base64.b64decode(doc["output"]["value"]) == data and doc["output"]["encoding"] == "base64"
    raw = api.execute("echo_binary", {"inputs": {"input": base64.b64encode(data).decode()}})
    assert raw.get_data() == data and raw.headers["Content-Type"] == "application/octet-stream"
    doc = check_response(api.execute("echo_bbox", {"inputs": {"bbox": {
        "bbox": [5, 50, 6, 51], "crs": "http://www.opengis.net/def/crs/EPSG/0/4326"}}, "response": "document"}),
        "results")
    assert doc["bbox"] == {"value": {"bbox": [5, 50, 6, 51], "crs": "http://www.opengis.net/def/crs/EPSG/0/4326"},
                           "mediaType": "application/json"}


def test_multiple_occurrences_as_an_array(make_api):
    from pywps import LiteralInput, LiteralOutput, Process

    def total(request, response):
        response.outputs["sum"].data = sum(int(i.data) for i in request.inputs["n"])
        return response

    api = make_api([Process(total, "total", "Total", inputs=[LiteralInput("n", "n", data_type="integer",
                                                                          max_occurs=5)],
                            outputs=[LiteralOutput("sum", "sum", data_type="integer")])])
    assert check_response(api.execute("total", {"inputs": {"n": [1, 2, {"value": 3}]}, "response": "document"}),
                          "results") == {"sum": 6}
    doc = check_response(api.execute("total", {"inputs": {"n": [1, 2, 3, 4, 5, 6]}}), "exception", 400)
    assert "at most 5" in doc["detail"]
    doc = check_response(api.execute("total", {"inputs": {"n": [1, "x"]}}), "exception", 400)
    assert doc["detail"].startswith("inputs/n/1:")


def test_input_by_reference(api, receiver):
    receiver.files["/data.json"] = (b'{"a": 1}', "application/json")
    doc = check_response(api.execute("echo_complex", {
        "inputs": {"input": {"href": f"{receiver.url}/data.json", "type": "application/json"}},
        "response": "document"}), "results")
    assert doc["output"]["value"] == {"a": 1}
    receiver.files["/name.txt"] = (b"Ref", "text/plain")
    doc = check_response(api.execute("say_hello", {"inputs": {"name": {"href": f"{receiver.url}/name.txt"}},
                                                   "response": "document"}), "results")
    assert doc == {"output": "Hello Ref"}
    before = api.job_count()
    doc = check_response(api.execute("echo_complex", {"inputs": {"input": {"href": f"{receiver.url}/missing"}}}),
                         "exception", 400)
    assert "404" in doc["detail"] and api.job_count() == before


def test_private_references_refused_by_the_same_guard(make_api):
    api = make_api(server={"reference_allow_private": "false"})
    doc = check_response(api.execute("echo_complex", {"inputs": {"input": {"href": "http://127.0.0.1:9/x"}}}),
                         "exception", 400)
    assert "non-public address" in doc["detail"]
    doc = check_response(api.execute("echo_complex", {"inputs": {"input": {"href": "file:///etc/passwd"}}}),
                         "exception", 400)
    assert "not allowed" in doc["detail"]


@pytest.mark.parametrize("document, where", [
    ({"inputs": {"a": 4}}, "inputs/a:"),
    ({"inputs": {"a": "one"}}, "inputs/a:"),
    ({"inputs": {"a": 1, "b": 5000}}, "inputs/b:"),
    ({"inputs": {"a": {"value": 4, "uom": "m"}}}, "inputs/a/value:"),
    ({"inputs": {}}, "'a' is required"),
    ({"inputs": {"a": 1, "zz": 1}}, "inputs/zz:"),
    ({"inputs": [1]}, "inputs must be an object"),
    ({"inputs": {"a": 1}, "response": "xml"}, "response:"),
    ({"inputs": {"a": 1}, "outputs": {"nope": {}}}, "outputs/nope:"),
    ({"inputs": {"a": 1}, "outputs": {"sum": {"transmissionMode": "post"}}}, "transmissionMode"),
    ({"inputs": {"a": 1}, "subscriber": {"successUri": "ftp://x"}}, "subscriber/successUri"),
])
def test_invalid_execute_documents_are_400_naming_the_path(api, document, where):
    before = api.job_count()
    doc = check_response(api.execute("add", document), "exception", 400)
    assert where in doc["detail"], doc
    assert api.job_count() == before  # no job exists


def test_invalid_complex_and_bbox_inputs(api):
    for process, document, where in [
        ("echo_bbox", {"inputs": {"bbox": {"bbox": [1, 2, 3]}}}, "inputs/bbox/bbox:"),
        ("echo_bbox", {"inputs": {"bbox": {"bbox": [1, 2, 3, 4], "crs": "EPSG:9999"}}}, "inputs/bbox/crs:"),
        ("echo_bbox", {"inputs": {"bbox": {"bbox": [3, 2, 1, 4], "crs": "EPSG:3035"}}}, "lower corner"),
        ("echo_complex", {"inputs": {"input": {"value": "x", "mediaType": "image/tiff"}}}, "not supported"),
        ("echo_complex", {"inputs": {"input": 5}}, "inputs/input:"),
        ("echo_binary", {"inputs": {"input": "***"}}, "base64"),
    ]:
        doc = check_response(api.execute(process, document), "exception", 400)
        assert where in doc["detail"], (process, doc)


@pytest.mark.parametrize("body, content_type, status", [
    (b"{not json", "application/json", 400),
    (b"\xff\xfe{}", "application/json", 400),
    (b"[" * 100000, "application/json", 400),
    (b'{"inputs": ' * 40 + b"1" + b"}" * 40, "application/json", 400),
    (b'{"inputs": {"a": NaN}}', "application/json", 400),
    (b"[]", "application/json", 400),
    (b'{"inputs": {"a": 1}}', "text/plain", 415),
    (b'{"inputs": {"a": 1}}', "", 415),
    (b'{"x": "' + b"a" * 4 * 1024 * 1024 + b'"}', "application/json", 413),
])
def test_hostile_bodies_never_500(api, body, content_type, status):
    before = api.job_count()
    check_response(api.execute("add", raw=body, content_type=content_type), "exception", status)
    assert api.job_count() == before


def test_oversized_input_value(make_api):
    api = make_api(server={"maxsingleinputsize": "1kb"})
    doc = check_response(api.execute("say_hello", {"inputs": {"name": "x" * 2000}}), "exception", 413)
    assert "name" in doc["detail"]


def test_async_created_with_location_and_status(api):
    resp = api.execute("sleep", {"inputs": {"delay": 0.3}, "response": "document"}, asynchronous=True)
    info = check_response(resp, "statusInfo", 201)
    assert resp.headers["Preference-Applied"] == "respond-async"
    job_id = job_id_of(resp)
    assert info["jobID"] == job_id and info["status"] in ("accepted", "running") and info["type"] == "process"
    assert resp.headers["Location"] == f"http://127.0.0.1:5000/ogcapi/jobs/{job_id}"
    final = check(("statusInfo"), api.wait(job_id))
    assert final["status"] == "successful" and final["progress"] == 100
    assert any(link["rel"].endswith("/results") for link in final["links"])
    assert check_response(api.get(f"jobs/{job_id}/results"), "results") == {"sleep_output": "done sleeping"}


def test_async_failure_and_its_exception(api):
    resp = api.execute("fail", {"inputs": {"message": "no luck"}}, asynchronous=True)
    job_id = job_id_of(resp)
    assert api.wait(job_id)["status"] == "failed"
    doc = check_response(api.get(f"jobs/{job_id}/results"), "exception", 500)
    assert "no luck" in doc["detail"]


def test_sync_failure_is_an_exception(api):
    doc = check_response(api.execute("fail", {"inputs": {"message": "broken"}}), "exception", 500)
    assert "broken" in doc["detail"] and doc["title"] == "Process failed"


def test_job_control_options_honoured(make_api):
    from pywps import LiteralInput, LiteralOutput, Process

    def echo(request, response):
        response.outputs["out"].data = request.inputs["x"][0].data
        return response

    sync_only = Process(echo, "sync_only", "Sync only", inputs=[LiteralInput("x", "x")],
                        outputs=[LiteralOutput("out", "out")])
    api = make_api([sync_only])
    resp = api.execute("sync_only", {"inputs": {"x": "y"}, "response": "document"}, asynchronous=True)
    assert resp.status_code == 200 and "Preference-Applied" not in resp.headers
    assert check_response(resp, "results") == {"out": "y"}


def test_results_not_ready_and_no_such_job(api):
    resp = api.execute("hostile_ticker", {"inputs": {"seconds": 30}}, asynchronous=True)
    job_id = job_id_of(resp)
    doc = check_response(api.get(f"jobs/{job_id}/results"), "exception", 404)
    assert doc["type"] == "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/result-not-ready"
    api.delete(f"jobs/{job_id}")
    for path in ("jobs/0c8a4c3e-4f47-4b5e-9a7d-8f5a2f0e9d11", "jobs/../../etc", "jobs/not-a-uuid/results"):
        doc = check_response(api.get(path), "exception", 404)
    assert json.loads(api.get("jobs/not-a-uuid").get_data())["type"].endswith("/no-such-job")
