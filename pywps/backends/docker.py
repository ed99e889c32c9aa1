"""``mode = docker``: every job in its own hardened, single-use container over a shared job directory.

The job's ``in/`` is bind-mounted read-only at ``dckr_inp_dir`` and its ``out/`` read-write at
``dckr_out_dir``; the container runs ``python -m pywps.worker --indir IN --outdir OUT`` and speaks files
only. Hardening is on by default (no network, read-only root, tmpfs /tmp, no capabilities,
no-new-privileges, non-root user, pids/memory/CPU limits, wall-clock limit enforced from the host).
Containers carry the labels ``pywps.job`` and ``pywps.instance`` so a restarted server can re-attach to
them (:meth:`Container.adopt`) and remove the ones nobody owns (:meth:`Container.reap`).

With ``docker_transport = wps`` the container runs a WPS server instead (``docker_wps_command``), listening
on a Unix socket in its ``out/``; a follower thread (:mod:`pywps.backends.wpsproxy`) forwards the job's
Execute to it, follows it and writes the hand-back in the worker's format once the container is stopped.
Works on Docker and on Podman's Docker-compatible API (``DOCKER_HOST=unix:///run/podman/podman.sock``).
"""

from __future__ import annotations

import atexit
import errno
import logging
import math
import os
import shutil
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pywps.backends import wpsproxy
from pywps.backends.base import Processing, RunnerState, RunnerStatus, RunnerUnavailable, register
from pywps.exceptions import ConfigurationError, NoApplicableCode
from pywps.jobs.jobdir import JOB_JSON, JobDir

if TYPE_CHECKING:
    from pywps.config import ProcessingSettings
    from pywps.jobs.model import JobRecord

log = logging.getLogger(__name__)

LABEL_JOB = "pywps.job"
LABEL_INSTANCE = "pywps.instance"
LABEL_PROCESS = "pywps.process"
LABEL_JOBDIR = "pywps.jobdir"
LABEL_TIME_LIMIT = "pywps.time_limit"
LABEL_MEMORY = "pywps.memory"
LABEL_PIDS = "pywps.pids_limit"
LABEL_POOL = "pywps.pool"
LABEL_TRANSPORT = "pywps.transport"
LABEL_WPS_COMMAND = "pywps.wps_command"   # on an image: how it serves its WPS (docker_transport = wps)
TRANSPORTS = ("worker", "wps")
FORBIDDEN_NETWORKS = ("bridge", "default", "host")
_WAIT_CHUNK = 1.0

# What a pool container runs: import the worker (and the processes) ahead, wait for in/job.json, run it.
POOL_SCRIPT = """\
import ctypes, importlib, json, os, select, sys, time
indir, outdir, idle = sys.argv[1], sys.argv[2], float(sys.argv[3])
for name in sys.argv[4:]:
    try:
        importlib.import_module(name)
    except Exception as exc:
        print("preload", name, exc, file=sys.stderr)
import pywps.worker, pywps.execute
try:  # inotify (IN_CREATE | IN_MOVED_TO on in/): no busy polling while idle
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init1(0)
    if fd >= 0 and libc.inotify_add_watch(fd, indir.encode(), 0x100 | 0x80) < 0:
        fd = -1
except (OSError, AttributeError):
    fd = -1
job, deadline = os.path.join(indir, "job.json"), time.monotonic() + idle
while not os.path.exists(job):
    if time.monotonic() > deadline:
        sys.exit(0)
    if fd >= 0:
        if select.select([fd], [], [], 1.0)[0]:
            os.read(fd, 65536)
    else:
        time.sleep(0.004)
with open(job) as handle:
    os.environ["PYWPS_JOB_ID"] = json.load(handle).get("job_id", "")
sys.exit(pywps.worker.main(["--indir", indir, "--outdir", outdir]))
"""

# What a pool container of the wps transport runs (as its entrypoint, so any image with /bin/sh works): the
# image's WPS server at once, and a timer that stops it when no job (in/job.json) came within the idle time.
WPS_POOL_SCRIPT = """\
idle=$1 job=$2
shift 2
"$@" &
server=$!
(
    waited=0
    while [ ! -e "$job" ]; do
        if [ "$waited" -ge "$idle" ]; then
            kill -TERM "$server" 2>/dev/null
            sleep 10
            kill -KILL "$server" 2>/dev/null
            exit 0
        fi
        sleep 1
        waited=$((waited + 1))
    done
) &
timer=$!
wait "$server"
code=$?
kill "$timer" 2>/dev/null
exit "$code"
"""


def _mib(nbytes: int) -> str:
    """Bytes as the message shows them: '256 MiB', '1.5 GiB'."""
    if nbytes >= 1024**3 and nbytes % (1024**3) == 0:
        return f"{nbytes // 1024**3} GiB"
    return f"{nbytes / 1024**2:g} MiB"


@dataclass(frozen=True)
class DockerSettings:
    """The ``[processing]`` keys of the docker mode, parsed once."""

    image: str = "pywps-worker:latest"
    images: dict[str, str] = field(default_factory=dict)  # process identifier -> image
    inp_dir: str = "/pywps/in"
    out_dir: str = "/pywps/out"
    network: str = "none"
    read_only: bool = True
    tmpfs_size: str = "64m"
    user: str = "65534:65534"
    pids_limit: int = 128
    memory: int = 256 * 1024**2
    cpus: float = 1.0
    time_limit: float = 0.0
    keep_containers: bool = False
    init: bool = True
    port_min: int = 0
    port_max: int = 0
    pool_size: int = 0                     # pre-started single-use containers per server process
    pool_preload: tuple[str, ...] = ("pywps.processes",)
    pool_idle: float = 3600.0              # an unused pool container exits after this many seconds
    transport: str = "worker"              # worker | wps
    wps_command: str = ""
    wps_path: str = "/wps"
    wps_start_timeout: float = 60.0
    wps_max_download: int = 1024**3
    engine_grace: float = 300.0            # running jobs outlive an unanswering engine this long

    @classmethod
    def from_settings(cls, p: ProcessingSettings) -> DockerSettings:
        """The docker fields of ``[processing]`` (parsed by ``pywps.config``), checked for safety."""
        settings = cls(
            image=p.docker_image, images=dict(p.docker_images), inp_dir=p.dckr_inp_dir, out_dir=p.dckr_out_dir,
            network=p.docker_network, read_only=p.docker_read_only, tmpfs_size=p.docker_tmpfs_size,
            user=p.docker_user, pids_limit=p.docker_pids_limit, memory=p.docker_memory, cpus=p.docker_cpus,
            time_limit=p.docker_time_limit, keep_containers=p.docker_keep_containers, init=p.docker_init,
            port_min=p.port_min, port_max=p.port_max, pool_size=p.docker_pool_size,
            pool_preload=p.docker_pool_preload, pool_idle=p.docker_pool_idle,
            transport=p.docker_transport.strip().lower() or "worker", wps_command=p.docker_wps_command,
            wps_path="/" + p.docker_wps_path.strip().lstrip("/"), wps_start_timeout=p.docker_wps_start_timeout,
            wps_max_download=p.docker_wps_max_download, engine_grace=p.docker_engine_grace,
        )
        if settings.transport not in TRANSPORTS:
            raise ConfigurationError(f"[processing] docker_transport = {settings.transport!r}: expected worker "
                                     "or wps")
        if settings.transport == "wps" and settings.wps_command and "{socket}" not in settings.wps_command:
            raise ConfigurationError("[processing] docker_wps_command must name {socket}: the server in the "
                                     "container listens there")
        if settings.network.lower() in FORBIDDEN_NETWORKS:
            raise ConfigurationError(
                f"[processing] docker_network = {settings.network!r}: jobs must not reach the host's networks; "
                "use 'none' or a network made with `docker network create --internal`")
        if not settings.inp_dir.startswith("/") or not settings.out_dir.startswith("/"):
            raise ConfigurationError("[processing] dckr_inp_dir and dckr_out_dir must be absolute paths")
        return settings

    def image_for(self, process_identifier: str) -> str:
        """The image a process runs in: its ``[docker:images]`` entry, else ``docker_image``."""
        return self.images.get(process_identifier.lower()) or self.images.get(process_identifier) or self.image

    @property
    def wps(self) -> wpsproxy.WpsSettings:
        """What the wps transport needs."""
        return wpsproxy.WpsSettings(command=self.wps_command, path=self.wps_path,
                                    start_timeout=self.wps_start_timeout, max_download=self.wps_max_download,
                                    inp_dir=self.inp_dir, out_dir=self.out_dir)

    def uid_gid(self) -> tuple[int, int] | None:
        """The numeric job user, or None when it is a name the host cannot resolve."""
        uid, _, gid = self.user.partition(":")
        if not uid.isdigit() or (gid and not gid.isdigit()):
            return None
        return int(uid), int(gid or uid)


def _timestamp(text: str) -> float | None:
    """Docker's RFC 3339 timestamp with nanoseconds -> epoch seconds (None for the zero time)."""
    if not text or text.startswith("0001-"):
        return None
    main, _, frac = text.rstrip("Z").partition(".")
    stamp = datetime.fromisoformat(main + "+00:00").timestamp()
    digits = "".join(ch for ch in frac if ch.isdigit())
    return stamp + (float("0." + digits) if digits else 0.0)


def prepare_jobdir(jobdir: JobDir, user: tuple[int, int] | None) -> tuple[Path, Path]:
    """Make ``in/`` readable and ``out/`` writable for the container's (non-root) user."""
    indir, outdir = jobdir.indir, jobdir.outdir
    indir.mkdir(parents=True, exist_ok=True)
    outdir.mkdir(parents=True, exist_ok=True)
    chown = user is not None and os.geteuid() == 0
    job_json = os.path.join(indir, JOB_JSON)
    for root, _dirs, files in os.walk(indir):
        os.chmod(root, os.stat(root).st_mode | 0o555)
        for name in files:
            path = os.path.join(root, name)
            if path == job_json and chown:  # the job's own description: its uid only, not every local user
                assert user is not None
                os.chown(path, user[0], user[1], follow_symlinks=False)
                os.chmod(path, 0o400)
            else:
                os.chmod(path, os.stat(path).st_mode | 0o444)
    for root, _dirs, files in os.walk(outdir):
        for path in [root, *(os.path.join(root, f) for f in files)]:
            if chown:
                assert user is not None
                os.chown(path, user[0], user[1], follow_symlinks=False)
            elif not os.path.islink(path):
                os.chmod(path, os.stat(path).st_mode | (0o777 if path == root else 0o666))
    return indir, outdir


def _engine_errors() -> tuple[type[BaseException], ...]:
    """What a call to an unreachable or failing engine raises."""
    import docker.errors
    import requests

    return (docker.errors.DockerException, requests.exceptions.RequestException, OSError)


def _pids_events(container_id: str) -> int | None:
    """How often the container's pids limit refused a fork (cgroup v1 or v2), None if unreadable."""
    candidates = (
        f"/sys/fs/cgroup/pids/docker/{container_id}/pids.events",
        f"/sys/fs/cgroup/pids/system.slice/docker-{container_id}.scope/pids.events",
        f"/sys/fs/cgroup/docker/{container_id}/pids.events",
        f"/sys/fs/cgroup/system.slice/docker-{container_id}.scope/pids.events",
        f"/sys/fs/cgroup/pids/libpod_parent/libpod-{container_id}/pids.events",       # Podman, cgroupfs
        f"/sys/fs/cgroup/pids/machine.slice/libpod-{container_id}.scope/pids.events",
        f"/sys/fs/cgroup/libpod_parent/libpod-{container_id}/pids.events",
        f"/sys/fs/cgroup/machine.slice/libpod-{container_id}.scope/pids.events",
    )
    for path in candidates:
        try:
            with open(path) as handle:
                for line in handle:
                    key, _, value = line.partition(" ")
                    if key == "max":
                        return int(value)
        except (OSError, ValueError):
            continue
    return None


def _oom_in_kernel_log(container_id: str) -> bool:
    """Whether the kernel log names an OOM kill in the container's memory cgroup: Podman (4.3, cgroup v1)
    does not report ``State.OOMKilled``; readable by root only, else False."""
    try:
        fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False
    needle = container_id[:64].encode()
    found = False
    try:
        for _ in range(100000):  # the whole ring buffer, record by record, up to EAGAIN
            try:
                record = os.read(fd, 8192)
            except BlockingIOError:
                break
            except OSError as exc:
                if exc.errno == errno.EPIPE:  # overwritten while reading: go on with the next record
                    continue
                break
            if not record:
                break
            if b"oom_memcg=" in record and needle in record:
                found = True
    finally:
        os.close(fd)
    return found


def _pool_claim(labels: dict[str, str]) -> tuple[str, str] | None:
    """The job a pool container was handed and its job directory (from its slot), None while it waits idle."""
    try:
        job_id, jobdir = (Path(labels[LABEL_JOBDIR]) / "jobdir").read_text().splitlines()[:2]
    except (KeyError, OSError, ValueError):
        return None
    return job_id, jobdir


def _pool_job(labels: dict[str, str]) -> str | None:
    """The job a pool container was handed (from its slot), None while it waits idle."""
    claim = _pool_claim(labels)
    return None if claim is None else claim[0]


def _wps_jobdir(labels: dict[str, str]) -> str | None:
    """The job directory of a wps container (a pool container's from its slot), None for the worker transport
    or an idle pool container."""
    if labels.get(LABEL_TRANSPORT) != "wps":
        return None
    if LABEL_POOL not in labels:
        return labels.get(LABEL_JOBDIR)
    claim = _pool_claim(labels)
    return None if claim is None else claim[1]


def _pool_assigned(attrs: dict[str, Any]) -> float | None:
    """When a pool container was handed its job (its wall-clock limit counts from then)."""
    labels = (attrs.get("Config") or {}).get("Labels") or {}
    if LABEL_POOL not in labels:
        return None
    try:
        return os.stat(Path(labels[LABEL_JOBDIR]) / "jobdir").st_mtime
    except (KeyError, OSError):
        return None


@dataclass
class _Track:
    """What this server remembers about one container (rebuilt from labels after a restart)."""

    started: float | None = None          # epoch seconds the container started
    paused_at: float | None = None
    paused_total: float = 0.0
    reason: str = ""                       # why we killed it
    pids_hit: bool = False
    pooled: bool | None = None             # None: not known (a container another server started)
    transport: str = "worker"              # from the label: worker | wps
    jobdir: str | None = None              # the job directory (wps: where the follower keeps its state)
    finishing: bool = False                # wps: exited, the hand-back is being written
    labelled: bool = False                 # transport/jobdir read from the labels


@register
class Container(Processing):
    """Run each job in a fresh container of the configured image; the handle is the container id."""

    name = "docker"
    can_pause = True

    def __init__(self, settings: ProcessingSettings, client: Any = None, instance_id: str | None = None) -> None:
        super().__init__(settings)
        self.workdir = settings.workdir
        self.settings = DockerSettings.from_settings(settings)  # type: ignore[assignment]
        self.instance_id = instance_id or uuid.uuid4().hex[:12]
        self._client = client
        self._client_pid: int | None = None  # the process that made the client (None: given by the caller)
        self._lock = threading.Lock()
        self._tracks: dict[str, _Track] = {}
        self._pool: list[tuple[str, Path]] = []   # idle pool containers: (id, slot directory)
        # wps: what each idle pool container serves (its server configuration and command), and the identity
        # of its socket directory; the jobs the pool is filled for (only their config and limits count)
        self._pool_wps: dict[str, tuple[tuple[str, tuple[str, ...] | None], tuple[int, int]]] = {}
        self._wps_template: dict[str, Any] = {"config": {}, "limits": {}}
        self._wps_unpooled_logged = False
        self._pool_pending = 0
        self._pool_started = False
        self._closed = False
        self._followers: dict[str, wpsproxy.Follower] = {}
        self._follow_tried: dict[str, float] = {}
        self._is_podman: bool | None = None
        self._image_configs: dict[str, tuple[float, dict[str, Any]]] = {}
        self._engine_down_since: float | None = None  # monotonic time the engine stopped answering polls

    # -- engine ------------------------------------------------------------------------------------
    @property
    def client(self) -> Any:
        """The Docker SDK client (``docker.from_env()``, so ``DOCKER_HOST`` works), made on first use."""
        if self._client is not None and self._client_pid not in (None, os.getpid()):
            self._client = None  # made before a fork (gunicorn --preload): never share its connections
        if self._client is None:
            try:
                import docker
            except ImportError:
                raise ConfigurationError("mode docker needs the docker SDK: pip install docker") from None
            self._client = docker.from_env(timeout=30)  # raises DockerException when there is no engine
            self._client_pid = os.getpid()
        return self._client

    def _engine_error(self, exc: Exception) -> NoApplicableCode:
        return NoApplicableCode(f"Docker engine unreachable: {type(exc).__name__}: {str(exc)[:200]}")

    def check(self) -> None:
        """Fail with a clear ``ConfigurationError`` when an image or the network is missing. An engine that
        does not answer is an outage, not a configuration error: the server starts, logs it, and jobs wait
        for the engine (up to ``[jobs] start_timeout``); the images are checked when it answers."""
        import docker.errors

        if self.settings.transport == "wps":
            try:
                import owslib.wps  # noqa: F401
            except ImportError:
                raise ConfigurationError("[processing] docker_transport = wps needs OWSLib on the server: "
                                         "pip install owslib") from None

        try:
            self.client.ping()
        except _engine_errors() as exc:
            log.error("mode docker: the Docker engine does not answer (%s: %s); starting anyway: jobs wait for "
                      "it up to [jobs] start_timeout (start the engine, or set DOCKER_HOST / [processing] "
                      "docker_host)", type(exc).__name__, str(exc)[:200])
            return
        for image in sorted({self.settings.image, *self.settings.images.values()}):
            try:
                self.client.images.get(image)
            except docker.errors.ImageNotFound:
                raise ConfigurationError(
                    f"mode docker: image {image!r} not found in the Docker engine; build it with "
                    "`pywps image build` (or .ci/docker-engine.sh image)") from None
        network = self.settings.network
        if network != "none":
            try:
                net = self.client.networks.get(network)
            except docker.errors.NotFound:
                raise ConfigurationError(f"[processing] docker_network = {network!r}: no such network") from None
            if not net.attrs.get("Internal"):
                raise ConfigurationError(
                    f"[processing] docker_network = {network!r} is not internal; create it with "
                    "`docker network create --internal`")

    # -- lifecycle ---------------------------------------------------------------------------------
    def container_kwargs(self, job: JobRecord, jobdir: JobDir) -> dict[str, Any]:
        """The ``containers.create`` arguments for one job (hardening, limits, mounts, labels)."""
        s = self.settings
        job_id, process_identifier = job.id, job.process
        kwargs = self._hardened(s.image_for(process_identifier), jobdir.indir.absolute(), jobdir.outdir.absolute())
        if s.transport == "wps":  # the image's WPS server, listening on a socket in out/
            template = self._image_command(kwargs["image"]) or s.wps_command
            if template:  # else the image's own CMD, told where to listen by PYWPS_WPS_SOCKET
                try:
                    kwargs["command"] = s.wps.argv(jobdir.read_job(), template)
                except wpsproxy.TransportError as exc:
                    raise NoApplicableCode(f"docker: {exc}") from None
            kwargs["environment"].update({"PYWPS_CFG": f"{s.inp_dir.rstrip('/')}/{wpsproxy.SERVER_CFG}",
                                          "PYWPS_WPS_SOCKET": s.wps.socket})
        else:
            kwargs["command"] = ["python3", "-m", "pywps.worker", "--indir", s.inp_dir, "--outdir", s.out_dir]
        kwargs["name"] = f"pywps-{job_id}"
        kwargs["labels"].update({LABEL_JOB: job_id, LABEL_PROCESS: process_identifier, LABEL_TRANSPORT: s.transport,
                                 LABEL_JOBDIR: str(Path(jobdir.path or jobdir.indir.parent).absolute())})
        kwargs["environment"]["PYWPS_JOB_ID"] = job_id
        return kwargs

    def _hardened(self, image: str, indir: Path, outdir: Path) -> dict[str, Any]:
        """What every job container gets: mounts, hardening, limits and the instance labels."""
        from docker.types import Mount

        s = self.settings
        kwargs: dict[str, Any] = {
            "image": image,
            "hostname": "pywps-job",
            "detach": True,
            "labels": {
                LABEL_INSTANCE: self.instance_id,
                LABEL_TIME_LIMIT: f"{s.time_limit:g}",
                LABEL_MEMORY: str(s.memory),
                LABEL_PIDS: str(s.pids_limit),
            },
            "mounts": [
                Mount(target=s.inp_dir, source=str(indir), type="bind", read_only=True),
                Mount(target=s.out_dir, source=str(outdir), type="bind", read_only=False),
            ],
            "network_mode": s.network,
            "read_only": s.read_only,
            "tmpfs": {"/tmp": f"rw,noexec,nosuid,nodev,size={s.tmpfs_size},mode=1777"},
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges"],
            "user": s.user,
            "environment": {"HOME": "/tmp", "TMPDIR": "/tmp"},
            "working_dir": "/tmp",
            "init": s.init,
        }
        if s.read_only and self._podman:  # Podman adds a writable, unsized tmpfs on /var/tmp: keep it shut
            kwargs["tmpfs"]["/var/tmp"] = "ro,noexec,nosuid,nodev,size=4k"
        if s.read_only:  # an image's VOLUMEs would be writable anonymous volumes: shut them too
            for path in sorted(self._image_config(image).get("Volumes") or {}):
                if path not in kwargs["tmpfs"] and path not in (s.inp_dir, s.out_dir):
                    kwargs["tmpfs"][path] = "ro,noexec,nosuid,nodev,size=4k"
        if s.pids_limit > 0:
            kwargs["pids_limit"] = s.pids_limit
        if s.memory > 0:
            kwargs["mem_limit"] = s.memory
            kwargs["memswap_limit"] = s.memory
        if s.cpus > 0:
            kwargs["nano_cpus"] = int(s.cpus * 1e9)
        return kwargs

    def start(self, job: JobRecord, jobdir: JobDir) -> str:
        """Create and start the job's container (or hand the job to a pre-started one); return its id."""
        import docker.errors

        job_id, process_identifier = job.id, job.process
        wps = self.settings.transport == "wps"
        if jobdir.indir.is_symlink():  # a retried start of a job already handed to a pool container
            slot = Path(os.readlink(jobdir.indir)).parent
            try:
                attrs = self.client.api.inspect_container(f"pywps-pool-{slot.name}")
            except docker.errors.NotFound:
                raise NoApplicableCode("the job's pool container is gone") from None
            handle = str(attrs["Id"])
            if wps:
                self._track(handle, attrs)
                self._follow(handle)
            return handle
        prepare_jobdir(jobdir, self.settings.uid_gid())
        if self.settings.pool_size > 0 and self.settings.image_for(process_identifier) == self.settings.image \
                and not (wps and jobdir.path is not None and wpsproxy.Transport(jobdir.path).phase()):
            # (a wps job already prepared for a fresh container of its own is retried there)
            handle = self._start_pooled(job_id, jobdir)
            if handle is not None:
                if wps:
                    self._follow(handle)
                return handle
        if wps:
            try:
                wpsproxy.prepare(jobdir, self.settings.wps, self.settings.uid_gid())
            except OSError as exc:
                raise NoApplicableCode(f"docker: could not prepare the job directory: {exc}") from None
        kwargs = self.container_kwargs(job, jobdir)
        try:
            try:
                container_id = self._create(kwargs)
                fresh = True
            except docker.errors.APIError as exc:
                # a container of that name exists (a retried start): 409 on Docker, 500 "in use" on Podman
                if exc.status_code != 409 and "already in use" not in str(exc.explanation or ""):
                    raise
                container_id, fresh = self._existing(kwargs["name"], job_id)
            if fresh:
                self.client.api.start(container_id)
        except docker.errors.ImageNotFound:
            raise NoApplicableCode(
                f"docker image {kwargs['image']!r} not found; build it with `pywps image build`") from None
        except docker.errors.APIError as exc:
            raise NoApplicableCode(f"docker could not start the job: {exc.explanation or exc}") from None
        except NoApplicableCode:
            raise
        except _engine_errors() as exc:  # the engine is down or restarting: the job waits, it is not failed
            raise RunnerUnavailable(self._engine_error(exc).description) from None
        with self._lock:
            self._tracks[container_id] = _Track(started=time.time(), pooled=False, transport=self.settings.transport,
                                                jobdir=kwargs["labels"][LABEL_JOBDIR], labelled=True)
        log.info("job %s: container %s started from %s", job_id, container_id[:12], kwargs["image"])
        if wps:
            self._follow(str(container_id))
        return str(container_id)

    # -- the wps transport: one follower thread per job ------------------------------------------------
    def _follow(self, handle: str) -> None:
        """Make sure a follower runs in this process for a wps container (started, adopted or polled)."""
        track = self._track(handle)
        if track.transport != "wps" or not track.jobdir:
            return
        with self._lock:
            follower = self._followers.get(handle)
            if follower is not None and (follower.is_alive() or time.monotonic() - self._follow_tried.get(handle, 0)
                                         < 2.0):
                return
            if self._closed:
                return
            follower = wpsproxy.Follower(handle, Path(track.jobdir), self.settings.wps, self._ops(handle))
            self._followers[handle] = follower
            self._follow_tried[handle] = time.monotonic()
        follower.start()

    def _image_config(self, image: str) -> dict[str, Any]:
        """An image's ``Config`` (labels, declared volumes), cached for a minute (a tag may be rebuilt);
        empty when the image is missing."""
        import docker.errors

        cached = self._image_configs.get(image)
        if cached is None or time.monotonic() - cached[0] > 60:
            try:
                config = self.client.api.inspect_image(image).get("Config") or {}
            except docker.errors.ImageNotFound:
                return {}  # the create that follows says so
            except _engine_errors():
                return {}  # the engine is unreachable: the create that follows says so
            cached = self._image_configs[image] = (time.monotonic(), config)
        return cached[1]

    def _image_command(self, image: str) -> str | None:
        """The WPS command an image declares (its ``pywps.wps_command`` label), None when it has none."""
        return (self._image_config(image).get("Labels") or {}).get(LABEL_WPS_COMMAND) or None

    def _ops(self, handle: str) -> wpsproxy.EngineOps:
        """What a follower may do to its container."""
        import docker.errors

        def state() -> str:
            try:
                attrs = self._inspect(handle)
            except _engine_errors():
                return "unknown"
            return "gone" if attrs is None else str(attrs["State"].get("Status", ""))

        def stop() -> None:
            try:
                self.client.api.kill(handle)
            except docker.errors.NotFound:
                pass
            except docker.errors.APIError as exc:
                if exc.status_code != 409:
                    raise

        def logs() -> bytes:
            return bytes(self.client.api.logs(handle, stdout=True, stderr=True, tail=500))

        def verdict() -> str:
            attrs = self._inspect(handle) or {}
            return self._oom_message(handle, attrs)

        def ended() -> None:
            if self.on_exit is not None:
                self.on_exit(handle)

        return wpsproxy.EngineOps(state=state, stop=stop, logs=logs, verdict=verdict, ended=ended)

    def _oom_message(self, handle: str, attrs: dict[str, Any]) -> str:
        """``killed: out of memory (limit ...)`` when the engine (or the kernel log) saw an OOM kill."""
        state, labels = attrs.get("State") or {}, (attrs.get("Config") or {}).get("Labels") or {}
        if not state.get("OOMKilled") and not (state.get("ExitCode") in (137, 0) and self._podman
                                               and _oom_in_kernel_log(handle)):
            return ""
        limit = int(labels.get(LABEL_MEMORY, self.settings.memory) or 0)
        return f"killed: out of memory (limit {_mib(limit)})"

    @property
    def _podman(self) -> bool:
        """Whether the engine is Podman (its compatible API does not report OOM kills on cgroup v1)."""
        if self._is_podman is None:
            try:
                components = self.client.version().get("Components") or []
                self._is_podman = any("podman" in str(c.get("Name", "")).lower() for c in components)
            except _engine_errors():
                return False
        return bool(self._is_podman)

    def _wps_exited(self, handle: str, attrs: dict[str, Any]) -> RunnerStatus:
        """A wps container that is no longer running: done when its hand-back is complete (finishing it here
        when its follower is gone), else ended before the job did."""
        track = self._track(handle, attrs)
        transport = wpsproxy.Transport(track.jobdir or "/nonexistent")
        phase = transport.phase()
        code = attrs["State"].get("ExitCode")
        if phase == "collected":
            with self._lock:
                follower = self._followers.get(handle)
            lock = None if follower is not None and follower.is_alive() else transport.lock()
            if lock is None:  # its follower is writing the hand-back right now
                track.finishing = True
                return RunnerStatus(RunnerState.RUNNING)
            try:
                state = transport.load()
                if state.get("phase") == "collected":
                    wpsproxy.finish(Path(transport.jobdir), transport, state)
                phase = "done"
            except (OSError, wpsproxy.TransportError) as exc:
                log.warning("job in %s: could not complete the hand-back: %s", transport.jobdir, exc)
                return RunnerStatus(RunnerState.EXITED, exit_code=code,
                                    message=f"the job's results could not be handed back: {exc}")
            finally:
                os.close(lock)
        track.finishing = False
        if phase == "done":
            return RunnerStatus(RunnerState.EXITED, exit_code=0, message=self._oom_message(handle, attrs))
        message = self._exit_message(handle, attrs) or (
            f"the WPS server in the container ended before the job did (exit code {code})")
        return RunnerStatus(RunnerState.EXITED, exit_code=code if code else 1, message=message)

    # -- the pool of pre-started single-use containers ------------------------------------------------
    @property
    def pool_root(self) -> Path:
        """Where pool slots live: next to the job directories, so a job's files move in by rename."""
        return Path(self.workdir) / "docker-pool"

    def _pool_kwargs(self, slot: Path, spec: tuple[str, tuple[str, ...] | None] | None = None) -> dict[str, Any]:
        """A pool container on ``slot``: the worker waiting for ``in/job.json``, or (wps, ``spec`` given) the
        image's WPS server, started as a job's would be, behind the idle timer of ``WPS_POOL_SCRIPT``."""
        s = self.settings
        kwargs = self._hardened(s.image, JobDir(slot).indir, JobDir(slot).outdir)
        if spec is None:
            kwargs["command"] = ["python3", "-c", POOL_SCRIPT, s.inp_dir, s.out_dir, f"{s.pool_idle:g}",
                                 *s.pool_preload]
        else:
            image = self._image_config(s.image)
            argv = list(spec[1]) if spec[1] is not None else list(image.get("Cmd") or [])
            kwargs["entrypoint"] = ["/bin/sh", "-c", WPS_POOL_SCRIPT, "pywps-pool", str(math.ceil(s.pool_idle)),
                                    f"{s.inp_dir.rstrip('/')}/{JOB_JSON}"]
            kwargs["command"] = [*(image.get("Entrypoint") or []), *argv]  # what a job's container runs
            kwargs["environment"].update({"PYWPS_CFG": f"{s.inp_dir.rstrip('/')}/{wpsproxy.SERVER_CFG}",
                                          "PYWPS_WPS_SOCKET": s.wps.socket,
                                          "PYWPS_JOB_ID": ""})  # the server starts before its job exists
            kwargs["labels"][LABEL_TRANSPORT] = "wps"
        kwargs["name"] = f"pywps-pool-{slot.name}"
        kwargs["labels"][LABEL_POOL] = self.instance_id
        kwargs["labels"][LABEL_JOBDIR] = str(slot)
        return kwargs

    def _wps_pool_spec(self, job: dict[str, Any]) -> tuple[str, tuple[str, ...] | None] | None:
        """What a wps pool container serves ``job`` with: the in-container server's configuration (of the job's
        ``config`` and ``limits`` only: the same for every job of a server) and its command. None when the
        command depends on the process (``{module}``, ``{identifier}``): then every job starts fresh."""
        s = self.settings
        template = self._image_command(s.image) or s.wps_command
        argv: tuple[str, ...] | None = None
        if template:
            try:
                first, second = (s.wps.argv({"process": {"module": m, "identifier": m}}, template) for m in "ab")
            except wpsproxy.TransportError:
                return None
            if first != second:
                return None
            argv = tuple(first)
        return wpsproxy.server_config(job, s.wps), argv

    @property
    def idle_pool_size(self) -> int:
        """How many pre-started pool containers wait idle for a job right now."""
        with self._lock:
            return len(self._pool)

    def fill_pool(self) -> int:
        """Start pool containers until ``docker_pool_size`` wait idle; return how many were started. With the
        wps transport a container joins the pool once its server answers on its socket."""
        wps = self.settings.transport == "wps"
        started = 0
        while True:
            with self._lock:
                if len(self._pool) + self._pool_pending >= self.settings.pool_size or self._closed:
                    return started
                self._pool_pending += 1
            slot = self.pool_root / uuid.uuid4().hex
            container_id = None
            try:
                spec = self._wps_pool_spec(self._wps_template) if wps else None
                if wps and spec is None:
                    if not self._wps_unpooled_logged:
                        self._wps_unpooled_logged = True
                        log.info("docker pool: the WPS command names the process ({module} or {identifier}); "
                                 "every job starts a fresh container")
                    return started
                slot_dir = JobDir(slot)
                slot_dir.indir.mkdir(parents=True)
                slot_dir.files_dir.mkdir(parents=True)
                prepare_jobdir(slot_dir, self.settings.uid_gid())
                identity = (0, 0)
                if spec is not None:
                    identity = wpsproxy.prepare_server(slot_dir, spec[0], self.settings.uid_gid())
                container_id = self._create(self._pool_kwargs(slot, spec))
                self.client.api.start(container_id)
                if spec is not None:
                    wpsproxy.wait_listening(slot_dir.outdir, identity, self.settings.wps,
                                            self._ops(container_id).state)
                with self._lock:
                    closed = self._closed
                    if not closed:
                        self._pool.append((container_id, slot))
                        if spec is not None:
                            self._pool_wps[container_id] = (spec, identity)
                if closed:  # close() ran meanwhile
                    self.cleanup_force(container_id)
                    shutil.rmtree(slot, ignore_errors=True)
                    return started
                started += 1
            except (*_engine_errors(), OSError, wpsproxy.TransportError) as exc:
                log.warning("could not start a pool container: %s", exc)
                if container_id is not None:
                    try:
                        self.cleanup_force(container_id)
                    except _engine_errors():
                        pass
                shutil.rmtree(slot, ignore_errors=True)
                return started
            finally:
                with self._lock:
                    self._pool_pending -= 1

    def _refill_soon(self) -> None:
        if not self._closed:
            threading.Thread(target=self.fill_pool, name="pywps-docker-pool", daemon=True).start()

    def _start_pooled(self, job_id: str, jobdir: JobDir) -> str | None:
        """Hand the job to an idle pool container: move its ``in/`` over, ``job.json`` last. With the wps
        transport only a container whose server serves the job's configuration and command (and already
        answers on its socket) takes it; None: start a fresh container."""
        wps = self.settings.transport == "wps"
        spec = None
        if wps:
            job = jobdir.read_job()
            spec = self._wps_pool_spec(job)
            if spec is None:
                return None
            if spec != self._wps_pool_spec(self._wps_template):  # the first job (or a new configuration)
                self._wps_template = {"config": job.get("config"), "limits": job.get("limits")}
        if not self._pool_started:
            self._pool_started = True
            atexit.register(self.close)
            if not wps:  # a wps server's start-up takes seconds: the job does not wait for it (filled below)
                self.fill_pool()
        slot, handle, served = None, "", None
        while slot is None:
            with self._lock:
                if not self._pool:
                    break
                handle, candidate = self._pool.pop(0)
                served = self._pool_wps.pop(handle, None)
            attrs = self._inspect_quiet(handle)
            status = (attrs or {}).get("State", {}).get("Status", "gone")
            if wps and (served is None or served[0] != spec):
                why = "for another configuration"
            elif status != "running":  # an idle container that timed out or died
                why = status
            elif (candidate / "jobdir").exists():  # never a second job in one container
                why = "already used"
            else:
                slot = candidate
                continue
            log.warning("pool container %s is %s; discarded", handle[:12], why)
            try:
                self.cleanup_force(handle)
            except _engine_errors():  # the engine does not answer: reap removes it later
                pass
            shutil.rmtree(candidate, ignore_errors=True)
        self._refill_soon()
        if slot is None:
            return None
        try:
            target = JobDir(slot)
            if served is not None:  # the follower's state first: whatever happens next, it knows the socket
                assert jobdir.path is not None
                wpsproxy.Transport(jobdir.path).create(served[1])
            (slot / "jobdir").write_text(f"{job_id}\n{jobdir.path}\n")
            out, inp = jobdir.outdir, jobdir.indir
            for entry in sorted(out.iterdir()):  # normally none: out/ is made empty
                if entry.is_dir() and not any(entry.iterdir()):
                    entry.rmdir()
                else:
                    os.rename(entry, target.outdir / entry.name)
            out.rmdir()
            out.symlink_to(target.outdir)
            entries = [e for e in inp.iterdir() if e.name != JOB_JSON]
            for entry in entries:
                os.rename(entry, target.indir / entry.name)
            os.rename(inp / JOB_JSON, target.indir / JOB_JSON)  # worker: it starts now; wps: no idle stop
            inp.rmdir()
            inp.symlink_to(target.indir)
        except OSError as exc:
            log.warning("could not hand job %s to pool container %s: %s", job_id, handle[:12], exc)
            self.cleanup_force(handle)
            if served is not None and jobdir.path is not None:
                wpsproxy.Transport(jobdir.path).remove()
            raise NoApplicableCode(f"docker pool: could not hand the job over: {exc}") from None
        with self._lock:
            self._tracks[handle] = _Track(started=time.time(), pooled=True, transport=self.settings.transport,
                                          jobdir=str(Path(jobdir.path).absolute()) if wps and jobdir.path else None,
                                          labelled=True)
        log.info("job %s: handed to pool container %s", job_id, handle[:12])
        return handle

    def _inspect_quiet(self, handle: str) -> dict[str, Any] | None:
        try:
            return self._inspect(handle)
        except _engine_errors():
            return None

    def close(self) -> None:
        """Remove this server's idle pool containers (at exit); running jobs are not touched."""
        with self._lock:
            self._closed = True
        deadline = time.monotonic() + 15
        while self._pool_pending and time.monotonic() < deadline:  # a refill in flight finishes first
            time.sleep(0.02)
        with self._lock:
            idle, self._pool = self._pool, []
            self._pool_wps.clear()
            followers = list(self._followers.values())
        for follower in followers:  # their containers go on; a later follower resumes from the saved state
            follower.stop()
        for handle, slot in idle:
            try:
                self.cleanup_force(handle)
            except _engine_errors():
                pass
            shutil.rmtree(slot, ignore_errors=True)

    def _materialize(self, handle: str, attrs: dict[str, Any] | None) -> None:
        """After a pooled job: make its job directory whole again (symlinks -> the slot's directories)."""
        labels = ((attrs or {}).get("Config") or {}).get("Labels") or {}
        slot_text = labels.get(LABEL_JOBDIR) if LABEL_POOL in labels else None
        if not slot_text:
            return
        slot = Path(slot_text)
        try:
            _job_id, jobdir_text = (slot / "jobdir").read_text().splitlines()[:2]
        except (OSError, ValueError):
            shutil.rmtree(slot, ignore_errors=True)
            return
        jobdir, slot_dir = JobDir(jobdir_text), JobDir(slot)
        for link, moved in ((jobdir.indir, slot_dir.indir), (jobdir.outdir, slot_dir.outdir)):
            if link.is_symlink() and moved.is_dir():
                link.unlink()
                os.rename(moved, link)
        shutil.rmtree(slot, ignore_errors=True)

    _HOST_KEYS = ("mounts", "network_mode", "read_only", "tmpfs", "cap_drop", "security_opt", "pids_limit",
                  "mem_limit", "memswap_limit", "nano_cpus", "init")

    def _create(self, kwargs: dict[str, Any]) -> str:
        """Create a container from ``containers.create``-style arguments in one API call; its id."""
        api = self.client.api
        rest = {k: v for k, v in kwargs.items() if k not in self._HOST_KEYS}
        host_config = api.create_host_config(**{k: kwargs[k] for k in self._HOST_KEYS if k in kwargs})
        return str(api.create_container(host_config=host_config, **rest)["Id"])

    def _existing(self, name: str, job_id: str) -> tuple[str, bool]:
        """The container a previous start of the same job left, and whether it still needs starting."""
        attrs = self.client.api.inspect_container(name)
        if (attrs["Config"].get("Labels") or {}).get(LABEL_JOB) != job_id:
            raise NoApplicableCode(f"a container named {name!r} exists and is not job {job_id}'s")
        return str(attrs["Id"]), attrs["State"].get("Status") == "created"

    def _track(self, handle: str, attrs: dict[str, Any] | None = None) -> _Track:
        with self._lock:
            track = self._tracks.get(handle)
            if track is None:
                track = self._tracks[handle] = _Track()
            if track.started is None and attrs is not None and "State" in attrs:
                track.started = _pool_assigned(attrs) or _timestamp(attrs.get("State", {}).get("StartedAt", ""))
            if not track.labelled and attrs is not None:
                labels = (attrs.get("Config") or {}).get("Labels") or {}
                track.transport = labels.get(LABEL_TRANSPORT, "worker")
                track.jobdir = _wps_jobdir(labels)
                track.labelled = track.transport != "wps" or track.jobdir is not None
            return track

    def _inspect(self, handle: str) -> dict[str, Any] | None:
        """``docker inspect`` of a container, None if it does not exist."""
        import docker.errors

        try:
            return self.client.api.inspect_container(handle)
        except docker.errors.NotFound:
            return None

    def poll(self, handle: str) -> RunnerStatus:
        """The state of one container, enforcing the wall-clock limit on the way."""
        try:
            attrs = self._inspect(handle)
        except _engine_errors() as exc:
            return self._engine_down([handle], exc)[handle]
        self._engine_down_since = None
        if attrs is None:
            return RunnerStatus(RunnerState.LOST, message="killed: the job's container is gone")
        return self._status(handle, attrs["State"].get("Status", ""), attrs)

    def poll_many(self, handles: list[str]) -> dict[str, RunnerStatus]:
        """Report on several containers with one list call (plus an inspect for each that ended)."""
        if not handles:
            return {}
        try:
            listed = self.client.api.containers(all=True, filters={"label": LABEL_INSTANCE})
        except _engine_errors() as exc:
            return self._engine_down(handles, exc)
        self._engine_down_since = None
        states = {c["Id"]: c.get("State", "") for c in listed}
        result: dict[str, RunnerStatus] = {}
        for handle in handles:
            state = states.get(handle)
            if state is None:
                match = [cid for cid in states if cid.startswith(handle)]
                state = states[match[0]] if len(match) == 1 else None
            if state is None:
                result[handle] = RunnerStatus(RunnerState.LOST, message="killed: the job's container is gone")
            elif state in ("exited", "dead") or handle not in self._tracks:
                result[handle] = self.poll(handle)
            else:
                result[handle] = self._status(handle, state, None)
        return result

    def _engine_down(self, handles: list[str], exc: BaseException) -> dict[str, RunnerStatus]:
        """The engine does not answer. Its containers may live on (a restart with live-restore, or one within
        seconds), so for ``docker_engine_grace`` seconds the jobs stay running and are found again when it
        answers; after that they end, saying why."""
        now = time.monotonic()
        if self._engine_down_since is None:
            self._engine_down_since = now
        down = now - self._engine_down_since
        message = str(self._engine_error(exc).description)
        if down >= self.settings.engine_grace:
            lost = RunnerStatus(RunnerState.LOST, message=f"{message} (for {down:.0f} s, more than "
                                                          f"[processing] docker_engine_grace)")
            return dict.fromkeys(handles, lost)
        return dict.fromkeys(handles, RunnerStatus(RunnerState.RUNNING, message=f"{message}; waiting for it"))

    def _status(self, handle: str, state: str, attrs: dict[str, Any] | None) -> RunnerStatus:
        track = self._track(handle, attrs)
        if state == "created":
            return RunnerStatus(RunnerState.PENDING)
        if state == "paused":
            if track.paused_at is None:  # paused elsewhere (the pywps jobs CLI): stop the clock from now
                track.paused_at = time.time()
            return RunnerStatus(RunnerState.PAUSED)
        if track.paused_at is not None:  # resumed elsewhere
            track.paused_total += time.time() - track.paused_at
            track.paused_at = None
        if state in ("running", "restarting"):
            if not track.pids_hit and self.settings.pids_limit > 0:
                track.pids_hit = bool(_pids_events(handle))
            limit = self._time_limit(attrs)
            if limit > 0 and track.started is not None:
                elapsed = time.time() - track.started - track.paused_total
                if elapsed > limit:
                    self._kill(handle, f"killed: time limit {limit:g} s")
                    return self.poll(handle)
            if track.transport == "wps":
                self._follow(handle)
            return RunnerStatus(RunnerState.RUNNING)
        if attrs is None:
            attrs = self._inspect(handle)
            if attrs is None:
                return RunnerStatus(RunnerState.LOST, message="killed: the job's container is gone")
        if track.transport == "wps":
            return self._wps_exited(handle, attrs)
        code = attrs["State"].get("ExitCode")
        return RunnerStatus(RunnerState.EXITED, exit_code=code, message=self._exit_message(handle, attrs))

    def _time_limit(self, attrs: dict[str, Any] | None) -> float:
        labels = (attrs or {}).get("Config", {}).get("Labels") or {}
        try:
            return float(labels.get(LABEL_TIME_LIMIT, self.settings.time_limit))
        except ValueError:
            return self.settings.time_limit

    def _exit_message(self, handle: str, attrs: dict[str, Any]) -> str:
        """Why the container ended, when the host can tell: OOM, time limit, cancel, pids limit."""
        state, labels = attrs["State"], attrs.get("Config", {}).get("Labels") or {}
        code = state.get("ExitCode")
        track = self._track(handle, attrs)
        if track.reason:
            return track.reason
        if code == 0:
            return ""
        if state.get("OOMKilled"):
            limit = int(labels.get(LABEL_MEMORY, self.settings.memory) or 0)
            return f"killed: out of memory (limit {_mib(limit)})"
        limit = self._time_limit(attrs)
        started = _pool_assigned(attrs) or _timestamp(state.get("StartedAt", ""))
        finished = _timestamp(state.get("FinishedAt", ""))
        if code == 137 and limit > 0 and started and finished and finished - started >= limit:
            return f"killed: time limit {limit:g} s"
        if code == 137 and self._podman and _oom_in_kernel_log(handle):
            limit = int(labels.get(LABEL_MEMORY, self.settings.memory) or 0)
            return f"killed: out of memory (limit {_mib(limit)})"
        if track.pids_hit:
            pids = labels.get(LABEL_PIDS, self.settings.pids_limit)
            return f"pids limit {pids} reached: the process could not start more processes"
        if code == 137:
            return "killed (SIGKILL)"
        if state.get("Error"):
            return f"container error: {state['Error']}"
        return ""

    def _kill(self, handle: str, reason: str) -> None:
        import docker.errors

        track = self._track(handle)
        if not track.reason:
            track.reason = reason
        try:
            self.client.api.kill(handle)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            if exc.status_code != 409:  # 409: not running any more
                raise
        log.info("container %s: %s", handle[:12], reason)

    def cancel(self, handle: str) -> None:
        """Kill the container at once (SIGKILL, also when paused); idempotent."""
        attrs = self._inspect(handle)
        if attrs is None or attrs["State"].get("Status") in ("exited", "dead"):
            return
        self._kill(handle, "killed: cancelled")

    def wait(self, handle: str, timeout: float | None = None) -> RunnerStatus:
        """Block on the engine's wait (in 1 s slices that also enforce the time limit) until the end."""
        deadline = None if timeout is None else time.monotonic() + timeout
        status = RunnerStatus(RunnerState.RUNNING)
        while True:
            left = _WAIT_CHUNK if deadline is None else min(_WAIT_CHUNK, deadline - time.monotonic())
            with self._lock:
                follower = self._followers.get(handle)
                track = self._tracks.get(handle)
            if status.state == RunnerState.PAUSED:
                time.sleep(max(0.0, min(left, 0.25)))
            elif follower is not None and follower.is_alive():  # wps: the follower ends the container
                follower.finished.wait(max(0.0, left))
            elif track is not None and track.finishing:  # wps: another process writes the hand-back
                time.sleep(max(0.0, min(left, 0.05)))
            elif left > 0:
                try:
                    self.client.api.wait(handle, timeout=left)
                except _engine_errors():  # the read timeout of a slice, or the container is gone: poll tells
                    pass
            status = self.poll(handle)  # also enforces the time limit
            if status.state in (RunnerState.EXITED, RunnerState.LOST):
                return status
            if deadline is not None and time.monotonic() >= deadline:
                return status

    def pause(self, handle: str) -> None:
        """Freeze every process of the job (``docker pause``)."""
        import docker.errors

        try:
            self.client.api.pause(handle)
        except docker.errors.NotFound:
            raise NoApplicableCode("the job's container is gone", locator="pause") from None
        except docker.errors.APIError as exc:
            raise NoApplicableCode(f"cannot pause the job: {exc.explanation or exc}", locator="pause") from None
        track = self._track(handle)
        if track.paused_at is None:
            track.paused_at = time.time()

    def resume(self, handle: str) -> None:
        """Thaw a paused job (``docker unpause``); paused time does not count towards the time limit."""
        import docker.errors

        try:
            self.client.api.unpause(handle)
        except docker.errors.NotFound:
            raise NoApplicableCode("the job's container is gone", locator="resume") from None
        except docker.errors.APIError as exc:
            raise NoApplicableCode(f"cannot resume the job: {exc.explanation or exc}", locator="resume") \
                from None
        track = self._track(handle)
        if track.paused_at is not None:
            track.paused_total += time.time() - track.paused_at
            track.paused_at = None

    def cleanup(self, handle: str) -> None:
        """Remove the container and its anonymous volumes unless ``docker_keep_containers``; idempotent."""
        import docker.errors

        with self._lock:
            track = self._tracks.pop(handle, None)
            follower = self._followers.pop(handle, None)
            self._follow_tried.pop(handle, None)
        if follower is not None:
            follower.stop()
        attrs = None
        if track is None or track.pooled is not False:
            try:
                attrs = self._inspect(handle)
            except docker.errors.NotFound:
                pass
        labels = ((attrs or {}).get("Config") or {}).get("Labels") or {}
        jobdir = track.jobdir if track is not None and track.transport == "wps" else _wps_jobdir(labels)
        self._materialize(handle, attrs)  # a pooled job's directory whole again (the slot names it)
        if jobdir:
            wpsproxy.Transport(jobdir).remove()
        if self.settings.keep_containers:
            return
        try:
            self.client.api.remove_container(handle, v=True, force=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            if exc.status_code != 409:  # 409: removal already in progress
                log.warning("could not remove container %s: %s", handle[:12], exc)

    def adopt(self, handles: list[str]) -> None:
        """Re-attach to containers another (gone) server started: they keep running and are polled as ours."""
        for handle in handles:
            try:
                attrs = self._inspect(handle)
            except _engine_errors() as exc:
                log.warning("cannot adopt container %s: %s", handle[:12], exc)
                continue
            if attrs is not None:
                track = self._track(handle, attrs)
                log.info("adopted container %s of job %s", handle[:12],
                         (attrs.get("Config", {}).get("Labels") or {}).get(LABEL_JOB))
                if track.transport == "wps" and attrs["State"].get("Status") in ("running", "paused", "created"):
                    self._follow(handle)

    # -- beyond the Processing interface -------------------------------------------------------------
    def containers(self, instance: str | None = None) -> list[dict[str, Any]]:
        """Summaries (``docker ps -a``) of all job containers, or of one server instance's."""
        label = LABEL_JOB if instance is None else f"{LABEL_INSTANCE}={instance}"
        return list(self.client.api.containers(all=True, filters={"label": label}))

    def reap(self, active_job_ids: Iterable[str], live_instances: Iterable[str] | None = None,
             instances: Iterable[str] | None = None, min_age: float = 0) -> list[str]:
        """Remove job containers whose job is not in ``active_job_ids`` (unknown or finished); their ids.

        Idle pool containers are removed when they have exited, or when ``live_instances`` is given and
        the server instance that started them is not in it. ``instances`` limits the sweep to the
        containers of those server instances (default: every pywps container of the engine). Containers
        younger than ``min_age`` seconds are left alone (their job may have been claimed since the caller
        read ``active_job_ids``).
        """
        active = set(active_job_ids)
        live = None if live_instances is None else {*live_instances, self.instance_id}
        labels_wanted = [LABEL_INSTANCE] if instances is None else [f"{LABEL_INSTANCE}={i}" for i in instances]
        try:
            summaries = [c for label in labels_wanted
                         for c in self.client.api.containers(all=True, filters={"label": label})]
        except _engine_errors() as exc:  # the engine is away: nothing to sweep now (polls report the outage)
            log.debug("reap skipped: %s", self._engine_error(exc).description)
            return []
        removed = []
        for summary in summaries:
            if min_age and time.time() - float(summary.get("Created") or 0) < min_age:
                continue
            labels = summary.get("Labels") or {}
            ended = summary.get("State") in ("exited", "dead")
            if LABEL_POOL in labels:
                job_id = _pool_job(labels)
                if job_id is None:
                    if summary["Id"] in {h for h, _ in self._pool}:
                        continue
                    if ended or (live is not None and labels.get(LABEL_INSTANCE) not in live):
                        self.cleanup_force(summary["Id"])
                        shutil.rmtree(labels.get(LABEL_JOBDIR, "/nonexistent"), ignore_errors=True)
                        removed.append(summary["Id"])
                    continue
            else:
                job_id = labels.get(LABEL_JOB)
            if job_id in active:
                continue
            if self.settings.keep_containers and ended:
                continue
            self._materialize(summary["Id"], {"Config": {"Labels": labels}})
            self.cleanup_force(summary["Id"])
            removed.append(summary["Id"])
            log.info("reaped container %s of job %s", summary["Id"][:12], job_id)
        return removed

    def cleanup_force(self, handle: str) -> None:
        """Remove a container even when ``docker_keep_containers`` is set."""
        import docker.errors

        with self._lock:
            self._tracks.pop(handle, None)
            self._pool_wps.pop(handle, None)
            follower = self._followers.pop(handle, None)
        if follower is not None:
            follower.stop()
        try:
            self.client.api.remove_container(handle, v=True, force=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            log.warning("could not remove container %s: %s", handle[:12], exc)
