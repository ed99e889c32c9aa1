"""Process descriptions as OGC API - Processes JSON: summaries, inputs and outputs as JSON Schema.

The schemas are derived from the PyWPS definitions (literal data types, allowed values and ranges,
defaults, units; complex formats as ``contentMediaType``/``contentEncoding``/``contentSchema``; bounding
boxes as the OGC bbox object) in the OpenAPI 3.0 dialect the standard uses (draft 4: boolean
``exclusiveMinimum``). Branches that can overlap (a string fits several formats) are ``anyOf``.
"""

from __future__ import annotations

import re
from typing import Any

from pywps.exceptions import NoApplicableCode
from pywps.inout.basic import get_translation
from pywps.inout.formats import is_binary_mime
from pywps.inout.inputs import BoundingBoxInput, ComplexInput, LiteralInput
from pywps.inout.literaltypes import AllowedValue, AnyValue, ValuesReference, convert, to_text
from pywps.inout.outputs import BoundingBoxOutput, ComplexOutput, LiteralOutput
from pywps.validator.allowed_value import ALLOWEDVALUETYPE

JSON_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "boolean": {"type": "boolean"},
    "integer": {"type": "integer"},
    "nonNegativeInteger": {"type": "integer", "minimum": 0},
    "positiveInteger": {"type": "integer", "minimum": 1},
    "float": {"type": "number"},
    "scale": {"type": "number"},
    "angle": {"type": "number"},
    "anyURI": {"type": "string", "format": "uri"},
    "dateTime": {"type": "string", "format": "date-time"},
    "date": {"type": "string", "format": "date"},
    "time": {"type": "string", "format": "time"},
}
JSON_MEDIA = re.compile(r"^application/([\w.\-]+\+)?json\b", re.IGNORECASE)
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_EPSG = re.compile(r"^(?:urn:ogc:def:crs:)?epsg:(?::)?(?:[\d.]*:)?(\d+)$", re.IGNORECASE)


def crs_uri(crs: str | None) -> str:
    """An OGC CRS URI for a PyWPS CRS name (``EPSG:4326`` -> ``http://www.opengis.net/def/crs/EPSG/0/4326``)."""
    if not crs:
        return CRS84
    match = _EPSG.match(crs.strip())
    if match:
        return f"http://www.opengis.net/def/crs/EPSG/0/{match.group(1)}"
    return crs


def is_json_media(mime: str | None) -> bool:
    return bool(mime and JSON_MEDIA.match(mime.strip()))


def json_value(data_type: str, value: Any) -> Any:
    """A literal value as the JSON type of its data type (text when it has none: NaN, dates)."""
    try:
        converted = convert(data_type, value)
    except (NoApplicableCode, ValueError, TypeError):  # a value the type cannot read is shown as text
        return str(value)
    if isinstance(converted, bool) or (isinstance(converted, int) and JSON_TYPES.get(data_type, {}).get(
            "type") == "integer"):
        return converted
    if isinstance(converted, float) and JSON_TYPES.get(data_type, {}).get("type") == "number":
        return converted if converted == converted and abs(converted) != float("inf") else str(value)
    if isinstance(converted, str):
        return converted
    return to_text(converted)


def _range_schema(data_type: str, allowed: AllowedValue) -> dict[str, Any]:
    schema: dict[str, Any] = dict(JSON_TYPES.get(data_type, {"type": "string"}))
    closure = (allowed.range_closure or "closed").lower()
    if allowed.minval is not None:
        schema["minimum"] = json_value(data_type, allowed.minval)
        if closure in ("open", "open-closed"):
            schema["exclusiveMinimum"] = True
    if allowed.maxval is not None:
        schema["maximum"] = json_value(data_type, allowed.maxval)
        if closure in ("open", "closed-open"):
            schema["exclusiveMaximum"] = True
    return schema


def literal_schema(definition: Any) -> dict[str, Any]:
    """The JSON Schema of a literal input or output: type, allowed values or ranges, default, units."""
    data_type = definition.data_type
    base: dict[str, Any] = dict(JSON_TYPES.get(data_type, {"type": "string"}))
    allowed = [a for a in getattr(definition, "allowed_values", []) or []
               if not isinstance(a, (AnyValue, ValuesReference))]
    values = [json_value(data_type, a.value) for a in allowed
              if isinstance(a, AllowedValue) and a.allowed_type != ALLOWEDVALUETYPE.RANGE]
    ranges = [_range_schema(data_type, a) for a in allowed
              if isinstance(a, AllowedValue) and a.allowed_type == ALLOWEDVALUETYPE.RANGE]
    if values and not ranges:
        base["enum"] = values
    elif ranges and not values and len(ranges) == 1:
        base = ranges[0]
    elif ranges or values:
        branches = list(ranges)
        if values:
            branches.append({**JSON_TYPES.get(data_type, {"type": "string"}), "enum": values})
        base = {"anyOf": branches}
    default = getattr(definition, "default", None)
    if default is not None:
        base["default"] = json_value(data_type, default)
    uoms = [u.uom for u in getattr(definition, "uoms", []) or []]
    if uoms:
        value_schema = {k: v for k, v in base.items() if k != "default"}
        return {"anyOf": [base, {"type": "object", "required": ["value", "uom"], "properties": {
            "value": value_schema, "uom": {"type": "string", "enum": uoms}}}]}
    return base


def _format_schema(fmt: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "contentMediaType": fmt.mime_type}
    if (fmt.encoding or "").lower() == "base64" or is_binary_mime(fmt.mime_type):
        schema["contentEncoding"] = "base64"
    elif fmt.encoding and fmt.encoding.lower() not in ("binary",):
        schema["contentEncoding"] = fmt.encoding
    if fmt.schema:
        schema["contentSchema"] = fmt.schema
    return schema


def complex_schema(definition: Any) -> dict[str, Any]:
    """One branch per supported format; JSON formats also take the JSON value itself."""
    branches: list[dict[str, Any]] = []
    for fmt in definition.supported_formats or [definition.data_format]:
        branches.append(_format_schema(fmt))
        if is_json_media(fmt.mime_type):
            branches.append({"type": "object", "contentMediaType": fmt.mime_type})
    unique = []
    for branch in branches:
        if branch not in unique:
            unique.append(branch)
    return unique[0] if len(unique) == 1 else {"anyOf": unique}


def bbox_schema(definition: Any, accept_names: bool = False) -> dict[str, Any]:
    """The OGC bounding box object: corners of the declared dimensions and one of the supported CRSs."""
    dims = int(getattr(definition, "dimensions", 2) or 2)
    crss = [crs_uri(c) for c in definition.crss]
    if accept_names:  # a request may also name a CRS as the process declares it (EPSG:4326)
        crss += [c for c in definition.crss if c not in crss]
    return {"type": "object", "format": "ogc-bbox", "required": ["bbox"], "properties": {
        "bbox": {"type": "array", "items": {"type": "number"}, "minItems": 2 * dims, "maxItems": 2 * dims},
        "crs": {"type": "string", "format": "uri", "enum": crss or [CRS84], "default": crss[0] if crss else CRS84},
    }}


def io_schema(definition: Any, accept_names: bool = False) -> dict[str, Any]:
    if isinstance(definition, (LiteralInput, LiteralOutput)):
        return literal_schema(definition)
    if isinstance(definition, (ComplexInput, ComplexOutput)):
        return complex_schema(definition)
    if isinstance(definition, (BoundingBoxInput, BoundingBoxOutput)):
        return bbox_schema(definition, accept_names)
    return {}


def _described(item: Any, language: str | None) -> dict[str, Any]:
    doc: dict[str, Any] = {"title": get_translation(item, "title", language) or item.identifier}
    abstract = get_translation(item, "abstract", language)
    if abstract:
        doc["description"] = abstract
    if getattr(item, "keywords", None):
        doc["keywords"] = [str(k) for k in item.keywords]
    metadata = []
    for m in getattr(item, "metadata", []) or []:
        entry = {k: v for k, v in (("title", getattr(m, "title", None)), ("role", getattr(m, "role", None)),
                                   ("href", getattr(m, "href", None))) if v}
        if entry:
            metadata.append(entry)
    if metadata:
        doc["metadata"] = metadata
    return doc


def job_control_options(process: Any, accepts_sync: bool) -> list[str]:
    """sync-execute when the backend can wait, async-execute (and dismiss) when the process stores results."""
    options = ["sync-execute"] if accepts_sync else []
    if process.store_supported:
        options += ["async-execute", "dismiss"]
    return options or ["sync-execute"]


def process_summary(process: Any, base: str, accepts_sync: bool, language: str | None = None) -> dict[str, Any]:
    """processSummary.yaml: identification, job control options, transmission modes, links."""
    url = f"{base}processes/{process.identifier}"
    summary = {
        "id": process.identifier,
        **_described(process, language),
        "version": str(process.version) if process.version not in (None, "None") else "1.0.0",
        "jobControlOptions": job_control_options(process, accepts_sync),
        "outputTransmission": ["value", "reference"],
        "links": [
            {"href": url, "rel": "self", "type": "application/json", "title": "process description"},
            {"href": f"{url}?f=html", "rel": "alternate", "type": "text/html", "title": "process description as HTML"},
            {"href": f"{url}/execution", "rel": "http://www.opengis.net/def/rel/ogc/1.0/execute",
             "type": "application/json", "title": "execute endpoint"},
        ],
    }
    return summary


def process_description(process: Any, base: str, accepts_sync: bool, language: str | None = None
                        ) -> dict[str, Any]:
    """process.yaml: the summary plus every input and output with its JSON Schema."""
    doc = process_summary(process, base, accepts_sync, language)
    doc["inputs"] = {}
    for definition in process.inputs:
        entry = _described(definition, language)
        entry["minOccurs"] = int(definition.min_occurs)
        entry["maxOccurs"] = int(definition.max_occurs) if definition.max_occurs < 2 ** 31 else "unbounded"
        entry["schema"] = io_schema(definition)
        doc["inputs"][definition.identifier] = entry
    doc["outputs"] = {}
    for definition in process.outputs:
        entry = _described(definition, language)
        entry["schema"] = io_schema(definition)
        doc["outputs"][definition.identifier] = entry
    return doc
