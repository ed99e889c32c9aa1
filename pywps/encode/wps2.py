"""WPS 2.0.0 (OGC 14-065) documents: ``wps:Capabilities``, ``wps:ProcessOfferings``, ``wps:StatusInfo`` and
``wps:Result``, built from the same processes, job records and output results as the WPS 1.0.0 documents.

Elements local to ``dataTypes.xsd`` (``LiteralDataDomain``) are unqualified, as that schema declares them;
everything else is in the ``wps`` (WPS 2.0) or ``ows`` (OWS 2.0) namespace.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from lxml import etree

from pywps.exceptions import NoApplicableCode
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
from pywps.jobs.model import JobRecord, JobStatus
from pywps.ows import OWS_NS, WPS2_NS, XLINK_NS, XML_NS, XSI_NS, parse_xml
from pywps.requestmodel import OutputResult

log = logging.getLogger(__name__)

OWS2_NS = "http://www.opengis.net/ows/2.0"
NSMAP = {"wps": WPS2_NS, "ows": OWS2_NS, "xlink": XLINK_NS, "xsi": XSI_NS}
SCHEMA_LOCATION = f"{WPS2_NS} http://schemas.opengis.net/wps/2.0/wps.xsd"
OPERATIONS = ("GetCapabilities", "DescribeProcess", "Execute", "GetStatus", "GetResult", "Dismiss")

# The WPS 2.0.0 status of a job in each state of the store
STATUS = {
    JobStatus.ACCEPTED: "Accepted",
    JobStatus.STARTED: "Running",
    JobStatus.PAUSED: "Running",
    JobStatus.SUCCEEDED: "Succeeded",
    JobStatus.FAILED: "Failed",
    JobStatus.DISMISSED: "Dismissed",
}

_W = f"{{{WPS2_NS}}}"
_O = f"{{{OWS2_NS}}}"
_X = f"{{{XLINK_NS}}}"
_LANG = f"{{{XML_NS}}}lang"
# ows:MimeType and ows:VersionType of OWS 2.0: what does not match is left out rather than made invalid
_MIME = re.compile(r"^(application|audio|image|text|video|message|multipart|model)/.+(;\s*.+=.+)*$")
_VERSION = re.compile(r"^\d+\.\d?\d\.\d?\d$")


def _sub(parent: etree._Element, tag: str, text: Any = None, **attrib: str) -> etree._Element:
    element = etree.SubElement(parent, tag, attrib)
    if text is not None:
        element.text = str(text)
    return element


def _root(tag: str) -> etree._Element:
    root = etree.Element(f"{_W}{tag}", nsmap=NSMAP)
    root.set(f"{{{XSI_NS}}}schemaLocation", SCHEMA_LOCATION)
    return root


def timestamp(value: datetime) -> str:
    """An ``xs:dateTime`` in UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def mime_type(value: str | None) -> str | None:
    """``value`` when it is an OWS 2.0 ``MimeType``, else None."""
    return value if value and _MIME.match(value) else None


# ---------------------------------------------------------------------------------------------- Capabilities


def _ows2_copy(element: etree._Element, parent: etree._Element) -> etree._Element:
    """Append a copy of an OWS 1.1 element tree to ``parent`` with every OWS name moved to OWS 2.0 (the
    ServiceIdentification and ServiceProvider sections have the same structure in both)."""
    def name(qname: str) -> str:
        return qname.replace(f"{{{OWS_NS}}}", _O, 1) if qname.startswith(f"{{{OWS_NS}}}") else qname

    copy = etree.SubElement(parent, name(element.tag), {name(k): v for k, v in element.attrib.items()})
    copy.text = element.text
    for child in element:
        if isinstance(child.tag, str):
            _ows2_copy(child, copy)
    return copy


def operations_metadata(parent: etree._Element, url: str) -> etree._Element:
    """``ows:OperationsMetadata``: every operation by GET (KVP) and POST (XML) at the one endpoint."""
    element = _sub(parent, f"{_O}OperationsMetadata")
    for operation in OPERATIONS:
        http = _sub(_sub(_sub(element, f"{_O}Operation", name=operation), f"{_O}DCP"), f"{_O}HTTP")
        if operation != "Execute":  # Execute 2.0.0 is XML POST only
            _sub(http, f"{_O}Get").set(f"{_X}href", url)
        _sub(http, f"{_O}Post").set(f"{_X}href", url)
    return element


def capabilities(*, processes: Sequence[Any], service: Mapping[str, Any], url: str, languages: Sequence[str],
                 language: str, update_sequence: str | None, sections: Sequence[str],
                 job_control: Callable[[Any], Sequence[str]], versions: Sequence[str]) -> etree._Element:
    """A WPS 2.0.0 ``wps:Capabilities``; ``sections`` (OWS 2.0 names) limits the optional sections."""
    from pywps.encode.capabilities import service_identification, service_provider

    wanted = {s.lower() for s in sections}
    everything = not wanted or "all" in wanted
    root = _root("Capabilities")
    root.set("service", "WPS")
    root.set("version", "2.0.0")
    if update_sequence:
        root.set("updateSequence", str(update_sequence))
    holder = etree.Element("holder")
    if everything or "serviceidentification" in wanted:
        _ows2_copy(service_identification(holder, service, versions), root)
    if everything or "serviceprovider" in wanted:
        _ows2_copy(service_provider(holder, service), root)
    if everything or "operationsmetadata" in wanted:
        operations_metadata(root, url)
    if everything or "languages" in wanted:
        element = _sub(root, f"{_O}Languages")
        for code in languages:
            _sub(element, f"{_O}Language", code)
    contents = _sub(root, f"{_W}Contents")  # mandatory in WPS 2.0.0, whatever the sections
    for process in processes:
        summary = _sub(contents, f"{_W}ProcessSummary")
        _process_properties(summary, process, job_control(process))
        _description(summary, process, language)
    if not len(contents):
        log.warning("no processes configured: wps:Contents is empty and the document will not validate")
    return root


# ---------------------------------------------------------------------------------------------- descriptions


def _metadata(parent: etree._Element, item: Any) -> None:
    for meta in getattr(item, "metadata", None) or ():
        element = _sub(parent, f"{_O}Metadata")
        if isinstance(meta, str):
            element.set(f"{_X}title", meta)
            continue
        get = meta.get if isinstance(meta, dict) else lambda key, m=meta: getattr(m, key, None)
        for key in ("title", "href", "role"):
            value = get(key)
            if value:
                element.set(f"{_X}{key}", str(value))


def _description(parent: etree._Element, item: Any, language: str | None) -> None:
    """Title, Abstract, Keywords, Identifier, Metadata (the WPS 2.0 DescriptionType order)."""
    _sub(parent, f"{_O}Title", get_translation(item, "title", language) or item.identifier)
    abstract = get_translation(item, "abstract", language)
    if abstract:
        _sub(parent, f"{_O}Abstract", abstract)
    keywords = [str(k) for k in getattr(item, "keywords", None) or () if str(k).strip()]
    if keywords:
        container = _sub(parent, f"{_O}Keywords")
        for keyword in keywords:
            _sub(container, f"{_O}Keyword", keyword)
    _sub(parent, f"{_O}Identifier", item.identifier)
    _metadata(parent, item)


def _process_properties(element: etree._Element, process: Any, job_control: Sequence[str]) -> None:
    element.set("jobControlOptions", " ".join(job_control))
    outputs = getattr(process, "outputs", None) or ()
    by_reference = any(isinstance(o, ComplexOutput) for o in outputs)
    element.set("outputTransmission", "value reference" if by_reference else "value")
    version = str(getattr(process, "version", "") or "")
    if _VERSION.match(version):
        element.set("processVersion", version)


def _format(parent: etree._Element, mime: str | None, encoding: str | None = None, schema: str | None = None,
            default: bool = False, megabytes: int | None = None) -> None:
    element = _sub(parent, f"{_W}Format")
    if mime_type(mime):
        element.set("mimeType", mime)  # type: ignore[arg-type]
    if encoding:
        element.set("encoding", encoding)
    if schema:
        element.set("schema", schema)
    if megabytes and int(megabytes) > 0:
        element.set("maximumMegabytes", str(int(megabytes)))
    if default:
        element.set("default", "true")


def _allowed(parent: etree._Element, item: Any) -> None:
    """AllowedValues (values and ranges), ValuesReference, or AnyValue."""
    values = getattr(item, "allowed_values", None) or ()
    allowed = [a for a in values if isinstance(a, AllowedValue)]
    reference = next((a for a in values if isinstance(a, ValuesReference)), None)
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
    elif reference is not None and reference.reference:
        element = _sub(parent, f"{_O}ValuesReference", reference.values_form or reference.reference)
        element.set(f"{_O}reference", reference.reference)
    else:
        _sub(parent, f"{_O}AnyValue")


def _literal(parent: etree._Element, item: Any) -> None:
    """``wps:LiteralData``: one ``LiteralDataDomain`` per unit of measure (the first is the default)."""
    data = _sub(parent, f"{_W}LiteralData")
    _format(data, "text/plain", default=True)
    default = None
    if getattr(item, "default", None) is not None:
        try:
            default = to_text(item.convert_value(item.default))
        except Exception:  # noqa: BLE001 - a bad default is the author's problem; show it as given
            log.warning("default %r of %s does not convert", item.default, item.identifier)
            default = str(item.default)
    for n, uom in enumerate(list(getattr(item, "uoms", None) or ()) or [None]):
        domain = _sub(data, "LiteralDataDomain")  # unqualified: dataTypes.xsd has no elementFormDefault
        if n == 0:
            domain.set("default", "true")
        _allowed(domain, item)
        _sub(domain, f"{_O}DataType", item.data_type).set(f"{_O}reference", data_type_reference(item.data_type))
        if uom is not None:
            element = _sub(domain, f"{_O}UOM", uom.uom)
            if getattr(uom, "reference", None):
                element.set(f"{_O}reference", uom.reference)
        if default is not None:
            _sub(domain, f"{_O}DefaultValue", default)


def _complex(parent: etree._Element, item: Any) -> None:
    data = _sub(parent, f"{_W}ComplexData")
    default = item.data_format or (item.supported_formats[0] if item.supported_formats else None)
    formats = list(item.supported_formats or ([default] if default else []))
    megabytes = getattr(item, "max_megabytes", None)
    for fmt in formats:
        _format(data, fmt.mime_type, fmt.encoding or None, fmt.schema or None, default=fmt is default or (
            default is not None and (fmt.mime_type, fmt.encoding, fmt.schema) ==
            (default.mime_type, default.encoding, default.schema)), megabytes=megabytes)
    if not formats:
        _format(data, "application/octet-stream", default=True)
    marked = data.findall(f"{_W}Format[@default='true']")
    for extra in marked[1:]:  # one default only
        del extra.attrib["default"]


def _bbox(parent: etree._Element, item: Any) -> None:
    data = _sub(parent, f"{_W}BoundingBoxData")
    _format(data, "text/plain", default=True)
    for n, crs in enumerate(list(item.crss or ["EPSG:4326"])):
        element = _sub(data, f"{_W}SupportedCRS", crs)
        if n == 0:
            element.set("default", "true")


def _data_description(parent: etree._Element, item: Any) -> None:
    if isinstance(item, (LiteralInput, LiteralOutput)):
        _literal(parent, item)
    elif isinstance(item, (ComplexInput, ComplexOutput)):
        _complex(parent, item)
    elif isinstance(item, (BoundingBoxInput, BoundingBoxOutput)):
        _bbox(parent, item)
    else:
        raise TypeError(f"unknown input/output type {type(item).__name__} for {item.identifier!r}")


def process_offering(process: Any, language: str | None, job_control: Sequence[str]) -> etree._Element:
    """One ``wps:ProcessOffering`` with its full ``wps:Process`` description."""
    offering = etree.Element(f"{_W}ProcessOffering", nsmap=NSMAP)
    _process_properties(offering, process, job_control)
    element = _sub(offering, f"{_W}Process")
    if language:
        element.set(_LANG, language)
    _description(element, process, language)
    for item in process.inputs:
        child = _sub(element, f"{_W}Input", minOccurs=str(max(0, int(item.min_occurs))),
                     maxOccurs=str(max(1, int(item.max_occurs))))
        _description(child, item, language)
        _data_description(child, item)
    for item in process.outputs:
        child = _sub(element, f"{_W}Output")
        _description(child, item, language)
        _data_description(child, item)
    return offering


def process_offerings(processes: Iterable[Any], language: str | None,
                      job_control: Callable[[Any], Sequence[str]]) -> etree._Element:
    """The ``wps:ProcessOfferings`` answer of DescribeProcess 2.0.0."""
    root = _root("ProcessOfferings")
    for process in processes:
        root.append(process_offering(process, language, job_control(process)))
    return root


# ---------------------------------------------------------------------------------------------- jobs


def status_info(job: JobRecord, expiration: datetime | None = None) -> etree._Element:
    """``wps:StatusInfo`` of a job as the store has it."""
    root = _root("StatusInfo")
    _sub(root, f"{_W}JobID", job.id)
    _sub(root, f"{_W}Status", STATUS[JobStatus(job.status)])
    if expiration is not None:
        _sub(root, f"{_W}ExpirationDate", timestamp(expiration))
    if job.status is JobStatus.SUCCEEDED:
        _sub(root, f"{_W}PercentCompleted", "100")
    elif job.status in (JobStatus.STARTED, JobStatus.PAUSED):
        _sub(root, f"{_W}PercentCompleted", str(max(0, min(99, int(job.percent or 0)))))
    return root


def _content(element: etree._Element, value: str | None, encoding: str | None) -> None:
    """A complex value inside ``wps:Data``: embedded XML when it is XML, else text (base64 included)."""
    if not value:
        return
    stripped = value.lstrip()
    if stripped.startswith("<") and (encoding or "").lower() != "base64":
        try:
            element.append(parse_xml(stripped))
            return
        except NoApplicableCode:
            log.debug("complex value looks like XML but does not parse; embedding it as text")
    element.text = value


def _encoding_attributes(element: etree._Element, result: OutputResult) -> None:
    if mime_type(result.mime_type):
        element.set("mimeType", result.mime_type)  # type: ignore[arg-type]
    if result.encoding:
        element.set("encoding", result.encoding)
    if result.schema:
        element.set("schema", result.schema)


def output_element(parent: etree._Element, result: OutputResult) -> etree._Element:
    """One ``wps:Output`` (DataOutputType): a reference, or the value in ``wps:Data``."""
    element = _sub(parent, f"{_W}Output", id=result.identifier)
    if result.as_reference or (result.href and result.value is None):
        reference = _sub(element, f"{_W}Reference")
        reference.set(f"{_X}href", result.href or "")
        _encoding_attributes(reference, result)
        return element
    data = _sub(element, f"{_W}Data")
    if result.kind == "literal":
        literal = _sub(data, f"{_W}LiteralValue", "" if result.value is None else result.value)
        if result.data_type:
            literal.set("dataType", data_type_reference(result.data_type))
        if result.uom:
            literal.set("uom", result.uom)
    elif result.kind == "bbox":
        bbox = _sub(data, f"{_O}BoundingBox")
        if result.crs:
            bbox.set("crs", result.crs)
        bbox.set("dimensions", str(result.dimensions or len(result.lower_corner) or 2))
        _sub(bbox, f"{_O}LowerCorner", " ".join(repr(float(v)) for v in result.lower_corner))
        _sub(bbox, f"{_O}UpperCorner", " ".join(repr(float(v)) for v in result.upper_corner))
    else:
        _encoding_attributes(data, result)
        _content(data, result.value, result.encoding)
    return element


def result_document(job_id: str, outputs: Iterable[OutputResult], expiration: datetime | None = None
                    ) -> etree._Element:
    """``wps:Result``: the outputs of a succeeded job (Execute sync, GetResult)."""
    root = _root("Result")
    _sub(root, f"{_W}JobID", job_id)
    if expiration is not None:
        _sub(root, f"{_W}ExpirationDate", timestamp(expiration))
    for result in outputs:
        output_element(root, result)
    return root
