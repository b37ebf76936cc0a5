#!/usr/bin/env bash
# Installs everything the sandbox and the tests need, idempotently: each step in setup.d/ checks
# what is already there and does only what is missing.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
for s in "$REPO_ROOT"/scripts/setup.d/*.sh; do
  bash "$s"
done
