#!/usr/bin/env bash
# Class-data archives (CDS) of the local JVMs: the classes a local Spark driver and the Kafka broker load, parsed and
# verified once, then mapped by every later JVM of that kind, which starts in about half the time. Each is made by
# running its JVM once with -XX:ArchiveClassesAtExit, checked with -Xshare:on, and made again when Java or the jars
# change (one that cannot be made is reported, and setup goes on). An archive holds its jars' paths, so it lives
# beside them: the Spark driver's in .venv (pyspark's jars), the broker's beside its jars in the cache. The sandbox
# and the tests map an archive when it is there (sandbox/processes/parts.ts, kafkaFiles.ts, jobs/spark_sessions.py);
# without one a JVM starts as before.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
python="$REPO_ROOT/.venv/bin/python"
spark_jars="$("$python" -c 'import os, pyspark; print(os.path.join(os.path.dirname(pyspark.__file__), "jars"))')"
kafka_paths
work=""  # a scratch folder in the cache, made only when an archive is made
trap '[[ -z "$work" ]] || rm -rf "$work"' EXIT

# An archive only makes start-up faster: one that cannot be made is reported, and its JVMs start without it.
skip() { printf 'warning: %s; its JVMs start without a class-data archive\n' "$*" >&2; }

# archive FILE NAME JARS: unless FILE.key names this Java and these jars (names and sizes), makes FILE with make_NAME and checks it.
archive() {
  local file="$1" name="$2" jars="$3" key
  # The jars' names and sizes, not their link counts or times: uv links the same files into every environment.
  key="$({ java -version 2>&1; find "$jars" -maxdepth 1 -name '*.jar' -printf '%f %s\n' | sort; } | sha256sum)"
  if [[ -f "$file" && "$(cat "$file.key" 2>/dev/null)" == "$key" ]]; then return 0; fi
  step "making the class-data archive of the local $name JVM ($file)"
  [[ -n "$work" ]] || work="$(mktemp -d -p "$CLICKSTREAM_CACHE")"
  # A JVM given an archive it is making refuses to start: the sandbox would pass the old one.
  rm -f "$file" "$file.key"
  "make_$name" "$work/$name.jsa" || return 0
  # -Xshare:on: the JVM stops instead of starting without the archive.
  if ! java -Xshare:on -XX:SharedArchiveFile="$work/$name.jsa" -cp "$jars/*" -version >/dev/null 2>"$work/$name.check"; then
    skip "the $name class-data archive does not load: $(tail -1 "$work/$name.check")"
    return 0
  fi
  mv "$work/$name.jsa" "$file"
  echo "$key" >"$file.key"
}

# The streaming job's judging and the hourly steps' made-up hour in a local session; the script waits for its JVM
# to exit, which is when the archive is written.
make_spark() {
  if ! JAVA_TOOL_OPTIONS="-XX:ArchiveClassesAtExit=$1" "$python" "$REPO_ROOT/scripts/spark_class_workload.py" \
      "$work/spark" >"$work/spark.log" 2>&1; then
    tail -20 "$work/spark.log" >&2
    skip "the Spark run that makes its class-data archive failed (log above)"
    return 1
  fi
}

# The broker's start (its storage formatted first) and clean stop, through the sandbox's own broker control.
make_kafka() {
  local cli=("$REPO_ROOT/node_modules/.bin/tsx" "$REPO_ROOT/sandbox/processes/kafkaBroker.ts")
  if ! JAVA_TOOL_OPTIONS="-XX:ArchiveClassesAtExit=$1" "${cli[@]}" start --state-dir "$work/kafka" >"$work/kafka.log" 2>&1 \
      || ! "${cli[@]}" stop --state-dir "$work/kafka" >>"$work/kafka.log" 2>&1; then
    tail -20 "$work/kafka.log" >&2
    skip "the Kafka broker run that makes its class-data archive failed (log above)"
    return 1
  fi
}

archive "$REPO_ROOT/.venv/spark-classes.jsa" spark "$spark_jars"
archive "$kafka_dir/classes.jsa" kafka "$kafka_dir/libs"
