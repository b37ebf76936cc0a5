#!/usr/bin/env bash
# Chromium from Debian, for the test that opens the sandbox's HTML report in a real headless browser.
# playwright-core drives it; it never downloads a browser build of its own (the machine is offline).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
if [[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]]; then exit 0; fi
if ! command -v apt-get >/dev/null; then
  printf 'warning: chromium is missing and apt-get is not available; the report test needs a Chromium at /usr/bin/chromium (or CHROMIUM_PATH)\n' >&2
  exit 0
fi
if [[ "$(id -u)" != 0 ]]; then
  # Only the report test needs the browser, not the sandbox itself: never block `npm start` on a password.
  if ! sudo -n true 2>/dev/null; then
    printf 'warning: chromium is not installed and installing it needs root; the report test will fail until you run: sudo apt-get install chromium\n' >&2
    exit 0
  fi
  SUDO=sudo
fi
step "installing chromium (Debian package, for the report test)"
export DEBIAN_FRONTEND=noninteractive
${SUDO:-} apt-get update -qq >&2 \
  || fail "apt-get update failed: check the network to the Debian mirror, then run 'npm run setup' again"
${SUDO:-} apt-get install -y -qq --no-install-recommends chromium >&2 \
  || fail "apt-get install chromium failed: see the lines above, then run 'npm run setup' again"
[[ -x /usr/bin/chromium ]] || fail "chromium installed but /usr/bin/chromium is missing"
