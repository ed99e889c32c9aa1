"""The hand-back attacks, run end to end through the WSGI app in every mode (multiprocessing, docker,
scheduler): a job that leaves links, FIFOs, hard links, huge or rewritten results in its ``out/`` must
end (failed, saying why, where the attack is refused), never make the server read, move or serve a byte
from outside its ``out/files``, never block the server, and never keep a slot.

The test files of each mode call :func:`run_attack` and :func:`check_secrets_stay_home`.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from pywps.jobs.model import JobStatus
from tests.conftest import wait_for
from tests.xsd import validate

SECRET = b"host secret: never to be served\n"
PASSWORD = "Pl4ntedS3cretPassw0rd"
LEAK_NAMES = ("leak_abs", "leak_rel", "leak_hard", "leak_fifo", "secret.txt", "sentinel.txt")

# attack -> (expected final state, a fragment of the failure message or "") per runner kind. "any" when
# the outcome depends on where the job runs (a link may fail to be made inside a container), as long as
# nothing leaks.
ATTACKS = {
    "link_abs": ("ProcessSucceeded", ""),
    "link_rel": ("ProcessSucceeded", ""),
    "files_link": ("ProcessFailed", ""),
    "hardlink": ("any", ""),
    "fifo_output": ("ProcessSucceeded", ""),
    "swap_output": ("ProcessFailed", "symbolic link"),
    "result_fifo": ("ProcessFailed", "not a regular file"),
    "result_zero": ("ProcessFailed", "symbolic link"),
    "result_huge": ("ProcessFailed", "larger than"),
    "result_abs": ("ProcessFailed", "plain file name"),
    "status_garbage": ("ProcessSucceeded", ""),
}
# a forked multiprocessing child ends with os._exit, so a thread that swaps files after the result has
# no time to: these attacks are only checked for "nothing leaks" there
SWAPS = {"swap_output", "result_fifo", "result_zero", "result_huge", "result_abs"}


@dataclass
class Host:
    """What the job aims at: a secret file and a directory with a sentinel file, both on the host."""

    secret: Path
    sentinel_dir: Path

    @classmethod
    def make(cls, base: Path) -> Host:
        host = base / "host"
        (host / "dir").mkdir(parents=True, exist_ok=True)
        secret = host / "secret.txt"
        secret.write_bytes(SECRET)
        (host / "dir" / "sentinel.txt").write_bytes(SECRET)
        os.chmod(host, 0o755)
        return cls(secret, host / "dir")

    def intact(self) -> None:
        assert self.secret.read_bytes() == SECRET
        assert (self.sentinel_dir / "sentinel.txt").read_bytes() == SECRET


def _dispatcher(client):
    return client.application.extensions["pywps"]["dispatcher"]


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


def execute(client, identifier: str, inputs: str, asynchronous: bool = True, raw: str = ""):
    form = "&storeExecuteResponse=true&status=true" if asynchronous else ""
    form += f"&RawDataOutput={raw}" if raw else ""
    return client.get(f"/wps?service=WPS&request=Execute&version=1.0.0&identifier={identifier}"
                      f"&DataInputs={inputs}{form}")


def final_document(client, resp, timeout: float = 120):
    """Poll an async job's status document until it is final; return it."""
    assert resp.status_code == 200, resp.get_data(as_text=True)
    path = _path(resp.xml.get("statusLocation"))

    def done():
        doc = client.get(path)
        return doc if doc.xpath("//wps:ProcessSucceeded|//wps:ProcessFailed") else None

    return wait_for(done, timeout, 0.2)


def no_slot_taken(client) -> None:
    store = _dispatcher(client).store
    wait_for(lambda: store.count(["accepted", "started", "paused"]) == 0, 60, 0.1)


def served(client, job_id: str) -> list[bytes]:
    """Every body the server answers for the job's possible output names."""
    bodies = []
    outputs = Path(_dispatcher(client).config.outputpath)
    names = set(LEAK_NAMES)
    if (outputs / job_id).is_dir():
        names |= {p.name for p in (outputs / job_id).iterdir()}
    for name in sorted(names):
        resp = client.get(f"/outputs/{job_id}/{name}")
        bodies.append(resp.get_data())
    return bodies


def run_attack(client, host: Host, attack: str, strict_swaps: bool = True) -> str:
    """Run one attack asynchronously; check it ended as expected and leaked nothing; return the message."""
    target = str(host.sentinel_dir) if attack == "files_link" else str(host.secret)
    resp = execute(client, "hostile_handback", f"attack={attack};target={target}")
    final = final_document(client, resp)
    validate(final.get_data())
    job_id = _path(resp.xml.get("statusLocation")).rsplit("/", 1)[1].removesuffix(".xml")
    state, fragment = ATTACKS[attack]
    message = final.xpath_text("//ows:ExceptionText")
    if attack in SWAPS and not strict_swaps:
        state, fragment = "any", ""
    if state != "any":
        assert final.xpath(f"//wps:{state}"), (attack, final.get_data(as_text=True))
    if fragment:
        assert fragment in message, (attack, message)
    for body in served(client, job_id):
        assert SECRET not in body, attack
    assert SECRET not in final.get_data()
    outputs = Path(_dispatcher(client).config.outputpath) / job_id
    if outputs.exists():
        for entry in outputs.iterdir():
            assert entry.is_file() and not entry.is_symlink(), entry
            assert entry.read_bytes() != SECRET
    host.intact()
    no_slot_taken(client)
    job = _dispatcher(client).store.get(job_id)
    assert job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)
    return message


def check_raw_swap(client, host: Host) -> None:
    """A sync RawDataOutput whose file is swapped for a link after the result: no host byte in the answer."""
    resp = execute(client, "hostile_handback", f"attack=swap_output;target={host.secret}",
                   asynchronous=False, raw="report")
    assert SECRET not in resp.get_data()
    assert resp.status_code < 500 or b"ExceptionReport" in resp.get_data()
    host.intact()
    no_slot_taken(client)


def check_output_cap(client) -> None:
    """``[server] maxoutputsize``: a job whose files are larger fails with a clear message."""
    final = final_document(client, execute(client, "hostile_handback", "attack=link_abs;size=1"))
    assert final.xpath("//wps:ProcessSucceeded")
    resp = execute(client, "hostile_handback", "attack=big_output;size=300000")
    final = final_document(client, resp)
    assert final.xpath("//wps:ProcessFailed"), final.get_data(as_text=True)
    assert "maxoutputsize" in final.xpath_text("//ows:ExceptionText")
    no_slot_taken(client)


def database_url_with_password(base_url: str) -> str:
    """``base_url`` (a trust-auth PostgreSQL) with a planted password: it connects, and must leak nowhere."""
    import sqlalchemy as sa

    return sa.make_url(base_url).set(password=PASSWORD).render_as_string(hide_password=False)


def check_secrets_stay_home(client, extra_places: list[str] = ()) -> dict:
    """Run the config probe; the planted password is in no job file, no job output, nowhere it looked."""
    resp = execute(client, "hostile_config", "", asynchronous=True)
    final = final_document(client, resp)
    assert final.xpath("//wps:ProcessSucceeded"), final.get_data(as_text=True)
    seen = json.loads(final.xpath_text("//wps:Output/wps:Data/wps:LiteralData"))
    assert PASSWORD not in json.dumps(seen)
    dispatcher = _dispatcher(client)
    assert PASSWORD in dispatcher.config.database  # it was planted
    job_id = _path(resp.xml.get("statusLocation")).rsplit("/", 1)[1].removesuffix(".xml")
    jobdir = Path(dispatcher.jobs_root) / job_id
    for root, _dirs, files in os.walk(jobdir):
        for name in files:
            path = Path(root) / name
            if not path.is_symlink():
                assert PASSWORD.encode() not in path.read_bytes(), path
    job_json = next((v for k, v in seen.items() if k.endswith("/job.json") and not v.startswith("error")), None)
    assert job_json is not None, seen
    for key in ("workdir", "outputpath", "database"):
        assert not re.search(rf'"{key}"\s*:', job_json), key
    for place in extra_places:
        assert PASSWORD not in place
    return seen
