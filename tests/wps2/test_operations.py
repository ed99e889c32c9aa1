"""WPS 2.0.0 through the WSGI app (real dispatcher, job store and multiprocessing backend): GetCapabilities,
DescribeProcess, Execute sync/async/auto with document/raw answers, GetStatus, GetResult, Dismiss, their
exceptions, and one job seen through WPS 1.0.0 and 2.0.0. Every answer is schema-validated."""

from __future__ import annotations

import uuid

import pytest
from lxml import etree

from pywps import LiteralInput, LiteralOutput, Process
from pywps.processes import example_processes
from tests.wps2.wpsxml import (
    DECLARE,
    NS,
    NS1,
    OWS,
    WPS,
    document,
    execute,
    job_id_of,
    job_request,
    literal,
    report,
    status_of,
    wait,
)
from tests.xsd import validate

SLOTS = ["accepted", "started", "paused"]


class SyncOnly(Process):
    """A process that offers no asynchronous execution."""

    def __init__(self) -> None:
        super().__init__(self._handler, identifier="sync_only", title="Sync only",
                         inputs=[LiteralInput("x", "x", data_type="integer")],
                         outputs=[LiteralOutput("y", "y", data_type="integer")],
                         store_supported=False, status_supported=False)

    @staticmethod
    def _handler(request, response):
        response.outputs["y"].data = request.inputs["x"][0].data * 2
        return response


class Silent(Process):
    """A process that sets none of its outputs."""

    def __init__(self) -> None:
        super().__init__(self._handler, identifier="silent", title="Silent",
                         outputs=[LiteralOutput("y", "y", data_type="integer")], store_supported=True)

    @staticmethod
    def _handler(request, response):
        return response


@pytest.fixture
def client(make_client):
    return make_client([*example_processes(), SyncOnly(), Silent()], server={"language": "en-US,fr-CA"})


def dispatcher(client):
    return client.application.extensions["pywps"]["dispatcher"]


def post(client, body: str):
    return client.post("/wps", data=body, content_type="text/xml")


def get(client, **params: str):
    return client.get("/wps", query_string={"service": "WPS", "version": "2.0.0", **params})


def ok(resp, root: str) -> etree._Element:
    assert resp.status_code == 200, resp.get_data(as_text=True)[:800]
    assert resp.headers["Content-Type"].startswith("text/xml")
    return document(resp.get_data(), root)


def refused(resp) -> tuple[str, str | None, int]:
    assert resp.headers["Content-Type"].startswith("text/xml")
    return report(resp.get_data(), resp.status_code)


def job_status(client, job_id: str, by_post: bool = False) -> etree._Element:
    resp = post(client, job_request("GetStatus", job_id)) if by_post else get(client, request="GetStatus",
                                                                               jobId=job_id)
    return ok(resp, "StatusInfo")


def finished(client, job_id: str, timeout: float = 60) -> etree._Element:
    def final():
        info = job_status(client, job_id)
        return info if status_of(info) in ("Succeeded", "Failed", "Dismissed") else None

    return wait(final, timeout)


def submit(client, body: str) -> str:
    info = ok(post(client, body), "StatusInfo")
    assert status_of(info) in ("Accepted", "Running", "Succeeded")
    return job_id_of(info)


def no_slot_taken(client) -> None:
    wait(lambda: dispatcher(client).store.count(SLOTS) == 0, 30)


# ------------------------------------------------------------------------------------- GetCapabilities


def test_getcapabilities_negotiates_between_1_0_0_and_2_0_0(client):
    root = ok(client.get("/wps?service=WPS&request=GetCapabilities&AcceptVersions=2.0.0,1.0.0"), "Capabilities")
    assert root.get("version") == "2.0.0"
    summaries = root.xpath("wps:Contents/wps:ProcessSummary/ows:Identifier/text()", namespaces=NS)
    assert "say_hello" in summaries and "sync_only" in summaries
    assert root.xpath("wps:Contents/wps:ProcessSummary[ows:Identifier='sync_only']/@jobControlOptions",
                      namespaces=NS) == ["sync-execute dismiss"]
    old = client.get("/wps?service=WPS&request=GetCapabilities&AcceptVersions=1.0.0,2.0.0")
    validate(old.get_data())
    assert etree.fromstring(old.get_data()).tag == "{http://www.opengis.net/wps/1.0.0}Capabilities"
    assert client.get("/wps?service=WPS&request=GetCapabilities").xml.tag.endswith("}Capabilities")
    body = f'<wps:GetCapabilities {DECLARE} service="WPS"><ows:Sections><ows:Section>Contents</ows:Section>' \
           "</ows:Sections></wps:GetCapabilities>"
    root = ok(post(client, body), "Capabilities")
    assert root.find(f"{{{OWS}}}ServiceIdentification") is None and root.find(f"{{{WPS}}}Contents") is not None


def test_getcapabilities_languages(client):
    body = (f'<wps:GetCapabilities {DECLARE} service="WPS"><ows:AcceptLanguages><ows:Language>de</ows:Language>'
            "<ows:Language>fr-CA</ows:Language></ows:AcceptLanguages></wps:GetCapabilities>")
    root = ok(post(client, body), "Capabilities")
    assert root.xpath("ows:Languages/ows:Language/text()", namespaces=NS) == ["en-US", "fr-CA"]
    resp = client.get("/wps?service=WPS&request=GetCapabilities&AcceptVersions=2.0.0&language=de-DE")
    assert refused(resp) == ("InvalidParameterValue", "language", 400)


def test_getcapabilities_refusals_are_ows2(client):
    resp = client.get("/wps?service=WPS&request=GetCapabilities&AcceptVersions=2.0.0&sections=Everything")
    assert refused(resp) == ("InvalidParameterValue", "sections", 400)


# ------------------------------------------------------------------------------------- DescribeProcess


def test_describeprocess(client):
    root = ok(get(client, request="DescribeProcess", identifier="say_hello,add"), "ProcessOfferings")
    assert root.xpath("wps:ProcessOffering/wps:Process/ows:Identifier/text()", namespaces=NS) == ["say_hello", "add"]
    body = (f'<wps:DescribeProcess {DECLARE} service="WPS" version="2.0.0"><ows:Identifier>ALL</ows:Identifier>'
            "</wps:DescribeProcess>")
    root = ok(post(client, body), "ProcessOfferings")
    assert len(root) == len(example_processes()) + 2
    assert refused(get(client, request="DescribeProcess", identifier="say_hello,nope")) == ("NoSuchProcess", "nope",
                                                                                           400)
    assert refused(get(client, request="DescribeProcess")) == ("MissingParameterValue", "identifier", 400)


# ------------------------------------------------------------------------------------- Execute


def test_execute_sync_document(client):
    root = ok(post(client, execute("say_hello", literal("name", "World"), outputs=("output",))), "Result")
    assert root.xpath("wps:Output[@id='output']/wps:Data/wps:LiteralValue/text()", namespaces=NS) == ["Hello World"]
    job_id = job_id_of(root)
    assert status_of(job_status(client, job_id)) == "Succeeded"  # the same row serves every view
    assert dispatcher(client).store.get(job_id).protocol == "wps2"
    bbox = ('<wps:Input id="bbox"><wps:Data><ows:BoundingBox crs="EPSG:4326"><ows:LowerCorner>1 2</ows:LowerCorner>'
            "<ows:UpperCorner>3 4</ows:UpperCorner></ows:BoundingBox></wps:Data></wps:Input>")
    root = ok(post(client, execute("echo_bbox", bbox)), "Result")
    assert root.xpath("wps:Output/wps:Data/ows:BoundingBox/ows:UpperCorner/text()", namespaces=NS) == ["3.0 4.0"]


def test_execute_sync_complex_by_value_and_by_reference(client):
    data = '<wps:Input id="input"><wps:Data mimeType="text/xml"><doc xmlns="urn:t"><a>1</a></doc></wps:Data>' \
           "</wps:Input>"
    root = ok(post(client, execute("echo_complex", data, outputs=("output",))), "Result")
    assert root.xpath("wps:Output/wps:Data/*[local-name()='doc']/*/text()", namespaces=NS) == ["1"]
    root = ok(post(client, execute("echo_complex", data, outputs=("output",), transmission="reference")), "Result")
    href = root.xpath("wps:Output/wps:Reference/@xlink:href", namespaces=NS)[0]
    served = client.get(href.split("127.0.0.1:5000", 1)[1])
    assert served.status_code == 200 and b"<a>1</a>" in served.get_data()


def test_execute_sync_raw(client):
    resp = post(client, execute("say_hello", literal("name", "raw"), response="raw", outputs=("output",)))
    assert resp.status_code == 200 and resp.get_data() == b"Hello raw"
    assert resp.headers["Content-Type"].startswith("text/plain")
    resp = post(client, execute("say_hello", literal("name", "raw"), response="raw"))  # the one output
    assert resp.get_data() == b"Hello raw"
    resp = post(client, execute("multiple_outputs", response="raw"))
    assert refused(resp) == ("InvalidParameterValue", "response", 400)


def test_execute_refusals(client):
    assert refused(post(client, execute("nope"))) == ("NoSuchProcess", "nope", 400)
    assert refused(post(client, execute("sync_only", literal("x", "2"), mode="async"))) == ("NoSuchMode", "mode", 400)
    assert refused(post(client, execute("add", literal("a", "4")))) == ("WrongInputData", "a", 400)
    assert refused(post(client, execute("say_hello", literal("nom", "x")))) == ("NoSuchInput", "nom", 400)
    assert refused(post(client, execute("say_hello"))) == ("MissingParameterValue", "name", 400)
    assert refused(post(client, execute("say_hello", literal("name", "x"), outputs=("nope",)))) == (
        "NoSuchOutput", "nope", 400)
    code, _, status = refused(post(client, execute("fail", literal("message", "sync boom"))))
    assert (code, status) == ("NoApplicableCode", 500)  # the process failed: its message, never a traceback
    resp = post(client, execute("silent"))
    assert refused(resp)[0::2] == ("NoApplicableCode", 500) and b"without any output" in resp.get_data()
    no_slot_taken(client)


def test_execute_auto_chooses_by_what_the_process_offers(client):
    info = ok(post(client, execute("say_hello", literal("name", "auto"), mode="auto")), "StatusInfo")
    assert status_of(finished(client, job_id_of(info))) == "Succeeded"
    result = ok(post(client, execute("sync_only", literal("x", "21"), mode="auto")), "Result")
    assert result.xpath("wps:Output/wps:Data/wps:LiteralValue/text()", namespaces=NS) == ["42"]


def test_execute_async_then_getstatus_and_getresult(client):
    job_id = submit(client, execute("say_hello", literal("name", "async"), mode="async"))
    assert status_of(finished(client, job_id)) == "Succeeded"
    status = job_status(client, job_id, by_post=True)
    assert status.findtext(f"{{{WPS}}}PercentCompleted") == "100"
    assert status.findtext(f"{{{WPS}}}ExpirationDate")
    for resp in (get(client, request="GetResult", jobId=job_id), post(client, job_request("GetResult", job_id))):
        root = ok(resp, "Result")
        assert job_id_of(root) == job_id
        assert root.xpath("wps:Output/wps:Data/wps:LiteralValue/text()", namespaces=NS) == ["Hello async"]
    raw = submit(client, execute("say_hello", literal("name", "later"), mode="async", response="raw"))
    finished(client, raw)
    resp = get(client, request="GetResult", jobId=raw)
    assert resp.status_code == 200 and resp.get_data() == b"Hello later"


def test_failed_async_job(client):
    job_id = submit(client, execute("fail", literal("message", "async boom"), mode="async"))
    assert status_of(finished(client, job_id)) == "Failed"
    code, _, status = refused(get(client, request="GetResult", jobId=job_id))
    assert (code, status) == ("NoApplicableCode", 500)
    assert b"async boom" in get(client, request="GetResult", jobId=job_id).get_data()


def test_unknown_jobs(client):
    for job_id in (str(uuid.uuid4()), "not-a-job", "../../etc/passwd"):
        for operation in ("GetStatus", "GetResult", "Dismiss"):
            assert refused(get(client, request=operation, jobId=job_id)) == ("NoSuchJob", job_id, 400)
            assert refused(post(client, job_request(operation, job_id))) == ("NoSuchJob", job_id, 400)


def test_result_not_ready_then_dismiss(client):
    job_id = submit(client, execute("sleep", literal("delay", "60"), mode="async"))
    wait(lambda: status_of(job_status(client, job_id)) == "Running", 30)
    assert refused(get(client, request="GetResult", jobId=job_id)) == ("ResultNotReady", job_id, 400)
    info = ok(post(client, job_request("Dismiss", job_id)), "StatusInfo")
    assert status_of(info) == "Dismissed"
    assert status_of(job_status(client, job_id)) == "Dismissed"
    assert refused(get(client, request="GetResult", jobId=job_id)) == ("NoSuchJob", job_id, 400)
    again = ok(get(client, request="Dismiss", jobId=job_id), "StatusInfo")  # idempotent
    assert status_of(again) == "Dismissed"
    no_slot_taken(client)


def test_dismiss_of_a_finished_job_discards_its_results(client):
    root = ok(post(client, execute("say_hello", literal("name", "done"))), "Result")
    job_id = job_id_of(root)
    assert status_of(ok(get(client, request="Dismiss", jobId=job_id), "StatusInfo")) == "Dismissed"
    gone = get(client, request="GetResult", jobId=job_id)
    assert gone.status_code == 400 and b"NoSuchJob" in gone.get_data()


def test_dismiss_of_a_queued_job(make_client):
    client = make_client(example_processes(), server={"parallelprocesses": 1})
    first = submit(client, execute("sleep", literal("delay", "60"), mode="async"))
    queued = submit(client, execute("say_hello", literal("name", "never"), mode="async"))
    assert status_of(job_status(client, queued)) == "Accepted"
    assert status_of(ok(get(client, request="Dismiss", jobId=queued), "StatusInfo")) == "Dismissed"
    assert status_of(ok(get(client, request="Dismiss", jobId=first), "StatusInfo")) == "Dismissed"
    no_slot_taken(client)
    assert dispatcher(client).store.get(queued).started is None  # it never ran


# ------------------------------------------------------------------------------------- one job, every view


def status_document(client, job_id: str) -> etree._Element:
    resp = client.get(f"/outputs/{job_id}.xml")
    assert resp.status_code == 200
    validate(resp.get_data())
    return etree.fromstring(resp.get_data())


def test_a_wps1_async_job_answers_getstatus_and_getresult_2_0_0(client):
    resp = client.get("/wps?service=WPS&request=Execute&version=1.0.0&identifier=say_hello&DataInputs=name=one"
                      "&storeExecuteResponse=true&status=true")
    location = resp.xml.get("statusLocation")
    job_id = location.rsplit("/", 1)[1].removesuffix(".xml")
    assert status_of(finished(client, job_id)) == "Succeeded"
    root = ok(get(client, request="GetResult", jobId=job_id), "Result")
    assert root.xpath("wps:Output/wps:Data/wps:LiteralValue/text()", namespaces=NS) == ["Hello one"]
    assert status_document(client, job_id).xpath("//wps:ProcessSucceeded", namespaces=NS1)
    assert dispatcher(client).store.get(job_id).protocol == "wps1"


def test_a_wps2_job_has_a_wps1_status_document_and_dismissed_shows_failed(client):
    job_id = submit(client, execute("sleep", literal("delay", "60"), mode="async"))
    wait(lambda: status_document(client, job_id).xpath("//wps:ProcessStarted", namespaces=NS1), 30)
    ok(post(client, job_request("Dismiss", job_id)), "StatusInfo")
    failed = status_document(client, job_id)
    assert "dismissed" in " ".join(failed.xpath("//wps:ProcessFailed//ows:ExceptionText/text()",
                                                namespaces=NS1)).lower()
    done = submit(client, execute("say_hello", literal("name", "two"), mode="async"))
    finished(client, done)
    succeeded = status_document(client, done)
    assert succeeded.xpath("//wps:ProcessSucceeded", namespaces=NS1)
    assert succeeded.xpath("//wps:ProcessOutputs//wps:LiteralData/text()", namespaces=NS1) == ["Hello two"]
    no_slot_taken(client)
