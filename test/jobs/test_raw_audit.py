"""The raw-bucket audit reports what it finds: a duplicated event_id, hidden files skipped as Hive skips them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parent.parent.parent


def write_ids(path: Path, event_ids: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table({"event_id": event_ids, "product_id": ["P1"] * len(event_ids)}), path)


def audit(events: Path, quarantine: Path) -> dict:
    script = REPO / "jobs" / "raw_audit.py"
    out = subprocess.run(
        [sys.executable, str(script), "--events", str(events), "--quarantine", str(quarantine)],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return json.loads(out.stdout)


def test_an_event_id_written_twice_is_counted_once_among_distinct_ids(tmp_path: Path) -> None:
    events, quarantine = tmp_path / "events", tmp_path / "quarantine"
    write_ids(events / "dt=2026-11-26" / "hr=10" / "part-00000.parquet", ["e1", "e2", "e3"])
    # The same entry again in a later file, as a replay without exactly-once output would write it.
    write_ids(events / "dt=2026-11-26" / "hr=11" / "part-00001.parquet", ["e2", "e4"])
    write_ids(quarantine / "dt=2026-11-26" / "part-00000.parquet", ["q1", "q2"])
    assert audit(events, quarantine) == {"rows": 5, "distinct_event_ids": 4, "quarantined": 2}


def test_files_hive_does_not_read_are_not_counted(tmp_path: Path) -> None:
    events, quarantine = tmp_path / "events", tmp_path / "quarantine"
    write_ids(events / "dt=2026-11-26" / "hr=10" / "part-00000.parquet", ["e1", "e2"])
    write_ids(events / "dt=2026-11-26" / "hr=10" / ".part-00000.parquet", ["e1", "e2"])
    write_ids(events / "dt=2026-11-26" / "hr=10" / "_temporary" / "part-00000.parquet", ["e1"])
    write_ids(events / "_spark_metadata" / "part-00000.parquet", ["e1"])
    assert audit(events, quarantine) == {"rows": 2, "distinct_event_ids": 2, "quarantined": 0}
