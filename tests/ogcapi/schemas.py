"""The official OGC API - Processes 1.0 schemas (pywps/schemas/ogcapi-processes-1.0) as validators.

Draft 4, ``$ref`` resolved locally through a ``referencing`` registry keyed by the standard's schema URL,
``oneOf`` read as ``anyOf`` in inputValue.yaml and inputValueNoObject.yaml (see the README there).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

ROOT = Path(__file__).resolve().parents[2] / "pywps" / "schemas"
OGC = ROOT / "ogcapi-processes-1.0"
BASE = "https://schemas.opengis.net/ogcapi/processes/part1/1.0/openapi/schemas/"
ANY_OF = {"inputValue.yaml", "inputValueNoObject.yaml"}


def _load(path: Path) -> Any:
    schema = yaml.safe_load(path.read_text())
    if path.name in ANY_OF and "oneOf" in schema:
        schema["anyOf"] = schema.pop("oneOf")
    return schema


@functools.cache
def registry() -> Registry:
    resources = [(BASE + p.name, Resource(_load(p), DRAFT4)) for p in sorted(OGC.glob("*.yaml"))]
    return Registry().with_resources(resources)


@functools.cache
def validator(name: str) -> Draft4Validator:
    """A validator for one schema file (``statusInfo``, ``process``, ...)."""
    return Draft4Validator({"$ref": BASE + f"{name}.yaml"}, registry=registry())


def check(name: str, document: Any) -> Any:
    """Fail with every error when ``document`` does not validate against ``name``.yaml; return it."""
    errors = sorted(validator(name).iter_errors(document), key=lambda e: list(e.absolute_path))
    assert not errors, f"{name}.yaml: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors[:5])
    return document


@functools.cache
def openapi_validator() -> Draft4Validator:
    schema = yaml.safe_load((ROOT / "openapi-3.0" / "schema.yaml").read_text())
    return Draft4Validator(schema)


def check_openapi(document: Any) -> Any:
    errors = list(openapi_validator().iter_errors(document))
    assert not errors, "OpenAPI 3.0: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}" for e in errors[:5])
    return document


def check_response(resp: Any, name: str, status: int = 200) -> Any:
    """The JSON of a response with this status, validated against ``name``.yaml."""
    import json

    body = resp.get_data() if hasattr(resp, "get_data") else resp.content
    assert resp.status_code == status, (resp.status_code, body[:2000])
    content_type = resp.headers.get("Content-Type", "")
    assert "json" in content_type, content_type
    return check(name, json.loads(body))
