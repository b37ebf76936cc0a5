"""Audits the raw bucket as Hive sees it: rows, distinct event_ids and quarantined entries.

Reads every visible Parquet file under the events and quarantine folders (Hive skips names starting
with '_' or '.', and so does this), so a file left behind by a killed job counts here exactly as it
would downstream. pyarrow rather than Spark: no JVM start-up for a count.
Prints one JSON object: {"rows", "distinct_event_ids", "quarantined"}.
"""

import argparse
import json
import pathlib

import pyarrow.dataset as ds


def visible_parquet(root: pathlib.Path) -> list[str]:
    if not root.exists():
        return []
    return sorted(
        str(p)
        for p in root.rglob("*.parquet")
        if p.is_file() and not any(part.startswith(("_", ".")) for part in p.relative_to(root).parts)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", required=True, type=pathlib.Path)
    parser.add_argument("--quarantine", required=True, type=pathlib.Path)
    args = parser.parse_args()

    rows = distinct = quarantined = 0
    events = visible_parquet(args.events)
    if events:
        ids = ds.dataset(events, format="parquet").to_table(columns=["event_id"]).column("event_id")
        rows, distinct = len(ids), len(set(ids.to_pylist()))
    quarantine = visible_parquet(args.quarantine)
    if quarantine:
        quarantined = ds.dataset(quarantine, format="parquet").count_rows()
    print(json.dumps({"rows": rows, "distinct_event_ids": distinct, "quarantined": quarantined}))


if __name__ == "__main__":
    main()
