"""One job, three views: jobs from WPS 1.0.0, WPS 2.0.0 and OGC API are rows of one store; each protocol
reads the others' jobs, and `pywps jobs list` shows the protocol each came in by."""

from __future__ import annotations

import subprocess
import sys

from lxml import etree

from tests.conftest import ROOT, wait_for
from tests.handback_attacks import execute, final_document
from tests.wps2.wpsxml import execute as execute2
from tests.wps2.wpsxml import literal

W2 = {"wps": "http://www.opengis.net/wps/2.0"}


def test_one_job_three_views(make_client, tmp_path):
    client = make_client(ogcapi={"jobs_listing": "open"})
    store = client.application.extensions["pywps"]["dispatcher"].store
    wps1 = final_document(client, execute(client, "say_hello", "name=one"))
    wps1_id = wps1.xml.get("statusLocation").rsplit("/", 1)[1].removesuffix(".xml")
    resp = client.post("/wps", data=execute2("say_hello", literal("name", "two"), mode="async"),
                       content_type="text/xml")
    wps2_id = etree.fromstring(resp.get_data()).findtext("wps:JobID", namespaces=W2)
    resp = client.post("/ogcapi/processes/say_hello/execution", json={"inputs": {"name": "three"}},
                       headers={"Prefer": "respond-async"})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    api_id = resp.get_json()["jobID"]
    wait_for(lambda: all(store.get(i).is_final for i in (wps1_id, wps2_id, api_id)), 60, 0.1)
    assert {store.get(i).protocol for i in (wps1_id, wps2_id, api_id)} == {"wps1", "wps2", "ogcapi"}
    # WPS 2.0.0 GetStatus answers the WPS 1.0.0 job; OGC API shows the WPS 2.0.0 one
    status = client.get("/wps", query_string={"service": "WPS", "version": "2.0.0", "request": "GetStatus",
                                              "jobId": wps1_id})
    assert etree.fromstring(status.get_data()).findtext("wps:Status", namespaces=W2) == "Succeeded"
    info = client.get(f"/ogcapi/jobs/{wps2_id}?f=json").get_json()
    assert info["status"] == "successful"
    listed = {j["jobID"] for j in client.get("/ogcapi/jobs?f=json").get_json()["jobs"]}
    assert {wps1_id, wps2_id, api_id} <= listed
    # an OGC API job dismissed by WPS 2.0.0 Dismiss
    slow = client.post("/ogcapi/processes/sleep/execution", json={"inputs": {"delay": 30}},
                       headers={"Prefer": "respond-async"}).get_json()["jobID"]
    client.get("/wps", query_string={"service": "WPS", "version": "2.0.0", "request": "Dismiss", "jobId": slow})
    assert client.get(f"/ogcapi/jobs/{slow}?f=json").get_json()["status"] == "dismissed"
    # the operator's view
    cfg = tmp_path / "pywps.cfg"
    out = subprocess.run([sys.executable, "-m", "pywps.cli", "jobs", "list", "-c", str(cfg)], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = {line.split()[0]: line for line in out.stdout.splitlines() if line.strip()}
    assert " wps1 " in lines[wps1_id] and " wps2 " in lines[wps2_id] and " ogcapi " in lines[api_id]
