"""Parsed WPS requests as frozen dataclasses, JSON-serialisable so a job can travel as data.

The parsers in :mod:`pywps.request` produce these; operations, the executor and the worker consume them.
"""

from __future__ import annotations

import base64
import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal, Union

InputKind = Literal["literal", "complex", "bbox", "reference"]

# The WPS versions this server speaks, for every front-end and check (negotiation, parsing, operations)
SUPPORTED_VERSIONS: tuple[str, ...] = ("1.0.0", "2.0.0")


@dataclass(frozen=True)
class GetCapabilitiesRequest:
    accept_versions: tuple[str, ...] = ()
    update_sequence: str | None = None
    language: str | None = None
    sections: tuple[str, ...] = ()
    version: str = "1.0.0"
    accept_languages: tuple[str, ...] = ()  # OWS 2.0 AcceptLanguages: the first the server speaks, else its default


@dataclass(frozen=True)
class DescribeProcessRequest:
    identifiers: tuple[str, ...]
    version: str = "1.0.0"
    language: str | None = None


@dataclass(frozen=True)
class InputValue:
    """One occurrence of one input in an Execute request.

    ``kind`` is ``literal`` (``data`` is the text), ``complex`` (``data`` is the inline content as text:
    serialized XML, plain text, or base64 text when ``encoding='base64'``), ``bbox``
    (``crs``/``dimensions``/``lower_corner``/``upper_corner``) or ``reference`` (``href`` plus
    ``method``/``headers``/``body``/``body_reference``). ``file`` is set by the host once a reference
    has been fetched into the job directory (path relative to the job directory).
    """

    identifier: str
    kind: InputKind = "literal"
    data: str | None = None
    data_type: str | None = None
    uom: str | None = None
    mime_type: str | None = None
    encoding: str | None = None
    schema: str | None = None
    href: str | None = None
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    body_reference: str | None = None
    crs: str | None = None
    dimensions: int = 2
    lower_corner: tuple[float, ...] = ()
    upper_corner: tuple[float, ...] = ()
    file: str | None = None


@dataclass(frozen=True)
class OutputRequest:
    """A requested output (ResponseDocument/Output or RawDataOutput)."""

    identifier: str
    as_reference: bool = False
    mime_type: str | None = None
    encoding: str | None = None
    schema: str | None = None
    uom: str | None = None
    title: str | None = None
    abstract: str | None = None


@dataclass(frozen=True)
class ExecuteRequest:
    identifier: str
    inputs: tuple[InputValue, ...] = ()
    outputs: tuple[OutputRequest, ...] = ()
    raw_output: bool = False
    store_execute_response: bool = False
    status: bool = False
    lineage: bool = False
    version: str = "1.0.0"
    language: str | None = None

    @property
    def is_async(self) -> bool:
        """WPS 1.0.0: a stored response means answer at once and run in the background."""
        return self.store_execute_response

    def inputs_for(self, identifier: str) -> list[InputValue]:
        return [i for i in self.inputs if i.identifier == identifier]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExecuteRequest:
        inputs = tuple(
            InputValue(**{**i, "headers": tuple(tuple(h) for h in i.get("headers", ())),
                          "lower_corner": tuple(i.get("lower_corner", ())),
                          "upper_corner": tuple(i.get("upper_corner", ()))})
            for i in data.get("inputs", ())
        )
        outputs = tuple(OutputRequest(**o) for o in data.get("outputs", ()))
        rest = {k: v for k, v in data.items() if k not in ("inputs", "outputs")}
        return cls(inputs=inputs, outputs=outputs, **rest)


@dataclass(frozen=True)
class Execute2Request:
    """A WPS 2.0.0 Execute: the job's request plus how the client wants it run and answered.

    ``mode`` is sync, async or auto (the server chooses); ``response`` is document (a ``wps:Result``) or raw
    (the one output's content). ``execute`` is what a job is made of: the operation sets its
    ``store_execute_response``/``status`` once the mode is decided, so the worker never sees these fields.
    """

    execute: ExecuteRequest
    mode: Literal["sync", "async", "auto"] = "sync"
    response: Literal["document", "raw"] = "document"

    @property
    def version(self) -> str:
        return "2.0.0"


@dataclass(frozen=True)
class GetStatusRequest:
    """WPS 2.0.0 GetStatus: the status of one job."""

    job_id: str
    version: str = "2.0.0"


@dataclass(frozen=True)
class GetResultRequest:
    """WPS 2.0.0 GetResult: the outputs of one finished job."""

    job_id: str
    version: str = "2.0.0"


@dataclass(frozen=True)
class DismissRequest:
    """WPS 2.0.0 Dismiss: stop one job (and free what it holds)."""

    job_id: str
    version: str = "2.0.0"


WPSRequestModel = Union[GetCapabilitiesRequest, DescribeProcessRequest, ExecuteRequest, Execute2Request,
                        GetStatusRequest, GetResultRequest, DismissRequest]


@dataclass
class OutputResult:
    """One produced output, as plain data: what the encoder renders and the worker writes to JSON.

    By value: ``value`` holds literal text, complex text (serialized XML or text) or base64 text
    (``encoding='base64'``). By reference: ``href`` (the host fills it from ``file``, a path relative
    to the job's output directory). ``file`` is also used for RawDataOutput.
    """

    identifier: str
    kind: Literal["literal", "complex", "bbox"]
    title: str = ""
    abstract: str = ""
    value: str | None = None
    data_type: str | None = None
    uom: str | None = None
    mime_type: str | None = None
    encoding: str | None = None
    schema: str | None = None
    as_reference: bool = False
    href: str | None = None
    file: str | None = None
    crs: str | None = None
    dimensions: int = 2
    lower_corner: list[float] = field(default_factory=list)
    upper_corner: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OutputResult:
        return cls(**data)

    def raw_bytes(self) -> bytes:
        """The value as bytes (base64 decoded when encoded so) for RawDataOutput."""
        if self.value is None:
            return b""
        if self.encoding == "base64":
            return base64.b64decode(self.value)
        return self.value.encode("utf-8")
