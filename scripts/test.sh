#!/usr/bin/env bash
# The whole test suite: installs what it needs, lints, then runs jest and pytest against real engines.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
bash scripts/setup.sh
step "lint: eslint, tsc, ruff"
npx eslint .
npx tsc --noEmit -p tsconfig.json
.venv/bin/ruff check .
step "jest"
npx jest --ci
step "pytest"
.venv/bin/pytest
