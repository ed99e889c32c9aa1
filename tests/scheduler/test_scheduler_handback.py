"""The hand-back attacks with ``mode = scheduler`` on the real Slurm: what a batch job leaves in the shared
job directory is hostile input; no secret of the server reaches the batch script or the job."""

from __future__ import annotations

import pytest

from pywps.processes import hostile
from tests.handback_attacks import (
    ATTACKS,
    Host,
    check_output_cap,
    check_secrets_stay_home,
    database_url_with_password,
    run_attack,
)

SCHEDULER = {"mode": "scheduler", "scheduler": "slurm", "scheduler_poll_interval": "0.2",
             "scheduler_query_interval": "0.5"}

pytestmark = pytest.mark.slurm


@pytest.fixture
def host(tmp_path):
    return Host.make(tmp_path)


@pytest.fixture
def attack_client(slurm, make_client):
    return make_client(hostile.testing_processes(), processing=SCHEDULER,
                       server={"maxoutputsize": "200k", "parallelprocesses": 4})


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack(attack_client, host, attack):
    run_attack(attack_client, host, attack)


def test_output_size_cap(attack_client):
    check_output_cap(attack_client)


@pytest.mark.parametrize("db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_no_secret_reaches_a_batch_job(slurm, make_client, db_url):
    client = make_client(hostile.testing_processes(), processing=SCHEDULER,
                         logging={"database": database_url_with_password(db_url)})
    seen = check_secrets_stay_home(client)  # walks the job directory, in/batch.sh included
    assert not seen["config"]["logging"].get("database")
