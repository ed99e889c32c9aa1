#!/usr/bin/env bash
# A real single-node Slurm on localhost for the scheduler tests.
#   start   install slurm-wlm + munge if missing, write a one-node slurm.conf, start munged, slurmctld and
#           slurmd, wait until `sinfo` shows the node idle (a no-op when already up)
#   stop    stop the daemons this script starts (SIGTERM, wait, remove pid files)
#   status  print sinfo
# Partitions: `debug` (default, no time limit) and `short` (MaxTime=1 minute, for the time-limit test).
# Never runs a Slurm command while /etc/slurm/slurm.conf is missing (the client would ask DNS for the
# controller); SLURM_CONF is exported so a missing file is a local error.
set -euo pipefail

CONF_DIR=/etc/slurm
CONF="$CONF_DIR/slurm.conf"
export SLURM_CONF="$CONF"
HOST="$(hostname -s)"
MIN_JOB_AGE="${SLURM_MIN_JOB_AGE:-300}"

log() { echo "slurm: $*"; }

install_packages() {
    local missing=()
    command -v slurmctld >/dev/null 2>&1 || missing+=(slurm-wlm)
    command -v munged >/dev/null 2>&1 || missing+=(munge)
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    # keep postinst scripts from starting services (there is no init system here)
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
        chmod 755 /usr/sbin/policy-rc.d
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
}

ensure_host() {
    # the node's name must resolve locally, never through DNS
    if ! grep -qE "^[^#]*[[:space:]]$HOST([[:space:]]|\$)" /etc/hosts; then
        echo "127.0.0.1 $HOST" >>/etc/hosts
    fi
}

cgroup_v1_usable() {
    [ "${SLURM_PROCTRACK:-}" = "linuxproc" ] && return 1
    [ -d /sys/fs/cgroup/freezer ] && [ -d /sys/fs/cgroup/memory ] && [ -d /sys/fs/cgroup/cpuset ]
}

write_config() {
    local cpus mem_mb proctrack task tmp
    cpus="$(nproc)"
    mem_mb=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
    [ "$mem_mb" -lt 1000 ] && mem_mb=1000
    if cgroup_v1_usable; then
        proctrack=proctrack/cgroup
        task=task/cgroup
    else
        proctrack=proctrack/linuxproc
        task=task/none
    fi
    mkdir -p "$CONF_DIR"
    tmp="$(mktemp)"
    cat >"$tmp" <<EOF
# written by .ci/slurm.sh: a one-node test cluster on localhost
ClusterName=pywpstest
SlurmctldHost=$HOST(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
CredType=cred/munge
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=$proctrack
TaskPlugin=$task
MpiDefault=none
MailProg=/bin/true
SchedulerType=sched/builtin
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=500
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=/var/log/slurm/jobcomp.log
ReturnToService=2
MinJobAge=$MIN_JOB_AGE
KillWait=5
OverTimeLimit=0
SlurmdTimeout=300
NodeName=$HOST NodeAddr=127.0.0.1 NodeHostname=$HOST CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
PartitionName=short Nodes=ALL Default=NO MaxTime=1 DefaultTime=1 State=UP
EOF
    if [ "$proctrack" = proctrack/cgroup ]; then
        printf 'CgroupPlugin=cgroup/v1\nConstrainCores=yes\nConstrainRAMSpace=yes\n' >"$CONF_DIR/cgroup.conf.new"
        if ! cmp -s "$CONF_DIR/cgroup.conf.new" "$CONF_DIR/cgroup.conf" 2>/dev/null; then
            mv "$CONF_DIR/cgroup.conf.new" "$CONF_DIR/cgroup.conf"
        else
            rm -f "$CONF_DIR/cgroup.conf.new"
        fi
    fi
    if cmp -s "$tmp" "$CONF" 2>/dev/null; then
        rm -f "$tmp"
        return 1   # unchanged
    fi
    mv "$tmp" "$CONF"
    chmod 644 "$CONF"
    return 0
}

alive() {  # alive PIDFILE NAME
    local pid
    [ -f "$1" ] || return 1
    pid="$(cat "$1" 2>/dev/null || true)"
    [ -n "$pid" ] && [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = "$2" ] || return 1
    [ "$(awk '/^State:/ {print $2}' "/proc/$pid/status" 2>/dev/null || echo Z)" != "Z" ]
}

# live (not zombie: PID 1 here may not reap daemons' intermediate processes) processes named $@
live_pids() {
    ps -eo pid=,stat=,comm= | awk -v names=" $* " '$2 !~ /^Z/ && index(names, " " $3 " ") {print $1}'
}

munge_pid() { live_pids munged | head -n1; }

node_idle() {
    [ -f "$CONF" ] || return 1
    local state
    state="$(timeout 3 sinfo -h -n "$HOST" -o %T 2>/dev/null | head -n1 || true)"
    case "$state" in idle|mixed|allocated|completing) return 0 ;; *) return 1 ;; esac
}

daemon_pids() { live_pids slurmctld slurmd munged; }

stop_daemons() {
    local pids=() p
    for p in $(daemon_pids); do pids+=("$p"); done
    if [ ${#pids[@]} -gt 0 ]; then
        kill -TERM "${pids[@]}" 2>/dev/null || true
        local deadline=$((SECONDS + 10))
        while [ $SECONDS -lt $deadline ]; do
            [ -z "$(daemon_pids)" ] && break
            sleep 0.1
        done
        # a daemon stuck (e.g. slurmd waiting for a munged that is gone) is killed
        for p in $(daemon_pids); do kill -KILL "$p" 2>/dev/null || true; done
    fi
    # slurmctld runs as slurm and cannot remove its own pid file under /run
    rm -f /run/slurmd.pid /run/slurmctld.pid
}

start() {
    install_packages
    ensure_host
    local changed=0
    write_config && changed=1
    if [ $changed -eq 0 ] && alive /run/slurmctld.pid slurmctld && alive /run/slurmd.pid slurmd \
        && [ -n "$(munge_pid)" ] && node_idle; then
        log "already up"
        return 0
    fi
    # anything missing (a munged that died leaves slurmd unable to register): restart all of them
    if [ -n "$(daemon_pids)" ]; then
        [ $changed -eq 1 ] && log "configuration written, restarting" || log "not fully up, restarting"
        stop_daemons
    fi
    mkdir -p /run/munge /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
    chown munge:munge /run/munge
    chown slurm:slurm /var/spool/slurmctld /var/log/slurm
    [ -f /etc/munge/munge.key ] || { /usr/sbin/mungekey --create 2>/dev/null || true; }
    chown munge:munge /etc/munge/munge.key 2>/dev/null || true
    runuser -u munge -- /usr/sbin/munged --force
    for _ in $(seq 50); do
        [ -S /run/munge/munge.socket.2 ] && break
        sleep 0.1
    done
    /usr/sbin/slurmctld
    /usr/sbin/slurmd
    local deadline=$((SECONDS + 60))
    while [ $SECONDS -lt $deadline ]; do
        if node_idle; then
            log "up: $(sinfo -h -o '%P %a %l %D %T %N' | tr '\n' ';')"
            return 0
        fi
        sleep 0.2
    done
    # a node left DOWN/DRAIN by an earlier run: return it to service once
    timeout 10 scontrol update NodeName="$HOST" State=RESUME 2>/dev/null || true
    for _ in $(seq 50); do
        node_idle && { log "up after resume"; return 0; }
        sleep 0.2
    done
    log "the node did not become idle; last log lines:" >&2
    tail -n 15 /var/log/slurm/slurmctld.log /var/log/slurm/slurmd.log >&2 || true
    return 1
}

case "${1:-}" in
    start) start ;;
    stop) stop_daemons; log "stopped" ;;
    status) [ -f "$CONF" ] && sinfo || { log "no $CONF"; exit 1; } ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
