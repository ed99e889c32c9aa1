"""PyWPS 4 import path for response helpers; the handler-facing response lives in :mod:`pywps.execute`."""

from __future__ import annotations

import importlib
from typing import Any

from pywps.response.status import WPS_STATUS

__all__ = ["WPS_STATUS", "ExecuteResponse", "WPSRequest"]

_LAZY = {"ExecuteResponse": "pywps.execute", "WPSRequest": "pywps.execute"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pywps.response' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
