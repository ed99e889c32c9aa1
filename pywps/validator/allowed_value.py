"""Kinds of allowed values and range closures, spelled as in OWS 1.1 (``ows:rangeClosure``)."""

from __future__ import annotations

from collections import namedtuple

_ALLOWEDVALUETYPE = namedtuple("ALLOWEDVALUETYPE", "VALUE, RANGE, LAYER")
_RANGECLOSURETYPE = namedtuple("RANGECLOSURETYPE", "OPEN, CLOSED, OPENCLOSED, CLOSEDOPEN")

ALLOWEDVALUETYPE = _ALLOWEDVALUETYPE("value", "range", "layer")
RANGECLOSURETYPE = _RANGECLOSURETYPE("open", "closed", "open-closed", "closed-open")
