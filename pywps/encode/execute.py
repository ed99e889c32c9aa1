"""WPS 1.0.0 ``wps:ExecuteResponse`` documents built from plain data (status, outputs, lineage)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from lxml import etree

from pywps.exceptions import NoApplicableCode
from pywps.jobs.model import JobRecord, JobStatus
from pywps.ows import NSMAP, OWS_NS, WPS_NS, XLINK_NS, XML_NS, XSI_NS, parse_xml, xml_bytes
from pywps.requestmodel import ExecuteRequest, InputValue, OutputRequest, OutputResult

log = logging.getLogger(__name__)

SCHEMA_LOCATION = f"{WPS_NS} http://schemas.opengis.net/wps/1.0.0/wpsExecute_response.xsd"

_W = f"{{{WPS_NS}}}"
_O = f"{{{OWS_NS}}}"
_X = f"{{{XLINK_NS}}}"
_LANG = f"{{{XML_NS}}}lang"
_SCHEMA_LOCATION = f"{{{XSI_NS}}}schemaLocation"
_PROCESS_VERSION = f"{_W}processVersion"

STATUS_ELEMENTS = {
    "accepted": "ProcessAccepted",
    "started": "ProcessStarted",
    "paused": "ProcessPaused",
    "succeeded": "ProcessSucceeded",
    "failed": "ProcessFailed",
}
_DEFAULT_MESSAGES = {
    "accepted": "Process accepted",
    "started": "Process started",
    "paused": "Process paused",
    "succeeded": "Process succeeded",
}
_SUB = etree.SubElement

# The WPS 1.0.0 status a job in each state shows (1.0.0 has no "dismissed": a dismissed job failed).
WPS_STATUS = {
    JobStatus.ACCEPTED: "accepted",
    JobStatus.STARTED: "started",
    JobStatus.PAUSED: "paused",
    JobStatus.SUCCEEDED: "succeeded",
    JobStatus.FAILED: "failed",
    JobStatus.DISMISSED: "failed",
}


class MissingProcess:
    """Stands in for a process this server no longer offers, so its jobs can still be reported."""

    def __init__(self, identifier: str) -> None:
        self.identifier, self.title, self.abstract, self.version = identifier, identifier, "", "None"
        self.metadata: list = []
        self.profile: list = []


def job_document(job: JobRecord, process: Any | None, request: ExecuteRequest, status: JobStatus, *,
                 service_url: str, status_location: str | None, language: str, percent: int | None = None,
                 message: str = "", outputs: Iterable[OutputResult] = (),
                 exception: NoApplicableCode | None = None) -> bytes:
    """The ExecuteResponse (WPS 1.0.0) of a job in ``status``: its stored status document, or the answer
    to a synchronous Execute. ``status_location`` is given when the client asked for a stored response."""
    element = execute_response(
        process=process if process is not None else MissingProcess(job.process), status=WPS_STATUS[status],
        service_instance=service_url, status_location=status_location if request.store_execute_response else None,
        creation_time=job.created, percent=percent, message=message, outputs=list(outputs),
        exception=exception, request=request, language=request.language or language,
    )
    return xml_bytes(element)


def execute_response(
    *,
    process: Any,
    status: str,
    service_instance: str,
    status_location: str | None,
    creation_time: datetime,
    percent: int | None = None,
    message: str = "",
    outputs: Iterable[OutputResult] = (),
    exception: NoApplicableCode | None = None,
    request: ExecuteRequest | None = None,
    language: str = "en-US",
) -> etree._Element:
    """Build a ``wps:ExecuteResponse`` (WPS 1.0.0) for a process in ``status``."""
    outputs = list(outputs)
    root = etree.Element(f"{_W}ExecuteResponse", nsmap=NSMAP)
    root.set(_SCHEMA_LOCATION, SCHEMA_LOCATION)
    root.set("service", "WPS")
    root.set("version", "1.0.0")
    root.set(_LANG, language or "en-US")
    root.set("serviceInstance", service_instance)
    if status_location:
        root.set("statusLocation", status_location)
    process_element(root, process)
    status_element(root, status, creation_time, percent=percent, message=message, exception=exception,
                   language=language)
    if request is not None and request.lineage:
        _lineage(root, process, request, outputs)
    if status == "succeeded" and outputs:
        container = _SUB(root, f"{_W}ProcessOutputs")
        for result in outputs:
            output_element(container, result, process)
    return root


def _text(parent: etree._Element, tag: str, text: str | None) -> etree._Element:
    element = _SUB(parent, tag)
    element.text = text
    return element


def _str(value: Any) -> str:
    return "" if value is None else str(value)


def process_element(parent: etree._Element, process: Any) -> etree._Element:
    """Append the ``wps:Process`` brief (ProcessBriefType) of a duck-typed process."""
    element = _SUB(parent, f"{_W}Process")
    element.set(_PROCESS_VERSION, _str(getattr(process, "version", None)))
    _text(element, f"{_O}Identifier", process.identifier)
    _text(element, f"{_O}Title", _str(getattr(process, "title", None)) or process.identifier)
    abstract = getattr(process, "abstract", None)
    if abstract:
        _text(element, f"{_O}Abstract", abstract)
    for meta in getattr(process, "metadata", None) or ():
        metadata_element(element, meta)
    for profile in getattr(process, "profile", None) or ():
        _text(element, f"{_W}Profile", _str(profile))
    return element


def metadata_element(parent: etree._Element, meta: Any) -> etree._Element:
    """Append an ``ows:Metadata`` from a PyWPS 4 ``Metadata`` object, a dict or a plain title string."""
    element = _SUB(parent, f"{_O}Metadata")
    if isinstance(meta, str):
        element.set(f"{_X}title", meta)
        return element
    get = meta.get if isinstance(meta, dict) else lambda name: getattr(meta, name, None)
    for name in ("title", "href", "role"):
        value = get(name)
        if value:
            element.set(f"{_X}{name}", str(value))
    return element


def status_element(parent: etree._Element, status: str, creation_time: datetime, *,
                   percent: int | None = None, message: str = "", exception: NoApplicableCode | None = None,
                   language: str = "en-US") -> etree._Element:
    """Append ``wps:Status`` for one of accepted, started, paused, succeeded, failed."""
    try:
        name = STATUS_ELEMENTS[status]
    except KeyError:
        raise ValueError(f"unknown status {status!r}") from None
    element = _SUB(parent, f"{_W}Status")
    element.set("creationTime", creation_time.isoformat(timespec="seconds"))
    child = _SUB(element, f"{_W}{name}")
    if status == "failed":
        exc = exception if exception is not None else NoApplicableCode(message or "Process failed")
        exception_report(child, exc, language)
        return element
    child.text = message or _DEFAULT_MESSAGES[status]
    if status in ("started", "paused") and percent is not None:
        child.set("percentCompleted", str(max(0, min(99, int(percent)))))
    return element


def exception_report(parent: etree._Element, exc: NoApplicableCode,
                     language: str = "en-US") -> etree._Element:
    """Append an ``ows:ExceptionReport`` for one OWS exception."""
    report = _SUB(parent, f"{_O}ExceptionReport")
    report.set("version", "1.0.0")
    report.set(_LANG, language or "en-US")
    item = _SUB(report, f"{_O}Exception")
    item.set("exceptionCode", getattr(exc, "name", None) or type(exc).__name__)
    locator = getattr(exc, "locator", "")
    if locator:
        item.set("locator", str(locator))
    description = getattr(exc, "description", None) or str(exc)
    if description:
        _text(item, f"{_O}ExceptionText", description)
    return report


def _lookup(items: Any, identifier: str) -> Any:
    for item in items or ():
        if getattr(item, "identifier", None) == identifier:
            return item
    return None


def _title(result_title: str | None, described: Any, identifier: str) -> str:
    return result_title or _str(getattr(described, "title", None)) or identifier


def _corners(parent: etree._Element, crs: str | None, dimensions: int, lower: Sequence[float],
             upper: Sequence[float]) -> None:
    if crs:
        parent.set("crs", crs)
    parent.set("dimensions", str(dimensions or len(lower)))
    _text(parent, f"{_O}LowerCorner", " ".join(repr(float(v)) for v in lower))
    _text(parent, f"{_O}UpperCorner", " ".join(repr(float(v)) for v in upper))


def _complex_content(element: etree._Element, value: str | None, encoding: str | None) -> None:
    """Put a complex value into ``element``: embedded XML when it is XML, else text."""
    if not value:
        return
    stripped = value.lstrip()
    if stripped.startswith("<") and (encoding or "").lower() != "base64":
        try:
            element.append(parse_xml(stripped))
            return
        except NoApplicableCode:
            log.debug("complex value looks like XML but does not parse; embedding it as text")
        except ValueError:
            log.debug("complex value could not be parsed; embedding it as text")
    element.text = value


def output_element(parent: etree._Element, result: OutputResult, process: Any = None) -> etree._Element:
    """Append one ``wps:Output`` (OutputDataType) for a produced output."""
    element = _SUB(parent, f"{_W}Output")
    described = _lookup(getattr(process, "outputs", None), result.identifier) if process is not None else None
    _text(element, f"{_O}Identifier", result.identifier)
    _text(element, f"{_O}Title", _title(result.title, described, result.identifier))
    abstract = result.abstract or _str(getattr(described, "abstract", None))
    if abstract:
        _text(element, f"{_O}Abstract", abstract)
    if result.as_reference or (result.href and result.value is None):
        ref = _SUB(element, f"{_W}Reference")
        ref.set("href", result.href or "")
        _encoding_attrs(ref, result.mime_type, result.encoding, result.schema)
        return element
    data = _SUB(element, f"{_W}Data")
    if result.kind == "literal":
        literal = _text(data, f"{_W}LiteralData", _str(result.value))
        if result.data_type:
            literal.set("dataType", result.data_type)
        if result.uom:
            literal.set("uom", result.uom)
    elif result.kind == "bbox":
        bbox = _SUB(data, f"{_W}BoundingBoxData")
        _corners(bbox, result.crs, result.dimensions, result.lower_corner, result.upper_corner)
    else:
        cplx = _SUB(data, f"{_W}ComplexData")
        _encoding_attrs(cplx, result.mime_type, result.encoding, result.schema)
        _complex_content(cplx, result.value, result.encoding)
    return element


def _encoding_attrs(element: etree._Element, mime_type: str | None, encoding: str | None,
                    schema: str | None) -> None:
    if mime_type:
        element.set("mimeType", mime_type)
    if encoding:
        element.set("encoding", encoding)
    if schema:
        element.set("schema", schema)


def _lineage(root: etree._Element, process: Any, request: ExecuteRequest,
             outputs: Iterable[OutputResult]) -> None:
    """Echo the request's DataInputs and OutputDefinitions (``lineage=true``)."""
    if request.inputs:
        container = _SUB(root, f"{_W}DataInputs")
        described = getattr(process, "inputs", None)
        for value in request.inputs:
            input_element(container, value, _lookup(described, value.identifier))
    definitions: Sequence[OutputRequest] = request.outputs or tuple(
        OutputRequest(identifier=o.identifier, as_reference=o.as_reference, mime_type=o.mime_type)
        for o in outputs
    )
    if definitions:
        container = _SUB(root, f"{_W}OutputDefinitions")
        for definition in definitions:
            element = _SUB(container, f"{_W}Output")
            _text(element, f"{_O}Identifier", definition.identifier)
            if definition.title:
                _text(element, f"{_O}Title", definition.title)
            if definition.abstract:
                _text(element, f"{_O}Abstract", definition.abstract)
            if definition.uom:
                element.set("uom", definition.uom)
            _encoding_attrs(element, definition.mime_type, definition.encoding, definition.schema)
            element.set("asReference", "true" if definition.as_reference else "false")


def input_element(parent: etree._Element, value: InputValue, described: Any = None) -> etree._Element:
    """Append one ``wps:Input`` (InputType) echoing a request input."""
    element = _SUB(parent, f"{_W}Input")
    _text(element, f"{_O}Identifier", value.identifier)
    title = _str(getattr(described, "title", None))
    if title:
        _text(element, f"{_O}Title", title)
    if value.kind == "reference":
        ref = _SUB(element, f"{_W}Reference")
        ref.set(f"{_X}href", value.href or "")
        ref.set("method", value.method or "GET")
        _encoding_attrs(ref, value.mime_type, value.encoding, value.schema)
        for key, val in value.headers:
            header = _SUB(ref, f"{_W}Header")
            header.set("key", key)
            header.set("value", val)
        if value.body is not None:
            _complex_content(_SUB(ref, f"{_W}Body"), value.body, None)
        elif value.body_reference:
            _SUB(ref, f"{_W}BodyReference").set(f"{_X}href", value.body_reference)
        return element
    data = _SUB(element, f"{_W}Data")
    if value.kind == "bbox":
        _corners(_SUB(data, f"{_W}BoundingBoxData"), value.crs, value.dimensions, value.lower_corner,
                 value.upper_corner)
    elif value.kind == "complex":
        cplx = _SUB(data, f"{_W}ComplexData")
        _encoding_attrs(cplx, value.mime_type, value.encoding, value.schema)
        _complex_content(cplx, value.data, value.encoding)
    else:
        literal = _text(data, f"{_W}LiteralData", _str(value.data))
        if value.data_type:
            literal.set("dataType", value.data_type)
        if value.uom:
            literal.set("uom", value.uom)
    return element
