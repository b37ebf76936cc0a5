#!/usr/bin/env bash
# nginx from Debian, for the test that serves real HTTP requests and ships nginx's own access log through
# the pipeline. The test runs it unprivileged on a loopback port with its own configuration; the package
# is kept from starting the system service (port 80).
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
[[ -x "${NGINX_PATH:-/usr/sbin/nginx}" ]] || test_package nginx /usr/sbin/nginx "the access-log test" no-service
