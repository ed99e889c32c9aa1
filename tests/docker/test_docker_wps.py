"""docker_transport = wps on a real engine: a WPS server in each job's container, on a Unix socket in its out/.

The in-container server is this project's own (the worker image has gunicorn) or PyWPS 4.8.1 from PyPI
serving ``wps4demo`` (a PyWPS 4 process module); the same requests through the worker transport give the
same outputs. A hostile in-container server (``hostile_wps.py``, run from the job's input mount) cannot
make the host connect elsewhere, read a file, follow a redirect, take unbounded memory or disk, or plant a
result of its own. From the pool (docker_pool_size), each job is handed a pre-started container whose server
already listens, used for that one job only.
"""

from __future__ import annotations

import base64
import http.server
import json
import os
import socketserver
import stat
import threading
import time
from pathlib import Path

import pytest

from pywps.backends import wpsproxy
from pywps.backends.base import RunnerState
from pywps.backends.docker import LABEL_TRANSPORT
from pywps.config import load
from tests.conftest import free_port, record, wait_for, write_config
from tests.docker.conftest import IN_CI, WPS4_IMAGE, WPS4_WORKER_IMAGE, WPS4DEMO, WPS_COMMAND, make_job, output

pytestmark = pytest.mark.docker

WPS = {"docker_transport": "wps", "docker_wps_command": WPS_COMMAND}
HOSTILE = Path(__file__).resolve().parent / "hostile_wps.py"


def _transport(jobdir) -> dict:
    return wpsproxy.Transport(jobdir.path).load()


# -- the transport on the project's own server in the worker image ------------------------------------------

def test_round_trip_hardened_locked_and_cleaned(make_backend, jobs_root, engine_client):
    backend = make_backend(**WPS)
    jobdir = make_job(jobs_root, "say_hello", name="wps")
    handle = backend.start(record(jobdir, "say_hello"), jobdir)
    attrs = engine_client.api.inspect_container(handle)
    host = attrs["HostConfig"]
    assert host["NetworkMode"] == "none" and host["ReadonlyRootfs"] and not host.get("CapAdd")
    assert host["SecurityOpt"] == ["no-new-privileges"] and attrs["Config"]["User"] == "65534:65534"
    assert host["PidsLimit"] == 128 and host["Memory"] == 256 * 1024**2 and host["NanoCpus"] == 10**9
    assert attrs["Config"]["Labels"][LABEL_TRANSPORT] == "wps"
    assert "unix:/pywps/out/socket/wps.sock" in attrs["Config"]["Cmd"]
    assert attrs["Config"]["Env"] and "PYWPS_CFG=/pywps/in/wps.cfg" in attrs["Config"]["Env"]

    status = backend.wait(handle, timeout=120)
    assert status.state == RunnerState.EXITED and status.exit_code == 0, (status, jobdir.read_result())
    assert output(jobdir, "output") == "Hello wps"
    assert (jobdir.read_status() or {})["status"] == "succeeded"
    assert _transport(jobdir)["phase"] == "done"
    socket_dir = os.stat(jobdir.outdir / "socket")
    assert stat.S_IMODE(socket_dir.st_mode) & 0o022 == 0  # locked: the container cannot swap the socket
    assert b"Listening at: unix:/pywps/out/socket/wps.sock" in (jobdir.outdir / "worker.log").read_bytes()
    backend.cleanup(handle)
    assert backend.poll(handle).state == RunnerState.LOST
    assert not (jobdir.path / "transport").exists()
    backend.cleanup(handle)  # idempotent


def test_cancel_stops_the_container_within_2_s(make_backend, jobs_root, engine_client):
    backend = make_backend(**WPS)
    jobdir = make_job(jobs_root, "hostile_ticker", seconds=120)
    handle = backend.start(record(jobdir, "hostile_ticker"), jobdir)
    wait_for(lambda: _transport(jobdir).get("phase") == "submitted", 60, 0.05)
    started = time.monotonic()
    backend.cancel(handle)
    wait_for(lambda: engine_client.api.inspect_container(handle)["State"]["Status"] != "running", 2, 0.02)
    assert time.monotonic() - started < 2
    status = backend.wait(handle, timeout=30)
    assert status.state == RunnerState.EXITED and status.message == "killed: cancelled", status
    assert jobdir.read_result() is None


def test_time_limit(make_backend, jobs_root):
    backend = make_backend(docker_time_limit=6, **WPS)
    jobdir = make_job(jobs_root, "hostile_loop")
    status = backend.wait(backend.start(record(jobdir, "hostile_loop"), jobdir), timeout=90)
    assert status.state == RunnerState.EXITED and status.message == "killed: time limit 6 s", status


@pytest.mark.parametrize("when", ["starting", "submitted"])
def test_a_new_server_re_attaches(make_backend, jobs_root, when):
    """The server that started the job dies (its follower with it); the next one goes on from the state."""
    first = make_backend(**WPS)
    jobdir = make_job(jobs_root, "hostile_sleep", seconds=2, steps=4)
    handle = first.start(record(jobdir, "hostile_sleep"), jobdir)
    follower = first._followers[handle]
    if when == "submitted":
        wait_for(lambda: _transport(jobdir).get("phase") == "submitted", 60, 0.05)
    follower.stop()
    follower.join(30)
    assert not follower.is_alive() and _transport(jobdir)["phase"] == when
    second = make_backend(**WPS)
    second.adopt([handle])
    status = second.wait(handle, timeout=120)
    assert status.state == RunnerState.EXITED and status.exit_code == 0, (status, jobdir.read_result())
    assert float(output(jobdir, "slept")) >= 2


def test_hand_back_finished_by_poll_when_no_follower_is_left(make_backend, jobs_root, monkeypatch):
    """The follower stopped the container and died before writing the hand-back: a poll completes it."""
    first = make_backend(**WPS)
    real_finish = wpsproxy.finish

    def dies(*args, **kwargs):
        raise OSError("the server died here")

    monkeypatch.setattr(wpsproxy, "finish", dies)
    jobdir = make_job(jobs_root, "say_hello", name="later")
    handle = first.start(record(jobdir, "say_hello"), jobdir)
    first._followers[handle].join(120)
    assert _transport(jobdir)["phase"] == "collected" and jobdir.read_result() is None
    monkeypatch.setattr(wpsproxy, "finish", real_finish)
    second = make_backend(**WPS)
    status = second.poll(handle)
    assert status.state == RunnerState.EXITED and status.exit_code == 0, status
    assert output(jobdir, "output") == "Hello later"


def test_reap_removes_a_wps_container_nobody_follows(make_backend, jobs_root, engine_client):
    backend = make_backend(**WPS)
    jobdir = make_job(jobs_root, "hostile_ticker", seconds=60)
    handle = backend.start(record(jobdir, "hostile_ticker"), jobdir)
    mine = [backend.instance_id]  # never other tests' containers on the same engine
    assert backend.reap([jobdir.job_id], instances=mine) == []
    assert backend.reap([], instances=mine) == [handle]
    assert not engine_client.api.containers(all=True, filters={"id": handle})


def test_memory_limit(make_backend, jobs_root):
    backend = make_backend(docker_memory="128m", **WPS)
    jobdir = make_job(jobs_root, "hostile_memory", megabytes=448)
    status = backend.wait(backend.start(record(jobdir, "hostile_memory"), jobdir), timeout=120)
    assert status.state == RunnerState.EXITED and "out of memory (limit 128 MiB)" in status.message, status
    result = jobdir.read_result()
    assert result and result["exception"]["text"].startswith("killed: out of memory (limit 128 MiB)"), result


# -- a hostile server in the container ----------------------------------------------------------------------

ATTACKS = {
    # mode of hostile_wps.py -> a fragment of the job's failure ("" = the job succeeds)
    "symlink_socket": "is not a socket",
    "swap_socket_dir": "was replaced",
    "huge_status": "sent more than",
    "entities": "no valid XML",
    "redirect": "answered HTTP 302",
    "file_href": "not an http URL",
    "endless_output": "sent more than 1048576 bytes",
    "plant_result": "",
    "exit_early": "ended before the job did",
}


@pytest.mark.parametrize("engine", ["docker"], indirect=True)  # the protocol does not depend on the engine
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_hostile_server_in_the_container(make_backend, jobs_root, attack, tmp_path):
    backend = make_backend(docker_transport="wps", docker_wps_max_download="1mb",
                           docker_wps_command=f"python3 {{inp_dir}}/hostile_wps.py {{socket}} {attack}")
    jobdir = make_job(jobs_root, "say_hello", name="x")
    (jobdir.indir / "hostile_wps.py").write_bytes(HOSTILE.read_bytes())
    secret = tmp_path / "secret"
    secret.write_text("host secret")
    status = backend.wait(backend.start(record(jobdir, "say_hello"), jobdir), timeout=120)
    assert status.state == RunnerState.EXITED, status
    result = jobdir.read_result()
    expected = ATTACKS[attack]
    if expected == "ended before the job did":
        assert result is None and expected in status.message, (status, result)
        return
    assert result is not None, (status, (jobdir.outdir / "worker.log").read_text()[-2000:])
    if expected:
        assert result["exception"] and expected in result["exception"]["text"], result
    else:  # the server's own answer, not what the container planted in out/
        assert result["exception"] is None and result["outputs"][0]["value"] == "honest", result
        assert not jobdir.files_dir.is_dir() or not [p for p in jobdir.files_dir.iterdir()
                                                       if p.is_file() and not p.is_symlink()]
    assert "host secret" not in json.dumps(result)


# -- PyWPS 4.8.1 in the container: the same outputs as the worker transport --------------------------------

class _Inputs(http.server.BaseHTTPRequestHandler):
    """Serves a reference input for the host to fetch (it passes it on as a file in the input mount)."""

    def do_GET(self):
        body = b"line one\nline two & <three>\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def input_server():
    server = socketserver.TCPServer(("127.0.0.1", free_port()), _Inputs)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/input.txt"
    server.shutdown()
    server.server_close()


@pytest.fixture
def demo_apps(wps4_images, tmp_path, monkeypatch):
    """Two servers with the wps4demo processes: the worker transport (worker image + wps4demo) and the wps
    transport (PyWPS 4.8.1 + wps4demo; its command from the image's label)."""
    from pywps.service import create_app
    from pywps.tests import client_for

    monkeypatch.syspath_prepend(str(WPS4DEMO))
    from wps4demo.processes import processes

    apps = {}
    for name, processing in (("worker", {"docker_image": WPS4_WORKER_IMAGE}),
                             ("wps", {"docker_image": WPS4_IMAGE, "docker_transport": "wps"})):
        directory = tmp_path / name
        directory.mkdir()
        config = load([write_config(directory, processing={"mode": "docker", **processing},
                                    server={"parallelprocesses": 4})])
        apps[name] = create_app(config, processes())
    yield {name: client_for(app) for name, app in apps.items()}
    for app in apps.values():
        app.extensions["pywps"]["dispatcher"].stop()


def _execute(identifier: str, inputs: str, outputs: str = "", raw: bool = False) -> str:
    form = ""
    if raw:
        form = f"<wps:ResponseForm><wps:RawDataOutput><ows:Identifier>{outputs}</ows:Identifier>" \
               "</wps:RawDataOutput></wps:ResponseForm>"
    elif outputs is not None:
        form = '<wps:ResponseForm><wps:ResponseDocument storeExecuteResponse="true" status="true">' \
               f"{outputs}</wps:ResponseDocument></wps:ResponseForm>"
    return ('<wps:Execute service="WPS" version="1.0.0" xmlns:wps="http://www.opengis.net/wps/1.0.0" '
            'xmlns:ows="http://www.opengis.net/ows/1.1" xmlns:xlink="http://www.w3.org/1999/xlink">'
            f"<ows:Identifier>{identifier}</ows:Identifier><wps:DataInputs>{inputs}</wps:DataInputs>{form}"
            "</wps:Execute>")


def _literal(identifier: str, value: str) -> str:
    return f"<wps:Input><ows:Identifier>{identifier}</ows:Identifier><wps:Data><wps:LiteralData>{value}" \
           "</wps:LiteralData></wps:Data></wps:Input>"


def _out(identifier: str, reference: bool = False, extra: str = "") -> str:
    return f'<wps:Output asReference="{str(reference).lower()}"{extra}><ows:Identifier>{identifier}' \
           "</ows:Identifier></wps:Output>"


TEXT_INLINE = ('<wps:Input><ows:Identifier>text</ows:Identifier><wps:Data><wps:ComplexData mimeType="text/plain">'
               "Hello &amp; good &lt;bye&gt;\nsecond line</wps:ComplexData></wps:Data></wps:Input>")


def _requests(reference_url: str) -> dict[str, str]:
    text_ref = (f'<wps:Input><ows:Identifier>text</ows:Identifier><wps:Reference xlink:href="{reference_url}" '
                'mimeType="text/plain"/></wps:Input>')
    bbox = ('<wps:Input><ows:Identifier>area</ows:Identifier><wps:Data><wps:BoundingBoxData crs="EPSG:3857" '
            'dimensions="2"><ows:LowerCorner>1 2</ows:LowerCorner><ows:UpperCorner>3 4</ows:UpperCorner>'
            "</wps:BoundingBoxData></wps:Data></wps:Input>")
    return {
        "echo, outputs by default": _execute("demo_echo", _literal("name", "World") + _literal("times", "3"), ""),
        "text by value and reference": _execute(
            "demo_text", TEXT_INLINE, _out("upper") + _out("document") + _out("report", reference=True)),
        "text, outputs by default": _execute("demo_text", TEXT_INLINE, ""),
        "text from a reference input": _execute("demo_text", text_ref, _out("upper") + _out("report", True)),
        "binary by value": _execute("demo_binary", _literal("size", "300"), _out("blob")),
        "binary by reference": _execute("demo_binary", _literal("size", "5000"), _out("blob", reference=True)),
        "bounding box": _execute("demo_bbox", bbox, ""),
        "failure": _execute("demo_fail", _literal("why", "because"), ""),
    }


def _job_id(resp) -> str:
    location = resp.xml.get("statusLocation")
    assert location, resp.get_data(as_text=True)
    return location.rsplit("/", 1)[1].removesuffix(".xml")


def _final(client, job_id: str) -> dict:
    """The job's end as published: state, message, outputs (their files' bytes instead of their hrefs)."""
    dispatcher = client.application.extensions["pywps"]["dispatcher"]
    job = wait_for(lambda: (j := dispatcher.store.get(job_id)).status.value in ("succeeded", "failed") and j,
                   180, 0.1)
    outputs = []
    for item in json.loads(job.outputs or "[]"):
        item = {k: v for k, v in item.items() if k not in ("href", "file")}
        if item.get("as_reference"):
            name = json.loads(job.outputs)[len(outputs)]["file"]
            item["content"] = base64.b64encode((dispatcher.config.outputpath / job_id / name).read_bytes()).decode()
        outputs.append(item)
    return {"status": job.status.value, "message": job.message, "outputs": outputs}


def test_pywps481_in_the_container_gives_the_worker_transports_outputs(demo_apps, input_server):
    requests = _requests(input_server)
    submitted = {}
    for name, client in demo_apps.items():
        for label, body in requests.items():
            resp = client.post("/wps", data=body, content_type="text/xml")
            assert resp.status_code == 200, (name, label, resp.get_data(as_text=True))
            submitted[name, label] = _job_id(resp)
    for label in requests:
        worker = _final(demo_apps["worker"], submitted["worker", label])
        wps = _final(demo_apps["wps"], submitted["wps", label])
        if label == "failure":
            assert worker["status"] == wps["status"] == "failed"
            assert "demo failure: because" in worker["message"] and "demo failure: because" in wps["message"]
            continue
        assert worker["status"] == "succeeded", (label, worker)
        assert wps == worker, label
    text = _final(demo_apps["wps"], submitted["wps", "text from a reference input"])
    assert text["outputs"][0]["value"] == "LINE ONE\nLINE TWO & <THREE>\n"


def test_pywps481_progress_and_raw_output(demo_apps):
    client = demo_apps["wps"]
    body = _execute("demo_echo", _literal("name", "slow") + _literal("times", "3") + _literal("pause", "1"), "")
    job_id = _job_id(client.post("/wps", data=body, content_type="text/xml"))
    store = client.application.extensions["pywps"]["dispatcher"].store
    seen = set()

    def finished() -> bool:
        job = store.get(job_id)
        if job.status.value == "started":
            seen.add((job.percent, job.message))
        return job.status.value in ("succeeded", "failed")

    wait_for(finished, 180, 0.05)
    assert {(50, "step 2 of 3"), (75, "step 3 of 3")} & seen, seen  # the in-container progress, mirrored
    raw = client.post("/wps", data=_execute("demo_text", TEXT_INLINE, "upper", raw=True), content_type="text/xml")
    assert raw.status_code == 200 and raw.get_data() == b"HELLO & GOOD <BYE>\nSECOND LINE", raw.get_data()
    assert raw.headers["Content-Type"].startswith("text/plain")


def test_per_process_images_bring_their_own_server(wps4_images, engine_client, jobs_root, monkeypatch):
    """[docker:images]: say_hello in the worker image (docker_wps_command), demo_echo in the PyWPS 4.8.1 image
    (its label pywps.wps_command), one backend."""
    from pywps.backends.docker import LABEL_INSTANCE, Container
    from pywps.jobs.jobdir import JobDir
    from pywps.requestmodel import ExecuteRequest, InputValue
    from tests.docker.conftest import docker_config, remove_containers

    monkeypatch.syspath_prepend(str(WPS4DEMO))
    config = docker_config(**WPS)
    config.parser.add_section("docker:images")
    config.parser.set("docker:images", "demo_echo", WPS4_IMAGE)
    backend = Container(config.processing, instance_id=f"pytest-images-{os.getpid()}")
    hello = make_job(jobs_root, "say_hello", name="worker image")
    echo = JobDir.create(jobs_root, "6d1f0c1e-8a53-4c3e-9f0e-2b7f4c1d9a10")
    echo.write_job({"job_id": echo.job_id, "limits": {}, "cleantempdir": True,
                    "process": {"identifier": "demo_echo", "module": "wps4demo.processes", "qualname": "Echo",
                                "sys_path": []},
                    "request": ExecuteRequest("demo_echo", inputs=(InputValue("name", data="4.8.1"),)).to_dict()})
    try:
        handles = [backend.start(record(hello, "say_hello"), hello), backend.start(record(echo, "demo_echo"), echo)]
        commands = [engine_client.api.inspect_container(h)["Config"]["Cmd"] for h in handles]
        assert "pywps.wsgi:application" in commands[0] and "wps4demo.app:application" in commands[1], commands
        for handle in handles:
            assert backend.wait(handle, timeout=120).exit_code == 0
        assert output(hello, "output") == "Hello worker image"
        assert output(echo, "greeting") == "Hello 4.8.1"
    finally:
        remove_containers(engine_client, f"{LABEL_INSTANCE}={backend.instance_id}")


@pytest.mark.parametrize("engine", ["docker"], indirect=True)  # the server image is built on Docker
def test_the_projects_server_image_as_the_wps_in_the_container(engine_client, make_backend, jobs_root):
    """pywps:latest (the top-level Dockerfile; built here under CI when missing) serves the job; its
    VOLUME /var/lib/pywps is shut (read-only) like the rest of the root filesystem."""
    import docker.errors

    from pywps import imagebuild
    from tests.docker.conftest import _unavailable

    try:
        engine_client.images.get(imagebuild.SERVER_TAG)
    except docker.errors.ImageNotFound:
        if not IN_CI:
            _unavailable(f"{imagebuild.SERVER_TAG} is not built (pywps image build --server)")
        imagebuild.build_server_image(client=engine_client)  # ~40 s once; test_docker_images builds it too
    backend = make_backend(docker_image=imagebuild.SERVER_TAG, docker_transport="wps",
                           docker_wps_command="gunicorn --bind unix:{socket} --workers 1 pywps.wsgi:application")
    jobdir = make_job(jobs_root, "say_hello", name="server image")
    handle = backend.start(record(jobdir, "say_hello"), jobdir)
    tmpfs = engine_client.api.inspect_container(handle)["HostConfig"]["Tmpfs"]
    assert tmpfs["/var/lib/pywps"].startswith("ro,"), tmpfs
    status = backend.wait(handle, timeout=120)
    assert status.exit_code == 0, (status, jobdir.read_result())
    assert output(jobdir, "output") == "Hello server image"


# -- the pool of pre-started containers (docker_pool_size) with the wps transport ------------------------------

POOL = {**WPS, "docker_pool_size": 2}
# what makes a container a hardened job container (HostConfig keys) -- the same for a pool container
HARDENING = ("NetworkMode", "ReadonlyRootfs", "CapAdd", "CapDrop", "SecurityOpt", "PidsLimit", "Memory", "MemorySwap",
             "NanoCpus", "Init", "Tmpfs")


def _idle(client, backend) -> list[str]:
    from pywps.backends.docker import LABEL_POOL

    return [c["Id"] for c in client.api.containers(filters={"label": f"{LABEL_POOL}={backend.instance_id}"})]


def _started_at(client, handle: str) -> float:
    from pywps.backends.docker import _timestamp

    return _timestamp(client.api.inspect_container(handle)["State"]["StartedAt"])


def test_pool_hands_each_job_a_hardened_listening_container_once(make_backend, tmp_path, engine_client):
    work = tmp_path / "work"
    backend = make_backend(workdir=work, **POOL)
    assert backend.fill_pool() == 2
    idle = _idle(engine_client, backend)
    assert len(idle) == 2
    # hardened, mounted and commanded exactly like a wps job's own container
    fresh = make_backend(workdir=work, **WPS)
    probe = make_job(work / "jobs", "hostile_sleep", seconds=30, steps=2)
    fresh_handle = fresh.start(record(probe, "hostile_sleep"), probe)
    job_attrs = engine_client.api.inspect_container(fresh_handle)
    fresh.cancel(fresh_handle)
    for handle in idle:
        attrs = engine_client.api.inspect_container(handle)
        assert attrs["State"]["Status"] == "running"
        assert {k: attrs["HostConfig"].get(k) for k in HARDENING} == \
            {k: job_attrs["HostConfig"].get(k) for k in HARDENING}
        assert attrs["Config"]["User"] == job_attrs["Config"]["User"] == "65534:65534"
        assert sorted((m["Destination"], m["RW"]) for m in attrs["Mounts"]) == \
            sorted((m["Destination"], m["RW"]) for m in job_attrs["Mounts"])
        assert attrs["Config"]["Cmd"] == job_attrs["Config"]["Cmd"]  # the same server, behind the idle timer
        env = {e.partition("=")[0]: e.partition("=")[2] for e in attrs["Config"]["Env"]}
        assert env["PYWPS_CFG"] == "/pywps/in/wps.cfg" and env["PYWPS_JOB_ID"] == ""
        assert attrs["Config"]["Labels"][LABEL_TRANSPORT] == "wps"
        # its server already listens, on a socket the host has locked against the container
        slot = Path(attrs["Config"]["Labels"]["pywps.jobdir"])
        assert stat.S_ISSOCK(os.stat(slot / "out" / "socket" / "wps.sock", follow_symlinks=False).st_mode)
        assert stat.S_IMODE(os.stat(slot / "out" / "socket").st_mode) & 0o022 == 0
        assert (slot / "in" / "wps.cfg").read_text().count("outputpath = /pywps/out/server/outputs") == 1
    handles = []
    for name in ("one", "two", "three"):
        wait_for(lambda: backend.idle_pool_size > 0, timeout=120)  # each hand-over refills in the background
        waiting = set(_idle(engine_client, backend))
        jobdir = make_job(work / "jobs", "say_hello", name=name)
        claimed = time.time()
        handle = backend.start(record(jobdir, "say_hello"), jobdir)
        assert handle in waiting and jobdir.outdir.is_symlink() and jobdir.indir.is_symlink()
        assert _started_at(engine_client, handle) < claimed  # it did not pay the container start
        status = backend.wait(handle, timeout=120)
        assert status.state == RunnerState.EXITED and status.exit_code == 0, (status, jobdir.read_result())
        assert output(jobdir, "output") == f"Hello {name}"
        assert _transport(jobdir)["phase"] == "done"
        backend.cleanup(handle)
        assert not jobdir.outdir.is_symlink() and (jobdir.outdir / "result.json").is_file()
        assert not jobdir.indir.is_symlink() and (jobdir.indir / "job.json").is_file()
        assert not (jobdir.path / "transport").exists()
        assert backend.poll(handle).state == RunnerState.LOST  # used once, then removed
        handles.append(handle)
    assert len(set(handles)) == 3
    backend.close()
    assert _idle(engine_client, backend) == []
    assert list((work / "docker-pool").iterdir()) == []


def test_pool_replaces_dead_and_idle_containers(make_backend, tmp_path, engine_client):
    """A pool container that died is discarded at the next hand-over and replaced; an idle one exits after
    docker_pool_idle (the idle timer stops its server); neither serves a job."""
    work = tmp_path / "work"
    backend = make_backend(workdir=work, **POOL)
    assert backend.fill_pool() == 2
    first, second = (h for h, _ in backend._pool)
    engine_client.api.kill(first)
    wait_for(lambda: engine_client.api.inspect_container(first)["State"]["Status"] == "exited", 30, 0.1)
    jobdir = make_job(work / "jobs", "say_hello", name="survivor")
    handle = backend.start(record(jobdir, "say_hello"), jobdir)
    assert handle == second  # the dead one was skipped
    assert backend.wait(handle, timeout=120).exit_code == 0 and output(jobdir, "output") == "Hello survivor"
    backend.cleanup(handle)
    assert not engine_client.api.containers(all=True, filters={"id": first})  # discarded, removed
    replacements = wait_for(lambda: backend.idle_pool_size == 2 and [h for h, _ in backend._pool], 120, 0.1)
    assert not {first, second} & set(replacements)

    idling = make_backend(workdir=work, docker_pool_idle=5, docker_pool_size=1, **WPS)
    assert idling.fill_pool() == 1
    (idle,) = (h for h, _ in idling._pool)
    wait_for(lambda: engine_client.api.inspect_container(idle)["State"]["Status"] == "exited", 30, 0.2)
    jobdir = make_job(work / "jobs", "say_hello", name="late")
    handle = idling.start(record(jobdir, "say_hello"), jobdir)
    assert handle != idle and not jobdir.outdir.is_symlink()  # a fresh container instead
    assert idling.wait(handle, timeout=120).exit_code == 0 and output(jobdir, "output") == "Hello late"
    assert not engine_client.api.containers(all=True, filters={"id": idle})


def test_pool_time_limit_counts_from_the_hand_over_and_cancel_is_at_once(make_backend, tmp_path, engine_client):
    work = tmp_path / "work"
    backend = make_backend(workdir=work, docker_time_limit=4, docker_pool_size=1, **WPS)
    backend.fill_pool()
    time.sleep(4.5)  # idle longer than the time limit: must not count
    jobdir = make_job(work / "jobs", "hostile_sleep", seconds=1, steps=2)
    handle = backend.start(record(jobdir, "hostile_sleep"), jobdir)
    assert jobdir.outdir.is_symlink()
    status = backend.wait(handle, timeout=60)
    assert status.exit_code == 0, (status, jobdir.read_result())
    wait_for(lambda: backend.idle_pool_size == 1, 120, 0.1)
    jobdir = make_job(work / "jobs", "hostile_loop")
    handle = backend.start(record(jobdir, "hostile_loop"), jobdir)
    assert jobdir.outdir.is_symlink()
    assert backend.wait(handle, timeout=60).message == "killed: time limit 4 s"
    wait_for(lambda: backend.idle_pool_size == 1, 120, 0.1)
    jobdir = make_job(work / "jobs", "hostile_ticker", seconds=120)
    handle = backend.start(record(jobdir, "hostile_ticker"), jobdir)
    assert jobdir.outdir.is_symlink()
    wait_for(lambda: _transport(jobdir).get("phase") == "submitted", 60, 0.05)
    started = time.monotonic()
    backend.cancel(handle)
    wait_for(lambda: engine_client.api.inspect_container(handle)["State"]["Status"] != "running", 2, 0.02)
    assert time.monotonic() - started < 2
    status = backend.wait(handle, timeout=30)
    assert status.state == RunnerState.EXITED and status.message == "killed: cancelled", status


@pytest.mark.parametrize("when", ["starting", "submitted"])
def test_a_new_server_re_attaches_to_a_pooled_job(make_backend, tmp_path, monkeypatch, when):
    """The server dies right after the hand-over (no follower ran) or after the Execute was accepted."""
    work = tmp_path / "work"
    first = make_backend(workdir=work, docker_pool_size=1, **WPS)
    first.fill_pool()
    if when == "starting":
        monkeypatch.setattr(first, "_follow", lambda handle: None)
    jobdir = make_job(work / "jobs", "hostile_sleep", seconds=2, steps=4)
    handle = first.start(record(jobdir, "hostile_sleep"), jobdir)
    assert jobdir.outdir.is_symlink()
    if when == "submitted":
        wait_for(lambda: _transport(jobdir).get("phase") == "submitted", 60, 0.05)
        follower = first._followers[handle]
        follower.stop()
        follower.join(30)
    assert _transport(jobdir)["phase"] == when
    second = make_backend(workdir=work, **WPS)  # no pool of its own: it only knows the container's labels
    second.adopt([handle])
    status = second.wait(handle, timeout=120)
    assert status.state == RunnerState.EXITED and status.exit_code == 0, (status, jobdir.read_result())
    assert float(output(jobdir, "slept")) >= 2
    second.cleanup(handle)
    assert not jobdir.outdir.is_symlink() and not (jobdir.path / "transport").exists()


def test_reap_removes_orphaned_wps_pool_containers(make_backend, tmp_path, engine_client):
    work = tmp_path / "work"
    first = make_backend(workdir=work, docker_pool_size=1, **WPS)
    first.fill_pool()
    jobdir = make_job(work / "jobs", "hostile_ticker", seconds=60)
    claimed = first.start(record(jobdir, "hostile_ticker"), jobdir)
    assert jobdir.outdir.is_symlink()
    idle = wait_for(lambda: [h for h, _ in first._pool], 120, 0.1)  # the refill, started at the hand-over
    first._pool.clear()  # the server died without closing its pool
    for follower in first._followers.values():
        follower.stop()
    second = make_backend(workdir=work, **WPS)
    second.instance_id = "pytest-other"
    mine = [first.instance_id]
    assert second.reap([jobdir.job_id], live_instances=[], instances=mine) == idle  # idle ones of a dead server
    assert second.reap([], instances=mine) == [claimed]  # the job is over: its container goes
    assert not engine_client.api.containers(all=True, filters={"label": f"pywps.pool={first.instance_id}"})
    assert not jobdir.outdir.is_symlink() and not jobdir.indir.is_symlink()  # the job directory is whole again
    assert list((work / "docker-pool").iterdir()) == []


def test_pool_serves_only_jobs_of_its_configuration_and_command(make_backend, tmp_path, engine_client):
    """The in-container server reads its configuration once, at start: a pool container serves only jobs whose
    server configuration is the one it was started with (the pool follows a new one); a command that names the
    process cannot be pre-started at all."""
    work = tmp_path / "work"
    backend = make_backend(workdir=work, docker_pool_size=1, **WPS)
    assert backend.fill_pool() == 1
    (waiting,) = _idle(engine_client, backend)
    jobdir = make_job(work / "jobs", "say_hello", name="configured")
    jobdir.write_job({**jobdir.read_job(), "config": {"metadata:main": {"identification_title": "Configured"}},
                                   "limits": {"maxsingleinputsize": 1024}})
    handle = backend.start(record(jobdir, "say_hello"), jobdir)
    assert handle != waiting and not jobdir.outdir.is_symlink()  # a fresh container with the job's own config
    assert "Configured" in (jobdir.indir / "wps.cfg").read_text()
    assert backend.wait(handle, timeout=120).exit_code == 0 and output(jobdir, "output") == "Hello configured"
    # the pool now starts containers for that configuration: the next such job is served by one
    wait_for(lambda: backend.idle_pool_size == 1 and waiting not in _idle(engine_client, backend), 120, 0.1)
    again = make_job(work / "jobs", "say_hello", name="pooled")
    again.write_job({**again.read_job(), "config": {"metadata:main": {"identification_title": "Configured"}},
                     "limits": {"maxsingleinputsize": 1024}})
    handle = backend.start(record(again, "say_hello"), again)
    assert again.outdir.is_symlink() and "Configured" in (again.indir / "wps.cfg").read_text()
    assert backend.wait(handle, timeout=120).exit_code == 0 and output(again, "output") == "Hello pooled"

    by_process = make_backend(workdir=work, docker_pool_size=1, docker_transport="wps",
                              docker_wps_command=WPS_COMMAND.replace("--timeout 0", "--timeout 0 --name {identifier}"))
    assert by_process.fill_pool() == 0
    jobdir = make_job(work / "jobs", "say_hello", name="named")
    handle = by_process.start(record(jobdir, "say_hello"), jobdir)
    assert not jobdir.outdir.is_symlink()
    assert by_process.wait(handle, timeout=120).exit_code == 0 and output(jobdir, "output") == "Hello named"
