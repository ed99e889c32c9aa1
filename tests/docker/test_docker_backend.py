"""The docker backend on a real engine: a job's round trip, each isolation property, lifecycle operations."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pywps.backends.base import RunnerState, RunnerUnavailable
from pywps.backends.docker import LABEL_INSTANCE, LABEL_JOB, Container
from pywps.exceptions import ConfigurationError, NoApplicableCode
from pywps.jobs.jobdir import JobDir
from tests.conftest import record, wait_for
from tests.docker.conftest import docker_config, make_job, outcome, output

pytestmark = pytest.mark.docker

# the capabilities an engine gives a container by default (Docker's and Podman's lists)
DEFAULT_CAPS = {"CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "NET_BIND_SERVICE", "SETFCAP", "SETGID",
                "SETPCAP", "SETUID", "SYS_CHROOT"}


def _wait_status(jobdir, predicate, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = jobdir.read_status() or {}
        if predicate(status):
            return status
        time.sleep(0.1)
    raise AssertionError(f"status never matched; last {jobdir.read_status()}")


def test_job_round_trip(backend, jobs_root, engine_client):
    jobdir = make_job(jobs_root, "say_hello", name="docker")
    handle = backend.start(record(jobdir, "say_hello"), jobdir)
    attrs = engine_client.api.inspect_container(handle)
    labels = attrs["Config"]["Labels"]
    assert labels[LABEL_JOB] == jobdir.job_id and labels[LABEL_INSTANCE] == backend.instance_id
    host = attrs["HostConfig"]
    assert host["NetworkMode"] == "none" and host["ReadonlyRootfs"] and not host.get("CapAdd")
    assert host["CapDrop"] == ["ALL"] or set(host["CapDrop"]) >= DEFAULT_CAPS  # Podman lists what it dropped
    assert host["SecurityOpt"] == ["no-new-privileges"] and attrs["Config"]["User"] == "65534:65534"
    assert host["PidsLimit"] == 128 and host["Memory"] == host["MemorySwap"] == 256 * 1024**2
    assert host["NanoCpus"] == 10**9 and host["Init"] is True

    status = backend.wait(handle, timeout=60)
    assert status.state == RunnerState.EXITED and status.exit_code == 0, (status, jobdir.read_result())
    assert output(jobdir, "output") == "Hello docker"
    assert (jobdir.read_status() or {})["status"] == "succeeded"
    assert backend.poll_many([handle])[handle].state == RunnerState.EXITED
    backend.cleanup(handle)
    assert backend.poll(handle).state == RunnerState.LOST
    backend.cleanup(handle)  # idempotent


def test_no_network(backend, jobs_root):
    jobdir = make_job(jobs_root, "hostile_network", host="172.17.0.1", port=2375)
    status = backend.wait(backend.start(record(jobdir, "hostile_network"), jobdir), timeout=60)
    assert status.exit_code == 0, jobdir.read_result()
    seen = outcome(jobdir)
    assert seen["connect"].startswith("error"), seen
    assert seen["dns"].startswith("error"), seen
    assert seen["interfaces"] == "lo", seen


def test_cannot_write_outside_out_dir(backend, jobs_root):
    jobdir = make_job(jobs_root, "hostile_write")
    before = sorted(p.name for p in jobdir.indir.rglob("*"))
    status = backend.wait(backend.start(record(jobdir, "hostile_write"), jobdir), timeout=60)
    assert status.exit_code == 0, jobdir.read_result()
    seen = outcome(jobdir)
    for place in ("/", "/etc", "/pywps", "/pywps/in", "/opt", "/usr/lib", "/var/tmp", "/root", "/home"):
        assert seen[place].startswith("error"), (place, seen)
    assert seen["/tmp"] == "written"  # the job's own small tmpfs
    assert sorted(p.name for p in jobdir.indir.rglob("*")) == before


def test_cannot_see_other_jobs_or_server_files(backend, jobs_root):
    other = make_job(jobs_root, "hostile_sleep", seconds=20, steps=20)
    other_handle = backend.start(record(other, "hostile_sleep"), other)
    _wait_status(other, lambda s: s.get("status") == "started")
    repo = str(Path(__file__).resolve().parents[2])
    paths = [str(other.path), str(other.outdir), str(jobs_root), repo, "/etc/shadow", "/var/run/docker.sock",
             "/var/lib/docker", "/pywps/out/.."]
    jobdir = make_job(jobs_root, "hostile_read", paths=",".join(paths))
    status = backend.wait(backend.start(record(jobdir, "hostile_read"), jobdir), timeout=60)
    assert status.exit_code == 0, jobdir.read_result()
    seen = outcome(jobdir)
    for path in [*paths[:4], "/var/run/docker.sock", "/var/lib/docker"]:
        assert seen[path] == "missing", (path, seen)
    assert not seen["/etc/shadow"].startswith("read"), seen  # the image's own, and unreadable as uid 65534
    assert seen["/pywps/out/.."] == "listed: in,out"  # only its own two mounts
    backend.cancel(other_handle)


def test_fork_bomb_stopped_by_pids_limit(make_backend, jobs_root):
    backend = make_backend(docker_pids_limit=64, docker_time_limit=60)
    jobdir = make_job(jobs_root, "hostile_forkbomb", hold=2)
    started = time.monotonic()
    status = backend.wait(backend.start(record(jobdir, "hostile_forkbomb"), jobdir), timeout=90)
    assert time.monotonic() - started < 45
    assert status.state == RunnerState.EXITED and status.exit_code != 0
    assert "pids limit 64 reached" in status.message, status
    result = jobdir.read_result()
    if result is not None:  # the process itself saw the refusal (when the worker could still write it)
        assert "fork refused after" in (result.get("exception") or {}).get("text", ""), result


def test_memory_limit_ends_as_out_of_memory(backend, jobs_root):
    jobdir = make_job(jobs_root, "hostile_memory", megabytes=2048)
    status = backend.wait(backend.start(record(jobdir, "hostile_memory"), jobdir), timeout=90)
    assert status.state == RunnerState.EXITED and status.exit_code == 137
    assert status.message == "killed: out of memory (limit 256 MiB)"


def test_endless_loop_killed_at_time_limit(make_backend, jobs_root):
    backend = make_backend(docker_time_limit=3)
    jobdir = make_job(jobs_root, "hostile_loop")
    started = time.monotonic()
    status = backend.wait(backend.start(record(jobdir, "hostile_loop"), jobdir), timeout=60)
    assert status.state == RunnerState.EXITED and status.message == "killed: time limit 3 s"
    assert 3 <= time.monotonic() - started < 8
    # a fresh backend (a restarted server) still tells why, from the container's labels and times
    fresh = make_backend(docker_time_limit=3)
    assert fresh.poll(status_handle := backend.containers(backend.instance_id)[0]["Id"]).message \
        == "killed: time limit 3 s", status_handle


def test_time_limit_enforced_by_poll(make_backend, jobs_root):
    backend = make_backend(docker_time_limit=2)
    jobdir = make_job(jobs_root, "hostile_loop")
    handle = backend.start(record(jobdir, "hostile_loop"), jobdir)
    deadline = time.monotonic() + 15
    while (status := backend.poll_many([handle])[handle]).state != RunnerState.EXITED:
        assert time.monotonic() < deadline
        time.sleep(0.25)
    assert status.message == "killed: time limit 2 s"


def test_cancel_stops_a_running_job_within_2_s(backend, jobs_root):
    jobdir = make_job(jobs_root, "hostile_sleep", seconds=60, steps=60)
    handle = backend.start(record(jobdir, "hostile_sleep"), jobdir)
    _wait_status(jobdir, lambda s: s.get("status") == "started")
    started = time.monotonic()
    backend.cancel(handle)
    status = backend.wait(handle, timeout=5)
    assert time.monotonic() - started < 2
    assert status.state == RunnerState.EXITED and status.message == "killed: cancelled"
    backend.cancel(handle)  # idempotent


def test_pause_and_resume(backend, jobs_root):
    jobdir = make_job(jobs_root, "hostile_sleep", seconds=3, steps=30)
    handle = backend.start(record(jobdir, "hostile_sleep"), jobdir)
    _wait_status(jobdir, lambda s: s.get("percent", 0) >= 10)
    backend.pause(handle)
    assert backend.poll(handle).state == RunnerState.PAUSED
    assert backend.poll_many([handle])[handle].state == RunnerState.PAUSED
    frozen = (jobdir.read_status() or {}).get("percent")
    time.sleep(1.5)
    assert (jobdir.read_status() or {}).get("percent") == frozen
    backend.resume(handle)
    status = backend.wait(handle, timeout=30)
    assert status.exit_code == 0, jobdir.read_result()
    assert float(output(jobdir, "slept") or 0) >= 4.4  # 3 s of sleep plus the 1.5 s pause


def test_cancel_a_paused_job(backend, jobs_root):
    jobdir = make_job(jobs_root, "hostile_sleep", seconds=30, steps=30)
    handle = backend.start(record(jobdir, "hostile_sleep"), jobdir)
    _wait_status(jobdir, lambda s: s.get("status") == "started")
    backend.pause(handle)
    backend.cancel(handle)
    assert backend.wait(handle, timeout=5).message == "killed: cancelled"


def test_adopt_after_restart_and_reap(make_backend, jobs_root, engine_client):
    first = make_backend()
    jobdir = make_job(jobs_root, "hostile_sleep", seconds=2, steps=4)
    handle = first.start(record(jobdir, "hostile_sleep"), jobdir)
    stray = make_job(jobs_root, "hostile_sleep", seconds=30, steps=30)
    stray_handle = first.start(record(stray, "hostile_sleep"), stray)
    del first  # the server is gone; its containers are not

    second = make_backend()
    second.adopt([handle])
    assert second.poll(handle).state in (RunnerState.RUNNING, RunnerState.PENDING)
    removed = second.reap({jobdir.job_id}, instances=[second.instance_id])
    assert removed == [stray_handle]
    assert second.poll(stray_handle).state == RunnerState.LOST
    status = second.wait(handle, timeout=30)
    assert status.exit_code == 0 and output(jobdir, "slept")


def test_keep_containers(make_backend, jobs_root, engine_client):
    backend = make_backend(docker_keep_containers="true")
    jobdir = make_job(jobs_root, "say_hello", name="kept")
    handle = backend.start(record(jobdir, "say_hello"), jobdir)
    backend.wait(handle, timeout=60)
    backend.cleanup(handle)
    assert engine_client.api.inspect_container(handle)["State"]["Status"] == "exited"


def test_start_is_idempotent_for_a_job(backend, jobs_root):
    jobdir = make_job(jobs_root, "say_hello", name="again")
    first = backend.start(record(jobdir, "say_hello"), jobdir)
    assert backend.start(record(jobdir, "say_hello"), jobdir) == first
    assert backend.wait(first, timeout=60).exit_code == 0


def test_missing_image_is_a_clear_error(engine_client, jobs_root):
    backend = Container(docker_config(docker_image="pywps-no-such-image:0").processing, instance_id="pytest-missing")
    with pytest.raises(ConfigurationError, match="pywps image build"):
        backend.check()
    jobdir = make_job(jobs_root, "say_hello", name="x")
    with pytest.raises(NoApplicableCode, match="not found"):
        backend.start(record(jobdir, "say_hello"), jobdir)


def test_per_process_image(engine_client):
    config = docker_config()
    config.parser.add_section("docker:images")
    config.parser.set("docker:images", "hostile_loop", "pywps-no-such-image:1")
    backend = Container(config.processing, instance_id="pytest-images")
    assert backend.settings.image_for("hostile_loop") == "pywps-no-such-image:1"
    assert backend.settings.image_for("say_hello") == backend.settings.image
    with pytest.raises(ConfigurationError, match="pywps-no-such-image:1"):
        backend.check()


@pytest.mark.parametrize("how", ["from_env", "gone"])
def test_engine_down_is_an_outage_not_a_lost_job(tmp_path, monkeypatch, caplog, how):
    import docker

    socket = f"unix://{tmp_path}/no-engine.sock"
    if how == "from_env":  # no engine at start-up: DOCKER_HOST is honoured
        monkeypatch.setenv("DOCKER_HOST", socket)
        client = None
    else:  # the engine went away after the client was made
        client = docker.DockerClient(base_url=socket, version="1.41", timeout=2)
    backend = Container(docker_config(docker_engine_grace="1").processing, client=client, instance_id="pytest-down")
    with caplog.at_level("ERROR", logger="pywps.backends.docker"):
        backend.check()  # the server starts; the log says why jobs wait
    assert "the Docker engine does not answer" in caplog.text
    # within docker_engine_grace a running container is assumed alive (live-restore, a quick restart) ...
    status = backend.poll("0123456789ab")
    assert status.state == RunnerState.RUNNING and "Docker engine unreachable" in status.message
    assert backend.poll_many(["0123456789ab"])["0123456789ab"].state == RunnerState.RUNNING
    time.sleep(1.1)
    # ... after it, the job ends saying why
    status = backend.poll_many(["0123456789ab"])["0123456789ab"]
    assert status.state == RunnerState.LOST and "docker_engine_grace" in status.message, status
    with pytest.raises(RunnerUnavailable, match="Docker engine unreachable"):  # a new job waits for the engine
        backend.start(record(JobDir(tmp_path / "0b8e6cfe-3c43-4c5b-9f4e-5c7f6d7bd0aa"), "say_hello"),
                      JobDir(tmp_path / "0b8e6cfe-3c43-4c5b-9f4e-5c7f6d7bd0aa"))


def test_check_passes_on_a_working_engine(backend):
    backend.check()


def _pool_containers(client, backend) -> list[dict]:
    from pywps.backends.docker import LABEL_POOL

    return client.api.containers(filters={"label": f"{LABEL_POOL}={backend.instance_id}"})


def test_pool_runs_each_job_in_a_fresh_prestarted_container(make_backend, tmp_path, engine_client):
    jobs_root = tmp_path / "work" / "jobs"
    backend = make_backend(workdir=tmp_path / "work", docker_pool_size=2)
    assert backend.fill_pool() == 2
    assert len(_pool_containers(engine_client, backend)) == 2
    handles = []
    for name in ("one", "two", "three"):
        wait_for(lambda: backend.idle_pool_size > 0, timeout=60)  # each hand-over refills in the background
        jobdir = make_job(jobs_root, "say_hello", name=name)
        handle = backend.start(record(jobdir, "say_hello"), jobdir)
        assert jobdir.outdir.is_symlink()
        status = backend.wait(handle, timeout=60)
        assert status.exit_code == 0, (status, jobdir.read_result())
        assert output(jobdir, "output") == f"Hello {name}"
        backend.cleanup(handle)
        assert not jobdir.outdir.is_symlink() and (jobdir.outdir / "result.json").is_file()
        assert not jobdir.indir.is_symlink() and (jobdir.indir / "job.json").is_file()
        assert backend.poll(handle).state == RunnerState.LOST  # used once, then removed
        handles.append(handle)
    assert len(set(handles)) == 3
    backend.close()
    assert _pool_containers(engine_client, backend) == []
    assert list((tmp_path / "work" / "docker-pool").iterdir()) == []


def test_pool_keeps_limits_and_time_limit_counts_from_hand_over(make_backend, tmp_path):
    jobs_root = tmp_path / "work" / "jobs"
    backend = make_backend(workdir=tmp_path / "work", docker_pool_size=1, docker_time_limit=2)
    backend.fill_pool()
    time.sleep(2.5)  # idle longer than the time limit: must not count
    jobdir = make_job(jobs_root, "hostile_sleep", seconds=1, steps=2)
    status = backend.wait(backend.start(record(jobdir, "hostile_sleep"), jobdir), timeout=30)
    assert status.exit_code == 0, (status, jobdir.read_result())
    jobdir = make_job(jobs_root, "hostile_loop")
    handle = backend.start(record(jobdir, "hostile_loop"), jobdir)
    assert backend.wait(handle, timeout=30).message == "killed: time limit 2 s"
    memory = make_job(jobs_root, "hostile_memory", megabytes=1024)
    status = backend.wait(backend.start(record(memory, "hostile_memory"), memory), timeout=60)
    assert status.message == "killed: out of memory (limit 256 MiB)"
    network = make_job(jobs_root, "hostile_network", host="172.17.0.1", port=2375)
    backend.wait(backend.start(record(network, "hostile_network"), network), timeout=60)
    assert outcome(network)["interfaces"] == "lo"


def test_reap_removes_orphaned_pool_containers(make_backend, tmp_path, engine_client):
    first = make_backend(workdir=tmp_path / "work", docker_pool_size=1)
    first.fill_pool()
    idle = [c["Id"] for c in _pool_containers(engine_client, first)]
    assert len(idle) == 1
    first._pool.clear()  # the server died without closing its pool
    second = make_backend(workdir=tmp_path / "work")
    second.instance_id = "pytest-other"
    assert second.reap(set(), live_instances=[], instances=[first.instance_id]) == idle


def test_pool_start_is_idempotent(make_backend, tmp_path):
    backend = make_backend(workdir=tmp_path / "work", docker_pool_size=1)
    jobdir = make_job(tmp_path / "work" / "jobs", "say_hello", name="again")
    first = backend.start(record(jobdir, "say_hello"), jobdir)
    assert backend.start(record(jobdir, "say_hello"), jobdir) == first
    assert backend.wait(first, timeout=60).exit_code == 0
    assert output(jobdir, "output") == "Hello again"


def test_paused_time_does_not_count_towards_the_time_limit(make_backend, jobs_root):
    backend = make_backend(docker_time_limit=4)
    other = make_backend(docker_time_limit=4)  # e.g. the pywps jobs CLI pausing and resuming
    jobdir = make_job(jobs_root, "hostile_sleep", seconds=3, steps=30)
    handle = backend.start(record(jobdir, "hostile_sleep"), jobdir)
    _wait_status(jobdir, lambda s: s.get("percent", 0) >= 10)
    other.pause(handle)
    for _ in range(12):  # 3 s paused, seen by polling
        assert backend.poll(handle).state == RunnerState.PAUSED
        time.sleep(0.25)
    other.resume(handle)
    status = backend.wait(handle, timeout=30)
    assert status.exit_code == 0, status
