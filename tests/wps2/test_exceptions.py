"""WPS 2.0.0 exception codes (OGC 14-065 Tables 41, 46, 48 and 50) through the WSGI app: each code from a
request that provokes it, with its locator and HTTP status, in a schema-valid OWS 2.0 ExceptionReport; the
same faulty request in WPS 1.0.0 keeps the OWS code and HTTP status a WPS 1.0.0 client always got."""

from __future__ import annotations

import uuid
from xml.sax.saxutils import escape, quoteattr

import pytest
from lxml import etree

from pywps import ComplexInput, ComplexOutput, Format, Process
from pywps.exceptions import (
    DataNotAccessible,
    FileSizeExceeded,
    InvalidParameterValue,
    NoSuchFormat,
    NoSuchInput,
    NoSuchJob,
    NoSuchMode,
    NoSuchOutput,
    NoSuchProcess,
    ResultNotReady,
    SizeExceeded,
    TooManyInputs,
    TooManyOutputs,
    WrongInputData,
    exception_from_dict,
)
from pywps.processes import example_processes
from tests.wps2.test_operations import SyncOnly  # offers sync execution only
from tests.wps2.wpsxml import (
    DECLARE,
    OWS11,
    WPS1,
    execute,
    job_id_of,
    job_request,
    literal,
    report,
    status_of,
    wait,
)
from tests.xsd import validate

MAX_INPUT = 64  # [server] maxsingleinputsize of these tests, in bytes


class Formats(Process):
    """A complex input and output in JSON or plain text only."""

    def __init__(self) -> None:
        formats = [Format("application/json"), Format("text/plain")]
        super().__init__(self._handler, identifier="formats", title="Formats",
                         inputs=[ComplexInput("doc", "doc", supported_formats=formats)],
                         outputs=[ComplexOutput("out", "out", supported_formats=formats)],
                         store_supported=True)

    @staticmethod
    def _handler(request, response):
        response.outputs["out"].data = request.inputs["doc"][0].data
        return response


@pytest.fixture
def files(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "four.txt").write_text("4")  # not among the allowed values of add's input a
    (folder / "big.json").write_text("[" + "1," * MAX_INPUT + "1]")
    return folder


@pytest.fixture
def client(make_client, files):
    return make_client([*example_processes(), SyncOnly(), Formats()],
                       server={"maxsingleinputsize": str(MAX_INPUT), "allowedinputpaths": str(files)})


def post(client, body: str):
    return client.post("/wps", data=body, content_type="text/xml")


def get2(client, **params: str):
    return client.get("/wps", query_string={"service": "WPS", "version": "2.0.0", **params})


def answer(resp) -> etree._Element:
    """The root of a 200 answer."""
    assert resp.status_code == 200, resp.get_data(as_text=True)[:800]
    return etree.fromstring(resp.get_data())


def status_info(client, job_id: str) -> etree._Element:
    return answer(get2(client, request="GetStatus", jobId=job_id))


def refused2(resp) -> tuple[str, str | None, int]:
    """(exceptionCode, locator, HTTP status) of a WPS 2.0.0 answer: an OWS 2.0 report (schema-validated)."""
    assert resp.headers["Content-Type"].startswith("text/xml")
    return report(resp.get_data(), resp.status_code)


def refused1(resp) -> tuple[str, str | None, int]:
    """(exceptionCode, locator, HTTP status) of a WPS 1.0.0 answer: an OWS 1.1 report (schema-validated)."""
    body = resp.get_data()
    validate(body)
    root = etree.fromstring(body)
    assert root.tag == f"{{{OWS11}}}ExceptionReport", body[:500]
    [exc] = root.findall(f"{{{OWS11}}}Exception")
    return exc.get("exceptionCode"), exc.get("locator"), resp.status_code


# -- WPS 2.0.0 and WPS 1.0.0 request bodies of one faulty Execute ------------------------------------------


def data2(identifier: str, content: str, mime_type: str) -> str:
    return f"<wps:Input id={quoteattr(identifier)}><wps:Data mimeType={quoteattr(mime_type)}>{escape(content)}" \
           "</wps:Data></wps:Input>"


def reference2(identifier: str, href: str) -> str:
    return f"<wps:Input id={quoteattr(identifier)}><wps:Reference xlink:href={quoteattr(href)}/></wps:Input>"


def bbox2(identifier: str, crs: str, lower: str, upper: str) -> str:
    return (f"<wps:Input id={quoteattr(identifier)}><wps:Data><ows:BoundingBox crs={quoteattr(crs)}>"
            f"<ows:LowerCorner>{lower}</ows:LowerCorner><ows:UpperCorner>{upper}</ows:UpperCorner>"
            "</ows:BoundingBox></wps:Data></wps:Input>")


def output2(identifier: str, mime_type: str = "") -> str:
    mime = f" mimeType={quoteattr(mime_type)}" if mime_type else ""
    return f'<wps:Output id={quoteattr(identifier)} transmission="value"{mime}/>'


def execute2(identifier: str, *parts: str) -> str:
    """A WPS 2.0.0 synchronous document Execute (inputs before outputs, as the schema orders them)."""
    return (f'<wps:Execute {DECLARE} service="WPS" version="2.0.0" mode="sync" response="document">'
            f"<ows:Identifier>{escape(identifier)}</ows:Identifier>{''.join(parts)}</wps:Execute>")


W1 = f'xmlns:wps="{WPS1}" xmlns:ows="{OWS11}" xmlns:xlink="http://www.w3.org/1999/xlink"'


def input1(identifier: str, data: str) -> str:
    return f"<wps:Input><ows:Identifier>{escape(identifier)}</ows:Identifier>{data}</wps:Input>"


def literal1(identifier: str, value: str) -> str:
    return input1(identifier, f"<wps:Data><wps:LiteralData>{escape(value)}</wps:LiteralData></wps:Data>")


def data1(identifier: str, content: str, mime_type: str) -> str:
    return input1(identifier, f"<wps:Data><wps:ComplexData mimeType={quoteattr(mime_type)}>{escape(content)}"
                              "</wps:ComplexData></wps:Data>")


def reference1(identifier: str, href: str) -> str:
    return input1(identifier, f"<wps:Reference xlink:href={quoteattr(href)}/>")


def bbox1(identifier: str, crs: str, lower: str, upper: str) -> str:
    return input1(identifier, f"<wps:Data><wps:BoundingBoxData crs={quoteattr(crs)}><ows:LowerCorner>{lower}"
                              f"</ows:LowerCorner><ows:UpperCorner>{upper}</ows:UpperCorner>"
                              "</wps:BoundingBoxData></wps:Data>")


def execute1(identifier: str, *inputs: str, output: str | tuple[str, ...] = "", mime_type: str = "") -> str:
    """A WPS 1.0.0 synchronous Execute, asking for the outputs named (optionally in a media type)."""
    wanted = ""
    if output:
        mime = f" mimeType={quoteattr(mime_type)}" if mime_type else ""
        names = (output,) if isinstance(output, str) else output
        wanted = "".join(f"<wps:Output{mime}><ows:Identifier>{escape(name)}</ows:Identifier></wps:Output>"
                         for name in names)
        wanted = f"<wps:ResponseForm><wps:ResponseDocument>{wanted}</wps:ResponseDocument></wps:ResponseForm>"
    data_inputs = f"<wps:DataInputs>{''.join(inputs)}</wps:DataInputs>" if inputs else ""
    return (f'<wps:Execute {W1} service="WPS" version="1.0.0"><ows:Identifier>{escape(identifier)}'
            f"</ows:Identifier>{data_inputs}{wanted}</wps:Execute>")


LONG = "x" * (MAX_INPUT + 1)

# (case, WPS 2.0.0 body, WPS 1.0.0 body, 2.0.0 answer, 1.0.0 answer); an answer is (code, locator, HTTP status)
CASES = [
    ("unknown process",
     execute2("nope"), execute1("nope"),
     ("NoSuchProcess", "nope", 400), ("InvalidParameterValue", "identifier", 400)),
    ("unknown input",
     execute2("say_hello", literal("nom", "x")), execute1("say_hello", literal1("nom", "x")),
     ("NoSuchInput", "nom", 400), ("InvalidParameterValue", "nom", 400)),
    ("unknown output",
     execute2("say_hello", literal("name", "x"), output2("nope")),
     execute1("say_hello", literal1("name", "x"), output="nope"),
     ("NoSuchOutput", "nope", 400), ("InvalidParameterValue", "nope", 400)),
    ("input media type not offered",
     execute2("formats", data2("doc", "<a/>", "application/xml")),
     execute1("formats", data1("doc", "<a/>", "application/xml")),
     ("NoSuchFormat", "doc", 400), ("InvalidParameterValue", "doc", 400)),
    ("output media type not offered",
     execute2("formats", data2("doc", "[1]", "application/json"), output2("out", "image/png")),
     execute1("formats", data1("doc", "[1]", "application/json"), output="out", mime_type="image/png"),
     ("NoSuchFormat", "out", 400), ("InvalidParameterValue", "out", 400)),
    ("more occurrences than maxOccurs",
     execute2("say_hello", literal("name", "a"), literal("name", "b")),
     execute1("say_hello", literal1("name", "a"), literal1("name", "b")),
     ("TooManyInputs", "name", 400), ("InvalidParameterValue", "name", 400)),
    ("output requested twice",
     execute2("say_hello", literal("name", "a"), output2("output"), output2("output")),
     execute1("say_hello", literal1("name", "a"), output=("output", "output")),
     ("TooManyOutputs", "output", 400), ("InvalidParameterValue", "output", 400)),
    ("value not allowed",
     execute2("add", literal("a", "4")), execute1("add", literal1("a", "4")),
     ("WrongInputData", "a", 400), ("InvalidParameterValue", "a", 400)),
    ("value not of the data type",
     execute2("add", literal("a", "three")), execute1("add", literal1("a", "three")),
     ("WrongInputData", "a", 400), ("InvalidParameterValue", "a", 400)),
    ("bounding box lower corner above upper corner",
     execute2("echo_bbox", bbox2("bbox", "EPSG:3035", "5 5", "1 1")),
     execute1("echo_bbox", bbox1("bbox", "EPSG:3035", "5 5", "1 1")),
     ("WrongInputData", "bbox", 400), ("InvalidParameterValue", "bbox", 400)),
    ("bounding box coordinates not numbers",
     execute2("echo_bbox", bbox2("bbox", "EPSG:4326", "a b", "1 1")),
     execute1("echo_bbox", bbox1("bbox", "EPSG:4326", "a b", "1 1")),
     ("WrongInputData", "bbox", 400), ("InvalidParameterValue", "bbox", 400)),
    ("reference refused (scheme)",
     execute2("formats", reference2("doc", "ftp://example.org/doc.json")),
     execute1("formats", reference1("doc", "ftp://example.org/doc.json")),
     ("DataNotAccessible", "doc", 400), ("InvalidParameterValue", "doc", 400)),
    ("reference server unreachable",
     execute2("formats", reference2("doc", "http://127.0.0.1:1/doc.json")),
     execute1("formats", reference1("doc", "http://127.0.0.1:1/doc.json")),
     ("DataNotAccessible", "doc", 400), ("NoApplicableCode", "doc", 500)),
    ("inline input over maxsingleinputsize",
     execute2("say_hello", literal("name", LONG)), execute1("say_hello", literal1("name", LONG)),
     ("SizeExceeded", "name", 400), ("FileSizeExceeded", "name", 413)),
]


@pytest.mark.parametrize("body2, expected2", [pytest.param(c[1], c[3], id=c[0]) for c in CASES])
def test_execute_2_0_0_answers_the_ogc_14_065_code(client, body2, expected2):
    assert refused2(post(client, body2)) == expected2


@pytest.mark.parametrize("body1, expected1", [pytest.param(c[2], c[4], id=c[0]) for c in CASES])
def test_the_same_execute_in_1_0_0_keeps_its_1_0_0_code(client, body1, expected1):
    assert refused1(post(client, body1)) == expected1


def test_reference_larger_than_maxsingleinputsize(client, files):
    href = (files / "big.json").as_uri()
    assert refused2(post(client, execute2("formats", reference2("doc", href)))) == ("SizeExceeded", "doc", 400)
    assert refused1(post(client, execute1("formats", reference1("doc", href)))) == ("FileSizeExceeded", "doc", 413)


def test_a_value_the_job_refuses_keeps_its_code(client, files):
    """A literal by reference is checked by the job, after fetching: its runner records WrongInputData,
    which a synchronous answer and GetResult show to WPS 2.0.0 and the status document to WPS 1.0.0."""
    href = (files / "four.txt").as_uri()
    assert refused2(post(client, execute2("add", reference2("a", href)))) == ("WrongInputData", "a", 400)
    assert refused1(post(client, execute1("add", reference1("a", href)))) == ("InvalidParameterValue", "a", 400)
    body = execute("add", reference2("a", href), mode="async")
    job_id = job_id_of(answer(post(client, body)))
    wait(lambda: status_of(status_info(client, job_id)) == "Failed", 60)
    assert refused2(get2(client, request="GetResult", jobId=job_id)) == ("WrongInputData", "a", 400)
    status_document = client.get(f"/outputs/{job_id}.xml").get_data()
    validate(status_document)
    assert b'exceptionCode="InvalidParameterValue"' in status_document


def test_no_such_mode(client):
    body = execute("sync_only", literal("x", "2"), mode="async")
    assert refused2(post(client, body)) == ("NoSuchMode", "mode", 400)


def test_describeprocess_no_such_process(client):
    assert refused2(get2(client, request="DescribeProcess", identifier="say_hello,nope")) == (
        "NoSuchProcess", "nope", 400)
    one = client.get("/wps?service=WPS&version=1.0.0&request=DescribeProcess&identifier=say_hello,nope")
    assert refused1(one) == ("InvalidParameterValue", "identifier", 400)


@pytest.mark.parametrize("operation", ["GetStatus", "GetResult", "Dismiss"])
def test_no_such_job(client, operation):
    job_id = str(uuid.uuid4())
    assert refused2(get2(client, request=operation, jobId=job_id)) == ("NoSuchJob", job_id, 400)
    assert refused2(post(client, job_request(operation, job_id))) == ("NoSuchJob", job_id, 400)


def test_result_not_ready(client):
    job_id = job_id_of(answer(post(client, execute("sleep", literal("delay", "60"), mode="async"))))
    try:
        assert refused2(get2(client, request="GetResult", jobId=job_id)) == ("ResultNotReady", job_id, 400)
        assert refused2(post(client, job_request("GetResult", job_id))) == ("ResultNotReady", job_id, 400)
    finally:
        assert answer(get2(client, request="Dismiss", jobId=job_id)) is not None
    assert refused2(get2(client, request="GetResult", jobId=job_id)) == ("NoSuchJob", job_id, 400)


# -- the exceptions themselves --------------------------------------------------------------------------


@pytest.mark.parametrize("cls, ows_code, ows_status", [
    (NoSuchProcess, "InvalidParameterValue", 400),
    (NoSuchMode, "InvalidParameterValue", 400),
    (NoSuchInput, "InvalidParameterValue", 400),
    (NoSuchOutput, "InvalidParameterValue", 400),
    (NoSuchFormat, "InvalidParameterValue", 400),
    (TooManyInputs, "InvalidParameterValue", 400),
    (TooManyOutputs, "InvalidParameterValue", 400),
    (WrongInputData, "InvalidParameterValue", 400),
    (DataNotAccessible, "InvalidParameterValue", 400),
    (SizeExceeded, "FileSizeExceeded", 413),
    (NoSuchJob, "NoSuchJob", 400),
    (ResultNotReady, "ResultNotReady", 400),
])
def test_one_exception_two_answers(cls, ows_code, ows_status):
    exc = cls("why", locator="here")
    assert (exc.name, exc.code) == (ows_code, ows_status)  # as a WPS 1.0.0 request is answered
    validate(exc.to_xml())
    assert f'exceptionCode="{ows_code}"'.encode() in exc.to_xml()
    assert report(exc.to_xml("2.0.0"), 400)[0] == cls.__name__
    assert exc.for_wps2() is exc
    assert (exc.name, exc.code) == (cls.__name__, 400)  # as a WPS 2.0.0 request is answered
    assert report(exc.to_xml(), exc.code) == (cls.__name__, "here", 400)


def test_the_ows_parents_still_catch_them():
    assert issubclass(NoSuchInput, InvalidParameterValue) and issubclass(SizeExceeded, FileSizeExceeded)
    upstream = DataNotAccessible("down", locator="doc", code=500, ows_code="NoApplicableCode")
    assert (upstream.name, upstream.code) == ("NoApplicableCode", 500)
    assert (upstream.for_wps2().name, upstream.code) == ("DataNotAccessible", 400)


def test_a_recorded_code_reads_back_as_its_class():
    exc = exception_from_dict({"code": "WrongInputData", "locator": "a", "text": "no"})
    assert type(exc) is WrongInputData and exc.name == "InvalidParameterValue"
