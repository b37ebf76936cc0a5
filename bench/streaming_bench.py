"""Benchmark: the streaming job's time per million entries, beside Spark reading the same topic with no
parsing (the same Kafka source and Parquet file sink, value written as is) and beside the parse floor
(the same read, each entry read by the job's own reader with no rule and written as the raw table's columns,
partitioned by hour: what any job writing the entries must do, with no contract rule, no quarantine and no
commit, in one batch); for the record, beside the same floor read in the job's batches (what Spark's
micro-batches cost any job reading a backlog in bounded batches) and, with --from-json, beside the floor with
Spark's own reader (from_json and the cast, the parse floor until 2026-12-07). Every run splits the one-partition
topic over the cores (minPartitions), as the job does. Each figure is the fastest of --repeat rounds (3), the
rounds interleaving the runs. Prints the ratios for each size, and how the job's cost per million entries at the
largest size compares with the smallest.

    .venv/bin/python bench/streaming_bench.py [--entries 300000 [3000000 ...]] [--repeat 3] [--from-json]

Starts its own Kafka broker (sandbox/processes/kafkaBroker.ts) in a temporary folder; stops it and removes the
folder (the topics and every run's output: about 2.5 GB at 3M) at the end.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pyspark.sql import functions as F  # noqa: E402

from jobs.spark_sessions import local_session  # noqa: E402
from jobs.weblog_contract import load_contract  # noqa: E402
from jobs.weblog_parse import batch_time, judge_function, judge_program  # noqa: E402
from jobs.weblog_stream import parse_args, run  # noqa: E402

# The job's bound on a batch (--max-offsets-per-trigger): a deployment bounds its batches too (stacks/streaming.ts,
# maxOffsetsPerTrigger: 200,000 on the default two cores), so a backlog drains in batches, not at once.
JOB_BATCH = 500_000


def entry_values(spark, entries: int):
    """Contract-valid entries spread over 24 hours, one column `value` (JSON); one in three is an add-to-cart."""
    i = F.col("id")
    product = F.format_string("P%06d", i % 5000)
    cart = (i % 3) == 0
    entry = F.struct(
        F.expr("uuid()").alias("event_id"),
        F.date_format(F.timestamp_seconds(F.lit(1795910400) + (i * 86400 / entries).cast("long")),
                      "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").alias("event_time"),
        F.format_string("s-%d", i % 20000).alias("session_id"),
        F.lit("192.0.2.10").alias("ip"),
        F.lit("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36").alias("user_agent"),
        F.when(cart, "POST").otherwise("GET").alias("method"),
        F.when(cart, "/cart").otherwise(F.concat(F.lit("/products/"), product)).alias("url"),
        F.lit(200).alias("status"),
        product.alias("product_id"),
        F.when(cart, product).alias("pid"),
    )
    return spark.range(entries).select(F.to_json(entry, {"ignoreNullFields": "false"}).alias("value"))


def produce(spark, bootstrap: str, topic: str, entries: int) -> None:
    (entry_values(spark, entries).write.format("kafka").option("kafka.bootstrap.servers", bootstrap)
     .option("topic", topic).save())


def kafka(spark, bootstrap: str, topic: str, batch: int | None = None):
    """The topic from its start, in batches of at most `batch` records (None: one batch)."""
    reader = (spark.readStream.format("kafka").option("kafka.bootstrap.servers", bootstrap)
              .option("subscribe", topic).option("startingOffsets", "earliest")
              .option("minPartitions", str(spark.sparkContext.defaultParallelism)))
    return (reader if batch is None else reader.option("maxOffsetsPerTrigger", str(batch))).load()


def reference(spark, bootstrap: str, topic: str, out: Path) -> float:
    start = time.monotonic()
    (kafka(spark, bootstrap, topic).select("value", "partition", "offset", "timestamp")
     .writeStream.format("parquet").option("path", str(out / "data"))
     .option("checkpointLocation", str(out / "checkpoint")).trigger(availableNow=True).start()
     .awaitTermination())
    return time.monotonic() - start


def floor_columns(records, contract):
    """What the parse floor writes of Kafka's records: each entry read by the job's own reader (the compiled judge,
    jobs/judge, with no rule: its one parse of the bytes and Spark's reading of the time), the raw table's columns
    and the hour's partition columns. No contract rule, no quarantine, no commit."""
    spark = records.sparkSession
    program = {**judge_program(contract, None, None), "rules": []}
    read = judge_function(spark, program)(F.col("value"), F.unix_micros("timestamp"))
    return hourly(records.select(read.alias("read"), "partition", "offset", "timestamp")
                  .select(F.col("read.entry").alias("entry"), F.timestamp_micros("read.event_micros").alias("event_ts"),
                          "partition", "offset", "timestamp"), contract)


def from_json_columns(records, contract):
    """The same with Spark's own reader: from_json and Spark's cast of the time (the parse floor until 2026-12-07)."""
    entry = F.from_json(F.col("value").cast("string"), contract.spark_schema())
    event_ts = F.expr(r"to_timestamp(regexp_replace(upper(entry.event_time), '(\\.[0-9]{6})[0-9]+', '$1'))")
    return hourly(records.select(entry.alias("entry"), "partition", "offset", "timestamp")
                  .select("entry", F.date_trunc("millisecond", event_ts).alias("event_ts"),
                          "partition", "offset", "timestamp"), contract)


def hourly(parsed, contract):
    """The raw table's columns (jobs.weblog_parse.valid_columns) under the Kafka source's names, and the hour's
    partition columns: every column the job writes, the time it wrote the entry (ingest_time) included, by the
    job's own function (one time for the whole run: what it costs a row is what counts here)."""
    event_ts = F.col("event_ts")
    written_at = batch_time(parsed.sparkSession, datetime.now(UTC)).alias("ingest_time")
    return parsed.select(*[(event_ts if n == "event_time" else F.col(f"entry.{n}")).alias(n) for n in contract.names],
                         "partition", "offset", "timestamp", written_at,
                         F.date_format(event_ts, "yyyy-MM-dd").alias("dt"), F.date_format(event_ts, "HH").alias("hr"))


def parse_floor(spark, bootstrap: str, topic: str, out: Path, columns=floor_columns, batch: int | None = None) -> float:
    contract = load_contract()
    start = time.monotonic()
    (columns(kafka(spark, bootstrap, topic, batch), contract)
     .writeStream.format("parquet").partitionBy("dt", "hr").option("path", str(out / "data"))
     .option("checkpointLocation", str(out / "checkpoint")).trigger(availableNow=True).start()
     .awaitTermination())
    return time.monotonic() - start


def streaming_job(spark, bootstrap: str, topic: str, out: Path) -> float:
    args = parse_args([
        "--bootstrap-servers", bootstrap, "--topic", topic, "--raw", str(out / "data"),
        "--quarantine", str(out / "quarantine"), "--checkpoint", str(out / "_checkpoints"),
        "--markers", str(out / "_complete"), "--available-now", "--max-future-seconds", "0",
        "--max-offsets-per-trigger", str(JOB_BATCH),
    ])
    start = time.monotonic()
    run(spark, args)
    return time.monotonic() - start


def measure(spark, bootstrap: str, entries: int, work: Path, repeat: int, from_json: bool) -> dict[str, float]:
    """Each run's time by name (reference, from_json when asked, floor, batched, job): the fastest of `repeat`
    rounds; the rounds interleave the runs, so that a busy moment of the machine slows each of them alike."""
    topic = f"bench-{entries}"
    produce(spark, bootstrap, topic, entries)
    reference(spark, bootstrap, topic, work / "warmup")  # JIT and connector warm-up, not measured
    runs = {
        "reference": lambda out: reference(spark, bootstrap, topic, out),
        **({"from_json": lambda out: parse_floor(spark, bootstrap, topic, out, from_json_columns)}
           if from_json else {}),
        "floor": lambda out: parse_floor(spark, bootstrap, topic, out),
        "batched": lambda out: parse_floor(spark, bootstrap, topic, out, batch=JOB_BATCH),
        "job": lambda out: streaming_job(spark, bootstrap, topic, out),
    }
    best: dict[str, float] = {}
    for r in range(repeat):
        for name, run_once in runs.items():
            out = work / f"{name}-{r}"
            best[name] = min(best.get(name, float("inf")), run_once(out))
            # Counts in equal counts out: every run writes each entry once, to its folder's data.
            rows = spark.read.parquet(str(out / "data")).count()
            if rows != entries:
                raise SystemExit(f"{out} holds {rows} rows for {entries} entries")
            shutil.rmtree(out)  # a round's output is counted, then freed: 3M entries are about 0.3 GB a run
    return best


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--entries", type=int, nargs="+", default=[300_000])
    p.add_argument("--repeat", type=int, default=3, help="rounds per size; each figure is its fastest round")
    p.add_argument("--from-json", action="store_true", help="also run the floor with Spark's from_json")
    options = p.parse_args()
    sizes = options.entries
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")  # the job's batch times
    work = Path(tempfile.mkdtemp(prefix="streaming-bench-"))
    cli = ["npx", "tsx", "sandbox/processes/kafkaBroker.ts"]
    started = subprocess.run([*cli, "start", "--state-dir", str(work / "kafka")], cwd=REPO, capture_output=True,
                             text=True, check=True)
    bootstrap = json.loads(started.stdout.strip().splitlines()[-1])["bootstrapServers"]
    try:
        spark = local_session("streaming-bench")
        results = {n: measure(spark, bootstrap, n, work / str(n), options.repeat, options.from_json) for n in sizes}
        print(f"machine: {spark.sparkContext.defaultParallelism} cores, local; fastest of {options.repeat} rounds")
        columns = [  # (heading, figure of a size's times)
            ("entries", lambda n, t: f"{n:,}"),
            ("reference, bare Kafka -> Parquet", lambda n, t: f"{t['reference']:.1f} s"),
            *([("floor with from_json", lambda n, t: f"{t['from_json']:.1f} s")] if options.from_json else []),
            ("parse floor", lambda n, t: f"{t['floor']:.1f} s"),
            ("parse floor in the job's batches", lambda n, t: f"{t['batched']:.1f} s"),
            ("streaming job", lambda n, t: f"{t['job']:.1f} s"),
            ("job per million", lambda n, t: f"{t['job'] * 1e6 / n:.1f} s"),
            ("job/reference", lambda n, t: f"{t['job'] / t['reference']:.2f}"),
            ("job/parse floor", lambda n, t: f"{t['job'] / t['floor']:.2f}"),
            ("job/floor in the job's batches", lambda n, t: f"{t['job'] / t['batched']:.2f}"),
            *([("job/floor with from_json", lambda n, t: f"{t['job'] / t['from_json']:.2f}")]
              if options.from_json else []),
        ]
        print("| " + " | ".join(heading for heading, _ in columns) + " |")
        print("|" + " --- |" * len(columns))
        for n, times in results.items():
            print("| " + " | ".join(figure(n, times) for _, figure in columns) + " |")
        if len(sizes) > 1:
            small, large = min(results), max(results)
            print(f"job cost per million at {large:,} / at {small:,}: "
                  f"{(results[large]['job'] / large) / (results[small]['job'] / small):.2f}")
    finally:
        subprocess.run([*cli, "stop", "--state-dir", str(work / "kafka")], cwd=REPO, check=False)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
