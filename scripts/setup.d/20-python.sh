#!/usr/bin/env bash
# Python environment (.venv) from the committed requirements.lock, built with a pinned uv.
# uv and its caches live under $CLICKSTREAM_CACHE; .venv is rebuilt only when the lock changes.
# To change a dependency: edit pyproject.toml, then `UPDATE_LOCK=1 bash scripts/setup.d/20-python.sh`.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
cd "$REPO_ROOT"

ensure_uv
python_bin="$(python311)"

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
