"""The streaming job: Kafka topic -> contract-valid entries as Parquet (raw), the rest to quarantine.

    python -m jobs.weblog_stream --bootstrap-servers HOST:PORT --topic weblogs \
        --raw ROOT/events --quarantine ROOT/quarantine --checkpoint ROOT/_checkpoints --markers ROOT/_complete \
        [--input-format combined]   # web servers' access-log lines instead of JSON entries (jobs/access_log.py)

One query: every micro-batch is judged against the contract while its valid entries are written (its figures
observed on the rows the writer takes, every record's, those that are no entry filed under no hour and not output;
nothing cached); only its rejected records are read and judged again, for quarantine;
both outputs are committed exactly once, keyed by its batch id (jobs/batch_commits.py); what a
killed run left of an uncommitted batch is removed before that batch runs again (readers list folders).
An hour's marker is <markers>/dt=YYYY-MM-DD/hr=HH/_COMPLETE (JSON), see jobs/hour_completion.py.
Before it, an empty _PRESENT object goes into the hour's folder in raw and in quarantine.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

from pyspark.errors import StreamingQueryException
from pyspark.sql import Column, DataFrame, Observation, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQuery

from jobs import access_log, hadoop_files, hour_completion, kafka_login
from jobs.batch_commits import (
    BatchFigures,
    BatchLayout,
    CrashPoint,
    Figures,
    Output,
    crash_point_from,
    undo_unfinished,
    write_batch,
)
from jobs.hour_completion import CompletionTracker
from jobs.offset_gaps import FirstRead, planned_partitions, planned_range, record_gaps
from jobs.spark_sessions import job_session
from jobs.weblog_contract import DEFAULT_CONTRACT, load_contract
from jobs.weblog_parse import DEFAULT_MAX_PAST, IGNORED, Judging, filed_entry

log = logging.getLogger("weblog_stream")
MARKER_NAME = "_COMPLETE"
PRESENCE_NAME = "_PRESENT"
LATE_NAME = "_LATE"
QUERY_NAME = "weblogs"
SPARK_TIME = "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"


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
    p.add_argument("--completion-by-event-time-only", action="store_true",
                   help="complete hours by event time alone, not also by the time Kafka received the entries "
                        "(an accelerated sandbox clock, whose event times run ahead of Kafka's by design)")
    p.add_argument("--idle-complete-seconds", type=float, default=None,
                   help="also mark the latest hour complete after this long without new entries "
                        "(with --available-now: once the run has drained the topic, whatever the value)")
    p.add_argument("--max-future-seconds", type=int, default=3600,
                   help="quarantine entries whose event_time is this far after the Kafka timestamp (0: no bound)")
    p.add_argument("--max-past-seconds", type=int, default=int(DEFAULT_MAX_PAST.total_seconds()),
                   help="quarantine entries whose event_time is this far before the Kafka timestamp (0: no bound; "
                        "default 62 days, so a replay of last month's logs is admitted)")
    p.add_argument("--max-offsets-per-trigger", type=int, default=None)
    p.add_argument("--starting-offsets", default="earliest")
    p.add_argument("--min-partitions", type=int, default=None,
                   help="split each batch into at least this many tasks (default: the cores Spark has)")
    p.add_argument("--poll-seconds", type=float, default=2.0)
    p.add_argument("--kafka-option", action="append", default=[], type=kafka_option, metavar="kafka.KEY=VALUE",
                   help="a Kafka client setting for the source, repeatable (e.g. the SASL settings of Managed Kafka)")
    p.add_argument("--kafka-sasl-user", default=None, help="log in with SASL/SCRAM as this user (the stack's broker)")
    p.add_argument("--kafka-password-secret", default=None, metavar="projects/P/secrets/S",
                   help="the SCRAM password's Secret Manager secret, read when the job starts")
    access_log.add_arguments(p)
    args = p.parse_args(argv)
    try:
        if args.input_format == "combined":
            access_log.settings_from(args)
    except ValueError as exc:
        p.error(str(exc))
    return args


def kafka_option(text: str) -> tuple[str, str]:
    """'kafka.KEY=VALUE' -> (key, value): Spark hands options named kafka.* to the Kafka client."""
    key, sep, value = text.partition("=")
    if not sep or not key.startswith("kafka.") or key == "kafka.":
        raise argparse.ArgumentTypeError(f"expected kafka.KEY=VALUE, got '{text}'")
    return key, value


def kafka_source(spark: SparkSession, args: argparse.Namespace) -> DataFrame:
    reader = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", args.bootstrap_servers)
        .option("subscribe", args.topic)
        .option("startingOffsets", args.starting_offsets)
        # Offsets Kafka no longer holds (retention, DeleteRecords) cannot be read by any restart: the job goes on,
        # and each batch records the gap it met (jobs/offset_gaps.py) instead of crash-looping on it.
        .option("failOnDataLoss", "false")
    )
    if args.max_offsets_per_trigger:
        reader = reader.option("maxOffsetsPerTrigger", str(args.max_offsets_per_trigger))
    # A batch is judged in one task per Kafka partition unless split: with fewer partitions than cores
    # (a one-partition topic, a cluster grown past its topic), Spark splits each offset range so every
    # core judges a share. Offsets, and so the exactly-once commits, are unchanged.
    min_partitions = args.min_partitions or spark.sparkContext.defaultParallelism
    reader = reader.option("minPartitions", str(min_partitions))
    for key, value in args.kafka_option:
        reader = reader.option(key, value)
    if args.kafka_sasl_user and args.kafka_password_secret:
        password = kafka_login.secret_value(args.kafka_password_secret)
        reader = reader.option("kafka.sasl.jaas.config", kafka_login.scram_jaas_config(args.kafka_sasl_user, password))
    return reader.load()


def batch_layout(args: argparse.Namespace) -> BatchLayout:
    return BatchLayout(args.checkpoint, {"events": args.raw, "quarantine": args.quarantine})


def figure_columns(input_format: str, partitions: list[int]) -> list[Column]:
    """What a judged batch's figures are made of, as aggregates Spark observes on the rows it writes (Judging.filed(),
    no pass of their own): counts, the valid entries' event-time range, the latest Kafka time, where
    each given Kafka partition's reading began and, for access-log lines, what the lines were."""
    # A record that is no valid entry is filed under no hour, with what it is as its hr.
    valid = filed_entry()
    quarantined = ~valid & (F.col("hr") != IGNORED)
    in_partition = lambda p: F.col("kafka_partition") == p  # noqa: E731
    # Lists are joined as text: an observed array reaches Python as a Java object.
    return [
        F.count(F.when(valid, 1)).alias("rows"),
        F.count(F.when(quarantined, 1)).alias("quarantined"),
        F.date_format(F.min(F.when(valid, F.col("event_time"))), SPARK_TIME).alias("event_time_min"),
        F.date_format(F.max(F.when(valid, F.col("event_time"))), SPARK_TIME).alias("event_time_max"),
        F.date_format(F.max("kafka_timestamp"), SPARK_TIME).alias("received_max"),
        # Where each rejected record was read ("partition:offset,..."): the quarantine pass reads only those.
        F.array_join(F.collect_list(F.when(quarantined, F.concat_ws(":", "kafka_partition", "kafka_offset"))), ",")
        .alias("rejected_at"),
        *[F.min(F.when(in_partition(p), F.col("kafka_offset"))).alias(f"first_offset_{p}") for p in partitions],
        *[F.date_format(F.min(F.when(in_partition(p), F.col("kafka_timestamp"))), SPARK_TIME)
          .alias(f"first_received_{p}") for p in partitions],
        *(access_log.line_counts() if input_format == "combined" else []),
    ]


def batch_figures(metrics: dict, batch_id: int, input_format: str, partitions: list[int],
                  event_folders: tuple[str, ...] = ()) -> tuple[BatchFigures, FirstRead]:
    """The figures of figure_columns() as observed: the batch's, and the first record read of each partition
    that had one; its entries' hours are those of the partition folders its entries were written to
    (event_folders, "dt=2026-11-26/hr=14": what the commit lists anyway, not an aggregate over every entry).
    For access-log lines, logs what the lines were as `access log: {...}` (lines = raw + quarantined +
    ignored, which the sandbox and the tests add up)."""
    if input_format == "combined":
        counts = {k: metrics[k] for k in ("lines", *access_log.KINDS)}
        log.info("access log: %s", json.dumps({"query": QUERY_NAME, "batch": batch_id, **counts}))
    figures = BatchFigures(batch_id, metrics["rows"], metrics["quarantined"], metrics["event_time_min"],
                           metrics["event_time_max"], received_max=metrics["received_max"],
                           event_hours=tuple(hour_of(folder) for folder in event_folders))
    first_read = {p: (metrics[f"first_offset_{p}"], metrics[f"first_received_{p}"]) for p in partitions
                  if metrics[f"first_offset_{p}"] is not None}
    return figures, first_read


def hour_of(folder: str) -> str:
    """The hour (YYYY-MM-DDTHH) of a partition folder, "dt=2026-11-26/hr=14"."""
    dt, hr = (part.split("=", 1)[1] for part in folder.split("/"))
    return f"{dt}T{hr}"


def records_read_at(spark: SparkSession, batch: DataFrame, positions: str) -> DataFrame:
    """The batch's Kafka records read at the given positions ("partition:offset,...", figure_columns()'s
    rejected_at): a join with the few positions, so that only those records are mapped and judged again. The
    positions are split by Spark from the text as observed, not sent from Python row by row (which cost a
    second in a batch's first quarantine, and grows with the rejected records)."""
    at = F.split("position", ":")
    wanted = (spark.range(1).select(F.explode(F.split(F.lit(positions), ",")).alias("position"))
              .where(F.size(at) == 2).select(at[0].cast("int").alias("partition"), at[1].cast("long").alias("offset")))
    return batch.join(F.broadcast(wanted), ["partition", "offset"], "left_semi")


def start_query(spark: SparkSession, args: argparse.Namespace, done: list[BatchFigures],
                running: set[int], crash: CrashPoint | None = None) -> StreamingQuery:
    """One query: each batch is judged while its valid entries are written (its rejected records read and
    judged again for quarantine), both outputs committed exactly once.
    crash: where the process ends itself in a batch's commit (a test's CLICKSTREAM_CRASH_AT)."""
    contract = load_contract(hadoop_files.read_text(spark, args.contract))
    max_future = timedelta(seconds=args.max_future_seconds) if args.max_future_seconds > 0 else None
    max_past = timedelta(seconds=args.max_past_seconds) if args.max_past_seconds > 0 else None
    layout = batch_layout(args)
    judging = Judging(contract, max_future, max_past)  # its columns built once, for every batch
    figures_of: dict[tuple[int, ...], list[Column]] = {}  # figure_columns() of each batch's Kafka partitions

    def write(batch: DataFrame, batch_id: int) -> None:
        running.add(batch_id)
        try:
            started = time.monotonic()
            judged = judging.judge(access_log.records_for_format(batch, args, contract))
            planned = planned_range(spark, query_checkpoint(args), batch_id)
            partitions = planned_partitions(planned)
            observation = Observation(f"{QUERY_NAME}-batch-{batch_id}-{uuid.uuid4().hex}")
            key = tuple(partitions)
            if key not in figures_of:
                figures_of[key] = figure_columns(args.input_format, partitions)
            observed = judging.filed(judged).observe(observation, *figures_of[key])

            requarantined = Observation(f"{QUERY_NAME}-batch-{batch_id}-quarantine-{uuid.uuid4().hex}")

            def figures(folders: dict[str, tuple[str, ...]]) -> BatchFigures:
                # Observed while the valid entries were written: no pass over the batch of their own.
                counted, first_read = batch_figures(observation.get, batch_id, args.input_format, partitions,
                                                    folders.get("events", ()))
                # Counts in equal counts out: the quarantine holds exactly the records the first pass rejected.
                if counted.quarantined and requarantined.get["rows"] != counted.quarantined:
                    raise StreamFailed(f"batch {batch_id}: {counted.quarantined} records rejected, but "
                                       f"{requarantined.get['rows']} written to quarantine")
                log.info("batch %d: %d entries, %d quarantined, judged and written in %.1f s", batch_id,
                         counted.rows, counted.quarantined, time.monotonic() - started)
                record_gaps(spark, args.markers, batch_id, planned, first_read)
                return counted

            def quarantine() -> DataFrame | None:
                # Only when the first pass rejected records, and only those records are read and judged again:
                # a batch of valid entries is read, judged and written once, with nothing cached.
                if not observation.get["quarantined"]:
                    return None
                rejected = records_read_at(spark, batch, observation.get["rejected_at"])
                again = judging.judge(access_log.records_for_format(rejected, args, contract))
                return judging.quarantined(again).observe(requarantined, F.count(F.lit(1)).alias("rows"))

            def prepare() -> tuple[Figures, dict[str, Output]]:
                return figures, {"events": observed, "quarantine": quarantine}

            if crash is None:
                done.append(write_batch(spark, layout, batch_id, prepare))
            else:
                done.append(write_batch(spark, layout, batch_id, prepare,
                                        at_step=lambda step: crash.reached(step, batch_id)))
            log.info("batch %d: committed %.1f s after it started", batch_id, time.monotonic() - started)
        finally:
            running.discard(batch_id)

    trigger = {"availableNow": True} if args.available_now else {"processingTime": f"{args.trigger_seconds} seconds"}
    return (
        kafka_source(spark, args).writeStream.queryName(QUERY_NAME).foreachBatch(write)
        .option("checkpointLocation", query_checkpoint(args))
        .trigger(**trigger).start()
    )


def query_checkpoint(args: argparse.Namespace) -> str:
    return f"{args.checkpoint.rstrip('/')}/{QUERY_NAME}"


def latest_marked_hour(spark: SparkSession, markers: str) -> datetime | None:
    return hour_completion.latest_marked_hour(hadoop_files.list_files(spark, markers), MARKER_NAME)


def earliest_committed_hour(spark: SparkSession, sink: str) -> datetime | None:
    """The earliest hour with a partition folder in the sink (one listing of its dt=*/hr=* folders)."""
    return hour_completion.earliest_hour(hadoop_files.list_folders(spark, f"{sink.rstrip('/')}/dt=*/hr=*"))


def count_by_hour(spark: SparkSession, sink: str, hours: list[datetime]) -> dict[tuple[str, int], int]:
    """Committed rows per (dt, hr) of the given hours: the row counts in the Parquet footers of the data files
    Spark reads in those hours' folders (hadoop_files.DATA_FILE), read by the driver. One listing of the
    asked hours' folders a day, not of the whole sink, and no Spark job (which took about 0.3 s of the cores a
    marker round, beside the batch being written)."""
    asked = {(f"{hour:%Y-%m-%d}", hour.hour) for hour in hours}
    files: dict[tuple[str, int], list[str]] = {}  # (dt, hr) -> its data files
    for day in sorted({dt for dt, _ in asked}):
        # The day written out, so that Cloud Storage's connector lists no more than that day's folder.
        hrs = ",".join(f"{hr:02d}" for dt, hr in sorted(asked) if dt == day)
        pattern = f"{sink.rstrip('/')}/dt={day}/hr={{{hrs}}}/{hadoop_files.DATA_FILE}"
        for path in hadoop_files.glob_files(spark, pattern):
            files.setdefault((day, int(path.rsplit("/", 2)[1].split("=", 1)[1])), []).append(path)
    paths = [path for hour_files in files.values() for path in hour_files]
    rows = iter(hadoop_files.parquet_rows(spark, paths))
    return {key: sum(next(rows) for _ in hour_files) for key, hour_files in files.items()}


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


def write_late_notices(spark: SparkSession, args: argparse.Namespace, batch: BatchFigures,
                       marked_until: datetime | None) -> None:
    """Entries committed for an hour already marked complete: <markers>/dt=/hr=/_LATE (JSON, rewritten by
    each such batch), which makes the scheduler run the hour again within its late window."""
    if marked_until is None:
        return
    for hour in batch.event_hours:
        if datetime.strptime(hour, "%Y-%m-%dT%H").replace(tzinfo=UTC) > marked_until:
            continue
        dt, hr = hour.split("T")
        body = {"hour": hour, "batch": batch.batch_id, "written_at": datetime.now(UTC).isoformat()}
        hadoop_files.write_text(spark, f"{args.markers.rstrip('/')}/dt={dt}/hr={hr}/{LATE_NAME}", json.dumps(body))
        log.info("late entries: %s", json.dumps(body))


def hour_presence_marker(sink: str, dt: str, hr: str) -> str:
    """An empty object that makes the hour's partition folder exist even when the hour has no row there
    (a name starting with '_' is skipped by Hive, Spark and the uncommitted-file clean-up)."""
    return f"{sink.rstrip('/')}/dt={dt}/hr={hr}/{PRESENCE_NAME}"


def failure_text(exc: Exception) -> str:
    # Spark's message ends with the query's whole plan and the JVM stack: the cause, which comes first, is enough.
    return str(getattr(exc, "desc", exc)).split("\n=== Streaming Query ===")[0].strip()


def mark_complete_hours(spark: SparkSession, args: argparse.Namespace, tracker: CompletionTracker,
                        drained: bool = False, read_until: datetime | None = None) -> None:
    # The tracker hands out a bounded number of hours per call, oldest first: ask until none is left.
    while hours := tracker.hours_to_mark(time.monotonic(), drained=drained, read_until=read_until):
        write_markers(spark, args, hours)


def refuse_two_query_checkpoint(spark: SparkSession, args: argparse.Namespace) -> None:
    root = args.checkpoint.rstrip("/")
    if not hadoop_files.exists(spark, f"{root}/{QUERY_NAME}") and any(
            hadoop_files.exists(spark, f"{root}/{old}/offsets") for old in ("events", "quarantine")):
        raise StreamFailed(f"the checkpoint {root} holds the per-sink queries of an earlier version of the job; "
                           "drain the topic with that version, then start this one with a new checkpoint folder")


def write_any_timestamp(spark: SparkSession) -> None:
    """Every timestamp an entry or a Kafka record can carry is written as it is: Spark's default refuses to
    write one before 1900 (the calendar rebase of INT96 and of old dates), which would fail the batch on
    every replay. Hive and Spark 3 read the proleptic Gregorian calendar Parquet then holds."""
    for key in ("spark.sql.parquet.int96RebaseModeInWrite", "spark.sql.parquet.datetimeRebaseModeInWrite"):
        spark.conf.set(key, "CORRECTED")


def judging_settings(spark: SparkSession) -> None:
    """The contract's rules make one large expression: above 8000 bytes of bytecode the JVM never compiles
    a method, so Spark generates code per expression (small methods) instead of one for the whole stage."""
    spark.conf.set("spark.sql.codegen.hugeMethodLimit", "8000")


def run(spark: SparkSession, args: argparse.Namespace, crash: CrashPoint | None = None) -> None:
    judging_settings(spark)
    write_any_timestamp(spark)
    refuse_two_query_checkpoint(spark, args)
    for path in undo_unfinished(spark, batch_layout(args)):
        log.warning("removed a file of a batch an interrupted run did not commit: %s", path)
    marked_until = latest_marked_hour(spark, args.markers)
    tracker = CompletionTracker(
        grace=timedelta(seconds=args.grace_seconds),
        idle=None if args.idle_complete_seconds is None else timedelta(seconds=args.idle_complete_seconds),
        marked_until=marked_until,
        # No marker yet: an earlier run may have committed hours and ended before marking them.
        first_hour=earliest_committed_hour(spark, args.raw) if marked_until is None else None,
        idle_only_when_drained=args.available_now,
    )
    done: list[BatchFigures] = []  # appended by the query's thread once a batch is committed
    running: set[int] = set()  # ids of the batches the query's thread is writing
    started = datetime.now(UTC)
    query = start_query(spark, args, done, running, crash)
    stopping = []
    previous_handler = signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))

    def feed() -> None:
        if running:  # a batch runs only when entries arrived
            tracker.observe_batch_running(time.monotonic())
        while done:
            batch = done.pop(0)
            write_late_notices(spark, args, batch, tracker.marked_until)
            tracker.observe_batch(batch.rows + batch.quarantined, batch.event_time_min, batch.event_time_max,
                                  time.monotonic(),
                                  received_max=None if args.completion_by_event_time_only else batch.received_max)

    try:
        while query.isActive and not stopping:
            try:
                query.awaitTermination(args.poll_seconds)
            except StreamingQueryException:
                break  # reported below
            feed()
            # Quiet for --idle-complete-seconds with no batch running: every record Kafka had received that
            # long ago has been read (triggers are shorter), so Kafka's time has moved on that far.
            idle = timedelta(seconds=args.idle_complete_seconds or 0)
            mark_complete_hours(spark, args, tracker, read_until=datetime.now(UTC) - idle)
        query.stop()  # a stop between batches: committed batches stay committed, nothing half-written counts
        if query.exception() is not None:
            raise StreamFailed(f"streaming query {query.name} failed: {failure_text(query.exception())}")
        feed()
        # A drained --available-now run has read every record Kafka had received when it started.
        mark_complete_hours(spark, args, tracker, drained=args.available_now and not stopping, read_until=started)
    finally:
        signal.signal(signal.SIGTERM, previous_handler)
        if query.isActive:
            query.stop()


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    args = parse_args(argv)
    try:
        crash = crash_point_from(os.environ)  # before the JVM starts: a wrong name fails at once
    except ValueError as exc:
        log.error("%s", exc)
        return 2
    spark = job_session("weblog-stream", kafka=True)
    try:
        run(spark, args, crash)
    except StreamFailed as exc:
        log.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
