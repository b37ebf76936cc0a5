#!/usr/bin/env bash
# The compiled contract judge (jobs/judge): the streaming job's rules as one JVM function, built against pyspark's
# own jars into build/weblog-judge.jar, which local sessions load (jobs/spark_sessions.py) and the stack uploads
# beside the streaming job (stacks/artifacts.ts). Built for Java 11, the Java of Dataproc 2.2; built again when its
# sources, the JDK or pyspark change.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
sources="$REPO_ROOT/jobs/judge"
jar="$REPO_ROOT/build/weblog-judge.jar"
if ! command -v javac >/dev/null || ! command -v jar >/dev/null; then
  fail "a JDK (javac, jar) is needed to build the streaming job's judge; install one (Debian: apt-get install openjdk-17-jdk-headless)"
fi
# The JDK, the Spark it is built against (pyspark's pin) and every source file, by name and content.
key="$({ javac -version 2>&1; grep '^pyspark==' "$REPO_ROOT/requirements.lock"
  find "$sources" -name '*.java' -printf '%P\n' | LC_ALL=C sort | while read -r f; do echo "$f"; cat "$sources/$f"; done
} | sha256sum)"
if [[ -f "$jar" && "$(cat "$jar.key" 2>/dev/null)" == "$key" ]]; then exit 0; fi
step "building the streaming job's judge ($jar)"
[[ -x "$REPO_ROOT/.venv/bin/python" ]] || fail "the judge is built against pyspark's jars in .venv: run npm run setup first"
spark_jars="$("$REPO_ROOT/.venv/bin/python" -c 'import os, pyspark; print(os.path.join(os.path.dirname(pyspark.__file__), "jars"))')"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
find "$sources" -name '*.java' >"$work/sources"
javac --release 11 -Xlint:all,-path -Werror -d "$work/classes" -cp "$spark_jars/*" @"$work/sources" >&2 \
  || fail "the judge in $sources does not compile (see above)"
mkdir -p "$(dirname "$jar")"
# The same sources and JDK make the same bytes (fixed entry times, sorted entries), so every machine uploads one jar.
mapfile -t classes < <(cd "$work/classes" && find . -type f | LC_ALL=C sort)
(cd "$work/classes" && jar --create --date=1980-01-01T00:00:02Z --file "$work/weblog-judge.jar" "${classes[@]}") >&2
mv "$work/weblog-judge.jar" "$jar"
echo "$key" >"$jar.key"
