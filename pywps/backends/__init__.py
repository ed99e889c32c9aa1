"""Processing backends; importing this package registers the built-in ones."""

from __future__ import annotations

import contextlib

from pywps.backends.base import Processing, RunnerState, RunnerStatus, backend_class, register

for _module in ("multiprocessing", "docker", "scheduler"):
    with contextlib.suppress(ImportError):
        __import__(f"pywps.backends.{_module}")

__all__ = ["Processing", "RunnerState", "RunnerStatus", "backend_class", "register"]
