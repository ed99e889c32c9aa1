"""XML namespaces, element makers and the hardened XML parser."""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree
from lxml.builder import ElementMaker

from pywps.exceptions import InvalidParameterValue, NoApplicableCode

OWS_NS = "http://www.opengis.net/ows/1.1"
WPS_NS = "http://www.opengis.net/wps/1.0.0"
WPS2_NS = "http://www.opengis.net/wps/2.0"
XLINK_NS = "http://www.w3.org/1999/xlink"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XML_NS = "http://www.w3.org/XML/1998/namespace"

NAMESPACES: dict[str, dict[str, str]] = {
    "1.0.0": {"ows": OWS_NS, "wps": WPS_NS, "xlink": XLINK_NS, "xsi": XSI_NS},
    "2.0.0": {"ows": "http://www.opengis.net/ows/2.0", "wps": WPS2_NS, "xlink": XLINK_NS, "xsi": XSI_NS},
}
NSMAP = NAMESPACES["1.0.0"]
SCHEMA_LOCATIONS = {
    "1.0.0": "http://schemas.opengis.net/wps/1.0.0",
    "2.0.0": "http://schemas.opengis.net/wps/2.0",
}

OWS = ElementMaker(namespace=OWS_NS, nsmap=NSMAP)
WPS = ElementMaker(namespace=WPS_NS, nsmap=NSMAP)


def get_ElementMakerForVersion(version: str) -> tuple[ElementMaker, ElementMaker]:
    """Return the (WPS, OWS) element makers for a WPS version (PyWPS 4 API)."""
    nsmap = NAMESPACES.get(version)
    if nsmap is None:
        raise NoApplicableCode(f"Unsupported WPS version {version!r}")
    return (
        ElementMaker(namespace=nsmap["wps"], nsmap=nsmap),
        ElementMaker(namespace=nsmap["ows"], nsmap=nsmap),
    )


def get_xpath_ns(version: str) -> Callable[[etree._Element, str], list]:
    """Return an xpath function bound to the namespaces of a WPS version (PyWPS 4 API)."""
    nsmap = NAMESPACES[version]

    def xpath_ns(element: etree._Element, path: str) -> list:
        return element.xpath(path, namespaces=nsmap)

    return xpath_ns


def xml_parser() -> etree.XMLParser:
    """A parser with DTDs, entity resolution and network access disabled."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_comments=False,
    )


def parse_xml(data: bytes | str) -> etree._Element:
    """Parse untrusted XML safely; raise ``InvalidParameterValue`` when malformed."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    if b"<!DOCTYPE" in data[:4096] or b"<!ENTITY" in data:
        raise InvalidParameterValue("DTDs and entity declarations are not allowed", locator="request")
    try:
        return etree.fromstring(data, parser=xml_parser())
    except etree.XMLSyntaxError as exc:
        raise InvalidParameterValue(f"Malformed XML: {exc}", locator="request") from None


def xml_bytes(element: etree._Element) -> bytes:
    """Serialize a document with an XML declaration."""
    return etree.tostring(element, xml_declaration=True, encoding="utf-8", pretty_print=True)
