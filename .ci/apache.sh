#!/usr/bin/env bash
# Apache httpd + mod_wsgi serving PyWPS exactly as docs/deploy.md says, for tests/deploy/test_apache.py.
#   start   install apache2 + libapache2-mod-wsgi-py3 if missing, build the venv from /usr/bin/python3 with
#           this checkout installed, copy docs/apache/pywps.conf and docs/pywps.wsgi unchanged, start a
#           separate Apache instance (Debian multi-instance: /etc/apache2-pywps-ci) on 127.0.0.1
#   stop    stop that instance (jobs it forked end by themselves)
#   env     print the instance's settings (PYWPS_TEST_APACHE_* lines) for the tests
# Only paths differ from the documented ones, through the Defines that docs/apache/pywps.conf documents.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOT="${PYWPS_APACHE_ROOT:-/var/lib/pywps-apache-ci}"
INSTANCE=pywps-ci
CONFDIR="/etc/apache2-$INSTANCE"
LOGDIR="/var/log/apache2-$INSTANCE"
ENVFILE="$ROOT/test.env"

say() { echo "apache.sh: $*" >&2; }
ctl() { APACHE_CONFDIR="$CONFDIR" apache2ctl "$@"; }

install_packages() {
    local missing=()
    [ -x /usr/sbin/apache2 ] || missing+=(apache2)
    [ -f /usr/lib/apache2/modules/mod_wsgi.so ] || missing+=(libapache2-mod-wsgi-py3)
    /usr/bin/python3 -c "import ensurepip, venv" 2>/dev/null || missing+=(python3-venv)
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing ${missing[*]}"
    if [ ! -e /usr/sbin/policy-rc.d ]; then  # keep postinst from starting the system's Apache
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

free_port() {
    /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# docs/deploy.md, "Apache mod_wsgi", steps 1-3: user, venv from the Python mod_wsgi embeds, directories
install_pywps() {
    id pywps >/dev/null 2>&1 || useradd --system --user-group --home-dir /var/lib/pywps --no-create-home \
        --shell /usr/sbin/nologin pywps
    mkdir -p "$ROOT/etc" "$ROOT/home"
    if [ ! -x "$ROOT/venv/bin/python" ] || ! "$ROOT/venv/bin/python" -c pass 2>/dev/null; then
        rm -rf "$ROOT/venv"
        /usr/bin/python3 -m venv "$ROOT/venv"
        "$ROOT/venv/bin/pip" install -q --disable-pip-version-check --upgrade pip
    fi
    # a copy of the checkout: pip builds in the source tree, which must stay clean
    local src
    src="$(mktemp -d)"
    cp -r "$HERE/pywps" "$HERE/setup.py" "$HERE/pyproject.toml" "$HERE/README.md" "$src/"
    find "$src" -name __pycache__ -prune -exec rm -rf {} +
    "$ROOT/venv/bin/pip" install -q --disable-pip-version-check "$src"               # dependencies (cached)
    "$ROOT/venv/bin/pip" install -q --disable-pip-version-check --no-deps --force-reinstall "$src"  # this code
    rm -rf "$src"
    cp "$HERE/docs/pywps.wsgi" "$ROOT/etc/pywps.wsgi"
    rm -rf "$ROOT/home/work" "$ROOT/home/outputs"
    mkdir -p "$ROOT/home/work" "$ROOT/home/outputs"
    chown -R pywps:pywps "$ROOT/home"
    chmod 755 "$ROOT" "$ROOT/etc" "$ROOT/home"
}

write_cfg() {
    local port="$1"
    cat >"$ROOT/etc/pywps.cfg" <<EOF
[server]
url = http://127.0.0.1:$port/wps
outputurl = http://127.0.0.1:$port/outputs/
workdir = $ROOT/home/work
outputpath = $ROOT/home/outputs
parallelprocesses = 2
maxprocesses = 30

[jobs]
poll_interval = 0.25
stale_after = 10

[logging]
level = INFO

[metrics]
enabled = true
EOF
    chmod 644 "$ROOT/etc/pywps.cfg"
}

# a separate instance (Debian's apache2ctl reads APACHE_CONFDIR): the machine's own Apache is not touched
write_instance() {
    local port="$1"
    rm -rf "$CONFDIR"
    cp -a /etc/apache2 "$CONFDIR"
    rm -f "$CONFDIR"/sites-enabled/* "$CONFDIR"/conf-enabled/pywps*.conf "$CONFDIR"/conf-enabled/00-pywps*.conf
    printf 'Listen 127.0.0.1:%s\n' "$port" >"$CONFDIR/ports.conf"
    for mod in wsgi headers; do
        for ext in load conf; do
            [ -f "$CONFDIR/mods-available/$mod.$ext" ] && ln -sf "../mods-available/$mod.$ext" "$CONFDIR/mods-enabled/$mod.$ext"
        done
    done
    # the documented paths, Defined before pywps.conf is read (conf-enabled/*.conf are read in order)
    cat >"$CONFDIR/conf-available/00-pywps-paths.conf" <<EOF
ServerName 127.0.0.1
Define PYWPS_VENV $ROOT/venv
Define PYWPS_ETC $ROOT/etc
Define PYWPS_HOME $ROOT/home
EOF
    cp "$HERE/docs/apache/pywps.conf" "$CONFDIR/conf-available/pywps.conf"   # unchanged
    ln -sf ../conf-available/00-pywps-paths.conf "$CONFDIR/conf-enabled/00-pywps-paths.conf"
    ln -sf ../conf-available/pywps.conf "$CONFDIR/conf-enabled/pywps.conf"
    mkdir -p "$LOGDIR"
    : >"$LOGDIR/error.log"
}

running() { [ -f "/var/run/apache2-$INSTANCE/apache2.pid" ] && kill -0 "$(cat "/var/run/apache2-$INSTANCE/apache2.pid")" 2>/dev/null; }

stop() {
    if [ -d "$CONFDIR" ] && running; then
        local pid
        pid="$(cat "/var/run/apache2-$INSTANCE/apache2.pid")"
        ctl stop || true
        # the parent removes its pid file first and exits once its children are gone
        for _ in $(seq 300); do
            [ -d "/proc/$pid" ] && [ "$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null)" != Z ] || break
            sleep 0.1
        done
    fi
    rm -f "/var/run/apache2-$INSTANCE/apache2.pid"
    say "stopped"
}

start() {
    install_packages
    stop >/dev/null 2>&1 || true
    local port
    port="${PYWPS_APACHE_PORT:-$(free_port)}"
    install_pywps
    write_cfg "$port"
    write_instance "$port"
    ctl configtest >/dev/null 2>&1 || { ctl configtest; exit 1; }
    ctl start
    local url="http://127.0.0.1:$port"
    for _ in $(seq 300); do
        if /usr/bin/python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=2)" \
            "$url/wps/health" 2>/dev/null; then
            cat >"$ENVFILE" <<EOF
PYWPS_TEST_APACHE_URL=$url
PYWPS_TEST_APACHE_CONFDIR=$CONFDIR
PYWPS_TEST_APACHE_ERROR_LOG=$LOGDIR/error.log
PYWPS_TEST_APACHE_ROOT=$ROOT
EOF
            say "up at $url/wps"
            echo "$ENVFILE"
            return 0
        fi
        sleep 0.2
    done
    say "Apache did not answer; error log:"
    tail -n 40 "$LOGDIR/error.log" >&2 || true
    exit 1
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    env) cat "$ENVFILE" ;;
    *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
