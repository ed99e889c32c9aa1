#!/usr/bin/env bash
# A real single-node Grid Engine on localhost (with its DRMAA library) for the drmaa submitter tests.
#   start   install gridengine-master/exec/client/drmaa1.0 (+ python3-drmaa, libjemalloc2) if missing,
#           configure one host with an all.q of 2 slots, start sge_qmaster and sge_execd (no-op when up)
#   stop    stop both daemons (qmaster's controlled shutdown takes ~10 s)
#   env     print the environment a Python process needs to `import drmaa` (eval "$(... env)")
set -euo pipefail

HOST="$(hostname -s)"
export SGE_ROOT=/var/lib/gridengine SGE_CELL=default
COMMON="$SGE_ROOT/$SGE_CELL/common"
DRMAA_LIB=/usr/lib/gridengine-drmaa/lib/libdrmaa.so.1.0
JEMALLOC=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
[ -e "$JEMALLOC" ] || JEMALLOC=/lib/x86_64-linux-gnu/libjemalloc.so.2
QMASTER_PID=/run/gridengine/qmaster.pid
EXECD_PID=/run/gridengine/execd.pid

log() { echo "gridengine: $*"; }

install_packages() {
    local missing=()
    command -v sge_qmaster >/dev/null 2>&1 || [ -x /usr/sbin/sge_qmaster ] || missing+=(gridengine-master)
    [ -x /usr/sbin/sge_execd ] || missing+=(gridengine-exec)
    command -v qconf >/dev/null 2>&1 || missing+=(gridengine-client)
    [ -e "$DRMAA_LIB" ] || missing+=(gridengine-drmaa1.0)
    [ -e /usr/lib/python3/dist-packages/drmaa/__init__.py ] || missing+=(python3-drmaa)
    ls /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 /lib/x86_64-linux-gnu/libjemalloc.so.2 >/dev/null 2>&1 \
        || missing+=(libjemalloc2)
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
    fi
    for p in gridengine-common gridengine-master gridengine-client gridengine-exec; do
        printf '%s shared/gridengineconfig boolean true\n%s shared/gridenginecell string default\n' "$p" "$p"
        printf '%s shared/gridenginemaster string %s\n' "$p" "$HOST"
    done | debconf-set-selections
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    JEMALLOC=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2
    [ -e "$JEMALLOC" ] || JEMALLOC=/lib/x86_64-linux-gnu/libjemalloc.so.2
}

alive() {  # alive PIDFILE NAME
    local pid
    [ -f "$1" ] || return 1
    pid="$(cat "$1" 2>/dev/null || true)"
    [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$2" ] || return 1
    [ "$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo Z)" != "Z" ]
}

# live (not zombie: PID 1 here may not reap daemons' intermediate processes) processes named $1
live_pid() { ps -eo pid=,stat=,comm= | awk -v name="$1" '$2 !~ /^Z/ && $3 == name {print $1; exit}'; }
qmaster_pid() { live_pid sge_qmaster; }
execd_pid() { live_pid sge_execd; }

host_up() {
    # the queue instance on this host has no state flags (u = execd unknown, d = disabled, E = error)
    timeout 10 qstat -f -q all.q 2>/dev/null \
        | awk -v q="all.q@$HOST" '$1 == q && $6 !~ /[udEa]/ {found=1} END {exit !found}'
}

configure() {
    local tmp
    tmp="$(mktemp -d)"
    qconf -sh 2>/dev/null | grep -qx "$HOST" || qconf -ah "$HOST" >/dev/null 2>&1
    qconf -ss 2>/dev/null | grep -qx "$HOST" || qconf -as "$HOST" >/dev/null 2>&1
    if ! qconf -sel 2>/dev/null | grep -qx "$HOST"; then
        printf 'hostname %s\nload_scaling NONE\ncomplex_values NONE\nuser_lists NONE\nxuser_lists NONE\n' \
            "$HOST" >"$tmp/exechost"
        printf 'projects NONE\nxprojects NONE\nusage_scaling NONE\nreport_variables NONE\n' >>"$tmp/exechost"
        qconf -Ae "$tmp/exechost" >/dev/null 2>&1
    fi
    if ! qconf -sql 2>/dev/null | grep -qx all.q; then
        cat >"$tmp/all.q" <<EOF
qname                 all.q
hostlist              $HOST
seq_no                0
load_thresholds       NONE
suspend_thresholds    NONE
nsuspend              1
suspend_interval      00:05:00
priority              0
min_cpu_interval      00:05:00
processors            UNDEFINED
qtype                 BATCH INTERACTIVE
ckpt_list             NONE
pe_list               NONE
rerun                 FALSE
slots                 $(nproc)
tmpdir                /tmp
shell                 /bin/sh
prolog                NONE
epilog                NONE
shell_start_mode      unix_behavior
starter_method        NONE
suspend_method        NONE
resume_method         NONE
terminate_method      NONE
notify                00:00:60
owner_list            NONE
user_lists            NONE
xuser_lists           NONE
subordinate_list      NONE
complex_values        NONE
projects              NONE
xprojects             NONE
calendar              NONE
initial_state         default
s_rt                  INFINITY
h_rt                  INFINITY
s_cpu                 INFINITY
h_cpu                 INFINITY
s_fsize               INFINITY
h_fsize               INFINITY
s_data                INFINITY
h_data                INFINITY
s_stack               INFINITY
h_stack               INFINITY
s_core                INFINITY
h_core                INFINITY
s_rss                 INFINITY
h_rss                 INFINITY
s_vmem                INFINITY
h_vmem                INFINITY
EOF
        qconf -Aq "$tmp/all.q" >/dev/null 2>&1
    fi
    # root may submit (Debian's min_uid is 1000); qconf -Mconf wants a file literally named "global"
    qconf -sconf global | sed 's/^min_uid .*/min_uid 0/; s/^min_gid .*/min_gid 0/' >"$tmp/global"
    qconf -Mconf "$tmp/global" >/dev/null 2>&1 || true
    qconf -ssconf | sed 's/^schedule_interval .*/schedule_interval 0:0:1/; s/^flush_submit_sec .*/flush_submit_sec 1/; s/^flush_finish_sec .*/flush_finish_sec 1/' >"$tmp/sched"
    qconf -Msconf "$tmp/sched" >/dev/null 2>&1 || true
    rm -rf "$tmp"
}

start() {
    install_packages
    # 127.0.0.1 reverse-resolves to localhost: tell Grid Engine both names are this host
    mkdir -p "$COMMON"
    echo "$HOST localhost" >"$COMMON/host_aliases"
    mkdir -p /run/gridengine
    chown sgeadmin:sgeadmin /run/gridengine 2>/dev/null || true
    if [ -z "$(qmaster_pid)" ]; then
        /usr/sbin/sge_qmaster
    fi
    for _ in $(seq 100); do
        timeout 5 qconf -sh >/dev/null 2>&1 && break
        sleep 0.2
    done
    configure
    if [ -z "$(execd_pid)" ]; then
        SGE_EXECD_PIDFILE="$EXECD_PID" /usr/sbin/sge_execd
    fi
    for _ in $(seq 150); do
        if host_up; then
            log "up: $(qstat -f 2>/dev/null | awk 'NR==3' | tr -s ' ')"
            return 0
        fi
        sleep 0.2
    done
    log "the exec host did not come up" >&2
    qhost >&2 || true
    return 1
}

stop() {
    local pids=() p
    p="$(execd_pid)"; [ -n "$p" ] && pids+=("$p")
    p="$(qmaster_pid)"; [ -n "$p" ] && pids+=("$p")
    [ ${#pids[@]} -eq 0 ] && { log "not running"; return 0; }
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 200); do
        local any=0
        for p in "${pids[@]}"; do
            [ -d "/proc/$p" ] && [ "$(awk '/^State:/ {print $2}' "/proc/$p/status" 2>/dev/null || echo Z)" != Z ] \
                && any=1
        done
        [ $any -eq 0 ] && break
        sleep 0.1
    done
    log "stopped"
}

env_vars() {
    echo "export SGE_ROOT=$SGE_ROOT SGE_CELL=$SGE_CELL"
    echo "export DRMAA_LIBRARY_PATH=$DRMAA_LIB"
    echo "export LD_PRELOAD=$JEMALLOC"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    env) env_vars ;;
    *) echo "usage: $0 start|stop|env" >&2; exit 2 ;;
esac
