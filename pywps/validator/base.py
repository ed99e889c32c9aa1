"""The validator that accepts everything (PyWPS 4 API)."""

from __future__ import annotations

from typing import Any


def emptyvalidator(data_input: Any, mode: int) -> bool:
    """Accept any input."""
    return True
