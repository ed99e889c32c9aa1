"""The ``drmaa`` submitter on a real single-node Grid Engine (``.ci/gridengine.sh start``).

Each scenario runs in a child process started with the DRMAA environment, since the library must be
preloaded before Python starts. Skipped when Grid Engine is not up, unless ``PYWPS_TEST_GRIDENGINE=1``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SCRIPT = HERE.parent.parent / ".ci" / "gridengine.sh"
REQUIRED = os.environ.get("PYWPS_TEST_GRIDENGINE") == "1"


def _missing() -> str:
    if not Path("/var/lib/gridengine/default/common/act_qmaster").exists() or shutil.which("qstat") is None:
        return "Grid Engine is not installed (run .ci/gridengine.sh start)"
    if importlib.util.find_spec("drmaa") is None:
        return "the drmaa package is not installed (pip install drmaa)"
    if not subprocess.run(["pgrep", "-x", "sge_execd"], capture_output=True).stdout.strip():
        return "Grid Engine is not running (run .ci/gridengine.sh start)"
    return ""


@pytest.fixture(scope="module")
def drmaa_env() -> dict[str, str]:
    why = _missing()
    if why:
        if REQUIRED:
            pytest.fail(why)
        pytest.skip(why)
    env = dict(os.environ)
    out = subprocess.run(["bash", str(SCRIPT), "env"], capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        for item in line.removeprefix("export ").split():
            name, _, value = item.partition("=")
            env[name] = value
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parent.parent), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def scenario(name: str, env: dict[str, str], directory: Path) -> dict:
    proc = subprocess.run([sys.executable, str(HERE / "drmaa_driver.py"), name, str(directory)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_drmaa_job_succeeds_with_outputs(drmaa_env, tmp_path):
    out = scenario("succeed", drmaa_env, tmp_path)
    assert out["handle"].startswith("drmaa:")
    assert out["final"] == {"state": "exited", "exit_code": 0, "message": ""}
    values = {o["identifier"]: o for o in out["result"]["outputs"]}
    assert values["greeting"]["value"] == "Hello SGE"
    assert out["files"]["report"] == "report for SGE\n"


def test_drmaa_failing_process(drmaa_env, tmp_path):
    out = scenario("fail", drmaa_env, tmp_path)
    assert out["final"]["state"] == "exited" and out["final"]["exit_code"] == 1
    assert "the river is frozen" in out["result"]["exception"]["text"]


def test_drmaa_cancel_kills_the_job(drmaa_env, tmp_path):
    out = scenario("cancel", drmaa_env, tmp_path)
    assert out["running"]["state"] == "running"
    assert out["final"] == {"state": "exited", "exit_code": None, "message": "cancelled"}
    assert not out["pid_alive"]
    assert out["result"] is None


def test_drmaa_time_limit(drmaa_env, tmp_path):
    out = scenario("timelimit", drmaa_env, tmp_path)
    assert out["final"]["state"] == "exited"
    assert out["final"]["message"].startswith("time limit reached on the cluster"), out
    assert out["result"] is None


def test_drmaa_concurrent_jobs(drmaa_env, tmp_path):
    out = scenario("concurrent", drmaa_env, tmp_path)
    assert all(f["state"] == "exited" and f["exit_code"] == 0 for f in out["finals"]), out
    assert out["values"] == sorted(f"Hello n{i}" for i in range(6))
