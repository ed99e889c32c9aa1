"""Validation modes for inputs: how hard to look at the data before the handler runs."""

from __future__ import annotations


class MODE:
    """Validation mode enumeration (PyWPS 4 values)."""

    NONE = 0
    SIMPLE = 1
    STRICT = 2
    VERYSTRICT = 3
