"""The streaming job: Kafka topic -> contract-valid entries as Parquet (raw), the rest to quarantine.

    python -m jobs.weblog_stream --bootstrap-servers HOST:PORT --topic weblogs \
        --raw ROOT/events --quarantine ROOT/quarantine --checkpoint ROOT/_checkpoints --markers ROOT/_complete \
        [--input-format combined]   # web servers' access-log lines instead of JSON entries (jobs/access_log.py)

Exactly once into the raw location: each output is a file sink with its own checkpoint, and files that a
killed run wrote but never committed are removed at start-up (Hive reads folders, not Spark's log).
An hour's marker is <markers>/dt=YYYY-MM-DD/hr=HH/_COMPLETE (JSON), see jobs/hour_completion.py.
Before it, an empty _PRESENT object goes into the hour's folder in raw and in quarantine.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pyspark.errors import AnalysisException, StreamingQueryException
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQuery

from jobs import access_log, hadoop_files
from jobs.hour_completion import CompletionTracker
from jobs.spark_sessions import job_session
from jobs.weblog_contract import DEFAULT_CONTRACT, load_contract
from jobs.weblog_parse import parse

log = logging.getLogger("weblog_stream")
MARKER_NAME = "_COMPLETE"
PRESENCE_NAME = "_PRESENT"


class StreamFailed(RuntimeError):
    """A streaming query stopped with an error: the job ends with it instead of marking more hours."""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bootstrap-servers", required=True)
    p.add_argument("--topic", default="weblogs")
    p.add_argument("--raw", required=True, help="folder of the raw Parquet (events), gs:// or local")
    p.add_argument("--quarantine", required=True, help="folder of the quarantined records")
    p.add_argument("--checkpoint", required=True, help="checkpoint folder (next to the data)")
    p.add_argument("--markers", required=True, help="folder of the hour-completion markers")
    p.add_argument("--contract", default=str(DEFAULT_CONTRACT), help="weblog-entry.schema.json (gs:// or local)")
    p.add_argument("--trigger-seconds", type=float, default=60.0, help="micro-batch interval (default 1 min)")
    p.add_argument("--available-now", action="store_true",
                   help="process what the topic holds now, mark hours, then stop (batch-style runs)")
    p.add_argument("--grace-seconds", type=int, default=600,
                   help="an hour is complete when the latest event_time is this far past its end")
    p.add_argument("--idle-complete-seconds", type=float, default=None,
                   help="also mark the latest hour complete after this long without new entries "
                        "(with --available-now: once the run has drained the topic, whatever the value)")
    p.add_argument("--max-future-seconds", type=int, default=3600,
                   help="quarantine entries whose event_time is this far after the Kafka timestamp")
    p.add_argument("--max-offsets-per-trigger", type=int, default=None)
    p.add_argument("--starting-offsets", default="earliest")
    p.add_argument("--poll-seconds", type=float, default=2.0)
    access_log.add_arguments(p)
    args = p.parse_args(argv)
    try:
        if args.input_format == "combined":
            access_log.settings_from(args)
    except ValueError as exc:
        p.error(str(exc))
    return args


def kafka_source(spark: SparkSession, args: argparse.Namespace) -> DataFrame:
    reader = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", args.bootstrap_servers)
        .option("subscribe", args.topic)
        .option("startingOffsets", args.starting_offsets)
        # Entries are never skipped silently: a gap in the topic (retention) stops the job.
        .option("failOnDataLoss", "true")
    )
    if args.max_offsets_per_trigger:
        reader = reader.option("maxOffsetsPerTrigger", str(args.max_offsets_per_trigger))
    return reader.load()


def committed_file_names(spark: SparkSession, sink: str) -> set[str]:
    """Names of the data files a file sink has committed, from its _spark_metadata log."""
    names = set()
    for log_file in hadoop_files.list_files(spark, f"{sink}/_spark_metadata"):
        if Path(log_file).name.startswith("."):
            continue
        for line in hadoop_files.read_text(spark, log_file).splitlines()[1:]:  # line 1 is the version
            entry = json.loads(line)
            if entry.get("action", "add") == "add":
                names.add(entry["path"].rsplit("/", 1)[-1])
    return names


def remove_uncommitted_files(spark: SparkSession, sink: str) -> list[str]:
    """Deletes data files under sink that no committed batch lists (left by a run killed mid-batch).
    A folder without the sink's log was not written by this job: it is left alone."""
    if not hadoop_files.exists(spark, f"{sink}/_spark_metadata"):
        return []
    committed = committed_file_names(spark, sink)
    root = hadoop_files.qualified(spark, sink).rstrip("/") + "/"
    removed = []
    for path in hadoop_files.list_files(spark, sink):
        # Only names below the sink matter: Hive skips '_' and '.' names there (the log, checksums).
        if any(part.startswith(("_", ".")) for part in path.removeprefix(root).split("/")):
            continue
        if Path(path).name not in committed:
            hadoop_files.delete(spark, path)
            removed.append(path)
    return removed


def start_queries(spark: SparkSession, args: argparse.Namespace) -> tuple[StreamingQuery, StreamingQuery]:
    contract = load_contract(hadoop_files.read_text(spark, args.contract))
    valid, bad = parse(
        access_log.records_for_format(kafka_source(spark, args), args, contract),
        contract,
        max_future=timedelta(seconds=args.max_future_seconds) if args.max_future_seconds > 0 else None,
    )
    # No stateful operator follows, so the watermark drops nothing: it only yields event-time progress.
    valid = valid.withWatermark("event_time", f"{args.grace_seconds} seconds")

    def sink(df: DataFrame, path: str, name: str) -> StreamingQuery:
        writer = (
            df.writeStream.format("parquet")
            .queryName(name)
            .partitionBy("dt", "hr")
            .option("path", path)
            .option("checkpointLocation", f"{args.checkpoint.rstrip('/')}/{name}")
            .outputMode("append")
        )
        trigger = {"availableNow": True} if args.available_now else {
            "processingTime": f"{args.trigger_seconds} seconds"}
        return writer.trigger(**trigger).start()

    return sink(valid, args.raw, "events"), sink(bad, args.quarantine, "quarantine")


def latest_marked_hour(spark: SparkSession, markers: str) -> datetime | None:
    hours = []
    for path in hadoop_files.list_files(spark, markers):
        parts = dict(p.split("=", 1) for p in path.split("/") if p.startswith(("dt=", "hr=")))
        if path.endswith(MARKER_NAME) and {"dt", "hr"} <= set(parts):
            hours.append(datetime.strptime(f"{parts['dt']}T{parts['hr']}", "%Y-%m-%dT%H").replace(tzinfo=UTC))
    return max(hours, default=None)


def count_by_hour(spark: SparkSession, sink: str, hours: list[datetime]) -> dict[tuple[str, int], int]:
    """Committed rows per (dt, hr) of the given hours, in one Spark job."""
    if not hours or not hadoop_files.exists(spark, f"{sink}/_spark_metadata"):
        return {}
    wanted = F.lit(False)
    for hour in hours:
        wanted = wanted | ((F.col("dt") == hour.strftime("%Y-%m-%d")) & (F.col("hr") == hour.hour))
    try:
        rows = spark.read.parquet(sink).where(wanted).groupBy("dt", "hr").count().collect()
    except AnalysisException as exc:  # a sink that has committed no file yet has no schema to read
        if "infer schema" in str(exc).lower() or "UNABLE_TO_INFER_SCHEMA" in str(exc):
            return {}
        raise
    return {(str(r["dt"]), int(r["hr"])): r["count"] for r in rows}


def write_markers(spark: SparkSession, args: argparse.Namespace, hours: list[datetime]) -> None:
    rows, quarantined = count_by_hour(spark, args.raw, hours), count_by_hour(spark, args.quarantine, hours)
    for hour in hours:
        dt, hr = hour.strftime("%Y-%m-%d"), hour.strftime("%H")
        body = {
            "hour": hour.strftime("%Y-%m-%dT%H"),
            "rows": rows.get((dt, hour.hour), 0),
            "quarantined": quarantined.get((dt, hour.hour), 0),
            "written_at": datetime.now(UTC).isoformat(),
        }
        for sink in (args.raw, args.quarantine):
            # The Hive cluster may only read raw: its metastore must find every partition folder it is given.
            hadoop_files.write_text(spark, hour_presence_marker(sink, dt, hr), "")
        marker = f"{args.markers.rstrip('/')}/dt={dt}/hr={hr}/{MARKER_NAME}"
        hadoop_files.write_text(spark, marker, json.dumps(body))
        log.info("hour complete: %s", json.dumps(body))


def hour_presence_marker(sink: str, dt: str, hr: str) -> str:
    """An empty object that makes the hour's partition folder exist even when the hour has no row there
    (a name starting with '_' is skipped by Hive, Spark and the uncommitted-file clean-up)."""
    return f"{sink.rstrip('/')}/dt={dt}/hr={hr}/{PRESENCE_NAME}"


def failure_text(exc: Exception) -> str:
    # Spark's message ends with the query's whole plan and the JVM stack: the cause, which comes first, is enough.
    return str(getattr(exc, "desc", exc)).split("\n=== Streaming Query ===")[0].strip()


def mark_complete_hours(spark: SparkSession, args: argparse.Namespace, tracker: CompletionTracker,
                        drained: bool = False) -> None:
    # The tracker hands out a bounded number of hours per call, oldest first: ask until none is left.
    while hours := tracker.hours_to_mark(time.monotonic(), drained=drained):
        write_markers(spark, args, hours)


def run(spark: SparkSession, args: argparse.Namespace) -> None:
    for sink in (args.raw, args.quarantine):
        for path in remove_uncommitted_files(spark, sink):
            log.warning("removed uncommitted file of an interrupted run: %s", path)
    tracker = CompletionTracker(
        grace=timedelta(seconds=args.grace_seconds),
        idle=None if args.idle_complete_seconds is None else timedelta(seconds=args.idle_complete_seconds),
        marked_until=latest_marked_hour(spark, args.markers),
        idle_only_when_drained=args.available_now,
    )
    events, quarantine = start_queries(spark, args)
    stopping = []
    previous_handler = signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    seen: dict[str, str] = {}

    def feed() -> None:
        now = time.monotonic()
        for query, observe in ((quarantine, tracker.observe_quarantine),
                               (events, lambda p: tracker.observe_events(p, now))):
            for progress in query.recentProgress:
                if progress["timestamp"] > seen.get(query.name, ""):
                    seen[query.name] = progress["timestamp"]
                    observe(progress)

    try:
        while (events.isActive or quarantine.isActive) and not stopping:
            try:
                events.awaitTermination(args.poll_seconds)
                quarantine.awaitTermination(0.01)
            except StreamingQueryException:
                break  # reported below, with the failed query's name
            feed()
            mark_complete_hours(spark, args, tracker)
        for query in (events, quarantine):
            query.stop()  # a stop between batches: committed batches stay committed, nothing half-written counts
        failed = [query for query in (events, quarantine) if query.exception() is not None]
        if failed:
            raise StreamFailed("; ".join(f"streaming query {q.name} failed: {failure_text(q.exception())}"
                                         for q in failed))
        feed()
        mark_complete_hours(spark, args, tracker, drained=args.available_now and not stopping)
    finally:
        signal.signal(signal.SIGTERM, previous_handler)
        for query in (events, quarantine):
            if query.isActive:
                query.stop()


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    args = parse_args(argv)
    spark = job_session("weblog-stream", kafka=True)
    try:
        run(spark, args)
    except StreamFailed as exc:
        log.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
