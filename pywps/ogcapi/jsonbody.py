"""Reading a JSON request body as hostile input: media type, size, UTF-8, nesting depth, no NaN."""

from __future__ import annotations

import json
from typing import Any

from pywps.ogcapi.errors import OWN, ApiError, bad_request

MAX_DEPTH = 32


def _too_deep(document: Any, limit: int) -> bool:
    """Whether arrays and objects nest deeper than ``limit`` levels (iterative: no recursion)."""
    stack = [(document, 1)]
    while stack:
        value, level = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if level > limit:
            return True
        stack.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return False


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def is_json_media_type(content_type: str | None) -> bool:
    base = (content_type or "").split(";")[0].strip().lower()
    return base == "application/json" or (base.startswith("application/") and base.endswith("+json"))


def read_json(data: bytes, content_type: str | None, max_size: int) -> dict[str, Any]:
    """The JSON object in ``data``; an ApiError (415, 413, 400) for anything else."""
    if not is_json_media_type(content_type):
        raise ApiError(415, OWN + "UnsupportedMediaType", "Unsupported media type",
                       f"the request body must be application/json, not {content_type or 'unspecified'!r}")
    if max_size and len(data) > max_size:
        raise ApiError(413, OWN + "FileSizeExceeded", "Payload too large",
                       f"the request is larger than {max_size} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise bad_request(f"the request body is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        document = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        document = None
        deep = True
    except ValueError as exc:
        raise bad_request(f"the request body is not valid JSON ({exc})") from None
    else:
        deep = _too_deep(document, MAX_DEPTH)
    if deep:
        raise bad_request(f"the JSON document is nested deeper than {MAX_DEPTH} levels")
    if not isinstance(document, dict):
        raise bad_request("the request body must be a JSON object")
    return document
