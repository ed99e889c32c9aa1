"""Where a running job publishes files (output directory and its public URL), for MetaLink documents.

:func:`pywps.execute.run_process` binds a :class:`JobStorage` while the handler runs; outputs that need a
URL before the job ends (the files listed in a MetaLink) are copied into the output directory through it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass
class JobStorage:
    """The job's output directory and the URL it will be served at (None: not known to the worker)."""

    outdir: Path
    output_url: str | None = None

    def unique_name(self, name: str) -> str:
        """A file name not yet used in the output directory, derived from ``name``."""
        stem, ext = os.path.splitext(os.path.basename(name) or "output")
        candidate, n = f"{stem}{ext}", 1
        while (self.outdir / candidate).exists():
            candidate = f"{stem}_{n}{ext}"
            n += 1
        return candidate

    def store(self, source: str | os.PathLike, name: str | None = None) -> str:
        """Copy (or hard-link) a file into the output directory; return its name there."""
        self.outdir.mkdir(parents=True, exist_ok=True)
        target_name = self.unique_name(name or os.path.basename(os.fspath(source)))
        target = self.outdir / target_name
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
        return target_name

    def url_for(self, name: str) -> str:
        """The public URL of a stored file (its bare name when the base URL is unknown)."""
        if not self.output_url:
            return name
        return self.output_url.rstrip("/") + "/" + name


_current: ContextVar[JobStorage | None] = ContextVar("pywps_job_storage", default=None)


def current_storage() -> JobStorage | None:
    """The storage of the job running in this context, if any."""
    return _current.get()


@contextlib.contextmanager
def bind_storage(storage: JobStorage) -> Iterator[JobStorage]:
    """Make ``storage`` the current job storage inside the ``with`` block."""
    token = _current.set(storage)
    try:
        yield storage
    finally:
        _current.reset(token)
