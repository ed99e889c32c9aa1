"""Run one process on one ``ExecuteRequest``: inputs in, handler call, ``OutputResult`` list out.

Import-light on purpose (no web framework, no database): the worker runs this, possibly in a container.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import math
import os
import re
import uuid as uuidlib
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pywps.exceptions import (
    InvalidParameterValue,
    MissingParameterValue,
    NoApplicableCode,
    NoSuchFormat,
    NoSuchInput,
    NoSuchOutput,
    SizeExceeded,
    TooManyInputs,
    TooManyOutputs,
    WrongInputData,
)
from pywps.inout.basic import SOURCE_TYPE, UOM, _safe_name, get_translation, parse_coordinate
from pywps.inout.formats import Format, character_set, is_binary_mime, is_xml_mime
from pywps.inout.inputs import BoundingBoxInput, ComplexInput, LiteralInput
from pywps.inout.literaltypes import to_text
from pywps.inout.outputs import BoundingBoxOutput, ComplexOutput, LiteralOutput
from pywps.inout.storage import JobStorage, bind_storage
from pywps.requestmodel import ExecuteRequest, InputValue, OutputRequest, OutputResult
from pywps.response.status import WPS_STATUS
from pywps.validator.mode import MODE

log = logging.getLogger(__name__)

StatusCallback = Callable[[str, "int | None"], None]

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>\s*")


class WPSRequest:
    """What a handler sees as ``request``: identifier, language, inputs (lists per identifier), outputs."""

    operation = "execute"

    def __init__(self, request: ExecuteRequest, inputs: dict[str, deque], outputs: dict[str, dict[str, Any]]
                 ) -> None:
        self.identifier = request.identifier
        self.version = request.version
        self.language = request.language
        self.inputs = inputs
        self.outputs = outputs
        self.raw = request.raw_output
        self.store_execute = request.store_execute_response
        self.status = request.status
        self.lineage = request.lineage
        self.is_async = request.is_async
        self.http_request = None
        self.execute_request = request

    @property
    def json(self) -> dict[str, Any]:
        """The request as a dict (PyWPS 4 shape)."""
        return {
            "operation": self.operation, "version": self.version, "language": self.language,
            "identifier": self.identifier, "identifiers": [self.identifier],
            "store_execute": self.store_execute, "status": self.status, "lineage": self.lineage,
            "inputs": {k: [i.json for i in v] for k, v in self.inputs.items()},
            "outputs": self.outputs, "raw": self.raw,
        }


class ExecuteResponse:
    """What a handler sees as ``response``: ``outputs`` to fill and ``update_status``."""

    def __init__(self, process: Any, uuid: str, outputs: dict[str, Any],
                 status_cb: StatusCallback | None = None) -> None:
        self.process = process
        self.uuid = uuid
        self.outputs = outputs
        self.status = WPS_STATUS.STARTED
        self.message = "Process started"
        self.status_percentage = 0
        self._status_cb = status_cb

    def update_status(self, message: str | None = None, status_percentage: float | None = None,
                      status: int | None = None, clean: bool = True) -> None:
        """Report progress: a message and an optional percentage (0-100)."""
        if message is not None:
            self.message = str(message)
        percent: int | None = None
        if status_percentage is not None:
            try:
                percent = max(0, min(100, int(status_percentage)))
            except (TypeError, ValueError):
                log.warning("ignoring status percentage %r", status_percentage)
        if percent is not None:
            self.status_percentage = percent
        if status is not None:
            self.status = status
        if self._status_cb is not None:
            self._status_cb(self.message, percent)

    def _update_status(self, status: int, message: str, status_percentage: float | None = None) -> None:
        """PyWPS 4 internal spelling, used by some process code."""
        self.update_status(message, status_percentage, status)


# -- helpers ---------------------------------------------------------------------------------------------
def _find_uom(definition: Any, uom: str | None) -> UOM | None:
    """The declared UOM matching a requested one; InvalidParameterValue when not declared."""
    if not uom:
        return None
    for candidate in definition.uoms:
        if candidate.uom == uom or (candidate.reference and candidate.reference == uom):
            return candidate
    if not definition.uoms:
        return UOM(uom)
    raise InvalidParameterValue(
        f"unit {uom!r} is not supported by {definition.identifier!r}", locator=definition.identifier)


def _requested_format(definition: Any, mime_type: str | None, encoding: str | None,
                      schema: str | None, *, is_input: bool = False) -> Format:
    """The supported format a request asks for (the default one when it asks for none).

    Matched on the mime type, as PyWPS 4 does: a character set (``utf-8``) on a text format that declares
    no encoding is accepted. An input sent ``base64`` needs a format declaring it, or a binary mime type.
    """
    if not mime_type and not encoding and not schema:
        return definition.data_format
    found = definition.find_format(mime_type or definition.data_format.mime_type, encoding, schema)
    if found is not None and is_input and (encoding or "").lower() == "base64" \
            and (found.encoding or "").lower() != "base64" and not is_binary_mime(found.mime_type):
        found = None  # base64 text for a text format that does not declare it
    if found is None:
        wanted = ", ".join(x for x in (mime_type, encoding, schema) if x)
        supported = ", ".join(f.mime_type + (f" ({f.encoding})" if f.encoding else "")
                              for f in definition.supported_formats)
        raise NoSuchFormat(
            f"format {wanted} is not supported by {definition.identifier!r} (supported: {supported})",
            locator=definition.identifier)
    kept = encoding if encoding and character_set(encoding) is None else None  # a character set is no format
    return Format(found.mime_type, schema=schema or found.schema or None,
                  encoding=found.encoding or kept, validate=found.validate,
                  extension=found.extension or None)


def parse_kvp_bbox(text: str, identifier: str) -> tuple[list[float], str | None, int | None]:
    """``minx,miny,maxx,maxy[,crs[,dimensions]]`` to (corners, crs, dimensions)."""
    tokens = [t.strip() for t in (text or "").split(",")]
    numbers: list[float] = []
    rest: list[str] = []
    for token in tokens:
        if rest:
            rest.append(token)
            continue
        number = parse_coordinate(token)
        if number is None:
            rest.append(token)
        else:
            numbers.append(number)
    if len(numbers) < 4 or len(numbers) % 2 or len(rest) > 2:
        raise WrongInputData(
            f"bounding box {identifier!r} must be minx,miny,maxx,maxy[,crs[,dimensions]] with finite numbers",
            locator=identifier)
    crs = (rest[0] or None) if rest else None
    dimensions = None
    if len(rest) == 2:
        try:
            dimensions = int(rest[1])
        except ValueError:
            raise WrongInputData(f"bad dimensions in bounding box {identifier!r}",
                                  locator=identifier) from None
    return numbers, crs, dimensions


def _bbox_of(value: InputValue) -> tuple[list[float], str | None, int | None]:
    """Corners, crs and dimensions of a bbox occurrence (typed or from KVP text)."""
    if value.kind == "bbox":
        corners = [*value.lower_corner, *value.upper_corner]
        if len(value.lower_corner) != len(value.upper_corner) or len(corners) < 4:
            raise WrongInputData(f"bounding box {value.identifier!r} needs two corners of equal dimension",
                                  locator=value.identifier)
        return [float(c) for c in corners], value.crs, value.dimensions
    if value.kind == "literal" and value.data is not None:
        return parse_kvp_bbox(value.data, value.identifier)
    raise WrongInputData(f"input {value.identifier!r} must be a bounding box", locator=value.identifier)


def _check_bbox(definition: BoundingBoxInput, value: InputValue) -> tuple[list[float], str | None, int]:
    """Corners, crs and dimensions of a bbox occurrence, checked against ``definition``.

    Corners are finite; there are 2 x the declared dimensions of them; lower <= upper, except in a
    geographic CRS, where a box may cross the antimeridian.
    """
    corners, crs, dimensions = _bbox_of(value)
    if not all(math.isfinite(c) for c in corners):
        raise WrongInputData(f"bounding box {value.identifier!r}: coordinates must be finite numbers",
                             locator=value.identifier)
    dims = dimensions or len(corners) // 2
    if dims != len(corners) // 2:
        raise WrongInputData(f"bounding box {value.identifier!r}: dimensions {dims} do not match "
                             f"{len(corners) // 2}-dimensional corners", locator=value.identifier)
    declared = getattr(definition, "dimensions", None)
    if declared and dims != declared:
        raise WrongInputData(f"bounding box {value.identifier!r} has {len(corners)} coordinates; "
                             f"the input is {declared}-dimensional, so it takes {2 * declared}",
                             locator=value.identifier)
    lower, upper = corners[:dims], corners[dims:]
    if any(lo > up for lo, up in zip(lower, upper, strict=True)) and not _is_geographic(crs or definition.crs):
        raise WrongInputData(f"bounding box {value.identifier!r}: lower corner above upper corner",
                             locator=value.identifier)
    return corners, crs, dims


def _is_geographic(crs: str | None) -> bool:
    """Geographic CRSs may cross the antimeridian (minx > maxx)."""
    text = (crs or "").lower()
    return any(code in text for code in ("4326", "crs84", "4258", "4269"))


def _check_literal_value(definition: LiteralInput, value: InputValue) -> LiteralInput:
    """A clone of ``definition`` holding the converted, checked value (no file access)."""
    if value.kind == "bbox":
        raise WrongInputData(f"input {value.identifier!r} is a literal, not a bounding box",
                             locator=value.identifier)
    inpt = definition.clone()
    try:
        inpt.data = value.data if value.data is not None else ""
    except InvalidParameterValue as exc:  # not of the input's data type
        raise WrongInputData(exc.description, locator=exc.locator or value.identifier) from None
    uom = _find_uom(definition, value.uom)
    if uom is not None:
        inpt.uom = uom
    mode = max(definition.valid_mode, MODE.SIMPLE)
    if not inpt.validator(inpt, mode):
        raise WrongInputData(
            f"value {to_text(inpt.data)[:100]!r} of input {value.identifier!r} is not allowed",
            locator=value.identifier)
    return inpt


def _inline_complex(value: InputValue, fmt: Format) -> str | bytes:
    """The content of a complex input given by value (base64 decoded when so encoded)."""
    data = value.data or ""
    encoding = (value.encoding or "").lower()
    if encoding == "base64":
        try:
            return base64.b64decode("".join(data.split()), validate=True)
        except (binascii.Error, ValueError):
            raise WrongInputData(f"input {value.identifier!r} is not valid base64",
                                 locator=value.identifier) from None
    return data


# -- validation without running -------------------------------------------------------------------------
def _check_outputs(process: Any, request: ExecuteRequest) -> None:
    """Unknown or repeated output identifiers, unsupported formats and units."""
    seen: set[str] = set()
    for wanted in request.outputs:
        if wanted.identifier in seen:
            raise TooManyOutputs(f"output {wanted.identifier!r} is requested more than once",
                                 locator=wanted.identifier)
        seen.add(wanted.identifier)
        definition = process.get_output(wanted.identifier)
        if definition is None:
            raise NoSuchOutput(f"process {process.identifier!r} has no output {wanted.identifier!r}",
                               locator=wanted.identifier)
        if isinstance(definition, ComplexOutput):
            _requested_format(definition, wanted.mime_type, wanted.encoding, wanted.schema)
        elif isinstance(definition, LiteralOutput):
            _find_uom(definition, wanted.uom)
    if request.raw_output and len(request.outputs) > 1:
        raise InvalidParameterValue("RawDataOutput takes exactly one output", locator="RawDataOutput")


def validate_execute_request(process: Any, request: ExecuteRequest) -> None:
    """Cheap checks before a job is accepted; raise the OWS exception the client should get."""
    known = {i.identifier for i in process.inputs}
    for value in request.inputs:
        if value.identifier not in known:
            raise NoSuchInput(f"process {process.identifier!r} has no input {value.identifier!r}",
                              locator=value.identifier)
    for definition in process.inputs:
        values = request.inputs_for(definition.identifier)
        _check_occurrences(definition, values)
        for value in values:
            if isinstance(definition, LiteralInput):
                if value.kind == "reference":
                    continue
                _check_literal_value(definition, value)
            elif isinstance(definition, ComplexInput):
                if value.kind == "bbox":
                    raise WrongInputData(f"input {value.identifier!r} is complex, not a bounding box",
                                         locator=value.identifier)
                fmt = _requested_format(definition, value.mime_type, value.encoding, value.schema, is_input=True)
                if value.kind != "reference":
                    _inline_complex(value, fmt)
            elif isinstance(definition, BoundingBoxInput):
                _check_bbox(definition, value)
    _check_outputs(process, request)


def _has_default(definition: Any) -> bool:
    return getattr(definition, "default", None) is not None


def _check_occurrences(definition: Any, values: list[InputValue]) -> None:
    if not values and definition.min_occurs > 0 and not _has_default(definition):
        raise MissingParameterValue(f"input {definition.identifier!r} is required", locator=definition.identifier)
    if values and len(values) < definition.min_occurs:
        raise MissingParameterValue(
            f"input {definition.identifier!r} needs at least {definition.min_occurs} values",
            locator=definition.identifier)
    if len(values) > definition.max_occurs:
        raise TooManyInputs(
            f"input {definition.identifier!r} takes at most {definition.max_occurs} values, got {len(values)}",
            locator=definition.identifier)


# -- building the handler's inputs ----------------------------------------------------------------------
def _fetched_path(value: InputValue, indir: Path | None) -> Path:
    """The host-fetched file of a reference input, which must stay inside ``indir``."""
    base = (indir or Path.cwd()).resolve()
    path = (base / value.file).resolve()  # type: ignore[operator]
    if path != base and base not in path.parents:
        raise InvalidParameterValue(f"input {value.identifier!r}: fetched file outside the job directory",
                                    locator=value.identifier)
    if not path.is_file():
        raise NoApplicableCode(f"input {value.identifier!r}: fetched file {value.file!r} is missing",
                               locator=value.identifier)
    return path


def _build_complex(definition: ComplexInput, value: InputValue, workdir: Path, indir: Path | None,
                   max_size: int) -> ComplexInput:
    if value.kind == "bbox":
        raise WrongInputData(f"input {value.identifier!r} is complex, not a bounding box",
                             locator=value.identifier)
    fmt = _requested_format(definition, value.mime_type, value.encoding, value.schema, is_input=True)
    inpt = definition.clone()
    inpt.workdir = str(workdir)
    if value.kind == "reference":
        inpt.method = value.method
        if value.file:
            path = _fetched_path(value, indir)
            if max_size and path.stat().st_size > max_size:
                raise SizeExceeded(f"input {value.identifier!r} is larger than {max_size} bytes",
                               locator=value.identifier)
            inpt.data_format = Format(fmt.mime_type, schema=fmt.schema or None, encoding=None,
                                      validate=fmt.validate, extension=fmt.extension or None)
            inpt.set_fetched(path, value.href)
        else:
            inpt.data_format = fmt
            inpt.url = value.href or ""
            inpt.as_reference = True
            return inpt
    else:
        content = _inline_complex(value, fmt)
        size = len(content.encode("utf-8")) if isinstance(content, str) else len(content)
        if max_size and size > max_size:
            raise SizeExceeded(f"input {value.identifier!r} is larger than {max_size} bytes",
                               locator=value.identifier)
        if isinstance(content, bytes):  # decoded: the value itself is no longer base64
            fmt = Format(fmt.mime_type, schema=fmt.schema or None, encoding=fmt.encoding or None,
                         validate=fmt.validate, extension=fmt.extension or None)
        inpt.data_format = fmt
        inpt.data = content
    if inpt.valid_mode > MODE.NONE and not inpt.validator(inpt, inpt.valid_mode):
        raise WrongInputData(
            f"input {value.identifier!r} is not valid {fmt.mime_type} (validation mode {inpt.valid_mode})",
            locator=value.identifier)
    return inpt


def _build_literal(definition: LiteralInput, value: InputValue, workdir: Path, indir: Path | None) -> LiteralInput:
    if value.kind == "reference":
        if not value.file:
            raise NoApplicableCode(f"reference input {value.identifier!r} was not fetched",
                                   locator=value.identifier)
        text = _fetched_path(value, indir).read_text(encoding="utf-8", errors="replace").strip()
        value = InputValue(value.identifier, kind="literal", data=text, uom=value.uom)
    inpt = _check_literal_value(definition, value)
    inpt.workdir = str(workdir)
    return inpt


def _build_bbox(definition: BoundingBoxInput, value: InputValue, workdir: Path) -> BoundingBoxInput:
    corners, crs, dims = _check_bbox(definition, value)
    inpt = definition.clone()
    inpt.workdir = str(workdir)
    inpt.data = corners
    if crs:
        inpt.crs = crs
    inpt.dimensions = dims
    return inpt


def _default_input(definition: Any, workdir: Path) -> Any:
    inpt = definition.clone()
    inpt.workdir = str(workdir)
    if isinstance(definition, ComplexInput):
        if definition.default_type == SOURCE_TYPE.URL:
            log.warning("default of %s is a URL; it is passed unfetched", definition.identifier)
        inpt.set_default()
    return inpt


def build_inputs(process: Any, request: ExecuteRequest, workdir: Path, indir: Path | None = None,
                 max_single_input_size: int = 0) -> dict[str, deque]:
    """The handler's ``request.inputs``: a deque of input objects per identifier."""
    known = {i.identifier for i in process.inputs}
    for value in request.inputs:
        if value.identifier not in known:
            raise NoSuchInput(f"process {process.identifier!r} has no input {value.identifier!r}",
                              locator=value.identifier)
    inputs: dict[str, deque] = OrderedDict()
    for definition in process.inputs:
        values = request.inputs_for(definition.identifier)
        _check_occurrences(definition, values)
        if not values:
            if _has_default(definition):
                inputs[definition.identifier] = deque([_default_input(definition, workdir)])
            continue
        built: deque = deque()
        for value in values:
            if isinstance(definition, LiteralInput):
                built.append(_build_literal(definition, value, workdir, indir))
            elif isinstance(definition, ComplexInput):
                built.append(_build_complex(definition, value, workdir, indir, max_single_input_size))
            elif isinstance(definition, BoundingBoxInput):
                built.append(_build_bbox(definition, value, workdir))
            else:
                raise NoApplicableCode(f"input {definition.identifier!r} has an unknown type")
        inputs[definition.identifier] = built
    return inputs


# -- outputs --------------------------------------------------------------------------------------------
def _output_requests(process: Any, request: ExecuteRequest) -> list[OutputRequest]:
    """The requested outputs, or every output (with its declared as_reference) when none are."""
    _check_outputs(process, request)
    if request.outputs:
        return list(request.outputs)
    return [OutputRequest(o.identifier, as_reference=bool(getattr(o, "as_reference", False)))
            for o in process.outputs]


def _prepare_outputs(process: Any, wanted: list[OutputRequest], workdir: Path, explicit: bool
                     ) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The handler's ``response.outputs`` (every output) and ``request.outputs`` (the requested ones)."""
    by_id = {w.identifier: w for w in wanted}
    outputs: dict[str, Any] = OrderedDict()
    described: dict[str, dict[str, Any]] = OrderedDict()
    for definition in process.outputs:
        output = definition.clone()
        output.workdir = str(workdir)
        req = by_id.get(definition.identifier)
        if req is not None:
            if isinstance(output, ComplexOutput):
                output.data_format = _requested_format(definition, req.mime_type, req.encoding, req.schema)
                if explicit:
                    output.as_reference = req.as_reference
            elif isinstance(output, LiteralOutput):
                uom = _find_uom(definition, req.uom)
                if uom is not None:
                    output.uom = uom
            described[definition.identifier] = {
                "mimetype": req.mime_type or "", "encoding": req.encoding or "", "schema": req.schema or "",
                "uom": req.uom or "", "asReference": bool(output.as_reference),
            }
        outputs[definition.identifier] = output
    return outputs, described


def _unique_file(outdir: Path, identifier: str, extension: str) -> str:
    outdir.mkdir(parents=True, exist_ok=True)
    stem = _safe_name(identifier)
    name, n = f"{stem}{extension}", 1
    while (outdir / name).exists():
        name = f"{stem}_{n}{extension}"
        n += 1
    return name


def _complex_result(output: ComplexOutput, req: OutputRequest, result: OutputResult, outdir: Path,
                    raw: bool) -> None:
    fmt = output.data_format
    result.mime_type = fmt.mime_type if fmt else None
    result.schema = (fmt.schema or None) if fmt else None
    as_reference = bool(output.as_reference) and not raw
    result.as_reference = as_reference
    if as_reference or raw:
        result.encoding = None  # the stored file holds the raw content, never base64 text
        if output.prop == "url" and not raw and output.url and not output.url.startswith("file:"):
            result.href = output.url
            return
        name = _unique_file(outdir, output.identifier, (fmt.extension if fmt else "") or "")
        output.copy_to(outdir / name)
        result.file = name
        return
    content = output.bytes
    wanted = (req.encoding or (fmt.encoding if fmt else "") or "").lower()
    text: str | None = None
    if wanted != "base64" and not is_binary_mime(result.mime_type):
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            text = None
    if text is None:
        result.value = base64.b64encode(content).decode("ascii")
        result.encoding = "base64"
    else:
        result.value = _XML_DECLARATION.sub("", text, count=1) if is_xml_mime(result.mime_type) else text
        result.encoding = (fmt.encoding or None) if fmt and fmt.encoding.lower() != "base64" else None


def _output_result(output: Any, req: OutputRequest, language: str | None, outdir: Path,
                   raw: bool) -> OutputResult | None:
    """Plain data of one output the handler filled; None when it set no value."""
    if output.prop is None or (output.prop == "data" and output.data is None):
        log.warning("process left output %r unset", output.identifier)
        return None
    title = get_translation(output, "title", language)
    abstract = get_translation(output, "abstract", language)
    if isinstance(output, LiteralOutput):
        uom = output.uom
        return OutputResult(output.identifier, "literal", title=title, abstract=abstract,
                            value=to_text(output.data), data_type=output.data_type,
                            uom=uom.uom if uom is not None else None)
    if isinstance(output, BoundingBoxOutput):
        corners = output.bbox_values()
        half = len(corners) // 2
        return OutputResult(output.identifier, "bbox", title=title, abstract=abstract, crs=output.crs,
                            dimensions=half, lower_corner=corners[:half], upper_corner=corners[half:])
    result = OutputResult(output.identifier, "complex", title=title, abstract=abstract)
    _complex_result(output, req, result, outdir, raw)
    return result


@contextlib.contextmanager
def _working_directory(path: Path) -> Iterator[None]:
    """Run the handler inside the job's workdir, as PyWPS 4 did (relative paths land there)."""
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def run_process(process: Any, request: ExecuteRequest, workdir: Path, outdir: Path, indir: Path | None = None,
                status_cb: StatusCallback | None = None, max_single_input_size: int = 0, *,
                output_url: str | None = None, job_id: str | None = None) -> list[OutputResult]:
    """Run ``process`` on ``request``; output files go to ``outdir`` (names in ``OutputResult.file``).

    ``output_url`` is where the host will serve ``outdir`` (used for MetaLink file URLs).
    Raises OWS exceptions for bad requests, ``ProcessError`` as the handler raised it, and lets any other
    handler exception propagate.
    """
    workdir = Path(workdir)
    outdir = Path(outdir)
    workdir.mkdir(parents=True, exist_ok=True)
    outdir.mkdir(parents=True, exist_ok=True)
    if request.identifier != process.identifier:
        raise InvalidParameterValue(f"request is for {request.identifier!r}, not {process.identifier!r}",
                                    locator="identifier")
    wanted = _output_requests(process, request)
    inputs = build_inputs(process, request, workdir, indir, max_single_input_size)
    outputs, described = _prepare_outputs(process, wanted, workdir, bool(request.outputs))
    wps_request = WPSRequest(request, inputs, described)
    uuid = job_id or str(uuidlib.uuid4())  # the worker's JobDir.job_id; a fresh one when run alone
    response = ExecuteResponse(process, uuid, outputs, status_cb)
    process.workdir = str(workdir)
    process.uuid = uuid
    log.info("running process %s (job %s)", process.identifier, uuid)
    storage = JobStorage(outdir, output_url)
    with bind_storage(storage), _working_directory(workdir):
        process.handler(wps_request, response)
        results = []
        for req in wanted:
            output = response.outputs.get(req.identifier)
            if output is None:
                raise NoApplicableCode(f"handler removed output {req.identifier!r}")
            result = _output_result(output, req, request.language, outdir, request.raw_output)
            if result is not None:
                results.append(result)
    return results
