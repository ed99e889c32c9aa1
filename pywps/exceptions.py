"""OWS 1.1 exceptions: each carries its exceptionCode (class name), locator and HTTP status."""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr


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
