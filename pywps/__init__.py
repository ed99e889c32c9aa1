"""PyWPS: an OGC Web Processing Service whose jobs run isolated from the server.

The names process authors import (PyWPS 4 compatible) are loaded lazily, so ``import pywps`` stays cheap
and the worker does not pull in the web stack.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "5.0.0.dev0"

_EXPORTS: dict[str, str] = {
    "Service": "pywps.service",
    "Process": "pywps.process",
    "LiteralInput": "pywps.inout.inputs",
    "ComplexInput": "pywps.inout.inputs",
    "BoundingBoxInput": "pywps.inout.inputs",
    "LiteralOutput": "pywps.inout.outputs",
    "ComplexOutput": "pywps.inout.outputs",
    "BoundingBoxOutput": "pywps.inout.outputs",
    "Format": "pywps.inout.formats",
    "FORMATS": "pywps.inout.formats",
    "get_format": "pywps.inout.formats",
    "UOM": "pywps.inout",
    "Metadata": "pywps.metadata",
    "get_ElementMakerForVersion": "pywps.ows",
    "get_xpath_ns": "pywps.ows",
    "NAMESPACES": "pywps.ows",
    "OWS": "pywps.ows",
    "WPS": "pywps.ows",
    "configuration": "pywps.configuration",
    "LOGGER": "pywps.logs",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pywps' has no attribute {name!r}")
    if name == "configuration":
        return importlib.import_module(module)
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
