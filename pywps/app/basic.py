"""PyWPS 4 helpers: namespace-aware xpath, element makers, XML responses."""

from __future__ import annotations

import logging
from typing import Any

from pywps.ows import get_ElementMakerForVersion, get_xpath_ns, xml_bytes

log = logging.getLogger(__name__)

__all__ = ["get_ElementMakerForVersion", "get_xpath_ns", "get_response_type", "get_default_response_mimetype",
           "xml_response", "make_response"]


def get_default_response_mimetype() -> str:
    """The mime type of WPS responses."""
    return "text/xml"


def get_response_type(accept_mimetypes: Any, default_mimetype: str = "text/xml") -> tuple[bool, str]:
    """(is JSON, mime type) chosen from an Accept header value or a werkzeug MIMEAccept."""
    text = str(accept_mimetypes or "")
    if "application/json" in text and "xml" not in text:
        return True, "application/json"
    return False, default_mimetype


def make_response(doc: Any, content_type: str = "text/xml", status: int = 200) -> Any:
    """A werkzeug Response for bytes, text or an lxml element (imports werkzeug only when called)."""
    from werkzeug.wrappers import Response

    if hasattr(doc, "tag"):
        doc = xml_bytes(doc)
    return Response(doc, status=status, content_type=content_type)


def xml_response(doc: Any, status: int = 200) -> Any:
    """A ``text/xml`` werkzeug Response."""
    return make_response(doc, "text/xml; charset=utf-8", status)
