"""Real server processes for the deployment tests: gunicorn as documented, `pywps dispatcher`, `./dev serve`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

# a processes module outside the repository, written the PyWPS 4 way (README, "Serving your own processes")
MY_PROCESSES = '''
from pywps import ComplexOutput, FORMATS, LiteralInput, LiteralOutput, Process


class Reverse(Process):
    def __init__(self):
        super().__init__(self._handler, identifier="reverse", title="Reverse a text",
                         inputs=[LiteralInput("text", "Text", data_type="string")],
                         outputs=[LiteralOutput("reversed", "Reversed", data_type="string"),
                                  ComplexOutput("file", "Reversed, as a file", supported_formats=[FORMATS.TEXT],
                                                as_reference=True)],
                         store_supported=True, status_supported=True)

    @staticmethod
    def _handler(request, response):
        text = request.inputs["text"][0].data[::-1]
        response.outputs["reversed"].data = text
        response.outputs["file"].data = text
        response.update_status("reversed", 100)
        return response


processes = [Reverse()]
'''


def write_processes_module(directory: Path) -> Path:
    """``myprocesses.py`` in ``directory`` (the directory to put on PYTHONPATH)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "myprocesses.py").write_text(MY_PROCESSES)
    return directory


class Proc:
    """A server process in its own session, its output in a log file; stopped by process group."""

    def __init__(self, cmd: list[str], env: dict[str, str], cwd: Path, log: Path) -> None:
        self.log = log
        self.handle = open(log, "ab")
        self.proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=self.handle, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int | None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self.handle.close()
        return self.proc.returncode


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYWPS_")}
    env.update(extra)
    return env


def gunicorn(cfg: Path, directory: Path, *args: str, port: int | None = None, workers: int = 4,
             **env: str) -> tuple[Proc, str]:
    """``PYWPS_CFG=cfg gunicorn -w 4 -b 127.0.0.1:PORT pywps.wsgi:application`` as the README says."""
    port = port or free_port()
    cmd = [str(BIN / "gunicorn"), "-w", str(workers), "-b", f"127.0.0.1:{port}", *args, "pywps.wsgi:application"]
    proc = Proc(cmd, environment(PYWPS_CFG=str(cfg), **env), directory, directory / f"gunicorn-{port}.log")
    return proc, f"http://127.0.0.1:{port}"


def wait_http(proc: Proc, url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise AssertionError(f"server exited ({proc.proc.returncode}):\n{proc.output()[-3000:]}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise AssertionError(f"no answer from {url}:\n{proc.output()[-3000:]}")


def pywps_command(*args: str, cwd: Path, log: Path, **env: str) -> Proc:
    """The installed ``pywps`` command (``.venv/bin/pywps``) as a long-lived process."""
    return Proc([str(BIN / "pywps"), *args], environment(**env), cwd, log)


def run_pywps(*args: str, env: dict[str, str] | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "pywps"), *args], capture_output=True, text=True, timeout=timeout,
                          env=env if env is not None else environment())
