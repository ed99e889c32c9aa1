"""PyWPS 4.5+ JSON answers, side by side with PyWPS 4.8.1 itself.

The same processes (tests/e2e/pywps4/side_by_side.py, PyWPS 4 API only) are served by PyWPS 4.8.1, installed
from PyPI into a throw-away venv (cached under ``$PYWPS_TEST_CACHE`` or ``~/.cache/pywps-tests``; never a
dependency of this project), and by this server; every request gets answers with the same JSON keys and
value types, and the same content type. Outside CI, no PyPI means a skip; under CI=true it is a failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import IN_CI, wait_for, write_config

HERE = Path(__file__).resolve().parent / "pywps4"
PYWPS4 = "pywps==4.8.1"
METADATA = {"identification_title": "Side by side", "identification_abstract": "Two servers, one question",
            "identification_keywords": "json,compare", "provider_name": "Test bench",
            "contact_city": "Nowhere", "contact_email": "bench@example.org"}

# Runs inside the PyWPS 4.8.1 venv: reads [[url, headers], ...] on stdin, prints [[status, type, body], ...].
RUNNER = textwrap.dedent("""
    import json, sys
    from pywps import Service
    from pywps.tests import client_for
    import side_by_side

    service = Service(processes=side_by_side.processes(), cfgfiles=[sys.argv[1]])
    client = client_for(service)
    answers = []
    for url, headers in json.load(sys.stdin):
        resp = client.get(url, headers=headers)
        answers.append([resp.status_code, resp.headers.get("Content-Type", ""), resp.get_data(as_text=True)])
    print(json.dumps(answers))
""")


def _venv() -> Path:
    """A venv with PyWPS 4.8.1 from PyPI, made once and reused."""
    cache = Path(os.environ.get("PYWPS_TEST_CACHE") or Path.home() / ".cache" / "pywps-tests")
    venv = cache / "pywps-4.8.1"
    python = venv / "bin" / "python"
    if (venv / ".complete").exists():
        return python
    cache.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True, capture_output=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", PYWPS4],
                       check=True, capture_output=True, timeout=600)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        message = f"cannot install {PYWPS4} into {venv}: {detail.decode(errors='replace')[-2000:]}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    (venv / ".complete").touch()
    return python


@pytest.fixture(scope="module")
def pywps4(tmp_path_factory):
    """Ask PyWPS 4.8.1: ``ask([(url, headers), ...]) -> [(status, content type, body), ...]``."""
    python = _venv()
    directory = tmp_path_factory.mktemp("pywps481")

    def config(name: str, **server: str) -> Path:
        where = directory / name
        for sub in ("outputs", "work"):
            (where / sub).mkdir(parents=True, exist_ok=True)
        return write_config(where, server={"json_indent": "2", **server}, metadata__main=METADATA,
                            logging={"database": f"sqlite:///{where / 'log.sqlite'}"})

    def ask(requests: list[tuple[str, dict[str, str]]], **server: str) -> list[tuple[int, str, str]]:
        env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(HERE), "HOME": str(directory)}
        path = config(f"cfg{len(list(directory.iterdir()))}", **server)
        done = subprocess.run([str(python), "-c", RUNNER, str(path)], input=json.dumps(requests), env=env,
                              cwd=directory, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
        return [tuple(a) for a in json.loads(done.stdout.strip().splitlines()[-1])]

    return ask


@pytest.fixture(scope="module")
def ours(tmp_path_factory):
    """Ask this server the same: an app on the same processes and metadata."""
    from pywps.config import load
    from pywps.service import create_app
    from pywps.tests import client_for
    from tests.e2e.pywps4.side_by_side import processes

    directory = tmp_path_factory.mktemp("ours")
    app = create_app(load([write_config(directory, server={"json_indent": "2"}, metadata__main=METADATA)]),
                     processes())
    client = client_for(app)

    def ask(requests: list[tuple[str, dict[str, str]]]) -> list[tuple[int, str, str]]:
        answers = []
        for url, headers in requests:
            resp = client.get(url, headers=headers)
            answers.append((resp.status_code, resp.headers.get("Content-Type", ""), resp.get_data(as_text=True)))
        return answers

    yield ask
    store = app.extensions["pywps"]["dispatcher"].store
    wait_for(lambda: not store.count(["accepted", "started"]), timeout=30)
    app.extensions["pywps"]["dispatcher"].stop()


def shape(value, path: str = "$"):
    """The keys and JSON value types of a document, recursively (list items in order)."""
    if isinstance(value, dict):
        return {key: shape(item, f"{path}.{key}") for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item, f"{path}[{i}]") for i, item in enumerate(value)]
    return {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}[type(value)]


def differences(theirs, ours, path: str = "$") -> list[str]:
    """Where two shapes differ, as readable paths."""
    if isinstance(theirs, dict) and isinstance(ours, dict):
        found = [f"{path}.{k}: only in PyWPS 4.8.1" for k in theirs.keys() - ours.keys()]
        found += [f"{path}.{k}: only here" for k in ours.keys() - theirs.keys()]
        for key in theirs.keys() & ours.keys():
            found += differences(theirs[key], ours[key], f"{path}.{key}")
        return found
    if isinstance(theirs, list) and isinstance(ours, list):
        if len(theirs) != len(ours):
            return [f"{path}: {len(theirs)} items in PyWPS 4.8.1, {len(ours)} here"]
        return [d for i, (a, b) in enumerate(zip(theirs, ours, strict=True)) for d in differences(a, b, f"{path}[{i}]")]
    return [] if theirs == ours else [f"{path}: {theirs} in PyWPS 4.8.1, {ours} here"]


JSON = {"Accept": "application/json"}
KVP = "/wps?service=WPS&version=1.0.0&request="
CASES = {
    "GetCapabilities": f"{KVP}GetCapabilities",
    "DescribeProcess": f"{KVP}DescribeProcess&identifier=greeting,mirror,extent,broken",
    "Execute literal": f"{KVP}Execute&identifier=greeting&DataInputs=who=Ada;times=2;length=3@uom=metre",
    "Execute complex": f"{KVP}Execute&identifier=mirror&DataInputs=doc=%7B%22a%22%3A1%7D@mimeType=application/json",
    "Execute text": f"{KVP}Execute&identifier=mirror&DataInputs=doc=plain@mimeType=text/plain"
                    "&ResponseDocument=copy@mimeType=text/plain",
    "Execute bbox": f"{KVP}Execute&identifier=extent&DataInputs=area=1,2,3,4,EPSG:4326",
    "Execute failing": f"{KVP}Execute&identifier=broken",
    "Execute async": f"{KVP}Execute&identifier=greeting&DataInputs=who=Ada&storeExecuteResponse=true&status=true",
}


@pytest.fixture(scope="module")
def answers(pywps4, ours):
    requests = [(url, JSON) for url in CASES.values()]
    return dict(zip(CASES, zip(pywps4(requests), ours(requests), strict=True), strict=True))


@pytest.mark.parametrize("case", list(CASES))
def test_same_keys_and_value_types(answers, case):
    (status4, type4, body4), (status, content_type, body) = answers[case]
    assert (status, content_type.split(";")[0]) == (status4, type4.split(";")[0]) == (200, "application/json")
    theirs, here = json.loads(body4), json.loads(body)
    assert differences(shape(theirs), shape(here)) == [], f"PyWPS 4.8.1: {body4[:3000]}\nhere: {body[:3000]}"
    assert "  " in body.splitlines()[1]  # indented per [server] json_indent = 2


def test_values_that_carry_meaning(answers):
    ours = {case: json.loads(answers[case][1][2]) for case in CASES}
    assert ours["GetCapabilities"]["title"] == "Side by side"
    assert [p["identifier"] for p in ours["GetCapabilities"]["processes"]] == ["greeting", "mirror", "extent",
                                                                              "broken"]
    assert ours["Execute literal"]["outputs"] == {"sentence": "Welcome, Ada Welcome, Ada", "count": 2, "ratio": 0.5}
    assert ours["Execute literal"]["status"]["status"] == "succeeded"
    assert ours["Execute complex"]["outputs"] == {"copy": '{"a":1}'}  # 'note' is by reference: left out
    assert ours["Execute text"]["outputs"] == {"copy": "<![CDATA[plain]]>"}
    assert ours["Execute bbox"]["outputs"] == {"area": [1.0, 2.0, 3.0, 4.0]}
    failed = ours["Execute failing"]["status"]
    assert (failed["status"], failed["code"], failed["message"]) == ("failed", "NoApplicableCode",
                                                                      "the broken process gave up")
    assert ours["Execute async"]["status"]["status"] in ("accepted", "started")


def test_describe_all(ours):
    """identifier=all as JSON (PyWPS 4.8.1 answers it with a 400, so it is not compared)."""
    [(status, content_type, body)] = ours([(f"{KVP}DescribeProcess&identifier=all", JSON)])
    assert (status, content_type) == (200, "application/json")
    assert [p["identifier"] for p in json.loads(body)["processes"]] == ["greeting", "mirror", "extent", "broken"]


ACCEPTS = [None, "*/*", "application/json", "text/xml", "application/xml", "text/html", "application/xhtml+xml",
           "application/json, text/xml", "application/json, application/xml", "application/xml, application/json",
           "text/xml;q=0.5, application/json", "application/json;q=0.1, text/html",
           "application/json;q=0.1, application/xml", "application/xml;q=0.1, application/json",
           "application/json;q=0.2, */*", "application/json;q=0, text/xml",
           "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "application/*", "image/png",
           "application/geo+json", "text/*"]


def test_negotiation_as_pywps4(pywps4, ours):
    """For each Accept header (and with ?f=json), JSON or XML exactly when PyWPS 4.8.1 answers it."""
    requests = [(f"{KVP}GetCapabilities", {"Accept": a} if a else {}) for a in ACCEPTS]
    requests += [(f"{KVP}GetCapabilities&f=json", {"Accept": a} if a else {}) for a in ACCEPTS]
    for (url, headers), theirs, here in zip(requests, pywps4(requests), ours(requests), strict=True):
        kinds = ["json" if "json" in answer[1] else "xml" for answer in (theirs, here)]
        assert kinds[0] == kinds[1], (url, headers, theirs[1], here[1])


def test_default_mimetype_as_pywps4(pywps4, make_client):
    """[server] default_mimetype = application/json: JSON unless the client asks for XML (PyWPS 4 reads it
    on requests to the service root; this server on every WPS URL), one line with json_indent = -1."""
    requests = [(f"/?service=WPS&version=1.0.0&request={op}", {"Accept": a} if a else {})
                for op in ("GetCapabilities", "DescribeProcess&identifier=greeting")
                for a in (None, "*/*", "text/xml", "application/json")]
    theirs = pywps4(requests, default_mimetype="application/json", json_indent="-1")
    from tests.e2e.pywps4.side_by_side import processes

    client = make_client(processes(), server={"default_mimetype": "application/json", "json_indent": "-1"},
                         metadata__main=METADATA)
    for (url, headers), answer in zip(requests, theirs, strict=True):
        for path in (url, url.replace("/?", "/wps?")):
            resp = client.get(path, headers=headers)
            assert ("json" in resp.content_type) == ("json" in answer[1]), (path, headers, answer[1])
            if "json" in resp.content_type:
                body = resp.get_data(as_text=True)
                assert "\n" not in body and "\n" not in answer[2]
                assert differences(shape(json.loads(answer[2])), shape(json.loads(body))) == []
