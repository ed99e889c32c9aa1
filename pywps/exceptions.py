"""OWS exceptions: each carries its exceptionCode (class name), locator and HTTP status.

A WPS 2.0.0 request is answered with an OWS 2.0 report, the exception codes of OGC 14-065 and their HTTP
statuses (``for_wps2``); a WPS 2.0 code a WPS 1.0.0 client does not know shows it the OWS code it replaces
(``ows_code``), with the same HTTP status as before."""

from __future__ import annotations

import logging
import re
from xml.sax.saxutils import escape, quoteattr

log = logging.getLogger(__name__)


class NoApplicableCode(Exception):
    """Base OWS exception; the class name is the ``exceptionCode`` (see ``code_for``)."""

    code = 500
    version = "1.0.0"  # the WPS version of the request that failed: 2.0.0 renders an OWS 2.0 report
    ows_code = ""  # a WPS 2.0-only code: the code a WPS 1.0.0 (OWS 1.1) answer shows instead
    wps2_status: int | None = None  # the HTTP status of a WPS 2.0.0 answer, when it is not ``code``

    def __init__(self, description: str = "", locator: str = "", code: int | None = None,
                 ows_code: str | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.locator = locator
        if code is not None:
            self.code = code
        if ows_code is not None:
            self.ows_code = ows_code

    @property
    def name(self) -> str:
        """The exceptionCode of this answer (see ``code_for``)."""
        return self.code_for(self.version)

    def code_for(self, version: str) -> str:
        """The exceptionCode answered to a WPS ``version`` request: the class name, except that a WPS 1.0.0
        client is shown the OWS code a WPS 2.0-only one refines."""
        if self.ows_code and not version.startswith("2."):
            return self.ows_code
        return type(self).__name__

    def for_wps2(self) -> NoApplicableCode:
        """Mark this exception as the answer to a WPS 2.0.0 request: an OWS 2.0 report, OGC 14-065's
        exceptionCode and HTTP status."""
        self.version = "2.0.0"
        if self.wps2_status is not None:
            self.code = self.wps2_status
        return self

    def to_xml(self, version: str | None = None, lang: str = "en-US") -> bytes:
        """Render an ``ows:ExceptionReport`` document: OWS 1.1 for WPS 1.0.0, OWS 2.0 for WPS 2.0.0.

        ``version`` is the WPS version of the request (default: ``self.version``)."""
        version = version or self.version
        ows = "2.0" if version.startswith("2.") else "1.1"
        schema = "2.0" if ows == "2.0" else "1.1.0"
        report_version = "2.0.0" if ows == "2.0" else version
        locator = f" locator={quoteattr(self.locator)}" if self.locator else ""
        text = f"<ows:ExceptionText>{escape(self.description)}</ows:ExceptionText>" if self.description else ""
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows/{ows}" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'xsi:schemaLocation="http://www.opengis.net/ows/{ows} '
            f'http://schemas.opengis.net/ows/{schema}/owsExceptionReport.xsd" '
            f'version={quoteattr(report_version)} xml:lang={quoteattr(lang)}>'
            f'<ows:Exception exceptionCode="{self.code_for(version)}"{locator}>{text}</ows:Exception>'
            "</ows:ExceptionReport>"
        ).encode()

    def __str__(self) -> str:
        return f"{self.name}: {self.description}" + (f" (locator={self.locator})" if self.locator else "")


class InvalidParameterValue(NoApplicableCode):
    code = 400


class MissingParameterValue(NoApplicableCode):
    code = 400


class VersionNegotiationFailed(NoApplicableCode):
    code = 400


class InvalidUpdateSequence(NoApplicableCode):
    code = 400


class OperationNotSupported(NoApplicableCode):
    code = 501


class OptionNotSupported(NoApplicableCode):
    code = 501


class ServerBusy(NoApplicableCode):
    code = 503


class FileSizeExceeded(NoApplicableCode):
    code = 413


class StorageNotSupported(NoApplicableCode):
    code = 400


class NotEnoughStorage(NoApplicableCode):
    code = 400


# WPS 2.0.0 (OGC 14-065) exception codes: Table 41 (DescribeProcess), Table 46 (Execute), Table 48
# (GetStatus), Table 50 (GetResult); Dismiss answers NoSuchJob too. Each is a client error: HTTP 400 in a
# WPS 2.0.0 answer. The codes that refine an OWS one are its subclasses: a WPS 1.0.0 request gets the OWS
# code and status it always got (``ows_code``, ``code``); ``for_wps2`` turns them into OGC 14-065's.


class NoSuchProcess(InvalidParameterValue):
    """An identifier names no process offered here (DescribeProcess, Execute 2.0.0)."""

    ows_code = "InvalidParameterValue"
    wps2_status = 400


class NoSuchMode(InvalidParameterValue):
    """The process does not offer the requested execution mode (Execute 2.0.0)."""

    ows_code = "InvalidParameterValue"
    wps2_status = 400


class NoSuchInput(InvalidParameterValue):
    """An input identifier the process does not have; the locator names it."""

    ows_code = "InvalidParameterValue"
    wps2_status = 400


class NoSuchOutput(InvalidParameterValue):
    """An output identifier the process does not have; the locator names it."""

    ows_code = "InvalidParameterValue"
    wps2_status = 400


class NoSuchFormat(InvalidParameterValue):
    """A media type, encoding or schema the input or output (the locator) does not support."""

    ows_code = "InvalidParameterValue"
    wps2_status = 400


class TooManyInputs(InvalidParameterValue):
    """More occurrences of an input (the locator) than its maxOccurs."""

    ows_code = "InvalidParameterValue"
    wps2_status = 400


class TooManyOutputs(InvalidParameterValue):
    """An output (the locator) requested more than once in one Execute."""

    ows_code = "InvalidParameterValue"
    wps2_status = 400


class WrongInputData(InvalidParameterValue):
    """A value that does not fit its input (the locator): type, allowed values, bounding box, encoding."""

    ows_code = "InvalidParameterValue"
    wps2_status = 400


class DataNotAccessible(InvalidParameterValue):
    """A reference input (the locator) the server could not fetch: refused, unreachable or an HTTP error.

    Where the referenced server failed (no answer, 5xx), a WPS 1.0.0 client gets ``NoApplicableCode`` 500,
    as before: ``DataNotAccessible(text, locator=..., code=500, ows_code="NoApplicableCode")``."""

    ows_code = "InvalidParameterValue"
    wps2_status = 400


class SizeExceeded(FileSizeExceeded):
    """An input (the locator) larger than the server takes (``maxsingleinputsize``)."""

    ows_code = "FileSizeExceeded"
    wps2_status = 400


class NoSuchJob(NoApplicableCode):
    """The JobID names no job known here (GetStatus, GetResult, Dismiss); also a dismissed job's results."""

    code = 400


class ResultNotReady(NoApplicableCode):
    """GetResult before the job has ended."""

    code = 400


class ConfigurationError(Exception):
    """A bad configuration value; the message names file, section and key."""


# PyWPS 4 alias
InvalidRequest = InvalidParameterValue


def exception_from_dict(data: dict) -> NoApplicableCode:
    """The OWS exception a worker reported (``{"code", "locator", "text"}``); an unknown code reads as
    ``NoApplicableCode``."""
    cls = globals().get(str(data.get("code", "")))
    if not (isinstance(cls, type) and issubclass(cls, NoApplicableCode)):
        cls = NoApplicableCode
    return cls(str(data.get("text", "")), locator=str(data.get("locator", "") or ""))


# -- ProcessError: a failure a process reports to the client in its own (sanitised) words (PyWPS 4 API) --

DEFAULT_ALLOWED_CHARS = ".:!?=,;-_/"


def format_message(text: str, min_length: int = 3, max_length: int = 300,
                   allowed_chars: str | None = None) -> str:
    """Keep words and a few punctuation characters; '' when shorter than ``min_length``.

    ``text`` must be a string (a TypeError otherwise): ``ProcessError`` then falls back to its default
    message, so an exception object passed as message never reaches the client.
    """
    keep = re.escape(allowed_chars or DEFAULT_ALLOWED_CHARS)
    words = re.findall(rf"[\w{keep}]+", text)
    message = " ".join(words).strip()
    if len(message) < min_length:
        return ""
    return message[:max_length]


class ProcessError(Exception):
    """Raise in a handler to fail the job with a message the client sees (after sanitising)."""

    default_msg = "Sorry, process failed. Please check server error log."

    def __init__(self, msg: str | None = None, min_length: int = 3, max_length: int = 300,
                 allowed_chars: str | None = None) -> None:
        super().__init__(msg)
        self.msg = msg
        self.min_length = min_length
        self.max_length = max_length
        self.allowed_chars = allowed_chars or DEFAULT_ALLOWED_CHARS

    @property
    def message(self) -> str:
        """The sanitised message, or the default one when nothing presentable is left."""
        if self.msg is None:
            return self.default_msg
        try:
            text = format_message(self.msg, self.min_length, self.max_length, self.allowed_chars)
        except Exception as exc:  # noqa: BLE001 - a message that is not text: use the default one
            log.warning("formatting a ProcessError message failed: %s", exc)
            text = ""
        return text or self.default_msg

    def __str__(self) -> str:
        return self.message

