"""The work a local Spark driver's class-data archive is made from (scripts/setup.d/80-jvm-class-archives.sh):
a local session with Hive support and the Kafka connector, as the sandbox's and the tests' sessions are; the
streaming job's judging of a valid and a malformed record, both outputs written as Parquet by hour; and the hourly
worker's made-up hour through every HiveQL step. Then it stops the session and waits for the JVM to exit, which is
when the JVM writes the archive -XX:ArchiveClassesAtExit names.

    .venv/bin/python scripts/spark_class_workload.py WORK_FOLDER
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from jobs.hourly_local import warm_up  # noqa: E402
from jobs.spark_sessions import local_session  # noqa: E402
from jobs.weblog_parse import parse  # noqa: E402

ENTRY = {
    "event_id": "6f1f3b8e-2c4d-4e5f-8a9b-0c1d2e3f4a5b", "event_time": "2026-01-01T00:00:00.000Z",
    "session_id": "s-1", "ip": "192.0.2.10", "user_agent": "Mozilla/5.0", "method": "GET",
    "url": "/products/P000001", "status": 200, "product_id": "P000001", "pid": None,
}


def main(work: Path) -> int:
    spark = local_session("class-archive", warehouse=str(work / "hive"), kafka=True)
    received = datetime(2026, 1, 1, 0, 1, tzinfo=UTC)
    records = spark.createDataFrame(
        [(json.dumps(ENTRY).encode(), 0, 0, received), (b"{not json", 0, 1, received)],
        "value BINARY, partition INT, offset LONG, timestamp TIMESTAMP")
    valid, bad = parse(records)
    for name, frame in (("events", valid), ("quarantine", bad)):
        frame.write.partitionBy("dt", "hr").parquet(str(work / name))
    ran = warm_up(spark, work / "staging")
    jvm = spark.sparkContext._gateway.proc  # the driver's JVM, started by pyspark
    spark.stop()
    jvm.stdin.close()  # the JVM exits when its standard input ends
    jvm.wait(timeout=300)
    return 0 if ran and jvm.returncode == 0 else 1


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("work", type=Path, help="an empty folder for the run's session, tables and files")
    sys.exit(main(p.parse_args().work))
