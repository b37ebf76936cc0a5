#!/usr/bin/env bash
# Chromium from Debian, for the test that opens the sandbox's HTML report in a real headless browser.
# playwright-core drives it; it never downloads a browser build of its own (the machine is offline).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
if [[ -x /usr/bin/chromium ]]; then exit 0; fi
command -v apt-get >/dev/null || fail "chromium is missing and apt-get is not available: install Debian's 'chromium' package by hand"
[[ "$(id -u)" == 0 ]] || SUDO=sudo
step "installing chromium (Debian package, for the report test)"
export DEBIAN_FRONTEND=noninteractive
${SUDO:-} apt-get update -qq >&2 \
  || fail "apt-get update failed: check the network to the Debian mirror, then run 'npm run setup' again"
${SUDO:-} apt-get install -y -qq --no-install-recommends chromium >&2 \
  || fail "apt-get install chromium failed: see the lines above, then run 'npm run setup' again"
[[ -x /usr/bin/chromium ]] || fail "chromium installed but /usr/bin/chromium is missing"
