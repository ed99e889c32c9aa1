#!/usr/bin/env bash
# Docker engine for tests and the offline worker image.
#   start  install docker.io + debootstrap if missing, start dockerd (--live-restore) in the background, wait for `docker info`
#   image  build the base image (debootstrap, cached under /var/cache/pywps) and pywps-worker:latest offline
#   all    start + image
#   stop   stop dockerd if this script started it (SIGTERM, wait); `stop --force` stops it anyway
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOG=/var/log/dockerd.log
PIDFILE=/var/run/docker.pid
MARKER=/var/run/pywps-docker-engine.started   # dockerd was started by this script (so `stop` may stop it)

engine_up() { timeout 10 docker info >/dev/null 2>&1; }

install_packages() {
    local missing=()
    command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
    command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "docker-engine: installing ${missing[*]}"
    # keep postinst from trying to start services (no init system here)
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# a pidfile whose process is gone or a zombie must not make dockerd/containerd reuse it
clear_stale_pidfile() {
    local file="$1" name="$2" pid state
    [ -f "$file" ] || return 0
    pid="$(cat "$file" 2>/dev/null || true)"
    if [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$name" ]; then
        state="$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo Z)"
        [ "$state" != "Z" ] && return 0
    fi
    rm -f "$file"
}

start() {
    install_packages
    if engine_up; then
        echo "docker-engine: already running"
        return 0
    fi
    clear_stale_pidfile "$PIDFILE" dockerd
    clear_stale_pidfile /var/run/docker/containerd/containerd.pid containerd
    if [ ! -f "$PIDFILE" ]; then
        rm -f /var/run/docker.sock
        setsid nohup /usr/sbin/dockerd --log-level=warn --live-restore >>"$LOG" 2>&1 </dev/null &
        touch "$MARKER"
    fi
    for _ in $(seq 240); do
        engine_up && { echo "docker-engine: up"; return 0; }
        sleep 0.5
    done
    echo "docker-engine: dockerd did not come up; last log lines:" >&2
    tail -n 20 "$LOG" >&2 || true
    return 1
}

stop() {
    local pid
    if [ ! -f "$MARKER" ] && [ "${1:-}" != "--force" ]; then
        echo "docker-engine: left running (not started by this script; use stop --force)"
        return 0
    fi
    rm -f "$MARKER"
    [ -f "$PIDFILE" ] || { echo "docker-engine: not running"; return 0; }
    pid="$(cat "$PIDFILE")"
    if [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = dockerd ]; then
        kill -TERM "$pid"
        for _ in $(seq 60); do
            [ -d "/proc/$pid" ] && [ "$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null)" != Z ] \
                || break
            sleep 0.5
        done
    fi
    rm -f "$PIDFILE"
    echo "docker-engine: stopped"
}

# the project's virtualenv when there is one (it has the docker SDK), else the system python
python_bin() {
    local venv="$HERE/${PYWPS_VENV:-.venv}/bin/python"
    if [ -n "${PYWPS_PYTHON:-}" ]; then echo "$PYWPS_PYTHON"
    elif [ -x "$venv" ]; then echo "$venv"
    else echo python3
    fi
}

image() {
    engine_up || start
    cd "$HERE"
    local py
    py="$(python_bin)"
    if ! "$py" -c "import docker" 2>/dev/null; then
        echo "docker-engine: $py has no docker SDK; pip install docker (or ./dev test sets up .venv)" >&2
        return 1
    fi
    "$py" -m pywps.imagebuild build --worker
}

case "${1:-}" in
    start) start ;;
    stop) stop "${2:-}" ;;
    image) image ;;
    all) start; image ;;
    *) echo "usage: $0 start|stop|image|all" >&2; exit 2 ;;
esac
