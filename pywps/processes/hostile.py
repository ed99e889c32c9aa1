"""Misbehaving processes that the isolation tests run in ``mode = docker``; never offer them on a real server.

Each one tries something a job must not be able to do and reports what happened (or is stopped by a limit):
open a network connection, write outside its output directory, read other jobs' or the server's files,
fork without end, allocate far more memory than allowed, loop forever, or sleep while reporting progress.
The destructive ones refuse to run outside a container.
"""

from __future__ import annotations

import json
import os
import socket
import time

from pywps import LiteralInput, LiteralOutput, Process
from pywps.app.exceptions import ProcessError


def _in_container() -> bool:
    """True inside a pywps job container (the docker backend sets PYWPS_JOB_ID; docker adds /.dockerenv)."""
    return os.path.exists("/.dockerenv") and "PYWPS_JOB_ID" in os.environ


def _text(request, name: str, default: str = "") -> str:
    """The first value of a literal input, or ``default``."""
    values = request.inputs.get(name) or []
    return str(values[0].data) if values else default


def _number(request, name: str, default: float) -> float:
    values = request.inputs.get(name) or []
    return float(values[0].data) if values else default


def _paths(request, default: str) -> list[str]:
    return [p.strip() for p in _text(request, "paths", default).split(",") if p.strip()]


class NetworkConnect(Process):
    """Tries a TCP connection and a DNS lookup; reports each outcome."""

    def __init__(self) -> None:
        super().__init__(
            self._handler, store_supported=True, status_supported=True,
            identifier="hostile_network", title="Open a network connection",
            inputs=[LiteralInput("host", "Address to connect to", data_type="string", min_occurs=0,
                                 default="1.1.1.1"),
                    LiteralInput("port", "TCP port", data_type="integer", min_occurs=0, default=80)],
            outputs=[LiteralOutput("outcome", "JSON: what each attempt gave", data_type="string")],
        )

    @staticmethod
    def _handler(request, response):
        host, port = _text(request, "host", "1.1.1.1"), int(_number(request, "port", 80))
        outcome: dict[str, str] = {}
        try:
            with socket.create_connection((host, port), timeout=3):
                outcome["connect"] = "connected"
        except OSError as exc:
            outcome["connect"] = f"error: {exc}"
        try:
            outcome["dns"] = "resolved " + socket.gethostbyname("example.org")
        except OSError as exc:
            outcome["dns"] = f"error: {exc}"
        try:
            with open("/proc/net/dev") as handle:
                outcome["interfaces"] = ",".join(
                    line.split(":")[0].strip() for line in handle.readlines()[2:])
        except OSError as exc:
            outcome["interfaces"] = f"error: {exc}"
        response.outputs["outcome"].data = json.dumps(outcome)
        return response


class WriteOutside(Process):
    """Tries to create a file in each of several places; reports which writes succeeded."""

    DEFAULT = "/,/etc,/pywps,/pywps/in,/opt,/usr/lib,/var/tmp,/root,/home,/dev/shm,/tmp"

    def __init__(self) -> None:
        super().__init__(
            self._handler, store_supported=True, status_supported=True,
            identifier="hostile_write", title="Write outside the output directory",
            inputs=[LiteralInput("paths", "Comma-separated directories to write into", data_type="string",
                                 min_occurs=0, default=self.DEFAULT)],
            outputs=[LiteralOutput("outcome", "JSON: directory -> 'written' or the error", data_type="string")],
        )

    @staticmethod
    def _handler(request, response):
        outcome: dict[str, str] = {}
        for directory in _paths(request, WriteOutside.DEFAULT):
            target = os.path.join(directory, f"pywps-hostile-{os.getpid()}")
            try:
                with open(target, "w") as handle:
                    handle.write("escaped")
                outcome[directory] = "written"
                os.unlink(target)
            except OSError as exc:
                outcome[directory] = f"error: {exc.strerror}"
        response.outputs["outcome"].data = json.dumps(outcome)
        return response


class ReadOther(Process):
    """Tries to list and read each of several paths (another job's directory, the server's files)."""

    DEFAULT = "/etc/shadow,/proc/1/environ,/var/run/docker.sock,/pywps"

    def __init__(self) -> None:
        super().__init__(
            self._handler, store_supported=True, status_supported=True,
            identifier="hostile_read", title="Read other jobs' and the server's files",
            inputs=[LiteralInput("paths", "Comma-separated paths to list or read", data_type="string",
                                 min_occurs=0, default=self.DEFAULT)],
            outputs=[LiteralOutput("outcome", "JSON: path -> what could be seen", data_type="string")],
        )

    @staticmethod
    def _handler(request, response):
        outcome: dict[str, str] = {}
        for path in _paths(request, ReadOther.DEFAULT):
            try:
                if os.path.isdir(path):
                    outcome[path] = "listed: " + ",".join(sorted(os.listdir(path))[:20])
                elif os.path.exists(path):
                    with open(path, "rb") as handle:
                        outcome[path] = f"read {len(handle.read(4096))} bytes"
                else:
                    outcome[path] = "missing"
            except OSError as exc:
                outcome[path] = f"error: {exc.strerror}"
        response.outputs["outcome"].data = json.dumps(outcome)
        return response


class ForkBomb(Process):
    """Every process forks again until the kernel refuses; then the parent reports and fails."""

    def __init__(self) -> None:
        super().__init__(
            self._handler, store_supported=True, status_supported=True,
            identifier="hostile_forkbomb", title="Fork bomb",
            inputs=[LiteralInput("hold", "Seconds to keep the bomb alive after the first refusal",
                                 data_type="float", min_occurs=0, default=2)],
            outputs=[LiteralOutput("forks", "Forks the parent managed", data_type="integer")],
        )

    @staticmethod
    def _handler(request, response):
        if not _in_container():
            raise ProcessError("hostile_forkbomb only runs inside a pywps job container")
        hold = _number(request, "hold", 2.0)
        forks = 0
        while True:
            try:
                pid = os.fork()
            except OSError as exc:
                time.sleep(hold)
                raise ProcessError(f"fork refused after {forks} forks: {exc.strerror}") from None
            if pid == 0:  # a child: fork on, and never return into the worker
                try:
                    while True:
                        try:
                            os.fork()
                        except OSError:
                            time.sleep(3600)
                finally:
                    os._exit(0)
            forks += 1


class Allocate(Process):
    """Allocates (and touches) memory in 64 MiB steps up to the requested size."""

    def __init__(self) -> None:
        super().__init__(
            self._handler, store_supported=True, status_supported=True,
            identifier="hostile_memory", title="Allocate lots of memory",
            inputs=[LiteralInput("megabytes", "MiB to allocate", data_type="integer", min_occurs=0,
                                 default=2048)],
            outputs=[LiteralOutput("allocated", "MiB allocated", data_type="integer")],
        )

    @staticmethod
    def _handler(request, response):
        total = int(_number(request, "megabytes", 2048))
        if total > 512 and not _in_container():
            raise ProcessError("hostile_memory allocates more than 512 MiB only inside a pywps job container")
        chunks = []
        for step in range(0, total, 64):
            chunks.append(b"\x01" * (64 * 1024 * 1024))  # written, so really resident
            response.update_status(f"allocated {step + 64} MiB", min(99, (step + 64) * 100 // total))
        response.outputs["allocated"].data = len(chunks) * 64
        return response


class EndlessLoop(Process):
    """Spins the CPU forever."""

    def __init__(self) -> None:
        super().__init__(
            self._handler, store_supported=True, status_supported=True,
            identifier="hostile_loop", title="Endless loop",
            inputs=[], outputs=[LiteralOutput("never", "Never produced", data_type="string")],
        )

    @staticmethod
    def _handler(request, response):
        count = 0
        while True:
            count += 1


class SleepLong(Process):
    """Sleeps for a long time in small steps, reporting progress after each."""

    def __init__(self) -> None:
        super().__init__(
            self._handler, store_supported=True, status_supported=True,
            identifier="hostile_sleep", title="Long sleep with progress",
            inputs=[LiteralInput("seconds", "How long to sleep", data_type="float", min_occurs=0, default=30),
                    LiteralInput("steps", "Progress updates", data_type="integer", min_occurs=0, default=30)],
            outputs=[LiteralOutput("slept", "Seconds slept", data_type="float")],
        )

    @staticmethod
    def _handler(request, response):
        seconds, steps = _number(request, "seconds", 30.0), max(1, int(_number(request, "steps", 30)))
        started = time.monotonic()
        for step in range(1, steps + 1):
            time.sleep(seconds / steps)
            response.update_status(f"slept {step}/{steps}", step * 100 // steps)
        response.outputs["slept"].data = round(time.monotonic() - started, 3)
        return response


HOSTILE_CLASSES = [NetworkConnect, WriteOutside, ReadOther, ForkBomb, Allocate, EndlessLoop, SleepLong]


def hostile_processes() -> list:
    """Fresh instances of every hostile process (tests only)."""
    return [cls() for cls in HOSTILE_CLASSES]


def testing_processes() -> list:
    """The example processes plus the hostile ones: ``PYWPS_PROCESSES=pywps.processes.hostile:testing_processes``."""
    from pywps.processes import example_processes

    return example_processes() + hostile_processes()
