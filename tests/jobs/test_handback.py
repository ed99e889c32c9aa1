"""The hand-back reader against everything a hostile runner can leave in its out/ directory."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pywps.jobs.handback import HandBack, UntrustedOutput, open_published, xml_safe
from pywps.jobs.jobdir import JobDir

SECRET = b"host secret: never served\n"


@pytest.fixture
def job(tmp_path: Path) -> JobDir:
    jobdir = JobDir.create(tmp_path / "jobs", "0b6f9d3e-2f57-4d5e-9a43-0c8c1a2f0b11")
    jobdir.files_dir.mkdir()  # as the runner makes it for a job's first output file
    return jobdir


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "host" / "secret.txt"
    path.parent.mkdir()
    path.write_bytes(SECRET)
    return path


def result(job: JobDir, outputs: list[dict], exception: dict | None = None) -> None:
    job.write_result(outputs, exception)


def file_output(name: str) -> dict:
    return {"identifier": "report", "kind": "complex", "file": name, "as_reference": True,
            "mime_type": "text/plain"}


def within(seconds: float, action):
    """Run ``action`` in a thread; fail if it blocks longer than ``seconds`` (a FIFO read would)."""
    box: dict = {}

    def run():
        try:
            box["value"] = action()
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "the hand-back blocked"
    if "error" in box:
        raise box["error"]
    return box.get("value")


def test_a_regular_result_and_its_files_are_copied(job, tmp_path):
    (job.files_dir / "report.txt").write_text("fine")
    result(job, [file_output("report.txt")])
    back = HandBack(job.outdir)
    doc = back.result()
    assert doc["outputs"][0]["file"] == "report.txt"
    target = tmp_path / "published"
    assert back.publish(target, required={"report.txt"}) == ["report.txt"]
    copy = target / "report.txt"
    assert copy.read_text() == "fine" and not copy.is_symlink()
    assert (copy.stat().st_mode & 0o777) == 0o644 and copy.stat().st_uid == os.geteuid()
    assert (job.files_dir / "report.txt").exists()  # copied, not moved


@pytest.mark.parametrize("link", ["absolute", "relative"])
def test_a_planted_link_is_never_followed(job, secret, tmp_path, link):
    target = str(secret) if link == "absolute" else "../" * 30 + str(secret).lstrip("/")
    os.symlink(target, job.files_dir / "leak")
    (job.files_dir / "report.txt").write_text("fine")
    back = HandBack(job.outdir)
    published = tmp_path / "published"
    assert back.publish(published, required={"report.txt"}) == ["report.txt"]  # the link is skipped
    assert not (published / "leak").exists()
    with pytest.raises(UntrustedOutput, match="symbolic link"):
        back.publish(tmp_path / "p2", required={"leak"})  # and refused when the result names it


def test_files_replaced_by_a_link_to_a_host_directory(job, secret, tmp_path):
    job.files_dir.rmdir()
    os.symlink(secret.parent, job.files_dir)
    with pytest.raises(UntrustedOutput, match="out/files"):
        HandBack(job.outdir).publish(tmp_path / "published")
    assert secret.read_bytes() == SECRET  # not moved
    assert not (tmp_path / "published").exists()


def test_a_hard_link_is_refused(job, secret, tmp_path):
    os.link(secret, job.files_dir / "leak")
    with pytest.raises(UntrustedOutput, match="hard link"):
        HandBack(job.outdir).publish(tmp_path / "published", required={"leak"})


@pytest.mark.parametrize("where", ["result", "status", "output"])
def test_a_fifo_never_blocks(job, tmp_path, where):
    back = HandBack(job.outdir)
    if where == "result":
        os.mkfifo(job.result_path)
        with pytest.raises(UntrustedOutput, match="not a regular file"):
            within(5, back.result)
    elif where == "status":
        os.mkfifo(job.status_path)
        assert within(5, back.status) is None
    else:
        os.mkfifo(job.files_dir / "fifo")
        with pytest.raises(UntrustedOutput, match="not a regular file"):
            within(5, lambda: back.publish(tmp_path / "published", required={"fifo"}))


def test_result_linked_to_dev_zero_or_a_host_file(job, secret):
    os.symlink("/dev/zero", job.result_path)
    with pytest.raises(UntrustedOutput, match="symbolic link"):
        within(5, HandBack(job.outdir).result)
    job.result_path.unlink()
    os.symlink(secret, job.result_path)
    with pytest.raises(UntrustedOutput, match="symbolic link"):
        HandBack(job.outdir).result()


def test_an_oversized_result_is_refused_before_parsing(job):
    with open(job.result_path, "wb") as handle:
        handle.truncate(1024 ** 3)  # sparse: no disk used
    with pytest.raises(UntrustedOutput, match="larger than"):
        within(5, HandBack(job.outdir).result)


@pytest.mark.parametrize("name", ["/etc/shadow", "../../secret", "sub/x", ".", "..", "", ".hidden", 7])
def test_result_cannot_name_a_file_outside_files(job, name):
    result(job, [file_output(name)])
    with pytest.raises(UntrustedOutput, match="plain file name"):
        HandBack(job.outdir).result()


@pytest.mark.parametrize("doc", [b"[1, 2]", b"{\"outputs\": 3}", b"{\"outputs\": [1]}", b"not json",
                                 b"[" * 100000, b"{\"outputs\": [], \"exception\": \"x\"}"])
def test_a_malformed_result_is_refused(job, doc):
    job.result_path.write_bytes(doc)
    with pytest.raises(UntrustedOutput):
        HandBack(job.outdir).result()


def test_texts_a_job_reports_are_made_xml_safe(job):
    job.status_path.write_text(json.dumps({"status": "started", "percent": "9" * 400,
                                           "message": "a\x00b\x1bc" + "m" * 10000}))
    status = HandBack(job.outdir).status()
    assert status["percent"] == 100 and status["message"].startswith("abc") and len(status["message"]) <= 2000
    result(job, [], {"code": "NoApplicableCode\x01", "locator": "", "text": "bad\x00news"})
    assert HandBack(job.outdir).result()["exception"]["text"] == "badnews"


def test_the_output_size_cap(job, tmp_path):
    with open(job.files_dir / "big.bin", "wb") as handle:
        handle.truncate(10 * 1024 * 1024)
    with pytest.raises(UntrustedOutput, match="maxoutputsize"):
        HandBack(job.outdir).publish(tmp_path / "published", max_total=1024 * 1024)


def test_a_server_made_out_link_only_into_a_trusted_root(tmp_path, secret):
    pool = tmp_path / "work" / "docker-pool" / "slot"
    (pool / "out" / "files").mkdir(parents=True)
    job = JobDir.create(tmp_path / "work" / "jobs", "0b6f9d3e-2f57-4d5e-9a43-0c8c1a2f0b12")
    job.outdir.rmdir()
    job.outdir.symlink_to(pool / "out")
    (pool / "out" / "result.json").write_text('{"outputs": [], "exception": null}')
    assert HandBack(job.outdir, trusted_roots=[tmp_path / "work"]).result() == {"outputs": [], "exception": None}
    with pytest.raises(UntrustedOutput, match="out of the server"):
        HandBack(job.outdir, trusted_roots=[secret.parent]).result()


def test_published_outputs_are_served_only_as_real_files(tmp_path, secret):
    root = tmp_path / "outputs"
    (root / "job").mkdir(parents=True)
    (root / "job" / "ok.txt").write_text("ok")
    os.symlink(secret, root / "job" / "leak")
    os.symlink(secret.parent, root / "linked")
    fd, info = open_published(root, "job", "ok.txt")
    os.close(fd)
    assert info.st_size == 2
    with pytest.raises(UntrustedOutput):
        open_published(root, "job", "leak")
    with pytest.raises(UntrustedOutput):
        open_published(root, "linked", "secret.txt")
    for job_id, name in (("..", "x"), ("job", "../job/ok.txt"), ("job", ".")):
        with pytest.raises(FileNotFoundError):
            open_published(root, job_id, name)


def test_log_tail_never_blocks_on_a_fifo(job):
    os.mkfifo(job.outdir / "batch.log")
    assert within(5, lambda: HandBack(job.outdir).log_tail("batch.log")) == ""


_names = st.sampled_from(["status.json", "result.json", "files", "worker.log"])
_entries = st.one_of(
    st.tuples(st.just("bytes"), st.binary(max_size=2000)),
    st.tuples(st.just("json"), st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50),
        lambda children: st.lists(children, max_size=4) | st.dictionaries(
            st.sampled_from(["outputs", "exception", "file", "percent", "message", "code", "text", "identifier",
                             "kind", "value", "mime_type"]), children, max_size=5),
        max_leaves=20)),
    st.tuples(st.just("link"), st.sampled_from(["/etc/passwd", "/dev/zero", "../../..", "secret"])),
    st.tuples(st.just("fifo"), st.none()),
    st.tuples(st.just("dir"), st.none()),
)


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=list(HealthCheck))  # no .hypothesis
@given(layout=st.dictionaries(_names, _entries, max_size=4),
       files=st.dictionaries(st.text(st.characters(blacklist_characters="/\x00"), min_size=1, max_size=12),
                             _entries, max_size=3))
def test_fuzz_the_hand_back_never_reads_outside_out_files(tmp_path_factory, layout, files):
    """Whatever out/ holds: no exception but UntrustedOutput/OSError, no block, no byte from outside files/."""
    base = tmp_path_factory.mktemp("fuzz")
    secret = base / "secret"
    secret.write_bytes(SECRET)
    job = JobDir.create(base / "jobs", "0b6f9d3e-2f57-4d5e-9a43-0c8c1a2f0b13")

    def plant(path: Path, entry) -> None:
        kind, value = entry
        if path.is_dir() and not path.is_symlink():
            if kind == "dir":
                return
            os.rmdir(path)
        if kind == "bytes":
            path.write_bytes(value)
        elif kind == "json":
            path.write_text(json.dumps(value))
        elif kind == "link":
            os.symlink(str(secret) if value == "secret" else value, path)
        elif kind == "fifo":
            os.mkfifo(path)
        else:
            path.mkdir()

    for name, entry in layout.items():
        plant(job.outdir / name, entry)
    if job.files_dir.is_dir() and not job.files_dir.is_symlink():
        for name, entry in files.items():
            if name in (".", ".."):
                continue
            plant(job.files_dir / name, entry)
    back = HandBack(job.outdir)
    target = base / "published"

    def everything():
        back.status()
        try:
            doc = back.result()
        except UntrustedOutput:
            doc = None
        required = {o["file"] for o in (doc or {}).get("outputs", []) if isinstance(o.get("file"), str)}
        try:
            back.publish(target, required=required)
        except (UntrustedOutput, OSError):
            pass
        back.log_tail("worker.log")

    within(10, everything)
    if target.exists():
        for entry in target.iterdir():
            assert not entry.is_symlink() and entry.is_file()
            assert entry.read_bytes() != SECRET
    assert secret.read_bytes() == SECRET


def test_xml_safe():
    assert xml_safe("a\x00\x08\x0b\x0c\x1b\ufffeb\tc\nd") == "ab\tc\nd"
