"""The HTTP request counters of pywps/metrics.py, shared between server processes through small files."""

from __future__ import annotations

import logging
import threading

from pywps.metrics import HttpCounters


def test_concurrent_flushes_of_one_process_lose_nothing_and_warn_nothing(tmp_path, caplog):
    """A request thread and the one-second timer may flush at once: they wrote the same temporary file, and
    the second rename found it gone ("could not write the HTTP request counters")."""
    counters = HttpCounters(tmp_path / "metrics")
    caplog.set_level(logging.WARNING, logger="pywps.metrics")
    start = threading.Barrier(8)

    def hammer() -> None:
        start.wait()
        for _ in range(200):
            counters.count("GetCapabilities", 200)
            counters.flush()

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not [r for r in caplog.records if "could not write" in r.getMessage()]
    assert counters.totals()[("GetCapabilities", "200")] == 1600
