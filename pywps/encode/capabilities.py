"""WPS 1.0.0 ``wps:Capabilities`` documents built from the service metadata and the process list."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from lxml import etree

from pywps.ows import NSMAP, OWS_NS, WPS_NS, XLINK_NS, XML_NS, XSI_NS

log = logging.getLogger(__name__)

SCHEMA_LOCATION = f"{WPS_NS} http://schemas.opengis.net/wps/1.0.0/wpsGetCapabilities_response.xsd"
OPERATIONS = ("GetCapabilities", "DescribeProcess", "Execute")
SECTIONS = ("ServiceIdentification", "ServiceProvider", "OperationsMetadata", "ProcessOfferings", "Contents",
            "Languages", "All")

_W = f"{{{WPS_NS}}}"
_O = f"{{{OWS_NS}}}"
_HREF = f"{{{XLINK_NS}}}href"
_LANG = f"{{{XML_NS}}}lang"
_SUB = etree.SubElement


def _text(parent: etree._Element, tag: str, text: str) -> etree._Element:
    element = _SUB(parent, tag)
    element.text = text
    return element


def _value(service: Mapping[str, Any], key: str) -> str:
    value = service.get(key)
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value).strip()


def _keywords(value: Any) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [k.strip() for k in value.replace("\n", ",").split(",") if k.strip()]
    return [str(k).strip() for k in value if str(k).strip()]


def capabilities(
    *,
    processes: Sequence[Any],
    service: Mapping[str, Any],
    url: str,
    languages: Sequence[str] = ("en-US",),
    language: str | None = None,
    update_sequence: str | None = None,
    brief: Callable[[Any], etree._Element] | None = None,
    versions: Sequence[str] = ("1.0.0",),
    wsdl: str | None = None,
    sections: Sequence[str] = (),
) -> etree._Element:
    """Build a ``wps:Capabilities`` (WPS 1.0.0) document; ``brief`` renders one ``wps:Process``.

    ``sections`` (OWS 1.1) limits the optional ServiceIdentification, ServiceProvider and OperationsMetadata
    sections; ProcessOfferings and Languages are mandatory in WPS 1.0.0 and always present.
    """
    wanted = {s.lower() for s in sections}
    everything = not wanted or "all" in wanted
    languages = list(languages) or ["en-US"]
    lang = language or languages[0]
    root = etree.Element(f"{_W}Capabilities", nsmap=NSMAP)
    root.set(f"{{{XSI_NS}}}schemaLocation", SCHEMA_LOCATION)
    root.set("service", "WPS")
    root.set("version", "1.0.0")
    root.set(_LANG, lang)
    if update_sequence:
        root.set("updateSequence", str(update_sequence))
    if everything or "serviceidentification" in wanted:
        service_identification(root, service, versions)
    if everything or "serviceprovider" in wanted:
        service_provider(root, service)
    if everything or "operationsmetadata" in wanted:
        operations_metadata(root, url)
    offerings = _SUB(root, f"{_W}ProcessOfferings")
    render = brief or default_brief
    for process in processes:
        offerings.append(render(process))
    if not len(offerings):
        log.warning("no processes configured: ProcessOfferings is empty and the document will not validate")
    langs = _SUB(root, f"{_W}Languages")
    _text(_SUB(langs, f"{_W}Default"), f"{_O}Language", languages[0])
    supported = _SUB(langs, f"{_W}Supported")
    for code in languages:
        _text(supported, f"{_O}Language", code)
    if wsdl:
        _SUB(root, f"{_W}WSDL").set(_HREF, wsdl)
    return root


def default_brief(process: Any) -> etree._Element:
    """A ``wps:Process`` brief for a duck-typed process (used when no ``brief`` is given)."""
    from pywps.encode.execute import process_element

    holder = etree.Element(f"{_W}ProcessOfferings", nsmap=NSMAP)
    return process_element(holder, process)


def service_identification(parent: etree._Element, service: Mapping[str, Any],
                           versions: Sequence[str] = ("1.0.0",)) -> etree._Element:
    """Append ``ows:ServiceIdentification`` from the ``[metadata:main]`` keys."""
    element = _SUB(parent, f"{_O}ServiceIdentification")
    _text(element, f"{_O}Title", _value(service, "identification_title") or "PyWPS Processing Service")
    abstract = _value(service, "identification_abstract")
    if abstract:
        _text(element, f"{_O}Abstract", abstract)
    keywords = _keywords(service.get("identification_keywords"))
    if keywords:
        container = _SUB(element, f"{_O}Keywords")
        for keyword in keywords:
            _text(container, f"{_O}Keyword", keyword)
        kind = _value(service, "identification_keywords_type")
        if kind:
            _text(container, f"{_O}Type", kind)
    _text(element, f"{_O}ServiceType", "WPS")
    for version in versions:
        _text(element, f"{_O}ServiceTypeVersion", version)
    _text(element, f"{_O}Fees", _value(service, "identification_fees") or "NONE")
    _text(element, f"{_O}AccessConstraints", _value(service, "identification_accessconstraints") or "NONE")
    return element


def service_provider(parent: etree._Element, service: Mapping[str, Any]) -> etree._Element:
    """Append ``ows:ServiceProvider`` (provider and contact) from the ``[metadata:main]`` keys."""
    def get(key: str) -> str:
        return _value(service, key)

    element = _SUB(parent, f"{_O}ServiceProvider")
    _text(element, f"{_O}ProviderName", get("provider_name") or "PyWPS")
    if get("provider_url"):
        _SUB(element, f"{_O}ProviderSite").set(_HREF, get("provider_url"))
    contact = _SUB(element, f"{_O}ServiceContact")
    if get("contact_name"):
        _text(contact, f"{_O}IndividualName", get("contact_name"))
    if get("contact_position"):
        _text(contact, f"{_O}PositionName", get("contact_position"))
    info = etree.Element(f"{_O}ContactInfo")
    if get("contact_phone") or get("contact_fax"):
        phone = _SUB(info, f"{_O}Phone")
        if get("contact_phone"):
            _text(phone, f"{_O}Voice", get("contact_phone"))
        if get("contact_fax"):
            _text(phone, f"{_O}Facsimile", get("contact_fax"))
    address_keys = (("contact_address", "DeliveryPoint"), ("contact_city", "City"),
                    ("contact_stateorprovince", "AdministrativeArea"), ("contact_postalcode", "PostalCode"),
                    ("contact_country", "Country"), ("contact_email", "ElectronicMailAddress"))
    if any(get(key) for key, _ in address_keys):
        address = _SUB(info, f"{_O}Address")
        for key, name in address_keys:
            if get(key):
                _text(address, f"{_O}{name}", get(key))
    if get("contact_url"):
        _SUB(info, f"{_O}OnlineResource").set(_HREF, get("contact_url"))
    if get("contact_hours"):
        _text(info, f"{_O}HoursOfService", get("contact_hours"))
    if get("contact_instructions"):
        _text(info, f"{_O}ContactInstructions", get("contact_instructions"))
    if len(info):
        contact.append(info)
    if get("contact_role"):
        _text(contact, f"{_O}Role", get("contact_role"))
    return element


def operations_metadata(parent: etree._Element, url: str) -> etree._Element:
    """Append ``ows:OperationsMetadata`` with GET and POST endpoints for the three operations."""
    element = _SUB(parent, f"{_O}OperationsMetadata")
    for name in OPERATIONS:
        operation = _SUB(element, f"{_O}Operation")
        operation.set("name", name)
        http = _SUB(_SUB(operation, f"{_O}DCP"), f"{_O}HTTP")
        _SUB(http, f"{_O}Get").set(_HREF, url)
        _SUB(http, f"{_O}Post").set(_HREF, url)
    return element
