#!/usr/bin/env bash
# Mutation testing: Stryker over the TypeScript modules that guard data or security (mutation/stryker.config.json),
# one worker, then a score per module with every surviving mutant. Arguments go to Stryker (e.g. --mutate FILE).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
bash scripts/setup.d/10-node.sh
step "Stryker: each mutant of the listed modules against the fast unit tests that cover it"
npx stryker run mutation/stryker.config.json "$@"
step "scores per module (equivalent mutants: mutation/equivalent.md)"
npx tsx mutation/scores.ts reports/mutation/stryker.json
