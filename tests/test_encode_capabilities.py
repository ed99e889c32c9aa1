"""Tests for pywps.encode.capabilities: documents validate against wpsGetCapabilities_response.xsd."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from lxml import etree

from pywps.encode.capabilities import capabilities
from pywps.ows import NSMAP, OWS_NS, WPS_NS, xml_bytes
from tests.xsd import SchemaValidationError, validate

NS = {"wps": WPS_NS, "ows": OWS_NS, "xlink": "http://www.w3.org/1999/xlink"}
HREF = "{http://www.w3.org/1999/xlink}href"
URL = "http://localhost:5000/wps"
EXAMPLES = Path("/work/shared/ogc-schemas/examples/wps-1.0.0")

FULL = {
    "identification_title": "Test WPS",
    "identification_abstract": "Processes for tests",
    "identification_keywords": "WPS, tests,geo",
    "identification_keywords_type": "theme",
    "identification_fees": "None at all",
    "identification_accessconstraints": "open",
    "provider_name": "Example Org",
    "provider_url": "http://example.org/",
    "contact_name": "Jane Doe",
    "contact_position": "Engineer",
    "contact_address": "1 Main St",
    "contact_city": "Ottawa",
    "contact_stateorprovince": "ON",
    "contact_postalcode": "K1A",
    "contact_country": "Canada",
    "contact_phone": "+1 555",
    "contact_fax": "+1 556",
    "contact_email": "jane@example.org",
    "contact_url": "http://example.org/contact",
    "contact_hours": "9-17",
    "contact_instructions": "email first",
    "contact_role": "pointOfContact",
}


@dataclass
class Proc:
    identifier: str
    title: str = "A process"
    abstract: str = ""
    version: str = "1.0"
    metadata: list = field(default_factory=list)


def brief(process) -> etree._Element:
    """A trivial ProcessBriefType renderer standing in for pywps.encode.describe.process_brief."""
    element = etree.Element(f"{{{WPS_NS}}}Process", nsmap=NSMAP)
    element.set(f"{{{WPS_NS}}}processVersion", process.version)
    etree.SubElement(element, f"{{{OWS_NS}}}Identifier").text = process.identifier
    etree.SubElement(element, f"{{{OWS_NS}}}Title").text = process.title
    return element


def render(**kwargs) -> etree._Element:
    args = dict(processes=[Proc("hello"), Proc("buffer")], service=FULL, url=URL,
                languages=["en-US", "fr-CA"], language=None, update_sequence=None, brief=brief)
    args.update(kwargs)
    element = capabilities(**args)
    validate(element, "capabilities")
    validate(xml_bytes(element), "capabilities")
    return element


def one(element: etree._Element, path: str) -> etree._Element:
    found = element.xpath(path, namespaces=NS)
    assert len(found) == 1, path
    return found[0]


def texts(element: etree._Element, path: str) -> list[str]:
    return [e.text for e in element.xpath(path, namespaces=NS)]


def test_full_metadata():
    doc = render(update_sequence="7", language="fr-CA")
    assert doc.get("updateSequence") == "7"
    assert doc.get("{http://www.w3.org/XML/1998/namespace}lang") == "fr-CA"
    ident = one(doc, "ows:ServiceIdentification")
    assert one(ident, "ows:Title").text == "Test WPS"
    assert texts(ident, "ows:Keywords/ows:Keyword") == ["WPS", "tests", "geo"]
    assert one(ident, "ows:Keywords/ows:Type").text == "theme"
    assert one(ident, "ows:ServiceType").text == "WPS"
    assert texts(ident, "ows:ServiceTypeVersion") == ["1.0.0"]
    assert one(ident, "ows:Fees").text == "None at all"
    provider = one(doc, "ows:ServiceProvider")
    assert one(provider, "ows:ProviderSite").get(HREF) == "http://example.org/"
    contact = one(provider, "ows:ServiceContact")
    assert one(contact, "ows:IndividualName").text == "Jane Doe"
    assert one(contact, "ows:ContactInfo/ows:Phone/ows:Facsimile").text == "+1 556"
    assert one(contact, "ows:ContactInfo/ows:Address/ows:ElectronicMailAddress").text == "jane@example.org"
    assert one(contact, "ows:ContactInfo/ows:OnlineResource").get(HREF) == "http://example.org/contact"
    assert one(contact, "ows:ContactInfo/ows:ContactInstructions").text == "email first"
    assert one(contact, "ows:Role").text == "pointOfContact"
    assert texts(doc, "wps:ProcessOfferings/wps:Process/ows:Identifier") == ["hello", "buffer"]
    assert texts(doc, "wps:Languages/wps:Default/ows:Language") == ["en-US"]
    assert texts(doc, "wps:Languages/wps:Supported/ows:Language") == ["en-US", "fr-CA"]


def test_operations_metadata():
    doc = render()
    names = [op.get("name") for op in doc.xpath("ows:OperationsMetadata/ows:Operation", namespaces=NS)]
    assert names == ["GetCapabilities", "DescribeProcess", "Execute"]
    for name in names:
        op = one(doc, f"ows:OperationsMetadata/ows:Operation[@name='{name}']")
        assert one(op, "ows:DCP/ows:HTTP/ows:Get").get(HREF) == URL
        assert one(op, "ows:DCP/ows:HTTP/ows:Post").get(HREF) == URL


def test_minimal_metadata_and_default_brief():
    doc = render(service={}, languages=[], brief=None, versions=("1.0.0", "2.0.0"), wsdl="http://x/wsdl")
    assert one(doc, "ows:ServiceIdentification/ows:Title").text
    assert one(doc, "ows:ServiceProvider/ows:ProviderName").text == "PyWPS"
    assert not doc.xpath("ows:ServiceProvider/ows:ServiceContact/*", namespaces=NS)
    assert texts(doc, "ows:ServiceIdentification/ows:ServiceTypeVersion") == ["1.0.0", "2.0.0"]
    assert texts(doc, "wps:Languages/wps:Default/ows:Language") == ["en-US"]
    assert one(doc, "wps:WSDL").get(HREF) == "http://x/wsdl"
    process = one(doc, "wps:ProcessOfferings/wps:Process[ows:Identifier='hello']")
    assert process.get(f"{{{WPS_NS}}}processVersion") == "1.0"


def test_keyword_list_and_partial_contact():
    service = {"identification_keywords": ["a", " b ", ""], "contact_city": "Paris", "contact_phone": "1"}
    doc = render(service=service)
    assert texts(doc, "ows:ServiceIdentification/ows:Keywords/ows:Keyword") == ["a", "b"]
    info = one(doc, "ows:ServiceProvider/ows:ServiceContact/ows:ContactInfo")
    assert [etree.QName(c).localname for c in info] == ["Phone", "Address"]


def test_no_processes_is_reported_invalid():
    element = capabilities(processes=[], service=FULL, url=URL, languages=["en-US"], language=None,
                           update_sequence=None, brief=brief)
    assert one(element, "wps:ProcessOfferings") is not None
    with pytest.raises(SchemaValidationError):
        validate(element, "capabilities")


def test_official_example_validates():
    validate((EXAMPLES / "20_wpsGetCapabilities_response.xml").read_bytes(), "capabilities")


# ------------------------------------------------------------------------------------------------- pywps.xsd


def test_xsd_kinds_compile_offline(monkeypatch):
    import socket

    from pywps import xsd

    def no_network(*args, **kwargs):
        raise AssertionError("schema loading tried to use the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    xsd.schema.cache_clear()
    for kind in xsd.KINDS:
        assert xsd.schema(kind) is not None
    assert xsd.local_path("http://schemas.opengis.net/ows/1.1.0/owsAll.xsd").is_file()
    assert xsd.local_path("http://www.w3.org/1999/xlink.xsd").is_file()
    assert xsd.local_path("http://schemas.opengis.net/../../etc/passwd") is None
    assert xsd.local_path("http://example.org/x.xsd") is None


def test_xsd_validate_inputs_and_errors():
    from pywps import xsd
    from pywps.exceptions import MissingParameterValue

    report = MissingParameterValue("no service", locator="service").to_xml()
    validate(report, "exception")
    validate(report.decode())
    validate(etree.ElementTree(etree.fromstring(report)))
    assert xsd.is_valid(report) and not xsd.is_valid(b"<x/>", "exception")
    with pytest.raises(SchemaValidationError) as info:
        validate(b'<wps:Capabilities xmlns:wps="http://www.opengis.net/wps/1.0.0"/>')
    assert "service" in str(info.value) and info.value.error_log
    with pytest.raises(SchemaValidationError):
        validate(b"<not xml")
    with pytest.raises(ValueError):
        validate(b"<x/>")  # unknown root, no kind
    with pytest.raises(ValueError):
        validate(b"<x/>", "nonsense")


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.xml") if "SOAP" not in p.name))
def test_xsd_official_examples(name):
    validate((EXAMPLES / name).read_bytes())
