#!/usr/bin/env bash
# Mutation testing: Stryker over the TypeScript modules that guard data or security, one pass per group of
# modules with the unit tests that judge them (mutation/passes.cjs), and mutmut over the pure Python modules
# ([tool.mutmut] in pyproject.toml), one worker each; then a score per module with every surviving mutant.
# Arguments name the passes to run (a TypeScript pass, or python); with none, every pass.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$REPO_ROOT"
bash scripts/setup.d/10-node.sh
bash scripts/setup.d/20-python.sh
mapfile -t ts_passes < <(node -p 'Object.keys(require("./mutation/passes.cjs")).join("\n")')
passes=("$@")
[[ ${#passes[@]} -gt 0 ]] || passes=("${ts_passes[@]}" python)
for pass in "${passes[@]}"; do
  [[ " ${ts_passes[*]} python " == *" $pass "* ]] || fail "no mutation pass '$pass': the passes are ${ts_passes[*]} python"
done
reports=()
for pass in "${passes[@]}"; do
  if [[ "$pass" == python ]]; then
    step "mutmut: each mutant of the pure Python modules against the tests that need no engine"
    # A fresh run: mutmut's cache keys on the mutated functions, not on the tests that judge them.
    rm -rf mutants
    mkdir -p reports/mutation
    .venv/bin/mutmut run --max-children 1 > reports/mutation/mutmut.log 2>&1 \
      || fail "mutmut failed (see reports/mutation/mutmut.log)"
    continue
  fi
  step "Stryker, pass $pass: each mutant against the unit tests of mutation/passes.cjs that cover it"
  MUTATION_PASS="$pass" npx stryker run mutation/stryker.config.mjs
  reports+=("reports/mutation/stryker-$pass.json")
done
step "scores per module (equivalent mutants: mutation/equivalent.md)"
[[ ${#reports[@]} -eq 0 ]] || npx tsx mutation/scores.ts "${reports[@]}"
if [[ " ${passes[*]} " == *" python "* ]]; then
  .venv/bin/python mutation/mutmut_scores.py jobs/weblog_contract.py jobs/access_log.py jobs/hour_completion.py \
    dags/weblog_hourly_steps.py
fi
