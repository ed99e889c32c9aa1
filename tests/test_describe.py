"""DescribeProcess encoding: schema-valid for every input/output kind, translations, briefs, OWSLib."""

from __future__ import annotations

import pytest
from lxml import etree

from pywps import xsd
from pywps.app.Common import Metadata
from pywps.encode.describe import describe_process, process_brief
from pywps.ext_autodoc import MetadataUrl
from pywps.inout.formats import FORMATS, Format
from pywps.inout.inputs import BoundingBoxInput, ComplexInput, LiteralInput
from pywps.inout.literaltypes import AllowedValue, AnyValue, NoValue, ValuesReference
from pywps.inout.outputs import BoundingBoxOutput, ComplexOutput, LiteralOutput
from pywps.ows import OWS_NS, WPS_NS, xml_bytes
from pywps.process import Process
from pywps.processes import example_processes

NS = {"ows": OWS_NS, "wps": WPS_NS, "xlink": "http://www.w3.org/1999/xlink"}


def everything() -> Process:
    """A process with every kind of input and output and every literal restriction."""
    return Process(
        lambda request, response: None, "everything", "Everything", abstract="All kinds",
        version="2.1", profile=["urn:ogc:wps:1.0.0:profile"], store_supported=True, status_supported="true",
        metadata=[Metadata("Docs", "https://example.org/docs", role="https://example.org/role"),
                  MetadataUrl("Source", "https://example.org/src", anonymous=True)],
        translations={"fr-CA": {"title": "Tout", "abstract": "Toutes sortes"}},
        inputs=[
            LiteralInput("int", "Integer", data_type="integer", allowed_values=[1, 2, (10, 20), (0, 5, 100)],
                         default=2, uoms=["metre", "feet"], translations={"fr-ca": {"title": "Entier"}}),
            LiteralInput("any", "Any", data_type="string", min_occurs=0),
            LiteralInput("ref", "Ref", data_type="string", allowed_values=ValuesReference("https://v/x")),
            LiteralInput("none", "None", data_type="boolean", allowed_values=NoValue),
            LiteralInput("open", "Open", data_type="float",
                         allowed_values=[AllowedValue(minval=0, maxval=1, range_closure="open-closed")]),
            LiteralInput("when", "When", data_type="dateTime", allowed_values=AnyValue),
            ComplexInput("doc", "Doc", [FORMATS.GML, FORMATS.GEOTIFF, Format("text/xml", schema="http://s/x.xsd"),
                                        FORMATS.WCS110], min_occurs=0, max_occurs=5, max_megabytes=10),
            BoundingBoxInput("bbox", "BBox", crss=["EPSG:4326", "EPSG:3857"], dimensions=2),
        ],
        outputs=[
            LiteralOutput("lit", "Lit", data_type="float", uoms=["metre"]),
            LiteralOutput("plain", "Plain"),
            ComplexOutput("cx", "Complex", [FORMATS.JSON, FORMATS.NETCDF], as_reference=True),
            BoundingBoxOutput("bb", "BB", crss=["EPSG:4326"]),
        ],
    )


def test_schema_valid_every_kind():
    doc = describe_process([everything()], None)
    xsd.validate(doc, "describe")


def test_schema_valid_examples():
    doc = describe_process(example_processes(), "en-US", max_megabytes=3)
    xsd.validate(doc, "describe")
    xsd.validate(etree.fromstring(xml_bytes(doc)), "describe")


def test_content():
    doc = describe_process([everything()], None, max_megabytes=99)
    assert doc.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-US"
    desc = doc.find("ProcessDescription")
    assert desc.get(f"{{{WPS_NS}}}processVersion") == "2.1"
    assert desc.get("storeSupported") == "true" and desc.get("statusSupported") == "true"
    assert desc.findtext(f"{{{OWS_NS}}}Title") == "Everything"
    meta = desc.findall("ows:Metadata", NS)
    assert meta[0].get(f"{{{NS['xlink']}}}href") == "https://example.org/docs"
    assert meta[0].get(f"{{{NS['xlink']}}}role") == "https://example.org/role"
    assert desc.findtext("wps:Profile", namespaces=NS) == "urn:ogc:wps:1.0.0:profile"
    inputs = {i.findtext("ows:Identifier", namespaces=NS): i for i in desc.iterfind("DataInputs/Input")}
    integer = inputs["int"].find("LiteralData")
    assert integer.find("ows:DataType", NS).get(f"{{{OWS_NS}}}reference").endswith("#integer")
    assert [v.text for v in integer.iterfind("ows:AllowedValues/ows:Value", NS)] == ["1", "2"]
    ranges = integer.findall("ows:AllowedValues/ows:Range", NS)
    assert ranges[1].findtext("ows:Spacing", namespaces=NS) == "5"
    assert integer.findtext("DefaultValue") == "2"
    assert integer.findtext("UOMs/Default/ows:UOM", namespaces=NS) == "metre"
    assert len(integer.findall("UOMs/Supported/ows:UOM", NS)) == 2
    assert inputs["any"].get("minOccurs") == "0"
    assert inputs["any"].find("LiteralData/ows:AnyValue", NS) is not None
    assert inputs["ref"].find("LiteralData/ValuesReference").get(f"{{{OWS_NS}}}reference") == "https://v/x"
    assert inputs["open"].find("LiteralData/ows:AllowedValues/ows:Range", NS).get(
        f"{{{OWS_NS}}}rangeClosure") == "open-closed"
    cx = inputs["doc"].find("ComplexData")
    assert cx.get("maximumMegabytes") == "10" and inputs["doc"].get("maxOccurs") == "5"
    assert cx.findtext("Default/Format/MimeType") == "application/gml+xml"
    supported = cx.findall("Supported/Format")
    assert [f.findtext("MimeType") for f in supported][1] == "image/tiff; subtype=geotiff"
    assert supported[1].findtext("Encoding") == "base64"
    assert supported[2].findtext("Schema") == "http://s/x.xsd"
    bbox = inputs["bbox"].find("BoundingBoxData")
    assert bbox.findtext("Default/CRS") == "EPSG:4326" and len(bbox.findall("Supported/CRS")) == 2
    outputs = {o.findtext("ows:Identifier", namespaces=NS): o for o in desc.iterfind("ProcessOutputs/Output")}
    assert outputs["lit"].findtext("LiteralOutput/ows:DataType", namespaces=NS) == "float"
    assert outputs["cx"].findtext("ComplexOutput/Default/Format/MimeType") == "application/json"
    assert outputs["bb"].findtext("BoundingBoxOutput/Default/CRS") == "EPSG:4326"


def test_translations():
    doc = describe_process([everything()], "fr-CA")
    xsd.validate(doc, "describe")
    assert doc.get("{http://www.w3.org/XML/1998/namespace}lang") == "fr-CA"
    desc = doc.find("ProcessDescription")
    assert desc.findtext("ows:Title", namespaces=NS) == "Tout"
    assert desc.findtext("ows:Abstract", namespaces=NS) == "Toutes sortes"
    assert desc.find("DataInputs/Input/ows:Title", NS).text == "Entier"
    brief = process_brief(everything(), "fr-CA")
    assert brief.findtext("ows:Title", namespaces=NS) == "Tout"


def test_process_without_inputs():
    process = Process(lambda r, s: None, "noin", "No inputs", outputs=[LiteralOutput("o", "O")])
    doc = describe_process([process], None)
    xsd.validate(doc, "describe")
    assert doc.find("ProcessDescription/DataInputs") is None


def test_brief():
    brief = process_brief(everything())
    assert brief.tag == f"{{{WPS_NS}}}Process"
    assert brief.get(f"{{{WPS_NS}}}processVersion") == "2.1"
    assert brief.findtext("ows:Identifier", namespaces=NS) == "everything"
    assert brief.find("DataInputs") is None


def test_owslib_reads_it():
    owslib_wps = pytest.importorskip("owslib.wps")
    doc = etree.fromstring(xml_bytes(describe_process([everything()], None)))
    process = owslib_wps.Process(doc.find("ProcessDescription"))
    assert process.identifier == "everything"
    inputs = {i.identifier: i for i in process.dataInputs}
    assert inputs["int"].dataType.endswith("integer")
    assert "1" in [str(v) for v in inputs["int"].allowedValues]
    assert inputs["doc"].supportedValues[0].mimeType == "application/gml+xml"
    assert {o.identifier for o in process.processOutputs} == {"lit", "plain", "cx", "bb"}
