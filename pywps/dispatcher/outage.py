"""Outages of what the server depends on (the job store, the disk, a backend's engine): what clients are
told, and how the dispatcher logs and retries them.

An outage is logged once when it starts, with its cause, retried with a growing delay, and logged once
more when it ends, with how long it lasted and how many rounds were retried. Clients get a 503
``ServerBusy`` naming the cause, with ``Retry-After``; never a 500 or an HTML page.
"""

from __future__ import annotations

import errno
import logging
import time

from pywps.exceptions import NoApplicableCode, ServerBusy

RETRY_AFTER = 10  # seconds, in the Retry-After header of a 503

_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def cause(exc: BaseException) -> str:
    """A one-line cause: the database driver's first line, the OS error and its path, else the type."""
    inner = getattr(exc, "orig", None) or exc
    if isinstance(inner, OSError) and inner.strerror:
        where = f": {inner.filename}" if inner.filename else ""
        return f"{inner.strerror}{where}"
    text = str(inner).strip().splitlines()
    return f"{type(inner).__name__}: {text[0][:200]}" if text else type(inner).__name__


def store_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` is the job store being unreachable or unwritable (retry later), not a bug."""
    from sqlalchemy.exc import DBAPIError

    return isinstance(exc, DBAPIError)


def disk_full(exc: BaseException) -> bool:
    inner = getattr(exc, "orig", None) or exc
    if isinstance(inner, OSError) and inner.errno in _DISK_FULL:
        return True
    return "disk is full" in str(inner) or "No space left" in str(inner)


def client_error(exc: BaseException) -> NoApplicableCode | None:
    """What a client is told when a request failed on an outage (None: not an outage, a real error)."""
    if store_unavailable(exc):
        return ServerBusy(f"The job store is unavailable ({cause(exc)}); please try again later",
                          locator="jobstore")
    if disk_full(exc):
        return ServerBusy(f"The server has no space left ({cause(exc)}); please try again later",
                          locator="disk")
    return None


class Outage:
    """One dependency's outage state for a retry loop: log once at start and at the end, back off between."""

    def __init__(self, what: str, log: logging.Logger, base: float, cap: float = 10.0) -> None:
        self.what, self.log, self.base, self.cap = what, log, base, cap
        self.since: float | None = None
        self.retries = 0

    @property
    def active(self) -> bool:
        return self.since is not None

    def failed(self, exc: BaseException) -> float:
        """Record one failed round; return how long to wait before the next."""
        if self.since is None:
            self.since, self.retries = time.monotonic(), 0
            self.log.error("%s unavailable: %s; retrying with back-off (one line when it is back)",
                           self.what, cause(exc))
        else:
            self.retries += 1
        return min(self.cap, self.base * 2 ** min(self.retries, 16))

    def ok(self) -> None:
        """A round succeeded: end the outage, if there was one."""
        if self.since is not None:
            self.log.warning("%s available again after %.1f s (%d round(s) retried)", self.what,
                             time.monotonic() - self.since, self.retries)
            self.since = None


class ErrorLog:
    """Unexpected errors of a loop: each distinct one logged with its traceback at most once a minute."""

    def __init__(self, log: logging.Logger, every: float = 60.0) -> None:
        self.log, self.every = log, every
        self._seen: dict[str, tuple[float, int]] = {}

    def error(self, message: str, exc: BaseException) -> None:
        key = f"{type(exc).__name__}: {exc}"[:300]
        now = time.monotonic()
        last, count = self._seen.get(key, (0.0, 0))
        if now - last >= self.every:
            suffix = f" (and {count} time(s) since it was last logged)" if count else ""
            self.log.error("%s%s", message, suffix, exc_info=exc)
            self._seen[key] = (now, 0)
        else:
            self._seen[key] = (last, count + 1)
        if len(self._seen) > 1000:
            self._seen.clear()
