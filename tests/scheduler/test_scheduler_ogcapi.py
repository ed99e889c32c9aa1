"""OGC API - Processes with ``mode = scheduler`` on the real Slurm: DELETE /jobs/{id} cancels the batch job."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pywps.processes import hostile
from tests.conftest import wait_for
from tests.ogcapi.conftest import Api, job_id_of

pytestmark = pytest.mark.slurm

SCHEDULER = {"mode": "scheduler", "scheduler": "slurm", "scheduler_poll_interval": "0.2"}


def test_dismiss_stops_the_batch_job(slurm, make_client):
    api = Api(make_client(hostile.testing_processes(), processing=SCHEDULER))
    job_id = job_id_of(api.execute("hostile_ticker", {"inputs": {"seconds": 120}}, asynchronous=True))
    ticks = Path(api.dispatcher.jobs_root) / job_id / "out" / "ticks"

    def count() -> int:
        try:
            return len(ticks.read_text().splitlines())
        except FileNotFoundError:
            return 0

    wait_for(lambda: count() >= 3, timeout=120, interval=0.1)
    assert api.delete(f"jobs/{job_id}").get_json()["status"] == "dismissed"
    after = count()
    time.sleep(1.0)
    assert count() == after, "the batch job kept ticking after DELETE answered"
    assert api.get(f"jobs/{job_id}/results").status_code == 410
