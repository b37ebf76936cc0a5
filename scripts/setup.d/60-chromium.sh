#!/usr/bin/env bash
# Chromium from Debian, for the test that opens the sandbox's HTML report in a real headless browser.
# playwright-core drives it; it never downloads a browser build of its own (the machine is offline).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
[[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]] || test_package chromium /usr/bin/chromium "the report test"
