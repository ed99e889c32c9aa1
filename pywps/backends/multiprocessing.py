"""``mode = multiprocessing``: each job in its own forked OS process, in its own session.

The child survives a server restart (it is adopted by the next server through its heartbeat), a crash of
the job cannot touch the server, and cancel kills the child's whole process group. Optional resource
limits (``[processing] max_memory``, ``max_cpu_time``, ``max_open_files``) are applied with setrlimit.

With ``[processing] forkserver = true`` (the default) the child is forked by this server process's fork
server (:mod:`pywps.zygote`), a small interpreter holding only the worker and the preloaded processes,
instead of by the server process itself: the kernel copies and tears down far less per job. Everything
after the fork is the same (:func:`pywps.zygote.run_child`), and so is the handle ``host:pid:starttime``.
``max_memory`` (RLIMIT_AS) counts the address space the child inherits: some 40 MiB from the fork server,
the whole server process (threads and malloc arenas included) when the server forks the job itself.
"""

from __future__ import annotations

import gc
import logging
import os
import resource
import signal
import socket
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from pywps.backends.base import Processing, RunnerState, RunnerStatus, RunnerUnavailable, register
from pywps.config import Config, job_side
from pywps.zygote import (
    ForkRefused,
    ForkServer,
    ForkServerFailed,
    ForkServerUnavailable,
    fingerprint,
    run_child,
    start_time,
)

if TYPE_CHECKING:
    from pywps.config import ProcessingSettings
    from pywps.jobs.jobdir import JobDir
    from pywps.jobs.model import JobRecord

log = logging.getLogger(__name__)

_HOST = socket.gethostname()


@register
class MultiProcessing(Processing):
    """Fork a child that runs :func:`pywps.worker.run_job` for one job: from the fork server
    (:mod:`pywps.zygote`, ``[processing] forkserver``) for the processes it preloaded, else from here."""

    name = "multiprocessing"
    can_pause = True

    @classmethod
    def from_config(cls, config: Config) -> MultiProcessing:
        """A forked job sees the configuration a job may know (no credentials, no server paths)."""
        return cls(config.processing, job_config=Config.from_dict(config.for_job()))

    def __init__(self, settings: ProcessingSettings, job_config: Config | None = None) -> None:
        super().__init__(settings)
        # keyed by (pid, start time), a process's identity: pids are reused (pid_max is 32768 by default),
        # so a new job must never find the exit of an earlier one that had its pid
        self._exits: dict[tuple[int, str], int] = {}
        self._ended: dict[tuple[int, str], threading.Event] = {}
        self._lost_status: dict[tuple[int, str], str] = {}   # why an exit code is unknown (fork server died)
        self._lock = threading.Lock()
        #: what a forked job sees through get_config_value: the server's configuration for jobs (no
        #: credentials, no server paths), set by the dispatcher
        self.job_config = job_config
        self._limits = {
            resource.RLIMIT_AS: settings.max_memory,
            resource.RLIMIT_CPU: settings.max_cpu_time,
            resource.RLIMIT_NOFILE: settings.max_open_files,
        }
        self._catalogue: list[dict[str, Any]] | None = None   # what preload() gave the fork server
        self.forkserver: ForkServer | None = None
        self._profile = 0

    # -- the fork server -----------------------------------------------------------------------------

    def preload(self, processes: Iterable[Any]) -> None:
        """Have the fork server (``[processing] forkserver = true``) fork the jobs of these processes; it is
        started now, so it is ready when the first job comes. Processes defined in ``__main__`` (a script)
        or that the zygote cannot load as the server built them are forked by the server itself."""
        if not self.settings.forkserver:
            return
        from pywps.registry import process_spec

        catalogue = []
        for process in processes:
            spec = process_spec(process)
            if spec["module"] in ("", "__main__"):
                log.info("process %s is defined in __main__: its jobs are forked by the server", process.identifier)
                continue
            catalogue.append({"spec": spec, "fingerprint": fingerprint(process)})
        self._catalogue = catalogue
        self._ensure_forkserver()

    def _ensure_forkserver(self) -> ForkServer | None:
        """This process's fork server with our profile (a new one after the server process forked)."""
        server = self.forkserver
        if self._catalogue is None or (server is not None and server.owner == os.getpid()):
            return server
        if job_side():
            return None  # a Service made while a job loads its module: no zygote inside a zygote
        config = self.job_config.to_dict() if self.job_config is not None else None
        level = (self.job_config.logging.level if self.job_config is not None else "") or "INFO"
        server = ForkServer.shared()
        try:
            self._profile = server.register(config, self._limits, level, self._catalogue)
        except ValueError as exc:
            log.warning("jobs are forked by the server: %s", exc)
            self._catalogue = None
            return None
        self.forkserver = server
        return server

    def forkserver_ready(self, timeout: float = 30) -> bool:
        """Wait until the fork server has loaded our processes (tests, benchmarks)."""
        server = self._ensure_forkserver()
        return server is not None and server.ready(self._profile, timeout)

    def bind(self, instance_id: str, on_exit=None) -> None:
        super().bind(instance_id, on_exit)
        self._ensure_forkserver()  # after a fork of the server: this process's own zygote

    def close(self) -> None:
        """Forget our processes in the fork server (it serves the other backends of this process)."""
        server, self.forkserver = self.forkserver, None
        if server is not None and server.owner == os.getpid():
            server.drop(self._profile)
        self._catalogue = None

    # -- starting --------------------------------------------------------------------------------------

    def start(self, job: JobRecord, jobdir: JobDir) -> str:
        server = self._ensure_forkserver()
        if server is not None:
            ended = threading.Event()
            try:
                pid, started = server.fork(self._profile, job.process, str(jobdir.path),
                                           lambda *a: self._child_ended(ended, *a))
            except ForkServerUnavailable:
                pass  # none now (starting, restarting) or a process it does not hold: fork it from here
            except ForkRefused as exc:
                raise RunnerUnavailable(str(exc)) from None
            except ForkServerFailed as exc:
                raise RuntimeError(str(exc)) from None
            else:
                with self._lock:
                    if not ended.is_set():
                        self._ended[pid, started] = ended
                return f"{_HOST}:{pid}:{started}"
        return self._fork_here(job, jobdir)

    def _fork_here(self, job: JobRecord, jobdir: JobDir) -> str:
        gc.freeze()  # objects the child inherits stay out of its collections: fewer copy-on-write faults
        try:
            pid = os.fork()
        except OSError as exc:  # EAGAIN (process limit), ENOMEM: the host is busy, not the job's fault
            raise RunnerUnavailable(f"cannot fork a job process now: {exc.strerror}") from None
        if pid == 0:  # child
            run_child(str(jobdir.path), self._limits, self.job_config)
        started = start_time(pid, zombie=True) or "0"
        ended = threading.Event()
        with self._lock:
            self._ended[pid, started] = ended
        threading.Thread(target=self._wait_child, args=(pid, started, ended), name=f"pywps-wait-{pid}",
                         daemon=True).start()
        return f"{_HOST}:{pid}:{started}"

    def _wait_child(self, pid: int, started: str, ended: threading.Event) -> None:
        """Reap our child as soon as it ends (no zombie, no polling delay) and tell the dispatcher."""
        try:
            _, status = os.waitpid(pid, 0)
            code: int | None = os.waitstatus_to_exitcode(status)
        except ChildProcessError:
            code = None
        self._child_ended(ended, pid, started, code, "")

    def _child_ended(self, ended: threading.Event, pid: int, started: str, code: int | None, why: str) -> None:
        """A job's process ended (reaped here, or by the fork server): record it and tell the dispatcher."""
        key = (pid, started)
        with self._lock:
            if code is not None:
                self._exits[key] = code
                self._lost_status.pop(key, None)
            elif why:
                self._lost_status[key] = why
            self._ended.pop(key, None)
            for table in (self._exits, self._lost_status):
                if len(table) > 10000:
                    table.pop(next(iter(table)))
            ended.set()
        if self.on_exit is not None:
            self.on_exit(f"{_HOST}:{pid}:{started}")

    # -- following -------------------------------------------------------------------------------------

    @staticmethod
    def _parse(handle: str) -> tuple[str, int, str]:
        host, pid, started = handle.rsplit(":", 2)
        return host, int(pid), started

    def _reap(self, pid: int, started: str) -> int | None:
        """Our child's exit code once it has been collected; None while it runs or if not ours."""
        with self._lock:
            return self._exits.get((pid, started))

    def poll(self, handle: str) -> RunnerStatus:
        host, pid, started = self._parse(handle)
        if host != _HOST:
            return RunnerStatus(RunnerState.LOST, message=f"the job ran on host {host}, not on {_HOST}")
        code = self._reap(pid, started)
        if code is not None:
            return RunnerStatus(RunnerState.EXITED, code, _describe_exit(code))
        state = _state(pid, started)
        if state is None or state == b"Z":
            with self._lock:
                ended = self._ended.get((pid, started))
            # our child, ended but not yet collected: its exit status is on its way
            if ended is not None and ended.wait(0.5) and (code := self._reap(pid, started)) is not None:
                return RunnerStatus(RunnerState.EXITED, code, _describe_exit(code))
            with self._lock:
                why = self._lost_status.get((pid, started), "")
            return RunnerStatus(RunnerState.EXITED, None, f"the job's process has ended{'; ' + why if why else ''}")
        return RunnerStatus(RunnerState.PAUSED if state == b"T" else RunnerState.RUNNING)

    def wait(self, handle: str, timeout: float | None = None) -> RunnerStatus:
        host, pid, started = self._parse(handle)
        with self._lock:
            ended = self._ended.get((pid, started))
        if ended is not None and host == _HOST:
            ended.wait(timeout)
            return self.poll(handle)
        return super().wait(handle, timeout)

    def _signal(self, handle: str, signum: int) -> None:
        host, pid, started = self._parse(handle)
        if host != _HOST or start_time(pid) != started:
            return
        try:
            os.killpg(pid, signum)
        except ProcessLookupError:
            pass
        except PermissionError:
            os.kill(pid, signum)

    def cancel(self, handle: str) -> None:
        self._signal(handle, signal.SIGKILL)

    def pause(self, handle: str) -> None:
        self._signal(handle, signal.SIGSTOP)

    def resume(self, handle: str) -> None:
        self._signal(handle, signal.SIGCONT)


def _state(pid: int, started: str) -> bytes | None:
    """The state letter of ``pid`` (R, S, T, Z ...) if it is the process started at ``started``."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[0] if fields[19].decode() == started else None


def _describe_exit(code: int) -> str:
    if code >= 0:
        return "" if code in (0, 1) else f"the job's process exited with code {code}"
    name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
    hints = {"SIGKILL": " (killed: out of memory, or cancelled)", "SIGXCPU": " (CPU time limit reached)",
             "SIGSEGV": " (the process crashed)"}
    return f"killed by signal {name}{hints.get(name, '')}"
