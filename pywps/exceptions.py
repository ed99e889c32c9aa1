"""OWS 1.1 exceptions: each carries its exceptionCode (class name), locator and HTTP status."""

from __future__ import annotations

import logging
import re
from xml.sax.saxutils import escape, quoteattr

log = logging.getLogger(__name__)


class NoApplicableCode(Exception):
    """Base OWS exception; the class name is the OWS ``exceptionCode``."""

    code = 500

    def __init__(self, description: str = "", locator: str = "", code: int | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.locator = locator
        if code is not None:
            self.code = code

    @property
    def name(self) -> str:
        """The OWS exceptionCode."""
        return type(self).__name__

    def to_xml(self, version: str = "1.0.0", lang: str = "en-US") -> bytes:
        """Render an ``ows:ExceptionReport`` document."""
        locator = f" locator={quoteattr(self.locator)}" if self.locator else ""
        text = f"<ows:ExceptionText>{escape(self.description)}</ows:ExceptionText>" if self.description else ""
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<ows:ExceptionReport xmlns:ows="http://www.opengis.net/ows/1.1" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://www.opengis.net/ows/1.1 '
            'http://schemas.opengis.net/ows/1.1.0/owsExceptionReport.xsd" '
            f'version={quoteattr(version)} xml:lang={quoteattr(lang)}>'
            f'<ows:Exception exceptionCode="{self.name}"{locator}>{text}</ows:Exception>'
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

