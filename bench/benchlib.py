"""Helpers shared by the HTTP benchmarks: gunicorn servers on 127.0.0.1, percentiles, machine facts."""

from __future__ import annotations

import os
import platform
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_cfg(path: Path, sections: dict[str, dict[str, object]]) -> Path:
    """Write a pywps.cfg from ``{section: {key: value}}``."""
    lines: list[str] = []
    for section, keys in sections.items():
        lines.append(f"[{section}]")
        lines.extend(f"{key} = {value}" for key, value in keys.items())
        lines.append("")
    path.write_text("\n".join(lines))
    return path


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` percentile (0-100) by the nearest-rank method; nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def http_get(url: str, timeout: float = 30) -> tuple[int, bytes]:
    """GET ``url``; (status, body), also for HTTP error statuses."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


class Gunicorn:
    """A gunicorn server (sync workers) bound to 127.0.0.1 on a free port, in its own session."""

    def __init__(self, name: str, python: str, app: str, workers: int, directory: Path,
                 env: dict[str, str] | None = None, pythonpath: str | None = None,
                 ready_path: str = "/wps?service=WPS&request=GetCapabilities") -> None:
        self.name = name
        self.python = python
        self.app = app
        self.workers = workers
        self.directory = directory
        self.env = env or {}
        self.pythonpath = pythonpath
        self.ready_path = ready_path
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self.log_path = directory / f"gunicorn-{name}.log"

    @property
    def url(self) -> str:
        return f"{self.base}/wps"

    def start(self, timeout: float = 60) -> Gunicorn:
        cmd = [self.python, "-m", "gunicorn", "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}",
               "--timeout", "300", "--no-control-socket", "--chdir", str(self.directory)]
        if self.pythonpath:
            cmd += ["--pythonpath", self.pythonpath]
        cmd.append(self.app)
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYWPS_") and k != "PYTHONPATH"}
        env.update(self.env)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=self.directory,
                                     start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log_path.read_text()[-4000:]}")
            try:
                status, _ = http_get(self.base + self.ready_path, timeout=5)
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer within {timeout} s:\n{self.log_path.read_text()[-4000:]}")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the master, its workers and their reaped children (jobs) so far."""
        return sum(self.cpu_split())

    def cpu_split(self) -> tuple[float, float]:
        """CPU seconds of the gunicorn processes themselves, and of the children they reaped (jobs)."""
        if self.proc is None:
            return 0.0, 0.0
        tick = os.sysconf("SC_CLK_TCK")
        own = children = 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as handle:
                    fields = handle.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.proc.pid:  # process group: gunicorn runs in its own session
                own += int(fields[11]) + int(fields[12])  # utime stime
                children += int(fields[13]) + int(fields[14])  # cutime cstime
        return own / tick, children / tick

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, 15)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait(10)

    def __enter__(self) -> Gunicorn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def cpu_model() -> str:
    """The CPU model as lscpu names it."""
    if shutil.which("lscpu"):
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def machine() -> str:
    """One line: cores, CPU model, Python, load average and date (UTC)."""
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return (f"{os.cpu_count()} cores ({cpu_model()}), Python {platform.python_version()}, "
            f"load average {load}, {now}")


def repo_python() -> str:
    """The interpreter that runs this benchmark (it serves this repository's pywps)."""
    return sys.executable
