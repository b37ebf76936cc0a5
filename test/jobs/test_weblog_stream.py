"""The streaming job against a real Kafka broker: N entries in, exactly N rows in the raw Parquet, the
malformed ones quarantined with reasons, and still exactly N (no duplicate event_id) after the job has
crashed at each step of a batch's commit (CLICKSTREAM_CRASH_AT) and restarted from its checkpoint each
time. Also the hour markers it leaves behind, and how it ends: on SIGTERM cleanly, on a failed query
(entries deleted before it read them) with an error."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import REPO, make_entry, spark_jvm_env
from pyspark.sql import functions as F

from jobs import batch_commits, hadoop_files, weblog_stream
from jobs.batch_commits import BatchFigures, BatchLayout, committed_files, undo_unfinished, write_batch
from jobs.weblog_stream import count_by_hour, earliest_committed_hour, latest_marked_hour, main, parse_args, run

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


def job_env() -> dict[str, str]:
    return {**spark_jvm_env(), "CLICKSTREAM_SPARK_DRIVER_MEMORY": "1g", "PYTHONPATH": str(REPO)}


def run_job(command: list[str], env: dict[str, str], log_path: Path, timeout: float) -> int:
    """Runs the job to its end (bounded) and returns its exit code; its log goes to a file (an unread pipe
    could fill and block it). Whatever of it is left afterwards (the JVM of a process that crashed) is
    killed, as a crash of the machine would."""
    with log_path.open("wb") as log:
        job = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=log,
                               start_new_session=True)
    try:
        return job.wait(timeout=timeout)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(job.pid, signal.SIGKILL)
        if job.poll() is None:
            job.wait(timeout=30)


def commit_progress(checkpoints: Path, batch_id: int) -> dict[str, object]:
    """What the batch's commit has left on disk: its staging folder (and whether it still holds staged data to move:
    rows with no hour stay there until it is deleted), its list of moves, how many of its final files exist ('none',
    'one' of several, or 'all'), its record."""
    staging = checkpoints / "batches" / str(batch_id)
    moves, record = staging / "moves.json", checkpoints / "written" / f"{batch_id}.json"
    if moves.exists():
        targets = list(json.loads(moves.read_text()).values())
    else:
        targets = json.loads(record.read_text())["files"] if record.exists() else []
    present = sum(Path(t).exists() for t in targets)
    return {
        "staged data": any(f"/dt={batch_commits.NO_HOUR}/" not in f for f in visible_parquet(staging))
        if staging.exists() else False,
        "moves listed": moves.exists(),
        "moved": "none" if present == 0 else "all" if present == len(targets) else "one" if present == 1 else present,
        "record": record.exists(),
    }


# Where each step leaves the batch it stopped: every crash is checked against this, not only its log line.
LEFT_AT = {
    "staged": {"staged data": True, "moves listed": False, "moved": "none", "record": False},
    "listed": {"staged data": True, "moves listed": True, "moved": "none", "record": False},
    "moving": {"staged data": True, "moves listed": True, "moved": "one", "record": False},
    "moved": {"staged data": False, "moves listed": True, "moved": "all", "record": False},
    "committed": {"staged data": False, "moves listed": True, "moved": "all", "record": True},
    "cleaned": {"staged data": False, "moves listed": False, "moved": "all", "record": True},
    "done": {"staged data": False, "moves listed": False, "moved": "all", "record": True},
}
PER_TRIGGER = 60  # 453 records: batches 0-7, so run k crashes in batch k and the drain ends with batch 7


@pytest.fixture(scope="module")
def streamed(spark, kafka_bootstrap, tmp_path_factory):
    root = tmp_path_factory.mktemp("raw-bucket")
    topic = "weblogs-" + root.name.replace("_", "-")
    entries = [
        make_entry(f"{hour}:{i % 60:02d}:{i % 59:02d}.{i:03d}Z", f"P{i % 7:06d}", cart_add=i % 3 == 0)
        for hour in HOURS for i in range(PER_HOUR)
    ]
    values = [json.dumps(e).encode() for e in entries]
    for i, bad in enumerate(MALFORMED):  # malformed records in between valid ones (batches 1, 3 and 5)
        values.insert(100 * (i + 1), bad)
    produce(spark, kafka_bootstrap, topic, values)
    checkpoints = root / "_checkpoints"

    # One run per step of a batch's commit, on the same checkpoint: run k replays the batch run k-1 crashed in,
    # then crashes at step k of batch k (the process ends at once, as a kill would end it).
    crashes = []
    command = job_command(kafka_bootstrap, topic, root, "--available-now", "--max-offsets-per-trigger",
                          str(PER_TRIGGER))
    for batch_id, step in enumerate(batch_commits.STEPS):
        log_path = root.parent / f"{root.name}-crash-{batch_id}-{step}.log"
        env = {**job_env(), batch_commits.CRASH_AT_ENV: f"{step}:{batch_id}"}
        code = run_job(command, env, log_path, timeout=180)
        crashes.append({
            "step": step, "batch": batch_id, "exit code": code, "log": log_path.read_text(),
            "left": commit_progress(checkpoints, batch_id),
            "spark committed": (checkpoints / "weblogs" / "commits" / str(batch_id)).exists(),
        })

    # Restart from the checkpoint and drain the topic.
    drain_log = root.parent / f"{root.name}-drain.log"
    code = run_job([*command, "--idle-complete-seconds", "0"], job_env(), drain_log, timeout=180)
    assert code == 0, drain_log.read_text()[-4000:]
    return {"root": root, "entries": entries, "crashes": crashes}


def test_the_job_crashed_at_each_step_of_a_batch_commit_where_it_was_asked_to(streamed):
    assert [c["step"] for c in streamed["crashes"]] == list(batch_commits.STEPS)
    for crash in streamed["crashes"]:
        step, batch_id = crash["step"], crash["batch"]
        assert crash["exit code"] == batch_commits.CRASH_EXIT_CODE, (step, crash["log"][-3000:])
        lines = re.findall(rf"{batch_commits.CRASH_AT_ENV}: crashing at step (\w+) of batch (\d+)", crash["log"])
        assert lines == [(step, str(batch_id))], (step, crash["log"][-3000:])
        assert crash["left"] == LEFT_AT[step], step
        assert not crash["spark committed"], f"Spark logged batch {batch_id}: the crash came too late ({step})"


def test_the_drain_replayed_the_last_crashed_batch_and_ended_with_the_last_one(streamed):
    checkpoints = streamed["root"] / "_checkpoints"
    records = sorted(int(p.stem) for p in (checkpoints / "written").glob("*.json"))
    last = -(-(len(streamed["entries"]) + len(MALFORMED)) // PER_TRIGGER) - 1
    assert records == list(range(last + 1)) and last == len(batch_commits.STEPS)
    assert not list((checkpoints / "batches").glob("*")), "no staging folder is left"


def test_every_entry_lands_exactly_once_after_a_crash_at_each_step_and_restarts(spark, streamed):
    events = streamed["root"] / "events"
    for rows in (spark.read.parquet(str(events)), spark.read.parquet(*visible_parquet(events))):
        ids = [r.event_id for r in rows.select("event_id").collect()]
        assert len(ids) == len(streamed["entries"])
        assert set(ids) == {e["event_id"] for e in streamed["entries"]}
    # What Hive reads is exactly what the batches committed: no file of a crashed batch is left over.
    layout = BatchLayout(str(streamed["root"] / "_checkpoints"), {})
    assert set(visible_parquet(events)) == {f for f in committed_files(spark, layout) if f.startswith(f"{events}/")}


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


def test_a_crash_point_names_a_step_and_optionally_a_batch_and_a_wrong_name_stops_the_job_at_start_up(
        monkeypatch, caplog):
    assert batch_commits.crash_point_from({}) is None
    assert batch_commits.crash_point_from({"CLICKSTREAM_CRASH_AT": "moving"}) == batch_commits.CrashPoint("moving")
    assert batch_commits.crash_point_from({"CLICKSTREAM_CRASH_AT": "done:12"}) == batch_commits.CrashPoint("done", 12)
    with pytest.raises(ValueError, match="must be a whole number"):
        batch_commits.crash_point_from({"CLICKSTREAM_CRASH_AT": "done:last"})
    monkeypatch.setenv("CLICKSTREAM_CRASH_AT", "commited:3")
    monkeypatch.setattr("jobs.weblog_stream.job_session", lambda *a, **k: pytest.fail("the JVM was started"))
    assert main(job_command("localhost:9", "t", Path("/nonexistent"))[3:]) == 2
    assert "unknown step 'commited', expected one of staged, listed, moving, moved, committed, cleaned, done" \
        in caplog.text


class Killed(Exception):
    """Stands for the job being killed at that point."""


def staged_batch(spark, rows: list[tuple[str, str, str]], quarantined: list[tuple[str, str, str]]):
    """prepare() of a batch: valid rows (event_id, dt, hr) in several hours, and rejected records."""
    def prepare():
        events = spark.createDataFrame(rows, "event_id string, dt string, hr string").repartition(2)
        bad = spark.createDataFrame(quarantined, "reason string, dt string, hr string")
        return BatchFigures(-1, len(rows), len(quarantined), None, None), {"events": events, "quarantine": bad}
    return prepare


def test_a_batch_replayed_with_the_same_id_after_a_crash_at_any_step_lands_exactly_once(spark, tmp_path,
                                                                                          monkeypatch):
    sinks = {"events": str(tmp_path / "events"), "quarantine": str(tmp_path / "quarantine")}
    layout = BatchLayout(str(tmp_path / "_checkpoints"), sinks)
    rows = [(f"e{i}", "2026-11-26", f"{10 + i % 3:02d}") for i in range(30)]
    prepare = staged_batch(spark, rows, [("not a JSON object", "2026-11-26", "10")])

    def read_ids(sink: str) -> list[str]:
        files = visible_parquet(Path(sink))
        return sorted(r[0] for r in spark.read.parquet(*files).collect()) if files else []

    # Killed after staging, before any file reached the sinks.
    def crash(step):
        if step == "listed":
            raise Killed("killed")
    with pytest.raises(Killed):
        write_batch(spark, layout, 7, prepare, at_step=crash)
    assert read_ids(sinks["events"]) == []
    staged = {path.name for path in Path(layout.staging(7)).rglob("*")}
    assert "moves.json" in staged and "_SUCCESS" not in staged, "the commit record, not a marker, says it is whole"

    # Killed in the middle of the moves: part of the batch is already in the sinks.
    moved = []
    real_rename = hadoop_files.rename

    def rename_then_die(spark_, source, target):
        if len(moved) == 2:
            raise Killed("killed")
        real_rename(spark_, source, target)
        moved.append(target)
    monkeypatch.setattr(batch_commits.hadoop_files, "rename", rename_then_die)
    with pytest.raises(Killed):
        write_batch(spark, layout, 7, prepare)
    monkeypatch.setattr(batch_commits.hadoop_files, "rename", real_rename)
    assert 0 < len(read_ids(sinks["events"])) + len(visible_parquet(Path(sinks["quarantine"]))) < 31

    # Spark runs the batch again with the same id: every row once, nothing lost; every step reached in order.
    reached = []
    figures = write_batch(spark, layout, 7, prepare, at_step=reached.append)
    assert reached == list(batch_commits.STEPS)
    assert read_ids(sinks["events"]) == sorted(r[0] for r in rows)
    assert spark.read.parquet(*visible_parquet(Path(sinks["quarantine"]))).count() == 1
    visible = set(visible_parquet(tmp_path / "events")) | set(visible_parquet(tmp_path / "quarantine"))
    assert set(figures.files) == visible

    # A batch already committed, replayed (killed before Spark logged its commit): nothing is written again.
    def must_not_run():
        raise AssertionError("a committed batch is judged again")
    assert write_batch(spark, layout, 7, must_not_run).rows == len(rows)
    assert read_ids(sinks["events"]) == sorted(r[0] for r in rows)


def test_rows_with_no_hour_are_written_to_staging_but_never_output(spark, tmp_path):
    """The job's records that are no entry reach the writer with no dt (Judging.filed()), to be counted on its rows."""
    sinks = {"events": str(tmp_path / "events"), "quarantine": str(tmp_path / "quarantine")}
    layout = BatchLayout(str(tmp_path / "_checkpoints"), sinks)
    rows = [("kept", "2026-11-26", "10"), ("no entry", None, "quarantined"), ("ignored", None, "ignored")]
    written = []
    figures = write_batch(spark, layout, 0, staged_batch(spark, rows, []), at_step=lambda step: written.extend(
        str(p.relative_to(layout.staging(0))) for p in Path(layout.staging(0)).rglob("*.parquet")
    ) if step == "staged" else None)
    assert any(p.startswith(f"events/dt={batch_commits.NO_HOUR}/hr=quarantined/") for p in written)
    visible = visible_parquet(tmp_path / "events")
    assert [r[0] for r in spark.read.parquet(*visible).collect()] == ["kept"]
    assert set(figures.files) == set(visible) and all("/dt=2026-11-26/hr=10/" in f for f in visible)
    assert not Path(layout.staging(0)).exists()


def test_a_commit_record_cut_short_by_a_kill_leaves_its_batch_uncommitted_and_replayed_once(spark, tmp_path,
                                                                                            monkeypatch):
    sinks = {"events": str(tmp_path / "events"), "quarantine": str(tmp_path / "quarantine")}
    layout = BatchLayout(str(tmp_path / "_checkpoints"), sinks)
    rows = [(f"e{i}", "2026-11-26", "10") for i in range(5)]
    prepare = staged_batch(spark, rows, [])
    real_write = hadoop_files.write_text
    for n, cut in enumerate(("", '{"batch_id": 3, "ro')):
        batch_id = 3 + n

        def write_then_die(spark_, path, text, batch_id=batch_id, cut=cut):
            if path == layout.commit_record(batch_id):  # killed while the record was being written
                real_write(spark_, path, cut)
                raise Killed("killed")
            real_write(spark_, path, text)
        monkeypatch.setattr(batch_commits.hadoop_files, "write_text", write_then_die)
        with pytest.raises(Killed):
            write_batch(spark, layout, batch_id, prepare)
        monkeypatch.setattr(batch_commits.hadoop_files, "write_text", real_write)
        assert batch_commits.committed(spark, layout, batch_id) is None
        undo_unfinished(spark, layout)  # the restart
        figures = write_batch(spark, layout, batch_id, prepare)
        files = [f for f in visible_parquet(tmp_path / "events") if f"/b{batch_id}-" in f]
        assert sorted(r[0] for r in spark.read.parquet(*files).collect()) == [r[0] for r in rows]
        assert set(figures.files) == set(files)
    assert len(committed_files(spark, layout)) == len(visible_parquet(tmp_path / "events"))


def test_start_up_removes_the_files_of_a_batch_that_was_never_committed(spark, tmp_path, monkeypatch):
    sinks = {"events": str(tmp_path / "events"), "quarantine": str(tmp_path / "quarantine")}
    layout = BatchLayout(str(tmp_path / "_checkpoints"), sinks)
    write_batch(spark, layout, 0, staged_batch(spark, [("kept", "2026-11-26", "10")], []))
    kept = visible_parquet(tmp_path / "events")

    real_rename = hadoop_files.rename
    calls = []

    def rename_once_then_die(spark_, source, target):
        if calls:
            raise Killed("killed")
        calls.append(target)
        real_rename(spark_, source, target)
    monkeypatch.setattr(batch_commits.hadoop_files, "rename", rename_once_then_die)
    with pytest.raises(Killed):
        write_batch(spark, layout, 1, staged_batch(spark, [("gone", "2026-11-26", "10"), ("gone", "2026-11-26", "11")],
                                                   []))
    assert len(visible_parquet(tmp_path / "events")) == len(kept) + 1

    assert undo_unfinished(spark, layout) == calls
    assert visible_parquet(tmp_path / "events") == kept
    assert not list((tmp_path / "_checkpoints" / "batches").glob("*")), "no staging folder is left"


def test_a_restart_reads_the_latest_marked_hour_from_the_marker_folder(spark, tmp_path):
    markers = tmp_path / "markers"
    for folder, name in [("dt=2026-11-26/hr=23", "_COMPLETE"), ("dt=2026-11-27/hr=00", "_COMPLETE"),
                         ("dt=2026-11-27/hr=02", "_LATE")]:
        (markers / folder).mkdir(parents=True)
        (markers / folder / name).write_text("{}")
    assert latest_marked_hour(spark, str(markers)) == datetime(2026, 11, 27, 0, tzinfo=UTC)
    assert latest_marked_hour(spark, str(tmp_path / "none yet")) is None


def test_a_start_without_markers_finds_the_earliest_hour_already_committed_to_raw(spark, tmp_path):
    raw = tmp_path / "events"
    for folder in ("dt=2026-11-26/hr=11", "dt=2026-11-26/hr=10", "dt=2026-11-27/hr=00", "_staging/dt=2026-11-01/hr=00"):
        (raw / folder).mkdir(parents=True)
    (raw / "dt=2026-11-25").mkdir()  # no hour below it
    assert earliest_committed_hour(spark, str(raw)) == datetime(2026, 11, 26, 10, tzinfo=UTC)
    assert earliest_committed_hour(spark, str(tmp_path / "none yet")) is None


def test_counting_a_sink_that_holds_no_parquet_file_yet_finds_no_rows(spark, tmp_path):
    # A quarantine sink after batches without a rejected record: only the hours' _PRESENT markers.
    sink = tmp_path / "quarantine"
    (sink / "dt=2026-11-26" / "hr=10").mkdir(parents=True)
    (sink / "dt=2026-11-26" / "hr=10" / "_PRESENT").write_text("")
    assert count_by_hour(spark, str(sink), [datetime(2026, 11, 26, 10, tzinfo=UTC)]) == {}


def test_an_hours_count_is_sparks_own_over_every_data_file_of_its_folder(spark, tmp_path):
    # Several files an hour, several row groups a file (a small block size), and files Spark skips beside them.
    sink = tmp_path / "events"
    rows = spark.range(5000).select(F.lit("2026-11-26").alias("dt"), (F.col("id") % 2 + 10).cast("int").alias("hr"),
                                    F.sha2(F.col("id").cast("string"), 256).alias("event_id"))
    rows.repartition(3).write.option("parquet.block.size", 16 * 1024).partitionBy("dt", "hr").parquet(str(sink))
    (sink / "dt=2026-11-26" / "hr=10" / "_PRESENT").write_text("")
    (sink / "dt=2026-11-26" / "hr=10" / ".b7-part-unfinished.parquet").write_text("not Parquet")
    hours = [datetime(2026, 11, 26, 10, tzinfo=UTC), datetime(2026, 11, 26, 11, tzinfo=UTC)]
    counted = spark.read.parquet(str(sink)).groupBy("dt", "hr").count().collect()
    by_spark = {(str(r.dt), r.hr): r["count"] for r in counted}
    assert count_by_hour(spark, str(sink), hours) == by_spark == {("2026-11-26", 10): 2500, ("2026-11-26", 11): 2500}


def test_counting_reads_only_the_folders_of_the_hours_asked_for(spark, tmp_path):
    # One listing of the whole sink per marker would grow with every hour ever written; an unreadable file
    # in another hour shows that only the asked hours' folders are read.
    sink = tmp_path / "events"
    rows = spark.createDataFrame([("2026-11-26", 10, "a"), ("2026-11-26", 10, "b"), ("2026-11-26", 11, "c")],
                                 "dt string, hr int, event_id string")
    rows.write.partitionBy("dt", "hr").parquet(str(sink))
    (sink / "dt=2026-11-25" / "hr=09").mkdir(parents=True)
    (sink / "dt=2026-11-25" / "hr=09" / "part-broken.parquet").write_text("not Parquet")
    hours = [datetime(2026, 11, 26, 10, tzinfo=UTC), datetime(2026, 11, 26, 12, tzinfo=UTC)]
    assert count_by_hour(spark, str(sink), hours) == {("2026-11-26", 10): 2}
    assert count_by_hour(spark, str(sink), [datetime(2026, 11, 26, 11, tzinfo=UTC)]) == {("2026-11-26", 11): 1}


def marked_hours(root: Path) -> list[tuple[str, int]]:
    bodies = [json.loads(p.read_text()) for p in sorted((root / "_complete").rglob("_COMPLETE"))]
    return [(b["hour"], b["rows"]) for b in bodies]


def entries_of(hour: str, count: int) -> list[bytes]:
    return [json.dumps(make_entry(f"{hour}:{i:02d}:00.000Z", "P000001", cart_add=False)).encode()
            for i in range(count)]


def test_sigterm_stops_the_query_writes_the_complete_hours_markers_and_exits_cleanly(spark, kafka_bootstrap,
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
        while not (checkpoints / "weblogs" / "commits" / "0").exists():
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
    assert not (checkpoints / "weblogs" / "offsets" / "1").exists(), "no batch starts after the stop"


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


def test_a_restart_after_deleted_unread_entries_records_the_gap_alerts_and_goes_on(spark, kafka_bootstrap, tmp_path):
    topic = "weblogs-retention-" + tmp_path.name.replace("_", "-")
    command = job_command(kafka_bootstrap, topic, tmp_path, "--available-now", "--idle-complete-seconds", "0")
    read = entries_of("2026-11-26T10", 20)
    produce(spark, kafka_bootstrap, topic, read)
    run(spark, parse_args(command[3:]))  # in this process: commits offsets 0-19 to the checkpoint
    assert marked_hours(tmp_path) == [("2026-11-26T10", 20)]

    produce(spark, kafka_bootstrap, topic, entries_of("2026-11-26T11", 20))
    assert delete_records_as_retention_would(kafka_bootstrap, topic) == 40, "offsets 20-39 were never read"
    after = entries_of("2026-11-26T12", 10)
    produce(spark, kafka_bootstrap, topic, after)

    restarted = subprocess.run(command, cwd=REPO, env=job_env(), capture_output=True, text=True, timeout=240,
                               check=False)
    assert restarted.returncode == 0, restarted.stderr[-3000:]
    # One alertable line names the gap: its partition, offsets and when the first entry after it was received.
    lines = re.findall(r"ERROR offsets lost: (\{.*\})", restarted.stderr)
    assert len(lines) == 1, restarted.stderr[-3000:]
    gap = json.loads(lines[0])
    assert {k: gap[k] for k in ("topic", "partition", "from_offset", "to_offset", "lost")} == {
        "topic": topic, "partition": 0, "from_offset": 20, "to_offset": 40, "lost": 20}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", gap["next_received"])
    (recorded,) = (tmp_path / "_complete" / "_gaps").glob("batch=*.json")
    assert json.loads(recorded.read_text())["gaps"] == [{k: v for k, v in gap.items() if k != "batch"}]
    # Every entry still held was read once; the lost hour is not invented.
    ids = [r.event_id for r in spark.read.parquet(str(tmp_path / "events")).select("event_id").collect()]
    assert sorted(ids) == sorted(json.loads(v)["event_id"] for v in [*read, *after])
    assert ("2026-11-26T12", 10) in marked_hours(tmp_path)


def test_a_timestamp_before_1900_is_written_as_it_is_instead_of_failing_the_batch(spark, tmp_path):
    from jobs.weblog_stream import write_any_timestamp  # noqa: PLC0415

    for key in ("spark.sql.parquet.int96RebaseModeInWrite", "spark.sql.parquet.datetimeRebaseModeInWrite"):
        spark.conf.unset(key)  # Spark's default: EXCEPTION for a timestamp before 1900
    write_any_timestamp(spark)
    layout = BatchLayout(str(tmp_path / "_checkpoints"), {"events": str(tmp_path / "events")})
    times = [datetime(1, 1, 1, tzinfo=UTC), datetime(1899, 12, 31, 23, 59, 59, tzinfo=UTC)]

    def prepare():
        frame = spark.createDataFrame([(t, "0001-01-01", "00") for t in times],
                                      "event_time timestamp, dt string, hr string")
        return BatchFigures(-1, len(times), 0, None, None), {"events": frame}
    write_batch(spark, layout, 0, prepare)
    read = spark.read.parquet(*visible_parquet(tmp_path / "events")).selectExpr(
        "date_format(event_time, 'yyyy-MM-dd HH:mm:ss') AS t").collect()  # Python's datetime cannot hold year 1 UTC
    assert sorted(r.t for r in read) == ["0001-01-01 00:00:00", "1899-12-31 23:59:59"]


def two_hours_ago(minute: int, second: int = 0) -> str:
    """A time in the hour before last: Kafka's time (now) has passed its end plus the tests' 60-second grace."""
    hour = datetime.now(UTC).replace(minute=minute, second=second, microsecond=0) - timedelta(hours=2)
    return hour.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_poison_entries_beside_valid_ones_are_quarantined_and_the_stream_goes_on(spark, kafka_bootstrap, tmp_path):
    topic = "weblogs-poison-" + tmp_path.name.replace("_", "-")
    valid = [make_entry(two_hours_ago(0, i), "P000001", cart_add=i % 2 == 0) for i in range(6)]
    poison = [
        make_entry("0001-01-01T00:00:00Z", "P000001", False),  # Go's zero time
        make_entry("1899-12-31T23:59:59Z", "P000001", False),
        make_entry("1970-01-01T00:00:00Z", "P000001", False),  # a reset clock
        {**make_entry(two_hours_ago(0), "P000001", False), "event_id": None},
        {**make_entry(two_hours_ago(0), "P000001", False), "session_id": None},
        {**make_entry(two_hours_ago(0), "P000001", False), "ip": None},
        make_entry(two_hours_ago(0), "P000001", False, status=42),
    ]
    values = [json.dumps(e).encode() for e in valid[:3]] + [json.dumps(e).encode() for e in poison]
    produce(spark, kafka_bootstrap, topic, values + [json.dumps(e).encode() for e in valid[3:]])
    command = job_command(kafka_bootstrap, topic, tmp_path, "--available-now", "--idle-complete-seconds", "0")
    command[command.index("--max-future-seconds") + 1] = "3600"
    run(spark, parse_args(command[3:]))  # the job's own run, in this process: it returns instead of failing

    rows = spark.read.parquet(*visible_parquet(tmp_path / "events")).collect()
    assert sorted(r.event_id for r in rows) == sorted(e["event_id"] for e in valid)
    quarantined = spark.read.parquet(*visible_parquet(tmp_path / "quarantine")).collect()
    reasons = sorted(r.reason for r in quarantined)
    assert len(reasons) == len(poison), reasons
    assert sum("event_time more than 62 days, 0:00:00 before the Kafka timestamp" in r for r in reasons) == 3
    for reason in ("event_id is null", "session_id is null", "ip is null", "status violates minimum 100"):
        assert sum(reason in r for r in reasons) == 1, (reason, reasons)
    # The hour of the valid entries is marked with exactly them: nothing else reached raw.
    assert marked_hours(tmp_path) == [(two_hours_ago(0)[:13], len(valid))]


def test_only_the_rejected_records_are_judged_again_and_a_quarantine_short_of_them_fails_its_batch(
        spark, kafka_bootstrap, tmp_path, monkeypatch):
    topic = "weblogs-requarantine-" + tmp_path.name.replace("_", "-")
    valid = json.dumps(make_entry(two_hours_ago(0), "P000001", False)).encode()
    produce(spark, kafka_bootstrap, topic, [valid, *MALFORMED, valid])  # offsets 0-4: the rejected are 1-3
    real = weblog_stream.records_read_at
    read_again: list[str] = []

    def one_position_lost(session, batch, positions: str):
        read_again.append(positions)
        return real(session, batch, positions.split(",", 1)[1])

    monkeypatch.setattr(weblog_stream, "records_read_at", one_position_lost)
    command = job_command(kafka_bootstrap, topic, tmp_path, "--available-now")
    with pytest.raises(weblog_stream.StreamFailed, match="batch 0: 3 records rejected, but 2 written to quarantine"):
        run(spark, parse_args(command[3:]))
    assert [sorted(positions.split(",")) for positions in read_again] == [["0:1", "0:2", "0:3"]]
    assert visible_parquet(tmp_path / "events") == visible_parquet(tmp_path / "quarantine") == []


def test_a_source_whose_clock_runs_fast_does_not_close_the_hour_that_is_still_running(spark, kafka_bootstrap,
                                                                                        tmp_path):
    topic = "weblogs-fast-clock-" + tmp_path.name.replace("_", "-")
    fast = (datetime.now(UTC) + timedelta(minutes=50)).strftime("%Y-%m-%dT%H:%M:%SZ")  # under the 1-hour bound
    produce(spark, kafka_bootstrap, topic, [json.dumps(make_entry(t, "P000001", False)).encode()
                                            for t in (two_hours_ago(10), two_hours_ago(20), fast)])
    command = job_command(kafka_bootstrap, topic, tmp_path, "--available-now", "--idle-complete-seconds", "0")
    command[command.index("--max-future-seconds") + 1] = "3600"
    run(spark, parse_args(command[3:]))
    current_hour = datetime.now(UTC).strftime("%Y-%m-%dT%H")
    hours = [hour for hour, _ in marked_hours(tmp_path)]
    assert hours[0] == two_hours_ago(0)[:13]
    assert max(hours) < current_hour, "no hour is complete before Kafka's time has passed its end"


def test_a_late_batch_for_a_marked_hour_lands_in_that_hour_and_leaves_a_late_notice(spark, kafka_bootstrap, tmp_path):
    topic = "weblogs-late-" + tmp_path.name.replace("_", "-")
    command = job_command(kafka_bootstrap, topic, tmp_path, "--available-now", "--idle-complete-seconds", "0")
    command[command.index("--max-future-seconds") + 1] = "3600"
    hour = two_hours_ago(0)[:13]
    produce(spark, kafka_bootstrap, topic, [json.dumps(make_entry(two_hours_ago(5), "P1", False)).encode()])
    run(spark, parse_args(command[3:]))
    assert marked_hours(tmp_path) == [(hour, 1)]
    late_notice = tmp_path / "_complete" / f"dt={hour[:10]}" / f"hr={hour[11:]}" / "_LATE"
    assert not late_notice.exists()

    late = [json.dumps(make_entry(two_hours_ago(50), "P1", False)).encode() for _ in range(3)]  # a slow clock
    produce(spark, kafka_bootstrap, topic, late)
    run(spark, parse_args(command[3:]))
    assert json.loads(late_notice.read_text())["hour"] == hour
    rows = len(spark.read.parquet(*visible_parquet(tmp_path / "events" / f"dt={hour[:10]}" / f"hr={hour[11:]}"))
               .collect())
    assert rows == 4, "the late entries are in their own hour's partition, for the rerun to count"
