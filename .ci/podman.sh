#!/usr/bin/env bash
# Podman's Docker-compatible API for the docker-mode tests (rootful, no systemd needed).
#   start  install podman + catatonit from Debian if missing, write a containers.conf for this host, start
#          `podman system service` on $SOCKET in the background; prints DOCKER_HOST for it as the last line
#   image  build pywps-worker:latest in Podman's own image store, offline (pywps/imagebuild.py through the API)
#   stop   stop the service if this script started it (`stop --force`: anyway)
# Use: DOCKER_HOST=unix:///run/pywps-podman/podman.sock, then [processing] mode = docker as on Docker.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUNDIR=/run/pywps-podman
SOCKET=$RUNDIR/podman.sock
PIDFILE=$RUNDIR/service.pid
MARKER=$RUNDIR/started             # the service was started by this script (so `stop` may stop it)
CONF=$RUNDIR/containers.conf
LOG=/var/log/pywps-podman.log
export CONTAINERS_CONF=$CONF

api_up() {
    [ -S "$SOCKET" ] && "$(python_bin)" - "$SOCKET" <<'EOF' >/dev/null 2>&1
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])
s.sendall(b"GET /_ping HTTP/1.0\r\nHost: d\r\n\r\n"); sys.exit(0 if b" 200 " in s.recv(200) else 1)
EOF
}

python_bin() {
    local venv="$HERE/${PYWPS_VENV:-.venv}/bin/python"
    if [ -n "${PYWPS_PYTHON:-}" ]; then echo "$PYWPS_PYTHON"
    elif [ -x "$venv" ]; then echo "$venv"
    else echo python3
    fi
}

install_packages() {
    local missing=()
    command -v podman >/dev/null 2>&1 || missing+=(podman)
    [ -x /usr/libexec/podman/catatonit ] || missing+=(catatonit)   # --init (docker_init = true)
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "podman: installing ${missing[*]}" >&2
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# No systemd here: cgroupfs and a file for events. Podman sets the containers' nofile/nproc limits itself
# (Docker inherits dockerd's); without CAP_SYS_RESOURCE it may not raise them above this shell's, so the
# defaults are the host's own hard limits (nproc capped like conmon's: 32768).
write_conf() {
    local nofile nproc
    nofile="$(ulimit -Hn)"; [ "$nofile" = unlimited ] && nofile=1048576
    nproc="$(ulimit -Hu)"; { [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; } && nproc=32768
    mkdir -p "$RUNDIR"
    cat >"$CONF" <<EOF
# written by .ci/podman.sh
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
EOF
}

start() {
    if [ "$(id -u)" != 0 ]; then
        echo "podman: rootful Podman needs root (see docs/docker.md for rootless use)" >&2
        return 1
    fi
    install_packages
    write_conf
    if api_up; then
        echo "podman: already running" >&2
        echo "unix://$SOCKET"
        return 0
    fi
    rm -f "$SOCKET"
    setsid nohup podman system service --time=0 "unix://$SOCKET" >>"$LOG" 2>&1 </dev/null &
    echo $! >"$PIDFILE"
    touch "$MARKER"
    for _ in $(seq 120); do
        if api_up; then
            echo "podman: up" >&2
            echo "unix://$SOCKET"
            return 0
        fi
        sleep 0.25
    done
    echo "podman: the API service did not come up; last log lines:" >&2
    tail -n 20 "$LOG" >&2 || true
    return 1
}

stop() {
    local pid
    if [ ! -f "$MARKER" ] && [ "${1:-}" != "--force" ]; then
        echo "podman: left running (not started by this script; use stop --force)"
        return 0
    fi
    rm -f "$MARKER"
    [ -f "$PIDFILE" ] || { echo "podman: not running"; return 0; }
    pid="$(cat "$PIDFILE")"
    if [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = podman ]; then
        kill -TERM "$pid"
        for _ in $(seq 40); do
            [ -d "/proc/$pid" ] && [ "$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null)" != Z ] \
                || break
            sleep 0.25
        done
    fi
    rm -f "$PIDFILE" "$SOCKET"
    echo "podman: stopped"
}

image() {
    api_up || start >/dev/null
    cd "$HERE"
    local py
    py="$(python_bin)"
    if ! "$py" -c "import docker" 2>/dev/null; then
        echo "podman: $py has no docker SDK; pip install docker (or ./dev test sets up .venv)" >&2
        return 1
    fi
    DOCKER_HOST="unix://$SOCKET" "$py" -m pywps.imagebuild build --worker
}

case "${1:-}" in
    start) start ;;
    stop) stop "${2:-}" ;;
    image) image ;;
    all) start; image ;;
    *) echo "usage: $0 start|stop|image|all" >&2; exit 2 ;;
esac
