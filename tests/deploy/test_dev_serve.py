"""`./dev serve` as the README's first screen says: your own processes and configuration passed through, and
nothing written into the repository."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import requests
from lxml import etree

from tests.conftest import free_port, write_config
from tests.deploy.conftest import NS, execute_url, job_id, submit, wait_final
from tests.deploy.servers import ROOT, Proc, environment, wait_http, write_processes_module


def repository_state() -> set[str] | None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        return None
    out = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=all"],
                         capture_output=True, text=True, timeout=60)
    # new files only: tracked files may be edited meanwhile by people working in the same tree
    return {line for line in out.stdout.splitlines() if line.startswith("??")} if out.returncode == 0 else None


def dev_serve(tmp_path: Path, *args: str, **env: str) -> Proc:
    return Proc([str(ROOT / "dev"), "serve", *args], environment(**env), tmp_path, tmp_path / "dev-serve.log")


def test_dev_serve_passes_processes_and_configuration_through(tmp_path: Path):
    before = repository_state()
    port = free_port()
    cfg = write_config(tmp_path, port)
    module_dir = write_processes_module(tmp_path / "mywps")
    assert cfg == tmp_path / "pywps.cfg"  # given relative to the caller's directory
    server = dev_serve(tmp_path, "-p", "myprocesses:processes", "-c", "pywps.cfg", "--port", str(port),
                       PYTHONPATH=str(module_dir))
    try:
        wps = f"http://127.0.0.1:{port}/wps"
        wait_http(server, f"{wps}?service=WPS&request=GetCapabilities")
        caps = etree.fromstring(requests.get(f"{wps}?service=WPS&request=GetCapabilities", timeout=30).content)
        assert caps.xpath("//wps:Process/ows:Identifier/text()", namespaces=NS) == ["reverse"]
        location = submit(wps, "reverse", "text=abc")
        assert wait_final(location, 60)[0] == "ProcessSucceeded"
        assert (tmp_path / "outputs" / job_id(location)).is_dir()  # [server] outputpath of the given cfg
    finally:
        server.stop()
    after = repository_state()
    if before is not None:
        assert after <= before, f"./dev serve wrote into the repository: {sorted(after - before)}"


def test_dev_serve_on_defaults_writes_outputs_under_the_workdir(tmp_path: Path):
    before = repository_state()
    had_outputs = (ROOT / "outputs").exists()
    port = free_port()
    server = dev_serve(tmp_path, "--port", str(port), PYWPS_SERVER_WORKDIR=str(tmp_path / "work"))
    try:
        wps = f"http://127.0.0.1:{port}/wps"
        wait_http(server, f"{wps}?service=WPS&request=GetCapabilities")
        reply = requests.get(execute_url(wps, "echo_complex", "input=x@mimeType=text/plain",
                                         extra="&ResponseDocument=output@asReference=true"), timeout=60)
        href = etree.fromstring(reply.content).xpath("//wps:Reference/@href", namespaces=NS)[0]
        assert href.startswith(f"http://127.0.0.1:{port}/outputs/")
        assert requests.get(href, timeout=30).text == "x"
        published = list((tmp_path / "work" / "outputs").iterdir())
        assert published, "outputs are published under the workdir"
        assert f"PyWPS serving at http://127.0.0.1:{port}/wps" in server.output()
    finally:
        server.stop()
    assert had_outputs or not (ROOT / "outputs").exists()  # the default outputpath was once ./outputs
    after = repository_state()
    if before is not None:
        assert after <= before, f"./dev serve wrote into the repository: {sorted(after - before)}"
