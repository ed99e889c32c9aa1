"""Fixtures of the PyWPS 4 compatibility suite: a pywps.cfg as a collection's test.cfg would be, a data server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.compat.dataserver import DataServer
from tests.conftest import write_config


@pytest.fixture(scope="module")
def cfgfile(tmp_path_factory) -> Path:
    """The collection's test.cfg: three languages, a private-address data server allowed, a custom section."""
    directory = tmp_path_factory.mktemp("emu")
    return write_config(directory, server={"language": "en-US,fr-CA,de-DE", "maxsingleinputsize": "200kb"},
                        emu={"archive_root": "/data/archive"})


@pytest.fixture(scope="module")
def dataserver() -> Iterator[DataServer]:
    server = DataServer().start()
    yield server
    server.stop()
