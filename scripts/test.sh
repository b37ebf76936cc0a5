#!/usr/bin/env bash
# The whole test suite: installs what it needs, lints, then runs jest and pytest against real engines.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
bash scripts/setup.sh
step "lint: eslint, tsc, ruff, shellcheck"
npx eslint .
npx tsc --noEmit -p tsconfig.json
.venv/bin/ruff check .
# Every shell file: *.sh, plus extension-less scripts whose shebang names bash or sh (.ci/run, stand-ins).
mapfile -t shell_files < <(git ls-files '*.sh' && git ls-files | while read -r file; do
  [[ "${file##*/}" != *.* && -f "$file" ]] && head -n1 "$file" | grep -qE '^#!(/usr/bin/env |/bin/)(ba)?sh$' \
    && echo "$file"
done)
# -x with SCRIPTDIR: follow each `source "$(dirname "$0")/lib.sh"` so lib.sh's variables count as assigned.
.venv/bin/shellcheck -x -P SCRIPTDIR "${shell_files[@]}"
step "jest"
npx jest --ci
step "pytest"
.venv/bin/pytest
