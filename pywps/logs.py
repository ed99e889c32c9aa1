"""Logging set-up from ``[logging]``; ``LOGGER`` is the PyWPS 4 logger name."""

from __future__ import annotations

import logging
import logging.handlers

from pywps.config import Config

LOGGER = logging.getLogger("PYWPS")


def configure_logging(config: Config) -> None:
    """Apply ``[logging] level``, ``file`` and ``format`` to the ``pywps`` and ``PYWPS`` loggers once."""
    level = getattr(logging, config.logging.level, logging.INFO)
    fmt = config.logging.format or "%(asctime)s %(levelname)s %(name)s %(message)s"
    handler: logging.Handler
    filename = config.logging.file
    # WatchedFileHandler: logrotate may move the file away (no copytruncate needed)
    handler = logging.handlers.WatchedFileHandler(filename) if filename else logging.StreamHandler()
    handler.setFormatter(logging.Formatter(fmt))
    for name in ("pywps", "PYWPS"):
        logger = logging.getLogger(name)
        logger.setLevel(level)
        if not any(getattr(h, "_pywps", False) for h in logger.handlers):
            handler._pywps = True  # type: ignore[attr-defined]
            logger.addHandler(handler)
            logger.propagate = False
