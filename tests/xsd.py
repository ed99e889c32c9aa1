"""Schema validation for tests: a thin re-export of :func:`pywps.xsd.validate`."""

from __future__ import annotations

from pywps.xsd import SchemaValidationError, is_valid, validate

__all__ = ["SchemaValidationError", "is_valid", "validate"]
