"""A configuration that cannot work refuses to start: one line naming file, section and key, exit status 2
(``pywps.preflight``); an unreachable database server is an outage, not a configuration error."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from pywps.config import load
from pywps.exceptions import ConfigurationError
from pywps.preflight import check


def write(tmp_path, text: str):
    path = tmp_path / "pywps.cfg"
    path.write_text(text)
    return path


def refused(tmp_path, text: str) -> str:
    with pytest.raises(ConfigurationError) as info:
        check(load([write(tmp_path, text)]))
    return str(info.value)


def test_a_good_configuration_creates_its_directories(tmp_path):
    check(load([write(tmp_path, f"[server]\nworkdir = {tmp_path}/a/w\noutputpath = {tmp_path}/a/o\n")]))
    assert (tmp_path / "a" / "w").is_dir() and (tmp_path / "a" / "o").is_dir()
    assert not [p for p in (tmp_path / "a" / "w").iterdir()]  # the write check leaves nothing behind


def test_a_workdir_below_a_file(tmp_path):
    (tmp_path / "afile").write_text("")
    message = refused(tmp_path, f"[server]\nworkdir = {tmp_path}/afile/w\n")
    assert "pywps.cfg: [server] workdir = " in message and "afile/w" in message and "Not a directory" in message


def test_an_outputpath_that_is_a_file(tmp_path):
    (tmp_path / "afile").write_text("")
    message = refused(tmp_path, f"[server]\nworkdir = {tmp_path}/w\noutputpath = {tmp_path}/afile\n")
    assert "[server] outputpath = " in message and "not a directory" in message


def test_a_pywps4_alias_is_named_as_written(tmp_path):
    (tmp_path / "afile").write_text("")
    message = refused(tmp_path, f"[server]\nworkdir =\ntemp_path = {tmp_path}/afile/t\n")
    assert "[server] temp_path = " in message


@pytest.fixture
def read_only_dir(tmp_path):
    """A directory this process cannot write: a read-only tmpfs as root (root ignores modes), else 0555."""
    path = tmp_path / "ro"
    path.mkdir()
    if os.geteuid() == 0:
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(path)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            if os.environ.get("CI") == "true":
                pytest.fail(f"cannot mount a read-only tmpfs: {done.stderr}")
            pytest.skip(f"cannot mount a read-only tmpfs: {done.stderr}")
        try:
            yield path
        finally:
            subprocess.run(["umount", "-l", str(path)], capture_output=True)
    else:
        path.chmod(0o555)
        try:
            yield path
        finally:
            path.chmod(0o755)


def test_an_unwritable_outputpath(tmp_path, read_only_dir):
    message = refused(tmp_path, f"[server]\nworkdir = {tmp_path}/w\noutputpath = {read_only_dir}\n")
    assert "[server] outputpath = " in message and "not writable by this server" in message


def test_an_unwritable_sqlite_directory(tmp_path, read_only_dir):
    message = refused(tmp_path, f"[server]\nworkdir = {tmp_path}/w\noutputpath = {tmp_path}/o\n"
                                f"[logging]\ndatabase = sqlite:///{read_only_dir}/jobs.sqlite\n")
    assert "[logging] database = " in message and "not writable" in message


def test_the_default_store_names_the_workdir(tmp_path, read_only_dir):
    # the default store lives in the workdir; a workdir that is not writable is reported as such first
    message = refused(tmp_path, f"[server]\nworkdir = {read_only_dir}\noutputpath = {tmp_path}/o\n")
    assert "[server] workdir = " in message


def test_a_sqlite_file_that_is_not_a_database(tmp_path):
    (tmp_path / "jobs.sqlite").write_text("not a database, just text\n" * 100)
    message = refused(tmp_path, f"[server]\nworkdir = {tmp_path}/w\noutputpath = {tmp_path}/o\n"
                                f"[logging]\ndatabase = sqlite:///{tmp_path}/jobs.sqlite\n")
    assert "[logging] database = " in message and "not a database" in message


def test_a_sqlite_directory_that_does_not_exist(tmp_path):
    message = refused(tmp_path, f"[server]\nworkdir = {tmp_path}/w\noutputpath = {tmp_path}/o\n"
                                f"[logging]\ndatabase = sqlite:///{tmp_path}/nodir/jobs.sqlite\n")
    assert "does not exist" in message and "nodir" in message


@pytest.mark.parametrize("url, words", [
    ("nonsense", "not a database URL"),
    ("oracle+nodriver://u@h/db", "unknown database kind"),
    ("postgresql+psycopg://u:hunter2@no-such-host.invalid/db", "no-such-host.invalid"),
])
def test_bad_database_urls(tmp_path, url, words):
    message = refused(tmp_path, f"[server]\nworkdir = {tmp_path}/w\noutputpath = {tmp_path}/o\n"
                                f"[logging]\ndatabase = {url}\n")
    assert "[logging] database = " in message and words in message
    assert "hunter2" not in message


@pytest.fixture
def pg_url() -> str:
    from tests.jobs.conftest import pg_base_url

    return pg_base_url()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_database_server_that_is_down_is_an_outage_not_an_error(tmp_path):
    check(load([write(tmp_path, f"[server]\nworkdir = {tmp_path}/w\noutputpath = {tmp_path}/o\n[logging]\n"
                                f"database = postgresql+psycopg://u:p@127.0.0.1:{_closed_port()}/db\n")]))


@pytest.mark.postgres
def test_a_wrong_password_is_an_error(tmp_path, pg_url):
    import sqlalchemy as sa

    url = sa.make_url(pg_url).set(password="certainly-wrong", username="nobody_here")
    message = refused(tmp_path, f"[server]\nworkdir = {tmp_path}/w\noutputpath = {tmp_path}/o\n[logging]\n"
                                f"database = {url.render_as_string(hide_password=False)}\n")
    assert "[logging] database = " in message and "certainly-wrong" not in message


@pytest.mark.postgres
def test_a_reachable_postgresql_passes(tmp_path, pg_url):
    check(load([write(tmp_path, f"[server]\nworkdir = {tmp_path}/w\noutputpath = {tmp_path}/o\n"
                                f"[logging]\ndatabase = {pg_url}\n")]))


@pytest.mark.parametrize("command", ["serve", "dispatcher"])
def test_the_cli_exits_2_with_one_line(tmp_path, command):
    (tmp_path / "afile").write_text("")
    cfg = write(tmp_path, f"[server]\nworkdir = {tmp_path}/w\noutputpath = {tmp_path}/afile\n")
    done = subprocess.run([sys.executable, "-m", "pywps.cli", command, "-c", str(cfg)], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith("pywps: ") and str(cfg) in lines[0] and "[server] outputpath" in lines[0]
