"""Conformance classes core, ogc-process-description, json, html and oas30 over HTTP (WSGI client)."""

from __future__ import annotations

import json

import pytest

from pywps.ogcapi.encode import CONFORMANCE
from tests.ogcapi.schemas import check, check_openapi, check_response


def test_landing_page_links(api):
    doc = check_response(api.get(""), "landingPage")
    rels = {link["rel"]: link for link in doc["links"]}
    for rel in ("self", "service-desc", "service-doc", "conformance",
                "http://www.opengis.net/def/rel/ogc/1.0/processes", "http://www.opengis.net/def/rel/ogc/1.0/job-list"):
        assert rel in rels, rel
    assert rels["service-desc"]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert rels["self"]["href"] == "http://127.0.0.1:5000/ogcapi/"


def test_base_path_without_slash_redirects(api):
    resp = api.client.get("/ogcapi")
    assert resp.status_code == 308 and resp.headers["Location"].endswith("/ogcapi/")


@pytest.mark.parametrize("script, path", [("/ogcapi", "/processes/say_hello"), ("/ogcapi/processes", "/say_hello"),
                                          ("/wps", "/ogcapi/processes/say_hello"), ("", "/ogcapi/processes/say_hello")])
def test_routed_by_its_public_path_whatever_the_mount(api, script, path):
    """Apache's WSGIScriptAlias /ogcapi makes SCRIPT_NAME=/ogcapi: the request is routed by the whole path."""
    resp = api.client.get(path, environ_overrides={"SCRIPT_NAME": script}, headers={"Accept": "application/json"})
    assert resp.status_code == 200 and json.loads(resp.get_data())["id"] == "say_hello"


def test_mounted_elsewhere_the_wps_is_untouched(api):
    resp = api.client.get("/", query_string="service=WPS&request=GetCapabilities",
                          environ_overrides={"SCRIPT_NAME": "/wps"})
    assert resp.status_code == 200 and b"Capabilities" in resp.get_data()


def test_conformance_declares_every_class(api):
    doc = check_response(api.get("conformance"), "confClasses")
    for name in ("core", "ogc-process-description", "json", "html", "oas30", "job-list", "dismiss", "callback"):
        assert f"http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/{name}" in doc["conformsTo"]
    assert doc["conformsTo"] == CONFORMANCE


def test_openapi_document_is_valid_openapi_30(api):
    resp = api.get("api")
    assert resp.status_code == 200
    assert resp.headers["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    doc = check_openapi(json.loads(resp.get_data()))
    assert "/processes/say_hello/execution" in doc["paths"]
    body = doc["paths"]["/processes/add/execution"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["inputs"]["required"] == ["a"]


def test_process_list_paging(api):
    everything = check_response(api.get("processes?limit=1000"), "processList")
    ids = [p["id"] for p in everything["processes"]]
    assert "say_hello" in ids and "hostile_ticker" in ids
    seen, url = [], "processes?limit=4"
    while url:
        doc = check_response(api.get(url), "processList")
        assert len(doc["processes"]) <= 4
        seen += [p["id"] for p in doc["processes"]]
        following = [link["href"] for link in doc["links"] if link["rel"] == "next"]
        url = following[0].split("/ogcapi/", 1)[1] if following else None
    assert seen == ids
    default = check_response(api.get("processes"), "processList")
    assert len(default["processes"]) == 10  # [ogcapi] default_limit


@pytest.mark.parametrize("query", ["limit=0", "limit=x", "offset=-1", "f=xml"])
def test_bad_list_parameters_are_400(api, query):
    check_response(api.get(f"processes?{query}"), "exception", 400)


def test_every_process_description_validates(api):
    for summary in json.loads(api.get("processes?limit=1000").get_data())["processes"]:
        check("processSummary", summary)
        doc = check_response(api.get(f"processes/{summary['id']}"), "process")
        assert set(doc["inputs"]) == {i.identifier for i in api.dispatcher.processes[summary["id"]].inputs}


def test_literal_schema_from_allowed_values_ranges_defaults(api):
    doc = check_response(api.get("processes/add"), "process")
    a, b = doc["inputs"]["a"], doc["inputs"]["b"]
    assert a["schema"] == {"type": "number", "enum": [1, 2, 3, 5, 8, 13, 21]}
    assert (a["minOccurs"], a["maxOccurs"]) == (1, 1)
    assert b["schema"] == {"type": "number", "minimum": 0, "maximum": 1000, "default": 0}
    assert b["minOccurs"] == 0
    assert doc["jobControlOptions"] == ["sync-execute", "async-execute", "dismiss"]
    assert doc["outputTransmission"] == ["value", "reference"]
    assert doc["outputs"]["sum"]["schema"] == {"type": "number"}


def test_complex_and_bbox_schemas(api):
    echo = check_response(api.get("processes/echo_complex"), "process")
    branches = echo["inputs"]["input"]["schema"]["anyOf"]
    assert {"type": "string", "contentMediaType": "application/gml+xml"} in branches
    assert {"type": "object", "contentMediaType": "application/json"} in branches
    binary = check_response(api.get("processes/echo_binary"), "process")
    assert {"type": "string", "contentMediaType": "image/png", "contentEncoding": "base64"} in \
        binary["inputs"]["input"]["schema"]["anyOf"]
    bbox = check_response(api.get("processes/echo_bbox"), "process")["inputs"]["bbox"]["schema"]
    assert bbox["format"] == "ogc-bbox" and bbox["required"] == ["bbox"]
    assert bbox["properties"]["crs"]["enum"] == ["http://www.opengis.net/def/crs/EPSG/0/4326",
                                                 "http://www.opengis.net/def/crs/EPSG/0/3035"]
    assert bbox["properties"]["bbox"]["minItems"] == 4


def test_units_and_translations_and_metadata(make_api):
    from pywps import LiteralInput, LiteralOutput, Metadata, Process

    process = Process(lambda r, s: s, "measure", "Measure", abstract="How far", version="2.1",
                      metadata=[Metadata("docs", "https://example.org/docs")],
                      inputs=[LiteralInput("distance", "Distance", data_type="float", uoms=["metre", "feet"],
                                           max_occurs=3)],
                      outputs=[LiteralOutput("out", "Out", data_type="integer")])
    api = make_api([process])
    doc = check_response(api.get("processes/measure"), "process")
    assert doc["version"] == "2.1"
    assert doc["metadata"] == [{"title": "docs", "href": "https://example.org/docs"}]
    schema = doc["inputs"]["distance"]["schema"]
    assert schema["anyOf"][1]["properties"]["uom"]["enum"] == ["metre", "feet"]
    assert doc["inputs"]["distance"]["maxOccurs"] == 3
    assert doc["jobControlOptions"] == ["sync-execute"]  # neither stored nor with status: sync only


def test_no_such_process(api):
    doc = check_response(api.get("processes/nope"), "exception", 404)
    assert doc["type"] == "http://www.opengis.net/def/exceptions/ogcapi-processes-1/1.0/no-such-process"
    doc = check_response(api.execute("nope", {}), "exception", 404)
    assert doc["type"].endswith("/no-such-process")


def test_unknown_path_and_method(api):
    check_response(api.get("nothing/here"), "exception", 404)
    resp = api.client.put("/ogcapi/processes/add")
    check_response(resp, "exception", 405)
    assert resp.headers["Allow"] == "GET"
    check_response(api.client.get("/ogcapi/processes/add/execution"), "exception", 405)


@pytest.mark.parametrize("path", ["", "conformance", "api", "processes", "processes/add", "processes/echo_complex",
                                  "processes/echo_bbox"])
def test_html_by_f_and_by_accept(api, path):
    by_f = api.get(path + ("&" if "?" in path else "?") + "f=html")
    assert by_f.status_code == 200 and by_f.headers["Content-Type"].startswith("text/html")
    assert b"<html lang=\"en\">" in by_f.get_data()
    browser = api.get(path, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.headers["Content-Type"].startswith("text/html")
    anything = api.get(path, headers={"Accept": "*/*"})
    assert "json" in anything.headers["Content-Type"]
    forced = api.get(path + "?f=json", headers={"Accept": "text/html"})
    assert "json" in forced.headers["Content-Type"]


def test_html_error_page(api):
    resp = api.get("processes/nope?f=html")
    assert resp.status_code == 404 and resp.headers["Content-Type"].startswith("text/html")
    assert b"No such process" in resp.get_data()


def test_configured_base_url(make_api):
    api = make_api(ogcapi={"url": "https://example.org/api/processing/"})
    doc = check_response(api.client.get("/api/processing/"), "landingPage")
    assert doc["links"][0]["href"] == "https://example.org/api/processing/"
    assert api.client.get("/ogcapi/").status_code == 404


def test_disabled(make_api):
    api = make_api(ogcapi={"enabled": "false"})
    assert api.get("").status_code == 404
