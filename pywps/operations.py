"""The WPS operations: a parsed request in, a response document (or raw output) out."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pywps.config import Config
from pywps.dispatcher import Dispatcher
from pywps.exceptions import (
    InvalidParameterValue,
    InvalidUpdateSequence,
    NoApplicableCode,
    NoSuchJob,
    NoSuchMode,
    NoSuchProcess,
    ResultNotReady,
    SizeExceeded,
    StorageNotSupported,
    VersionNegotiationFailed,
    exception_from_dict,
)
from pywps.jobs.handback import media_type
from pywps.jobs.model import JobStatus
from pywps.ows import OWS_NS, parse_xml, xml_bytes
from pywps.requestmodel import (
    SUPPORTED_VERSIONS,
    DescribeProcessRequest,
    DismissRequest,
    Execute2Request,
    ExecuteRequest,
    GetCapabilitiesRequest,
    GetResultRequest,
    GetStatusRequest,
    OutputResult,
)

log = logging.getLogger(__name__)

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
        if request.version == "2.0.0":
            return self._capabilities2(request)
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
                    if request.version == "2.0.0":
                        raise NoSuchProcess(f"Unknown process {identifier!r}", locator=identifier)
                    raise InvalidParameterValue(f"Unknown process {identifier!r}", locator="identifier")
        if request.version == "2.0.0":
            return self._describe2(identifiers, language)

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
                raise SizeExceeded(f"input {value.identifier!r} is larger than {limit} bytes",
                                   locator=value.identifier)

    def _raw(self, outcome) -> Reply:
        return self._raw_output(outcome.job.id, outcome.outputs)

    def _raw_output(self, job_id: str, outputs: list[OutputResult]) -> Reply:
        """The content of a job's one (first) output, as a raw HTTP body."""
        if not outputs:
            raise NoApplicableCode("the process produced no output")
        output = outputs[0]
        if output.file:
            opened = self.dispatcher.output_file(job_id, output.file)
            if opened is None:
                raise NoApplicableCode(f"the output file of {output.identifier!r} is not available")
            fd, info = opened
            with os.fdopen(fd, "rb") as handle:  # the published copy, opened without following a link
                data = handle.read(info.st_size)
        else:
            data = output.raw_bytes()
        mime = self.dispatcher.output_mime_type(job_id, output.file) if output.file else None
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
                                (exc.name, exc.locator or None) if exc is not None else None)
        else:
            return reply
        return Reply(json1.dumps(doc, self.config.server.json_indent), json1.JSON, reply.status, reply.headers)

    def status_document(self, job_id: str) -> Reply | None:
        """The current stored status document of an asynchronous job, answered from the job store."""
        job = self.dispatcher.store.get(job_id)
        if job is None or not job.response:
            return None
        return Reply(job.response, headers={"Cache-Control": "no-cache"})

    # -- WPS 2.0.0: the same processes, admission, job store and results, answered in 2.0 documents ----

    def job_control(self, process: Any) -> list[str]:
        """The ``jobControlOptions`` of a process: how this server can run it."""
        options = ["sync-execute"] if self.dispatcher.backend.accepts_sync else []
        if getattr(process, "store_supported", False):
            options.append("async-execute")
        return [*options, "dismiss"]

    def _capabilities2(self, request: GetCapabilitiesRequest) -> Reply:
        from pywps.encode import wps2

        if request.language:
            language = self._language(request.language)
        else:  # AcceptLanguages: the first one spoken here, else the default
            spoken = {code.lower(): code for code in self.config.languages}
            language = next((spoken[c.lower()] for c in request.accept_languages if c.lower() in spoken),
                            self.config.languages[0])
        sections = _sections(request.sections)

        def build():
            return wps2.capabilities(
                processes=list(self.processes.values()), service=self.config.metadata, url=self.config.url,
                languages=self.config.languages, language=language,
                update_sequence=self.update_sequence or None, sections=sections, job_control=self.job_control,
                versions=SUPPORTED_VERSIONS)

        return Reply(self._cached(("caps2", language, sections), build))

    def _describe2(self, identifiers: tuple[str, ...], language: str) -> Reply:
        from pywps.encode import wps2

        def build():
            return wps2.process_offerings([self.processes[i] for i in identifiers], language, self.job_control)

        return Reply(self._cached(("describe2", language, identifiers), build))

    def execute2(self, request: Execute2Request) -> Reply:
        """Execute 2.0.0: ``mode`` sync (a ``wps:Result`` or the raw output), async (a ``wps:StatusInfo``;
        GetStatus, GetResult and Dismiss follow the job) or auto (async when the process offers it)."""
        from pywps.encode import wps2
        from pywps.execute import validate_execute_request

        execute = request.execute
        self._language(execute.language)
        process = self.processes.get(execute.identifier)
        if process is None:
            raise NoSuchProcess(f"Unknown process {execute.identifier!r}", locator=execute.identifier)
        options = self.job_control(process)
        mode = request.mode
        if mode == "auto":
            mode = "async" if "async-execute" in options else "sync"
        if f"{mode}-execute" not in options:
            why = ("this server runs jobs asynchronously only" if mode == "sync"
                   else "the process does not support asynchronous execution")
            raise NoSuchMode(f"mode {mode!r} is not offered for process {process.identifier!r}: {why}; "
                             f"it offers {' '.join(options)}", locator="mode")
        if request.response == "raw" and len(execute.outputs or process.outputs) != 1:
            raise InvalidParameterValue("response=raw returns one output: ask for exactly one wps:Output, or "
                                        "use response=document", locator="response")
        asynchronous = mode == "async"
        execute = dataclasses.replace(execute, store_execute_response=asynchronous,
                                      status=asynchronous and bool(getattr(process, "status_supported", False)))
        self._check_input_sizes(execute)  # before validating: an oversized value is a 413 and is not parsed
        validate_execute_request(process, execute)
        if asynchronous:
            job = self.dispatcher.submit(process, execute, protocol="wps2")
            return Reply(xml_bytes(wps2.status_info(job)), headers={"Cache-Control": "no-cache"})
        outcome = self.dispatcher.execute_sync(process, execute, protocol="wps2")
        if outcome.exception is not None:
            raise outcome.exception  # refused inputs (4xx) or the process's failure, as an ExceptionReport
        if request.response == "raw":
            return self._raw(outcome)
        return self._result(outcome.job.id, outcome.outputs, self._expiration())

    def _job(self, job_id: str):
        """The job ``job_id`` names, or NoSuchJob."""
        from pywps.jobs.jobdir import valid_job_id

        job = self.dispatcher.store.get(job_id) if valid_job_id(job_id) else None
        if job is None:
            raise NoSuchJob(f"no job {job_id!r} on this server", locator=job_id)
        return job

    def _expiration(self, job=None) -> datetime | None:
        """When a job's record and results are removed (``[jobs] retention`` after it ended), if they are."""
        jobs = self.config.jobs
        if not (jobs.retention and jobs.cleanup_interval):
            return None
        ended = (job.finished or job.updated) if job is not None else None
        return (ended or datetime.now(UTC)) + timedelta(seconds=jobs.retention)

    def get_status(self, request: GetStatusRequest) -> Reply:
        """GetStatus 2.0.0 of any job in the store, whatever front-end it came in by."""
        from pywps.encode import wps2

        job = self._job(request.job_id)
        expiration = self._expiration(job) if job.is_final else None
        return Reply(xml_bytes(wps2.status_info(job, expiration)), headers={"Cache-Control": "no-cache"})

    def get_result(self, request: GetResultRequest) -> Reply:
        """GetResult 2.0.0: the outputs of a succeeded job (raw when its Execute asked for raw), the
        exception of a failed one; ResultNotReady before the end, NoSuchJob once dismissed."""
        from pywps.encode import wps2

        job = self._job(request.job_id)
        if job.status is JobStatus.DISMISSED:
            raise NoSuchJob(f"job {job.id} was dismissed; its results are gone", locator=job.id)
        if not job.is_final:
            raise ResultNotReady(f"job {job.id} is {wps2.STATUS[job.status].lower()}; ask again when GetStatus "
                                 "says Succeeded or Failed", locator=job.id)
        if job.status is JobStatus.FAILED:
            raise self.dispatcher.results.recorded_exception(job.id) or _job_exception(job)
        outputs = [OutputResult.from_dict(o) for o in json.loads(job.outputs or "[]")]
        if json.loads(job.request or "{}").get("raw_output"):
            return self._raw_output(job.id, outputs)
        return self._result(job.id, outputs, self._expiration(job))

    def _result(self, job_id: str, outputs: list[OutputResult], expiration: datetime | None) -> Reply:
        from pywps.encode import wps2

        if not outputs:  # a wps:Result holds one output at least
            raise NoApplicableCode(f"job {job_id} ended without any output: the process set none", locator=job_id)
        return Reply(xml_bytes(wps2.result_document(job_id, outputs, expiration)))

    def dismiss(self, request: DismissRequest) -> Reply:
        """Dismiss 2.0.0: ``dismissed`` is committed and the runner stopped (process group killed, container
        removed, batch job cancelled); a job that has already ended is dismissed and its results removed."""
        from pywps.encode import wps2

        job = self._job(request.job_id)
        job = self.dispatcher.dismiss(job.id, discard_results=True)
        return Reply(xml_bytes(wps2.status_info(job)), headers={"Cache-Control": "no-cache"})


def _job_exception(job) -> NoApplicableCode:
    """The exception a failed job ended with, read back from its (server-written) status document."""
    try:
        element = parse_xml(job.response or b"").find(f".//{{{OWS_NS}}}Exception")
    except NoApplicableCode:
        element = None
    if element is None:
        return NoApplicableCode(job.message or "Process failed")
    text = element.findtext(f"{{{OWS_NS}}}ExceptionText") or job.message or "Process failed"
    return exception_from_dict({"code": element.get("exceptionCode"), "locator": element.get("locator"),
                                "text": text})


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
