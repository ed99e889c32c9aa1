"""Build the container images offline: the Debian base (debootstrap + import), the worker, the server image and
images of a third-party WPS (``docker_transport = wps``, e.g. PyWPS 4.8.1 from PyPI with your processes).

Nothing is pulled from a registry. The base root filesystem comes from the host's Debian mirror and is
cached as a tarball under ``/var/cache/pywps``; Python packages come from a wheelhouse built on the host
(``pip wheel`` of this project and its dependencies), and ``docker build`` runs with ``network_mode=none``.
The same works against Podman's Docker-compatible API (``DOCKER_HOST=unix://...podman.sock``).
Behind the ``pywps image build`` command; also ``python -m pywps.imagebuild``.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

BASE_TAG = "pywps-base:bookworm"
WORKER_TAG = "pywps-worker:latest"
SERVER_TAG = "pywps:latest"
WPS_TAG = "pywps-wps:latest"
# What the worker image holds besides this package: gunicorn serves this project's WPS in the container
# when docker_transport = wps (the default docker_wps_command).
WORKER_EXTRA = ("gunicorn",)
CACHE_DIR = Path("/var/cache/pywps")
SUITE = "bookworm"
BASE_PACKAGES = ("python3", "python3-pip", "python3-venv")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
PROJECT_DIR = Path(__file__).resolve().parent.parent
# Used when the project has no pyproject.toml yet: what the server and the worker import.
FALLBACK_REQUIREMENTS = ("flask", "lxml", "sqlalchemy", "owslib", "requests", "jsonschema", "werkzeug")


class ImageBuildError(RuntimeError):
    """An image could not be built; the message says which step failed and why."""


def _client(timeout: int = 900) -> Any:
    """A Docker SDK client with a timeout long enough for builds."""
    import docker
    import requests

    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException, OSError) as exc:
        raise ImageBuildError(f"the Docker engine is not reachable ({exc}); start it: .ci/docker-engine.sh start") \
            from None
    return client


def image_exists(client: Any, tag: str) -> bool:
    """True if the engine has an image called ``tag``."""
    import docker.errors

    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return True


def apt_mirror() -> str:
    """The Debian mirror the host's apt uses (deb822 or one-line sources), else deb.debian.org."""
    sources = sorted(Path("/etc/apt/sources.list.d").glob("*.sources"))
    for path in sources:
        for line in path.read_text(errors="replace").splitlines():
            if line.startswith("URIs:"):
                for uri in line.split()[1:]:
                    if "security" not in uri:
                        return uri
    for path in [Path("/etc/apt/sources.list"), *Path("/etc/apt/sources.list.d").glob("*.list")]:
        if not path.is_file():
            continue
        for line in path.read_text(errors="replace").splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "deb" and "security" not in parts[-3]:
                uri = next((p for p in parts[1:] if "://" in p), "")
                if uri:
                    return uri
    return DEFAULT_MIRROR


def _run(cmd: list[str], what: str, env: dict[str, str] | None = None) -> None:
    """Run a host command, raising ``ImageBuildError`` with its last output lines on failure."""
    log.info("%s: %s", what, " ".join(cmd))
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, check=False,
                          env=None if env is None else {**os.environ, **env})
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.splitlines()[-15:])
        raise ImageBuildError(f"{what} failed (exit {proc.returncode}):\n{tail}")


def base_tarball(cache_dir: Path = CACHE_DIR, suite: str = SUITE, mirror: str | None = None) -> Path:
    """The cached root filesystem tarball, made with debootstrap if it is not there yet (~1 minute)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    tarball = cache_dir / f"rootfs-{suite}.tar"
    if tarball.is_file():
        return tarball
    if shutil.which("debootstrap") is None:
        raise ImageBuildError("debootstrap is not installed (apt-get install debootstrap)")
    rootfs = cache_dir / "rootfs.tmp"
    complete = (rootfs / "usr/bin/python3").exists() and not (rootfs / "debootstrap").exists()
    if not complete:
        shutil.rmtree(rootfs, ignore_errors=True)
        _run(["debootstrap", "--variant=minbase", "--include=" + ",".join(BASE_PACKAGES), suite, str(rootfs),
              mirror or apt_mirror()], "debootstrap")
    _run(["chroot", str(rootfs), "apt-get", "clean"], "apt-get clean in the rootfs")
    shutil.rmtree(rootfs / "var/lib/apt/lists", ignore_errors=True)
    (rootfs / "var/lib/apt/lists/partial").mkdir(parents=True, exist_ok=True)
    partial = tarball.with_suffix(".tar.part")
    _run(["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(partial), "."], "tar of the rootfs")
    os.replace(partial, tarball)
    shutil.rmtree(rootfs, ignore_errors=True)
    return tarball


def build_base_image(client: Any = None, tag: str = BASE_TAG, cache_dir: Path = CACHE_DIR,
                     suite: str = SUITE, mirror: str | None = None, force: bool = False) -> str:
    """Import the debootstrap root filesystem as ``tag`` unless the engine already has it."""
    client = client or _client()
    if not force and image_exists(client, tag):
        log.info("base image %s exists", tag)
        return tag
    tarball = base_tarball(cache_dir, suite, mirror)
    started = time.monotonic()
    client.api.import_image_from_file(  # the tag inside the repository name: Podman ignores a separate one
        str(tarball), repository=tag if ":" in tag.rsplit("/", 1)[-1] else f"{tag}:latest",
        changes=["ENV LANG=C.UTF-8", 'CMD ["/bin/bash"]'],
    )
    if not image_exists(client, tag):
        raise ImageBuildError(f"docker import of {tarball} did not produce {tag}")
    log.info("imported %s from %s in %.1f s", tag, tarball, time.monotonic() - started)
    return tag


def build_wheelhouse(wheel_dir: Path, project_dir: Path = PROJECT_DIR, extra: Iterable[str] = (),
                     project: bool = True) -> Path:
    """``pip wheel`` this project (unless ``project`` is false), its dependencies and ``extra`` requirements
    into ``wheel_dir``."""
    wheel_dir.mkdir(parents=True, exist_ok=True)
    for old in wheel_dir.glob("*.whl"):
        old.unlink()  # exactly what this build needs: no stale versions next to new ones (pip's cache refills it)
    with tempfile.TemporaryDirectory(prefix="pywps-wheel-") as tmp:
        source = Path(tmp) / "src"  # a copy, so the build leaves no build/ or egg-info in the checkout
        if not project:
            pass
        elif (project_dir / "pyproject.toml").is_file() or (project_dir / "setup.py").is_file():
            shutil.copytree(project_dir / "pywps", source / "pywps",
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            for name in ("pyproject.toml", "setup.py", "setup.cfg", "MANIFEST.in", "README.md", "LICENSE"):
                if (project_dir / name).is_file():
                    shutil.copy2(project_dir / name, source / name)
        else:
            _fallback_project(project_dir, source)
        cmd = [sys.executable, "-m", "pip", "wheel", "--disable-pip-version-check", "-q",
               "--wheel-dir", str(wheel_dir), *([str(source)] if project else []), *extra]
        # fixed timestamps: an unchanged tree gives the same wheel bytes, so docker's layer cache holds
        _run(cmd, "pip wheel", env={"SOURCE_DATE_EPOCH": "315532800"})
    wheels = sorted(p.name for p in wheel_dir.glob("*.whl"))
    if project and not any(name.startswith("pywps-") for name in wheels):
        raise ImageBuildError(f"pip wheel made no pywps wheel in {wheel_dir}")
    log.info("wheelhouse %s: %d wheels", wheel_dir, len(wheels))
    return wheel_dir


def _fallback_project(project_dir: Path, target: Path) -> None:
    """A minimal installable copy of the package for a checkout without packaging metadata."""
    shutil.copytree(project_dir / "pywps", target / "pywps",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    deps = ", ".join(f'"{d}"' for d in FALLBACK_REQUIREMENTS)
    (target / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "pywps"\nversion = "5.0.0.dev0"\ndependencies = [{deps}]\n\n'
        '[tool.setuptools.packages.find]\ninclude = ["pywps*"]\n\n'
        '[tool.setuptools.package-data]\n"*" = ["*.xsd", "*.xml", "*.json", "*.txt", "*.cfg", "**/*"]\n'
    )


def build_image(client: Any, dockerfile: Path, tag: str, wheel_dir: Path, base: str = BASE_TAG,
                files: dict[str, Path] | None = None, labels: dict[str, str] | None = None) -> str:
    """``docker build --network none`` of ``dockerfile`` with ``wheels/`` (and ``files``) as its context."""
    import docker.errors

    with tempfile.TemporaryDirectory(prefix="pywps-ctx-") as tmp:
        ctx = Path(tmp)
        shutil.copy2(dockerfile, ctx / "Dockerfile")
        shutil.copytree(wheel_dir, ctx / "wheels")
        for name, source in (files or {}).items():
            if source.is_dir():
                shutil.copytree(source, ctx / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(source, ctx / name)
        started = time.monotonic()
        try:
            client.images.build(path=str(ctx), tag=tag, network_mode="none", rm=True, forcerm=True,
                                buildargs={"BASE": base}, pull=False, labels=labels or None)
        except docker.errors.BuildError as exc:
            lines = [str(item.get("stream") or item.get("error") or "").rstrip() for item in exc.build_log]
            tail = "\n".join(line for line in lines if line)[-3000:]
            raise ImageBuildError(f"docker build of {tag} failed: {exc.msg}\n{tail}") from None
        except docker.errors.APIError as exc:
            raise ImageBuildError(f"docker build of {tag} failed: {exc.explanation or exc}") from None
    log.info("built %s in %.1f s", tag, time.monotonic() - started)
    try:  # earlier builds of this image, now untagged (not the build stages: they are the layer cache)
        client.images.prune(filters={"dangling": True, "label": "pywps.role"})
    except docker.errors.APIError as exc:
        log.warning("could not prune old images: %s", exc)
    return tag


def build_worker_image(tag: str = WORKER_TAG, project_dir: Path = PROJECT_DIR, cache_dir: Path = CACHE_DIR,
                       extra: Iterable[str] = (), client: Any = None) -> str:
    """The per-job worker image: base image + this package and its dependencies, built offline."""
    client = client or _client()
    base = build_base_image(client, cache_dir=cache_dir)
    wheels = build_wheelhouse(cache_dir / "wheels-worker", project_dir, [*WORKER_EXTRA, *extra])
    return build_image(client, project_dir / "docker" / "worker.Dockerfile", tag, wheels, base)


def build_wps_image(requirements: Iterable[str], tag: str = WPS_TAG, project_dir: Path = PROJECT_DIR,
                    cache_dir: Path = CACHE_DIR, client: Any = None, labels: dict[str, str] | None = None,
                    command: str | None = None) -> str:
    """An image of a third-party WPS for ``docker_transport = wps``: the base image and ``requirements``
    only (e.g. ``pywps==4.8.1 gunicorn ./myprocesses``), not this package; ``docker/wps.Dockerfile``.
    ``command`` is how the image serves its WPS (label ``pywps.wps_command``, used over
    ``[processing] docker_wps_command``), e.g. ``gunicorn --bind unix:{socket} myprocesses.app:application``."""
    requirements = list(requirements)
    labels = {**(labels or {}), **({"pywps.wps_command": command} if command else {})}
    if not requirements:
        raise ImageBuildError("a WPS image needs its requirements (-r pywps==4.8.1 -r gunicorn -r ./myprocs)")
    client = client or _client()
    base = build_base_image(client, cache_dir=cache_dir)
    name = "".join(c if c.isalnum() else "-" for c in tag)
    wheels = build_wheelhouse(cache_dir / f"wheels-wps-{name}", project_dir, requirements, project=False)
    return build_image(client, project_dir / "docker" / "wps.Dockerfile", tag, wheels, base, labels=labels)


def build_server_image(tag: str = SERVER_TAG, project_dir: Path = PROJECT_DIR, cache_dir: Path = CACHE_DIR,
                       extra: Iterable[str] = (), client: Any = None) -> str:
    """The server image (top-level ``Dockerfile``): WPS server with the example processes."""
    client = client or _client()
    base = build_base_image(client, cache_dir=cache_dir)
    wheels = build_wheelhouse(cache_dir / "wheels-server", project_dir, ["gunicorn", *extra])
    return build_image(client, project_dir / "Dockerfile", tag, wheels, base)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``pywps image build``."""
    parser.add_argument("action", nargs="?", choices=["build"], default="build", help="what to do (build)")
    parser.add_argument("--worker", action="store_true", help=f"build the worker image ({WORKER_TAG})")
    parser.add_argument("--server", action="store_true", help=f"build the server image ({SERVER_TAG})")
    parser.add_argument("--wps", action="store_true",
                        help=f"build an image of a third-party WPS from the -r requirements only ({WPS_TAG})")
    parser.add_argument("--wps-command", metavar="CMD",
                        help="with --wps: how the image serves its WPS, e.g. 'gunicorn --bind unix:{socket} "
                             "mypkg.app:application' (image label pywps.wps_command)")
    parser.add_argument("--base-only", action="store_true", help=f"only make sure {BASE_TAG} exists")
    parser.add_argument("--tag", help="tag of the worker (or server) image")
    parser.add_argument("--requirement", "-r", action="append", default=[], metavar="REQ",
                        help="extra requirement for the processes (a wheel is built on the host); repeatable")
    parser.add_argument("--cache-dir", type=Path, default=CACHE_DIR, help="rootfs tarball and wheelhouse")
    parser.add_argument("--force-base", action="store_true", help="re-import the base image")


def run(args: argparse.Namespace, echo: Callable[[str], None] = print) -> int:
    """Carry out ``pywps image build`` with parsed ``args``; return an exit status."""
    try:
        client = _client()
        build_base_image(client, cache_dir=args.cache_dir, force=args.force_base)
        echo(f"base image {BASE_TAG}: ready")
        if args.base_only:
            return 0
        if args.wps:
            tag = build_wps_image(args.requirement, args.tag or WPS_TAG, cache_dir=args.cache_dir, client=client,
                                  command=args.wps_command)
            echo(f"WPS image {tag}: built")
            return 0
        if args.worker or not args.server:
            tag = build_worker_image(args.tag or WORKER_TAG, cache_dir=args.cache_dir,
                                     extra=args.requirement, client=client)
            echo(f"worker image {tag}: built")
        if args.server:
            tag = build_server_image(args.tag if not args.worker and args.tag else SERVER_TAG,
                                     cache_dir=args.cache_dir, extra=args.requirement, client=client)
            echo(f"server image {tag}: built")
    except ImageBuildError as exc:
        echo(f"error: {exc}")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pywps image build", description=__doc__.splitlines()[0])
    add_arguments(parser)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
