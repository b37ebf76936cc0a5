"""The Hive tables declared by the hourly HiveQL read exactly what the streaming job writes."""

from __future__ import annotations

import re

import pytest
from conftest import make_entry

from dags.weblog_hourly_steps import HOURLY_STEPS, STAGING_TABLES_TEARDOWN
from jobs.hourly_local import JOBS_DIR, main, statements
from jobs.weblog_parse import parse

DDL = (JOBS_DIR / "hourly_register_partition.hql").read_text()


def declared_columns(table: str) -> list[tuple[str, str]]:
    body = re.search(rf"TABLE IF NOT EXISTS clickstream\.{table}_v\d+ \((.*?)\)\s*PARTITIONED BY", DDL, re.S)
    assert body, table
    return [tuple(line.strip().rstrip(",").split()) for line in body.group(1).strip().splitlines()]


def spark_columns(df) -> list[tuple[str, str]]:
    return [(f.name, f.dataType.simpleString().upper()) for f in df.schema.fields if f.name not in ("dt", "hr")]


def test_hive_columns_match_the_parquet_the_streaming_job_writes(spark, kafka_frame):
    valid, bad = parse(kafka_frame([b"{}"]))
    as_hive = {"BIGINT": "BIGINT", "INT": "INT", "STRING": "STRING", "TIMESTAMP": "TIMESTAMP", "BINARY": "BINARY"}
    assert declared_columns("weblog_raw") == [(n, as_hive[t]) for n, t in spark_columns(valid)]
    assert declared_columns("weblog_quarantine") == [(n, as_hive[t]) for n, t in spark_columns(bad)]


@pytest.mark.parametrize("step", (*HOURLY_STEPS, STAGING_TABLES_TEARDOWN), ids=lambda step: step.script)
def test_each_script_starts_with_a_guard_on_every_variable_it_uses(step):
    script = statements((JOBS_DIR / step.script).read_text())
    guard, rest = script[0], script[1:]
    assert guard.sql.startswith("SELECT assert_true(")
    assert guard.assertion == "the script variables are substituted"
    used = {name for s in rest for name in re.findall(r"\$\{hiveconf:(\w+)\}", s.sql)}
    assert used and set(re.findall(r"\$\{hiveconf:(\w+)\}", guard.sql)) == used
    # Any other form would reach Hive unsubstituted (docs/hive-and-spark-sql.md).
    assert not [s.sql for s in script if re.search(r"\$\{(?!hiveconf:)", s.sql)]


def test_every_assert_says_what_it_asserts():
    for step in (*HOURLY_STEPS, STAGING_TABLES_TEARDOWN):
        for statement in statements((JOBS_DIR / step.script).read_text()):
            assert ("assert_true" in statement.sql) == (statement.assertion is not None), statement.sql[:80]


def test_the_local_runner_exits_non_zero_naming_the_failed_check(spark, tmp_path, capsys):
    (tmp_path / "events").mkdir()  # the streaming job's sinks exist, this hour has no entry
    (tmp_path / "quarantine").mkdir()
    code = main(["--hour", "2026-11-20T03", "--raw", str(tmp_path / "events"), "--quarantine",
                 str(tmp_path / "quarantine"), "--staging", str(tmp_path / "staging"), "--curated",
                 str(tmp_path / "curated"), "--warehouse", str(tmp_path / "hive")])
    out = capsys.readouterr()
    assert code == 1
    assert ("data-quality check failed: raw holds every row the marker counts, and rows unless quiet (found 0 raw rows,"
            " no marker, limit at least the rows the marker counts") in out.err
    assert '"ok": false' in out.out


def test_the_local_runner_runs_several_hours_in_one_process(spark, kafka_frame, tmp_path, capsys):
    values = [repr_entry(t) for t in ("2026-11-20T05:01:00.000Z", "2026-11-20T06:01:00.000Z")]
    valid, _ = parse(kafka_frame(values))
    valid.write.partitionBy("dt", "hr").parquet(str(tmp_path / "events"))
    code = main(["--hour", "2026-11-20T05", "--hour", "2026-11-20T06", "--raw", str(tmp_path / "events"),
                 "--quarantine", str(tmp_path / "quarantine"), "--staging", str(tmp_path / "staging"),
                 "--curated", str(tmp_path / "curated"), "--warehouse", str(tmp_path / "hive")])
    lines = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    assert len(lines) == 2 and all('"ok": true' in line for line in lines)
    assert sorted(p.name for p in (tmp_path / "curated").rglob("*.csv")) == ["part-00000.csv"] * 2


def repr_entry(event_time: str) -> bytes:
    import json  # noqa: PLC0415

    return json.dumps(make_entry(event_time, "P000009", cart_add=False)).encode()
