"""Sans-IO parsing of WPS requests (KVP and XML POST, WPS 1.0.0 and 2.0.0) into frozen request models."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import fields
from typing import Union
from urllib.parse import parse_qsl, unquote

from lxml import etree

from pywps.exceptions import (
    FileSizeExceeded,
    InvalidParameterValue,
    MissingParameterValue,
    NoApplicableCode,
    OperationNotSupported,
    OptionNotSupported,
    VersionNegotiationFailed,
    WrongInputData,
)
from pywps.inout.basic import parse_coordinate
from pywps.ows import OWS_NS, WPS2_NS, WPS_NS, XLINK_NS, XML_NS, parse_xml
from pywps.requestmodel import (
    SUPPORTED_VERSIONS,
    DescribeProcessRequest,
    DismissRequest,
    Execute2Request,
    ExecuteRequest,
    GetCapabilitiesRequest,
    GetResultRequest,
    GetStatusRequest,
    InputValue,
    OutputRequest,
)

log = logging.getLogger(__name__)

_SUPPORTED = ", ".join(SUPPORTED_VERSIONS)
OPERATIONS = {
    "getcapabilities": "GetCapabilities", "describeprocess": "DescribeProcess", "execute": "Execute",
}
WPS2_ONLY = {"getstatus": "GetStatus", "getresult": "GetResult", "dismiss": "Dismiss"}
JOB_REQUESTS = {"GetStatus": GetStatusRequest, "GetResult": GetResultRequest, "Dismiss": DismissRequest}

AnyRequest = Union[GetCapabilitiesRequest, DescribeProcessRequest, ExecuteRequest, Execute2Request,
                   GetStatusRequest, GetResultRequest, DismissRequest]

OWS2_NS = "http://www.opengis.net/ows/2.0"

# Clark names used on the XML path
_W = f"{{{WPS_NS}}}"
_W2 = f"{{{WPS2_NS}}}"
_O = f"{{{OWS_NS}}}"
_O2 = f"{{{OWS2_NS}}}"
_HREF = f"{{{XLINK_NS}}}href"

_TRUE = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}

# KVP attribute names (lower case) of DataInputs items -> InputValue field
_INPUT_ATTRS = {
    "mimetype": "mime_type",
    "encoding": "encoding",
    "schema": "schema",
    "uom": "uom",
    "datatype": "data_type",
    "xlink:href": "href",
    "href": "href",
    "method": "method",
}
# KVP attribute names (lower case) of ResponseDocument/RawDataOutput items -> OutputRequest field
_OUTPUT_ATTRS = {
    "asreference": "as_reference",
    "mimetype": "mime_type",
    "encoding": "encoding",
    "schema": "schema",
    "uom": "uom",
}
# A character XML 1.0 cannot carry (https://www.w3.org/TR/xml/#charsets), lone surrogates included
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# KVP parameters whose items are percent-decoded once more by the parser
_KVP_LISTS = {"datainputs": "DataInputs", "responsedocument": "ResponseDocument", "rawdataoutput": "RawDataOutput"}


# ---------------------------------------------------------------------------------------------- entry point


def parse_request(
    method: str,
    args: Mapping[str, str],
    body: bytes | None = None,
    content_type: str | None = None,
    *,
    max_request_size: int = 0,
) -> AnyRequest:
    """Parse a WPS request: KVP for GET (or form-encoded POST), XML for POST; raise OWS exceptions.

    ``content_type`` is the HTTP Content-Type of a POST: ``application/x-www-form-urlencoded`` bodies are
    KVP, anything else is XML. ``max_request_size`` (bytes, 0 = none) bounds the body."""
    limit = int(max_request_size or 0)
    is_form = bool(content_type) and content_type.split(";")[0].strip().lower() == "application/x-www-form-urlencoded"
    if method.upper() == "GET" or ((not body or not body.strip()) and is_form):
        return parse_kvp(args)
    if not body or not body.strip():  # CITE A.4.1.2: a POST is an XML request; KVP in its URL do not replace it
        raise MissingParameterValue("The POST request body is empty; POST an XML request, or use GET for KVP",
                                    locator="request")
    if limit and len(body) > limit:
        raise FileSizeExceeded(
            f"The request body is {len(body)} bytes; the maximum allowed is {limit} bytes", locator="request"
        )
    if is_form:
        try:
            form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError:
            raise InvalidParameterValue("The form-encoded body is not UTF-8", locator="request") from None
        return parse_kvp({**form, **dict(args.items())})
    try:
        return check_xml_chars(parse_xml_request(body))
    except NoApplicableCode as exc:
        if _wps2_document(body):
            exc.for_wps2()  # a WPS 2.0 request is answered with an OWS 2.0 ExceptionReport
        raise


def _wps2_document(body: bytes) -> bool:
    """Whether a (refused) XML request body is a WPS 2.0 document."""
    try:
        root = parse_xml(body.lstrip())
    except NoApplicableCode:
        return False
    return isinstance(root.tag, str) and root.tag.startswith(f"{{{WPS2_NS}}}")


# ---------------------------------------------------------------------------------------------- XML 1.0 text
#
# Everything a request carries may be echoed in a response document; lxml refuses to write what XML 1.0
# cannot carry (NUL, most C0 controls, U+FFFE/U+FFFF, lone surrogates), and a job already holding a slot
# would then fail while rendering. Such text is refused here, before anything else sees it.


def _refuse_non_xml(text: str, what: str, locator: str) -> None:
    match = _NOT_XML.search(text)
    if match:
        raise InvalidParameterValue(
            f"{what} contains the character U+{ord(match.group()):04X} (position {match.start()}), "
            "which XML 1.0 cannot represent", locator=locator)


def _xml_safe(text: str) -> str:
    """``text`` with the characters XML 1.0 cannot carry replaced (for a locator)."""
    return _NOT_XML.sub("\ufffd", text)


def _kvp_items(args: Mapping[str, str]) -> Iterable[tuple[str, str]]:
    """Every (key, value) pair, repeated keys included (werkzeug ``MultiDict``) or not (a plain dict)."""
    if hasattr(args, "getlist"):
        return args.items(multi=True)  # type: ignore[call-arg]
    return args.items()


def _check_kvp_chars(args: Mapping[str, str]) -> None:
    """Refuse KVP names and values (percent-decoded list items included) that XML 1.0 cannot carry."""
    for key, value in _kvp_items(args):
        _refuse_non_xml(key, "A parameter name", _xml_safe(key))
        name = _KVP_LISTS.get(key.lower())
        if name is None:
            _refuse_non_xml(value, f"Parameter {key!r}", key)
            continue
        for item in value.split(";"):
            if name == "DataInputs":
                identifier = unquote(item.partition("=")[0]).strip()
            else:
                identifier = unquote(_split_attributes(item, _OUTPUT_ATTRS)[0]).strip().rstrip("=").strip()
            _refuse_non_xml(identifier, f"An identifier in {name}", name)
            _refuse_non_xml(unquote(item), f"{name} item {identifier!r}", identifier or name)


# request field -> the parameter a client would recognise as locator
_LOCATORS = {
    "identifier": "identifier", "identifiers": "identifier", "language": "language",
    "accept_versions": "AcceptVersions", "update_sequence": "updateSequence", "sections": "sections",
    "job_id": "JobID", "mode": "mode", "response": "response",
}


def _strings(obj: object) -> Iterable[tuple[str, str]]:
    """(field name, text) of every string in a request model object, tuples of tuples included."""
    for f in fields(obj):  # type: ignore[arg-type]
        stack = [getattr(obj, f.name)]
        while stack:
            value = stack.pop()
            if isinstance(value, str):
                yield f.name, value
            elif isinstance(value, tuple):
                stack.extend(v for v in value if isinstance(v, (str, tuple)))


def check_xml_chars(request: AnyRequest) -> AnyRequest:
    """Return ``request`` if every text it carries can be written in XML 1.0, else raise InvalidParameterValue."""
    for name, text in _strings(request):
        _refuse_non_xml(text, f"Parameter {name!r}", _LOCATORS.get(name, name))
    if isinstance(request, Execute2Request):
        check_xml_chars(request.execute)
    if isinstance(request, ExecuteRequest):
        items = [("DataInputs", i) for i in request.inputs] + [("ResponseForm", o) for o in request.outputs]
        for parent, item in items:
            _refuse_non_xml(item.identifier, f"An identifier in {parent}", parent)
            for name, text in _strings(item):
                _refuse_non_xml(text, f"{name} of {item.identifier!r}", item.identifier)
    return request


# ---------------------------------------------------------------------------------------------- KVP


def _lower_keys(args: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in args.items()}


def parse_kvp(args: Mapping[str, str]) -> AnyRequest:
    """Parse KVP (query string) parameters; keys are case-insensitive."""
    _check_kvp_chars(args)
    kvp = _lower_keys(args)
    service = kvp.get("service")
    if service is None or not service.strip():
        raise MissingParameterValue("Parameter 'service' is missing", locator="service")
    if service.strip().upper() != "WPS":
        raise InvalidParameterValue(f"Unknown service {service!r}; this is a WPS", locator="service")
    operation = _operation(kvp.get("request"))
    if operation == "GetCapabilities":
        return _kvp_capabilities(kvp)
    if operation in JOB_REQUESTS and (kvp.get("version") or "").strip() == "1.0.0":
        raise OperationNotSupported(f"Operation {operation!r} is not supported by WPS 1.0.0; use version=2.0.0",
                                    locator="request")
    version = _version(kvp.get("version"))
    if version == "2.0.0":
        try:
            return _kvp2(kvp, operation)
        except NoApplicableCode as exc:
            exc.for_wps2()  # answered with an OWS 2.0 ExceptionReport
            raise
    language = kvp.get("language") or None
    if operation == "DescribeProcess":
        return DescribeProcessRequest(
            identifiers=_identifiers(kvp.get("identifier")), version=version, language=language
        )
    return _kvp_execute(kvp, version, language)


def _kvp2(kvp: dict[str, str], operation: str) -> AnyRequest:
    """WPS 2.0.0 KVP: DescribeProcess, GetStatus, GetResult and Dismiss (Execute 2.0.0 is XML POST only)."""
    if operation == "DescribeProcess":
        language = kvp.get("lang") or kvp.get("language") or None
        return DescribeProcessRequest(identifiers=_identifiers(kvp.get("identifier")), version="2.0.0",
                                      language=language)
    if operation == "Execute":
        raise OperationNotSupported("Execute 2.0.0 has no KVP encoding: POST a wps:Execute document "
                                    "(or use version=1.0.0 with DataInputs)", locator="request")
    job_id = (kvp.get("jobid") or "").strip()
    if not job_id:
        raise MissingParameterValue("Parameter 'jobId' is missing", locator="JobID")
    return JOB_REQUESTS[operation](job_id=job_id)


def _operation(value: str | None) -> str:
    if value is None or not value.strip():
        raise MissingParameterValue("Parameter 'request' is missing", locator="request")
    key = value.strip().lower()
    if key in OPERATIONS:
        return OPERATIONS[key]
    if key in WPS2_ONLY:
        return WPS2_ONLY[key]
    raise OperationNotSupported(f"Unknown request {value!r}", locator="request")


def _version(value: str | None) -> str:
    if value is None or not value.strip():
        raise MissingParameterValue("Parameter 'version' is missing", locator="version")
    value = value.strip()
    if value not in SUPPORTED_VERSIONS:
        raise InvalidParameterValue(
            f"Version {value!r} is not supported; use one of {_SUPPORTED}", locator="version"
        )
    return value


def _negotiate(accept: tuple[str, ...], fallback: str | None) -> str:
    if accept:
        for version in accept:
            if version in SUPPORTED_VERSIONS:
                return version
        raise VersionNegotiationFailed(
            f"None of the versions {', '.join(accept)} is supported; use one of {_SUPPORTED}",
            locator="AcceptVersions",
        )
    if fallback and fallback.strip() in SUPPORTED_VERSIONS:
        return fallback.strip()
    return "1.0.0"


def _split_list(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _kvp_capabilities(kvp: dict[str, str]) -> GetCapabilitiesRequest:
    accept = _split_list(kvp.get("acceptversions"))
    return GetCapabilitiesRequest(
        accept_versions=accept,
        update_sequence=kvp.get("updatesequence") or None,
        language=kvp.get("language") or None,
        sections=_split_list(kvp.get("sections")),
        version=_negotiate(accept, kvp.get("version")),
        accept_languages=_split_list(kvp.get("acceptlanguages")),
    )


def _identifiers(value: str | None) -> tuple[str, ...]:
    identifiers = _split_list(value)
    if not identifiers:
        raise MissingParameterValue("Parameter 'identifier' is missing", locator="identifier")
    return identifiers


def _boolean(value: str | None, name: str, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    try:
        return _TRUE[value.strip().lower()]
    except KeyError:
        raise InvalidParameterValue(f"{name} must be true or false, not {value!r}", locator=name) from None


def _strip_brackets(text: str) -> str:
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        return text[1:-1]
    return text


def _split_attributes(text: str, known: Mapping[str, str]) -> tuple[str, list[tuple[str, str]]]:
    """Split ``value@attr=v@attr=v``; an ``@`` not followed by a known attribute stays in the value."""
    pieces = text.split("@")
    head = pieces[0]
    attrs: list[list[str]] = []
    for piece in pieces[1:]:
        name, sep, val = piece.partition("=")
        if sep and name.strip().lower() in known:
            attrs.append([name.strip().lower(), val])
        elif attrs:
            attrs[-1][1] += "@" + piece
        else:
            head += "@" + piece
    return head, [(n, v) for n, v in attrs]


def parse_datainputs(text: str) -> tuple[InputValue, ...]:
    """Parse the KVP ``DataInputs`` value of OGC 05-007r7 10.2.2.1 (``a=1;b=@xlink:href=...;c=1@uom=m``)."""
    inputs: list[InputValue] = []
    for item in _strip_brackets(text).split(";"):
        if not item.strip():
            continue
        ident, sep, rest = item.partition("=")
        identifier = unquote(ident).strip()
        if not identifier:
            raise InvalidParameterValue(f"DataInputs item {item!r} has no identifier", locator="DataInputs")
        if not sep:
            raise InvalidParameterValue(f"Input {identifier!r} has no value", locator=identifier)
        value, attrs = _split_attributes(rest, _INPUT_ATTRS)
        fields: dict[str, str] = {}
        for name, val in attrs:
            fields[_INPUT_ATTRS[name]] = unquote(val)
        if "method" in fields:
            fields["method"] = fields["method"].strip().upper()
            if fields["method"] not in ("GET", "POST"):
                raise InvalidParameterValue(f"method must be GET or POST, not {fields['method']!r}",
                                            locator=identifier)
        if fields.get("href"):
            inputs.append(InputValue(identifier=identifier, kind="reference", **fields))  # type: ignore[arg-type]
        else:
            fields.pop("href", None)
            fields.pop("method", None)
            inputs.append(InputValue(identifier=identifier, kind="literal", data=unquote(value), **fields))
    return tuple(inputs)


def parse_output_definitions(text: str, locator: str = "ResponseDocument") -> tuple[OutputRequest, ...]:
    """Parse a KVP ``ResponseDocument``/``RawDataOutput`` value (``out1@asReference=true;out2``)."""
    outputs: list[OutputRequest] = []
    for item in _strip_brackets(text).split(";"):
        if not item.strip():
            continue
        head, attrs = _split_attributes(item, _OUTPUT_ATTRS)
        identifier = unquote(head).strip().rstrip("=").strip()
        if not identifier:
            raise InvalidParameterValue(f"{locator} item {item!r} has no identifier", locator=locator)
        fields: dict[str, object] = {}
        for name, val in attrs:
            if name == "asreference":
                fields["as_reference"] = _boolean(unquote(val), "asReference")
            else:
                fields[_OUTPUT_ATTRS[name]] = unquote(val)
        outputs.append(OutputRequest(identifier=identifier, **fields))  # type: ignore[arg-type]
    return tuple(outputs)


def _kvp_execute(kvp: dict[str, str], version: str, language: str | None) -> ExecuteRequest:
    identifier = (kvp.get("identifier") or "").strip()
    if not identifier:
        raise MissingParameterValue("Parameter 'identifier' is missing", locator="identifier")
    inputs = parse_datainputs(kvp["datainputs"]) if kvp.get("datainputs") else ()
    raw = kvp.get("rawdataoutput")
    document = kvp.get("responsedocument")
    if raw and document:
        raise InvalidParameterValue("Use either ResponseDocument or RawDataOutput, not both",
                                    locator="RawDataOutput")
    outputs: tuple[OutputRequest, ...] = ()
    if raw:
        outputs = parse_output_definitions(raw, "RawDataOutput")
        if len(outputs) != 1:
            raise InvalidParameterValue("RawDataOutput names exactly one output", locator="RawDataOutput")
    elif document:
        outputs = parse_output_definitions(document)
    mode = (kvp.get("mode") or "").strip().lower()  # WPS 2.0 style, harmless for 1.0.0
    store = _boolean(kvp.get("storeexecuteresponse"), "storeExecuteResponse", mode == "async")
    status = _boolean(kvp.get("status"), "status", mode == "async")
    return ExecuteRequest(
        identifier=identifier,
        inputs=inputs,
        outputs=outputs,
        raw_output=bool(raw) or (kvp.get("response") or "").strip().lower() == "raw",
        store_execute_response=store and not raw,
        status=status and not raw,
        lineage=_boolean(kvp.get("lineage"), "lineage"),
        version=version,
        language=language,
    )


def bbox_from_string(text: str, identifier: str = "") -> InputValue:
    """Reinterpret a KVP bbox string ``minx,miny,maxx,maxy[,crs[,dimensions]]`` as a bbox ``InputValue``."""
    parts = [p.strip() for p in unquote(text).split(",") if p.strip()]
    numbers: list[float] = []
    i = 0
    while i < len(parts) and (number := parse_coordinate(parts[i])) is not None:
        numbers.append(number)
        i += 1
    rest = parts[i:]
    crs = rest[0] if rest else None
    dimensions = len(numbers) // 2
    if len(rest) > 1:
        try:
            dimensions = int(rest[1])
        except ValueError:
            raise InvalidParameterValue(f"Bad bounding box dimensions {rest[1]!r}",
                                        locator=identifier) from None
    if len(numbers) < 2 or len(numbers) % 2 or len(rest) > 2 or dimensions != len(numbers) // 2:
        raise InvalidParameterValue(f"Bad bounding box {text!r}: expected minx,miny,maxx,maxy[,crs] "
                                    "with finite numbers", locator=identifier)
    half = len(numbers) // 2
    return InputValue(identifier=identifier, kind="bbox", crs=crs, dimensions=dimensions,
                      lower_corner=tuple(numbers[:half]), upper_corner=tuple(numbers[half:]))


# ---------------------------------------------------------------------------------------------- XML


def parse_xml_request(body: bytes) -> AnyRequest:
    """Parse an XML POST request body."""
    root = parse_xml(body.lstrip() if body[:1].isspace() else body)
    tag = root.tag if isinstance(root.tag, str) else ""
    ns, _, local = tag[1:].partition("}") if tag.startswith("{") else ("", "", tag)
    if ns not in (WPS_NS, WPS2_NS):
        raise InvalidParameterValue(f"Root element {local!r} is not a WPS request (namespace {ns!r})",
                                    locator="request")
    key = local.lower()
    expected = {**OPERATIONS, **WPS2_ONLY}.get(key)
    if expected is not None and local != expected:  # CITE A.4.2.2: XML names are case-sensitive
        raise InvalidParameterValue(f"Root element {local!r} is not a WPS operation; did you mean {expected!r}? "
                                    "XML element names are case-sensitive", locator="request")
    if key not in OPERATIONS:
        _only_in_wps2(ns, key, local)
    service = root.get("service")
    if service is not None and service.strip().upper() != "WPS":
        raise InvalidParameterValue(f"Unknown service {service!r}; this is a WPS", locator="service")
    if ns == WPS2_NS:
        return _xml2(root, {**OPERATIONS, **WPS2_ONLY}[key])
    if key == "getcapabilities":
        accept = tuple((v.text or "").strip() for v in root.iterfind(f"{_W}AcceptVersions/{_O}Version"))
        return GetCapabilitiesRequest(
            accept_versions=accept,
            update_sequence=root.get("updateSequence"),
            language=root.get("language") or None,
            version=_negotiate(accept, None),
        )
    version = _version(root.get("version"))
    if version != "1.0.0":
        raise InvalidParameterValue(f"Version {version!r} does not match the WPS 1.0.0 namespace",
                                    locator="version")
    language = root.get("language") or None
    if key == "describeprocess":
        identifiers = tuple((e.text or "").strip() for e in root.iterfind(f"{_O}Identifier"))
        if not identifiers or not all(identifiers):
            raise MissingParameterValue("ows:Identifier is missing", locator="identifier")
        return DescribeProcessRequest(identifiers=identifiers, version=version, language=language)
    return _xml_execute(root, language)


def _only_in_wps2(ns: str, key: str, local: str) -> None:
    """Refuse an operation outside the WPS 1.0.0 three unless it is a WPS 2.0 job operation in its namespace."""
    if ns == WPS2_NS and key in WPS2_ONLY:
        return
    if key in WPS2_ONLY:
        raise OperationNotSupported(f"Operation {local!r} is WPS 2.0.0 only: use the namespace {WPS2_NS}",
                                    locator=local)
    raise OperationNotSupported(f"Operation {local!r} is not supported", locator=local or "request")


def _text(element: etree._Element | None) -> str:
    return (element.text or "").strip() if element is not None else ""


def _xml_bool(value: str | None, name: str) -> bool:
    return _boolean(value, name, False)


def _children(element: etree._Element) -> list[etree._Element]:
    """Element children, skipping comments and processing instructions."""
    return [c for c in element if isinstance(c.tag, str)]


def _content(element: etree._Element) -> str:
    """Inline content as text: serialized XML child element(s), or the text (CDATA included)."""
    children = _children(element)
    if children:
        return "".join(
            etree.tostring(c, encoding="unicode", with_tail=False) for c in children
        )
    return "".join(element.itertext())


def _xml_execute(root: etree._Element, language: str | None) -> ExecuteRequest:
    identifier = _text(root.find(f"{_O}Identifier"))
    if not identifier:
        raise MissingParameterValue("ows:Identifier of the process is missing", locator="identifier")
    inputs = tuple(_xml_input(el) for el in root.iterfind(f"{_W}DataInputs/{_W}Input"))
    outputs: tuple[OutputRequest, ...] = ()
    raw = store = status = lineage = False
    form = root.find(f"{_W}ResponseForm")
    if form is not None:
        document = form.find(f"{_W}ResponseDocument")
        raw_el = form.find(f"{_W}RawDataOutput")
        if document is not None:
            store = _xml_bool(document.get("storeExecuteResponse"), "storeExecuteResponse")
            status = _xml_bool(document.get("status"), "status")
            lineage = _xml_bool(document.get("lineage"), "lineage")
            outputs = tuple(_xml_output(el, True) for el in document.iterfind(f"{_W}Output"))
        elif raw_el is not None:
            raw = True
            outputs = (_xml_output(raw_el, False),)
        else:
            raise MissingParameterValue("wps:ResponseForm needs ResponseDocument or RawDataOutput",
                                        locator="ResponseForm")
    return ExecuteRequest(
        identifier=identifier, inputs=inputs, outputs=outputs, raw_output=raw,
        store_execute_response=store, status=status, lineage=lineage, version="1.0.0", language=language,
    )


def _xml_output(el: etree._Element, document: bool) -> OutputRequest:
    identifier = _text(el.find(f"{_O}Identifier"))
    if not identifier:
        raise MissingParameterValue("ows:Identifier of an output is missing", locator="Output")
    title = el.find(f"{_O}Title")
    abstract = el.find(f"{_O}Abstract")
    return OutputRequest(
        identifier=identifier,
        as_reference=document and _xml_bool(el.get("asReference"), "asReference"),
        mime_type=el.get("mimeType"),
        encoding=el.get("encoding"),
        schema=el.get("schema"),
        uom=el.get("uom"),
        title=_text(title) if title is not None else None,
        abstract=_text(abstract) if abstract is not None else None,
    )


def _xml_input(el: etree._Element) -> InputValue:
    identifier = _text(el.find(f"{_O}Identifier"))
    if not identifier:
        raise MissingParameterValue("ows:Identifier of an input is missing", locator="Input")
    ref = el.find(f"{_W}Reference")
    if ref is not None:
        return _xml_reference(ref, identifier, _W)
    data = el.find(f"{_W}Data")
    if data is None:
        raise MissingParameterValue(f"Input {identifier!r} has neither wps:Data nor wps:Reference",
                                    locator=identifier)
    children = _children(data)
    if not children:
        raise MissingParameterValue(f"Input {identifier!r} has an empty wps:Data", locator=identifier)
    value = children[0]
    if value.tag == f"{_W}LiteralData":
        return InputValue(identifier=identifier, kind="literal", data=value.text or "",
                          data_type=value.get("dataType"), uom=value.get("uom"))
    if value.tag == f"{_W}ComplexData":
        return _complex(value, identifier)
    if value.tag in (f"{_W}BoundingBoxData", f"{_O}BoundingBox", f"{_O}WGS84BoundingBox"):
        return _bbox(value, identifier, _O)
    raise InvalidParameterValue(f"Input {identifier!r}: unexpected element {value.tag!r} in wps:Data",
                                locator=identifier)


def _complex(value: etree._Element, identifier: str, mime_type: str | None = None) -> InputValue:
    encoding = value.get("encoding")
    content = _content(value)
    if encoding and encoding.lower() == "base64":
        content = "".join(content.split())
    return InputValue(identifier=identifier, kind="complex", data=content, encoding=encoding,
                      mime_type=value.get("mimeType") or mime_type, schema=value.get("schema"))


def _floats(text: str, identifier: str) -> tuple[float, ...]:
    """Corner coordinates: finite decimal numbers (no NaN or INF, which a response could not echo)."""
    numbers = tuple(parse_coordinate(v) for v in text.replace(",", " ").split())
    if None in numbers:
        raise WrongInputData(f"Input {identifier!r}: coordinates must be finite numbers, not {text[:200]!r}",
                             locator=identifier)
    return numbers  # type: ignore[return-value]


def _bbox(value: etree._Element, identifier: str, ows: str) -> InputValue:
    lower = _floats(_text(value.find(f"{ows}LowerCorner")), identifier)
    upper = _floats(_text(value.find(f"{ows}UpperCorner")), identifier)
    if not lower or len(lower) != len(upper):
        raise WrongInputData(f"Input {identifier!r}: LowerCorner and UpperCorner must have the same, "
                             "non-zero number of coordinates", locator=identifier)
    crs = value.get("crs") or value.get(f"{ows}crs")
    dims = value.get("dimensions") or value.get(f"{ows}dimensions")
    try:
        dimensions = int(dims) if dims else len(lower)
    except ValueError:
        raise WrongInputData(f"Input {identifier!r}: bad dimensions {dims!r}", locator=identifier) from None
    return InputValue(identifier=identifier, kind="bbox", crs=crs, dimensions=dimensions,
                      lower_corner=lower, upper_corner=upper)


def _xml_reference(ref: etree._Element, identifier: str, wps: str) -> InputValue:
    href = ref.get(_HREF) or ref.get("href")
    if not href:
        raise MissingParameterValue(f"Input {identifier!r}: wps:Reference needs xlink:href",
                                    locator=identifier)
    method = (ref.get("method") or "GET").strip().upper()
    if method not in ("GET", "POST"):
        raise InvalidParameterValue(f"Input {identifier!r}: method must be GET or POST", locator=identifier)
    headers = tuple((h.get("key", ""), h.get("value", "")) for h in ref.iterfind(f"{wps}Header"))
    body_el = ref.find(f"{wps}Body")
    body_ref = ref.find(f"{wps}BodyReference")
    body = _content(body_el) if body_el is not None else None
    body_reference = None
    if body_ref is not None:
        body_reference = body_ref.get(_HREF) or body_ref.get("href")
        if not body_reference:
            raise MissingParameterValue(f"Input {identifier!r}: wps:BodyReference needs xlink:href",
                                        locator=identifier)
    return InputValue(
        identifier=identifier, kind="reference", href=href, method=method, headers=headers,
        body=body, body_reference=body_reference, mime_type=ref.get("mimeType"),
        encoding=ref.get("encoding"), schema=ref.get("schema"),
    )


# ---------------------------------------------------------------------------------------------- WPS 2.0 XML


def _xml2(root: etree._Element, operation: str) -> AnyRequest:
    if operation == "GetCapabilities":
        accept = tuple((v.text or "").strip() for v in root.iterfind(f"{_O2}AcceptVersions/{_O2}Version"))
        sections = tuple((v.text or "").strip() for v in root.iterfind(f"{_O2}Sections/{_O2}Section"))
        languages = [(v.text or "").strip() for v in root.iterfind(f"{_O2}AcceptLanguages/{_O2}Language")]
        return GetCapabilitiesRequest(
            accept_versions=accept, update_sequence=root.get("updateSequence"),
            language=root.get("language") or None, sections=sections, version=_negotiate(accept, "2.0.0"),
            accept_languages=tuple(v for v in languages if v),
        )
    version = _version(root.get("version"))
    if version != "2.0.0":
        raise InvalidParameterValue(f"Version {version!r} does not match the WPS 2.0 namespace",
                                    locator="version")
    language = root.get(f"{{{XML_NS}}}lang") or root.get("lang") or root.get("language") or None
    if operation in JOB_REQUESTS:
        job_id = _text(root.find(f"{_W2}JobID"))
        if not job_id:
            raise MissingParameterValue(f"wps:JobID is missing from wps:{operation}", locator="JobID")
        return JOB_REQUESTS[operation](job_id=job_id)
    if operation == "DescribeProcess":
        identifiers = tuple((e.text or "").strip() for e in root.iterfind(f"{_O2}Identifier"))
        if not identifiers or not all(identifiers):
            raise MissingParameterValue("ows:Identifier is missing", locator="identifier")
        return DescribeProcessRequest(identifiers=identifiers, version=version, language=language)
    identifier = _text(root.find(f"{_O2}Identifier"))
    if not identifier:
        raise MissingParameterValue("ows:Identifier of the process is missing", locator="identifier")
    mode = (root.get("mode") or "sync").strip().lower()
    if mode not in ("sync", "async", "auto"):
        raise InvalidParameterValue(f"mode must be sync, async or auto, not {mode!r}", locator="mode")
    response = (root.get("response") or "document").strip().lower()
    if response not in ("raw", "document"):
        raise InvalidParameterValue(f"response must be raw or document, not {response!r}", locator="response")
    inputs: list[InputValue] = []
    for el in root.iterfind(f"{_W2}Input"):
        inputs.extend(_xml2_input(el))
    outputs = tuple(
        OutputRequest(
            identifier=o.get("id", ""), as_reference=(o.get("transmission") or "value") == "reference",
            mime_type=o.get("mimeType"), encoding=o.get("encoding"), schema=o.get("schema"),
        )
        for o in root.iterfind(f"{_W2}Output")
    )
    if any(not o.identifier for o in outputs):
        raise MissingParameterValue("wps:Output needs an id", locator="Output")
    execute = ExecuteRequest(identifier=identifier, inputs=tuple(inputs), outputs=outputs,
                             raw_output=response == "raw", version="2.0.0", language=language)
    return Execute2Request(execute, mode=mode, response=response)  # type: ignore[arg-type]


def _xml2_input(el: etree._Element) -> list[InputValue]:
    identifier = el.get("id") or ""
    if not identifier:
        raise MissingParameterValue("wps:Input needs an id", locator="Input")
    ref = el.find(f"{_W2}Reference")
    if ref is not None:
        return [_xml_reference(ref, identifier, _W2)]
    nested = el.findall(f"{_W2}Input")
    if nested:
        raise OptionNotSupported(f"Nested inputs are not supported (input {identifier!r})",
                                 locator=identifier)
    data = el.find(f"{_W2}Data")
    if data is None:
        raise MissingParameterValue(f"Input {identifier!r} has neither wps:Data nor wps:Reference",
                                    locator=identifier)
    children = _children(data)
    if children and children[0].tag == f"{_W2}LiteralValue":
        lit = children[0]
        return [InputValue(identifier=identifier, kind="literal", data=lit.text or "",
                           data_type=lit.get("dataType"), uom=lit.get("uom"))]
    if children and children[0].tag in (f"{_O2}BoundingBox", f"{_O2}WGS84BoundingBox"):
        return [_bbox(children[0], identifier, _O2)]
    mime = data.get("mimeType")
    if not children and mime is None:
        return [InputValue(identifier=identifier, kind="literal", data=data.text or "")]
    return [_complex(data, identifier, mime)]

