"""``mode = multiprocessing``: each job in its own forked OS process, in its own session.

The child survives a server restart (it is adopted by the next server through its heartbeat), a crash of
the job cannot touch the server, and cancel kills the child's whole process group. Optional resource
limits (``[processing] max_memory``, ``max_cpu_time``, ``max_open_files``) are applied with setrlimit.
"""

from __future__ import annotations

import gc
import logging
import os
import resource
import signal
import socket
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from pywps.backends.base import Processing, RunnerState, RunnerStatus, RunnerUnavailable, register

if TYPE_CHECKING:
    from pywps.config import Config, ProcessingSettings
    from pywps.jobs.jobdir import JobDir
    from pywps.jobs.model import JobRecord

log = logging.getLogger(__name__)

_HOST = socket.gethostname()


def _start_time(pid: int) -> str | None:
    """The kernel's start time of ``pid`` (guards against pid reuse), or None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
    except OSError:
        return None
    if fields[0] == b"Z":
        return None
    return fields[19].decode()


@register
class MultiProcessing(Processing):
    """Fork a child that runs :func:`pywps.worker.run_job` for one job."""

    name = "multiprocessing"
    can_pause = True

    def __init__(self, settings: ProcessingSettings, job_config: Config | None = None) -> None:
        super().__init__(settings)
        self._exits: dict[int, int] = {}
        self._ended: dict[int, threading.Event] = {}
        self._lock = threading.Lock()
        #: what a forked job sees through get_config_value: the server's configuration for jobs (no
        #: credentials, no server paths), set by the dispatcher
        self.job_config = job_config
        self._limits = {
            resource.RLIMIT_AS: settings.max_memory,
            resource.RLIMIT_CPU: settings.max_cpu_time,
            resource.RLIMIT_NOFILE: settings.max_open_files,
        }

    def start(self, job: JobRecord, jobdir: JobDir) -> str:
        gc.freeze()  # objects the child inherits stay out of its collections: fewer copy-on-write faults
        try:
            pid = os.fork()
        except OSError as exc:  # EAGAIN (process limit), ENOMEM: the host is busy, not the job's fault
            raise RunnerUnavailable(f"cannot fork a job process now: {exc.strerror}") from None
        if pid == 0:  # child
            code = 1
            try:
                os.setsid()
                _close_inherited_sockets()
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                signal.signal(signal.SIGINT, signal.SIG_DFL)
                for limit, value in self._limits.items():
                    if value:
                        resource.setrlimit(limit, (value, value))
                from pywps import worker

                _redirect_output(jobdir.log_path)
                if self.job_config is not None:
                    from pywps.configuration import set_job_config

                    set_job_config(self.job_config)  # what a job may know of the configuration, as in job.json
                code = worker.run_job(jobdir, config_loaded=self.job_config is not None)
            except BaseException:
                log.exception("worker for job %s crashed", job.id)
            finally:
                os._exit(code)
        started = _start_time(pid) or "0"
        ended = threading.Event()
        with self._lock:
            self._ended[pid] = ended
        handle = f"{_HOST}:{pid}:{started}"
        threading.Thread(target=self._wait_child, args=(pid, handle, ended), name=f"pywps-wait-{pid}",
                         daemon=True).start()
        return handle

    def _wait_child(self, pid: int, handle: str, ended: threading.Event) -> None:
        """Reap our child as soon as it ends (no zombie, no polling delay) and tell the dispatcher."""
        try:
            _, status = os.waitpid(pid, 0)
            code: int | None = os.waitstatus_to_exitcode(status)
        except ChildProcessError:
            code = None
        with self._lock:
            if code is not None:
                self._exits[pid] = code
            self._ended.pop(pid, None)
            if len(self._exits) > 10000:
                self._exits.pop(next(iter(self._exits)))
        ended.set()
        if self.on_exit is not None:
            self.on_exit(handle)

    @staticmethod
    def _parse(handle: str) -> tuple[str, int, str]:
        host, pid, started = handle.rsplit(":", 2)
        return host, int(pid), started

    def _reap(self, pid: int) -> int | None:
        """Our child's exit code once its waiter thread has collected it; None while it runs or if not ours."""
        with self._lock:
            return self._exits.get(pid)

    def poll(self, handle: str) -> RunnerStatus:
        host, pid, started = self._parse(handle)
        if host != _HOST:
            return RunnerStatus(RunnerState.LOST, message=f"the job ran on host {host}, not on {_HOST}")
        code = self._reap(pid)
        if code is not None:
            return RunnerStatus(RunnerState.EXITED, code, _describe_exit(code))
        if _start_time(pid) != started:
            return RunnerStatus(RunnerState.EXITED, None, "the job's process has ended")
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle_file:
                state = handle_file.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            return RunnerStatus(RunnerState.EXITED, None, "the job's process has ended")
        return RunnerStatus(RunnerState.PAUSED if state == b"T" else RunnerState.RUNNING)

    def wait(self, handle: str, timeout: float | None = None) -> RunnerStatus:
        host, pid, _ = self._parse(handle)
        with self._lock:
            ended = self._ended.get(pid)
        if ended is not None and host == _HOST:
            ended.wait(timeout)
            return self.poll(handle)
        return super().wait(handle, timeout)

    def _signal(self, handle: str, signum: int) -> None:
        host, pid, started = self._parse(handle)
        if host != _HOST or _start_time(pid) != started:
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


def _describe_exit(code: int) -> str:
    if code >= 0:
        return "" if code in (0, 1) else f"the job's process exited with code {code}"
    name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
    hints = {"SIGKILL": " (killed: out of memory, or cancelled)", "SIGXCPU": " (CPU time limit reached)",
             "SIGSEGV": " (the process crashed)"}
    return f"killed by signal {name}{hints.get(name, '')}"


def _close_inherited_sockets() -> None:
    """Drop the server's listening and database sockets: a job must not hold the server's port."""
    import stat

    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2:
            try:
                if stat.S_ISSOCK(os.fstat(fd).st_mode):
                    os.close(fd)
            except OSError:
                pass


def _redirect_output(path: Path) -> None:
    """Send the child's stdout/stderr to its worker log, away from the server's."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
