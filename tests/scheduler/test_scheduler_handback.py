"""The hand-back attacks with ``mode = scheduler`` on the real Slurm: what a batch job leaves in the shared
job directory is hostile input; no secret of the server reaches the batch script or the job."""

from __future__ import annotations

import pytest

from pywps.processes import hostile
from tests.handback_attacks import (
    ATTACKS,
    PASSWORD,
    Host,
    check_output_cap,
    check_secrets_stay_home,
    database_url_with_password,
    execute,
    final_document,
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


def test_no_configuration_override_reaches_a_batch_job(slurm, make_client, monkeypatch):
    """sbatch exports the server's environment: a secret given as ``PYWPS_<SECTION>_<KEY>`` is not in it."""
    monkeypatch.setenv("PYWPS_METRICS_TOKEN", PASSWORD)
    client = make_client(hostile.testing_processes(), processing=SCHEDULER)
    final = final_document(client, execute(client, "hostile_config", ""))
    assert final.xpath("//wps:ProcessSucceeded"), final.get_data(as_text=True)
    seen = final.xpath_text("//wps:Output/wps:Data/wps:LiteralData")
    assert "SLURM_JOB_ID" in seen and PASSWORD not in seen
