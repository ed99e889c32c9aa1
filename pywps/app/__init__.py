"""PyWPS 4 import path ``pywps.app``: ``Process``, ``Service``, ``WPSRequest`` (loaded lazily, no Flask here)."""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "Process": "pywps.process",
    "Service": "pywps.service",
    "Metadata": "pywps.app.Common",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'pywps.app' has no attribute {name!r}")
