#!/usr/bin/env bash
# Python environment (.venv) from the committed requirements.lock, built with a pinned uv.
# uv and its caches live under $CLICKSTREAM_CACHE; .venv is rebuilt only when the lock changes.
# To change a dependency: edit pyproject.toml, then `UPDATE_LOCK=1 bash scripts/setup.d/20-python.sh`.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$REPO_ROOT"

UV_VERSION=0.13.9
uv_home="$CLICKSTREAM_CACHE/uv-$UV_VERSION"
uv="$uv_home/bin/uv"
export UV_CACHE_DIR="$CLICKSTREAM_CACHE/uv-cache"
export UV_PYTHON_DOWNLOADS=never

if [[ ! -x "$uv" ]]; then
  step "installing uv $UV_VERSION into $uv_home"
  python3 -m venv "$uv_home" || fail "python3 -m venv failed: install Python 3.11 with the venv module"
  "$uv_home/bin/pip" install --quiet "uv==$UV_VERSION" \
    || fail "pip could not install uv==$UV_VERSION from PyPI; check the network to the package registry"
fi

python_bin="$(command -v python3.11 || command -v python3)"
"$python_bin" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
  || fail "Python 3.11 is required (Dataproc 2.2 and Composer 3 run 3.11); found $("$python_bin" --version)"

if [[ "${UPDATE_LOCK:-}" == 1 || ! -f requirements.lock ]]; then
  step "compiling requirements.lock from pyproject.toml"
  "$uv" pip compile pyproject.toml --extra dev --python "$python_bin" --python-platform x86_64-manylinux_2_28 \
    --generate-hashes --no-header --quiet -o requirements.lock || fail "dependency resolution failed (see above)"
fi

stamp=.venv/.clickstream-lock.sha
want="$(cat requirements.lock pyproject.toml | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x .venv/bin/python ]]; then exit 0; fi
step "creating .venv from requirements.lock"
[[ -x .venv/bin/python ]] || "$uv" venv --quiet --python "$python_bin" .venv
"$uv" pip sync --quiet --python .venv/bin/python requirements.lock \
  || fail "installing requirements.lock into .venv failed (see above); delete .venv and rerun setup"
echo "$want" > "$stamp"
