"""gunicorn behind nginx as docs/deploy.md says: the systemd unit's gunicorn command on its Unix socket and
docs/nginx/pywps.conf in front, with only what the guide says to set changed (the listen address, here a
port on 127.0.0.1, and the socket's directory). `.ci/nginx.sh start` installs Debian's nginx; this test
runs its own nginx process (the system's service is not used)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from lxml import etree

from tests.conftest import free_port, write_config
from tests.deploy.conftest import NS, execute_url, status_of, submit, unavailable, unix_get, wait_final, wait_until
from tests.deploy.servers import ROOT, Proc, environment
from tests.deploy.test_systemd_units import command, unit

NGINX = Path("/usr/sbin/nginx")
SITE = ROOT / "docs" / "nginx" / "pywps.conf"


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory nginx's workers (www-data) can reach, for gunicorn's socket."""
    path = Path(tempfile.mkdtemp(prefix="pywps-nginx-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_gunicorn_behind_nginx_as_documented(tmp_path: Path, shared_dir: Path):
    if not NGINX.exists():
        unavailable("nginx is not installed: run .ci/nginx.sh start as root")
    port = free_port()
    cfg = write_config(tmp_path, port, metrics={"enabled": "true"})
    (shared_dir / "run").mkdir()
    (shared_dir / "run").chmod(0o755)

    cmd, env = command(unit("pywps.service")["Service"], shared_dir, cfg)
    web = Proc(cmd, environment(**env), tmp_path, tmp_path / "gunicorn.log")
    sock = shared_dir / "run" / "gunicorn.sock"
    site = SITE.read_text()
    assert "listen 80;" in site and "unix:/run/pywps/gunicorn.sock" in site
    site = site.replace("listen 80;", f"listen 127.0.0.1:{port};").replace("/run/pywps", str(shared_dir / "run"))
    conf_dir = tmp_path / "nginx"
    conf_dir.mkdir()
    (conf_dir / "pywps.conf").write_text(site)
    temp = {name: conf_dir / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    (conf_dir / "nginx.conf").write_text(f"""
user www-data;
worker_processes 1;
pid {conf_dir}/nginx.pid;
error_log {conf_dir}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log {conf_dir}/access.log;
    client_body_temp_path {temp['body']};
    proxy_temp_path {temp['proxy']};
    fastcgi_temp_path {temp['fastcgi']};
    uwsgi_temp_path {temp['uwsgi']};
    scgi_temp_path {temp['scgi']};
    include /etc/nginx/mime.types;
    include {conf_dir}/pywps.conf;
}}
""")
    nginx = None
    try:
        wait_until(lambda: sock.exists() and unix_get(sock, "/health")[0] == 200, 30,
                   what=f"gunicorn on its socket: {web.output()[-2000:]}")
        nginx = Proc([str(NGINX), "-c", str(conf_dir / "nginx.conf"), "-g", "daemon off;"], environment(),
                     tmp_path, tmp_path / "nginx.out")
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return requests.get(f"{base}/health", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_until(up, 20, what=f"nginx answers: {nginx.output()[-2000:]}")
        caps = requests.get(f"{base}/wps?service=WPS&request=GetCapabilities", timeout=30)
        assert caps.status_code == 200 and b"say_hello" in caps.content
        sync = requests.get(execute_url(f"{base}/wps", "say_hello", "name=nginx"), timeout=60)
        assert status_of(sync.content)[0] == "ProcessSucceeded" and b"Hello nginx" in sync.content
        location = submit(f"{base}/wps", "echo_complex", "input=proxied@mimeType=text/plain",
                          extra="&ResponseDocument=output@asReference=true")
        assert wait_final(location, 60)[0] == "ProcessSucceeded"
        href = etree.fromstring(requests.get(location, timeout=30).content).xpath(
            "//wps:Reference/@href", namespaces=NS)[0]
        assert requests.get(href, timeout=30).text == "proxied"
        assert requests.get(f"{base}/metrics", timeout=30).status_code == 200  # from 127.0.0.1: allowed
        too_big = requests.post(f"{base}/wps", data=b"x" * (5 * 1024 * 1024), timeout=60,
                                headers={"Content-Type": "text/xml"})
        assert too_big.status_code == 413  # client_max_body_size
    finally:
        if nginx is not None:
            nginx.stop()
        web.stop()
