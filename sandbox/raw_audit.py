"""Audits the raw bucket as Hive sees it: rows, distinct event_ids and quarantined entries.

Reads every visible Parquet file under the events folder (Hive skips names starting with '_' or '.',
and so does this), so a file left behind by a killed job counts here exactly as it would downstream.
Prints one JSON object: {"rows", "distinct_event_ids", "quarantined"}.
"""

import argparse
import json
import pathlib


def visible_files(root: pathlib.Path, suffixes: tuple[str, ...]) -> list[str]:
    if not root.exists():
        return []
    return sorted(
        str(p)
        for p in root.rglob("*")
        if p.is_file()
        and p.name.endswith(suffixes)
        and not any(part.startswith(("_", ".")) for part in p.relative_to(root).parts)
    )


def audit_with_pyarrow(events: list[str], quarantine: dict[str, list[str]]) -> tuple[int, int, int]:
    import pyarrow.dataset as ds  # noqa: PLC0415 (optional: absent or broken, Spark does the same)

    rows = distinct = 0
    if events:
        ids = ds.dataset(events, format="parquet").to_table(columns=["event_id"]).column("event_id")
        rows, distinct = len(ids), len(set(ids.to_pylist()))
    quarantined = sum(ds.dataset(f, format=fmt).count_rows() for fmt, f in quarantine.items() if f)
    return rows, distinct, quarantined


def audit_with_spark(events: list[str], quarantine: dict[str, list[str]]) -> tuple[int, int, int]:
    from pyspark.sql import SparkSession  # noqa: PLC0415

    spark = (
        SparkSession.builder.master("local[1]")
        .appName("raw-audit")
        .config("spark.ui.enabled", "false")
        .getOrCreate()
    )
    try:
        rows = distinct = 0
        if events:
            df = spark.read.parquet(*events).select("event_id")
            rows, distinct = df.count(), df.distinct().count()
        quarantined = sum(spark.read.format(fmt).load(f).count() for fmt, f in quarantine.items() if f)
        return rows, distinct, quarantined
    finally:
        spark.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", required=True, type=pathlib.Path)
    parser.add_argument("--quarantine", required=True, type=pathlib.Path)
    args = parser.parse_args()

    events = visible_files(args.events, (".parquet",))
    quarantine = {fmt: visible_files(args.quarantine, (f".{fmt}",)) for fmt in ("parquet", "json")}
    try:
        rows, distinct, quarantined = audit_with_pyarrow(events, quarantine)
    except ImportError:
        rows, distinct, quarantined = audit_with_spark(events, quarantine)
    print(json.dumps({"rows": rows, "distinct_event_ids": distinct, "quarantined": quarantined}))


if __name__ == "__main__":
    main()
