"""The job directory: layout, validation, atomic writes."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import uuid

import pytest

from pywps.jobs.jobdir import JobDir, job_environment, valid_job_id


def new_dir(tmp_path) -> JobDir:
    return JobDir.create(tmp_path / "jobs", str(uuid.uuid4()))


def test_layout_and_modes(tmp_path):
    jd = new_dir(tmp_path)
    assert jd.indir == jd.path / "in" and jd.outdir == jd.path / "out"
    assert jd.inputs_dir == jd.indir / "inputs" and jd.files_dir == jd.outdir / "files"
    # only what every job needs: inputs/ comes with a fetched reference, files/ with an output file
    assert sorted(p.name for p in jd.path.iterdir()) == ["in", "out"]
    assert not jd.inputs_dir.exists() and not jd.files_dir.exists()
    assert stat.S_IMODE(jd.outdir.stat().st_mode) == 0o777
    assert stat.S_IMODE(jd.indir.stat().st_mode) == 0o755
    assert stat.S_IMODE(jd.path.stat().st_mode) == 0o700  # no other local user lists or reads a job
    assert jd.log_path == jd.outdir / "worker.log"
    jd.write_job({"job_id": jd.job_id})
    assert stat.S_IMODE((jd.indir / "job.json").stat().st_mode) == 0o600  # its inputs: the owner's only


@pytest.mark.parametrize("bad", ["../etc", "..", "", "a/b", "/tmp/x", "not-a-uuid",
                                 "{12345678-1234-4234-8234-123456789012}",
                                 "12345678-1234-4234-8234-123456789012/../x",
                                 "12345678123442348234123456789012",
                                 "12345678-1234-4234-8234-12345678901A"])
def test_refuses_non_uuid_ids(tmp_path, bad):
    assert not valid_job_id(bad)
    with pytest.raises(ValueError):
        JobDir.create(tmp_path, bad)
    with pytest.raises(ValueError):
        JobDir.open(tmp_path, bad)
    assert list(tmp_path.iterdir()) == []


def test_create_twice_fails(tmp_path):
    job_id = str(uuid.uuid4())
    JobDir.create(tmp_path, job_id)
    with pytest.raises(FileExistsError):
        JobDir.create(tmp_path, job_id)
    assert JobDir.open(tmp_path, job_id).outdir.is_dir()


def test_job_status_result_roundtrip(tmp_path):
    jd = new_dir(tmp_path)
    assert jd.read_status() is None and jd.read_result() is None
    job = {"job_id": jd.path.name, "process": {"identifier": "hello"}, "request": {"identifier": "hello"}}
    jd.write_job(job)
    assert jd.read_job() == job
    jd.write_status("started", 10, "go", pid=42)
    st = jd.read_status()
    assert st["status"] == "started" and st["percent"] == 10 and st["message"] == "go" and st["pid"] == 42
    hb = st["heartbeat"]
    jd.beat()
    st2 = jd.read_status()
    assert st2["heartbeat"] >= hb and {k: v for k, v in st2.items() if k != "heartbeat"} == {
        k: v for k, v in st.items() if k != "heartbeat"}
    fresh = JobDir(jd.path)                                 # beat() without a cached status reads the file
    fresh.beat()
    assert fresh.read_status()["percent"] == 10
    jd.write_result([{"identifier": "out", "kind": "literal", "value": "1"}], None)
    assert jd.read_result() == {"outputs": [{"identifier": "out", "kind": "literal", "value": "1"}],
                                "exception": None}
    jd.write_result([], {"code": "NoApplicableCode", "locator": "", "text": "boom"})
    assert jd.read_result()["exception"]["text"] == "boom"
    assert sorted(p.name for p in jd.outdir.iterdir()) == ["result.json", "status.json"]


def test_split_halves(tmp_path):
    jd = new_dir(tmp_path)
    jd.write_job({"job_id": jd.path.name})
    mounted = JobDir.split(jd.indir, jd.outdir)
    assert mounted.path is None and mounted.read_job() == {"job_id": jd.path.name}
    assert mounted.job_id == jd.job_id == jd.path.name
    assert JobDir.split(tmp_path / "nowhere", tmp_path / "nowhere").job_id == ""
    mounted.write_status("succeeded", 100)
    assert jd.read_status()["status"] == "succeeded"
    assert mounted.files_dir == jd.files_dir
    mounted.remove()
    assert not jd.indir.exists() and not jd.outdir.exists()


def test_remove(tmp_path):
    jd = new_dir(tmp_path)
    jd.files_dir.mkdir()
    (jd.files_dir / "x.txt").write_text("x")
    jd.remove()
    assert not jd.path.exists()
    jd.remove()                                             # idempotent


def _writer(outdir: str, n: int) -> None:
    jd = JobDir.split(outdir, outdir)
    for i in range(n):
        jd.write_status("started", i % 101, "m" * (i % 5000))


def test_readers_never_see_half_a_file(tmp_path):
    jd = new_dir(tmp_path)
    jd.write_status("started", 0)
    proc = multiprocessing.get_context("fork").Process(target=_writer, args=(str(jd.outdir), 400))
    proc.start()
    reads = 0
    while proc.is_alive() or reads == 0:
        raw = jd.status_path.read_bytes()
        json.loads(raw)                                     # raises on a partial document
        reads += 1
    proc.join()
    assert proc.exitcode == 0
    assert not [p for p in os.listdir(jd.outdir) if p.endswith(".tmp")]


def test_a_job_environment_has_none_of_the_servers_configuration_overrides():
    environ = {"PATH": "/usr/bin", "HOME": "/home/pywps", "PYWPS_LOGGING_DATABASE": "postgresql://u:Hunter2@db/x",
               "PYWPS_METRICS_TOKEN": "Hunter2", "PYWPS_SERVER_WORKDIR": "/srv/work", "PYWPS_CFG": "/etc/pywps.cfg",
               "PYWPS_PROCESSES": "mine:processes", "PYWPS_JOB_ID": "abc"}
    assert job_environment(environ) == {"PATH": "/usr/bin", "HOME": "/home/pywps", "PYWPS_CFG": "/etc/pywps.cfg",
                                        "PYWPS_PROCESSES": "mine:processes", "PYWPS_JOB_ID": "abc"}
