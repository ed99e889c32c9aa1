"""An OGC API - Processes execute request (JSON) -> the shared request model (``ExecuteRequest``).

Every input is validated with ``jsonschema`` against the process's own input schema (see describe.py)
before anything else happens, so a bad value is a 400 naming its path (``inputs/a/0``) and no job exists.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft4Validator

from pywps.inout.inputs import BoundingBoxInput, ComplexInput, LiteralInput
from pywps.inout.literaltypes import to_text
from pywps.ogcapi.describe import crs_uri, io_schema, is_json_media
from pywps.ogcapi.errors import bad_request
from pywps.requestmodel import ExecuteRequest, InputValue, OutputRequest

RESPONSES = ("raw", "document")
MODES = ("value", "reference")
SUBSCRIBER_KEYS = ("successUri", "inProgressUri", "failedUri")


@dataclass(frozen=True)
class Execution:
    """What a client asked for: the request in the shared model, the response form and who to tell."""

    request: ExecuteRequest
    response: str = "raw"                 # raw | document
    subscriber: dict[str, str] = field(default_factory=dict)


def _path(parts: Any) -> str:
    return "/".join(str(p) for p in parts)


def _check(validator: Draft4Validator, value: Any, where: list[Any]) -> None:
    error = next(iter(sorted(validator.iter_errors(value), key=lambda e: len(e.absolute_path))), None)
    if error is not None:
        location = _path([*where, *error.absolute_path])
        raise bad_request(f"{location}: {error.message[:300]}", "InvalidParameterValue")


def _occurrences(value: Any) -> list[Any]:
    """An input's value as a list of occurrences (a JSON array means several; a bbox is an object)."""
    return list(value) if isinstance(value, list) else [value]


def _qualified(occurrence: Any) -> tuple[Any, dict[str, Any]]:
    """(the value itself, its qualifiers) of a bare or qualified value (``{"value": ..., "mediaType": ...}``)."""
    if isinstance(occurrence, dict) and "value" in occurrence and "bbox" not in occurrence:
        qualifiers = {k: v for k, v in occurrence.items() if k != "value"}
        for key in ("mediaType", "encoding", "uom"):
            if key in qualifiers and not isinstance(qualifiers[key], str):
                raise bad_request(f"{key} must be a string")
        if "schema" in qualifiers and not isinstance(qualifiers["schema"], (str, dict)):
            raise bad_request("schema must be a URL or an object")
        return occurrence["value"], qualifiers
    return occurrence, {}


def _literal_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return to_text(value)
    raise bad_request("a literal value must be a string, number or boolean")


def _crs_name(definition: BoundingBoxInput, crs: str | None) -> str | None:
    """The CRS as the process declares it when the request names it by URI (handlers see their own names)."""
    if not crs:
        return None
    for declared in definition.crss:
        if crs == declared or crs == crs_uri(declared):
            return declared
    return crs


def _input_value(definition: Any, occurrence: Any, where: str) -> InputValue:
    identifier = definition.identifier
    if isinstance(occurrence, dict) and "href" in occurrence:
        href = occurrence["href"]
        if not isinstance(href, str) or not href:
            raise bad_request(f"{where}: href must be a non-empty string")
        mime = occurrence.get("type")
        if mime is not None and not isinstance(mime, str):
            raise bad_request(f"{where}: type must be a string")
        if isinstance(definition, BoundingBoxInput):
            raise bad_request(f"{where}: a bounding box cannot be given by reference")
        return InputValue(identifier, kind="reference", href=href, mime_type=mime or None)
    value, qualifiers = _qualified(occurrence)
    if isinstance(definition, LiteralInput):
        return InputValue(identifier, kind="literal", data=_literal_text(value), uom=qualifiers.get("uom"))
    if isinstance(definition, BoundingBoxInput):
        corners = [float(c) for c in value["bbox"]]
        half = len(corners) // 2
        return InputValue(identifier, kind="bbox", crs=_crs_name(definition, value.get("crs")), dimensions=half,
                          lower_corner=tuple(corners[:half]), upper_corner=tuple(corners[half:]))
    mime = qualifiers.get("mediaType")
    encoding = qualifiers.get("encoding")
    schema = qualifiers.get("schema")
    if isinstance(schema, dict):
        schema = None  # an inline schema describes the value; the process's formats name schemas by URL
    if isinstance(value, str):
        data = value
        if not encoding:
            fmt = definition.find_format(mime) if mime else definition.data_format
            if fmt is not None and ((fmt.encoding or "").lower() == "base64" or _binary(fmt.mime_type)):
                encoding = "base64"
    else:  # a JSON value for a JSON format
        data = json.dumps(value)
        if not mime:
            mime = next((f.mime_type for f in definition.supported_formats if is_json_media(f.mime_type)), None)
    return InputValue(identifier, kind="complex", data=data, mime_type=mime, encoding=encoding, schema=schema)


def _binary(mime: str | None) -> bool:
    from pywps.inout.formats import is_binary_mime

    return is_binary_mime(mime)


def _validators(process: Any) -> dict[str, Draft4Validator]:
    """One validator per input, built once per process object."""
    cached = getattr(process, "_ogcapi_validators", None)
    if cached is None:
        cached = {d.identifier: Draft4Validator(io_schema(d, accept_names=True)) for d in process.inputs}
        try:
            process._ogcapi_validators = cached
        except AttributeError:
            pass
    return cached


def _inputs(process: Any, inputs: Any) -> tuple[InputValue, ...]:
    if inputs is None:
        return ()
    if not isinstance(inputs, dict):
        raise bad_request("inputs must be an object keyed by input identifier")
    validators = _validators(process)
    values: list[InputValue] = []
    for identifier, given in inputs.items():
        definition = process.get_input(identifier)
        if definition is None:
            known = ", ".join(i.identifier for i in process.inputs) or "none"
            raise bad_request(f"inputs/{identifier}: process {process.identifier!r} has no such input "
                              f"(its inputs: {known})")
        occurrences = _occurrences(given)
        if isinstance(given, list) and not occurrences:
            raise bad_request(f"inputs/{identifier}: an empty list gives no value")
        if len(occurrences) > definition.max_occurs:
            raise bad_request(f"inputs/{identifier}: takes at most {definition.max_occurs} values, "
                              f"got {len(occurrences)}")
        for n, occurrence in enumerate(occurrences):
            where: list[Any] = ["inputs", identifier] + ([n] if isinstance(given, list) else [])
            if isinstance(occurrence, dict) and "href" in occurrence:
                values.append(_input_value(definition, occurrence, _path(where)))
                continue
            value, qualifiers = _qualified(occurrence)
            if qualifiers:
                where.append("value")
            if isinstance(definition, ComplexInput) and qualifiers.get("mediaType"):
                if definition.find_format(qualifiers["mediaType"], qualifiers.get("encoding")) is None:
                    supported = ", ".join(f.mime_type for f in definition.supported_formats)
                    raise bad_request(f"{_path(where[:-1])}: media type {qualifiers['mediaType']!r} is not "
                                      f"supported (supported: {supported})")
            _check(validators[identifier], value, where)
            values.append(_input_value(definition, occurrence, _path(where)))
    return tuple(values)


def _outputs(process: Any, outputs: Any) -> tuple[OutputRequest, ...]:
    """The outputs asked for (all of them, by value, when none are named)."""
    if outputs is None or outputs == {}:
        return tuple(OutputRequest(o.identifier) for o in process.outputs)
    if not isinstance(outputs, dict):
        raise bad_request("outputs must be an object keyed by output identifier")
    wanted = []
    for identifier, options in outputs.items():
        if process.get_output(identifier) is None:
            known = ", ".join(o.identifier for o in process.outputs)
            raise bad_request(f"outputs/{identifier}: process {process.identifier!r} has no such output "
                              f"(its outputs: {known})")
        if options is None:
            options = {}
        if not isinstance(options, dict):
            raise bad_request(f"outputs/{identifier}: must be an object (format, transmissionMode)")
        mode = options.get("transmissionMode", "value")
        if mode not in MODES:
            raise bad_request(f"outputs/{identifier}/transmissionMode: must be value or reference, not {mode!r}")
        fmt = options.get("format") or {}
        if not isinstance(fmt, dict):
            raise bad_request(f"outputs/{identifier}/format: must be an object (mediaType, encoding, schema)")
        for key in ("mediaType", "encoding"):
            if fmt.get(key) is not None and not isinstance(fmt[key], str):
                raise bad_request(f"outputs/{identifier}/format/{key}: must be a string")
        schema = fmt.get("schema")
        wanted.append(OutputRequest(identifier, as_reference=mode == "reference", mime_type=fmt.get("mediaType"),
                                    encoding=fmt.get("encoding"), schema=schema if isinstance(schema, str) else None))
    return tuple(wanted)


def _subscriber(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_request("subscriber must be an object (successUri, inProgressUri, failedUri)")
    subscriber = {}
    for key in SUBSCRIBER_KEYS:
        uri = value.get(key)
        if uri is None:
            continue
        if not isinstance(uri, str) or not uri.lower().startswith(("http://", "https://")) or len(uri) > 2000:
            raise bad_request(f"subscriber/{key}: must be an http(s) URL")
        subscriber[key] = uri
    return subscriber


def parse_execute(process: Any, document: dict[str, Any], *, is_async: bool = False) -> Execution:
    """The execute document (execute.yaml) for ``process`` as an Execution; ApiError 400 when it is wrong."""
    response = document.get("response", "raw")  # execute.yaml: raw unless asked otherwise
    if response not in RESPONSES:
        raise bad_request(f"response: must be raw or document, not {response!r}")
    request = ExecuteRequest(
        identifier=process.identifier,
        inputs=_inputs(process, document.get("inputs")),
        outputs=_outputs(process, document.get("outputs")),
        store_execute_response=is_async,
        status=is_async and bool(process.status_supported),
    )
    return Execution(request, response, _subscriber(document.get("subscriber")))
