"""Scheduler backend pieces that need no cluster: options, batch script, command lines, state mapping.

The states a one-node test cluster cannot produce (node failure, preemption, a controller that does not
answer) are fed through a Submitter that replays what a scheduler said.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from schedjobs import make_config

from pywps.backends.base import RunnerState, backend_class
from pywps.backends.scheduler import (
    BATCH_LOG,
    BatchState,
    DrmaaSubmitter,
    Scheduler,
    SchedulerOptions,
    SlurmSubmitter,
    Submitter,
    _exit_code,
    _hms,
)
from pywps.exceptions import ConfigurationError
from pywps.jobs.jobdir import JobDir


class Replay(Submitter):
    """A submitter that answers from a dict of states (None: the scheduler does not answer)."""

    kind = "slurm"

    def __init__(self, options: SchedulerOptions) -> None:
        super().__init__(options)
        self.states: dict[str, BatchState] | None = {}
        self.asked: list[list[str]] = []

    def submit(self, script: Path, jobdir: Path, name: str, job_id: str) -> str:
        raise NotImplementedError

    def query(self, batch_ids: list[str]) -> dict[str, BatchState] | None:
        self.asked.append(batch_ids)
        return None if self.states is None else {b: s for b, s in self.states.items() if b in batch_ids}

    def cancel(self, batch_id: str) -> None:
        pass


@pytest.fixture
def replay(tmp_path: Path) -> tuple[Scheduler, Replay, Path]:
    backend = Scheduler(make_config(tmp_path, scheduler_query_interval="0").processing)
    backend.submitter = Replay(backend.options)
    jobdir = tmp_path / "job"
    (jobdir / "out").mkdir(parents=True)
    return backend, backend.submitter, jobdir


def test_registered_as_scheduler():
    assert backend_class("scheduler") is Scheduler


def test_options_defaults_and_parsing(tmp_path):
    options = Scheduler(make_config(tmp_path).processing).options
    assert options.submitter == "slurm" and options.sync == "wait" and options.python == sys.executable
    assert options.pythonpath == str(Path(__file__).resolve().parents[2])
    options = Scheduler(make_config(tmp_path, scheduler_memory="2gb", scheduler_python="/opt/venv/bin/python",
                                    scheduler_extra_options="--qos=low --exclusive",
                                    scheduler_environment="A=1 'B=two words'").processing).options
    assert options.memory == 2 * 1024 ** 3 and options.pythonpath == ""
    assert options.extra_options == ("--qos=low", "--exclusive")
    assert options.environment == (("A", "1"), ("B", "two words"))


@pytest.mark.parametrize("key,value", [("scheduler", "pbs"), ("scheduler_sync", "maybe"),
                                       ("scheduler_environment", "NOEQUALS")])
def test_bad_options_name_the_key(tmp_path, key, value):
    with pytest.raises(ConfigurationError, match=key):
        Scheduler(make_config(tmp_path, **{key: value}).processing)


def test_batch_script_runs_the_worker(tmp_path):
    backend = Scheduler(make_config(tmp_path, scheduler_python="/opt/my venv/bin/python",
                                    scheduler_environment="GDAL_DATA=/usr/share/gdal").processing)
    script = backend.batch_script("abc", JobDir(Path("/shared/jobs/with space")), "say_hello")
    assert script.startswith("#!/bin/sh\n")
    assert "exec '/opt/my venv/bin/python' -m pywps.worker '/shared/jobs/with space'\n" in script
    assert "export GDAL_DATA=/usr/share/gdal" in script and "export PYWPS_JOB_ID=abc" in script


def test_sbatch_command_line(tmp_path):
    options = Scheduler(make_config(tmp_path, scheduler_partition="wps", scheduler_account="geo",
                                    scheduler_time_limit="30", scheduler_memory="512mb",
                                    scheduler_extra_options="--qos=low").processing).options
    args = SlurmSubmitter(options).sbatch_args(Path("/j/in/batch.sh"), JobDir(Path("/j")), "pywps-x", "abc")
    assert args[:2] == ["sbatch", "--parsable"]
    assert args[args.index("-o") + 1] == f"/j/out/{BATCH_LOG}" and args[args.index("-D") + 1] == "/j"
    assert ["-p", "wps"] == args[args.index("-p"):args.index("-p") + 2]
    assert "-A" in args and "-t" in args and "--mem=512M" in args
    assert args[-2:] == ["--qos=low", "/j/in/batch.sh"]


def test_sbatch_exports_none_of_the_servers_configuration_overrides(tmp_path, monkeypatch):
    """sbatch exports its own environment to the batch job: not the server's PYWPS_<SECTION>_<KEY>."""
    monkeypatch.setenv("PYWPS_LOGGING_DATABASE", "postgresql://pywps:Hunter2@db/pywps")
    monkeypatch.setenv("PYWPS_METRICS_TOKEN", "Hunter2")
    monkeypatch.setenv("PYWPS_PROCESSES", "mymodule:processes")
    options = Scheduler(make_config(tmp_path, scheduler_slurm_conf="/etc/slurm/x.conf").processing).options
    env = SlurmSubmitter(options)._env()
    assert "Hunter2" not in repr(env)
    assert env["PYWPS_PROCESSES"] == "mymodule:processes" and env["SLURM_CONF"] == "/etc/slurm/x.conf"
    assert env["PATH"] == os.environ["PATH"]


def test_drmaa_native_specification(tmp_path):
    options = Scheduler(make_config(tmp_path, scheduler="slurm", scheduler_partition="all.q",
                                    scheduler_time_limit="1:30:00", scheduler_memory="1gb",
                                    scheduler_extra_options="-P proj").processing).options
    spec = DrmaaSubmitter(options).native_specification()
    assert spec == "-q all.q -l h_rt=1:30:00 -l h_vmem=1024M -P proj"


def test_time_and_exit_code_formats():
    assert _hms("10") == "0:10:00" and _hms("0:05") == "0:00:05" and _hms("2-3") == "51:00:00"
    assert _exit_code("3:0") == 3 and _exit_code("0:15") == 143 and _exit_code("") is None


@pytest.mark.parametrize("state,message", [
    (BatchState("TIMEOUT", time_limit="1:00"), "time limit reached on the cluster (limit 1:00)"),
    (BatchState("NODE_FAIL", nodes="cn17"), "node failure on cn17"),
    (BatchState("OUT_OF_MEMORY", memory="4G"), "out of memory on the cluster (memory limit 4G)"),
    (BatchState("PREEMPTED"), "preempted by the scheduler"),
    (BatchState("CANCELLED"), "cancelled by the scheduler"),
    (BatchState("DEADLINE"), "deadline reached on the cluster"),
])
def test_end_states_have_clear_messages(replay, state, message):
    backend, submitter, jobdir = replay
    submitter.states = {"7": state}
    status = backend.poll(f"slurm:7:{jobdir}")
    assert status.state == RunnerState.EXITED and status.message == message


@pytest.mark.parametrize("word,runner", [("PENDING", RunnerState.PENDING), ("CONFIGURING", RunnerState.PENDING),
                                         ("RUNNING", RunnerState.RUNNING), ("COMPLETING", RunnerState.RUNNING),
                                         ("SUSPENDED", RunnerState.PAUSED)])
def test_live_states(replay, word, runner):
    backend, submitter, jobdir = replay
    submitter.states = {"7": BatchState(word)}
    assert backend.poll(f"slurm:7:{jobdir}").state == runner


def test_forgotten_job_keeps_the_end_it_was_seen_with(replay):
    backend, submitter, jobdir = replay
    handle = f"slurm:7:{jobdir}"
    submitter.states = {"7": BatchState("TIMEOUT", time_limit="5:00")}
    assert backend.poll(handle).message.startswith("time limit")
    submitter.states = {}                                      # MinJobAge passed: squeue forgot it
    assert backend.poll(handle).message == "time limit reached on the cluster (limit 5:00)"
    assert submitter.asked == [["7"]]                         # an ended job is never asked about again


def test_vanished_running_job_is_lost_unless_it_wrote_a_result(replay):
    backend, submitter, jobdir = replay
    handle = f"slurm:7:{jobdir}"
    submitter.states = {"7": BatchState("RUNNING")}
    assert backend.poll(handle).state == RunnerState.RUNNING
    submitter.states = {}
    status = backend.poll(handle)
    assert status.state == RunnerState.LOST and "(last seen running)" in status.message
    (jobdir / "out" / "result.json").write_text('{"outputs": [], "exception": null}')
    assert backend.poll(handle).state == RunnerState.EXITED


def test_unreachable_scheduler_fails_nothing(replay):
    backend, submitter, jobdir = replay
    handle = f"slurm:7:{jobdir}"
    submitter.states = {"7": BatchState("RUNNING")}
    backend.poll(handle)
    submitter.states = None
    status = backend.poll(handle)
    assert status.state == RunnerState.RUNNING and "does not answer" in status.message


def test_queries_are_rate_limited(tmp_path):
    backend = Scheduler(make_config(tmp_path, scheduler_query_interval="60").processing)
    backend.submitter = submitter = Replay(backend.options)
    submitter.states = {"1": BatchState("RUNNING"), "2": BatchState("PENDING")}
    handles = [f"slurm:1:{tmp_path}", f"slurm:2:{tmp_path}"]
    for _ in range(5):
        backend.poll_many(handles)
    assert submitter.asked == [["1", "2"]]                    # one query for both, then the cached answer
    backend.cancel(handles[0])                                 # a cancel makes the next poll ask again
    backend.poll_many(handles)
    assert len(submitter.asked) == 2


def test_a_written_result_is_noticed_before_the_interval(tmp_path):
    backend = Scheduler(make_config(tmp_path, scheduler_query_interval="60").processing)
    backend.submitter = submitter = Replay(backend.options)
    (tmp_path / "out").mkdir()
    submitter.states = {"1": BatchState("RUNNING")}
    handle = f"slurm:1:{tmp_path}"
    assert backend.poll(handle).state == RunnerState.RUNNING
    (tmp_path / "out" / "result.json").write_text('{"outputs": [], "exception": null}')
    submitter.states = {"1": BatchState("COMPLETED")}
    time.sleep(0.25)
    assert backend.poll(handle).state == RunnerState.EXITED
    assert len(submitter.asked) == 2


def test_handle_of_another_submitter_is_lost(replay):
    backend, _, jobdir = replay
    status = backend.poll(f"drmaa:7:{jobdir}")
    assert status.state == RunnerState.LOST and "drmaa" in status.message
