"""The streaming job against a real Kafka broker: N entries in, exactly N rows in the raw Parquet, the
malformed ones quarantined with reasons, and still exactly N (no duplicate event_id) after the job is
killed mid-stream and restarted from its checkpoint. Also the hour markers it leaves behind, and how it
ends: on SIGTERM cleanly, on a failed query (entries deleted before it read them) with an error."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import REPO, make_entry, spark_jvm_env

from jobs.weblog_stream import committed_file_names, count_by_hour, parse_args, remove_uncommitted_files, run

HOURS = ["2026-11-26T10", "2026-11-26T11", "2026-11-26T12"]
PER_HOUR = 150
MALFORMED = [b"{not json", b"\xc3\x28 invalid utf-8", json.dumps({"event_id": "only"}).encode()]


def produce(spark, bootstrap: str, topic: str, values: list[bytes]) -> None:
    """Writes the values to the topic with Spark's own Kafka sink (one record each, in order)."""
    frame = spark.createDataFrame([(bytearray(v),) for v in values], "value binary").coalesce(1)
    frame.write.format("kafka").option("kafka.bootstrap.servers", bootstrap).option("topic", topic).save()


def job_command(bootstrap: str, topic: str, root: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "jobs.weblog_stream", "--bootstrap-servers", bootstrap, "--topic", topic,
        "--raw", str(root / "events"), "--quarantine", str(root / "quarantine"),
        "--checkpoint", str(root / "_checkpoints"), "--markers", str(root / "_complete"),
        "--grace-seconds", "60", "--max-future-seconds", "0", *extra,
    ]


def visible_parquet(folder: Path) -> list[str]:
    """The files Hive would read: every Parquet file not under a name starting with '_' or '.'."""
    return sorted(
        str(p) for p in folder.rglob("*.parquet")
        if not any(part.startswith(("_", ".")) for part in p.relative_to(folder).parts)
    )


@pytest.fixture(scope="module")
def streamed(spark, kafka_bootstrap, tmp_path_factory):
    root = tmp_path_factory.mktemp("raw-bucket")
    topic = "weblogs-" + root.name.replace("_", "-")
    entries = [
        make_entry(f"{hour}:{i % 60:02d}:{i % 59:02d}.{i:03d}Z", f"P{i % 7:06d}", cart_add=i % 3 == 0)
        for hour in HOURS for i in range(PER_HOUR)
    ]
    values = [json.dumps(e).encode() for e in entries]
    for i, bad in enumerate(MALFORMED):  # malformed records in between valid ones
        values.insert(100 * (i + 1), bad)
    produce(spark, kafka_bootstrap, topic, values)
    env = {**spark_jvm_env(), "CLICKSTREAM_SPARK_DRIVER_MEMORY": "1g", "PYTHONPATH": str(REPO)}

    # First run: small batches every second; killed (SIGKILL) once a batch has been committed.
    first_log = root.parent / f"{root.name}-first-run.log"  # a file: an unread pipe could fill and block the job
    with first_log.open("wb") as log:
        first = subprocess.Popen(
            job_command(kafka_bootstrap, topic, root, "--trigger-seconds", "1", "--max-offsets-per-trigger", "100"),
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True,
        )
    commits = root / "_checkpoints" / "events" / "commits"
    deadline = time.monotonic() + 150
    while not (commits / "0").exists():
        if first.poll() is not None or time.monotonic() > deadline:
            os.killpg(first.pid, signal.SIGKILL)
            pytest.fail(f"first run committed no batch: {first_log.read_text()[-3000:]}")
        time.sleep(0.2)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=30)
    batches_before_kill = len([p for p in commits.iterdir() if p.name.isdigit()])

    # Restart from the checkpoint and drain the topic.
    second = subprocess.run(
        job_command(kafka_bootstrap, topic, root, "--available-now", "--idle-complete-seconds", "0"),
        cwd=REPO, env=env, capture_output=True, timeout=240, check=False,
    )
    assert second.returncode == 0, second.stderr.decode()[-4000:]
    return {"root": root, "entries": entries, "batches_before_kill": batches_before_kill}


def test_the_job_was_killed_mid_stream(streamed):
    total = len(streamed["entries"]) + len(MALFORMED)
    assert 1 <= streamed["batches_before_kill"] < total / 100


def test_every_entry_lands_exactly_once_after_kill_and_restart(spark, streamed):
    events = streamed["root"] / "events"
    for rows in (spark.read.parquet(str(events)), spark.read.parquet(*visible_parquet(events))):
        ids = [r.event_id for r in rows.select("event_id").collect()]
        assert len(ids) == len(streamed["entries"])
        assert set(ids) == {e["event_id"] for e in streamed["entries"]}
    # What Hive reads is exactly what the sink committed: no file of the killed batch is left over.
    assert {Path(p).name for p in visible_parquet(events)} == committed_file_names(spark, str(events))


def test_entries_are_partitioned_by_their_utc_event_hour(spark, streamed):
    rows = spark.read.parquet(str(streamed["root"] / "events")).groupBy("dt", "hr").count().collect()
    assert {(str(r.dt), f"{r.hr:02d}"): r["count"] for r in rows} == {
        tuple(h.split("T")): PER_HOUR for h in HOURS
    }


def test_malformed_records_are_quarantined_with_raw_value_and_reason(spark, streamed):
    rows = spark.read.parquet(str(streamed["root"] / "quarantine")).collect()
    reasons = {bytes(r.raw_value): r.reason for r in rows}
    assert len(rows) == len(MALFORMED)
    assert reasons[MALFORMED[0]] == "not a JSON object"
    assert reasons[MALFORMED[1]] == "not UTF-8"
    assert "missing field event_time" in reasons[MALFORMED[2]]
    assert all(r.kafka_offset is not None for r in rows)


def test_each_hour_gets_a_completion_marker_with_its_counts(streamed):
    markers = sorted((streamed["root"] / "_complete").rglob("_COMPLETE"))
    bodies = [json.loads(p.read_text()) for p in markers]
    assert [b["hour"] for b in bodies] == HOURS
    assert [b["rows"] for b in bodies] == [PER_HOUR] * len(HOURS)


def test_start_up_removes_only_uncommitted_files_even_below_hidden_folders(spark, tmp_path):
    # A clone under a folder named like the sink, holding a hidden state folder (the sandbox's .sandbox).
    sink = tmp_path / "events" / ".sandbox" / "events"
    partition = sink / "dt=2026-11-26" / "hr=10"
    partition.mkdir(parents=True)
    (partition / "part-committed.parquet").write_bytes(b"x")
    (partition / "part-uncommitted.parquet").write_bytes(b"x")
    (sink / "_spark_metadata").mkdir()
    committed = {"path": f"file://{partition}/part-committed.parquet", "size": 1, "isDir": False, "action": "add"}
    (sink / "_spark_metadata" / "0").write_text(f"v1\n{json.dumps(committed)}\n")
    assert remove_uncommitted_files(spark, str(sink)) == [f"file:{partition}/part-uncommitted.parquet"]
    assert sorted(p.name for p in partition.iterdir()) == ["part-committed.parquet"]


def test_counting_a_sink_that_has_committed_no_file_yet_finds_no_rows(spark, tmp_path):
    # A quarantine sink after batches without a rejected record: a log, but no Parquet to infer a schema from.
    sink = tmp_path / "quarantine"
    (sink / "_spark_metadata").mkdir(parents=True)
    (sink / "_spark_metadata" / "0").write_text("v1\n")
    assert count_by_hour(spark, str(sink), [datetime(2026, 11, 26, 10, tzinfo=UTC)]) == {}


def marked_hours(root: Path) -> list[tuple[str, int]]:
    bodies = [json.loads(p.read_text()) for p in sorted((root / "_complete").rglob("_COMPLETE"))]
    return [(b["hour"], b["rows"]) for b in bodies]


def entries_of(hour: str, count: int) -> list[bytes]:
    return [json.dumps(make_entry(f"{hour}:{i:02d}:00.000Z", "P000001", cart_add=False)).encode()
            for i in range(count)]


def job_env() -> dict[str, str]:
    return {**spark_jvm_env(), "CLICKSTREAM_SPARK_DRIVER_MEMORY": "1g", "PYTHONPATH": str(REPO)}


def test_sigterm_stops_both_queries_writes_the_complete_hours_markers_and_exits_cleanly(spark, kafka_bootstrap,
                                                                                         tmp_path):
    topic = "weblogs-sigterm-" + tmp_path.name.replace("_", "-")
    produce(spark, kafka_bootstrap, topic, [*entries_of("2026-11-26T10", 20), *entries_of("2026-11-26T11", 20),
                                            *entries_of("2026-11-26T12", 20)])
    checkpoints = tmp_path / "_checkpoints"
    log_path = tmp_path / "job.log"
    with log_path.open("wb") as log:
        # One batch takes everything; the next trigger is 30 s away, so a stop comes between batches.
        job = subprocess.Popen(job_command(kafka_bootstrap, topic, tmp_path, "--trigger-seconds", "30",
                                           "--poll-seconds", "1"),
                               cwd=REPO, env=job_env(), stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    try:
        deadline = time.monotonic() + 150
        while not all((checkpoints / q / "commits" / "0").exists() for q in ("events", "quarantine")):
            assert job.poll() is None and time.monotonic() < deadline, log_path.read_text()[-3000:]
            time.sleep(0.2)
        job.send_signal(signal.SIGTERM)
        assert job.wait(timeout=60) == 0, log_path.read_text()[-3000:]
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
            job.wait(timeout=30)
    # Hours 10 and 11 are past the watermark (latest entry 12:19 minus 60 s grace); hour 12 is not.
    assert marked_hours(tmp_path) == [("2026-11-26T10", 20), ("2026-11-26T11", 20)]
    assert not (checkpoints / "events" / "offsets" / "1").exists(), "no batch starts after the stop"


def delete_records_as_retention_would(bootstrap: str, topic: str) -> int:
    """Advances the topic's start past every record it holds (what retention does); returns the new start."""
    script = """
const { Kafka, logLevel } = require("kafkajs");
const [broker, topic] = process.argv.slice(1);
const admin = new Kafka({ clientId: "retention", brokers: [broker], logLevel: logLevel.NOTHING }).admin();
(async () => {
  await admin.connect();
  try {
    await admin.fetchTopicOffsets(topic);  // loads the topic's metadata, which deleteTopicRecords needs
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: "-1" }] });
    console.log((await admin.fetchTopicOffsets(topic))[0].low);
  } finally {
    await admin.disconnect();
  }
})().catch((e) => { console.error(e); process.exit(1); });
"""
    done = subprocess.run(["node", "-e", script, bootstrap, topic], cwd=REPO, capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return int(done.stdout.strip())


def test_a_restart_after_retention_deleted_unread_entries_fails_naming_the_loss_and_skips_nothing(
        spark, kafka_bootstrap, tmp_path):
    topic = "weblogs-retention-" + tmp_path.name.replace("_", "-")
    command = job_command(kafka_bootstrap, topic, tmp_path, "--available-now", "--idle-complete-seconds", "0")
    read = entries_of("2026-11-26T10", 20)
    produce(spark, kafka_bootstrap, topic, read)
    run(spark, parse_args(command[3:]))  # in this process: commits offsets 0-19 to the checkpoint
    assert marked_hours(tmp_path) == [("2026-11-26T10", 20)]

    produce(spark, kafka_bootstrap, topic, entries_of("2026-11-26T11", 20))
    assert delete_records_as_retention_would(kafka_bootstrap, topic) == 40, "offsets 20-39 were never read"
    produce(spark, kafka_bootstrap, topic, entries_of("2026-11-26T12", 10))

    restarted = subprocess.run(command, cwd=REPO, env=job_env(), capture_output=True, text=True, timeout=240,
                               check=False)
    assert restarted.returncode == 1, restarted.stderr[-3000:]
    error = re.search(r"ERROR streaming query (events|quarantine) failed: (.*)", restarted.stderr, re.DOTALL)
    assert error, restarted.stderr[-3000:]
    assert "Some data may have been lost" in error.group(2), error.group(2)[:3000]
    # Nothing after the gap was written or marked: the job stopped instead of skipping entries silently.
    ids = {r.event_id for r in spark.read.parquet(str(tmp_path / "events")).select("event_id").collect()}
    assert ids == {json.loads(v)["event_id"] for v in read}
    assert marked_hours(tmp_path) == [("2026-11-26T10", 20)]
