"""Process and input/output metadata links (PyWPS 4 API)."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


class Metadata:
    """An ``ows:Metadata`` link: title, href, role and xlink type."""

    def __init__(self, title: str, href: str | None = None, role: str | None = None,
                 type: str = "simple") -> None:
        self.title = title
        self.href = href
        self.role = role
        self.type = type

    def __iter__(self):  # type: ignore[no-untyped-def]
        yield "{http://www.w3.org/1999/xlink}title", self.title
        if self.href is not None:
            yield "{http://www.w3.org/1999/xlink}href", self.href
        if self.role is not None:
            yield "{http://www.w3.org/1999/xlink}role", self.role
        yield "{http://www.w3.org/1999/xlink}type", self.type

    @property
    def json(self) -> dict[str, Any]:
        """As a dict."""
        return {"title": self.title, "href": self.href, "role": self.role, "type": self.type}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Metadata:
        """Build from a dict."""
        return cls(title=data["title"], href=data.get("href"), role=data.get("role"),
                   type=data.get("type", "simple"))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Metadata) and self.json == other.json

    def __hash__(self) -> int:
        return hash((self.title, self.href, self.role))

    def __repr__(self) -> str:
        return f"Metadata({self.title!r}, href={self.href!r}, role={self.role!r})"
