"""WPS 1.0.0 answers as JSON, with the keys and value types PyWPS 4.5+ (4.8.1) gives them.

Plain data in, dicts out: process descriptions as ``Process.json`` dicts, the ``[metadata:main]`` values,
a job's status and its ``OutputResult`` list. ``wants_json`` decides from the Accept header, the ``f``
parameter and ``[server] default_mimetype`` as PyWPS 4 does; ``dumps`` indents per ``[server] json_indent``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pywps.encode.execute import WPS_STATUS
from pywps.requestmodel import OutputResult

JSON = "application/json"
_TIME = "%Y-%m-%dT%H:%M:%SZ"
_XML_TYPES = ("application/xml", "application/gml+xml", "text/xml")
_JSON_TYPES = ("application/json", "application/geo+json")

# -- content negotiation ---------------------------------------------------------------------------


def _accept_entries(header: str | None) -> list[tuple[str, float]]:
    """(media range, quality) of an Accept header, most specific first, then by quality (as werkzeug orders
    them, which PyWPS 4 relies on; like it, a range of quality 0 still counts as named)."""
    entries = []
    for part in (header or "").split(","):
        pieces = [p.strip() for p in part.split(";")]
        quality, params = 1.0, []
        for param in pieces[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
            elif param:
                params.append(param.lower())
        media = ";".join([pieces[0].lower(), *params])
        if pieces[0]:
            entries.append((media, quality))

    def specificity(entry: tuple[str, float]) -> tuple:
        return (tuple(p != "*" for p in entry[0].replace(";", "/").split("/")), entry[1])

    return sorted(entries, key=specificity, reverse=True)  # stable: ties keep the client's order


def _covers(media_range: str, media_type: str) -> bool:
    base = media_range.split(";")[0]
    if "/" not in base:
        return False
    kind, _, sub = base.partition("/")
    wanted_kind, _, wanted_sub = media_type.partition("/")
    return kind in ("*", wanted_kind) and sub in ("*", wanted_sub)


def wants_json(accept: str | None, default_mimetype: str | None, f: str | None = None) -> bool:
    """Whether to answer JSON: PyWPS 4's rule over the Accept header and the default (``f`` or the config).

    JSON when the client accepts JSON and not XML, or accepts both (or says nothing) and JSON is the default.
    """
    entries = _accept_entries(accept)
    best = entries[0][0] if entries else None
    accepts_json = best is None or "json" in best or any(_covers(m, JSON) for m, _ in entries)
    accepts_xml = best is None or "xml" in best or any(
        _covers(m, "application/xhtml+xml") or _covers(m, "application/xml") for m, _ in entries)
    default = (f or default_mimetype or "text/xml").lower()
    json_default = "json" in default or "*" in default
    return (accepts_json and (not accepts_xml or json_default)) or (json_default and accepts_json == accepts_xml)


def dumps(document: Mapping[str, Any], indent: int | None) -> bytes:
    """The document as UTF-8 JSON; a negative indent means one line (PyWPS 4)."""
    indent = indent if indent is not None and indent >= 0 else None
    return json.dumps(document, indent=indent, ensure_ascii=True).encode("utf-8")


# -- process descriptions ---------------------------------------------------------------------------


def _keep(source: Mapping[str, Any], defaults: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """The keys named, in order, from ``source`` or the default given (a key absent from both is left out)."""
    out: dict[str, Any] = {}
    for key, default in defaults:
        out[key] = source[key] if key in source else default
    return out


def _format_fields(out: dict[str, Any], data_format: Mapping[str, Any] | None) -> None:
    """PyWPS 4 repeats the current format's mime type, encoding and schema at the top (when set)."""
    for key, name in (("mimetype", "mime_type"), ("encoding", "encoding"), ("schema", "schema")):
        if data_format and data_format.get(name):
            out[key] = data_format[name]


def _common(item: Mapping[str, Any]) -> list[tuple[str, Any]]:
    return [("identifier", item.get("identifier", "")), ("title", item.get("title") or ""),
            ("abstract", item.get("abstract") or ""), ("keywords", list(item.get("keywords") or []))]


def _input(item: Mapping[str, Any]) -> dict[str, Any]:
    kind = item.get("type")
    occurs = [("min_occurs", item.get("min_occurs", 1)), ("max_occurs", item.get("max_occurs", 1)),
              ("translations", item.get("translations"))]
    if kind == "literal":
        out = _keep(item, [*_common(item), ("metadata", []), ("type", "literal"), ("data_type", "string"),
                           ("workdir", None), ("allowed_values", []), ("any_value", False), ("mode", 1),
                           *occurs])
        for key in ("values_reference", "uoms", "uom"):
            if item.get(key):
                out[key] = item[key]
        value = item.get("data", item.get("default"))
        if value is not None:
            out["data"] = str(value)
        return out
    if kind == "bbox":
        return _keep(item, [*_common(item), ("type", "bbox"), ("crs", None), ("crss", []), ("metadata", []),
                            ("bbox", None), ("ll", []), ("ur", []), ("dimensions", 2), ("workdir", None),
                            ("mode", 0), *occurs])
    out = _keep(item, [*_common(item), ("metadata", []), ("type", "complex"), ("data_format", None),
                       ("asreference", False), ("supported_formats", []), ("workdir", None), ("mode", 0),
                       *occurs])
    out["type"] = "complex"
    for key in ("file", "href", "data"):
        if item.get(key) is not None:
            out[key] = item[key]
    _format_fields(out, out["data_format"])
    return out


def _output(item: Mapping[str, Any]) -> dict[str, Any]:
    kind = item.get("type")
    if kind == "literal":
        out = _keep(item, [*_common(item), ("data", None), ("data_type", "string"), ("type", "literal"),
                           ("uoms", []), ("translations", None)])
        if item.get("uom"):
            out["uom"] = item["uom"]
        return out
    if kind == "bbox":
        # PyWPS 4.8.1 gives a bounding box output's occurrences as text ("1")
        return _keep(item, [*_common(item), ("min_occurs", str(item.get("min_occurs", 1))),
                            ("max_occurs", str(item.get("max_occurs", 1))), ("metadata", []), ("type", "bbox"),
                            ("crs", None), ("crss", []), ("dimensions", 2), ("bbox", None), ("ll", []), ("ur", []),
                            ("workdir", None), ("mode", 0), ("translations", None)])
    reference = bool(item.get("asreference"))
    out = _keep(item, [*_common(item), ("type", "complex"), ("supported_formats", []), ("asreference", False),
                       ("data_format", None), ("file", None), ("workdir", None), ("mode", 0),
                       ("min_occurs", 1), ("max_occurs", 1), ("translations", None)])
    out["type"] = "reference" if reference else "complex"
    out["min_occurs"], out["max_occurs"] = item.get("min_occurs", 1), item.get("max_occurs", 1)
    _format_fields(out, out["data_format"])
    return out


def process(description: Mapping[str, Any]) -> dict[str, Any]:
    """One ``Process.json`` dict in PyWPS 4.8.1's shape (its keys, in its order, with its value types)."""
    out = _keep(description, [
        ("class", ""), ("uuid", None), ("workdir", None), ("version", "None"), ("identifier", ""),
        ("title", ""), ("abstract", ""), ("keywords", []), ("metadata", []), ("inputs", []), ("outputs", []),
        ("store_supported", "false"), ("status_supported", "false"), ("profile", []), ("translations", None)])
    out["uuid"] = str(out["uuid"])  # PyWPS 4 writes str(uuid): "None" before a job
    out["inputs"] = [_input(i) for i in out["inputs"]]
    out["outputs"] = [_output(o) for o in out["outputs"]]
    for key in ("store_supported", "status_supported"):
        out[key] = "true" if str(out[key]).lower() == "true" else "false"
    return out


def _split(value: str | None, sep: str = ",") -> list[str]:
    return (value or "").split(sep)


def capabilities(processes: Sequence[Mapping[str, Any]], metadata: Mapping[str, str], url: str,
                 languages: Sequence[str], language: str, version: str, server_version: str) -> dict[str, Any]:
    """GetCapabilities: the service identification, its provider and every process described."""
    m = metadata.get
    return {
        "pywps_version": server_version,
        "version": version,
        "title": m("identification_title", ""),
        "abstract": m("identification_abstract", ""),
        "keywords": _split(m("identification_keywords")),
        "keywords_type": _split(m("identification_keywords_type")),
        "fees": m("identification_fees", ""),
        "accessconstraints": _split(m("identification_accessconstraints")),
        "profile": m("identification_profile", ""),
        "provider": {
            "name": m("provider_name", ""),
            "site": m("provider_url", ""),
            "individual": m("contact_name", ""),
            "position": m("contact_position", ""),
            "voice": m("contact_phone", ""),
            "fascimile": m("contact_fax", ""),  # sic: the key PyWPS 4 clients read
            "address": {
                "delivery": m("contact_address", ""),
                "city": m("contact_city", ""),
                "state": m("contact_stateorprovince", ""),
                "postalcode": m("contact_postalcode", ""),
                "country": m("contact_country", ""),
                "email": m("contact_email", ""),
            },
            "url": m("contact_url", ""),
            "hours": m("contact_hours", ""),
            "instructions": m("contact_instructions", ""),
            "role": m("contact_role", ""),
        },
        "serviceurl": url,
        "languages": list(languages),
        "language": language,
        "processes": [process(p) for p in processes],
    }


def describe(processes: Sequence[Mapping[str, Any]], language: str, server_version: str) -> dict[str, Any]:
    """DescribeProcess: the processes asked for."""
    return {"pywps_version": server_version, "processes": [process(p) for p in processes], "language": language}


# -- Execute ------------------------------------------------------------------------------------------


def _literal(value: str | None, data_type: str | None) -> Any:
    """A literal output's text as the JSON value of its data type (PyWPS 4 returns the converted data)."""
    if value is None:
        return None
    kind = (data_type or "string").rpartition(":")[2].lower()
    try:
        if kind in ("integer", "int", "nonnegativeinteger", "positiveinteger"):
            return int(value)
        if kind in ("float", "double", "decimal", "angle", "scale"):
            return float(value)
    except ValueError:
        return value
    if kind == "boolean":
        return value.strip().lower() in ("true", "1")
    return value


def _complex(result: OutputResult) -> str:
    """A complex output by value as PyWPS 4 gives it: JSON and XML as text, other text in CDATA, or base64."""
    value = result.value or ""
    mime = (result.mime_type or "").split(";")[0].strip().lower()
    if (result.encoding or "").lower() == "base64" or mime in _JSON_TYPES or mime in _XML_TYPES:
        return value
    if value.startswith("<![CDATA[") and value.endswith("]]>") and "]]>" not in value[9:-3]:
        return value
    if "]]>" in value:  # cannot be wrapped: base64, as PyWPS 4 falls back to
        return base64.b64encode(value.encode("utf-8")).decode("ascii")
    return f"<![CDATA[{value}]]>"


def _time(moment: datetime | str | None) -> str:
    if isinstance(moment, str):
        return moment
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime(_TIME)


_MESSAGES = {"accepted": "Process accepted", "started": "Process started", "paused": "Process paused",
             "succeeded": "Process succeeded", "failed": "Process failed"}


def execute(status: str, percent: int, message: str, time: datetime | str | None,
            outputs: Sequence[OutputResult], declared: Sequence[Mapping[str, Any]],
            failure: tuple[str, str | None] | None = None) -> dict[str, Any]:
    """An Execute answer: ``{"status": {...}, "outputs": {identifier: value}}``.

    ``declared`` are the process's output descriptions (``identifier`` and ``type``), in order; as in
    PyWPS 4, literal and bounding box outputs appear with ``null`` until produced, complex outputs by
    value once produced, and outputs by reference not at all. ``failure`` is (exceptionCode, locator).
    """
    word = WPS_STATUS.get(status, str(status))  # WPS 1.0.0 has no "dismissed": a dismissed job failed
    state: dict[str, Any] = {"status": word, "time": _time(time),
                             "percent_done": str(100 if word == "succeeded" else min(int(percent or 0), 99)),
                             "message": message or _MESSAGES.get(word, "")}
    if word == "failed":
        code, locator = failure or ("NoApplicableCode", None)
        state.update(code=code, locator=str(locator))
    produced = {r.identifier: r for r in outputs}
    values: dict[str, Any] = {}
    for item in declared:
        identifier, kind = item.get("identifier", ""), item.get("type")
        result = produced.get(identifier)
        if result is not None and (result.as_reference or (result.href and result.value is None)):
            continue
        if kind == "literal" or (result is not None and result.kind == "literal"):
            values[identifier] = _literal(result.value, result.data_type) if result is not None else None
        elif kind == "bbox" or (result is not None and result.kind == "bbox"):
            values[identifier] = ([float(c) for c in (*result.lower_corner, *result.upper_corner)]
                                  if result is not None else None)
        elif result is not None and not item.get("asreference") and result.value is not None:
            values[identifier] = _complex(result)
    return {"status": state, "outputs": values}

