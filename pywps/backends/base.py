"""The ``Processing`` interface every backend implements, and the registry keyed by ``[processing] mode``."""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from pywps.exceptions import OperationNotSupported

if TYPE_CHECKING:
    from pywps.config import Config


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


class Processing(ABC):
    """A way to run one job, described by its job directory, somewhere isolated from the server."""

    name: ClassVar[str]
    can_pause: ClassVar[bool] = False

    def __init__(self, config: Config) -> None:
        self.config = config

    def check(self) -> None:
        """Raise ``ConfigurationError`` if the backend cannot work (missing image, no scheduler)."""

    @abstractmethod
    def start(self, job_id: str, jobdir: Path, process_identifier: str) -> str:
        """Start ``python -m pywps.worker JOBDIR`` for the job and return an opaque handle."""

    @abstractmethod
    def poll(self, handle: str) -> RunnerStatus:
        """Report on one runner."""

    def poll_many(self, handles: list[str]) -> dict[str, RunnerStatus]:
        """Report on several runners; backends override this with one query."""
        return {h: self.poll(h) for h in handles}

    @abstractmethod
    def cancel(self, handle: str) -> None:
        """Stop the runner; idempotent."""

    def wait(self, handle: str, timeout: float | None = None) -> RunnerStatus:
        """Block until the runner ends (sync Execute); backends may override with a cheaper wait."""
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.005
        while True:
            status = self.poll(handle)
            if status.state in (RunnerState.EXITED, RunnerState.LOST):
                return status
            if deadline is not None and time.monotonic() > deadline:
                return status
            time.sleep(delay)
            delay = min(delay * 2, 0.25)

    def pause(self, handle: str) -> None:
        raise OperationNotSupported(f"mode {self.name!r} cannot pause jobs", locator="pause")

    def resume(self, handle: str) -> None:
        raise OperationNotSupported(f"mode {self.name!r} cannot resume jobs", locator="resume")

    def cleanup(self, handle: str) -> None:
        """Remove what the runner left behind (containers, batch scripts); idempotent."""

    def adopt(self, handles: list[str]) -> None:
        """Take over runners started by a server instance that is gone."""


_REGISTRY: dict[str, type[Processing]] = {}
UNAVAILABLE: dict[str, str] = {}  # built-in backends whose optional dependency is missing, and why


def register(cls: type[Processing]) -> type[Processing]:
    """Class decorator: make a backend selectable by its ``name``."""
    _REGISTRY[cls.name] = cls
    return cls


def backend_class(mode: str) -> type[Processing]:
    """The backend class for a ``[processing] mode`` value."""
    import pywps.backends  # noqa: F401  (registers built-in backends)
    from pywps.exceptions import ConfigurationError

    try:
        return _REGISTRY[mode]
    except KeyError:
        if mode in UNAVAILABLE:
            raise ConfigurationError(
                f"[processing] mode = {mode!r} cannot be used: {UNAVAILABLE[mode]} "
                f"(pip install 'pywps[{mode}]')") from None
        known = ", ".join(sorted(_REGISTRY))
        raise ConfigurationError(f"[processing] mode = {mode!r} is unknown; choose one of: {known}") from None
