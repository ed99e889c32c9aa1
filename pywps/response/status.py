"""Job states as PyWPS 4 numbered them (``WPS_STATUS``)."""

from __future__ import annotations

from collections import namedtuple

_WPS_STATUS = namedtuple("_WPS_STATUS", "UNKNOWN, ACCEPTED, STARTED, PAUSED, SUCCEEDED, FAILED")

WPS_STATUS = _WPS_STATUS(0, 1, 2, 3, 4, 5)
STATUS_NAMES = {value: name.lower() for name, value in WPS_STATUS._asdict().items()}
