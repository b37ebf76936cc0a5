"""Profile of the streaming job's work on one batch: where its time goes, stage by stage and step by step,
measured in one local[2] Spark session on one in-memory batch of contract-valid entries (the streaming
benchmark's entries, bench/streaming_bench.py), so every figure is comparable with the others of the run.

    .venv/bin/python bench/judge_profile.py [--entries 500000] [--repeat 3]

Each stage figure is the fastest of --repeat runs of one Spark job over the cached batch, minus the same job
doing nothing but reading the cache (the baseline of its table). Stages: Spark's own reader (from_json and the
time's cast), the job's reader (the compiled judge, jobs/judge, with no rule: its one parse and the time), the
same with every rule, the whole judge() frame. Then, in rounds (each in an order of its own), the parse floor's
work written as Parquet (with the job's reader and with Spark's; the raw table's every column, its ingest time
included), and the job's own steps, each judging the batch again as the job does: the valid entries' Parquet with no
rule judged, with the batch's figures observed on the way, and the quarantine's second judging and Parquet, of
the whole batch as before and of 1% of its records found by their positions as now (whole times, not minus the
read). Then what a batch pays whatever its size: building its frame, the code Spark compiles for it, marker files.
No Kafka: the read from the broker is the streaming benchmark's reference.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pyspark.sql import DataFrame, Observation  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402
from pyspark.storagelevel import StorageLevel  # noqa: E402

from bench.streaming_bench import entry_values, floor_columns, from_json_columns  # noqa: E402
from jobs import hadoop_files  # noqa: E402
from jobs.spark_sessions import local_session  # noqa: E402
from jobs.weblog_contract import load_contract  # noqa: E402
from jobs.weblog_parse import (  # noqa: E402
    DEFAULT_MAX_PAST,
    Judging,
    judge,
    judge_function,
    judge_program,
    split,
)
from jobs.weblog_stream import batch_figures, figure_columns, judging_settings, records_read_at  # noqa: E402


def fastest(repeat: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.monotonic()
        action()
        times.append(time.monotonic() - start)
    return min(times)


def noop(frame: DataFrame) -> Callable[[], object]:
    """Runs the frame's whole projection for every row, writing nothing."""
    return lambda: frame.write.format("noop").mode("overwrite").save()


def cached(frame: DataFrame) -> DataFrame:
    frame = frame.persist(StorageLevel.MEMORY_ONLY)
    frame.count()
    return frame


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--entries", type=int, default=500_000)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    spark = local_session("judge-profile", kafka=False)
    judging_settings(spark)  # the job's own
    contract = load_contract()
    max_future, max_past = None, DEFAULT_MAX_PAST  # as the streaming benchmark runs the job
    cores = spark.sparkContext.defaultParallelism
    records = cached(entry_values(spark, args.entries).repartition(cores).select(
        F.col("value").cast("binary").alias("value"), F.lit(0).alias("partition"),
        F.monotonically_increasing_id().alias("offset"), F.current_timestamp().alias("timestamp")))
    run = lambda frame: fastest(args.repeat, noop(frame))  # noqa: E731

    print(f"entries: {args.entries:,} contract-valid, {cores} cores, fastest of {args.repeat}")
    print("\n| stage | seconds | share of judge() |\n| --- | --- | --- |")
    read = run(records.select("value"))
    program = judge_program(contract, max_future, max_past)

    def reader(rules: list[dict]):
        return judge_function(spark, {**program, "rules": rules})(F.col("value"), F.unix_micros("timestamp"))

    no_rule = judge_function(spark, {**program, "rules": []})(F.col("raw_value"), F.unix_micros("kafka_timestamp"))
    stages = {
        "Spark's reader: from_json and the time's cast (the parse floor until 2026-12-07)":
            from_json_columns(records, contract),
        "the job's reader: the compiled judge with no rule (one parse, the time)": records.select(reader([])),
        f"+ every rule (all {len(program['rules'])})": records.select(reader(program["rules"])),
        "judge(): + outcome, filed hour": judge(records, contract, max_future, max_past),
    }
    figures = {name: run(frame) - read for name, frame in stages.items()}
    whole = figures["judge(): + outcome, filed hour"]
    for name, seconds in figures.items():
        print(f"| {name} | {seconds:.2f} | {seconds / whole:.2f} |")

    work = Path(tempfile.mkdtemp(prefix="judge-profile-"))
    try:
        # The job's own steps (jobs/weblog_stream.py): the valid entries written while their figures are
        # observed, then, only for a batch with rejected records, the quarantine judged and written again.
        judging = Judging(contract, max_future, max_past)
        judged = judging.judge(records)
        one_in_a_hundred = ",".join(f"0:{r.offset}" for r in records.where(F.rand(7) < 0.01).select("offset")
                                    .collect())

        def valid_observed() -> None:
            # As the job writes it: every record filed, the figures observed on the rows the writer takes.
            observation = Observation(f"profile-{uuid.uuid4().hex}")
            observed = judging.filed(judged).observe(observation, *figure_columns("json", [0]))
            observed.write.mode("overwrite").partitionBy("dt", "hr").parquet(str(work / "v"))
            batch_figures(observation.get, 0, "json", [0])

        def parquet(frame: DataFrame, name: str) -> Callable[[], object]:
            return lambda: frame.write.mode("overwrite").partitionBy("dt", "hr").parquet(str(work / name))

        steps = {
            "the parse floor's work: the job's reader, the columns, Parquet by hour (the streaming benchmark's "
            "floor)": parquet(floor_columns(records, contract), "f"),
            "the same with Spark's reader (from_json, the cast)": parquet(from_json_columns(records, contract), "s"),
            "valid Parquet, no rule judged (every reason empty)": parquet(
                split(judge(records, contract, max_future, max_past, no_rule), contract)[0], "n"),
            "valid Parquet, figures observed (the job's one pass)": valid_observed,
            "valid Parquet alone (what observing the figures adds is the difference)": lambda: split(
                judged, contract)[0].write.mode("overwrite").partitionBy("dt", "hr").parquet(str(work / "v")),
            "the whole batch judged again for quarantine (before: any batch with a rejected record)": lambda: split(
                judged, contract)[1].write.mode("overwrite").partitionBy("dt", "hr").parquet(str(work / "q")),
            "1% of its records found by position, judged again for quarantine (now)": lambda: split(
                judge(records_read_at(spark, records, one_in_a_hundred), contract, max_future, max_past),
                contract)[1].write.mode("overwrite").partitionBy("dt", "hr").parquet(str(work / "q")),
        }
        # In rounds, each step once a round, so a busy moment and the first run's warm-up slow them alike; each
        # round in an order of its own (seeded), so no step always follows the same one.
        rounds = [{name: fastest(1, steps[name]) for name in random.Random(r).sample(list(steps), len(steps))}
                  for r in range(args.repeat)]
        for name in steps:
            seconds = min(r[name] for r in rounds)
            print(f"| {name} | {seconds:.2f} | {seconds / whole:.2f} |")
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"baseline read: records {read:.2f} s")
    per_batch_costs(spark, contract, records, max_future, max_past)
    return 0


def per_batch_costs(spark, contract, records: DataFrame, max_future, max_past) -> None:
    """What each batch pays whatever its size: building its judged frame (Python and the analyzer, the columns
    built once as the job builds them), the generated code Spark compiles for it, and (per hour it completes)
    the three small files of a marker."""
    metrics = spark.sparkContext._jvm.org.apache.spark.metrics.source.CodegenMetrics
    small = records.limit(1000)
    builds, compilations = [], []
    judging = Judging(contract, max_future, max_past)  # once, as the job does; each batch's frames built with it
    for _ in range(3):
        before = metrics.METRIC_COMPILATION_TIME().getCount()
        start = time.monotonic()
        valid = judging.split(judging.judge(small))[0]
        builds.append(time.monotonic() - start)
        valid.write.format("noop").mode("overwrite").save()
        compilations.append(metrics.METRIC_COMPILATION_TIME().getCount() - before)
    work = Path(tempfile.mkdtemp(prefix="judge-profile-markers-"))
    try:
        writes = 30
        start = time.monotonic()
        for i in range(writes):
            hadoop_files.write_text(spark, str(work / f"dt=2026-11-29/hr={i:02d}/_COMPLETE"), "{}")
        marker_file = (time.monotonic() - start) / writes
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nper batch: its judged frame built in {min(builds):.2f} s (fastest of 3), "
          f"{min(compilations)} classes compiled for a 1,000-entry batch after the first; "
          f"per marker file (3 an hour): {marker_file * 1000:.0f} ms on this file system")


if __name__ == "__main__":
    sys.exit(main())
