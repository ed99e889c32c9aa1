"""PyWPS 4 configuration facade for process authors: ``CONFIG``, ``get_config_value``, ``load_configuration``."""

from __future__ import annotations

import configparser
import os
from collections.abc import Iterable

from pywps.config import Config, load

_config: Config | None = None
CONFIG: configparser.ConfigParser | None = None


def load_configuration(cfgfiles: Iterable[str | os.PathLike] | str | None = None) -> Config:
    """Load (or reload) the global configuration, as PyWPS 4 did."""
    global _config, CONFIG
    if isinstance(cfgfiles, (str, os.PathLike)):
        cfgfiles = [cfgfiles]
    _config = load(cfgfiles or ())
    CONFIG = _config.parser
    return _config


def set_config(config: Config) -> None:
    """Make ``config`` the global one (the Service does this)."""
    global _config, CONFIG
    _config = config
    CONFIG = config.parser


def get_config() -> Config:
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
    from pywps.config import parse_size

    return parse_size(mbsize) / 1024 ** 2
