"""The WPS 2.0.0 encoders on their own: every document validates against the WPS 2.0 / OWS 2.0 schemas,
for every example, compatibility (emu) and hostile process and for jobs in every state."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from pywps import BoundingBoxOutput, ComplexOutput, Format, LiteralInput, LiteralOutput, Process
from pywps.encode import wps2
from pywps.exceptions import NoSuchJob, NoSuchMode, NoSuchProcess, ResultNotReady
from pywps.jobs.model import JobRecord, JobStatus
from pywps.ows import xml_bytes
from pywps.processes import example_processes
from pywps.processes.hostile import hostile_processes
from pywps.requestmodel import OutputResult
from tests.compat.emu import processes as emu_processes
from tests.wps2.wpsxml import NS, OWS, WPS, document, report
from tests.xsd import validate

SERVICE = {"identification_title": "Test", "identification_keywords": "a, b", "provider_name": "Me",
           "provider_url": "http://example.org/", "contact_email": "me@example.org", "contact_name": "Me"}


def every_process() -> list:
    return example_processes() + emu_processes() + hostile_processes()


def control(process) -> list[str]:
    return ["sync-execute", "async-execute", "dismiss"] if process.store_supported else ["sync-execute", "dismiss"]


def capabilities(**kw) -> etree._Element:
    args = dict(processes=every_process(), service=SERVICE, url="http://h/wps", languages=["en-US", "fr-CA"],
                language="en-US", update_sequence="3", sections=(), job_control=control,
                versions=("1.0.0", "2.0.0"))
    args.update(kw)
    return wps2.capabilities(**args)


def test_capabilities_validate_and_name_every_operation_and_process():
    root = document(xml_bytes(capabilities()), "Capabilities")
    assert root.get("version") == "2.0.0" and root.get("updateSequence") == "3"
    names = root.xpath("ows:OperationsMetadata/ows:Operation/@name", namespaces=NS)
    assert names == ["GetCapabilities", "DescribeProcess", "Execute", "GetStatus", "GetResult", "Dismiss"]
    assert not root.xpath("ows:OperationsMetadata/ows:Operation[@name='Execute']//ows:Get", namespaces=NS)
    assert root.xpath("ows:ServiceIdentification/ows:ServiceTypeVersion/text()", namespaces=NS) == ["1.0.0", "2.0.0"]
    assert root.xpath("ows:Languages/ows:Language/text()", namespaces=NS) == ["en-US", "fr-CA"]
    summaries = root.xpath("wps:Contents/wps:ProcessSummary", namespaces=NS)
    assert [s.findtext(f"{{{OWS}}}Identifier") for s in summaries] == [p.identifier for p in every_process()]
    say = root.xpath("wps:Contents/wps:ProcessSummary[ows:Identifier='say_hello']", namespaces=NS)[0]
    assert say.get("jobControlOptions") == "sync-execute async-execute dismiss"
    assert root.xpath("ows:ServiceProvider/ows:ProviderSite/@xlink:href", namespaces=NS) == ["http://example.org/"]


@pytest.mark.parametrize("sections, present", [
    (("ServiceIdentification",), ["ServiceIdentification"]),
    (("OperationsMetadata", "Languages"), ["OperationsMetadata", "Languages"]),
    (("Contents",), []),
    (("All",), ["ServiceIdentification", "ServiceProvider", "OperationsMetadata", "Languages"]),
])
def test_capabilities_sections(sections, present):
    root = document(xml_bytes(capabilities(sections=sections)), "Capabilities")
    for name in ("ServiceIdentification", "ServiceProvider", "OperationsMetadata", "Languages"):
        assert bool(root.findall(f"{{{OWS}}}{name}")) == (name in present), name
    assert root.findall(f"{{{WPS}}}Contents/{{{WPS}}}ProcessSummary")  # mandatory in 2.0.0


def test_process_offerings_of_every_process_validate():
    root = document(xml_bytes(wps2.process_offerings(every_process(), "en-US", control)), "ProcessOfferings")
    assert len(root) == len(every_process())
    add = root.xpath("wps:ProcessOffering[wps:Process/ows:Identifier='add']/wps:Process", namespaces=NS)[0]
    domain = add.xpath("wps:Input[ows:Identifier='b']/wps:LiteralData/LiteralDataDomain", namespaces=NS)[0]
    assert domain.get("default") == "true"
    assert domain.xpath("ows:AllowedValues/ows:Range/ows:MaximumValue/text()", namespaces=NS) == ["1000"]
    assert domain.xpath("ows:DefaultValue/text()", namespaces=NS) == ["0.0"]
    assert add.xpath("wps:Input[ows:Identifier='b']/@minOccurs", namespaces=NS) == ["0"]


def test_process_offering_details():
    class Described(Process):
        def __init__(self):
            super().__init__(
                lambda request, response: response, identifier="described", title="Described",
                abstract="About", keywords=["k1", "k2"], version="1.2.3", store_supported=False,
                inputs=[LiteralInput("length", "Length", data_type="float", uoms=["metre", "feet"],
                                     min_occurs=0, max_occurs=3, default=2)],
                outputs=[ComplexOutput("shape", "Shape", supported_formats=[
                    Format("application/json"), Format("text/xml", schema="http://s/x.xsd"),
                    Format("chemical/x-pdb")]),
                    BoundingBoxOutput("box", "Box", crss=["EPSG:3035"]),
                    LiteralOutput("count", "Count", data_type="integer")])

    root = document(xml_bytes(wps2.process_offerings([Described()], "en-US", control)), "ProcessOfferings")
    offering = root[0]
    assert offering.get("processVersion") == "1.2.3"
    assert offering.get("jobControlOptions") == "sync-execute dismiss"
    assert offering.get("outputTransmission") == "value reference"
    process = offering[0]
    assert process.xpath("ows:Keywords/ows:Keyword/text()", namespaces=NS) == ["k1", "k2"]
    length = process.xpath("wps:Input[ows:Identifier='length']", namespaces=NS)[0]
    assert (length.get("minOccurs"), length.get("maxOccurs")) == ("0", "3")
    domains = length.xpath("wps:LiteralData/LiteralDataDomain", namespaces=NS)
    assert [d.findtext(f"{{{OWS}}}UOM") for d in domains] == ["metre", "feet"]
    assert [d.get("default") for d in domains] == ["true", None]
    formats = process.xpath("wps:Output[ows:Identifier='shape']/wps:ComplexData/wps:Format", namespaces=NS)
    assert [f.get("mimeType") for f in formats] == ["application/json", "text/xml", None]  # not an OWS MimeType
    assert [f.get("default") for f in formats] == ["true", None, None]
    assert process.xpath("wps:Output[ows:Identifier='box']//wps:SupportedCRS/text()", namespaces=NS) == ["EPSG:3035"]


def job(status: JobStatus, percent: int = 0) -> JobRecord:
    record = JobRecord.new("say_hello", "{}", True, "multiprocessing")
    record.status, record.percent = status, percent
    return record


@pytest.mark.parametrize("status, shown, percent", [
    (JobStatus.ACCEPTED, "Accepted", None), (JobStatus.STARTED, "Running", "42"), (JobStatus.PAUSED, "Running", "42"),
    (JobStatus.SUCCEEDED, "Succeeded", "100"), (JobStatus.FAILED, "Failed", None),
    (JobStatus.DISMISSED, "Dismissed", None),
])
def test_status_info_of_every_state(status, shown, percent):
    record = job(status, 42)
    expiration = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)
    root = document(xml_bytes(wps2.status_info(record, expiration)), "StatusInfo")
    assert root.findtext(f"{{{WPS}}}JobID") == record.id
    assert root.findtext(f"{{{WPS}}}Status") == shown
    assert root.findtext(f"{{{WPS}}}PercentCompleted") == percent
    assert root.findtext(f"{{{WPS}}}ExpirationDate") == "2030-01-02T03:04:05Z"


def test_result_with_every_kind_of_output():
    outputs = [
        OutputResult("text", "literal", value="Hello <World>", data_type="string", uom="m"),
        OutputResult("xml", "complex", value='<a xmlns="urn:x"><b/></a>', mime_type="text/xml"),
        OutputResult("json", "complex", value='{"a": 1}', mime_type="application/json", encoding="UTF-8"),
        OutputResult("bin", "complex", value="AAEC", mime_type="application/octet-stream", encoding="base64"),
        OutputResult("ref", "complex", as_reference=True, href="http://h/outputs/j/ref.tif",
                     mime_type="image/tiff", file="ref.tif"),
        OutputResult("box", "bbox", crs="EPSG:4326", lower_corner=[1.0, 2.0], upper_corner=[3.0, 4.5]),
        OutputResult("odd", "complex", value="x", mime_type="chemical/x-pdb"),
    ]
    root = document(xml_bytes(wps2.result_document("job-1", outputs)), "Result")
    assert root.findtext(f"{{{WPS}}}JobID") == "job-1"
    out = {o.get("id"): o for o in root.findall(f"{{{WPS}}}Output")}
    assert out["text"].findtext(f"{{{WPS}}}Data/{{{WPS}}}LiteralValue") == "Hello <World>"
    assert out["xml"].find(f"{{{WPS}}}Data/{{urn:x}}a/{{urn:x}}b") is not None
    assert out["json"].findtext(f"{{{WPS}}}Data") == '{"a": 1}'
    assert out["bin"].find(f"{{{WPS}}}Data").get("encoding") == "base64"
    reference = out["ref"].find(f"{{{WPS}}}Reference")
    assert reference.get("{http://www.w3.org/1999/xlink}href") == "http://h/outputs/j/ref.tif"
    assert out["box"].xpath("wps:Data/ows:BoundingBox/ows:UpperCorner/text()", namespaces=NS) == ["3.0 4.5"]
    assert out["odd"].find(f"{{{WPS}}}Data").get("mimeType") is None


@pytest.mark.parametrize("exc, code, status", [
    (NoSuchJob("no job", locator="x"), "NoSuchJob", 400),
    (ResultNotReady("wait", locator="x"), "ResultNotReady", 400),
    (NoSuchProcess("no process", locator="p"), "NoSuchProcess", 400),
    (NoSuchMode("no", locator="mode"), "NoSuchMode", 400),
])
def test_wps2_exceptions_render_as_ows2_and_ows11(exc, code, status):
    assert report(exc.to_xml("2.0.0"), exc.code) == (code, exc.locator, status)
    validate(exc.to_xml())  # a WPS 1.0.0 view of the same exception: OWS 1.1
    assert b"http://www.opengis.net/ows/1.1" in exc.to_xml()
