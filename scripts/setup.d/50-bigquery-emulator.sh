#!/usr/bin/env bash
# The local BigQuery-API server (bqemulator, DuckDB-backed, from PyPI) in its own venv under
# $CLICKSTREAM_CACHE/bqemulator, from the committed scripts/bigquery-emulator/requirements.lock (hashes checked).
# Works offline at run time: the DuckDB extensions it loads come from PyPI wheels and are installed into
# its own DuckDB home ($CLICKSTREAM_CACHE/bqemulator/home; start the server with HOME set to it).
# To change a pin: edit scripts/bigquery-emulator/requirements.in, then `UPDATE_LOCK=1 bash scripts/setup.d/50-bigquery-emulator.sh`.
set -euo pipefail
source "$(dirname "$0")/../lib.sh"
pins="$REPO_ROOT/scripts/bigquery-emulator"
lock="$pins/requirements.lock"
patch_file="$pins/bqemulator.patch"
emu_root="$CLICKSTREAM_CACHE/bqemulator"
venv="$emu_root/venv"
duckdb_home="$emu_root/home"

ensure_uv
python_bin="$(python311)"

if [[ "${UPDATE_LOCK:-}" == 1 || ! -f "$lock" ]]; then
  step "compiling $lock"
  "$uv" pip compile "$pins/requirements.in" --python "$python_bin" --python-platform x86_64-manylinux_2_28 \
    --generate-hashes --no-header --quiet -o "$lock" || fail "resolving the BigQuery emulator's dependencies failed (see above)"
fi

stamp="$venv/.clickstream-lock.sha"
want="$(cat "$lock" "$patch_file" | sha256sum | cut -d' ' -f1)"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$venv/bin/bqemulator" ]]; then exit 0; fi

step "installing the local BigQuery server (bqemulator) into $venv"
rm -rf "$venv"
"$uv" venv --quiet --python "$python_bin" "$venv" || fail "creating $venv failed"
"$uv" pip sync --quiet --python "$venv/bin/python" "$lock" \
  || fail "installing $lock into $venv failed (see above); rerun setup when the registry answers"

# Three fixes that make bqemulator 1.4.0 answer as BigQuery does (see the patch): a reused job id gets 409
# "duplicate" and runs nothing (1.4.0 silently re-runs it, appending the rows again); CSV rows are read
# from the first line unless skipLeadingRows says otherwise (1.4.0 always drops a header row); a load job's
# outputRows counts the rows it wrote (1.4.0 reports the table's total after it).
site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
patch --quiet --forward -p1 -d "$site" < "$patch_file" \
  || fail "patching bqemulator failed: $patch_file no longer applies to the locked version; update it"

step "installing DuckDB's spatial and avro extensions (from their PyPI wheels) into $duckdb_home"
mkdir -p "$duckdb_home"
HOME="$duckdb_home" "$venv/bin/python" - "$site" <<'PY' || fail "installing the DuckDB extensions from the wheels failed"
import glob, sys, duckdb
con = duckdb.connect(":memory:")
files = glob.glob(f"{sys.argv[1]}/duckdb_extension_*/extensions/v{duckdb.__version__}/*.duckdb_extension")
if len(files) < 2:
    sys.exit(f"expected the spatial and avro extension files for DuckDB {duckdb.__version__}, found {files}")
for f in files:
    con.execute(f"FORCE INSTALL '{f}'")
con.execute("LOAD spatial")
PY
echo "$want" > "$stamp"
