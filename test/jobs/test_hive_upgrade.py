"""Table definitions reach a metastore that outlives the runs, as Dataproc's does: tables created by the
previous definition (fixtures/previous_hourly_register_partition.hql, the unversioned tables) are replaced
by the current scripts, a moved raw location reaches a table that exists, and no definition changes
without a new versioned name."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from conftest import make_entry

from dags.weblog_hourly_steps import HOURLY_STEPS, hour_plan, parse_hour
from jobs.hourly_local import JOBS_DIR, run_hour, run_script, statements
from jobs.weblog_parse import parse

PREVIOUS_DDL = (Path(__file__).parent / "fixtures" / "previous_hourly_register_partition.hql").read_text()
# sha256 of each versioned table's CREATE statement: a changed definition needs a new name (and the old
# name in the register script's list of retired tables), then a new line here.
DEFINITIONS = {
    "weblog_raw_v1": "1412c31642861ea9c407cefa8cabab4bca899be7afb76ca877fb30ff55128217",
    "weblog_quarantine_v1": "9b221241aa75af13375be8bd358a2384721de1f72a70e3f6a430e2918d955249",
    "hourly_check_results_v2": "abd27ea1b0771de70f30c52b85d21db830a808358c271a7b46c92050ca51dc03",
}


def write_raw(spark, kafka_frame, root: Path, minutes: range) -> None:
    values = [json.dumps(make_entry(f"2026-11-23T09:{m:02d}:00.000Z", "P000005", False)).encode() for m in minutes]
    valid, _ = parse(kafka_frame(values))
    valid.write.partitionBy("dt", "hr").parquet(str(root / "events"))
    (root / "quarantine").mkdir()


def table_location(spark, table: str) -> str:
    rows = spark.sql(f"DESCRIBE FORMATTED clickstream.{table}").where("col_name = 'Location'").collect()
    return rows[0].data_type.removeprefix("file:")


def tables(spark) -> set[str]:
    return {r.tableName for r in spark.sql("SHOW TABLES IN clickstream").collect()}


def test_tables_of_the_previous_definition_give_way_to_the_current_one(spark, kafka_frame, tmp_path):
    old, new = tmp_path / "old-bucket", tmp_path / "new-bucket"
    write_raw(spark, kafka_frame, old, range(2))
    write_raw(spark, kafka_frame, new, range(3))
    previous = {"RAW_LOCATION": str(old / "events"), "QUARANTINE_LOCATION": str(old / "quarantine"),
                "DT": "2026-11-23", "HR": "09"}
    for statement in statements(PREVIOUS_DDL):
        spark.sql(re.sub(r"\$\{(\w+)\}", lambda m: previous[m.group(1)], statement.sql))
    assert {"weblog_raw", "weblog_quarantine"} <= tables(spark)
    old_files = sorted((old / "events").rglob("*.parquet"))

    names = run_hour(spark, parse_hour("2026-11-23T09"), str(new / "events"), str(new / "quarantine"),
                     str(tmp_path / "staging"), str(tmp_path / "curated"), run_id="upgrade")
    assert [(tmp_path / "curated" / n).read_text() for n in names] == ["2026-11-23 09:00:00,P000005,3,0,upgrade\n"]
    assert not {"weblog_raw", "weblog_quarantine"} & tables(spark)
    assert table_location(spark, "weblog_raw_v1") == str(new / "events")
    assert table_location(spark, "weblog_quarantine_v1") == str(new / "quarantine")
    assert old_files and sorted((old / "events").rglob("*.parquet")) == old_files  # dropping kept the data


def test_a_moved_raw_location_reaches_a_table_that_already_exists(spark, kafka_frame, tmp_path):
    register = (JOBS_DIR / HOURLY_STEPS[0].script).read_text()
    for bucket in ("first-bucket", "second-bucket"):
        write_raw(spark, kafka_frame, tmp_path / bucket, range(1))
        plan = hour_plan(parse_hour("2026-11-23T09"), "moved", str(tmp_path / bucket / "events"),
                         str(tmp_path / bucket / "quarantine"), str(tmp_path / "staging"))
        run_script(spark, register, plan)
    assert table_location(spark, "weblog_raw_v1") == str(tmp_path / "second-bucket" / "events")
    assert table_location(spark, "weblog_quarantine_v1") == str(tmp_path / "second-bucket" / "quarantine")


def test_a_table_definition_changes_only_under_a_new_versioned_name():
    found = {}
    for step in HOURLY_STEPS:
        for statement in statements((JOBS_DIR / step.script).read_text()):
            created = re.match(r"CREATE (?:EXTERNAL )?TABLE IF NOT EXISTS clickstream\.(\w+)", statement.sql)
            if created:
                found[created.group(1)] = hashlib.sha256(statement.sql.encode()).hexdigest()
    assert found == DEFINITIONS

