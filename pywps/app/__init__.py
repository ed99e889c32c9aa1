"""PyWPS 4 import path ``pywps.app``: ``Process``, ``Metadata``, and ``Service`` (loaded lazily: no Flask here)."""

from __future__ import annotations

import importlib
from typing import Any

from pywps.app.Process import Process  # the submodule first, then the class over it

# Bound eagerly so that importing the submodule ``pywps.app.Process`` never shadows the class.
from pywps.metadata import Metadata


def __getattr__(name: str) -> Any:
    if name == "Service":
        return importlib.import_module("pywps.service").Service
    raise AttributeError(f"module 'pywps.app' has no attribute {name!r}")


__all__ = ["Metadata", "Process", "Service"]
