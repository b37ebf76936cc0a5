#!/usr/bin/env bash
# npm packages from the committed lock; reinstalled only when the lock changes.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$REPO_ROOT"
stamp=node_modules/.clickstream-lock.sha
want="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then exit 0; fi
step "installing npm packages (npm ci)"
npm ci --no-audit --no-fund --cache "$CLICKSTREAM_CACHE/npm" >&2
echo "$want" > "$stamp"
