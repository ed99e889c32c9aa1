"""Property-based fuzzing of the request edge (issue 10), through the WSGI app of a ``pywps.Service``.

Whatever arrives (random KVP, mutated valid requests, random bytes, mutated Execute documents), the answer
is never a server error: it is a schema-valid WPS document, a schema-valid OWS ExceptionReport or a
requested raw output, and once the request has been answered (and any asynchronous job it queued has
ended, with a valid final status document) no job slot is left taken. The only 5xx allowed are the 501
OWS maps OperationNotSupported/OptionNotSupported to, and the NoApplicableCode 500 of the example process
built to fail when its raw output is asked for. Only that process may end as ProcessFailed.

Reproduce a failure with the ``@reproduce_failure`` blob Hypothesis prints, or with the request shown.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote, urlsplit

import hypothesis.configuration
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from lxml import etree

from pywps import Service
from pywps.processes import example_processes
from pywps.tests import client_for
from tests.conftest import write_config
from tests.xsd import validate

# No example database and no .hypothesis/ directory in the repository; bounded, deadline-free runs.
hypothesis.configuration.set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "pywps-hypothesis")
settings.register_profile(
    "pywps-fuzz", database=None, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
FUZZ = settings.get_profile("pywps-fuzz")

WPS_NS = "http://www.opengis.net/wps/1.0.0"
WPS2_NS = "http://www.opengis.net/wps/2.0"
OWS_NS = "http://www.opengis.net/ows/1.1"
OWS2_NS = "http://www.opengis.net/ows/2.0"
XLINK_NS = "http://www.w3.org/1999/xlink"
REPORTS = {f"{{{OWS_NS}}}ExceptionReport": OWS_NS, f"{{{OWS2_NS}}}ExceptionReport": OWS2_NS}  # WPS 1.0.0, 2.0.0
DOCUMENTS = {f"{{{WPS_NS}}}Capabilities", f"{{{WPS_NS}}}ProcessDescriptions", f"{{{WPS_NS}}}ExecuteResponse",
             f"{{{WPS2_NS}}}Capabilities", f"{{{WPS2_NS}}}ProcessOfferings", f"{{{WPS2_NS}}}Result",
             f"{{{WPS2_NS}}}StatusInfo"}
ALLOWED_5XX = {(501, "OperationNotSupported"), (501, "OptionNotSupported")}
SLOTS = ["accepted", "started", "paused"]
LIMIT = 64 * 1024  # maxsingleinputsize of the fuzzed server


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """Every example process but ``sleep`` (a fuzzed delay would hold a slot for an hour); no network."""
    directory = tmp_path_factory.mktemp("fuzz")
    cfg = write_config(directory, server={
        "maxsingleinputsize": "64kb", "maxrequestsize": "1mb", "reference_allow_private": "false",
        "reference_allowed_hosts": "fuzz.invalid", "reference_timeout": "1", "sync_timeout": "30",
    })
    processes = [p for p in example_processes() if p.identifier != "sleep"]
    service = Service(processes=processes, cfgfiles=[str(cfg)])
    yield service
    service.close()


@pytest.fixture(scope="module")
def client(service: Service):
    return client_for(service)


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def check(service: Service, resp, request: object, raw_allowed: bool) -> None:
    """The response properties; ``request`` is shown as the reproducer when one fails."""
    status, body = resp.status_code, resp.get_data()
    shown = f"request {request!r:.3000}\n -> HTTP {status}: {body[:1500]!r}"
    root = _xml(resp.mimetype, body)
    if root is not None and root.tag in REPORTS:
        validate(body)
        code = root.find(f"{{{REPORTS[root.tag]}}}Exception").get("exceptionCode")
        event(f"{status} {code}")
        assert status >= 400, shown
        # the process built to fail, asked for its raw output (or run by a WPS 2.0.0 sync Execute), answers
        # NoApplicableCode 500 (as in PyWPS 4)
        deliberate = status == 500 and code == "NoApplicableCode" and _targets(request, "fail")
        assert status < 500 or (status, code) in ALLOWED_5XX or deliberate, shown
    else:
        event(f"{status} {root.tag.rpartition('}')[2] if root is not None else resp.mimetype}")
        assert status == 200, shown
        assert (root is not None and root.tag in DOCUMENTS) or raw_allowed, shown
        if root is not None:
            _check_document(root, body, shown)
    taken = service.dispatcher.store.count(SLOTS)
    deadline = time.monotonic() + 30
    while taken and time.monotonic() < deadline:  # an asynchronous job may still be running
        time.sleep(0.05)
        taken = service.dispatcher.store.count(SLOTS)
    assert taken == 0, f"{taken} job slot(s) left taken after {shown}"
    location = root.get("statusLocation") if root is not None and root.tag in DOCUMENTS else None
    if location and root.find(f"{{{WPS_NS}}}Status/{{{WPS_NS}}}ProcessAccepted") is not None:
        event("asynchronous job followed to its end")
        final = client_for(service).get(urlsplit(location).path)  # the job's last status document
        assert final.status_code == 200, f"{shown}\n status document: HTTP {final.status_code}"
        document = _xml(final.mimetype, final.get_data())
        assert document is not None and document.tag in DOCUMENTS, f"{shown}\n status: {final.get_data()[:500]!r}"
        _check_document(document, final.get_data(), f"{shown}\n status: {final.get_data()[:1500]!r}")


def _xml(mimetype: str, body: bytes) -> etree._Element | None:
    if mimetype not in ("text/xml", "application/xml"):
        return None
    try:
        return etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError:
        return None


def _check_document(root: etree._Element, body: bytes, shown: str) -> None:
    """A schema-valid WPS document; an Execute response failed only if its process is built to fail."""
    if root.tag not in DOCUMENTS:
        return  # a raw output that happens to be XML
    validate(body)
    failed = root.find(f"{{{WPS_NS}}}Status/{{{WPS_NS}}}ProcessFailed")
    if failed is not None:
        event(f"ProcessFailed {' '.join(failed.itertext()).strip()[:60]}")
        assert root.find(f"{{{WPS_NS}}}Process/{{{OWS_NS}}}Identifier").text == "fail", shown


def _targets(request: object, identifier: str) -> bool:
    text = request if isinstance(request, (str, bytes)) else repr(request)
    text = text if isinstance(text, str) else text.decode("utf-8", "replace").replace("\x00", "")
    return re.search(rf"(identifier=|identifier>){identifier}\b", text, re.IGNORECASE) is not None  # KVP keys: any case


def _asks_raw(text: str | bytes) -> bool:
    """Whether a request may have asked for a raw output (RawDataOutput, WPS 2.0 response="raw")."""
    low = text if isinstance(text, str) else text.decode("utf-8", "replace")
    return "raw" in low.replace("\x00", "").lower()  # UTF-16 bodies too


# ---------------------------------------------------------------------------------------------- KVP

KEYS = ["service", "request", "version", "identifier", "DataInputs", "ResponseDocument", "RawDataOutput",
        "language", "AcceptVersions", "sections", "updateSequence", "storeExecuteResponse", "status", "lineage",
        "mode", "response"]
NASTY = ["\x00", "\x01", "\x0b", "\x1b", "\x7f", "\x85", "\ufffe", "\uffff", "\ud800", "\udfff", "\U0001f600",
         "%", "%00", "%0", "%zz", "%25", "%2500", "%ED%A0%80", "%C3", ";", "@", "=", ",", "&", "#", "[", "]", "\\",
         "<", ">", "'", '"', "&#1;", " ", "\t", "\n", "\r", "\u00e9", "\u0661", "NaN", "inf", "-INF", "1e999",
         "-0", "1_0", "9" * 5000, "@xlink:href=", "@mimeType=", "@encoding=base64", "@uom=", "@asReference=true",
         "@dataType=", "@schema=", "@method=POST", "http://fuzz.example/x", "file:///etc/passwd", "all"]
any_char = st.characters(codec=None, exclude_categories=())
texts = st.one_of(
    st.text(any_char, max_size=40),
    st.sampled_from(NASTY),
    st.lists(st.sampled_from(NASTY) | st.text(any_char, max_size=5), max_size=8).map("".join),
)
huge = st.integers(LIMIT // 2, 4 * LIMIT).map(lambda n: "x" * n)
values = st.one_of(texts, texts, texts, huge)
keys = st.one_of(
    st.sampled_from(KEYS).flatmap(lambda k: st.sampled_from([k, k.lower(), k.upper(), k.swapcase()])),
    st.text(any_char, max_size=12),
)


def query_string(pairs: list[tuple[str, str]], safe: str) -> str:
    """Percent-encode (lone surrogates as their UTF-8-like bytes), leaving ``safe`` characters as they are."""
    return "&".join(f"{quote(k, safe=safe, errors='surrogatepass')}={quote(v, safe=safe, errors='surrogatepass')}"
                    for k, v in pairs)


safe_sets = st.sampled_from(["", "=;@,:/", ";@,:/%", "%"])


def _get(client, qs: str):
    return client.get(f"/wps?{qs}")


VALID_KVP: list[list[tuple[str, str]]] = [
    [("service", "WPS"), ("request", "GetCapabilities")],
    [("service", "WPS"), ("request", "GetCapabilities"), ("AcceptVersions", "1.0.0"),
     ("sections", "ServiceIdentification,OperationsMetadata"), ("language", "en-US")],
    [("service", "WPS"), ("request", "DescribeProcess"), ("version", "1.0.0"), ("identifier", "all")],
    [("service", "WPS"), ("request", "DescribeProcess"), ("version", "1.0.0"), ("identifier", "say_hello,echo_bbox")],
    *[[("service", "WPS"), ("request", "Execute"), ("version", "1.0.0"), ("identifier", ident),
       ("DataInputs", inputs), *extra] for ident, inputs, extra in [
        ("say_hello", "name=World", []),
        ("say_hello", "name=World", [("ResponseDocument", "output"), ("lineage", "true")]),
        ("say_hello", "name=World", [("storeExecuteResponse", "true"), ("status", "true")]),
        ("say_hello", "name=World", [("RawDataOutput", "output")]),
        ("add", "a=1;b=2.5", []),
        ("add", "a=3", [("RawDataOutput", "sum@uom=m")]),
        ("echo_complex", "input=hello@mimeType=text/plain", [("ResponseDocument", "output@mimeType=text/plain")]),
        ("echo_complex", "input={\"a\": 1}@mimeType=application/json", [("RawDataOutput", "output")]),
        ("echo_complex", "input=<a>x</a>@mimeType=text/xml", [("ResponseDocument", "output@asReference=true")]),
        ("echo_binary", "input=AAECAw==@mimeType=application/octet-stream@encoding=base64", []),
        ("echo_bbox", "bbox=1,2,3,4,EPSG:3035", []),
        ("echo_bbox", "bbox=170,-10,-170,10,EPSG:4326,2", [("mode", "async")]),
        ("multiple_outputs", "text=some words", [("ResponseDocument", "upper;length;summary")]),
        ("fail", "message=broken", []),
        ("fail", "message=broken", [("RawDataOutput", "never")]),
        ("fail", "", [("storeExecuteResponse", "true"), ("status", "true")]),
    ]],
    # WPS 2.0.0
    [("service", "WPS"), ("request", "GetCapabilities"), ("AcceptVersions", "2.0.0,1.0.0"), ("sections", "Contents")],
    [("service", "WPS"), ("request", "DescribeProcess"), ("version", "2.0.0"), ("identifier", "ALL")],
    *[[("service", "WPS"), ("request", operation), ("version", "2.0.0"), ("jobId", job)]
      for operation in ("GetStatus", "GetResult", "Dismiss")
      for job in ("2c8a6a36-6a4c-4a8e-9b3e-0e3f0a1b2c3d", "x")],
]
_NUMBER = re.compile(r"-?\d+(\.\d+)?")


@st.composite
def mutated_kvp(draw) -> list[tuple[str, str]]:
    """A valid KVP request with up to three mutations."""
    pairs = list(draw(st.sampled_from(VALID_KVP)))
    for _ in range(draw(st.integers(0, 3))):
        if not pairs:
            pairs.append((draw(keys), draw(values)))
            continue
        op = draw(st.sampled_from(["value", "insert", "drop", "repeat", "case", "add", "number", "huge", "split"]))
        inner = [n for n, (k, _v) in enumerate(pairs) if k.lower() not in ("service", "request", "version")]
        if inner and draw(st.booleans()):  # mostly where the parsing is: inputs, outputs, options
            i = draw(st.sampled_from(inner))
        else:
            i = draw(st.integers(0, len(pairs) - 1))
        key, value = pairs[i]
        if op == "value":
            pairs[i] = (key, draw(values))
        elif op == "insert":
            at = draw(st.integers(0, len(value)))
            pairs[i] = (key, value[:at] + draw(texts) + value[at:])
        elif op == "drop":
            del pairs[i]
        elif op == "repeat":
            pairs.insert(draw(st.integers(0, len(pairs))), (key, draw(values | st.just(value))))
        elif op == "case":
            pairs[i] = (draw(st.sampled_from([key.lower(), key.upper(), key.swapcase()])), value)
        elif op == "add":
            pairs.append((draw(keys), draw(values)))
        elif op == "number":
            numbers = list(_NUMBER.finditer(value))
            if numbers:
                m = numbers[draw(st.integers(0, len(numbers) - 1))]
                new = draw(st.sampled_from(["NaN", "inf", "-Infinity", "1e999", "1" * 400, "-1", "0x10", ""]) | texts)
                pairs[i] = (key, value[:m.start()] + new + value[m.end():])
        elif op == "huge":
            pairs[i] = (key, value + draw(huge))
        elif op == "split":  # the separators DataInputs and friends care about
            pairs[i] = (key, value + draw(st.sampled_from([";", ";;", "@", "=", "@uom=", ";x=1", "[", "]"])))
    return pairs


@settings(FUZZ, max_examples=200)
@given(pairs=st.lists(st.tuples(keys, values), max_size=8), safe=safe_sets)
def test_random_kvp(service, client, pairs, safe):
    qs = query_string(pairs, safe)
    check(service, _get(client, qs), qs, _asks_raw(qs))


@settings(FUZZ, max_examples=100)
@given(start=st.sampled_from(["", "service=WPS&request=GetCapabilities&",
                               "service=WPS&request=DescribeProcess&version=1.0.0&identifier=",
                               "service=WPS&request=Execute&version=1.0.0&identifier=say_hello&DataInputs=name=",
                               "service=WPS&request=Execute&version=1.0.0&identifier=echo_bbox&DataInputs=bbox=",
                               "service=WPS&request=Execute&version=1.0.0&identifier=add&DataInputs=a="]),
       rest=st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=300))
def test_raw_query_string(service, client, start, rest):
    """Unencoded printable ASCII after a valid start: stray '%', '&', '=', ';', '@', '#' and spaces."""
    qs = start + rest
    check(service, _get(client, qs), qs, _asks_raw(qs))


@settings(FUZZ, max_examples=400)
@given(pairs=mutated_kvp(), safe=safe_sets, method=st.sampled_from(["GET", "GET", "GET", "POST"]))
def test_mutated_kvp(service, client, pairs, safe, method):
    qs = query_string(pairs, safe)
    if method == "POST":  # KVP in the URL of an empty POST
        resp = client.post(f"/wps?{qs}", data=b"", content_type="text/xml")
    else:
        resp = _get(client, qs)
    check(service, resp, (method, qs), _asks_raw(qs))


# ---------------------------------------------------------------------------------------------- XML POST


def _execute(identifier: str, inputs: str, form: str = "", attrs: str = "") -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<wps:Execute service="WPS" version="1.0.0"{attrs} '
            f'xmlns:wps="{WPS_NS}" xmlns:ows="{OWS_NS}" xmlns:xlink="{XLINK_NS}">'
            f"<ows:Identifier>{identifier}</ows:Identifier><wps:DataInputs>{inputs}</wps:DataInputs>{form}"
            "</wps:Execute>")


def _input(identifier: str, data: str) -> str:
    return f"<wps:Input><ows:Identifier>{identifier}</ows:Identifier><wps:Data>{data}</wps:Data></wps:Input>"


def _document(*outputs: str, store: bool = False) -> str:
    attrs = ' storeExecuteResponse="true" status="true"' if store else ""
    items = "".join(f"<wps:Output><ows:Identifier>{o}</ows:Identifier></wps:Output>" for o in outputs)
    return f"<wps:ResponseForm><wps:ResponseDocument{attrs}>{items}</wps:ResponseDocument></wps:ResponseForm>"


def _raw(output: str, mime: str = "") -> str:
    attr = f' mimeType="{mime}"' if mime else ""
    return (f"<wps:ResponseForm><wps:RawDataOutput{attr}><ows:Identifier>{output}</ows:Identifier>"
            "</wps:RawDataOutput></wps:ResponseForm>")


VALID_XML: list[str] = [
    f'<wps:GetCapabilities service="WPS" language="en-US" xmlns:wps="{WPS_NS}" xmlns:ows="{OWS_NS}">'
    "<wps:AcceptVersions><ows:Version>1.0.0</ows:Version></wps:AcceptVersions></wps:GetCapabilities>",
    f'<wps:DescribeProcess service="WPS" version="1.0.0" xmlns:wps="{WPS_NS}" xmlns:ows="{OWS_NS}">'
    "<ows:Identifier>add</ows:Identifier><ows:Identifier>echo_complex</ows:Identifier></wps:DescribeProcess>",
    _execute("say_hello", _input("name", "<wps:LiteralData>World</wps:LiteralData>")),
    _execute("say_hello", _input("name", "<wps:LiteralData>World</wps:LiteralData>"), _document("output", store=True)),
    _execute("add", _input("a", '<wps:LiteralData dataType="float" uom="m">1</wps:LiteralData>')
             + _input("b", "<wps:LiteralData>2</wps:LiteralData>"), _raw("sum")),
    _execute("echo_complex", _input("input", '<wps:ComplexData mimeType="text/xml"><a b="1"><c>x</c></a>'
                                             "</wps:ComplexData>"), _document("output")),
    _execute("echo_complex", _input("input", '<wps:ComplexData mimeType="text/plain"><![CDATA[a <b> & c]]>'
                                             "</wps:ComplexData>"), _raw("output", "text/plain")),
    _execute("echo_complex", _input("input", '<wps:ComplexData mimeType="application/json">{"a": [1, 2]}'
                                             "</wps:ComplexData>")),
    _execute("echo_binary", _input("input", '<wps:ComplexData mimeType="application/octet-stream" '
                                            'encoding="base64">AAECAw==</wps:ComplexData>')),
    _execute("echo_bbox", _input("bbox", '<wps:BoundingBoxData crs="EPSG:3035" dimensions="2">'
                                         "<ows:LowerCorner>1 2</ows:LowerCorner><ows:UpperCorner>3 4</ows:UpperCorner>"
                                         "</wps:BoundingBoxData>")),
    _execute("multiple_outputs", _input("text", "<wps:LiteralData>a b c</wps:LiteralData>"),
             _document("upper", "summary")),
    _execute("fail", _input("message", "<wps:LiteralData>broken</wps:LiteralData>")),
    _execute("echo_complex", "<wps:Input><ows:Identifier>input</ows:Identifier>"
                             '<wps:Reference xlink:href="http://fuzz.example/data.xml" mimeType="text/xml"/>'
                             "</wps:Input>"),
    f'<wps:Execute service="WPS" version="2.0.0" mode="sync" response="document" xmlns:wps="{WPS2_NS}" '
    f'xmlns:ows="{OWS2_NS}"><ows:Identifier>say_hello</ows:Identifier><wps:Input id="name"><wps:Data>'
    '<wps:LiteralValue>World</wps:LiteralValue></wps:Data></wps:Input><wps:Output id="output"/></wps:Execute>',
    f'<wps:Execute service="WPS" version="2.0.0" mode="async" response="raw" xmlns:wps="{WPS2_NS}" '
    f'xmlns:ows="{OWS2_NS}"><ows:Identifier>echo_complex</ows:Identifier><wps:Input id="input">'
    '<wps:Data mimeType="text/xml"><a>hello</a></wps:Data></wps:Input><wps:Output id="output"/></wps:Execute>',
    f'<wps:GetCapabilities service="WPS" xmlns:wps="{WPS2_NS}" xmlns:ows="{OWS2_NS}"><ows:AcceptVersions>'
    "<ows:Version>2.0.0</ows:Version></ows:AcceptVersions></wps:GetCapabilities>",
    f'<wps:DescribeProcess service="WPS" version="2.0.0" xmlns:wps="{WPS2_NS}" xmlns:ows="{OWS2_NS}">'
    "<ows:Identifier>echo_bbox</ows:Identifier></wps:DescribeProcess>",
    f'<wps:GetStatus service="WPS" version="2.0.0" xmlns:wps="{WPS2_NS}"><wps:JobID>'
    "2c8a6a36-6a4c-4a8e-9b3e-0e3f0a1b2c3d</wps:JobID></wps:GetStatus>",
]
ENTITIES = ["&amp;", "&lt;", "&#0;", "&#1;", "&#x1B;", "&#xD800;", "&#xFFFE;", "&#x1F600;", "&#99999999;", "&foo;",
            "&#x85;", "]]>", "<![CDATA[\x01]]>", "<!-- -->", "<?pi x?>"]
DOCTYPES = [
    '<!DOCTYPE wps:Execute [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>',
    '<!DOCTYPE x SYSTEM "file:///etc/passwd">',
    '<!DOCTYPE x [<!ENTITY e SYSTEM "http://fuzz.example/">]>',
]
NAMESPACES = [WPS_NS, WPS2_NS, OWS_NS, OWS2_NS, "http://www.opengis.net/wps/1.0", "", "urn:x", WPS_NS.upper()]
_TAG = re.compile(r"<(/?)((?:wps|ows):[A-Za-z]+)")
_ELEMENT = re.compile(r"<((?:wps|ows):[A-Za-z]+)[^>]*?(?:/>|>.*?</\1>)", re.S)
_ATTR_VALUE = re.compile(r'="([^"]*)"')


@st.composite
def mutated_xml(draw) -> bytes:
    """A valid request document with up to three mutations, encoded (sometimes badly)."""
    doc = draw(st.sampled_from(VALID_XML))
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(["truncate", "namespace", "case", "attribute", "entity", "nest", "insert",
                                   "duplicate", "delete", "value", "doctype", "huge_text"]))
        if op == "truncate":
            doc = doc[:draw(st.integers(0, len(doc)))]
        elif op == "namespace":
            old = draw(st.sampled_from([WPS_NS, OWS_NS, WPS2_NS, OWS2_NS, XLINK_NS]))
            doc = doc.replace(old, draw(st.sampled_from(NAMESPACES)))
        elif op == "case":  # <wps:getcapabilities>, <WPS:EXECUTE> ...
            tags = sorted({m.group(2) for m in _TAG.finditer(doc)})
            if tags:
                tag = draw(st.sampled_from(tags))
                new = draw(st.sampled_from([tag.lower(), tag.upper(), tag.swapcase(), tag.split(":")[1]]))
                doc = re.sub(rf"<(/?){re.escape(tag)}\b", lambda m, new=new: f"<{m.group(1)}{new}", doc)
        elif op == "attribute":  # a (huge) attribute on the first element after the prolog
            name = draw(st.sampled_from(["x", "version", "service", "language", "mimeType", "encoding", "uom",
                                         "dataType", "xlink:href", "storeExecuteResponse", "dimensions", "crs"]))
            value = draw(st.one_of(st.integers(1, 300_000).map(lambda n: "a" * n), texts))
            start = doc.find("<wps:", doc.find("?>") + 1)
            start = doc.find(">", start) if start >= 0 else -1
            if start > 0:
                escaped = value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
                doc = f'{doc[:start].rstrip("/")} {name}="{escaped}"{doc[start:]}'
        elif op == "entity":
            at = draw(st.integers(0, len(doc)))
            doc = doc[:at] + draw(st.sampled_from(ENTITIES)) + doc[at:]
        elif op == "nest":  # deep nesting in place of a value
            depth = draw(st.integers(1, 3000))
            deep = "<n>" * depth + draw(st.sampled_from(["x", "", "&#1;"])) + "</n>" * depth
            doc = re.sub(r">(World|1|hello|a b c|AAECAw==|1 2)<", lambda m, deep=deep: f">{deep}<", doc, count=1)
        elif op == "insert":
            at = draw(st.integers(0, len(doc)))
            doc = doc[:at] + draw(texts) + doc[at:]
        elif op in ("duplicate", "delete"):
            elements = list(_ELEMENT.finditer(doc))
            if elements:
                m = elements[draw(st.integers(0, len(elements) - 1))]
                middle = m.group(0) * 2 if op == "duplicate" else ""
                doc = doc[:m.start()] + middle + doc[m.end():]
        elif op == "value":
            found = list(_ATTR_VALUE.finditer(doc))
            if found:
                m = found[draw(st.integers(0, len(found) - 1))]
                doc = doc[:m.start(1)] + draw(texts) + doc[m.end(1):]
        elif op == "doctype":
            doc = re.sub(r"^(<\?xml[^>]*\?>)?", lambda m: (m.group(0) or "") + draw(st.sampled_from(DOCTYPES)), doc,
                         count=1)
        elif op == "huge_text":
            doc = re.sub(r">(World|hello|a b c)<", lambda m: ">" + "w" * draw(st.integers(LIMIT // 2, 4 * LIMIT))
                         + "<", doc, count=1)
    encoding = draw(st.sampled_from(["utf-8"] * 6 + ["utf-16", "latin-1", "bom"]))
    if encoding == "bom":
        return b"\xef\xbb\xbf" + doc.encode("utf-8", "surrogatepass")
    return doc.encode(encoding, "surrogatepass" if encoding == "utf-8" else "replace")


content_types = st.sampled_from(["text/xml"] * 4 + ["application/xml", "text/plain",
                                                    "application/x-www-form-urlencoded", "application/octet-stream"])


def _post(client, body: bytes, content_type: str):
    return client.post("/wps", data=body, content_type=content_type)


@settings(FUZZ, max_examples=150)
@given(body=st.one_of(st.binary(max_size=2000), st.text(any_char, max_size=500).map(
    lambda t: t.encode("utf-8", "surrogatepass"))), content_type=content_types)
def test_random_post_bodies(service, client, body, content_type):
    check(service, _post(client, body, content_type), body, _asks_raw(body))


@settings(FUZZ, max_examples=400)
@given(body=mutated_xml(), content_type=content_types, qs=st.sampled_from(["", "service=WPS", "request=Execute"]))
def test_mutated_xml(service, client, body, content_type, qs):
    path = f"/wps?{qs}" if qs else "/wps"
    check(service, client.post(path, data=body, content_type=content_type), body, _asks_raw(body))


@settings(FUZZ, max_examples=20)
@given(method=st.sampled_from(["PUT", "DELETE", "PATCH"]), body=st.binary(max_size=200))
def test_other_methods(service, client, method, body):
    check(service, client.open("/wps", method=method, data=body), (method, body), False)


def test_no_slot_taken_at_the_end(service):
    """After every fuzzing run above (sync jobs done, async ones awaited in ``check``) the store is idle."""
    assert service.dispatcher.store.count(SLOTS) == 0

