"""Documentation helpers (PyWPS 4 import path of ``MetadataUrl``); Sphinx rendering is left to the docs build."""

from __future__ import annotations

from pywps.app.Common import Metadata, MetadataUrl

__all__ = ["Metadata", "MetadataUrl"]
