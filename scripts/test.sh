#!/usr/bin/env bash
# The whole test suite: installs what it needs, lints, then runs jest and pytest against real engines.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
bash scripts/setup.sh
step "lint: eslint, prettier, tsc, ruff, shellcheck"
# eslint includes the import rules: no circle anywhere, and no sandbox folder importing one above it.
npx eslint .
# The TypeScript and JavaScript as prettier prints them (.prettierrc.json); `npm run format` rewrites them.
npx prettier --check "**/*.{ts,js,mjs,cjs}"
npx tsc --noEmit -p tsconfig.json
.venv/bin/ruff check .
# Every shell file: *.sh, plus extension-less scripts whose shebang names bash or sh (.ci/run, stand-ins).
mapfile -t shell_files < <(git ls-files '*.sh' && git ls-files | while read -r file; do
  [[ "${file##*/}" != *.* && -f "$file" ]] && head -n1 "$file" | grep -qE '^#!(/usr/bin/env |/bin/)(ba)?sh$' \
    && echo "$file"
done)
# -x with SCRIPTDIR: follow each `source "$(dirname "$0")/lib.sh"` so lib.sh's variables count as assigned.
.venv/bin/shellcheck -x -P SCRIPTDIR "${shell_files[@]}"
# jest and pytest side by side: the end-to-end tests spend much of their time waiting (brokers, JVMs and
# the sandbox's clock), so the two suites together take about 0.75 of their time one after the other.
# pytest prints as it goes; jest's output follows when both are done.
step "jest and pytest, side by side"
# Every temporary file and folder of the run (the tests' own, what they start, jest's log) goes under one folder,
# removed when the run ends, however it ends.
run_tmp="$(mktemp -d "${TMPDIR:-/tmp}/clickstream-tests.XXXXXX")"
export TMPDIR="$run_tmp"
jest_log="$run_tmp/jest.log"
npx jest --ci >"$jest_log" 2>&1 &
jest_pid=$!
trap 'kill "$jest_pid" 2>/dev/null || true; wait "$jest_pid" 2>/dev/null || true; rm -rf "$run_tmp"' EXIT
pytest_status=0
.venv/bin/pytest || pytest_status=$?
jest_status=0
wait "$jest_pid" || jest_status=$?
step "jest"
cat "$jest_log"
((pytest_status == 0)) || fail "pytest failed (exit $pytest_status): see its output above"
((jest_status == 0)) || fail "jest failed (exit $jest_status): see its output above"
