"""Validate WPS/OWS documents against the official schemas bundled in ``pywps/schemas``, offline."""

from __future__ import annotations

import logging
import threading
from functools import cache
from pathlib import Path

from lxml import etree

log = logging.getLogger(__name__)

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
CATALOG = SCHEMA_DIR / "catalog.xml"

# official URL prefix -> local folder
_PREFIXES = {
    "http://schemas.opengis.net/": SCHEMA_DIR / "schemas.opengis.net",
    "https://schemas.opengis.net/": SCHEMA_DIR / "schemas.opengis.net",
    "http://www.w3.org/": SCHEMA_DIR / "www.w3.org",
    "https://www.w3.org/": SCHEMA_DIR / "www.w3.org",
}

_OGC = "schemas.opengis.net"
KINDS: dict[str, str] = {
    # WPS 1.0.0
    "capabilities": f"{_OGC}/wps/1.0.0/wpsGetCapabilities_response.xsd",
    "describe": f"{_OGC}/wps/1.0.0/wpsDescribeProcess_response.xsd",
    "execute_response": f"{_OGC}/wps/1.0.0/wpsExecute_response.xsd",
    "execute_request": f"{_OGC}/wps/1.0.0/wpsExecute_request.xsd",
    "capabilities_request": f"{_OGC}/wps/1.0.0/wpsGetCapabilities_request.xsd",
    "describe_request": f"{_OGC}/wps/1.0.0/wpsDescribeProcess_request.xsd",
    "wps": f"{_OGC}/wps/1.0.0/wpsAll.xsd",
    "exception": f"{_OGC}/ows/1.1.0/owsExceptionReport.xsd",
    # WPS 2.0 (wps.xsd declares every request and response element)
    "wps2": f"{_OGC}/wps/2.0/wps.xsd",
    "exception2": f"{_OGC}/ows/2.0/owsExceptionReport.xsd",
}
# aliases, including the WPS 1.0.0 root element local names
ALIASES: dict[str, str] = {
    "getcapabilities": "capabilities",
    "capabilities_response": "capabilities",
    "describeprocess": "describe",
    "describe_response": "describe",
    "processdescriptions": "describe",
    "executeresponse": "execute_response",
    "execute": "execute_request",
    "exceptionreport": "exception",
    "exception_report": "exception",
}

_ROOTS: dict[str, str] = {
    "{http://www.opengis.net/wps/1.0.0}Capabilities": "capabilities",
    "{http://www.opengis.net/wps/1.0.0}ProcessDescriptions": "describe",
    "{http://www.opengis.net/wps/1.0.0}ExecuteResponse": "execute_response",
    "{http://www.opengis.net/wps/1.0.0}Execute": "execute_request",
    "{http://www.opengis.net/wps/1.0.0}GetCapabilities": "capabilities_request",
    "{http://www.opengis.net/wps/1.0.0}DescribeProcess": "describe_request",
    "{http://www.opengis.net/ows/1.1}ExceptionReport": "exception",
    "{http://www.opengis.net/ows/2.0}ExceptionReport": "exception2",
}

_lock = threading.Lock()


class SchemaValidationError(ValueError):
    """A document does not validate; ``error_log`` is the lxml error log."""

    def __init__(self, message: str, error_log: etree._ListErrorLog | None = None) -> None:
        super().__init__(message)
        self.error_log = error_log


class _LocalResolver(etree.Resolver):
    """Serve official schema URLs from the bundled copies; refuse every other remote URL."""

    def resolve(self, url: str, pubid: str | None, context: object):  # type: ignore[override]
        """Map an official schema URL to its local file."""
        local = local_path(url)
        if local is not None:
            return self.resolve_filename(str(local), context)
        if url.startswith(("http://", "https://", "ftp://")):
            log.warning("schema %s is not bundled; refusing to fetch it", url)
            return self.resolve_string("", context)
        return None


def local_path(url: str) -> Path | None:
    """The bundled file for an official schema URL, or None."""
    for prefix, folder in _PREFIXES.items():
        if url.startswith(prefix):
            path = (folder / url[len(prefix):]).resolve()
            if path.is_file() and SCHEMA_DIR in path.parents:
                return path
    return None


def _parser() -> etree.XMLParser:
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    parser.resolvers.add(_LocalResolver())
    return parser


@cache
def schema(kind: str) -> etree.XMLSchema:
    """The compiled schema for a document kind (cached)."""
    kind = ALIASES.get(kind.lower(), kind.lower())
    try:
        rel = KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown schema kind {kind!r}; choose one of {', '.join(sorted(KINDS))}") from None
    doc = etree.parse(str(SCHEMA_DIR / rel), parser=_parser())
    return etree.XMLSchema(doc)


def kind_of(element: etree._Element) -> str:
    """Guess the schema kind from a document's root element."""
    tag = element.tag
    if tag in _ROOTS:
        return _ROOTS[tag]
    if isinstance(tag, str) and tag.startswith("{http://www.opengis.net/wps/2.0}"):
        return "wps2"
    raise ValueError(f"cannot tell the schema for root element {tag!r}")


def validate(document: bytes | str | etree._Element | etree._ElementTree, kind: str = "auto") -> None:
    """Validate a document against a bundled schema; raise ``SchemaValidationError`` with the error log."""
    if isinstance(document, str):
        document = document.encode("utf-8")
    if isinstance(document, bytes):
        parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
        try:
            element = etree.fromstring(document, parser=parser)
        except etree.XMLSyntaxError as exc:
            raise SchemaValidationError(f"not well-formed XML: {exc}") from None
    elif isinstance(document, etree._ElementTree):
        element = document.getroot()
    else:
        element = document
    if kind == "auto":
        kind = kind_of(element)
    xsd = schema(kind)
    with _lock:
        ok = xsd.validate(element)
        errors = xsd.error_log.filter_from_errors() if not ok else None
    if not ok:
        text = "\n".join(f"line {e.line}: {e.message}" for e in errors) if errors else "invalid"
        raise SchemaValidationError(f"document does not validate against {kind}:\n{text}", errors)


def is_valid(document: bytes | str | etree._Element, kind: str = "auto") -> bool:
    """True when the document validates."""
    try:
        validate(document, kind)
    except SchemaValidationError:
        return False
    return True
