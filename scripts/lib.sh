# shellcheck shell=bash
# Shared by the setup and test scripts: where caches and state live, and how progress is printed.
# Downloads are cached outside the clone so a second run is fast; nothing depends on the cache being there.
export CLICKSTREAM_CACHE="${CLICKSTREAM_CACHE:-$HOME/.cache/clickstream-pipeline}"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO_ROOT
mkdir -p "$CLICKSTREAM_CACHE"

step() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
fail() { printf 'error: %s\n' "$*" >&2; exit 1; }

# uv, pinned, in its own venv under the cache (shared by every Python environment setup builds).
# Sets $uv; uv's package cache and the CPython it may install live in the cache too. uv downloads a Python
# only in python311, and only when the machine has no 3.11 of its own.
UV_VERSION=0.13.9
export UV_CACHE_DIR="$CLICKSTREAM_CACHE/uv-cache"
export UV_PYTHON_INSTALL_DIR="${UV_PYTHON_INSTALL_DIR:-$CLICKSTREAM_CACHE/uv-python}"
export UV_PYTHON_DOWNLOADS=never
ensure_uv() {
  local home="$CLICKSTREAM_CACHE/uv-$UV_VERSION"
  uv="$home/bin/uv"
  [[ -x "$uv" ]] && return 0
  step "installing uv $UV_VERSION into $home"
  python3 -m venv "$home" \
    || fail "python3 -m venv failed: install Python 3 with its venv module (Debian, Ubuntu: apt-get install python3-venv)"
  "$home/bin/pip" install --quiet "uv==$UV_VERSION" \
    || fail "pip could not install uv==$UV_VERSION from PyPI; check the network to the package registry"
}

# Python 3.11 (Dataproc 2.2 and Composer 3 run 3.11): prints its path. The machine's own 3.11 if it has one
# (python3.11 or python3 on PATH, or one uv installed before), else uv's managed CPython 3.11, installed into
# the cache (it downloads from GitHub, or from $UV_PYTHON_INSTALL_MIRROR). Needs ensure_uv first.
python311() {
  local bin
  if bin="$("$uv" python find --no-project --system 3.11 2>/dev/null)"; then
    echo "$bin"
    return 0
  fi
  step "no Python 3.11 on this machine (python3: $(command -v python3 >/dev/null && python3 --version 2>&1 || echo none)): installing uv's managed CPython 3.11 into $UV_PYTHON_INSTALL_DIR"
  if UV_PYTHON_DOWNLOADS=automatic "$uv" python install --no-bin 3.11 >&2 \
    && bin="$("$uv" python find --no-project --system 3.11)"; then
    echo "$bin"
    return 0
  fi
  fail "Python 3.11 is required (Dataproc 2.2 and Composer 3 run 3.11) and uv could not download it (see above).
  Install it from your distribution, then run setup again:
    Debian 12: apt-get install python3.11 python3.11-venv
    Ubuntu 24.04: add-apt-repository ppa:deadsnakes/ppa && apt-get install python3.11 python3.11-venv
    any Linux with pyenv: pyenv install 3.11 (and put python3.11 on PATH)
  or point UV_PYTHON_INSTALL_MIRROR at a mirror of python-build-standalone's releases."
}

# A Debian package that a test needs (not the sandbox): installed with apt-get as root, or with sudo when it
# asks no password; otherwise a warning names the command, and setup goes on (never blocks on a password).
#   test_package PACKAGE BINARY WHAT [no-service]   (no-service: the package must not start its service)
test_package() {
  local package="$1" binary="$2" what="$3" no_service="${4:-}" sudo="" status=0
  [[ -x "$binary" ]] && return 0
  if ! command -v apt-get >/dev/null; then
    printf 'warning: %s is missing and apt-get is not available; %s needs it at %s\n' "$package" "$what" "$binary" >&2
    return 0
  fi
  if [[ "$(id -u)" != 0 ]]; then
    if ! sudo -n true 2>/dev/null; then
      printf 'warning: %s is not installed and installing it needs root; %s will fail until you run: sudo apt-get install %s\n' \
        "$package" "$what" "$package" >&2
      return 0
    fi
    sudo=sudo
  fi
  step "installing $package (Debian package, for $what)"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >&2 \
    || fail "apt-get update failed: check the network to the Debian mirror, then run 'npm run setup' again"
  # Debian's policy-rc.d (exit 101) keeps a package from starting its service; an existing policy stays as it is.
  local policy=""
  if [[ "$no_service" == no-service && ! -e /usr/sbin/policy-rc.d ]]; then
    policy=/usr/sbin/policy-rc.d
    $sudo install -m 0755 /dev/stdin "$policy" <<<$'#!/bin/sh\nexit 101'
  fi
  $sudo apt-get install -y -qq --no-install-recommends "$package" >&2 || status=$?
  [[ -z "$policy" ]] || $sudo rm -f "$policy"
  ((status == 0)) || fail "apt-get install $package failed: see the lines above, then run 'npm run setup' again"
  [[ -x "$binary" ]] || fail "$package installed but $binary is missing"
}

# The local Kafka broker's jars (sandbox/processes/kafka/pom.xml's <kafka.version>): sets $kafka_pom,
# $kafka_version and $kafka_dir, the cache folder whose libs/ holds them (sandbox/processes/kafkaFiles.ts reads the same).
# shellcheck disable=SC2034  # its variables are what the callers read
kafka_paths() {
  kafka_pom="$REPO_ROOT/sandbox/processes/kafka/pom.xml"
  kafka_version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$kafka_pom")"
  [[ -n "$kafka_version" ]] || fail "no <kafka.version> in $kafka_pom"
  kafka_dir="$CLICKSTREAM_CACHE/kafka-$kafka_version"
}
