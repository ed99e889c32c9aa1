"""PyWPS 4 import path ``pywps.app``: ``Process``, ``Metadata``, and ``Service`` (loaded lazily: no Flask here)."""

from __future__ import annotations

import importlib
from typing import Any

# Bound eagerly so that importing the submodule ``pywps.app.Process`` never shadows the class.
from pywps.app.Common import Metadata
from pywps.app.Process import Process  # the submodule first, then the class over it


def __getattr__(name: str) -> Any:
    if name == "Service":
        return importlib.import_module("pywps.service").Service
    raise AttributeError(f"module 'pywps.app' has no attribute {name!r}")


__all__ = ["Metadata", "Process", "Service"]
