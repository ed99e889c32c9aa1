"""Type aliases of the process API (PyWPS 4 API)."""

from __future__ import annotations

Translations = dict[str, dict[str, str]] | None
