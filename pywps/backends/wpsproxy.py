"""``docker_transport = wps``: a job's Execute forwarded to a WPS server inside its container, over a Unix socket.

The container runs a WPS 1.0.0 server (the image's own: a PyWPS 4 deployment, this project's server, ...)
listening on ``out/socket/wps.sock``, a socket inside the job's mounted ``out/``, so the container keeps
``--network none``. On the host one :class:`Follower` per job (a thread of the server process that follows
the job) builds the Execute request with OWSLib from the job's stored request (inputs fetched by the host
travel by value or as ``file://`` paths inside the container's input mount), posts it through a requests
session bound to the socket, follows the in-container status document (percent and message mirrored into
``out/status.json``), fetches the outputs into a staging directory the container cannot see, stops the
container, and only then writes ``out/files/`` and ``out/result.json`` in the worker's format: the
dispatcher reads them through :mod:`pywps.jobs.handback` like any runner's hand-back.

Everything the in-container server answers is hostile: responses are read up to a cap, parsed without DTDs
or entities, every URL it names is fetched from its own socket only (whatever host it names), no redirect is
followed, downloads are capped, names are ours. The socket itself is trusted only after the host has
locked the directory holding it: ``out/socket`` is made by the host, recognised by its inode, then made
read-only to the container, and the host connects through its own open descriptor of that directory
(``/proc/self/fd/N/wps.sock``), so the container cannot swap the socket for a link to another socket.

The follower's progress lives in ``JOB/transport/`` (the server's own directory, never mounted): a state
file and a lock. A server that restarts re-attaches: the next follower takes the lock and goes on from the
saved state (waiting for the status document it knows, or finishing the hand-back).
"""

from __future__ import annotations

import base64
import errno
import fcntl
import json
import logging
import mimetypes
import os
import shlex
import shutil
import socket
import stat
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pywps.jobs.handback import xml_safe
from pywps.jobs.jobdir import JOB_JSON, JobDir, write_json_atomic

log = logging.getLogger(__name__)
_owslib_log = logging.getLogger("owslib.wps")
if _owslib_log.level == logging.NOTSET:  # it logs every status document it reads at INFO: once a second per job
    _owslib_log.setLevel(logging.WARNING)

SOCKET_DIR = "socket"              # out/socket/: the host's, writable for the container until it listens
SOCKET_NAME = "wps.sock"
SERVER_DIR = "server"              # out/server/: the in-container server's own files (outputs, work, logs)
SERVER_CFG = "wps.cfg"             # in/wps.cfg: the configuration the host writes for the in-container server
TRANSPORT_DIR = "transport"        # JOB/transport/: the follower's state, lock and staged outputs (host only)

MAX_DOCUMENT = 16 * 1024 * 1024    # one response or status document
MAX_OUTPUTS = 1000
MAX_LOG = 64 * 1024                # the end of the container's log kept in out/worker.log
_CHUNK = 1024 * 1024
_O_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FINAL = ("ProcessSucceeded", "ProcessFailed", "Exception")


class TransportError(Exception):
    """The in-container server cannot be followed; the message says why (the job fails with it)."""


class HostileAnswer(TransportError):
    """The in-container server answered what no honest server would (too large, a redirect, entities, a URL
    elsewhere): the job fails at once, no retry."""


@dataclass(frozen=True)
class WpsSettings:
    """What the transport needs of ``[processing]``."""

    command: str
    path: str
    start_timeout: float
    max_download: int
    inp_dir: str
    out_dir: str

    @property
    def socket(self) -> str:
        """The socket's path inside the container."""
        return f"{self.out_dir.rstrip('/')}/{SOCKET_DIR}/{SOCKET_NAME}"

    def argv(self, job: dict[str, Any], command: str | None = None) -> list[str]:
        """The container's command: ``command`` (default ``docker_wps_command``) split like a shell would,
        placeholders ``{socket}``, ``{config}``, ``{inp_dir}``, ``{out_dir}``, ``{module}``, ``{identifier}``
        filled."""
        process = job.get("process") or {}
        values = {"socket": self.socket, "config": f"{self.inp_dir.rstrip('/')}/{SERVER_CFG}",
                  "inp_dir": self.inp_dir, "out_dir": self.out_dir, "module": process.get("module", ""),
                  "identifier": process.get("identifier", "")}
        try:
            return [part.format(**values) for part in shlex.split(command or self.command)]
        except (KeyError, ValueError, IndexError) as exc:
            raise TransportError(f"the WPS command {command or self.command!r} cannot be used: {exc}") from None


# -- HTTP over the Unix socket ------------------------------------------------------------------------------

def unix_session(socket_path: str) -> Any:
    """A requests session whose every request goes to ``socket_path``, whatever host the URL names."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.connection import HTTPConnection
    from urllib3.connectionpool import HTTPConnectionPool

    class UnixConnection(HTTPConnection):
        def _new_conn(self) -> socket.socket:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            timeout = self.timeout if isinstance(self.timeout, (int, float)) else None
            sock.settimeout(timeout)
            try:
                sock.connect(socket_path)
            except OSError:
                sock.close()
                raise
            return sock

    class UnixPool(HTTPConnectionPool):
        ConnectionCls = UnixConnection

    class UnixAdapter(HTTPAdapter):
        def __init__(self) -> None:
            super().__init__(max_retries=0)
            self.pool = UnixPool("localhost", maxsize=2, block=False)

        def get_connection_with_tls_context(self, request: Any, verify: Any, proxies: Any = None,
                                            cert: Any = None) -> Any:
            return self.pool

        def get_connection(self, url: Any, proxies: Any = None) -> Any:  # requests < 2.32
            return self.pool

        def request_url(self, request: Any, proxies: Any) -> str:
            return request.path_url

        def close(self) -> None:
            self.pool.close()
            super().close()

    session = requests.Session()
    session.trust_env = False  # no proxy, no netrc: nothing of the host's environment
    adapter = UnixAdapter()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def _read(response: Any, cap: int, sink: Any = None) -> bytes:
    """The body of a streamed response, at most ``cap`` bytes (else ``TransportError``); into ``sink`` if
    given (returning b"")."""
    size, chunks = 0, []
    try:
        for chunk in response.iter_content(_CHUNK):
            size += len(chunk)
            if size > cap:
                raise HostileAnswer(f"the WPS server in the container sent more than {cap} bytes")
            if sink is None:
                chunks.append(chunk)
            else:
                sink(chunk)
    finally:
        response.close()
    return b"".join(chunks)


def _target(url: str) -> str:
    """The path and query of a URL the in-container server named (its host is never contacted)."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.path.startswith("/"):
        raise HostileAnswer(f"the WPS server in the container named {xml_safe(url, 200)!r}, not an http URL "
                             "of its own")
    return f"http://localhost{parts.path}" + (f"?{parts.query}" if parts.query else "")


def http(session: Any, method: str, url: str, cap: int, body: bytes | None = None, timeout: Any = (5, 60),
         sink: Any = None) -> bytes:
    """One request to the in-container server; a non-2xx answer or a redirect is a ``TransportError``."""
    headers = {"Content-Type": "text/xml; charset=utf-8"} if body is not None else {}
    response = session.request(method, _target(url), data=body, headers=headers, timeout=timeout,
                               allow_redirects=False, stream=True)
    code = response.status_code
    # a document may come with an error status (an ExceptionReport is 400 or 500); a file may not
    if not (200 <= code < 300 or (code >= 400 and sink is None)):
        response.close()
        raise HostileAnswer(f"the WPS server in the container answered HTTP {response.status_code} to "
                             f"{method} {xml_safe(urlsplit(url).path, 200)}")
    return _read(response, cap, sink)


# -- the Execute request, built with OWSLib -------------------------------------------------------------------

def _definitions(process: Any) -> dict[str, Any]:
    return {d.identifier: d for d in [*getattr(process, "inputs", []), *getattr(process, "outputs", [])]}


def _is_complex(definition: Any) -> bool:
    return definition is not None and hasattr(definition, "supported_formats")


def _is_literal(definition: Any) -> bool:
    return definition is not None and hasattr(definition, "data_type") and not _is_complex(definition)


def wanted_outputs(request: Any, process: Any) -> list[Any]:
    """The outputs the client asked for; when it named none, every output with its declared as_reference
    (what the worker does)."""
    from pywps.requestmodel import OutputRequest

    if request.outputs:
        return list(request.outputs)
    if process is None:
        return []
    return [OutputRequest(o.identifier, as_reference=bool(getattr(o, "as_reference", False)))
            for o in process.outputs]


def build_execute(request: Any, process: Any, indir: Path, inp_dir: str, asynchronous: bool = True) -> bytes:
    """The WPS 1.0.0 Execute document for the in-container server (OWSLib's request builder)."""
    from lxml import etree
    from owslib.wps import ASYNC, SYNC, BoundingBoxDataInput, ComplexDataInput, WPSExecution

    class Inline(ComplexDataInput):
        def getXml(self) -> Any:  # always by value, even when the text looks like a URL
            return self.complexDataRaw()

    class BBox(BoundingBoxDataInput):
        def __init__(self, lower: list[float], upper: list[float], crs: str | None) -> None:
            super().__init__([*lower[:2], *upper[:2]] if len(lower) >= 2 else [0, 0, 0, 0], crs=crs,
                             dimensions=len(lower))
            self.lower, self.upper = lower, upper

        def get_xml(self) -> Any:
            element = super().get_xml()
            corners = element[0]
            corners[0].text = " ".join(repr(float(c)) for c in self.lower)
            corners[1].text = " ".join(repr(float(c)) for c in self.upper)
            return element

    definitions = _definitions(process)
    inputs: list[tuple[str, Any]] = []
    for value in request.inputs:
        definition = definitions.get(value.identifier)
        if value.kind == "literal":
            inputs.append((value.identifier, value.data or ""))
        elif value.kind == "complex":
            inputs.append((value.identifier, Inline(value.data or "", mimeType=value.mime_type,
                                                    encoding=value.encoding, schema=value.schema)))
        elif value.kind == "bbox":
            inputs.append((value.identifier, BBox(list(value.lower_corner), list(value.upper_corner), value.crs)))
        elif value.file:
            relative = Path(value.file)
            if relative.is_absolute() or ".." in relative.parts:
                raise TransportError(f"input {value.identifier!r}: fetched file {value.file!r} is not inside in/")
            if _is_literal(definition):
                text = (indir / relative).read_text(encoding="utf-8", errors="replace").strip()
                inputs.append((value.identifier, text))
            else:
                href = f"file://{inp_dir.rstrip('/')}/{relative.as_posix()}"
                inputs.append((value.identifier, ComplexDataInput(href, mimeType=value.mime_type,
                                                                  encoding=value.encoding, schema=value.schema)))
        else:  # a reference the host did not fetch: passed on as it came (as the worker does)
            inputs.append((value.identifier, ComplexDataInput(value.href or "", mimeType=value.mime_type,
                                                              encoding=value.encoding, schema=value.schema)))
    wanted = wanted_outputs(request, process)
    output = [(w.identifier, True if _is_complex(definitions.get(w.identifier)) or w.as_reference else None,
               w.mime_type) for w in wanted]
    execution = WPSExecution(language=request.language)
    root = execution.buildRequest(request.identifier, inputs, output=output,
                                  mode=ASYNC if asynchronous else SYNC, lineage=False)
    ns = {"wps": "http://www.opengis.net/wps/1.0.0"}
    for element, want in zip(root.iterfind("wps:ResponseForm/wps:ResponseDocument/wps:Output", ns), wanted,
                             strict=False):
        for attribute, text in (("encoding", want.encoding), ("schema", want.schema), ("uom", want.uom)):
            if text:
                element.set(attribute, text)
    return etree.tostring(root, xml_declaration=True, encoding="utf-8")


# -- reading what the in-container server answers ---------------------------------------------------------

@dataclass
class InnerOutput:
    """One output of the in-container server's final response."""

    identifier: str
    title: str = ""
    abstract: str = ""
    kind: str = "literal"              # literal | complex | bbox | reference
    value: str | None = None
    data_type: str | None = None
    uom: str | None = None
    href: str | None = None
    mime_type: str | None = None
    encoding: str | None = None
    schema: str | None = None
    crs: str | None = None
    dimensions: int = 2
    lower: list[float] | None = None
    upper: list[float] | None = None


@dataclass
class InnerStatus:
    """The in-container server's response or status document, as far as the follower needs it."""

    status: str                        # ProcessAccepted, ProcessStarted, ProcessPaused, ProcessSucceeded, ...
    percent: int = 0
    message: str = ""
    status_location: str | None = None
    exception: dict[str, str] | None = None
    outputs: list[InnerOutput] | None = None

    @property
    def final(self) -> bool:
        return self.status in _FINAL


def _attr(element: Any, name: str) -> str | None:
    value = element.get(name)
    return value if value not in (None, "", "None") else None


def parse_status(data: bytes) -> InnerStatus:
    """Parse a response of the in-container server (hardened parser, then OWSLib's response reader)."""
    from owslib.wps import WPSExecution

    from pywps.exceptions import NoApplicableCode
    from pywps.ows import parse_xml

    try:
        root = parse_xml(data)
    except NoApplicableCode as exc:  # a DTD is hostile; a truncated document may be one being rewritten
        error = HostileAnswer if "DTD" in exc.description else TransportError
        raise error(f"the WPS server in the container sent no valid XML ({exc.description})") from None
    local = root.tag.rsplit("}", 1)[-1]
    if local not in ("ExecuteResponse", "ExceptionReport"):
        raise HostileAnswer(f"the WPS server in the container sent a {xml_safe(local, 60)} document")
    execution = WPSExecution()
    try:
        execution.parseResponse(root)
    except Exception as exc:  # noqa: BLE001 - whatever OWSLib makes of a hostile document
        raise TransportError(f"the WPS server in the container sent an ExecuteResponse that cannot be read "
                             f"({type(exc).__name__})") from None
    status = InnerStatus(status=str(execution.status or ""), message=xml_safe(execution.statusMessage or ""),
                         status_location=_attr(root, "statusLocation"))
    try:
        status.percent = max(0, min(100, int(execution.percentCompleted or 0)))
    except (TypeError, ValueError):
        status.percent = 0
    if execution.errors:
        first = execution.errors[0]
        status.exception = {"code": xml_safe(first.code or "NoApplicableCode", 64),
                            "locator": xml_safe(first.locator or "", 200) if first.locator != "None" else "",
                            "text": xml_safe(first.text or "")}
        if status.status not in _FINAL:
            status.status = "Exception"
    elif status.status == "ProcessFailed":
        status.exception = {"code": "NoApplicableCode", "locator": "",
                            "text": status.message or "the process failed in the container's WPS server"}
    if status.status == "ProcessSucceeded":
        status.outputs = _outputs(root, {o.identifier: o for o in execution.processOutputs})
    return status


def _outputs(root: Any, parsed: dict[str, Any]) -> list[InnerOutput]:
    """The outputs of a final ExecuteResponse: OWSLib's reading, with exact texts from the document."""
    ns = {"wps": "http://www.opengis.net/wps/1.0.0", "ows": "http://www.opengis.net/ows/1.1",
          "xlink": "http://www.w3.org/1999/xlink"}
    result = []
    for element in root.iterfind("wps:ProcessOutputs/wps:Output", ns):
        identifier = element.findtext("ows:Identifier", default="", namespaces=ns).strip()
        known = parsed.get(identifier)
        if not identifier or known is None:
            continue
        out = InnerOutput(identifier=xml_safe(identifier, 200), title=xml_safe(getattr(known, "title", "") or ""),
                          abstract=xml_safe(known.abstract or ""))
        reference = element.find("wps:Reference", ns)
        literal = element.find("wps:Data/wps:LiteralData", ns)
        complex_ = element.find("wps:Data/wps:ComplexData", ns)
        bbox = element.find("wps:Data/wps:BoundingBoxData", ns)
        if reference is not None and known.reference:
            out.kind, out.href = "reference", known.reference
            node = reference
        elif literal is not None:
            out.kind, out.value = "literal", literal.text or ""
            out.data_type, out.uom = _attr(literal, "dataType"), _attr(literal, "uom")
            node = None
        elif complex_ is not None:
            out.kind = "complex"
            if len(complex_):
                from lxml import etree

                out.value = etree.tostring(complex_[0], encoding="unicode")
            else:
                out.value = complex_.text or ""
            node = complex_
        elif bbox is not None:
            out.kind, out.crs = "bbox", _attr(bbox, "crs")
            out.lower = _numbers(bbox.findtext("ows:LowerCorner", default="", namespaces=ns))
            out.upper = _numbers(bbox.findtext("ows:UpperCorner", default="", namespaces=ns))
            out.dimensions = len(out.lower)
            node = None
        else:
            continue
        if node is not None:
            out.mime_type, out.encoding, out.schema = _attr(node, "mimeType"), _attr(node, "encoding"), \
                _attr(node, "schema")
        result.append(out)
        if len(result) > MAX_OUTPUTS:
            raise TransportError(f"the WPS server in the container sent more than {MAX_OUTPUTS} outputs")
    return result


def _numbers(text: str) -> list[float]:
    try:
        return [float(t) for t in text.split()]
    except ValueError:
        raise TransportError("the WPS server in the container sent a bounding box that is not numbers") from None


# -- results in the worker's format ------------------------------------------------------------------------------

def _extension(definition: Any, mime_type: str | None, href: str | None) -> str:
    """The file name extension of an output: its format's, else the media type's, else the URL's."""
    import pywps.inout.formats  # noqa: F401  (teaches mimetypes the formats' extensions)

    for fmt in getattr(definition, "supported_formats", None) or []:
        if fmt.mime_type == mime_type and getattr(fmt, "extension", ""):
            return str(fmt.extension)
    guessed = mimetypes.guess_extension((mime_type or "").split(";")[0].strip()) if mime_type else None
    if guessed:
        return guessed
    suffix = Path(urlsplit(href or "").path).suffix
    return suffix if 0 < len(suffix) <= 10 and suffix[1:].isalnum() else ""


def _file_name(identifier: str, extension: str, taken: set[str]) -> str:
    stem = "".join(c if c.isalnum() or c in "-_." else "_" for c in identifier).strip(".")[:64] or "output"
    name, n = f"{stem}{extension}", 1
    while name in taken:
        name, n = f"{stem}_{n}{extension}", n + 1
    taken.add(name)
    return name


class Collector:
    """Turns the in-container server's outputs into ``OutputResult`` dicts, staging files on the host."""

    def __init__(self, session: Any, staging: Path, max_download: int, request: Any, process: Any) -> None:
        self.session = session
        self.staging = staging
        self.budget = max_download
        self.request = request
        self.definitions = _definitions(process)
        self.wanted = {w.identifier: w for w in wanted_outputs(request, process)}
        self.names: set[str] = set()

    def _download(self, href: str, name: str) -> Path:
        path = self.staging / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        written = 0

        def sink(chunk: bytes) -> None:
            nonlocal written
            written += len(chunk)
            view = memoryview(chunk)
            while view:
                view = view[os.write(fd, view):]

        try:
            http(self.session, "GET", href, self.budget, timeout=(5, 120), sink=sink)
        finally:
            os.close(fd)
        self.budget -= written
        return path

    def _stage_bytes(self, data: bytes, name: str) -> None:
        if len(data) > self.budget:
            raise TransportError("the outputs of the WPS server in the container are larger than "
                                 "[processing] docker_wps_max_download")
        self.budget -= len(data)
        fd = os.open(self.staging / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                     0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)

    def results(self, outputs: list[InnerOutput]) -> list[dict[str, Any]]:
        results = []
        raw = self.request.raw_output
        for out in outputs:
            want = self.wanted.get(out.identifier)
            if self.wanted and want is None:
                continue  # not asked for
            results.append(self._one(out, want, raw))
        return results

    def _one(self, out: InnerOutput, want: Any, raw: bool) -> dict[str, Any]:
        from pywps.requestmodel import OutputResult

        definition = self.definitions.get(out.identifier)
        result = OutputResult(out.identifier, "literal", title=out.title, abstract=out.abstract)
        if out.kind == "literal":
            result.value, result.data_type, result.uom = out.value, out.data_type, out.uom
            return result.to_dict()
        if out.kind == "bbox":
            result.kind, result.crs, result.dimensions = "bbox", out.crs, out.dimensions
            result.lower_corner, result.upper_corner = list(out.lower or []), list(out.upper or [])
            return result.to_dict()
        result.kind = "complex"
        result.mime_type = out.mime_type or (want.mime_type if want else None)
        result.schema = out.schema
        as_reference = bool(want.as_reference if want is not None else out.kind == "reference") and not raw
        result.as_reference = as_reference
        fmt_encoding = out.encoding or ""
        if as_reference or raw:
            name = _file_name(out.identifier, _extension(definition, result.mime_type, out.href), self.names)
            if out.kind == "reference":
                self._download(str(out.href), name)
            else:
                self._stage_bytes(self._inline_bytes(out), name)
            result.file, result.encoding = name, None
            return result.to_dict()
        if out.kind == "reference":
            name = _file_name(out.identifier, "", self.names)
            content = self._download(str(out.href), name).read_bytes()
            os.unlink(self.staging / name)
            self.names.discard(name)
        else:
            content = self._inline_bytes(out)
        self._by_value(result, content, (want.encoding if want else None) or fmt_encoding, fmt_encoding)
        return result.to_dict()

    @staticmethod
    def _inline_bytes(out: InnerOutput) -> bytes:
        text = out.value or ""
        if (out.encoding or "").lower() == "base64":
            try:
                return base64.b64decode("".join(text.split()), validate=True)
            except ValueError:
                raise TransportError(f"output {out.identifier!r} is not valid base64") from None
        return text.encode("utf-8")

    @staticmethod
    def _by_value(result: Any, content: bytes, wanted: str, fmt_encoding: str) -> None:
        """The value as the worker puts it: text, or base64 for binary content (see pywps.execute)."""
        import re

        from pywps.inout.formats import is_binary_mime, is_xml_mime

        text: str | None = None
        if wanted.lower() != "base64" and not is_binary_mime(result.mime_type):
            try:
                text = content.decode("utf-8")
            except UnicodeDecodeError:
                text = None
        if text is None:
            result.value, result.encoding = base64.b64encode(content).decode("ascii"), "base64"
        else:
            if is_xml_mime(result.mime_type):
                text = re.sub(r"^\s*<\?xml[^>]*\?>\s*", "", text, count=1)
            result.value = text
            result.encoding = fmt_encoding if fmt_encoding and fmt_encoding.lower() != "base64" else None


# -- the host's side of the job directory -------------------------------------------------------------------------

class Transport:
    """``JOB/transport/``: the follower's state, its lock and the staged outputs (the server's only)."""

    def __init__(self, jobdir: Path | str) -> None:
        self.jobdir = Path(jobdir)
        self.root = self.jobdir / TRANSPORT_DIR
        self.staging = self.root / "staging"

    def create(self, socket_identity: tuple[int, int]) -> None:
        self.root.mkdir(mode=0o700, exist_ok=True)
        self.staging.mkdir(mode=0o700, exist_ok=True)
        self.save({"phase": "starting", "socket": list(socket_identity), "created": time.time()})

    def load(self) -> dict[str, Any]:
        try:
            with open(self.root / "state.json", "rb") as handle:
                data = json.loads(handle.read(MAX_DOCUMENT))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def save(self, state: dict[str, Any]) -> None:
        write_json_atomic(self.root / "state.json", state, mode=0o600)

    def phase(self) -> str:
        return str(self.load().get("phase", ""))

    def lock(self) -> int | None:
        """An exclusive lock on this job's transport (one follower at a time, across processes); the
        descriptor to close, or None when someone else holds it."""
        try:
            fd = os.open(self.root / "lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        except FileNotFoundError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
        return fd

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def prepare(jobdir: JobDir, settings: WpsSettings, user: tuple[int, int] | None) -> None:
    """Before the container starts: ``in/wps.cfg``, ``out/server/``, the host-made ``out/socket/`` and
    the transport state (call after the backend gave ``out/`` to the container's user)."""
    assert jobdir.path is not None
    if Transport(jobdir.path).phase():
        return  # a retried start of a job already prepared (its container exists)
    identity = prepare_server(jobdir, server_config(jobdir.read_job(), settings), user)
    Transport(jobdir.path).create(identity)


def prepare_server(jobdir: JobDir, config_text: str, user: tuple[int, int] | None) -> tuple[int, int]:
    """What the in-container server needs before it starts, in a job directory or a pool slot: ``in/wps.cfg``,
    ``out/server/`` and the host-made ``out/socket/``; the socket directory's identity (device, inode)."""
    (jobdir.indir / SERVER_CFG).write_text(config_text)
    os.chmod(jobdir.indir / SERVER_CFG, 0o444)
    chown = user is not None and os.geteuid() == 0
    for sub in ("", "outputs", "work"):
        path = jobdir.outdir / SERVER_DIR / sub
        path.mkdir(exist_ok=True)
        if chown:
            assert user is not None
            os.chown(path, user[0], user[1])
        os.chmod(path, 0o777 if not chown else 0o755)
    sock_dir = jobdir.outdir / SOCKET_DIR
    sock_dir.mkdir()
    if chown:  # the host owns it; the container's group may write until the host locks it
        assert user is not None
        os.chown(sock_dir, 0, user[1])
        os.chmod(sock_dir, 0o770)
    else:
        os.chmod(sock_dir, 0o777)
    info = os.stat(sock_dir, follow_symlinks=False)
    return info.st_dev, info.st_ino


def wait_listening(outdir: Path, identity: tuple[int, int], settings: WpsSettings,
                   state: Callable[[], str]) -> None:
    """Until the server of a pool container answers on its socket (a GetCapabilities through the locked
    socket directory, so its start-up and first request are paid before a job claims it); ``TransportError``
    when its container ends or it does not answer within ``docker_wps_start_timeout``."""
    import requests

    deadline = time.monotonic() + settings.start_timeout
    delay, last = 0.02, "no socket"
    while True:
        current = state()
        if current in ("exited", "dead", "gone"):
            raise TransportError(f"the WPS server of a pool container ended before it listened ({current})")
        if current == "running":
            with OutDir(outdir) as out:
                found = out.socket_path(identity)
            if found is not None:
                fd, path = found
                session = unix_session(path)
                try:
                    left = max(1.0, deadline - time.monotonic())
                    response = session.request("GET", f"http://localhost{settings.path}?service=WPS&"
                                               "request=GetCapabilities", timeout=(5, left),
                                               allow_redirects=False, stream=True)
                    response.close()  # any answer will do: the server is up and has loaded its application
                    return
                except (requests.RequestException, OSError) as exc:
                    last = f"{type(exc).__name__}: {str(exc)[:200]}"
                finally:
                    session.close()
                    os.close(fd)
        if time.monotonic() > deadline:
            raise TransportError(f"the WPS server of a pool container did not answer on {settings.socket} within "
                                 f"{settings.start_timeout:g} s ({last})")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.25)


def server_config(job: dict[str, Any], settings: WpsSettings) -> str:
    """The in-container server's configuration: the job's own sections (no secrets: ``Config.for_job``)
    with the server's paths pointing into the container (PyWPS 4 keys: PyWPS 4 and this server read it)."""
    import configparser
    import io

    server = f"{settings.out_dir.rstrip('/')}/{SERVER_DIR}"
    sections: dict[str, dict[str, str]] = {name: dict(values) for name, values in (job.get("config") or {}).items()
                                           if isinstance(values, dict)}
    limit = str((job.get("limits") or {}).get("maxsingleinputsize") or "") or "1gb"
    overrides = {
        "server": {"url": f"http://localhost{settings.path}", "outputurl": "http://localhost/outputs/",
                   "outputpath": f"{server}/outputs", "workdir": f"{server}/work", "temp_path": "/tmp",
                   "allowedinputpaths": settings.inp_dir, "maxsingleinputsize": limit,
                   "maxrequestsize": "1gb", "parallelprocesses": "2", "cleantempdir": "true"},
        "processing": {"mode": "multiprocessing", "forkserver": "false"},  # one job: fork it directly
        "logging": {"database": f"sqlite:///{server}/pywps-logs.sqlite", "file": "", "level": "INFO"},
        "jobs": {"poll_interval": "0.05"},
    }
    for name, values in overrides.items():
        sections.setdefault(name, {}).update(values)
    parser = configparser.RawConfigParser()
    for name, values in sections.items():
        parser[name] = {k: str(v).replace("\n", " ") for k, v in values.items()}
    text = io.StringIO()
    text.write("# written by the host for this job's in-container WPS server (docker_transport = wps)\n")
    parser.write(text)
    return text.getvalue()


class OutDir:
    """The host's writes into a job's ``out/`` (a directory the container may be changing): relative to a
    descriptor, never following a link, each file made new and renamed into place."""

    def __init__(self, outdir: Path) -> None:
        if outdir.is_symlink():  # a pooled job's out/: the host's link (in the job directory, which no container
            outdir = outdir.parent / os.readlink(outdir)  # sees) to its pool slot's out/, the container's mount
        parent = os.open(outdir.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            self.fd = os.open(outdir.name, _O_DIR, dir_fd=parent)
        finally:
            os.close(parent)

    def close(self) -> None:
        os.close(self.fd)

    def __enter__(self) -> OutDir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self, name: str, data: bytes, dir_fd: int | None = None) -> None:
        where = self.fd if dir_fd is None else dir_fd
        tmp = f".{name}.{uuid.uuid4().hex}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644,
                     dir_fd=where)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fchmod(fd, 0o644)
        finally:
            os.close(fd)
        try:
            os.replace(tmp, name, src_dir_fd=where, dst_dir_fd=where)
        except OSError:
            os.unlink(tmp, dir_fd=where)
            raise

    def write_json(self, name: str, doc: Any) -> None:
        self.write(name, json.dumps(doc, separators=(",", ":")).encode("utf-8"))

    def files(self) -> int:
        """A descriptor of ``out/files`` as a real directory (whatever the dead container left there)."""
        for _ in range(3):
            try:
                return os.open("files", _O_DIR, dir_fd=self.fd)
            except FileNotFoundError:
                pass
            except OSError as exc:
                if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise
                os.unlink("files", dir_fd=self.fd)  # a link or a file the container put there
            try:
                os.mkdir("files", 0o755, dir_fd=self.fd)
            except FileExistsError:
                pass
        raise TransportError("out/files cannot be made a directory")

    def socket_path(self, identity: tuple[int, int]) -> tuple[int, str] | None:
        """A descriptor of the host-made ``out/socket`` (checked by its inode), locked against the container,
        and the socket path through it; None while the server does not listen yet."""
        try:
            fd = os.open(SOCKET_DIR, _O_DIR, dir_fd=self.fd)
        except OSError as exc:
            raise TransportError(f"out/{SOCKET_DIR} was replaced ({exc.strerror})") from None
        try:
            info = os.fstat(fd)
            if (info.st_dev, info.st_ino) != tuple(identity):
                raise TransportError(f"out/{SOCKET_DIR} was replaced by the container")
            try:
                entry = os.stat(SOCKET_NAME, dir_fd=fd, follow_symlinks=False)
            except FileNotFoundError:
                os.close(fd)
                return None
            if not stat.S_ISSOCK(entry.st_mode):
                raise TransportError(f"out/{SOCKET_DIR}/{SOCKET_NAME} is not a socket")
            os.fchmod(fd, stat.S_IMODE(info.st_mode) & 0o750)  # the container may not swap it from now on
            entry = os.stat(SOCKET_NAME, dir_fd=fd, follow_symlinks=False)
            if not stat.S_ISSOCK(entry.st_mode):
                raise TransportError(f"out/{SOCKET_DIR}/{SOCKET_NAME} is not a socket")
        except BaseException:
            os.close(fd)
            raise
        return fd, f"/proc/self/fd/{fd}/{SOCKET_NAME}"


def finish(jobdir: Path, transport: Transport, state: dict[str, Any], log_tail: bytes = b"") -> dict[str, Any]:
    """Once the container has stopped: staged files into ``out/files``, then ``result.json`` and the final
    ``status.json``; the state becomes ``done``. Safe to repeat after a crash half-way."""
    result = state.get("result") or {"outputs": [], "exception": {"code": "NoApplicableCode", "locator": "",
                                                                   "text": "no result"}}
    with OutDir(JobDir(jobdir).outdir) as out:
        if log_tail:
            try:
                out.write("worker.log", log_tail[-MAX_LOG:])
            except OSError as exc:
                log.warning("job %s: could not write worker.log: %s", jobdir.name, exc)
        files_fd = out.files()
        try:
            staging_fd = os.open(transport.staging, _O_DIR)
            try:
                for name in state.get("staged") or []:
                    try:
                        os.replace(name, name, src_dir_fd=staging_fd, dst_dir_fd=files_fd)
                    except FileNotFoundError:
                        pass  # moved before a restart
            finally:
                os.close(staging_fd)
        finally:
            os.close(files_fd)
        out.write_json("result.json", result)
        failed = result.get("exception") is not None
        out.write_json("status.json", {
            "status": "failed" if failed else "succeeded", "percent": 100,
            "message": (result["exception"] or {}).get("text", "") if failed else "Process succeeded",
            "heartbeat": time.time(), "pid": 0})
    state = {**state, "phase": "done", "result": None}
    transport.save(state)
    return state


# -- the follower ------------------------------------------------------------------------------------------------

@dataclass
class EngineOps:
    """What the follower may ask of the container engine about its one container."""

    state: Callable[[], str]           # running, paused, created, exited, dead, gone (or unknown)
    stop: Callable[[], None]           # stop the container now (its outputs are collected)
    logs: Callable[[], bytes]          # the end of the container's log
    verdict: Callable[[], str]         # after the stop: what the engine saw ("killed: out of memory ...") or ""
    ended: Callable[[], None]          # the job's hand-back is complete


class Follower(threading.Thread):
    """Follows one job through the WPS server in its container, from the Execute to the hand-back."""

    def __init__(self, handle: str, jobdir: Path, settings: WpsSettings, ops: EngineOps) -> None:
        super().__init__(name=f"pywps-wps-{handle[:12]}", daemon=True)
        self.handle = handle
        self.jobdir = Path(jobdir)
        self.settings = settings
        self.ops = ops
        self.transport = Transport(jobdir)
        self.finished = threading.Event()
        self.stopping = threading.Event()
        self._last_status: tuple[int, str] | None = None
        self._last_beat = 0.0

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        lock = None
        try:
            lock = self.transport.lock()
            if lock is None:
                return  # another follower (another server process) has it
            self._follow()
        except Exception:
            log.exception("job %s: following its container's WPS server failed", self.jobdir.name)
        finally:
            if lock is not None:
                os.close(lock)
            self.finished.set()
            try:
                self.ops.ended()
            except Exception:
                log.debug("end-of-runner callback failed", exc_info=True)

    # -- phases ------------------------------------------------------------------------------------
    def _follow(self) -> None:
        state = self.transport.load()
        if not state or state.get("phase") == "done":
            return
        if state.get("phase") != "collected":
            try:
                state = self._run_job(state)
            except TransportError as exc:
                if self.ops.state() in ("exited", "dead", "gone"):
                    return  # the container ended meanwhile (a limit, a cancel): the engine says why
                log.warning("job %s: %s", self.jobdir.name, exc)
                state = {**state, "phase": "collected", "staged": [],
                         "result": {"outputs": [], "exception": {"code": "NoApplicableCode", "locator": "",
                                                                  "text": f"Process failed: {exc}"}}}
                self.transport.save(state)
            if state is None:
                return  # the container ended by itself (killed, crashed): the backend reports why
        self._stop_container()
        if self.ops.state() not in ("exited", "dead", "gone"):
            return  # could not stop it now: the backend's poll finishes the job once it has
        verdict = self.ops.verdict()
        result = state.get("result") or {}
        if verdict and result.get("exception"):  # the engine knows better why the process died
            text = result["exception"].get("text", "")
            result["exception"]["text"] = f"{verdict} ({text})" if text else verdict
        finish(self.jobdir, self.transport, state, self._logs())

    def _run_job(self, state: dict[str, Any]) -> dict[str, Any] | None:
        session, sock_fd = self._connect(state)
        if session is None:
            return None
        try:
            if state.get("phase") != "submitted":
                state = self._submit(session, state)
            if state.get("phase") == "submitted":
                return self._poll(session, state)
            return state
        finally:
            session.close()
            os.close(sock_fd)

    def _connect(self, state: dict[str, Any]) -> tuple[Any, int]:
        """Wait until the server listens on the socket; a session bound to it (None: the container ended)."""
        waited, delay = 0.0, 0.02
        while not self.stopping.is_set():
            current = self.ops.state()
            if current in ("exited", "dead", "gone"):
                return None, -1
            if current == "running":
                with OutDir(JobDir(self.jobdir).outdir) as out:
                    found = out.socket_path(tuple(state.get("socket") or (0, 0)))
                if found is not None:
                    fd, path = found
                    return unix_session(path), fd
                waited += delay
            if waited > self.settings.start_timeout and state.get("phase") == "starting":
                raise TransportError(f"the WPS server in the container did not listen on {self.settings.socket} "
                                     f"within {self.settings.start_timeout:g} s ([processing] docker_wps_command)")
            time.sleep(delay)
            delay = min(delay * 1.5, 0.25)
        return None, -1

    def _submit(self, session: Any, state: dict[str, Any]) -> dict[str, Any]:
        """Post the Execute (asynchronously; synchronously when the process cannot store its response)."""
        import requests

        from pywps.requestmodel import ExecuteRequest

        job = json.loads((JobDir(self.jobdir).indir / JOB_JSON).read_bytes())
        request = ExecuteRequest.from_dict(job["request"])
        process = _process(job)
        indir = JobDir(self.jobdir).indir
        url = f"http://localhost{self.settings.path}"
        deadline = time.monotonic() + max(5.0, self.settings.start_timeout)
        for asynchronous in (True, False):
            body = build_execute(request, process, indir, self.settings.inp_dir, asynchronous)
            while True:
                try:
                    data = http(session, "POST", url, MAX_DOCUMENT, body=body,
                                timeout=(5, 60 if asynchronous else None))
                    break
                except (requests.ConnectionError, ConnectionRefusedError) as exc:
                    if time.monotonic() > deadline or self.ops.state() in ("exited", "dead", "gone"):
                        raise TransportError(f"the WPS server in the container does not answer ({exc})") \
                            from None
                    time.sleep(0.05)
                except requests.RequestException as exc:
                    raise TransportError(f"the WPS server in the container does not answer ({exc})") from None
            status = parse_status(data)
            if status.exception and status.exception["code"] == "StorageNotSupported" and asynchronous:
                continue
            break
        if status.final:
            return self._collect(session, status, state, request, process)
        if not status.status_location:
            raise TransportError("the WPS server in the container accepted the job without a statusLocation")
        _target(status.status_location)  # checked now, not when polling
        self._mirror(status)
        state = {**state, "phase": "submitted", "status_url": status.status_location}
        self.transport.save(state)
        return state

    def _poll(self, session: Any, state: dict[str, Any]) -> dict[str, Any] | None:
        """Follow the status document until the job is final; None when the container ends first."""
        import requests

        job = json.loads((JobDir(self.jobdir).indir / JOB_JSON).read_bytes())
        from pywps.requestmodel import ExecuteRequest

        request, process = ExecuteRequest.from_dict(job["request"]), _process(job)
        delay, failures, failing_since = 0.05, 0, None
        while not self.stopping.is_set():
            current = self.ops.state()
            if current in ("exited", "dead", "gone"):
                return None
            if current != "running":  # paused (or the engine does not answer): the clock does not run
                failing_since = None
                time.sleep(0.25)
                continue
            try:
                status = parse_status(http(session, "GET", state["status_url"], MAX_DOCUMENT, timeout=(5, 30)))
                failures, failing_since = 0, None
            except HostileAnswer:
                raise
            except (requests.RequestException, OSError, TransportError) as exc:
                failures += 1  # a status document being rewritten, a server restarting its workers: retried
                failing_since = failing_since or time.monotonic()
                if time.monotonic() - failing_since > 30 and failures > 5:
                    raise TransportError(f"the WPS server in the container stopped answering ({exc})") from None
                time.sleep(min(1.0, 0.1 * failures))
                continue
            if status.final:
                return self._collect(session, status, state, request, process)
            self._mirror(status)
            time.sleep(delay)
            delay = min(delay * 1.5, 1.0)
        return None

    def _collect(self, session: Any, status: InnerStatus, state: dict[str, Any], request: Any,
                 process: Any) -> dict[str, Any]:
        """The final response: outputs staged on the host, the result in the worker's format."""
        shutil.rmtree(self.transport.staging, ignore_errors=True)
        self.transport.staging.mkdir(mode=0o700)
        if status.status == "ProcessSucceeded":
            collector = Collector(session, self.transport.staging, self.settings.max_download, request, process)
            try:
                outputs = collector.results(status.outputs or [])
            except OSError as exc:
                raise TransportError(f"an output could not be fetched from the container ({exc})") from None
            result: dict[str, Any] = {"outputs": outputs, "exception": None}
            staged = sorted(collector.names)
        else:
            result = {"outputs": [], "exception": status.exception or {
                "code": "NoApplicableCode", "locator": "", "text": "the process failed in the container"}}
            staged = []
        state = {**state, "phase": "collected", "result": result, "staged": staged}
        self.transport.save(state)
        return state

    # -- helpers -----------------------------------------------------------------------------------
    def _mirror(self, status: InnerStatus) -> None:
        """The in-container progress into ``out/status.json`` (the dispatcher's progress mirroring reads it)."""
        now = time.time()
        current = (status.percent, status.message)
        if current == self._last_status and now - self._last_beat < 2.0:
            return
        self._last_status, self._last_beat = current, now
        try:
            with OutDir(JobDir(self.jobdir).outdir) as out:
                out.write_json("status.json", {"status": "started", "percent": status.percent,
                                               "message": status.message, "heartbeat": now, "pid": 0})
        except OSError as exc:
            log.debug("job %s: status not mirrored: %s", self.jobdir.name, exc)

    def _stop_container(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            current = self.ops.state()
            if current in ("exited", "dead", "gone"):
                return
            if current in ("running", "paused", "created"):
                try:
                    self.ops.stop()
                except Exception as exc:  # noqa: BLE001 - engine trouble: retried, then left to poll
                    log.warning("job %s: could not stop its container: %s", self.jobdir.name, exc)
            time.sleep(0.02)

    def _logs(self) -> bytes:
        try:
            return self.ops.logs()[-MAX_LOG:]
        except Exception:  # noqa: BLE001 - a log is a nicety
            return b""


def _process(job: dict[str, Any]) -> Any:
    """The host's definition of the job's process (for output defaults and formats), None if unavailable."""
    from pywps.registry import load_process

    try:
        return load_process(job["process"])
    except Exception as exc:  # noqa: BLE001 - the in-container server still knows the process
        log.info("process %s not loadable on the host (%s): the in-container server's defaults apply",
                 (job.get("process") or {}).get("identifier"), exc)
        return None

