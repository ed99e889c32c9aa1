"""Process and input/output metadata (``Metadata``, ``MetadataUrl``); also importable as ``pywps.app.Common``."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

log = logging.getLogger(__name__)


class Metadata:
    """An ``ows:Metadata`` link: title, href, role and xlink type (``type_``, stored as ``type``)."""

    def __init__(self, title: str, href: str | None = None, role: str | None = None,
                 type_: str = "simple") -> None:
        self.title = title
        self.href = href
        self.role = role
        self.type = type_

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """One item: the link as a dict, without the keys that are not set (PyWPS 4 shape)."""
        link: dict[str, Any] = {"title": self.title}
        if self.href is not None:
            link["href"] = self.href
        if self.role is not None:
            link["role"] = self.role
        link["type"] = self.type
        yield link

    @property
    def json(self) -> dict[str, Any]:
        """As a dict."""
        return {"title": self.title, "href": self.href, "role": self.role, "type": self.type}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Metadata:
        """Build from a dict (missing keys take the defaults)."""
        return cls(data["title"], data.get("href"), data.get("role"), data.get("type") or "simple")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Metadata):
            return NotImplemented
        return (self.title, self.href, self.role, self.type) == (other.title, other.href, other.role, other.type)

    def __hash__(self) -> int:
        return hash((self.title, self.href, self.role, self.type))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.title!r}, href={self.href!r}, role={self.role!r})"


class MetadataUrl(Metadata):
    """A metadata link for documentation pages; ``anonymous`` renders it as an anonymous hyperlink.

    ``anonymous`` only matters to the documentation build: it is not part of :attr:`json` nor of equality.
    """

    def __init__(self, title: str, href: str | None = None, role: str | None = None, type_: str = "simple",
                 anonymous: bool = False) -> None:
        super().__init__(title, href, role, type_)
        self.anonymous = anonymous
