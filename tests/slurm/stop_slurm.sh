#!/usr/bin/env bash
# Copied from shared/notes/slurm/stop_slurm.sh (measured in notes/slurm/REPORT.md); used by tests/workflow/test_slurm_profile.py.
# stop_slurm.sh -- stop the cluster started by start_slurm.sh:
# cancel all jobs, wait for them to end, then stop slurmd, slurmctld and munged.
# Only processes whose pid is in our pid files (and job processes spawned by
# our slurmstepd's) are touched.
set -uo pipefail
BASE=${SLURM_BASE:-/tmp/slurm-ci}
export SLURM_CONF=$BASE/etc/slurm.conf

# a daemon that exited stays a zombie until PID 1 reaps it (kill -0 would still
# succeed), so look at the process state instead
# (uses /proc only, so procps need not be installed)
alive() {
  [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] || return 1
  local st; st=$(sed -n 's/.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null)
  case "$st" in Z|X|"") return 1 ;; *) return 0 ;; esac
}
pid_of() { [ -s "$1" ] && cat "$1" || true; }

wait_gone() {  # pid timeout_deciseconds name
  local pid=$1 n=$2 name=$3
  for _ in $(seq 1 "$n"); do alive "$pid" || return 0; sleep 0.1; done
  echo "stop_slurm: $name (pid $pid) still alive, sending SIGKILL" >&2
  kill -9 "$pid" 2>/dev/null || true
  sleep 0.2
}

children() {  # direct children of $1
  local f
  for f in /proc/[0-9]*/stat; do
    [ "$(sed -n 's/.*) . \([0-9]*\) .*/\1/p' "$f" 2>/dev/null)" = "$1" ] && { f=${f#/proc/}; echo "${f%/stat}"; }
  done
}
descendants() {  # all descendants of $1, children first
  local c
  for c in $(children "$1"); do descendants "$c"; echo "$c"; done
}

CTLD=$(pid_of "$BASE/run/slurmctld.pid")
SLURMD=$(pid_of "$BASE/run/slurmd.pid")
MUNGED=$(pid_of "$BASE/munge/run/munged.pid")

# 1. cancel all jobs and wait (max ~15 s) until none is running/completing,
#    so that slurmstepd can kill the job processes itself
if alive "$CTLD" && alive "$SLURMD"; then
  ids=$(squeue -h -o %i 2>/dev/null || true)
  # shellcheck disable=SC2086
  [ -n "$ids" ] && scancel --quiet $ids 2>/dev/null
  for _ in $(seq 1 150); do
    [ -z "$(squeue -h -t RUNNING,COMPLETING,SUSPENDED,CONFIGURING -o %i 2>/dev/null)" ] && break
    sleep 0.1
  done
fi

# 2. slurmd (SIGTERM = clean shutdown), then slurmctld (SIGTERM saves state), then munged
if alive "$SLURMD"; then kill -TERM "$SLURMD"; wait_gone "$SLURMD" 100 slurmd; fi
if alive "$CTLD";   then kill -TERM "$CTLD";   wait_gone "$CTLD" 100 slurmctld; fi
if alive "$MUNGED"; then kill -TERM "$MUNGED"; wait_gone "$MUNGED" 50 munged; fi

# 3. safety net: slurmstepd's of *this* cluster that survived (recognised by
#    their open files under $BASE) are killed together with their job processes
for c in /proc/[0-9]*/comm; do
  [ "$(cat "$c" 2>/dev/null)" = slurmstepd ] || continue
  p=${c#/proc/}; p=${p%/comm}
  alive "$p" || continue
  if ls -l /proc/"$p"/cwd /proc/"$p"/fd 2>/dev/null | grep -q "$BASE"; then
    kids=$(descendants "$p")
    echo "stop_slurm: killing leftover slurmstepd $p and its job processes:" $kids >&2
    # shellcheck disable=SC2086
    [ -n "$kids" ] && kill -9 $kids 2>/dev/null
    kill -9 "$p" 2>/dev/null || true
  fi
done

# 4. remove the /etc/slurm symlinks created by start_slurm.sh (only if they point to us)
for f in slurm.conf gres.conf cgroup.conf; do
  if [ -L "/etc/slurm/$f" ] && [ "$(readlink "/etc/slurm/$f")" = "$BASE/etc/$f" ]; then rm -f "/etc/slurm/$f"; fi
done

rm -f "$BASE/run/slurmctld.pid" "$BASE/run/slurmd.pid" "$BASE/munge/run/munged.pid"
echo "stop_slurm: stopped (slurmd=${SLURMD:-none} slurmctld=${CTLD:-none} munged=${MUNGED:-none})"
