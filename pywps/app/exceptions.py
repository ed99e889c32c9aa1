"""PyWPS 4 import path of ``ProcessError`` (defined in :mod:`pywps.exceptions`)."""

from __future__ import annotations

from pywps.exceptions import DEFAULT_ALLOWED_CHARS, ProcessError, format_message

__all__ = ["DEFAULT_ALLOWED_CHARS", "ProcessError", "format_message"]
