"""Processing backends; importing this package registers the built-in ones."""

from __future__ import annotations

import importlib

from pywps.backends.base import UNAVAILABLE, Processing, RunnerState, RunnerStatus, backend_class, register

for _module in ("multiprocessing", "docker", "scheduler"):
    try:
        importlib.import_module(f"pywps.backends.{_module}")
    except ImportError as _exc:  # an optional dependency is missing: say so when the mode is chosen
        UNAVAILABLE[_module] = str(_exc)

__all__ = ["Processing", "RunnerState", "RunnerStatus", "backend_class", "register"]
