"""Metadata for process documentation (PyWPS 4 API); Sphinx rendering is left to the docs build."""

from __future__ import annotations

import logging
from typing import Any

from pywps.app.Common import Metadata

log = logging.getLogger(__name__)


class MetadataUrl(Metadata):
    """A metadata link rendered in documentation; ``anonymous`` hides the title behind the link."""

    def __init__(self, title: str, href: str, role: str | None = None, type: str = "simple",
                 anonymous: bool = False) -> None:
        super().__init__(title, href=href, role=role, type=type)
        self.anonymous = anonymous

    @property
    def json(self) -> dict[str, Any]:
        """As a dict."""
        return {**super().json, "anonymous": self.anonymous}
