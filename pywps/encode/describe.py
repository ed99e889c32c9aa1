"""WPS 1.0.0 DescribeProcess documents (``wps:ProcessDescriptions``) and ``wps:Process`` briefs.

The elements local to wpsDescribeProcess_response.xsd (ProcessDescription, DataInputs, Input, LiteralData,
Default, Supported, Format ...) are unqualified, as that schema declares them; ``ows:`` and ``wps:``
elements and attributes are qualified.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from lxml import etree

from pywps.inout.basic import get_translation
from pywps.inout.inputs import BoundingBoxInput, ComplexInput, LiteralInput
from pywps.inout.literaltypes import (
    ALLOWEDVALUETYPE,
    RANGECLOSURETYPE,
    AllowedValue,
    ValuesReference,
    data_type_reference,
    to_text,
)
from pywps.inout.outputs import BoundingBoxOutput, ComplexOutput, LiteralOutput
from pywps.ows import NSMAP, OWS_NS, SCHEMA_LOCATIONS, WPS_NS, XLINK_NS, XML_NS, XSI_NS

log = logging.getLogger(__name__)

_O = f"{{{OWS_NS}}}"
_W = f"{{{WPS_NS}}}"
_X = f"{{{XLINK_NS}}}"
DEFAULT_LANGUAGE = "en-US"


def _sub(parent: etree._Element, tag: str, text: Any = None, **attrib: str) -> etree._Element:
    element = etree.SubElement(parent, tag, attrib)
    if text is not None:
        element.text = str(text)
    return element


def _metadata(parent: etree._Element, item: Any) -> None:
    """``ows:Metadata`` links with xlink attributes."""
    for meta in getattr(item, "metadata", None) or []:
        element = _sub(parent, f"{_O}Metadata")
        element.set(f"{_X}type", "simple")
        title = getattr(meta, "title", None)
        if title:
            element.set(f"{_X}title", str(title))
        href = getattr(meta, "href", None)
        if href:
            element.set(f"{_X}href", str(href))
        role = getattr(meta, "role", None)
        if role:
            element.set(f"{_X}role", str(role))


def _description(parent: etree._Element, item: Any, language: str | None) -> None:
    """Identifier, Title, Abstract and Metadata of a process, input or output."""
    _sub(parent, f"{_O}Identifier", item.identifier)
    _sub(parent, f"{_O}Title", get_translation(item, "title", language) or item.identifier)
    abstract = get_translation(item, "abstract", language)
    if abstract:
        _sub(parent, f"{_O}Abstract", abstract)
    _metadata(parent, item)


def _bool(value: Any) -> str:
    return "true" if value else "false"


def _process_attributes(element: etree._Element, process: Any) -> None:
    element.set(f"{_W}processVersion", str(getattr(process, "version", "") or "None"))


def _profiles(parent: etree._Element, process: Any) -> None:
    for profile in getattr(process, "profile", None) or []:
        _sub(parent, f"{_W}Profile", profile)


def process_brief(process: Any, language: str | None = None) -> etree._Element:
    """A ``wps:Process`` element (ProcessBriefType) for GetCapabilities ProcessOfferings."""
    element = etree.Element(f"{_W}Process", nsmap=NSMAP)
    _process_attributes(element, process)
    _description(element, process, language)
    _profiles(element, process)
    return element


def _format(parent: etree._Element, fmt: Any) -> None:
    element = _sub(parent, "Format")
    _sub(element, "MimeType", fmt.mime_type)
    if fmt.encoding:
        _sub(element, "Encoding", fmt.encoding)
    if fmt.schema:
        _sub(element, "Schema", fmt.schema)


def _complex(parent: etree._Element, tag: str, item: Any, max_megabytes: int | None) -> None:
    element = _sub(parent, tag)
    megabytes = getattr(item, "max_megabytes", None) or max_megabytes
    if megabytes and tag == "ComplexData":
        element.set("maximumMegabytes", str(int(megabytes)))
    default = item.data_format or item.supported_formats[0]
    _format(_sub(element, "Default"), default)
    supported = _sub(element, "Supported")
    for fmt in item.supported_formats or [default]:
        _format(supported, fmt)


def _bbox(parent: etree._Element, tag: str, item: Any) -> None:
    element = _sub(parent, tag)
    crss = list(item.crss or ["EPSG:4326"])
    _sub(_sub(element, "Default"), "CRS", crss[0])
    supported = _sub(element, "Supported")
    for crs in crss:
        _sub(supported, "CRS", crs)


def _data_type(parent: etree._Element, item: Any) -> None:
    element = _sub(parent, f"{_O}DataType", item.data_type)
    element.set(f"{_O}reference", data_type_reference(item.data_type))


def _uoms(parent: etree._Element, item: Any) -> None:
    uoms = list(getattr(item, "uoms", None) or [])
    if not uoms:
        return
    element = _sub(parent, "UOMs")
    _uom(_sub(element, "Default"), uoms[0])
    supported = _sub(element, "Supported")
    for uom in uoms:
        _uom(supported, uom)


def _uom(parent: etree._Element, uom: Any) -> None:
    element = _sub(parent, f"{_O}UOM", uom.uom)
    if getattr(uom, "reference", None):
        element.set(f"{_O}reference", uom.reference)


def _allowed_values(parent: etree._Element, item: Any) -> None:
    """AllowedValues (values and ranges), ValuesReference, or AnyValue."""
    allowed = [a for a in item.allowed_values if isinstance(a, AllowedValue)]
    reference = next((a for a in item.allowed_values if isinstance(a, ValuesReference)), None)
    if allowed:
        element = _sub(parent, f"{_O}AllowedValues")
        for value in allowed:
            if value.allowed_type == ALLOWEDVALUETYPE.RANGE:
                rng = _sub(element, f"{_O}Range")
                if value.range_closure and value.range_closure != RANGECLOSURETYPE.CLOSED:
                    rng.set(f"{_O}rangeClosure", value.range_closure)
                if value.minval is not None:
                    _sub(rng, f"{_O}MinimumValue", to_text(value.minval))
                if value.maxval is not None:
                    _sub(rng, f"{_O}MaximumValue", to_text(value.maxval))
                if value.spacing is not None:
                    _sub(rng, f"{_O}Spacing", to_text(value.spacing))
            else:
                _sub(element, f"{_O}Value", to_text(value.value))
    elif reference is not None:
        element = _sub(parent, "ValuesReference")
        element.set(f"{_O}reference", reference.reference)
        if reference.values_form:
            element.set("valuesForm", reference.values_form)
    else:
        _sub(parent, f"{_O}AnyValue")


def _literal_input(parent: etree._Element, item: LiteralInput) -> None:
    element = _sub(parent, "LiteralData")
    _data_type(element, item)
    _uoms(element, item)
    _allowed_values(element, item)
    if item.default is not None:
        try:
            default = to_text(item.convert_value(item.default))
        except Exception:  # noqa: BLE001 - a bad default is the author's problem; show it as given
            log.warning("default %r of input %s does not convert", item.default, item.identifier)
            default = str(item.default)
        _sub(element, "DefaultValue", default)


def _input(parent: etree._Element, item: Any, language: str | None, max_megabytes: int | None) -> None:
    element = _sub(parent, "Input", minOccurs=str(max(0, int(item.min_occurs))),
                   maxOccurs=str(max(1, int(item.max_occurs))))
    _description(element, item, language)
    if isinstance(item, LiteralInput):
        _literal_input(element, item)
    elif isinstance(item, ComplexInput):
        _complex(element, "ComplexData", item, max_megabytes)
    elif isinstance(item, BoundingBoxInput):
        _bbox(element, "BoundingBoxData", item)
    else:
        raise TypeError(f"unknown input type {type(item).__name__} for {item.identifier!r}")


def _output(parent: etree._Element, item: Any, language: str | None) -> None:
    element = _sub(parent, "Output")
    _description(element, item, language)
    if isinstance(item, LiteralOutput):
        literal = _sub(element, "LiteralOutput")
        _data_type(literal, item)
        _uoms(literal, item)
    elif isinstance(item, ComplexOutput):
        _complex(element, "ComplexOutput", item, None)
    elif isinstance(item, BoundingBoxOutput):
        _bbox(element, "BoundingBoxOutput", item)
    else:
        raise TypeError(f"unknown output type {type(item).__name__} for {item.identifier!r}")


def process_description(process: Any, language: str | None = None,
                        max_megabytes: int | None = None) -> etree._Element:
    """One ``ProcessDescription`` element (unqualified, as the schema declares it)."""
    element = etree.Element("ProcessDescription", nsmap=NSMAP)
    _process_attributes(element, process)
    element.set("storeSupported", _bool(getattr(process, "store_supported", False)))
    element.set("statusSupported", _bool(getattr(process, "status_supported", False)))
    _description(element, process, language)
    _profiles(element, process)
    if process.inputs:
        inputs = _sub(element, "DataInputs")
        for item in process.inputs:
            _input(inputs, item, language, max_megabytes)
    outputs = _sub(element, "ProcessOutputs")
    for item in process.outputs:
        _output(outputs, item, language)
    return element


def describe_process(processes: Sequence[Any], language: str | None = None, version: str = "1.0.0",
                     max_megabytes: int | None = None) -> etree._Element:
    """A ``wps:ProcessDescriptions`` document (WPS 1.0.0) for the given processes."""
    if version != "1.0.0":
        log.debug("DescribeProcess %s requested; encoding WPS 1.0.0", version)
    root = etree.Element(f"{_W}ProcessDescriptions", nsmap=NSMAP)
    root.set("service", "WPS")
    root.set("version", "1.0.0")
    root.set(f"{{{XML_NS}}}lang", language or DEFAULT_LANGUAGE)
    root.set(f"{{{XSI_NS}}}schemaLocation",
             f"{WPS_NS} {SCHEMA_LOCATIONS['1.0.0']}/wpsDescribeProcess_response.xsd")
    for process in processes:
        root.append(process_description(process, language, max_megabytes))
    return root
