"""PyWPS 4 import path of :class:`pywps.process.Process`."""

from __future__ import annotations

from pywps.process import Process

__all__ = ["Process"]
