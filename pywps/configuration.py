"""PyWPS 4 configuration facade for process authors: ``CONFIG``, ``get_config_value``, ``load_configuration``.

As in PyWPS 4, the process has one configuration loaded last (by :func:`load_configuration` or a
``Service(cfgfiles=...)``), which a ``Service`` made without files uses. On top of that, each app's
requests and each job see their own configuration through a context variable (:func:`using`), so two
services with different files in one process never read each other's settings.
"""

from __future__ import annotations

import configparser
import contextlib
import os
from collections.abc import Iterable, Iterator
from contextvars import ContextVar

from pywps.config import Config, load, parse_size

_config: Config | None = None                       # loaded last in this process
_current: ContextVar[Config | None] = ContextVar("pywps_config", default=None)  # the request's or job's
CONFIG: configparser.ConfigParser | None = None


def load_configuration(cfgfiles: Iterable[str | os.PathLike] | str | None = None) -> Config:
    """Load (or reload) the process's configuration, as PyWPS 4 did."""
    if isinstance(cfgfiles, (str, os.PathLike)):
        cfgfiles = [cfgfiles]
    config = load(cfgfiles or ())
    set_config(config)
    return config


def set_config(config: Config) -> None:
    """Make ``config`` the process's configuration (the one loaded last)."""
    global _config, CONFIG
    _config = config
    CONFIG = config.parser


def set_job_config(config: Config) -> None:
    """In a job's runner: ``config`` is all there is (the process's and this context's)."""
    set_config(config)
    _current.set(config)


@contextlib.contextmanager
def using(config: Config) -> Iterator[Config]:
    """Within the block (a request of one app, a dispatcher round), the facade reads ``config``."""
    token = _current.set(config)
    try:
        yield config
    finally:
        _current.reset(token)


def get_config() -> Config:
    """The configuration in hand: this request's or job's, else the one loaded last (loading the default
    one, or ``$PYWPS_CFG``, the first time)."""
    current = _current.get()
    if current is not None:
        return current
    if _config is None:
        load_configuration()
    assert _config is not None
    return _config


def get_config_value(section: str, option: str, default_value: str = "") -> str:
    """The raw value of ``[section] option`` (``default_value`` when missing), PyWPS 4 style."""
    value = get_config().get(section, option)
    return default_value if value is None else value


def get_size_mb(mbsize: str) -> float:
    """PyWPS 4 helper: a size such as '3mb' in megabytes."""
    return parse_size(mbsize) / 1024 ** 2
