"""Validators for literal inputs: allowed values, ranges and value references (PyWPS 4 API)."""

from __future__ import annotations

import logging
import math
from typing import Any

from pywps.validator.allowed_value import ALLOWEDVALUETYPE, RANGECLOSURETYPE
from pywps.validator.mode import MODE

log = logging.getLogger(__name__)


def validate_value(data_input: Any, mode: int) -> bool:
    """Accept any value that converted to the input's data type (conversion happens on assignment)."""
    return True


def validate_anyvalue(data_input: Any, mode: int) -> bool:
    """Accept any value."""
    return True


def validate_values_reference(data_input: Any, mode: int) -> bool:
    """Accept the value: the referenced list is not fetched."""
    return True


def _coerce(reference: Any, value: Any) -> Any:
    """Convert ``reference`` to the type of ``value`` where that makes a comparison meaningful."""
    if reference is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        if isinstance(value, str) and not isinstance(reference, str):
            return str(reference)
        return reference
    try:
        return float(reference)
    except (TypeError, ValueError):
        return reference


def _in_range(allowed: Any, value: Any) -> bool:
    """Check one value against one range AllowedValue."""
    minval = _coerce(allowed.minval, value)
    maxval = _coerce(allowed.maxval, value)
    closure = allowed.range_closure or RANGECLOSURETYPE.CLOSED
    try:
        if minval is not None:
            if closure in (RANGECLOSURETYPE.OPEN, RANGECLOSURETYPE.OPENCLOSED):
                if not value > minval:
                    return False
            elif not value >= minval:
                return False
        if maxval is not None:
            if closure in (RANGECLOSURETYPE.OPEN, RANGECLOSURETYPE.CLOSEDOPEN):
                if not value < maxval:
                    return False
            elif not value <= maxval:
                return False
        if allowed.spacing and minval is not None and isinstance(value, (int, float)):
            steps = (value - minval) / float(allowed.spacing)
            if not math.isclose(steps, round(steps), abs_tol=1e-9):
                return False
    except TypeError:
        return False
    return True


def _matches(allowed: Any, value: Any) -> bool:
    """Check one value against one AllowedValue (value or range)."""
    if allowed.allowed_type == ALLOWEDVALUETYPE.RANGE:
        return _in_range(allowed, value)
    expected = _coerce(allowed.value, value)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and isinstance(expected, float):
        return math.isclose(float(value), expected)
    return expected == value


def validate_allowed_values(data_input: Any, mode: int) -> bool:
    """Check the input's value against its allowed values and ranges."""
    if mode == MODE.NONE:
        return True
    declared = list(data_input.allowed_values or [])
    allowed = [a for a in declared if getattr(a, "allowed_type", None)]
    if len(allowed) < len(declared) or not allowed:
        return True  # AnyValue, NoValue or ValuesReference among them: any value passes, as in PyWPS 4
    value = data_input.data
    ok = any(_matches(a, value) for a in allowed)
    if not ok:
        log.debug("value %r of %s is not allowed", value, getattr(data_input, "identifier", "?"))
    return ok
