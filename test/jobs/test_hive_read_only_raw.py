"""The hourly steps with the raw tree read-only, as the Hive cluster's identity sees the raw bucket: the
streaming job leaves every partition folder the register step names, so the metastore never has to create
one, for an hour with no quarantined entry and for an hour with no valid entry.

Tests run as root, whom file modes do not stop; a read-only bind mount in a private mount namespace
(`unshare --mount`) makes every write under the raw tree fail with EROFS, for root too."""

from __future__ import annotations

import json
import subprocess
import sys
from argparse import Namespace
from datetime import UTC, datetime

from conftest import REPO, make_entry, spark_jvm_env

from jobs.weblog_parse import parse
from jobs.weblog_stream import hour_presence_marker, write_markers

ONLY_VALID, ONLY_QUARANTINED = datetime(2026, 11, 22, 14, tzinfo=UTC), datetime(2026, 11, 22, 15, tzinfo=UTC)
READ_ONLY_RUN = """
set -e
mount --bind -o ro "$RAW_ROOT" "$RAW_ROOT"
if touch "$RAW_ROOT/events/write-probe" 2>/dev/null; then echo "the raw tree is writable" >&2; exit 3; fi
exec "$@"
"""


def test_the_hourly_steps_need_no_write_to_the_raw_tree(spark, kafka_frame, tmp_path):
    raw = tmp_path / "raw"
    # Valid entries of 14:xx only; the malformed records, received at 15:30, belong to hour 15.
    values = [json.dumps(make_entry(f"2026-11-22T14:{m:02d}:00.000Z", "P000007", m % 2 == 0)).encode()
              for m in range(3)] + [b"not json", b"{}"]
    valid, bad = parse(kafka_frame(values, received=datetime(2026, 11, 22, 15, 30, tzinfo=UTC)))
    valid.write.partitionBy("dt", "hr").parquet(str(raw / "events"))
    bad.write.partitionBy("dt", "hr").parquet(str(raw / "quarantine"))
    args = Namespace(raw=str(raw / "events"), quarantine=str(raw / "quarantine"), markers=str(raw / "_complete"))
    write_markers(spark, args, [ONLY_VALID, ONLY_QUARANTINED])
    for sink in ("events", "quarantine"):
        for hr in ("14", "15"):
            assert (raw / sink / "dt=2026-11-22" / f"hr={hr}" / "_PRESENT").is_file()
    assert hour_presence_marker(args.raw, "2026-11-22", "15").endswith("/events/dt=2026-11-22/hr=15/_PRESENT")

    runner = [sys.executable, "-m", "jobs.hourly_local", "--hour", "2026-11-22T14", "--hour", "2026-11-22T15",
              "--raw", args.raw, "--quarantine", args.quarantine, "--staging", str(tmp_path / "staging"),
              "--curated", str(tmp_path / "curated"), "--warehouse", str(tmp_path / "hive"), "--run-id", "ro"]
    done = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", READ_ONLY_RUN, "sh",
                           *runner], cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
                          env={**spark_jvm_env(), "RAW_ROOT": str(raw), "PYTHONPATH": str(REPO),
                               "CLICKSTREAM_SPARK_DRIVER_MEMORY": "1g"})
    results = {r["hour"]: r for r in map(json.loads, (ln for ln in done.stdout.splitlines() if ln.startswith("{")))}
    assert set(results) == {"2026-11-22T14", "2026-11-22T15"}, done.stderr[-3000:]
    assert done.returncode == 1  # hour 15 has no entry to publish

    assert results["2026-11-22T14"]["ok"] is True
    published = [tmp_path / "curated" / name for name in results["2026-11-22T14"]["published"]]
    assert [p.read_text() for p in published] == ["2026-11-22 14:00:00,P000007,1,2,ro\n"]
    # The hour with no valid entry fails on its data, named, not on the metastore.
    prefix, _, failed = results["2026-11-22T15"]["error"].partition(": ")
    assert prefix == "data-quality check failed"
    assert {check.partition(": ")[0] for check in failed.split("; ")} == {
        "the quarantined share of the hour is within its limit",
        "raw holds every row the marker counts, and rows unless quiet"}
    assert not (raw / "events" / "write-probe").exists()
