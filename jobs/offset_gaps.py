"""Offsets the stream could not read because Kafka no longer held them (retention, DeleteRecords): found by
comparing each batch's planned offset ranges (the checkpoint's offset log) with the first offset it really
read per partition, recorded as <markers>/_gaps/batch=N.json and logged as `offsets lost: {...}` (an alert
reads that line). The stream goes on from the earliest offset Kafka still holds."""

from __future__ import annotations

import json
import logging

from pyspark.sql import SparkSession

from jobs import hadoop_files

log = logging.getLogger("weblog_stream")
GAPS_FOLDER = "_gaps"
# Per Kafka partition a batch read: its first offset, and when Kafka received that record (ISO text).
FirstRead = dict[int, tuple[int, str | None]]


def planned_offsets(spark: SparkSession, query_checkpoint: str, batch_id: int) -> dict[str, dict[str, int]] | None:
    """{topic: {partition: offset}} the offset log holds for a batch: where it ends, and where the next starts."""
    path = f"{query_checkpoint.rstrip('/')}/offsets/{batch_id}"
    if batch_id < 0 or not hadoop_files.exists(spark, path):
        return None
    lines = hadoop_files.read_text(spark, path).splitlines()
    return json.loads(lines[2])  # "v1", the batch's metadata, then the one source's offsets


def planned_range(spark: SparkSession, query_checkpoint: str,
                  batch_id: int) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]] | None:
    """Where a batch was planned to start (the previous batch's end) and to end, from the offset log, read once
    per batch; None when the log cannot tell (the first batch, or a log cut short)."""
    start = planned_offsets(spark, query_checkpoint, batch_id - 1)
    end = planned_offsets(spark, query_checkpoint, batch_id)
    return None if start is None or end is None else (start, end)


def planned_partitions(planned: tuple[dict, dict] | None) -> list[int]:
    """The Kafka partitions of a planned range: those record_gaps() needs the first record read of."""
    return [] if planned is None else sorted({int(p) for partitions in planned[1].values() for p in partitions})


def find_gaps(start: dict[str, dict[str, int]], end: dict[str, dict[str, int]],
              first_read: FirstRead) -> list[dict]:
    """Each partition whose first offset read (or, reading none, whose planned end) lies past its planned start."""
    gaps = []
    for topic, partitions in end.items():
        for partition, until in sorted(partitions.items(), key=lambda p: int(p[0])):
            planned = start.get(topic, {}).get(partition)
            if planned is None or until <= planned:
                continue
            resumed, received = first_read.get(int(partition), (until, None))
            if resumed > planned:
                gaps.append({"topic": topic, "partition": int(partition), "from_offset": planned,
                             "to_offset": resumed, "lost": resumed - planned, "next_received": received})
    return gaps


def record_gaps(spark: SparkSession, markers: str, batch_id: int, planned: tuple[dict, dict] | None,
                first_read: FirstRead) -> list[dict]:
    """Finds the offsets this batch should have read but Kafka no longer held; records and logs each gap.
    planned: planned_range() of the batch; first_read: per partition read, its first offset and when Kafka
    received it."""
    if planned is None:
        return []
    gaps = find_gaps(*planned, first_read)
    if gaps:
        body = {"batch": batch_id, "gaps": gaps}
        hadoop_files.write_text(spark, f"{markers.rstrip('/')}/{GAPS_FOLDER}/batch={batch_id}.json", json.dumps(body))
        for gap in gaps:
            log.error("offsets lost: %s", json.dumps({"batch": batch_id, **gap}))
    return gaps
