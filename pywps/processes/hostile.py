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

from pywps import ComplexOutput, Format, LiteralInput, LiteralOutput, Process, configuration
from pywps.app.exceptions import ProcessError


def _in_container() -> bool:
    """True inside a pywps job container (the docker backend sets PYWPS_JOB_ID; Docker adds /.dockerenv,
    Podman sets ``container=podman``)."""
    marker = os.path.exists("/.dockerenv") or os.environ.get("container") == "podman"
    return marker and "PYWPS_JOB_ID" in os.environ


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


class HandBackAttack(Process):
    """Leaves something hostile in its own ``out/`` for the server to read back (the hand-back attacks).

    ``attack`` chooses what: a link in ``out/files`` (``link_abs``, ``link_rel``), ``out/files`` itself
    replaced by a link to ``target`` (``files_link``), a hard link (``hardlink``), a FIFO output
    (``fifo_output``), or, from a thread that waits for the worker's ``result.json`` and keeps the runner
    alive until it is done, a swap after the fact: the output file for a link (``swap_output``),
    ``result.json`` for a FIFO (``result_fifo``), a link to /dev/zero (``result_zero``), a sparse 1 GiB file
    (``result_huge``) or a copy naming ``target`` as the output file (``result_abs``); ``big_output`` writes
    ``size`` bytes. ``target`` is the host path the job tries to make the server read.
    """

    ATTACKS = ("link_abs", "link_rel", "files_link", "hardlink", "fifo_output", "swap_output", "result_fifo",
               "result_zero", "result_huge", "result_abs", "big_output", "status_garbage")

    def __init__(self) -> None:
        super().__init__(
            self._handler, store_supported=True, status_supported=True,
            identifier="hostile_handback", title="Leave hostile files for the server",
            inputs=[LiteralInput("attack", "What to leave behind", data_type="string",
                                 allowed_values=list(self.ATTACKS)),
                    LiteralInput("target", "The host path to aim at", data_type="string", min_occurs=0,
                                 default="/etc/shadow"),
                    LiteralInput("size", "Bytes for big_output", data_type="integer", min_occurs=0, default=0)],
            outputs=[ComplexOutput("report", "A small text file", supported_formats=[Format("text/plain")],
                                   as_reference=True)],
        )

    @staticmethod
    def _handler(request, response):
        import threading

        attack, target = _text(request, "attack"), _text(request, "target", "/etc/shadow")
        out = os.path.dirname(os.getcwd())   # the handler runs in out/work
        files = os.path.join(out, "files")
        os.makedirs(files, exist_ok=True)  # made by the runner when the first output file is written
        if attack == "link_abs":
            os.symlink(target, os.path.join(files, "leak_abs"))
        elif attack == "link_rel":
            os.symlink("../" * 24 + target.lstrip("/"), os.path.join(files, "leak_rel"))
        elif attack == "files_link":
            os.rmdir(files)
            os.symlink(target, files)
        elif attack == "hardlink":
            try:
                os.link(target, os.path.join(files, "leak_hard"))
            except OSError as exc:
                raise ProcessError(f"hard link refused here: {exc.strerror}") from None
        elif attack == "fifo_output":
            os.mkfifo(os.path.join(files, "leak_fifo"))
        elif attack == "status_garbage":
            with open(os.path.join(out, "status.json"), "w") as handle:
                handle.write('{"percent": "x\u0000", "message": "a\u0000b\u001b' + "m" * 100000 + '"}')
            time.sleep(1)
        elif attack in ("swap_output", "result_fifo", "result_zero", "result_huge", "result_abs"):
            threading.Thread(target=HandBackAttack._after_result, args=(attack, out, target),
                             name="hostile-swap").start()   # not a daemon: the runner waits for it
        if attack == "big_output":
            size = int(_number(request, "size", 0))
            with open("big.txt", "wb") as handle:
                handle.truncate(size)
            response.outputs["report"].file = os.path.abspath("big.txt")
        else:
            response.outputs["report"].data = f"attack {attack} planted\n"
        return response

    @staticmethod
    def _after_result(attack: str, out: str, target: str) -> None:
        result = os.path.join(out, "result.json")
        deadline = time.monotonic() + 60
        while not os.path.exists(result) and time.monotonic() < deadline:
            time.sleep(0.002)
        tmp = os.path.join(out, ".swap")
        if attack == "swap_output":
            with open(result) as handle:
                doc = json.load(handle)
            for item in doc.get("outputs", []):
                if item.get("file"):
                    os.symlink(target, tmp)
                    os.replace(tmp, os.path.join(out, "files", item["file"]))
        elif attack == "result_fifo":
            os.mkfifo(tmp)
            os.replace(tmp, result)
        elif attack == "result_zero":
            os.symlink("/dev/zero", tmp)
            os.replace(tmp, result)
        elif attack == "result_huge":
            with open(tmp, "wb") as handle:
                handle.truncate(1024 ** 3)
            os.replace(tmp, result)
        elif attack == "result_abs":
            with open(result) as handle:
                doc = json.load(handle)
            for item in doc.get("outputs", []):
                item["file"] = target
            with open(tmp, "w") as handle:
                json.dump(doc, handle)
            os.replace(tmp, result)
        time.sleep(0.5)  # the runner ends after this thread: the server reads what it left


class ConfigProbe(Process):
    """Reports everything the job can learn of the server's configuration and its own environment."""

    def __init__(self) -> None:
        super().__init__(
            self._handler, store_supported=True, status_supported=True,
            identifier="hostile_config", title="Look for the server's secrets",
            inputs=[], outputs=[LiteralOutput("outcome", "JSON: configuration, environment, job files",
                                              data_type="string")],
        )

    @staticmethod
    def _handler(request, response):
        config = configuration.get_config()
        seen: dict[str, object] = {
            "config": {name: dict(config.parser.items(name, raw=True)) for name in config.parser.sections()},
            "environ": dict(os.environ),
        }
        indir = os.path.join(os.path.dirname(os.path.dirname(os.getcwd())), "in")
        for root in (indir, "/pywps/in"):
            for name in ("job.json", "batch.sh"):
                try:
                    with open(os.path.join(root, name)) as handle:
                        seen[f"{root}/{name}"] = handle.read()
                except OSError as exc:
                    seen[f"{root}/{name}"] = f"error: {exc.strerror}"
        response.outputs["outcome"].data = json.dumps(seen)
        return response


class Crash(Process):
    """Ends its runner at once with exit code 3, writing no result (a segfault or os._exit in real code)."""

    def __init__(self) -> None:
        super().__init__(
            self._handler, store_supported=True, status_supported=True,
            identifier="hostile_crash", title="Crash without a result",
            inputs=[], outputs=[LiteralOutput("never", "Never produced", data_type="string")],
        )

    @staticmethod
    def _handler(request, response):
        os._exit(3)


class Ticker(Process):
    """Appends a line to ``out/ticks`` every 0.1 s for ``seconds``: proof of whether it still runs."""

    def __init__(self) -> None:
        super().__init__(
            self._handler, store_supported=True, status_supported=True,
            identifier="hostile_ticker", title="Tick until stopped",
            inputs=[LiteralInput("seconds", "How long to tick", data_type="float", min_occurs=0, default=60)],
            outputs=[LiteralOutput("ticks", "Ticks written", data_type="integer")],
        )

    @staticmethod
    def _handler(request, response):
        path = os.path.join(os.path.dirname(os.getcwd()), "ticks")  # the handler runs in out/work
        deadline = time.monotonic() + _number(request, "seconds", 60.0)
        count = 0
        while time.monotonic() < deadline:
            with open(path, "a") as handle:
                handle.write(f"{count}\n")
            count += 1
            time.sleep(0.1)
        response.outputs["ticks"].data = count
        return response


HOSTILE_CLASSES = [NetworkConnect, WriteOutside, ReadOther, ForkBomb, Allocate, EndlessLoop, SleepLong,
                   HandBackAttack, ConfigProbe, Crash, Ticker]


def hostile_processes() -> list:
    """Fresh instances of every hostile process (tests only)."""
    return [cls() for cls in HOSTILE_CLASSES]


def testing_processes() -> list:
    """The example processes plus the hostile ones: ``PYWPS_PROCESSES=pywps.processes.hostile:testing_processes``."""
    from pywps.processes import example_processes

    return example_processes() + hostile_processes()
