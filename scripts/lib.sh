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
# Sets $uv; uv's package cache lives in the cache too, and uv never downloads a Python of its own.
UV_VERSION=0.13.9
export UV_CACHE_DIR="$CLICKSTREAM_CACHE/uv-cache"
export UV_PYTHON_DOWNLOADS=never
ensure_uv() {
  local home="$CLICKSTREAM_CACHE/uv-$UV_VERSION"
  uv="$home/bin/uv"
  [[ -x "$uv" ]] && return 0
  step "installing uv $UV_VERSION into $home"
  python3 -m venv "$home" || fail "python3 -m venv failed: install Python 3.11 with the venv module"
  "$home/bin/pip" install --quiet "uv==$UV_VERSION" \
    || fail "pip could not install uv==$UV_VERSION from PyPI; check the network to the package registry"
}

# The machine's Python 3.11 (Dataproc 2.2 and Composer 3 run 3.11): prints its path, or fails naming what it found.
python311() {
  local bin
  bin="$(command -v python3.11 || command -v python3)" || fail "python3 not found: install Python 3.11"
  "$bin" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
    || fail "Python 3.11 is required (Dataproc 2.2 and Composer 3 run 3.11); found $("$bin" --version)"
  echo "$bin"
}
