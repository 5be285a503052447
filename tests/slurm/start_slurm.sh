#!/usr/bin/env bash
# Copied from shared/notes/slurm/start_slurm.sh (measured in notes/slurm/REPORT.md); used by tests/workflow/test_slurm_profile.py.
# start_slurm.sh -- bring up a throw-away single-node Slurm cluster
# (munged + slurmctld + slurmd as plain background daemons, no systemd)
# on a fresh Debian 12 machine, as root. Waits until the node is "idle".
#
# Tunables (environment):
#   SLURM_BASE        dir for config/state/logs   (default /tmp/slurm-ci)
#   SLURM_FAKE_GPUS   number of fake GPUs (gres) to declare, 0 = none (default 2)
#   SLURM_GPU_TYPE    GPU type name for gres            (default fakegpu)
#   SLURM_PARTITION   name of the (default) partition   (default debug)
#   SLURM_AUTH        munge | none                      (default munge)
#   SLURM_FEATURES    node features, usable via `sbatch -C`/snakemake `constraint` (default ci)
#   SLURM_PROCTRACK   proctrack plugin (default proctrack/linuxproc; cgroup: see REPORT.md)
#   SLURM_TASK_PLUGIN task plugin     (default task/affinity; task/none works too)
#   SLURM_CGROUP_CONSTRAIN yes = ConstrainCores/RAMSpace in cgroup.conf (only with cgroup plugins)
#   SLURM_REAL_MEMORY RealMemory in MB to declare (default 90% of what slurmd -C detects)
#   SLURM_KEEP_STATE  1 = keep controller state from a previous run (default 0)
#   SLURM_WAIT_S      seconds to wait for the node to become idle (default 60)
#   SLURM_LINK_ETC    1 = symlink /etc/slurm/{slurm,gres,cgroup}.conf to the generated files
#                     (default 1). REQUIRED for snakemake-executor-plugin-slurm: its
#                     jobstep executor strips SLURM_* (incl. SLURM_CONF) from the
#                     environment before the in-job `srun`, so the config must be
#                     findable at the default path.
#
# With SLURM_LINK_ETC=0 every client (sinfo, sbatch, ...) needs
#   export SLURM_CONF=$SLURM_BASE/etc/slurm.conf     (or: source $SLURM_BASE/slurm.env)
set -euo pipefail

BASE=${SLURM_BASE:-/tmp/slurm-ci}
NGPUS=${SLURM_FAKE_GPUS:-2}
GPU_TYPE=${SLURM_GPU_TYPE:-fakegpu}
PARTITION=${SLURM_PARTITION:-debug}
AUTH=${SLURM_AUTH:-munge}
FEATURES=${SLURM_FEATURES:-ci}
PROCTRACK=${SLURM_PROCTRACK:-proctrack/linuxproc}
TASK_PLUGIN=${SLURM_TASK_PLUGIN:-task/affinity}
KEEP_STATE=${SLURM_KEEP_STATE:-0}
WAIT_S=${SLURM_WAIT_S:-60}
LINK_ETC=${SLURM_LINK_ETC:-1}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

t0=$(date +%s%N)
log() { local ms=$(( ($(date +%s%N) - t0) / 1000000 )); printf '[start_slurm %d.%03ds] %s\n' $((ms / 1000)) $((ms % 1000)) "$*"; }

[ "$(id -u)" = 0 ] || { echo "must run as root" >&2; exit 1; }

# ---------------------------------------------------------------- 1. packages
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
   || ! command -v munged >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  # keep postinst scripts from starting daemons (there is no systemd anyway)
  own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d; own_policy=1
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
  if [ "$own_policy" = 1 ]; then rm -f /usr/sbin/policy-rc.d; fi
fi
log "packages present: $(slurmctld -V)"

# ---------------------------------------------------------------- 2. stop leftovers
if [ -f "$BASE/run/slurmctld.pid" ] || [ -f "$BASE/munge/run/munged.pid" ]; then
  SLURM_BASE=$BASE "$HERE/stop_slurm.sh" || true
fi

# ---------------------------------------------------------------- 3. dirs
mkdir -p "$BASE"/{etc,log,run,spool/d,spool/ctld,fakegpu}
if [ "$KEEP_STATE" != 1 ]; then
  rm -rf "$BASE"/spool/ctld/* "$BASE"/spool/d/*
fi
export SLURM_CONF=$BASE/etc/slurm.conf
printf 'export SLURM_CONF=%s\n' "$SLURM_CONF" >"$BASE/slurm.env"

# ---------------------------------------------------------------- 4. munge
if [ "$AUTH" = munge ]; then
  M=$BASE/munge
  mkdir -p "$M"/{run,log,lib}
  if [ ! -s "$M/munge.key" ]; then
    if [ -s /etc/munge/munge.key ]; then cp /etc/munge/munge.key "$M/munge.key"
    else dd if=/dev/urandom of="$M/munge.key" bs=1024 count=1 status=none; fi
  fi
  chown -R munge:munge "$M"
  chmod 0755 "$M" "$M/run"; chmod 0700 "$M/log" "$M/lib"; chmod 0600 "$M/munge.key"
  rm -f "$M/run/munge.socket.2" "$M/run/munge.socket.2.lock" "$M/run/munged.pid"
  # munged refuses to run as root without --force; run it as the munge user
  runuser -u munge -- /usr/sbin/munged \
      --key-file="$M/munge.key" --socket="$M/run/munge.socket.2" \
      --pid-file="$M/run/munged.pid" --log-file="$M/log/munged.log" \
      --seed-file="$M/lib/munged.seed"
  for _ in $(seq 1 50); do [ -S "$M/run/munge.socket.2" ] && break; sleep 0.1; done
  munge -S "$M/run/munge.socket.2" -n | unmunge -S "$M/run/munge.socket.2" >/dev/null
  AUTH_LINES="AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$M/run/munge.socket.2"
  log "munged up (pid $(cat "$M/run/munged.pid"))"
else
  AUTH_LINES="AuthType=auth/none
CredType=cred/none"
fi

# ---------------------------------------------------------------- 5. config
NODE=$(hostname -s)
# slurmd -C prints e.g. "NodeName=vm CPUs=2 Boards=1 SocketsPerBoard=1 CoresPerSocket=2 ThreadsPerCore=1 RealMemory=24105"
HW=$(slurmd -C | head -1)
get() { echo "$HW" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
CPUS=$(get CPUs); BOARDS=$(get Boards); SPB=$(get SocketsPerBoard)
CPS=$(get CoresPerSocket); TPC=$(get ThreadsPerCore); MEM=$(get RealMemory)
# leave head-room: a RealMemory above what slurmd detects makes the node INVAL/DRAIN
MEM=${SLURM_REAL_MEMORY:-$(( MEM * 9 / 10 ))}

# cgroup.conf is only read when a cgroup plugin is configured.
# ConstrainDevices must stay "no": the fake GPUs are /dev/null, so device
# confinement would deny /dev/null inside every job ("Could not open /dev/null").
cat >"$BASE/etc/cgroup.conf" <<EOF
CgroupPlugin=autodetect
ConstrainCores=${SLURM_CGROUP_CONSTRAIN:-no}
ConstrainRAMSpace=${SLURM_CGROUP_CONSTRAIN:-no}
ConstrainDevices=no
EOF

GRES_NODE=""; GRES_TYPES=""
: >"$BASE/etc/gres.conf"
if [ "$NGPUS" -gt 0 ]; then
  # slurmd drops file-less GPUs ("Removing file-less GPU") and complains about
  # regular files, so each fake GPU is a symlink to the /dev/null char device
  rm -f "$BASE"/fakegpu/gpu*
  for i in $(seq 0 $((NGPUS - 1))); do ln -s /dev/null "$BASE/fakegpu/gpu$i"; done
  echo "NodeName=$NODE Name=gpu Type=$GPU_TYPE File=$BASE/fakegpu/gpu[0-$((NGPUS - 1))]" >"$BASE/etc/gres.conf"
  GRES_TYPES="GresTypes=gpu"
  GRES_NODE="Gres=gpu:$GPU_TYPE:$NGPUS"
fi

cat >"$SLURM_CONF" <<EOF
# generated by start_slurm.sh
ClusterName=ci
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
$AUTH_LINES
StateSaveLocation=$BASE/spool/ctld
SlurmdSpoolDir=$BASE/spool/d
SlurmctldPidFile=$BASE/run/slurmctld.pid
SlurmdPidFile=$BASE/run/slurmd.pid
SlurmctldLogFile=$BASE/log/slurmctld.log
SlurmdLogFile=$BASE/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
SlurmctldPort=6817
SlurmdPort=6818
MpiDefault=none
# no cgroups by default: plain /proc process tracking, sched_setaffinity binding
ProctrackType=$PROCTRACK
TaskPlugin=$TASK_PLUGIN
JobAcctGatherType=jobacct_gather/none
# no slurmdbd: sacct fails ("Slurm accounting storage is disabled"); snakemake
# must poll with squeue, which sees finished jobs only for MinJobAge seconds
# (the plugin polls at least once every 180 s; it falls back to sacct when
# MinJobAge < 3 * slurm-init-seconds-before-status-checks)
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MinJobAge=600
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
# without this a job lacking --mem allocates the whole node's memory
DefMemPerCPU=500
SchedulerType=sched/backfill
# start batch jobs right at submission (default: up to 3 s delay per job)
SchedulerParameters=batch_sched_delay=0
ReturnToService=2
MailProg=/bin/true
$GRES_TYPES
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS Boards=$BOARDS SocketsPerBoard=$SPB CoresPerSocket=$CPS ThreadsPerCore=$TPC RealMemory=$MEM $GRES_NODE Features=$FEATURES State=UNKNOWN
PartitionName=$PARTITION Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
if [ "$LINK_ETC" = 1 ]; then
  mkdir -p /etc/slurm
  for f in slurm.conf gres.conf cgroup.conf; do
    if [ -e "/etc/slurm/$f" ] && [ ! -L "/etc/slurm/$f" ]; then mv "/etc/slurm/$f" "/etc/slurm/$f.bak.$$"; fi
    ln -sfn "$BASE/etc/$f" "/etc/slurm/$f"
  done
fi
log "config written: $SLURM_CONF (node $NODE, CPUs=$CPUS, RealMemory=$MEM, gpus=$NGPUS)"

# ---------------------------------------------------------------- 6. daemons
# both daemonize themselves and write their pid files
slurmctld
for _ in $(seq 1 100); do scontrol ping >/dev/null 2>&1 && break; sleep 0.1; done
log "slurmctld up (pid $(cat "$BASE/run/slurmctld.pid"))"
slurmd
for _ in $(seq 1 100); do [ -s "$BASE/run/slurmd.pid" ] && break; sleep 0.1; done
log "slurmd started (pid $(cat "$BASE/run/slurmd.pid" 2>/dev/null))"

# ---------------------------------------------------------------- 7. wait for idle
deadline=$(( $(date +%s) + WAIT_S ))
state=""
while [ "$(date +%s)" -lt "$deadline" ]; do
  state=$(sinfo -h -n "$NODE" -o %T 2>/dev/null || true)
  [ "$state" = idle ] && break
  sleep 0.2
done
if [ "$state" != idle ]; then
  echo "node did not become idle (state='$state')" >&2
  scontrol show node "$NODE" >&2 || true
  tail -n 30 "$BASE/log/slurmctld.log" "$BASE/log/slurmd.log" >&2 || true
  exit 1
fi
# end-to-end smoke test: a real job step through slurmctld -> slurmd -> slurmstepd
out=$(srun -N1 -n1 -t 1 echo ok 2>&1) || true
[ "$out" = ok ] || { echo "srun smoke test failed: $out" >&2; tail -n 20 "$BASE/log/slurmd.log" >&2; exit 1; }
log "cluster ready (srun smoke test passed):"
sinfo -N -o '%N %P %T %C %m %G'
