#!/usr/bin/env bash
# The local Apache Kafka broker: its jars (sandbox/processes/kafka/pom.xml) resolved from Maven Central with Maven
# and copied to $CLICKSTREAM_CACHE/kafka-<version>/libs. Skipped when that folder matches the pom.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
kafka_paths
pom="$kafka_pom" version="$kafka_version" libs="$kafka_dir/libs"
stamp="$libs/.pom.sha256"
want="$(sha256sum "$pom" | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then exit 0; fi

command -v java >/dev/null || fail "java not found: the Kafka broker needs Java 17 (apt-get install openjdk-17-jre-headless)"
command -v mvn >/dev/null || fail "mvn not found: the Kafka jars are resolved with Maven (apt-get install maven)"
step "resolving Apache Kafka $version jars from Maven Central into $libs"
tmp="$(mktemp -d "$CLICKSTREAM_CACHE/kafka-libs.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
if ! mvn -q -B -f "$pom" -Dmaven.repo.local="$CLICKSTREAM_CACHE/m2" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp/libs" >&2; then
  fail "resolving the Kafka jars with Maven failed (network to Maven Central?); rerun 'npm run setup'"
fi
ls "$tmp/libs/kafka_2.13-$version.jar" >/dev/null || fail "kafka_2.13-$version.jar missing after Maven resolution"
echo "$want" > "$tmp/libs/.pom.sha256"
# Swap the folder in whole, so a broken run never leaves a half-filled libs folder that looks complete.
rm -rf "$libs"
mkdir -p "$(dirname "$libs")"
mv "$tmp/libs" "$libs"
