"""The hand-back attacks on the real Docker engine: what a container leaves in its out/ is hostile input."""

from __future__ import annotations

import json

import pytest

from pywps.backends.docker import LABEL_INSTANCE, LABEL_JOBDIR
from pywps.processes import hostile
from tests.docker.conftest import IMAGE
from tests.handback_attacks import (
    ATTACKS,
    PASSWORD,
    Host,
    check_output_cap,
    check_raw_swap,
    check_secrets_stay_home,
    database_url_with_password,
    run_attack,
)

pytestmark = pytest.mark.docker

DOCKER = {"mode": "docker", "docker_image": IMAGE}


@pytest.fixture
def host(tmp_path):
    return Host.make(tmp_path)


@pytest.fixture
def dclient(engine_client, make_client, tmp_path):
    """In-process WSGI clients in mode docker; their containers are removed afterwards."""

    def make(processing=None, **sections):
        return make_client(hostile.testing_processes(), processing={**DOCKER, **(processing or {})}, **sections)

    yield make
    import docker.errors

    for summary in engine_client.api.containers(all=True, filters={"label": LABEL_INSTANCE}):
        if (summary.get("Labels") or {}).get(LABEL_JOBDIR, "").startswith(str(tmp_path)):
            try:
                engine_client.api.remove_container(summary["Id"], force=True, v=True)
            except docker.errors.APIError as exc:
                if exc.status_code not in (404, 409):  # gone, or being removed by the backend
                    raise


@pytest.fixture
def attack_client(dclient):
    return dclient(server={"maxoutputsize": "200k", "parallelprocesses": 2})


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_attack(attack_client, host, attack):
    run_attack(attack_client, host, attack)


def test_attack_through_the_pool(dclient, host):
    client = dclient({"docker_pool_size": 1})
    for attack in ("link_abs", "files_link", "result_abs", "swap_output"):
        run_attack(client, host, attack)


def test_raw_output_swap(attack_client, host):
    check_raw_swap(attack_client, host)


def test_output_size_cap(attack_client):
    check_output_cap(attack_client)


@pytest.mark.parametrize("db_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_no_secret_reaches_a_container(dclient, engine_client, db_url, tmp_path):
    client = dclient({"docker_keep_containers": "true"}, logging={"database": database_url_with_password(db_url)})
    seen = check_secrets_stay_home(client)
    assert not seen["config"]["logging"].get("database")
    assert seen["/pywps/in/job.json"].startswith("{")  # the job's own uid can read its description
    inspected = []
    for summary in engine_client.api.containers(all=True, filters={"label": LABEL_INSTANCE}):
        if (summary.get("Labels") or {}).get(LABEL_JOBDIR, "").startswith(str(tmp_path)):
            attrs = engine_client.api.inspect_container(summary["Id"])
            inspected.append(json.dumps(attrs["Config"]))
    assert inspected
    for config in inspected:
        assert PASSWORD not in config


def test_job_json_belongs_to_the_container_user_only(tmp_path):
    """As root, the job's description is handed to the container's uid, mode 0400, nobody else's."""
    import os

    from pywps.backends.docker import prepare_jobdir
    from pywps.jobs.jobdir import JobDir

    if os.geteuid() != 0:
        pytest.skip("chown needs root")
    job = JobDir.create(tmp_path / "jobs", "0b6f9d3e-2f57-4d5e-9a43-0c8c1a2f0b14")
    job.write_job({"job_id": job.job_id})
    prepare_jobdir(job, (65534, 65534))
    info = (job.indir / "job.json").stat()
    assert (info.st_uid, info.st_mode & 0o777) == (65534, 0o400)
    assert job.path.stat().st_mode & 0o777 == 0o700
