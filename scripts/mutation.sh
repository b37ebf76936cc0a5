#!/usr/bin/env bash
# Mutation testing: Stryker over the TypeScript modules that guard data or security (mutation/stryker.config.json)
# and mutmut over the pure Python modules ([tool.mutmut] in pyproject.toml), one worker each, then a score per
# module with every surviving mutant. Arguments go to Stryker (e.g. --mutate FILE).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
bash scripts/setup.d/10-node.sh
bash scripts/setup.d/20-python.sh
step "Stryker: each mutant of the listed modules against the fast unit tests that import it"
npx stryker run mutation/stryker.config.json "$@"
step "mutmut: each mutant of the pure Python modules against the tests that need no engine"
# A fresh run: mutmut's cache keys on the mutated functions, not on the tests that judge them.
rm -rf mutants
.venv/bin/mutmut run --max-children 1 > reports/mutation/mutmut.log 2>&1 \
  || fail "mutmut failed (see reports/mutation/mutmut.log)"
step "scores per module (equivalent mutants: mutation/equivalent.md)"
npx tsx mutation/scores.ts reports/mutation/stryker.json
.venv/bin/python mutation/mutmut_scores.py jobs/weblog_contract.py jobs/access_log.py jobs/hour_completion.py \
  dags/weblog_hourly_steps.py
