"""The Hive tables declared by the hourly HiveQL read exactly what the streaming job writes."""

from __future__ import annotations

import re

from conftest import make_entry

from jobs.hourly_local import JOBS_DIR, main, statements
from jobs.weblog_parse import parse

DDL = (JOBS_DIR / "hourly_register_partition.hql").read_text()


def declared_columns(table: str) -> list[tuple[str, str]]:
    body = re.search(rf"TABLE IF NOT EXISTS clickstream\.{table} \((.*?)\)\s*PARTITIONED BY", DDL, re.S)
    assert body, table
    return [tuple(line.strip().rstrip(",").split()) for line in body.group(1).strip().splitlines()]


def spark_columns(df) -> list[tuple[str, str]]:
    return [(f.name, f.dataType.simpleString().upper()) for f in df.schema.fields if f.name not in ("dt", "hr")]


def test_hive_columns_match_the_parquet_the_streaming_job_writes(spark, kafka_frame):
    valid, bad = parse(kafka_frame([b"{}"]))
    as_hive = {"BIGINT": "BIGINT", "INT": "INT", "STRING": "STRING", "TIMESTAMP": "TIMESTAMP", "BINARY": "BINARY"}
    assert declared_columns("weblog_raw") == [(n, as_hive[t]) for n, t in spark_columns(valid)]
    assert declared_columns("weblog_quarantine") == [(n, as_hive[t]) for n, t in spark_columns(bad)]


def test_every_check_statement_is_named():
    checks = statements((JOBS_DIR / "hourly_checks.hql").read_text())
    named = [s.check for s in checks if "assert_true" in s.sql]
    assert len(named) == 5 and all(named)


def test_the_local_runner_exits_non_zero_naming_the_failed_check(spark, tmp_path, capsys):
    code = main(["--hour", "2026-11-20T03", "--raw", str(tmp_path / "events"), "--quarantine",
                 str(tmp_path / "quarantine"), "--staging", str(tmp_path / "staging"), "--curated",
                 str(tmp_path / "curated"), "--warehouse", str(tmp_path / "hive")])
    out = capsys.readouterr()
    assert code == 1
    assert "data-quality check failed: the raw partition of the hour exists" in out.err
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
