"""The hand-back: everything a job leaves in ``out/`` is read as hostile input (pure stdlib).

A job's runner (a forked process, a container under another uid, a batch job on a node) controls every
entry of its ``out/`` directory: it can plant symlinks to host files, FIFOs that block a reader, devices,
hard links, files that grow without end, JSON that is huge or of the wrong shape, and it can swap a file
for a link after the server looked at it. Every backend and the dispatcher read ``out/`` only through
:class:`HandBack`, which

* opens each entry relative to a directory descriptor with ``O_NOFOLLOW | O_NONBLOCK`` (a symlink, at any
  level below ``out/``, is refused; a FIFO never blocks), then checks with ``fstat`` on the open descriptor
  that it is a regular file with a single link (no FIFO, device, socket, or hard link to a file elsewhere);
* reads at most a cap: ``status.json`` and ``result.json`` are refused when larger, a log is read from its
  tail;
* checks the shape of the JSON documents and drops characters XML 1.0 cannot carry from the texts a job
  reports (messages, exception texts), so a job cannot break the documents the server renders;
* publishes output files by **copying** the bytes of the descriptor it checked (never renaming a path the
  job controls) into a directory the server owns, with the server's ownership and ``0o644``, within an
  optional per-job size cap; output names must be plain basenames inside ``out/files/``.

The one entry followed as a link is ``out`` itself when the server made it (a pre-started docker pool
container's directory): the job directory is the server's and is never mounted into the runner; a link
there is accepted only when it points below one of the ``trusted_roots`` the caller names.
"""

from __future__ import annotations

import errno
import json
import os
import re
import stat
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

STATUS_JSON = "status.json"
RESULT_JSON = "result.json"
FILES = "files"

MAX_STATUS_BYTES = 64 * 1024
MAX_RESULT_BYTES = 64 * 1024 * 1024
MAX_MESSAGE_CHARS = 2000
_COPY_CHUNK = 1024 * 1024

_O_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_O_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0)
# characters XML 1.0 cannot carry (C0 controls but tab/newline/return, surrogates, U+FFFE/U+FFFF)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


_MEDIA_TYPE = re.compile(r"^[A-Za-z0-9][\w.+\-]*/[A-Za-z0-9][\w.+\-]*(\s*;\s*[\w.+\-]+=[\w.+\-\"]+)*$")


def media_type(text: Any) -> str | None:
    """``text`` when it is a well-formed media type (safe in a Content-Type header), else None."""
    return text if isinstance(text, str) and len(text) < 200 and _MEDIA_TYPE.match(text) else None


class UntrustedOutput(Exception):
    """What a job left in ``out/`` cannot be accepted; the message says what and why, for the client."""


def xml_safe(text: Any, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` as a string XML 1.0 can carry, at most ``limit`` characters."""
    return _NOT_XML.sub("", str(text))[:limit]


def plain_name(name: Any) -> bool:
    """Whether ``name`` is a plain file name: no directory part, not ``.``/``..``, no NUL, not hidden."""
    return (isinstance(name, str) and 0 < len(name) <= 255 and "/" not in name and "\x00" not in name
            and not name.startswith("."))


def open_regular(dir_fd: int, name: str) -> tuple[int, os.stat_result]:
    """Open ``name`` under ``dir_fd`` without following a link or blocking; it must be a lone regular file."""
    if not plain_name(name):
        raise UntrustedOutput(f"{name!r} is not a plain file name")
    try:
        fd = os.open(name, _O_FILE, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EMLINK):
            raise UntrustedOutput(f"{name!r} is a symbolic link") from None
        if exc.errno == errno.ENOENT:
            raise FileNotFoundError(errno.ENOENT, "no such file", name) from None
        raise UntrustedOutput(f"{name!r} cannot be opened: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UntrustedOutput(f"{name!r} is not a regular file")
        if info.st_nlink != 1:
            raise UntrustedOutput(f"{name!r} is a hard link to another file")
    except BaseException:
        os.close(fd)
        raise
    return fd, info


def read_capped(dir_fd: int, name: str, cap: int) -> bytes:
    """The whole of regular file ``name`` under ``dir_fd``; ``UntrustedOutput`` when larger than ``cap``."""
    fd, info = open_regular(dir_fd, name)
    try:
        if info.st_size > cap:
            raise UntrustedOutput(f"{name!r} is larger than {cap} bytes")
        chunks, size = [], 0
        while size <= cap:
            chunk = os.read(fd, min(cap + 1 - size, _COPY_CHUNK))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > cap:
            raise UntrustedOutput(f"{name!r} is larger than {cap} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_tail(dir_fd: int, name: str, nbytes: int) -> bytes:
    """At most the last ``nbytes`` of regular file ``name`` (a log); empty when it is not one."""
    try:
        fd, info = open_regular(dir_fd, name)
    except (OSError, UntrustedOutput):
        return b""
    try:
        os.lseek(fd, max(0, info.st_size - nbytes), os.SEEK_SET)
        return os.read(fd, nbytes)
    except OSError:
        return b""
    finally:
        os.close(fd)


class HandBack:
    """Read one job's ``out/`` as hostile input; see the module docstring.

    ``outdir`` is the job's ``out/`` as the server sees it (``JobDir.outdir``); ``trusted_roots`` are the
    directories a server-made ``out`` symlink may point into.
    """

    def __init__(self, outdir: Path | str, trusted_roots: Iterable[Path | str] = ()) -> None:
        self.outdir = Path(outdir)
        self.trusted_roots = tuple(Path(r).resolve() for r in trusted_roots)

    # -- directories -----------------------------------------------------------------------------

    def _open_out(self) -> int:
        """A descriptor of ``out/``; a link there only when it points below a trusted root."""
        parent = os.open(self.outdir.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            try:
                return os.open(self.outdir.name, _O_DIR, dir_fd=parent)
            except OSError as exc:
                if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise
            target = Path(os.readlink(self.outdir.name, dir_fd=parent))
            if not target.is_absolute():
                raise UntrustedOutput("the job's out/ is a relative symbolic link")
            resolved = target.resolve()
            if not any(resolved.is_relative_to(root) for root in self.trusted_roots):
                raise UntrustedOutput("the job's out/ is a symbolic link out of the server's directories")
            return os.open(resolved, _O_DIR)
        finally:
            os.close(parent)

    def _open_files(self, out_fd: int) -> int:
        try:
            return os.open(FILES, _O_DIR, dir_fd=out_fd)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                raise
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise UntrustedOutput("the job's out/files is not a directory (a symbolic link?)") from None
            raise UntrustedOutput(f"the job's out/files cannot be opened: {exc.strerror}") from None

    # -- documents -------------------------------------------------------------------------------

    def _document(self, name: str, cap: int) -> Any | None:
        try:
            out_fd = self._open_out()
        except FileNotFoundError:
            return None
        try:
            data = read_capped(out_fd, name, cap)
        except FileNotFoundError:
            return None
        finally:
            os.close(out_fd)
        try:
            return json.loads(data)
        except (ValueError, RecursionError):
            raise UntrustedOutput(f"{name!r} is not a JSON document") from None

    def has_result(self) -> bool:
        """Whether the runner left a ``result.json`` (any kind of entry: reading it decides the rest)."""
        try:
            os.lstat(self.outdir / RESULT_JSON)
            return True
        except OSError:
            return False

    def status(self) -> dict[str, Any] | None:
        """The runner's last ``status.json`` as ``{"status", "percent", "message", "heartbeat"}``; None when
        there is none or it cannot be accepted (progress is advisory: a bad one is simply not shown)."""
        try:
            doc = self._document(STATUS_JSON, MAX_STATUS_BYTES)
        except (UntrustedOutput, OSError):
            return None
        if not isinstance(doc, dict):
            return None
        try:
            percent = max(0, min(100, int(doc.get("percent") or 0)))
        except (TypeError, ValueError, OverflowError):
            percent = 0
        heartbeat = doc.get("heartbeat")
        return {
            "status": xml_safe(doc.get("status") or "", 32),
            "percent": percent,
            "message": xml_safe(doc.get("message") or ""),
            "heartbeat": float(heartbeat) if isinstance(heartbeat, (int, float)) else None,
        }

    def result(self) -> dict[str, Any] | None:
        """The runner's ``result.json``: ``{"outputs": [dict], "exception": dict | None}``; None when there
        is none; ``UntrustedOutput`` when it cannot be accepted (too large, a link, a FIFO, malformed)."""
        doc = self._document(RESULT_JSON, MAX_RESULT_BYTES)
        if doc is None:
            return None
        if not isinstance(doc, dict):
            raise UntrustedOutput("result.json is not a JSON object")
        outputs, exception = doc.get("outputs") or [], doc.get("exception")
        if not isinstance(outputs, list) or not all(isinstance(o, dict) for o in outputs):
            raise UntrustedOutput("result.json: 'outputs' is not a list of objects")
        if exception is not None:
            if not isinstance(exception, dict):
                raise UntrustedOutput("result.json: 'exception' is not an object")
            exception = {"code": xml_safe(exception.get("code") or "NoApplicableCode", 64),
                         "locator": xml_safe(exception.get("locator") or "", 200),
                         "text": xml_safe(exception.get("text") or "")}
        for output in outputs:
            name = output.get("file")
            if name is not None and not plain_name(name):
                raise UntrustedOutput(f"result.json names the output file {str(name)[:100]!r}, which is not a "
                                      "plain file name inside out/files")
        return {"outputs": outputs, "exception": exception}

    def log_tail(self, name: str, nbytes: int = 4096) -> str:
        """The end of a log the runner wrote in ``out/`` (``worker.log``, ``batch.log``), as text."""
        try:
            out_fd = self._open_out()
        except (OSError, UntrustedOutput):
            return ""
        try:
            return read_tail(out_fd, name, nbytes).decode("utf-8", "replace")
        finally:
            os.close(out_fd)

    # -- output files ----------------------------------------------------------------------------

    def publish(self, target: Path | str, required: Iterable[str] = (), max_total: int = 0) -> list[str]:
        """Copy the regular files of ``out/files/`` into ``target`` (made here, owned by the server).

        Entries that are not lone regular files are skipped, unless named in ``required`` (the files the
        result refers to): then ``UntrustedOutput`` says which and why. ``max_total`` (bytes, 0 = no cap)
        bounds what one job may publish. Returns the names copied.
        """
        required = set(required)
        try:
            out_fd = self._open_out()
        except FileNotFoundError:
            out_fd = -1
        if out_fd < 0:
            if required:
                raise UntrustedOutput(f"output file {sorted(required)[0]!r} is missing")
            return []
        try:
            try:
                files_fd = self._open_files(out_fd)
            except FileNotFoundError:
                if required:
                    raise UntrustedOutput(f"output file {sorted(required)[0]!r} is missing") from None
                return []
        finally:
            os.close(out_fd)
        target = Path(target)
        copied: list[str] = []
        total = 0
        try:
            names = sorted(os.listdir(files_fd))
            for name in sorted(required - set(names)):
                raise UntrustedOutput(f"output file {name!r} is missing from out/files")
            if names:
                target.mkdir(parents=True, exist_ok=True)
            for name in names:
                try:
                    fd, info = open_regular(files_fd, name)
                except FileNotFoundError:
                    if name in required:
                        raise UntrustedOutput(f"output file {name!r} vanished") from None
                    continue
                except UntrustedOutput as exc:
                    if name in required:
                        raise UntrustedOutput(f"output file {exc}") from None
                    continue
                try:
                    total += _copy(fd, info.st_size, target, name, max_total - total if max_total else 0)
                except _TooLarge:
                    raise UntrustedOutput(f"the job's output files are larger than the limit of {max_total} "
                                          "bytes ([server] maxoutputsize)") from None
                except OSError as exc:  # the server's side (a full disk): name where
                    if exc.filename:
                        raise
                    raise OSError(exc.errno, exc.strerror, str(target / name)) from None
                finally:
                    os.close(fd)
                copied.append(name)
        finally:
            os.close(files_fd)
        return copied


def open_published(root: Path | str, job_id: str, name: str) -> tuple[int, os.stat_result]:
    """Open a published output ``root/job_id/name`` for serving: no link at either level, a lone regular
    file (``FileNotFoundError`` / ``UntrustedOutput`` otherwise); the caller closes the descriptor."""
    if not plain_name(job_id) or not plain_name(name):
        raise FileNotFoundError(errno.ENOENT, "no such output", name)
    root_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        try:
            job_fd = os.open(job_id, _O_DIR, dir_fd=root_fd)
        except OSError as exc:
            if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                raise UntrustedOutput(f"{job_id!r} is not a directory") from None
            raise
    finally:
        os.close(root_fd)
    try:
        return open_regular(job_fd, name)
    finally:
        os.close(job_fd)


class _TooLarge(Exception):
    pass


def _copy(fd: int, size: int, target: Path, name: str, budget: int) -> int:
    """Copy ``size`` bytes (the size seen at open: a file that grows meanwhile is cut there) from ``fd``
    into ``target/name`` through a temporary file; return the bytes copied. ``budget`` 0 = no cap."""
    if budget and size > budget:
        raise _TooLarge
    tmp_fd, tmp = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=target)
    try:
        left = size
        while left > 0:
            chunk = os.read(fd, min(left, _COPY_CHUNK))
            if not chunk:
                break
            view = memoryview(chunk)
            while view:
                view = view[os.write(tmp_fd, view):]
            left -= len(chunk)
        os.fchmod(tmp_fd, 0o644)
        os.close(tmp_fd)
        tmp_fd = -1
        os.replace(tmp, target / name)
    except BaseException:
        if tmp_fd >= 0:
            os.close(tmp_fd)
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return size - left
