"""The fork server (zygote) of ``mode = multiprocessing``: a small process that forks the jobs.

Forking a job from the web server copies a large process (Flask, SQLAlchemy, the server's caches): the
kernel spends most of a trivial job's time copying page tables, taking copy-on-write faults and tearing
the copy down. The zygote is a fresh interpreter (``python -c BOOT``, never a fork of the server, so it
never holds the web stack, the job store or the server's ``__main__``) that imports only what a job needs
(:mod:`pywps.worker`, the Process API and the server's process modules), freezes its objects out of the
garbage collector and forks one child per job on request.

One zygote per server process (:meth:`ForkServer.shared`), talking over a ``SOCK_SEQPACKET`` socket pair,
one JSON document per message:

=======================================  =========================================================
server -> zygote                         zygote -> server
=======================================  =========================================================
the boot message: ``{"path": sys.path}``  ``{"ready": pid, "hexversion"}``
``{"op": "profile", "profile", ...}``     ``{"profile", "loaded": [ids], "skipped": {id: why}}``
``{"op": "fork", "id", "profile", ...}``  ``{"id", "pid", "start"}`` or ``{"id", "error", "retry"}``
``{"op": "drop", "profile"}``             ``{"exit": pid, "code"}`` whenever a child ends
=======================================  =========================================================

A profile is what one backend needs: the configuration a job may know (``Config.for_job()``), the resource
limits, the log level and its processes (each loaded from its spec and kept only if it matches the server's
instance). The zygote is single-threaded, never imports Flask or SQLAlchemy, ignores SIGINT/SIGHUP (it ends
when the server's end of the socket closes) and stays in the server's process group. A job it forks gets
its own session, exactly as a job forked by the server: the job's handle ``host:pid:starttime`` and
everything built on it (poll, cancel, pause, adoption by a later server) do not change.

If the zygote dies, the server fails the starts in flight, follows the jobs it had forked by their pid (their
exit status is lost, their result is not) and starts a new zygote; while there is none, jobs are forked by
the server itself, as without a fork server.
"""

from __future__ import annotations

import gc
import importlib
import json
import logging
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

#: how the zygote starts: read the boot message, take the server's sys.path, serve
BOOT = ("import sys;from json import loads;from socket import socket;s=socket(fileno=int(sys.argv[1]));"
        "m=loads(s.recv(1048576));sys.path[:]=m['path'];from pywps.zygote import serve;serve(s,m)")
MAX_MESSAGE = 1 << 20            # server -> zygote (a profile: configuration and process specs)
REPLY_MAX = 1 << 16              # zygote -> server (a reply, an exit, a profile's loaded identifiers)
#: how long a start waits for the zygote's answer (it may be importing a profile's processes)
FORK_TIMEOUT = 30.0
#: restarts allowed within RESTART_WINDOW seconds before the server forks jobs itself for good
MAX_RESTARTS = 5
RESTART_WINDOW = 60.0


class ForkServerUnavailable(Exception):
    """No zygote can fork this job now (none yet, booting, gone for good, process not preloaded): the
    caller forks the job itself."""


class ForkServerFailed(Exception):
    """The zygote failed while starting a job (it died or hung): the job may or may not have started, so
    it fails, saying so."""


class ForkRefused(Exception):
    """The zygote could not fork (EAGAIN, ENOMEM): the host is busy, the job can wait."""


# -- both sides --------------------------------------------------------------------------------------


def start_time(pid: int, zombie: bool = False) -> str | None:
    """The kernel's start time of ``pid`` (it tells a reused pid apart); None if it is gone, or a zombie
    unless ``zombie``."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if fields[0] == b"Z" and not zombie:
        return None
    return fields[19].decode()


def fingerprint(process: Any) -> str:
    """What must be equal between the server's process object and the one the zygote loads from its spec:
    its class, handler and the plain values of its attributes (an instance built with other arguments
    differs here, and its jobs are then forked by the server)."""
    cls = type(process)
    return json.dumps([f"{cls.__module__}.{cls.__qualname__}", _plain(vars(process), 3)], sort_keys=True)


def _plain(value: Any, depth: int) -> Any:
    """``value`` as JSON: scalars as they are, containers ``depth`` levels deep, callables by name,
    objects with an identifier (inputs, outputs) by type and identifier, anything else by type."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if depth <= 0:
        return type(value).__name__
    if isinstance(value, dict):
        return {str(k): _plain(v, depth - 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [_plain(v, depth - 1) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    if callable(value) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '')}.{value.__qualname__}"
    if hasattr(value, "identifier"):
        plain = {k: _plain(v, depth - 1) for k, v in vars(value).items()} if hasattr(value, "__dict__") else {}
        return [type(value).__name__, str(value.identifier), plain]
    return type(value).__name__


def close_inherited_sockets(keep: tuple[int, ...] = ()) -> None:
    """Drop inherited sockets (listening ports, database and zygote connections): a job holds none."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                if stat.S_ISSOCK(os.fstat(fd).st_mode):
                    os.close(fd)
            except OSError:
                pass


def run_child(jobdir: str, limits: dict[int, int], job_config: Any, process: Any = None) -> None:
    """In a freshly forked child: become a job (own session, default signals, limits, output to
    ``worker.log``, the job's configuration only) and run it; never returns."""
    code = 1
    try:
        from pywps.config import enter_job_side
        from pywps.jobs.jobdir import job_environment

        enter_job_side()
        os.setsid()
        kept = job_environment(os.environ)  # a job forked by the server: none of the server's overrides
        os.environ.clear()
        os.environ.update(kept)
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD):
            signal.signal(signum, signal.SIG_DFL)
        close_inherited_sockets()
        for limit, value in limits.items():
            if value:
                import resource

                resource.setrlimit(limit, (value, value))
        from pywps import worker
        from pywps.jobs.jobdir import JobDir

        target = JobDir(jobdir)
        _redirect_output(str(target.log_path))
        if job_config is not None:
            from pywps.configuration import set_job_config

            set_job_config(job_config)  # what a job may know of the configuration, as in job.json
        code = worker.run_job(target, process=process, config_loaded=job_config is not None)
    except BaseException:
        log.exception("worker for job %s crashed", os.path.basename(jobdir))
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - nothing more can be done on the way out
                pass
        os._exit(code)


def _redirect_output(path: str) -> None:
    """Send the child's stdout/stderr to its worker log, away from the server's."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)


def python_executable() -> str | None:
    """The interpreter of this server (``sys.executable`` is Apache's binary under mod_wsgi)."""
    candidates = [sys.executable] if os.path.basename(sys.executable or "").startswith("python") else []
    names = (f"python{sys.version_info[0]}.{sys.version_info[1]}", "python3", "python")
    for prefix in dict.fromkeys((sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix)):
        candidates.extend(os.path.join(prefix, "bin", name) for name in names)
    for candidate in candidates:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


# -- the server's side -------------------------------------------------------------------------------


@dataclass
class _Profile:
    message: dict[str, Any]
    loaded: frozenset[str] = frozenset()
    answered: threading.Event = field(default_factory=threading.Event)


@dataclass
class _Pending:
    on_exit: Callable[[int, str, int | None, str], None]
    done: threading.Event = field(default_factory=threading.Event)
    reply: dict[str, Any] | None = None


@dataclass
class _Zygote:
    sock: socket.socket
    proc: subprocess.Popen
    ready: threading.Event = field(default_factory=threading.Event)
    pid: int = 0


class ForkServer:
    """The server process's zygote: started on the first profile, restarted when it dies."""

    _shared: ForkServer | None = None
    _shared_lock = threading.Lock()

    def __init__(self) -> None:
        self.owner = os.getpid()
        self._lock = threading.Lock()
        self._zygote: _Zygote | None = None
        self._profiles: dict[int, _Profile] = {}
        self._pending: dict[int, _Pending] = {}
        self._children: dict[int, tuple[str, Callable[[int, str, int | None, str], None]]] = {}
        self._next = 0
        self._restarts: deque[float] = deque()
        self._closed = False
        self._starting = False      # a zygote is being started (or restarted after a back-off)
        self.given_up = ""          # why jobs are forked by the server for good ("" while a zygote is wanted)
        self.starts = 0             # zygotes started so far (1 + restarts)

    @classmethod
    def shared(cls) -> ForkServer:
        """This server process's fork server (a new one in a forked child: a zygote serves one process)."""
        with cls._shared_lock:
            if cls._shared is None or cls._shared.owner != os.getpid():
                cls._shared = cls()
            return cls._shared

    # -- profiles ------------------------------------------------------------------------------------

    def register(self, config: dict | None, limits: dict[int, int], level: str, processes: list[dict]) -> int:
        """Add a profile (a backend's configuration, limits and processes); starts the zygote if needed."""
        message: dict[str, Any] = {"op": "profile", "config": config, "limits": {str(k): v for k, v in limits.items()},
                                   "level": level, "processes": processes,
                                   "path": [p for p in sys.path if isinstance(p, str)]}
        if len(json.dumps(message)) > MAX_MESSAGE // 2:
            raise ValueError("the configuration and processes are too large for the fork server")
        with self._lock:
            self._next += 1
            profile = message["profile"] = self._next
            self._profiles[profile] = _Profile(message)
            if self._zygote is not None:
                self._send(self._zygote, message)
            spawn = self._zygote is None and not self._starting and not self.given_up
            self._starting = self._starting or spawn
        if spawn:
            self._spawn()
        return profile

    def drop(self, profile: int) -> None:
        """Forget a profile (its backend is closed)."""
        with self._lock:
            self._profiles.pop(profile, None)
            if self._zygote is not None:
                self._send(self._zygote, {"op": "drop", "profile": profile})

    def ready(self, profile: int, timeout: float | None = None) -> bool:
        """Wait until the zygote has loaded ``profile`` (tests, benchmarks)."""
        with self._lock:
            entry = self._profiles.get(profile)
        return entry is not None and entry.answered.wait(timeout)

    def preloaded(self, profile: int) -> frozenset[str]:
        with self._lock:
            entry = self._profiles.get(profile)
            return entry.loaded if entry is not None and entry.answered.is_set() else frozenset()

    @property
    def pid(self) -> int | None:
        """The zygote's pid while one runs and has answered."""
        zygote = self._zygote
        return zygote.pid if zygote is not None and zygote.ready.is_set() else None

    # -- forking -------------------------------------------------------------------------------------

    def fork(self, profile: int, identifier: str, jobdir: str,
             on_exit: Callable[[int, str, int | None, str], None], timeout: float | None = None) -> tuple[int, str]:
        """Fork a job in the zygote: ``(pid, start time)``. ``on_exit(pid, start, code, message)`` is called
        once when it ends (``code`` None when its exit status was lost with a dead zygote)."""
        timeout = FORK_TIMEOUT if timeout is None else timeout
        with self._lock:
            zygote, entry = self._zygote, self._profiles.get(profile)
            if zygote is None or not zygote.ready.is_set() or self.owner != os.getpid():
                raise ForkServerUnavailable(self.given_up or "the fork server is not running")
            if entry is None or not entry.answered.is_set() or identifier not in entry.loaded:
                raise ForkServerUnavailable(f"process {identifier!r} is not preloaded in the fork server")
            self._next += 1
            request = self._next
            pending = self._pending[request] = _Pending(on_exit)
            try:
                zygote.sock.send(json.dumps({"op": "fork", "id": request, "profile": profile,
                                             "process": identifier, "jobdir": jobdir}).encode())
            except OSError as exc:
                self._pending.pop(request, None)
                raise ForkServerUnavailable(f"the fork server is gone ({exc.strerror})") from None
        if not pending.done.wait(timeout):
            with self._lock:
                self._pending.pop(request, None)
            log.error("the fork server (pid %s) did not answer within %g s; it is restarted", zygote.pid, timeout)
            _kill(zygote.proc)
            raise ForkServerFailed(f"the fork server did not answer within {timeout:g} s")
        reply = pending.reply
        if reply is None:
            raise ForkServerFailed("the fork server died while starting the job")
        if "error" in reply:
            if reply.get("retry"):
                raise ForkRefused(reply["error"])
            raise ForkServerFailed(reply["error"])
        return int(reply["pid"]), str(reply["start"])

    # -- the zygote's life ---------------------------------------------------------------------------

    def _spawn(self) -> None:
        """Start a zygote and give it every profile (``_starting`` is set by the caller)."""
        python = python_executable()
        if python is None:
            with self._lock:
                self._starting = False
                self.given_up = "no Python interpreter found for the fork server"
            log.warning("%s; jobs are forked by the server", self.given_up)
            return
        from pywps.jobs.jobdir import job_environment

        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:  # the jobs it forks inherit its environment: none of the server's configuration overrides
            proc = subprocess.Popen([python, "-c", BOOT, str(theirs.fileno()), "pywps-forkserver"],
                                    pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, close_fds=True,
                                    env=job_environment(os.environ))
        except OSError as exc:
            ours.close()
            self._retry(f"cannot start the fork server: {exc.strerror or exc}")
            return
        finally:
            theirs.close()
        zygote = _Zygote(ours, proc)
        with self._lock:
            self._starting = False
            if self._closed or self.owner != os.getpid():
                _kill(proc)
                ours.close()
                return
            self._zygote = zygote
            self.starts += 1
            self._send(zygote, {"path": [p for p in sys.path if isinstance(p, str)]})
            for entry in self._profiles.values():
                entry.answered.clear()
                self._send(zygote, entry.message)
        threading.Thread(target=self._read, args=(zygote,), name="pywps-forkserver", daemon=True).start()

    def _send(self, zygote: _Zygote, message: dict[str, Any]) -> None:
        try:
            zygote.sock.send(json.dumps(message).encode())
        except OSError as exc:  # it died: its reader restarts it and replays the profiles
            log.debug("fork server: send failed: %s", exc)

    def _read(self, zygote: _Zygote) -> None:
        """Dispatch the zygote's messages until it goes; then fail what was in flight and restart it."""
        buffer = bytearray(REPLY_MAX)
        while True:
            try:
                size = zygote.sock.recv_into(buffer)
            except OSError:
                size = 0
            if not size:
                break
            try:
                self._dispatch(zygote, json.loads(bytes(buffer[:size])))
            except Exception:
                log.exception("fork server: cannot handle a message")
        self._lost(zygote)

    def _dispatch(self, zygote: _Zygote, message: dict[str, Any]) -> None:
        if "exit" in message:
            pid = int(message["exit"])
            with self._lock:
                child = self._children.pop(pid, None)
            if child is not None:
                child[1](pid, child[0], message.get("code"), "")
        elif "id" in message:
            with self._lock:
                pending = self._pending.pop(int(message["id"]), None)
                if pending is not None and "pid" in message:
                    self._children[int(message["pid"])] = (str(message["start"]), pending.on_exit)
            if pending is not None:
                pending.reply = message
                pending.done.set()
        elif "profile" in message:
            with self._lock:
                entry = self._profiles.get(int(message["profile"]))
            if entry is not None:
                entry.loaded = frozenset(message.get("loaded", ()))
                for identifier, why in message.get("skipped", {}).items():
                    log.info("fork server: process %s is forked by the server: %s", identifier, why)
                entry.answered.set()
        elif "ready" in message:
            if message.get("hexversion") != sys.hexversion:
                log.warning("fork server: its Python (%s) is not the server's (%s); jobs are forked by the "
                            "server", message.get("hexversion"), sys.hexversion)
                self.given_up = "the fork server's Python differs from the server's"
                _kill(zygote.proc)
                return
            zygote.pid = int(message["ready"])
            zygote.ready.set()

    def _lost(self, zygote: _Zygote) -> None:
        with self._lock:
            if self._zygote is zygote:
                self._zygote = None
            pending, self._pending = self._pending, {}
            orphans, self._children = self._children, {}
            closed = self._closed
        zygote.sock.close()
        for entry in pending.values():  # the job may or may not have been forked: it fails, saying why
            entry.done.set()
        try:
            code = zygote.proc.wait(10)
        except subprocess.TimeoutExpired:
            _kill(zygote.proc)
            code = zygote.proc.wait()
        if closed or self.owner != os.getpid():
            return
        how = f"was killed by signal {signal.Signals(-code).name}" if code < 0 else f"exited with status {code}"
        log.warning("the fork server (pid %s) %s; %d job(s) it started are followed by their pid, %d start(s) "
                    "in flight failed", zygote.pid or zygote.proc.pid, how, len(orphans), len(pending))
        if orphans:
            threading.Thread(target=_follow_orphans, args=(orphans,), name="pywps-forkserver-orphans",
                             daemon=True).start()
        with self._lock:
            if self._starting or self._zygote is not None:
                return
            self._starting = True
        self._retry(f"the fork server {how}")

    def _retry(self, why: str) -> None:
        """Start a zygote again after a growing pause, unless it failed too often (``_starting`` is set)."""
        now = time.monotonic()
        self._restarts.append(now)
        while self._restarts and now - self._restarts[0] > RESTART_WINDOW:
            self._restarts.popleft()
        if self.given_up or len(self._restarts) > MAX_RESTARTS:
            with self._lock:
                self._starting = False
                self.given_up = self.given_up or f"{why}, {len(self._restarts)} times within {RESTART_WINDOW:g} s"
            log.error("the fork server is not started again (%s); jobs are forked by the server", self.given_up)
            return
        time.sleep(min(5.0, 0.1 * 2 ** (len(self._restarts) - 1)))
        self._spawn()

    def close(self) -> None:
        """Stop the zygote (tests); jobs it forked keep running."""
        with self._lock:
            self._closed = True
            zygote, self._zygote = self._zygote, None
        if zygote is not None:
            zygote.sock.close()   # the zygote ends at end-of-file
            try:
                zygote.proc.wait(10)
            except subprocess.TimeoutExpired:
                _kill(zygote.proc)

    def _after_fork_in_child(self) -> None:
        """In a process forked from the server: drop our end of the socket (the zygote serves the parent)."""
        zygote = self._zygote
        if zygote is not None:
            try:
                zygote.sock.close()
            except OSError:
                pass


def _after_fork() -> None:
    shared = ForkServer._shared
    ForkServer._shared_lock = threading.Lock()
    if shared is not None and shared.owner != os.getpid():
        shared._after_fork_in_child()


os.register_at_fork(after_in_child=_after_fork)


def _kill(proc: subprocess.Popen) -> None:
    try:
        proc.kill()
    except OSError:
        pass


def _follow_orphans(orphans: dict[int, tuple[str, Callable[[int, str, int | None, str], None]]]) -> None:
    """Jobs whose zygote died: watch their pid until they end (their exit status is lost)."""
    waiting = dict(orphans)
    while waiting:
        for pid, (started, on_exit) in list(waiting.items()):
            if start_time(pid) != started:
                del waiting[pid]
                on_exit(pid, started, None, "its exit status is unknown: the fork server that started it died")
        time.sleep(0.2)


# -- the zygote's side -------------------------------------------------------------------------------


def serve(sock: socket.socket, boot: dict[str, Any]) -> None:
    """The zygote's main loop (``python -c BOOT``): load profiles, fork jobs, report their exits."""
    from pywps.config import enter_job_side

    enter_job_side()  # a process module whose package builds a Service on import starts no server here
    signal.signal(signal.SIGINT, signal.SIG_IGN)    # a terminal's ^C is for the server; we end at EOF
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")

    import select

    # everything a job runs, imported once here
    import pywps.configuration
    import pywps.execute
    import pywps.worker  # noqa: F401
    from pywps.config import Config
    from pywps.jobs.jobdir import JobDir  # noqa: F401

    profiles: dict[int, tuple[Any, dict[int, int], dict[str, Any]]] = {}
    buffer = bytearray(MAX_MESSAGE)

    def send(message: dict[str, Any]) -> bool:
        try:
            sock.send(json.dumps(message).encode())
            return True
        except OSError:
            return False

    def load(message: dict[str, Any]) -> None:
        sys.path[:] = message.get("path") or sys.path  # the server's, as it is now: its modules import here
        importlib.invalidate_caches()
        config = Config.from_dict(message["config"]) if message.get("config") is not None else None
        if config is not None:
            from pywps.configuration import set_job_config

            set_job_config(config)  # a process module reading get_config_value on import sees the job's
        level = getattr(logging, str(message.get("level") or "INFO").upper(), logging.INFO)
        for name in ("pywps", "PYWPS"):
            logging.getLogger(name).setLevel(level)
        from pywps.registry import load_process

        loaded: dict[str, Any] = {}
        skipped: dict[str, str] = {}
        for item in message.get("processes", []):
            spec = item["spec"]
            try:
                process = load_process(spec)
            except BaseException as exc:  # noqa: BLE001 - any failure: that process is forked by the server
                skipped[spec["identifier"]] = f"cannot be loaded here ({type(exc).__name__}: {exc})"
                continue
            if fingerprint(process) != item["fingerprint"]:
                skipped[spec["identifier"]] = "the instance loaded from its class differs from the server's"
                continue
            loaded[spec["identifier"]] = process
        limits = {int(k): int(v) for k, v in message.get("limits", {}).items()}
        profiles[int(message["profile"])] = (config, limits, loaded)
        gc.collect()
        gc.freeze()  # what the children inherit stays out of their collections: fewer copy-on-write faults
        reply = {"profile": message["profile"], "loaded": sorted(loaded),
                 "skipped": {k: v[:200] for k, v in skipped.items()}}
        if len(json.dumps(reply)) > REPLY_MAX:
            reply["skipped"] = {}   # the server still learns what it may fork here
        send(reply)

    def fork(message: dict[str, Any]) -> None:
        profile = profiles.get(int(message["profile"]))
        process = profile[2].get(message["process"]) if profile else None
        if profile is None or process is None:
            send({"id": message["id"], "error": f"process {message['process']!r} is not loaded here"})
            return
        try:
            pid = os.fork()
        except OSError as exc:
            send({"id": message["id"], "error": f"cannot fork a job process now: {exc.strerror}", "retry": True})
            return
        if pid == 0:
            signal.set_wakeup_fd(-1)
            os.close(wake_r)
            os.close(wake_w)
            sock.close()
            run_child(message["jobdir"], profile[1], profile[0], process)
        send({"id": message["id"], "pid": pid, "start": start_time(pid, zombie=True) or "0"})

    def reap() -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            send({"exit": pid, "code": os.waitstatus_to_exitcode(status)})

    gc.collect()
    gc.freeze()
    send({"ready": os.getpid(), "hexversion": sys.hexversion})
    while True:
        try:
            readable, _, _ = select.select([sock, wake_r], [], [])
        except InterruptedError:
            continue
        if wake_r in readable:
            try:
                while os.read(wake_r, 512):
                    pass
            except BlockingIOError:
                pass
            reap()
        if sock in readable:
            try:
                size = sock.recv_into(buffer)
            except OSError:
                size = 0
            if not size:
                break  # the server is gone; the jobs run on in their own sessions
            message = json.loads(bytes(buffer[:size]))
            op = message.get("op")
            if op == "fork":
                fork(message)
            elif op == "profile":
                load(message)
            elif op == "drop":
                profiles.pop(int(message["profile"]), None)
        reap()
    sys.exit(0)
