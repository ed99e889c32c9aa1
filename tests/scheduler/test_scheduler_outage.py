"""slurmctld stopped and started again (for real): a job submitted meanwhile waits, then runs."""

from __future__ import annotations

import subprocess
import time

import pytest

from tests.conftest import wait_for
from tests.handback_attacks import execute, final_document

pytestmark = pytest.mark.slurm

SCHEDULER = {"mode": "scheduler", "scheduler": "slurm", "scheduler_poll_interval": "0.2",
             "scheduler_command_timeout": "10"}


def controller_up() -> bool:
    return subprocess.run(["scontrol", "ping"], capture_output=True, text=True, timeout=30).stdout.count("UP") > 0


def test_a_job_submitted_while_slurmctld_is_down_waits_then_runs(slurm, make_client):
    client = make_client(processing=SCHEDULER, jobs={"start_timeout": "300"})
    subprocess.run(["pkill", "-x", "slurmctld"], check=False)
    wait_for(lambda: not controller_up(), 30, 0.5)
    try:
        resp = execute(client, "say_hello", "name=later")
        assert resp.status_code == 200, resp.get_data(as_text=True)
        store = client.application.extensions["pywps"]["dispatcher"].store
        job = wait_for(lambda: (j := store.list(limit=1)[0]).message.startswith("waiting to start") and j, 60, 0.2)
        assert "unreachable" in job.message, job.message
    finally:
        subprocess.run(["/usr/sbin/slurmctld"], check=True, timeout=60)
        wait_for(controller_up, 60, 0.5)
        time.sleep(1)
    final = final_document(client, resp, timeout=180)
    assert final.xpath("//wps:ProcessSucceeded"), final.get_data(as_text=True)
