"""The WPS operations: a parsed request in, a response document (or raw output) out."""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from pywps.config import Config
from pywps.dispatcher import Dispatcher
from pywps.exceptions import (
    FileSizeExceeded,
    InvalidParameterValue,
    InvalidUpdateSequence,
    NoApplicableCode,
    VersionNegotiationFailed,
)
from pywps.jobs.handback import media_type
from pywps.ows import xml_bytes
from pywps.requestmodel import DescribeProcessRequest, ExecuteRequest, GetCapabilitiesRequest

log = logging.getLogger(__name__)

SUPPORTED_VERSIONS = ("1.0.0",)
XML = "text/xml; charset=utf-8"


@dataclass
class Reply:
    """What an operation answers: body, content type, HTTP status and extra headers."""

    body: bytes
    content_type: str = XML
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    result: Any = None  # Execute: the job (asynchronous) or its outcome (synchronous), for a JSON answer


class Operations:
    """GetCapabilities, DescribeProcess and Execute over a fixed list of processes."""

    def __init__(self, config: Config, processes: list[Any], dispatcher: Dispatcher) -> None:
        self.config = config
        self.processes = {p.identifier: p for p in processes}
        self.dispatcher = dispatcher
        self.update_sequence = config.server.updatesequence
        self._cache: dict[tuple, bytes] = {}
        self._cache_lock = threading.Lock()

    def _language(self, requested: str | None) -> str:
        languages = self.config.languages
        if not requested:
            return languages[0]
        for language in languages:
            if language.lower() == requested.lower():
                return language
        raise InvalidParameterValue(
            f"language {requested!r} is not supported; choose one of {', '.join(languages)}", locator="language")

    def _cached(self, key: tuple, build) -> bytes:
        body = self._cache.get(key)
        if body is None:
            body = xml_bytes(build())
            with self._cache_lock:
                if len(self._cache) > 256:
                    self._cache.clear()
                self._cache[key] = body
        return body

    def get_capabilities(self, request: GetCapabilitiesRequest) -> Reply:
        if request.accept_versions and not set(request.accept_versions) & set(SUPPORTED_VERSIONS):
            raise VersionNegotiationFailed(
                f"none of the versions {', '.join(request.accept_versions)} is supported; "
                f"this server speaks {', '.join(SUPPORTED_VERSIONS)}", locator="AcceptVersions")
        if request.update_sequence and self.update_sequence and _newer(request.update_sequence, self.update_sequence):
            raise InvalidUpdateSequence(
                f"updateSequence {request.update_sequence!r} is newer than the server's "
                f"{self.update_sequence!r}", locator="updateSequence")
        language = self._language(request.language)
        sections = _sections(request.sections)

        def build():
            from pywps.encode.capabilities import capabilities
            from pywps.encode.describe import process_brief

            return capabilities(
                processes=list(self.processes.values()), service=self.config.metadata,
                url=self.config.url, languages=self.config.languages, language=language,
                update_sequence=self.update_sequence or None, brief=lambda p: process_brief(p, language),
                sections=sections,
            )

        return Reply(self._cached(("caps", language, sections), build))

    def describe_process(self, request: DescribeProcessRequest) -> Reply:
        self._check_version(request.version)
        language = self._language(request.language)
        if any(i.lower() == "all" for i in request.identifiers):
            identifiers = tuple(self.processes)
        else:
            identifiers = request.identifiers
            for identifier in identifiers:
                if identifier not in self.processes:
                    raise InvalidParameterValue(f"Unknown process {identifier!r}", locator="identifier")

        def build():
            from pywps.encode.describe import describe_process

            return describe_process([self.processes[i] for i in identifiers], language)

        return Reply(self._cached(("describe", language, identifiers), build))

    def execute(self, request: ExecuteRequest) -> Reply:
        self._check_version(request.version)
        self._language(request.language)
        process = self.processes.get(request.identifier)
        if process is None:
            raise InvalidParameterValue(f"Unknown process {request.identifier!r}", locator="identifier")
        if request.status and not request.store_execute_response:
            raise InvalidParameterValue("status=true requires storeExecuteResponse=true", locator="status")
        if request.status and not process.status_supported:
            from pywps.exceptions import StorageNotSupported

            raise StorageNotSupported("this process does not support status updates", locator="status")
        from pywps.execute import validate_execute_request

        self._check_input_sizes(request)  # before validating: an oversized value is a 413 and is not parsed
        validate_execute_request(process, request)
        if request.is_async:
            job = self.dispatcher.submit(process, request)
            return Reply(job.response or b"", result=job)
        outcome = self.dispatcher.execute_sync(process, request)
        if _request_error(outcome.exception):
            raise outcome.exception  # the inputs were refused (invalid, too large): a 4xx ExceptionReport
        if not request.raw_output:
            return Reply(outcome.document, result=outcome)
        if outcome.exception is not None:
            raise outcome.exception
        return self._raw(outcome)

    def _check_input_sizes(self, request: ExecuteRequest) -> None:
        """Refuse inline inputs (literal, complex, bbox) larger than ``maxsingleinputsize`` before a job is created.

        KVP values (complex and bbox text included) arrive as ``literal``; a typed bbox counts as its text.
        """
        limit = self.config.server.maxsingleinputsize
        if not limit:
            return
        for value in request.inputs:
            if value.kind == "reference":
                continue  # fetched later, against the same limit
            if value.kind == "bbox":
                corners = (*value.lower_corner, *value.upper_corner)
                size = len(value.crs or "") + sum(len(repr(c)) + 1 for c in corners)
            else:
                size = len(value.data.encode("utf-8")) if value.data else 0
                if (value.encoding or "").lower() == "base64":
                    size = size * 3 // 4
            if size > limit:
                raise FileSizeExceeded(f"input {value.identifier!r} is larger than {limit} bytes",
                                       locator=value.identifier)

    def _raw(self, outcome) -> Reply:
        if not outcome.outputs:
            raise NoApplicableCode("the process produced no output")
        output = outcome.outputs[0]
        if output.file:
            opened = self.dispatcher.output_file(outcome.job.id, output.file)
            if opened is None:
                raise NoApplicableCode(f"the output file of {output.identifier!r} is not available")
            fd, info = opened
            with os.fdopen(fd, "rb") as handle:  # the published copy, opened without following a link
                data = handle.read(info.st_size)
        else:
            data = output.raw_bytes()
        mime = self.dispatcher.output_mime_type(outcome.job.id, output.file) if output.file else None
        mime = mime or media_type(output.mime_type) or ("text/plain; charset=utf-8" if output.kind == "literal" else
                                    "application/octet-stream")
        headers = {}
        if output.file:
            safe = re.sub(r"[^\w.\-]", "_", output.file)
            headers["Content-Disposition"] = f'attachment; filename="{safe}"'
        return Reply(data, mime, 200, headers)

    def _check_version(self, version: str) -> None:
        if version not in SUPPORTED_VERSIONS:
            raise InvalidParameterValue(f"version {version!r} is not supported", locator="version")

    def as_json(self, request: Any, reply: Reply) -> Reply:
        """The same answer as JSON with PyWPS 4.8.1's keys (``[server] json_indent``); WPS 1.0.0 only."""
        from pywps import __version__
        from pywps.encode import json1

        if getattr(request, "version", None) != "1.0.0" or reply.content_type != XML:
            return reply  # a WPS 2.0 document, a raw output
        language = self._language(getattr(request, "language", None))
        if isinstance(request, GetCapabilitiesRequest):
            doc = json1.capabilities([p.json for p in self.processes.values()], self.config.metadata,
                                     self.config.url, self.config.languages, language, request.version, __version__)
        elif isinstance(request, DescribeProcessRequest):
            every = any(i.lower() == "all" for i in request.identifiers)
            chosen = self.processes.values() if every else [self.processes[i] for i in request.identifiers]
            doc = json1.describe([p.json for p in chosen], language, __version__)
        elif isinstance(request, ExecuteRequest) and reply.result is not None:
            finished = hasattr(reply.result, "job")  # a synchronous outcome, else the job just accepted
            job, exc = (reply.result.job, reply.result.exception) if finished else (reply.result, None)
            declared = [o.json for o in self.processes[request.identifier].outputs]
            doc = json1.execute(job.status, job.percent, (exc.description if exc else "") or job.message,
                                job.updated or job.created, reply.result.outputs if finished else [], declared,
                                (type(exc).__name__, exc.locator or None) if exc is not None else None)
        else:
            return reply
        return Reply(json1.dumps(doc, self.config.server.json_indent), json1.JSON, reply.status, reply.headers)

    def status_document(self, job_id: str) -> Reply | None:
        """The current stored status document of an asynchronous job, answered from the job store."""
        job = self.dispatcher.store.get(job_id)
        if job is None or not job.response:
            return None
        return Reply(job.response, headers={"Cache-Control": "no-cache"})


def _request_error(exc: NoApplicableCode | None) -> bool:
    """Whether a failed job failed on its request (a 4xx OWS exception), not in the process itself."""
    return exc is not None and type(exc) is not NoApplicableCode and 400 <= exc.code < 500


def _newer(requested: str, current: str) -> bool:
    """Whether a client's updateSequence is later than the server's (numerically when both are numbers)."""
    try:
        return float(requested) > float(current)
    except ValueError:
        return requested > current


def _sections(requested: tuple[str, ...]) -> tuple[str, ...]:
    """The requested GetCapabilities sections, checked against the OWS 1.1 / WPS 1.0.0 names."""
    from pywps.encode.capabilities import SECTIONS

    known = {s.lower(): s for s in SECTIONS}
    for name in requested:
        if name.lower() not in known:
            raise InvalidParameterValue(f"unknown section {name!r}; choose from {', '.join(SECTIONS)}",
                                        locator="sections")
    return tuple(sorted({known[n.lower()] for n in requested}))
