#!/usr/bin/env bash
# Benchmark of the sandbox's default run (`npm start`), cold and warm, in one script:
#   cold: a copy of the working tree without node_modules/.venv/.sandbox and an EMPTY download cache,
#         so every install step (npm, Python, Kafka and Spark jars, the BigQuery server, Chromium if
#         missing) runs for real;
#   warm: the same copy run again, everything installed and cached.
# Prints both totals, the stage times of each run and the warm/cold ratio. Goal: warm at most 40 s.
# Usage: bash bench/sandbox.sh [--warm-only] [-- extra sandbox flags]
set -euo pipefail
source "$(dirname "$0")/../scripts/lib.sh"
warm_only=0
if [[ "${1:-}" == "--warm-only" ]]; then warm_only=1; shift; fi
[[ "${1:-}" == "--" ]] && shift

work="$(mktemp -d /tmp/sandbox-bench.XXXXXX)"
clone="$work/clone"
mkdir -p "$clone"
step "copying the working tree to $clone"
tar -C "$REPO_ROOT" --exclude=./node_modules --exclude=./.venv --exclude=./.sandbox --exclude=./dist \
  --exclude=./build --exclude=./.git -cf - . | tar -C "$clone" -xf -

run() {  # label, cache folder
  local label="$1" cache="$2" t0 t1
  shift 2
  step "$label run: npm start (cache $cache)"
  t0=$(date +%s.%N)
  if ! (cd "$clone" && CLICKSTREAM_CACHE="$cache" npm start -- run "$@" >"$work/$label.out" 2>"$work/$label.log"); then
    tail -30 "$work/$label.log" >&2
    fail "the $label run failed; full output in $work/$label.log"
  fi
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}

# --warm-only measures against the usual cache: its first run is not cold, so it is called "first".
if (( warm_only )); then first=first cache="$CLICKSTREAM_CACHE"; else first=cold cache="$work/cache"; fi
first_seconds=$(run "$first" "$cache" "$@")
warm_seconds=$(run warm "$cache" "$@")

for label in "$first" warm; do
  echo "--- $label run: stage times"
  sed -n '/^stage times:/,$p' "$work/$label.log"
done
printf '\nsandbox default run: %s %.1f s, warm %.1f s, warm/%s = %.2f (goal: warm <= 40 s)\n' \
  "$first" "$first_seconds" "$warm_seconds" "$first" "$(echo "$warm_seconds / $first_seconds" | bc -l)"
echo "logs: $work"
