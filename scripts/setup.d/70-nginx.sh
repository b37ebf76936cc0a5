#!/usr/bin/env bash
# nginx from Debian, for the test that serves real HTTP requests and ships nginx's own access log through
# the pipeline. The test runs it unprivileged on a loopback port with its own configuration; nothing here
# starts or enables the system service.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
if [[ -x "${NGINX_PATH:-/usr/sbin/nginx}" ]]; then exit 0; fi
if ! command -v apt-get >/dev/null; then
  printf 'warning: nginx is missing and apt-get is not available; the access-log test needs nginx at /usr/sbin/nginx (or NGINX_PATH)\n' >&2
  exit 0
fi
if [[ "$(id -u)" != 0 ]]; then
  # Only the access-log test needs nginx, not the sandbox itself: never block `npm start` on a password.
  if ! sudo -n true 2>/dev/null; then
    printf 'warning: nginx is not installed and installing it needs root; the access-log test will fail until you run: sudo apt-get install nginx\n' >&2
    exit 0
  fi
  SUDO=sudo
fi
step "installing nginx (Debian package, for the access-log test)"
export DEBIAN_FRONTEND=noninteractive
${SUDO:-} apt-get update -qq >&2 \
  || fail "apt-get update failed: check the network to the Debian mirror, then run 'npm run setup' again"
# Debian's policy-rc.d (exit 101) keeps the package from starting the system service on port 80; an
# existing policy is left as it is.
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
  ${SUDO:-} install -m 0755 /dev/stdin /usr/sbin/policy-rc.d <<<$'#!/bin/sh\nexit 101'
  trap '${SUDO:-} rm -f /usr/sbin/policy-rc.d' EXIT
fi
${SUDO:-} apt-get install -y -qq --no-install-recommends nginx >&2 \
  || fail "apt-get install nginx failed: see the lines above, then run 'npm run setup' again"
[[ -x /usr/sbin/nginx ]] || fail "nginx installed but /usr/sbin/nginx is missing"
