#!/usr/bin/env bash
# A throwaway PostgreSQL server for the job store tests.
#
#   .ci/postgres.sh start   start it (installing Debian's postgresql if missing) and print its SQLAlchemy URL
#   .ci/postgres.sh url     print the URL of the running server (exit 1 when none runs)
#   .ci/postgres.sh env     like start, but print `export PYWPS_TEST_PG_URL=...` for eval
#   .ci/postgres.sh stop    stop it and remove its files
#
# The cluster lives in $PYWPS_PG_DIR (default: $TMPDIR/pywps-ci-postgres), listens on 127.0.0.1 on a free
# port and on a unix socket in that directory, trusts local connections, and runs with fsync off: it is
# for tests only. As root it runs as the `postgres` user. Idempotent: start on a running server only
# prints the URL; stop on a stopped one does nothing. Only the URL goes to stdout.
set -euo pipefail

DIR="${PYWPS_PG_DIR:-${TMPDIR:-/tmp}/pywps-ci-postgres}"
DB="${PYWPS_PG_DB:-pywps_test}"
PGUSER_NAME=postgres

say() { echo "postgres.sh: $*" >&2; }

bindir() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$d" ] && command -v pg_config >/dev/null 2>&1; then
        d=$(pg_config --bindir)
    fi
    [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && echo "$d"
}

ensure_installed() {
    if bindir >/dev/null; then return; fi
    if [ "$(id -u)" != 0 ]; then
        say "PostgreSQL is not installed; run as root or: apt-get install postgresql"; exit 1
    fi
    say "installing postgresql from Debian"
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
    bindir >/dev/null || { say "postgresql installed but initdb/pg_ctl not found"; exit 1; }
}

# run a PostgreSQL binary as the cluster owner
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u "$PGUSER_NAME" -- "$@"
    else
        "$@"
    fi
}

url() {
    echo "postgresql+psycopg://postgres@127.0.0.1:$(cat "$DIR/port")/$DB"
}

running() {
    local bin
    bin=$(bindir) || return 1
    [ -f "$DIR/port" ] && [ -f "$DIR/data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
    ensure_installed
    if running; then url; return; fi
    local bin port
    bin=$(bindir)
    rm -rf "$DIR"
    mkdir -p "$DIR"
    chmod 0700 "$DIR"
    if [ "$(id -u)" = 0 ]; then
        id "$PGUSER_NAME" >/dev/null 2>&1 || useradd --system --home-dir "$DIR" "$PGUSER_NAME"
        chown "$PGUSER_NAME": "$DIR"
    fi
    as_owner "$bin/initdb" -D "$DIR/data" -U postgres -A trust -E UTF8 --no-locale --no-sync >"$DIR/initdb.log" 2>&1 \
        || { cat "$DIR/initdb.log" >&2; exit 1; }
    for _ in 1 2 3; do
        port=$(free_port)
        if as_owner "$bin/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 -o \
            "-p $port -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
             -c full_page_writes=off -c max_connections=200" start >&2; then
            echo "$port" >"$DIR/port"
            break
        fi
        say "port $port did not work, retrying"
    done
    [ -f "$DIR/port" ] || { tail -n 20 "$DIR/server.log" >&2; exit 1; }
    as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres "$DB"
    url
}

stop() {
    local bin
    if bin=$(bindir) && [ -f "$DIR/data/postmaster.pid" ]; then
        as_owner "$bin/pg_ctl" -D "$DIR/data" -m immediate -w stop >&2 || true
    fi
    rm -rf "$DIR"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    url) running && url || { say "not running"; exit 1; } ;;
    env) echo "export PYWPS_TEST_PG_URL=$(start)" ;;
    *) echo "usage: $0 start|stop|url|env" >&2; exit 2 ;;
esac
