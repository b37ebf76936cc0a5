#!/usr/bin/env bash
# Spark's Kafka connector and its runtime dependencies, resolved once from Maven Central into
# $CLICKSTREAM_CACHE/spark-jars/<version>. The streaming job passes that folder's jars as spark.jars,
# so nothing is downloaded when a job starts (Dataproc images ship the same connector version).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"

# The connector's version is pyspark's, read from the lock the Python environment is built from.
SPARK_VERSION="$(sed -n 's/^pyspark==\([0-9.]*\).*/\1/p' "$REPO_ROOT/requirements.lock")"
[[ -n "$SPARK_VERSION" ]] || fail "no pyspark pin in $REPO_ROOT/requirements.lock"
jar_dir="$CLICKSTREAM_CACHE/spark-jars/$SPARK_VERSION"
# Only the connector and what pyspark does not already bundle (hadoop, slf4j, compression codecs are there).
wanted="spark-sql-kafka-0-10_2.12,spark-token-provider-kafka-0-10_2.12,kafka-clients,commons-pool2"

if [[ -f "$jar_dir/.complete" ]]; then exit 0; fi
command -v mvn >/dev/null || fail "Maven (mvn) is needed to resolve the Spark Kafka connector; install maven"
step "resolving org.apache.spark:spark-sql-kafka-0-10_2.12:$SPARK_VERSION into $jar_dir"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat > "$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>clickstream</groupId><artifactId>spark-jars</artifactId><version>1</version>
  <dependencies>
    <dependency>
      <groupId>org.apache.spark</groupId><artifactId>spark-sql-kafka-0-10_2.12</artifactId>
      <version>$SPARK_VERSION</version>
    </dependency>
  </dependencies>
</project>
POM
rm -rf "$jar_dir"
mkdir -p "$jar_dir"
mvn -B -q -f "$work/pom.xml" -Dmaven.repo.local="$CLICKSTREAM_CACHE/m2" \
  org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
  -DoutputDirectory="$jar_dir" -DincludeScope=runtime -DincludeArtifactIds="$wanted" >&2 \
  || fail "Maven could not resolve spark-sql-kafka-0-10_2.12:$SPARK_VERSION; check access to Maven Central and rerun"
count="$(find "$jar_dir" -name '*.jar' | wc -l)"
[[ "$count" -eq 4 ]] || fail "expected 4 connector jars in $jar_dir, found $count"
touch "$jar_dir/.complete"
