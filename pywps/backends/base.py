"""The ``Processing`` interface every backend implements, and the registry keyed by ``[processing] mode``."""

from __future__ import annotations

import enum
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from pywps.exceptions import ConfigurationError, OperationNotSupported

if TYPE_CHECKING:
    from pywps.config import Config, ProcessingSettings
    from pywps.jobs.jobdir import JobDir
    from pywps.jobs.model import JobRecord


class RunnerState(str, enum.Enum):
    """What a backend knows about the thing running a job."""

    PENDING = "pending"      # submitted, not yet running (batch queue, container created)
    RUNNING = "running"
    PAUSED = "paused"
    EXITED = "exited"        # finished; the job directory tells success or failure
    LOST = "lost"            # the backend no longer knows it


@dataclass(frozen=True)
class RunnerStatus:
    state: RunnerState
    exit_code: int | None = None
    message: str = ""        # why it ended, when the backend knows (OOM, time limit, node failure ...)


class RunnerUnavailable(Exception):
    """The backend cannot start runners right now (engine or controller unreachable, fork refused with
    EAGAIN): a queued job waits and is tried again, instead of failing."""


class Processing(ABC):
    """A way to run one job, described by its job directory, somewhere isolated from the server.

    The whole contract the dispatcher relies on is declared here, with its defaults; a backend is one
    module that subclasses this, registers itself with :func:`register` and passes
    ``tests/backends/test_contract.py``. A runner runs ``python -m pywps.worker`` (or
    :func:`pywps.worker.run_job`) against the job's :class:`~pywps.jobs.jobdir.JobDir` and speaks files
    only; what it leaves in ``out/`` is read by the dispatcher through :mod:`pywps.jobs.handback`.
    """

    name: ClassVar[str]
    #: whether :meth:`pause` / :meth:`resume` work (else they raise ``OperationNotSupported``)
    can_pause: ClassVar[bool] = False
    #: the longest sleep between two polls of the generic :meth:`wait` (a backend may set its own)
    wait_interval: float = 0.25

    def __init__(self, settings: ProcessingSettings) -> None:
        self.settings = settings
        #: the server instance whose runners these are (labels containers, names batch jobs); see bind()
        self.instance_id = ""
        #: called with a handle as soon as its runner ends, by backends that learn it (else None)
        self.on_exit: Callable[[str], None] | None = None

    @classmethod
    def from_config(cls, config: Config) -> Processing:
        """The backend for a server's whole configuration; by default it takes its ``[processing]`` section."""
        return cls(config.processing)

    @property
    def accepts_sync(self) -> bool:
        """Whether a synchronous Execute may wait for a runner of this backend (else the client is told to
        run it asynchronously before any job exists)."""
        return True

    def bind(self, instance_id: str, on_exit: Callable[[str], None] | None = None) -> None:
        """Attach the backend to a dispatcher: its server instance id and its end-of-runner callback.
        Called again after a fork, with the child's new instance id."""
        self.instance_id = instance_id
        self.on_exit = on_exit

    def check(self) -> None:
        """Raise ``ConfigurationError`` if the backend cannot work (missing image, no scheduler)."""

    def preload(self, processes: Iterable[Any]) -> None:
        """Get ready to run these served processes before the first job comes (multiprocessing: its fork
        server loads them); default: nothing."""

    @abstractmethod
    def start(self, job: JobRecord, jobdir: JobDir) -> str:
        """Start a runner for ``job`` on ``jobdir`` and return an opaque handle (stored with the job, so
        a later server instance can poll and cancel it). Raise to refuse (the job fails with the message);
        raise :class:`RunnerUnavailable` when the backend cannot start anything for now (the job waits)."""

    @abstractmethod
    def poll(self, handle: str) -> RunnerStatus:
        """Report on one runner."""

    def poll_many(self, handles: list[str]) -> dict[str, RunnerStatus]:
        """Report on several runners; backends override this with one query."""
        return {h: self.poll(h) for h in handles}

    @abstractmethod
    def cancel(self, handle: str) -> None:
        """Stop the runner and all it started; idempotent, also for a runner that has ended."""

    def wait(self, handle: str, timeout: float | None = None) -> RunnerStatus:
        """Block until the runner ends (a synchronous Execute), polling with a growing delay; backends
        that can be told (a child's exit, the engine's wait) override this with a cheaper wait."""
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.005
        while True:
            status = self.poll(handle)
            if status.state in (RunnerState.EXITED, RunnerState.LOST):
                return status
            if deadline is not None and time.monotonic() >= deadline:
                return status
            time.sleep(delay if deadline is None else max(0.0, min(delay, deadline - time.monotonic())))
            delay = min(delay * 2, self.wait_interval)

    def pause(self, handle: str) -> None:
        """Suspend the runner (``can_pause`` backends)."""
        raise OperationNotSupported(f"mode {self.name!r} cannot pause jobs", locator="pause")

    def resume(self, handle: str) -> None:
        """Let a suspended runner go on (``can_pause`` backends)."""
        raise OperationNotSupported(f"mode {self.name!r} cannot resume jobs", locator="resume")

    def cleanup(self, handle: str) -> None:
        """Remove what the runner left behind once its job is final (containers, batch scripts);
        idempotent."""

    def adopt(self, handles: list[str]) -> None:
        """Take over runners a server instance that is gone had started (the dispatcher calls this with
        the handles of the jobs it adopted, before polling them)."""

    def reap(self, live_jobs: Iterable[str], live_instances: Iterable[str] | None = None,
             min_age: float = 0) -> list[str]:
        """Remove runners nobody follows any more — their job is not in ``live_jobs`` (final or unknown),
        or their idle server instance is not in ``live_instances`` — older than ``min_age`` seconds;
        return what was removed. Default: nothing to do (a forked child or a batch job ends by itself)."""
        return []


_REGISTRY: dict[str, type[Processing]] = {}
UNAVAILABLE: dict[str, str] = {}  # built-in backends whose optional dependency is missing, and why


def register(cls: type[Processing]) -> type[Processing]:
    """Class decorator: make a backend selectable by its ``name``."""
    _REGISTRY[cls.name] = cls
    return cls


def backend_class(mode: str) -> type[Processing]:
    """The backend class for a ``[processing] mode`` value."""
    import pywps.backends  # noqa: F401  (registers built-in backends)

    try:
        return _REGISTRY[mode]
    except KeyError:
        if mode in UNAVAILABLE:
            raise ConfigurationError(
                f"[processing] mode = {mode!r} cannot be used: {UNAVAILABLE[mode]} "
                f"(pip install 'pywps[{mode}]')") from None
        known = ", ".join(sorted(_REGISTRY))
        raise ConfigurationError(f"[processing] mode = {mode!r} is unknown; choose one of: {known}") from None
