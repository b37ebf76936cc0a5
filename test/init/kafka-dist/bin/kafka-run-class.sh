#!/usr/bin/env bash
# Kafka's launcher, reduced to what the init action relies on: java from JAVA_HOME, every jar in libs/,
# KAFKA_HEAP_OPTS word-split onto the command line exactly as Apache's kafka-run-class.sh does.
set -euo pipefail
base_dir="$(cd "$(dirname "$0")/.." && pwd)"
java="${JAVA_HOME:+${JAVA_HOME}/bin/}java"
heap="${KAFKA_HEAP_OPTS:--Xmx256M}"
log4j="${KAFKA_LOG4J_OPTS:--Dlog4j.configuration=file:${base_dir}/config/tools-log4j.properties}"
# C1 and the serial collector: these JVMs live seconds on two shared cores, so C2 never pays back.
performance="${KAFKA_JVM_PERFORMANCE_OPTS:--XX:TieredStopAtLevel=1 -XX:+UseSerialGC}"
# shellcheck disable=SC2086 # word splitting of the option strings is the launcher's contract
exec "$java" $heap $performance $log4j "-Dkafka.logs.dir=${LOG_DIR:-${base_dir}/logs}" \
  -cp "${base_dir}/libs/*" "$@"
