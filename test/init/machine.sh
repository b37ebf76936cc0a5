#!/usr/bin/env bash
# A Dataproc node in a box, run as PID 1 of fresh mount, network, UTS and PID namespaces (init_machine.py starts
# it): /etc, /opt, /usr and /var become overlays whose writes land in STATE/upper, so the host is untouched
# and the test reads exactly what the init actions wrote; STATE/lower holds the stand-ins at the network
# boundary. Network is loopback only. When this script exits, the kernel ends every process it started.
# Usage: machine.sh STATE HOSTNAME STEP...   where STEP is run:SCRIPT:TAG, snapshot:TAG, verify, or sh:TAG:COMMAND
set -euo pipefail
REPO="$(cd "$(dirname "$0")/../.." && pwd)"
state="$1" host="$2"
shift 2
results="$state/results"
mkdir -p "$results"

mount --make-rprivate /
for dir in etc opt usr var; do
  mkdir -p "$state/upper/$dir" "$state/work/$dir"
  lower="/$dir"
  if [[ -d "$state/lower/$dir" ]]; then lower="$state/lower/$dir:/$dir"; fi
  mount -t overlay overlay -o "lowerdir=$lower,upperdir=$state/upper/$dir,workdir=$state/work/$dir" "/$dir"
done
# A clean /run, as after boot; the boundary folder is shared with the test so it can read the calls.
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/network-boundary
mount --bind "$state/boundary" /run/network-boundary
hostname "$host"
ip link set lo up
# The VM's internal address, as /etc/hosts on a Compute Engine VM maps the hostname to it.
ip addr add 10.128.0.2/32 dev lo

# Dataproc runs an init action as root with a plain environment, not the test runner's.
as_dataproc() { env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

# Checksums of what the init actions wrote, but not the broker's log segments and logs, which grow.
snapshot() {
  (cd "$state/upper" && find . -type f ! -path './var/log/*' \( ! -path './var/lib/kafka/data/*' -o -name meta.properties \) \
    -print0 | sort -z | xargs -0 sha256sum) >"$results/snapshot.$1"
  (cd "$state/upper" && find . -type l -printf '%p -> %l\n' | sort) >>"$results/snapshot.$1"
}

verify_units() {
  local written unit status=0
  # Only the units the init actions wrote, each where systemd would load it from.
  for written in "$state/upper/etc/systemd/system/"*.{service,timer}; do
    [[ -f "$written" ]] || continue
    unit="/etc/systemd/system/${written##*/}"
    echo "== $unit"
    systemd-analyze verify "$unit" 2>&1 || status=$?
  done
  return "$status"
}

for step in "$@"; do
  IFS=: read -r verb tag command <<<"$step"
  case "$verb" in
    run)
      # tag is SCRIPT, command is the round: run:kafka-broker.sh:1
      set +e
      as_dataproc "$REPO/stacks/init/$tag" >"$results/$tag.$command.log" 2>&1
      echo $? >"$results/$tag.$command.rc"
      set -e ;;
    snapshot) snapshot "$tag" ;;
    verify)
      set +e
      verify_units >"$results/verify.log" 2>&1
      echo $? >"$results/verify.rc"
      set -e ;;
    sh)
      set +e
      as_dataproc bash -c "$command" >"$results/$tag.log" 2>&1
      echo $? >"$results/$tag.rc"
      set -e ;;
    *) echo "unknown step $step" >&2; exit 2 ;;
  esac
done
