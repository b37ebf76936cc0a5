"""The hourly steps (the DAG's HiveQL) through Spark SQL with Hive support, on raw data written by the
streaming job's own parse step: exact counts per hour and product, a failing case for each check (named by
the script's own output, as on Dataproc), and the publish rule."""

from __future__ import annotations

import json
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import make_entry

from dags.weblog_hourly_steps import (
    CHECK_TASK_ID,
    HOURLY_STEPS,
    HourlyStep,
    NothingStaged,
    StagingChanged,
    checked_files,
    hour_plan,
    parse_hour,
    plain_decimal,
)
from jobs import hourly_local
from jobs.hourly_local import (
    JOBS_DIR,
    AlreadyPublished,
    QualityCheckFailed,
    ScriptAssertionFailed,
    folder_generation,
    publish,
    run_hour,
    run_script,
    staged_files,
    warm_up,
)
from jobs.weblog_parse import parse

# The check names the scripts print when a check fails (jobs/hourly_checks.hql).
RAW_PARTITION_HAS_ROWS = "raw holds every row the marker counts, and rows unless quiet"
AGGREGATES_ADD_UP = "the aggregates add up to the distinct entries of the hour"
KEYS_OF_THIS_HOUR_AND_RUN = "no null keys and every row belongs to this hour and run"
COUNTS_PRESENT_AND_NOT_NEGATIVE = "no negative or missing counts"
QUARANTINED_SHARE = "the quarantined share of the hour is at most MAX_QUARANTINE_SHARE"
DUPLICATE_SHARE = "the duplicate share of the hour is at most MAX_DUPLICATE_SHARE"

HOUR_14 = "2026-11-26T14"
# (event_time, product, cart_add) -> expected rows per hour and product
ENTRIES = (
    [("2026-11-26T14:00:00.000Z", "P000001", False)] * 3
    + [("2026-11-26T14:30:00.000Z", "P000001", True)] * 2
    + [("2026-11-26T14:59:59.999Z", "P000002", False)]
    + [("2026-11-26T15:00:00.000Z", "P000002", True)] * 4
    + [("2026-11-26T15:10:00.000Z", "P000003", False)]
)
EXPECTED = {
    "2026-11-26T14": {("P000001", 3, 2), ("P000002", 1, 0)},
    "2026-11-26T15": {("P000002", 0, 4), ("P000003", 1, 0)},
}


@pytest.fixture(scope="module")
def raw(spark, kafka_frame, tmp_path_factory):
    """Raw and quarantine folders as the streaming job lays them out; one malformed record at 14:xx."""
    root = tmp_path_factory.mktemp("raw")
    values = [json.dumps(make_entry(t, p, c)).encode() for t, p, c in ENTRIES] + [b"not json"]
    valid, bad = parse(kafka_frame(values, received=datetime(2026, 11, 26, 14, 30, tzinfo=UTC)))
    valid.write.partitionBy("dt", "hr").parquet(str(root / "events"))
    bad.write.partitionBy("dt", "hr").parquet(str(root / "quarantine"))
    return root


def read_published(curated: Path, names: list[str]) -> set[tuple]:
    rows = set()
    for name in names:
        for line in (curated / name).read_text().splitlines():
            hour, product, visits, cart_adds, run_id = line.split(",")
            rows.add((hour, product, int(visits), int(cart_adds), run_id))
    return rows


def run(spark, raw: Path, tmp: Path, hour: str, **kw) -> list[str]:
    return run_hour(spark, parse_hour(hour), str(raw / "events"), str(raw / "quarantine"),
                    str(tmp / "staging"), str(tmp / "curated"), **kw)


def test_each_hour_publishes_exact_visits_and_cart_adds_per_product(spark, raw, tmp_path):
    for hour, expected in EXPECTED.items():
        names = run(spark, raw, tmp_path, hour, run_id=f"run-{hour}", max_quarantine_share=0.2)
        dt, hr = hour.split("T")
        assert names == [f"hourly/dt={dt}/hr={hr}/run_id=run-{hour}/part-00000.csv"]
        assert read_published(tmp_path / "curated", names) == {
            (f"{dt} {hr}:00:00", product, visits, cart_adds, f"run-{hour}") for product, visits, cart_adds in expected
        }


def metastore(spark) -> dict:
    """Every database's tables, and the raw table's partitions when it exists."""
    state: dict = {db: sorted(r.tableName for r in spark.sql(f"SHOW TABLES IN {db}").collect())
                   for db in (r[0] for r in spark.sql("SHOW DATABASES").collect())}
    if spark.catalog.tableExists("clickstream.weblog_raw_v1"):
        state["partitions"] = spark.sql("SHOW PARTITIONS clickstream.weblog_raw_v1").collect()
    return state


def test_the_workers_warm_up_hour_runs_every_step_in_a_database_of_its_own_and_leaves_nothing(spark, tmp_path):
    before = metastore(spark)
    scratch = tmp_path / "_warm_up"
    scratch.mkdir()
    (scratch / "left by a killed warm-up").write_text("")
    assert warm_up(spark, scratch) is True  # every step ran, the check of what would be published included
    assert not scratch.exists()
    assert metastore(spark) == before


def test_a_warm_up_that_fails_is_reported_and_decides_nothing(spark, monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(hourly_local, "HOURLY_STEPS", (HourlyStep("broken", "no_such_script.hql"),))
    assert warm_up(spark, tmp_path / "_warm_up") is False
    assert not (tmp_path / "_warm_up").exists()
    assert "the warm-up hour failed" in capsys.readouterr().err
    assert hourly_local.WARM_UP_DATABASE not in {r[0] for r in spark.sql("SHOW DATABASES").collect()}


def test_a_rerun_replaces_the_hours_published_output(spark, raw, tmp_path):
    first = run(spark, raw, tmp_path, HOUR_14, run_id="20261126T150000000000Z", max_quarantine_share=0.2)
    second = run(spark, raw, tmp_path, HOUR_14, run_id="20261126T160000000000Z", max_quarantine_share=0.2)
    hour_dir = tmp_path / "curated" / "hourly" / "dt=2026-11-26" / "hr=14"
    on_disk = sorted(str(p.relative_to(tmp_path / "curated")) for p in hour_dir.rglob("*") if p.is_file())
    assert first != second
    assert on_disk == second
    assert {r[1:4] for r in read_published(tmp_path / "curated", second)} == EXPECTED[HOUR_14]


def write_marker(markers: Path, hour: str, rows: int, quarantined: int) -> str:
    dt, hr = hour.split("T")
    folder = markers / f"dt={dt}" / f"hr={hr}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "_COMPLETE").write_text(json.dumps({"hour": hour, "rows": rows, "quarantined": quarantined}))
    return str(markers)


def test_a_quiet_hour_whose_marker_counts_nothing_publishes_one_file_with_zero_rows(spark, raw, tmp_path):
    markers = write_marker(tmp_path / "markers", "2026-11-26T16", rows=0, quarantined=0)
    names = run(spark, raw, tmp_path, "2026-11-26T16", run_id="quiet", markers=markers)
    assert names == ["hourly/dt=2026-11-26/hr=16/run_id=quiet/part-00000.csv"]
    assert (tmp_path / "curated" / names[0]).read_text() == ""


@pytest.mark.parametrize(("hour", "rows", "quarantined"), [
    ("2026-11-26T16", 3, 0),  # the marker counted entries the raw partition does not hold
    ("2026-11-26T14", 100, 0),  # the raw partition holds fewer rows than the marker counted
])
def test_check_fails_when_the_raw_partition_has_fewer_rows_than_the_marker_counts(spark, raw, tmp_path, hour, rows,
                                                                                  quarantined):
    markers = write_marker(tmp_path / "markers", hour, rows, quarantined)
    with pytest.raises(QualityCheckFailed) as failed:
        run(spark, raw, tmp_path, hour, markers=markers, max_quarantine_share=0.2)
    assert failed.value.checks == (RAW_PARTITION_HAS_ROWS,)
    assert not (tmp_path / "curated").exists()


@pytest.fixture(scope="module")
def raw_delivered_twice(spark, kafka_frame, tmp_path_factory):
    """Every record of `raw` delivered twice (same bytes, later offsets), as a producer's retry or a
    re-shipped log delivers it; plus one event_id delivered twice with different content."""
    root = tmp_path_factory.mktemp("raw-twice")
    values = [json.dumps(make_entry(t, p, c)).encode() for t, p, c in ENTRIES] + [b"not json"]
    conflicting = make_entry("2026-11-26T15:20:00.000Z", "P000005", False)
    later = {**conflicting, "method": "POST", "url": "/cart", "product_id": "P000006", "pid": "P000006"}
    delivered = [*values, json.dumps(conflicting).encode(), *values, json.dumps(later).encode()]
    valid, bad = parse(kafka_frame(delivered, received=datetime(2026, 11, 26, 14, 30, tzinfo=UTC)))
    valid.write.partitionBy("dt", "hr").parquet(str(root / "events"))
    bad.write.partitionBy("dt", "hr").parquet(str(root / "quarantine"))
    return root


def test_entries_delivered_twice_publish_the_same_numbers_as_once(spark, raw_delivered_twice, tmp_path):
    raw_rows = spark.read.parquet(str(raw_delivered_twice / "events"))
    assert raw_rows.count() == 2 * len(ENTRIES) + 2  # raw keeps every delivery
    # The conflicting event_id counts once, as its first delivery by Kafka position: a visit of P000005.
    expected = {**EXPECTED, "2026-11-26T15": EXPECTED["2026-11-26T15"] | {("P000005", 1, 0)}}
    for hour, rows in expected.items():
        names = run(spark, raw_delivered_twice, tmp_path, hour, run_id=f"twice-{hour}", max_quarantine_share=0.2)
        dt, hr = hour.split("T")
        assert read_published(tmp_path / "curated", names) == {
            (f"{dt} {hr}:00:00", product, visits, cart_adds, f"twice-{hour}") for product, visits, cart_adds in rows
        }


def test_the_first_delivery_to_arrive_wins_whatever_partition_a_later_copy_is_sent_to(spark, tmp_path):
    genuine = make_entry("2026-11-26T14:10:00.000Z", "P000007", False)
    forged = {**genuine, "method": "POST", "url": "/cart", "product_id": "P000666", "pid": "P000666"}
    records = [(bytearray(json.dumps(genuine).encode()), 1, 10, datetime(2026, 11, 26, 14, 10, tzinfo=UTC)),
               (bytearray(json.dumps(forged).encode()), 0, 0, datetime(2026, 11, 26, 14, 20, tzinfo=UTC))]
    valid, bad = parse(spark.createDataFrame(records, "value binary, partition int, offset long, timestamp timestamp"))
    valid.write.partitionBy("dt", "hr").parquet(str(tmp_path / "raw" / "events"))
    bad.write.partitionBy("dt", "hr").parquet(str(tmp_path / "raw" / "quarantine"))
    names = run(spark, tmp_path / "raw", tmp_path, HOUR_14, run_id="arrival", max_duplicate_share=0.5)
    assert read_published(tmp_path / "curated", names) == {("2026-11-26 14:00:00", "P000007", 1, 0, "arrival")}


def test_check_fails_when_the_duplicate_share_is_over_the_threshold(spark, raw_delivered_twice, tmp_path):
    # Hour 14 delivered twice: half its raw rows repeat an event_id; 0.5 passes (above), 0.4 fails.
    with pytest.raises(QualityCheckFailed) as failed:
        run(spark, raw_delivered_twice, tmp_path, HOUR_14, max_quarantine_share=0.2, max_duplicate_share=0.4)
    assert failed.value.checks == (DUPLICATE_SHARE,)
    assert not (tmp_path / "curated").exists()


@pytest.fixture(scope="module")
def staged(spark, raw, tmp_path_factory) -> dict[str, str]:
    """Register + aggregate hour 14 once; each check test then works on its own copy of the staged CSV."""
    plan = hour_plan(parse_hour(HOUR_14), "staged", str(raw / "events"), str(raw / "quarantine"),
                     str(tmp_path_factory.mktemp("staging")), 0.2)
    for step in HOURLY_STEPS[:2]:
        run_script(spark, (JOBS_DIR / step.script).read_text(), plan)
    return plan


def copy_of(staged: dict[str, str], tmp: Path, share: float = 0.2) -> dict[str, str]:
    copy = tmp / "staged-copy"
    plan = {**staged, "STAGING_DIR": str(copy), "STAGED_CSV_DIR": str(copy / "hourly_activity"),
            "RAW_ROWS_DIR": str(copy / "_reconciliation" / "raw_rows"), "MAX_QUARANTINE_SHARE": plain_decimal(share),
            "STAGING_TABLE": f"hourly_staging_{tmp.name.replace('-', '_')}"}
    shutil.copytree(staged["STAGING_DIR"], plan["STAGING_DIR"])
    return plan


def rewrite_staged(plan: dict[str, str], old: str, new: str) -> None:
    folder = Path(plan["STAGED_CSV_DIR"])
    files = [p for p in folder.iterdir() if p.name.startswith("part-") and p.stat().st_size]
    text = "".join(p.read_text() for p in files)
    assert old in text
    for p in files:
        p.unlink()
    (folder / "part-00000").write_text(text.replace(old, new))


def run_checks(spark, plan: dict[str, str]) -> None:
    """The verdicts, then their assertion."""
    for step in HOURLY_STEPS[2:]:
        run_script(spark, (JOBS_DIR / step.script).read_text(), plan)


def test_the_staged_output_passes_the_checks_untouched(spark, staged, tmp_path):
    run_checks(spark, copy_of(staged, tmp_path))


def test_check_fails_when_the_raw_partition_is_missing(spark, raw, tmp_path):
    plan = hour_plan(parse_hour("2026-11-26T16"), "empty", str(raw / "events"), str(raw / "quarantine"),
                     str(tmp_path / "staging"), 0.2)
    for step in HOURLY_STEPS[:2]:
        run_script(spark, (JOBS_DIR / step.script).read_text(), plan)
    with pytest.raises(QualityCheckFailed) as failed:
        run_checks(spark, plan)
    assert failed.value.checks == (RAW_PARTITION_HAS_ROWS,)


def test_check_fails_when_aggregates_do_not_reconcile_with_raw_rows(spark, staged, tmp_path):
    plan = copy_of(staged, tmp_path)
    rewrite_staged(plan, "P000002,1,0", "P000002,2,0")
    with pytest.raises(QualityCheckFailed) as failed:
        run_checks(spark, plan)
    assert failed.value.checks == (AGGREGATES_ADD_UP,)


def test_check_fails_on_a_null_key(spark, staged, tmp_path):
    plan = copy_of(staged, tmp_path)
    rewrite_staged(plan, ",P000002,", r",\N,")
    with pytest.raises(QualityCheckFailed) as failed:
        run_checks(spark, plan)
    assert failed.value.checks == (KEYS_OF_THIS_HOUR_AND_RUN,)


@pytest.mark.parametrize(("old", "new"), [
    ("2026-11-26 14:00:00,P000002,", "2026-11-26 15:00:00,P000002,"),  # a row of another hour
    ("P000002,1,0,staged", "P000002,1,0,other-run"),  # a row of another run
])
def test_check_fails_on_a_row_of_another_hour_or_run(spark, staged, tmp_path, old, new):
    plan = copy_of(staged, tmp_path)
    rewrite_staged(plan, old, new)
    with pytest.raises(QualityCheckFailed) as failed:
        run_checks(spark, plan)
    assert failed.value.checks == (KEYS_OF_THIS_HOUR_AND_RUN,)


def test_check_fails_on_a_negative_count(spark, staged, tmp_path):
    plan = copy_of(staged, tmp_path)
    rewrite_staged(plan, "P000001,3,2", "P000001,-1,6")  # same total, so only this check can fail
    with pytest.raises(QualityCheckFailed) as failed:
        run_checks(spark, plan)
    assert failed.value.checks == (COUNTS_PRESENT_AND_NOT_NEGATIVE,)


def test_check_fails_on_a_missing_visit_count(spark, staged, tmp_path):
    plan = copy_of(staged, tmp_path)
    rewrite_staged(plan, "P000001,3,2", r"P000001,\N,5")  # same total, so only this check can fail
    with pytest.raises(QualityCheckFailed) as failed:
        run_checks(spark, plan)
    assert failed.value.checks == (COUNTS_PRESENT_AND_NOT_NEGATIVE,)


def test_check_fails_when_the_quarantined_share_is_over_the_threshold(spark, staged, tmp_path):
    # 1 quarantined of 7 records in hour 14: a share of 1/7 passes 0.2 and fails 0.1.
    plan = copy_of(staged, tmp_path, share=0.1)
    with pytest.raises(QualityCheckFailed) as failed:
        run_checks(spark, plan)
    assert failed.value.checks == (QUARANTINED_SHARE,)


def test_the_quarantined_share_is_of_every_record_of_the_hour_quarantined_ones_included(spark, staged, tmp_path):
    # 1 quarantined beside 6 entries: 1/7 = 0.143 of the hour's records, but 1/6 = 0.167 of its entries alone.
    for name, share, passes in (("above", 0.15, True), ("below", 0.14, False)):
        plan = copy_of(staged, tmp_path / f"{tmp_path.name}-{name}", share=share)
        if passes:
            run_checks(spark, plan)
            continue
        with pytest.raises(QualityCheckFailed) as failed:
            run_checks(spark, plan)
        assert failed.value.checks == (QUARANTINED_SHARE,)


@pytest.mark.parametrize(("share", "written"), [(0.00005, "0.00005"), (1e-10, "0.0000000001"), (1, "1.0"),
                                               (0.05, "0.05"), (0, "0.0")])
def test_a_threshold_is_written_as_a_plain_decimal_hives_strict_checks_compare_with_a_bigint(share, written):
    plan = hour_plan(parse_hour(HOUR_14), "r1", "/raw/events", "/raw/quarantine", "/staging", share, share)
    assert (plan["MAX_QUARANTINE_SHARE"], plan["MAX_DUPLICATE_SHARE"]) == (written, written)


def test_the_checks_refuse_a_threshold_written_with_an_exponent(spark, staged, tmp_path):
    plan = {**copy_of(staged, tmp_path), "MAX_QUARANTINE_SHARE": "5e-05"}
    with pytest.raises(ScriptAssertionFailed):
        run_checks(spark, plan)


def test_every_failed_check_is_named_with_its_value_and_limit_by_the_scripts_own_output(spark, staged, tmp_path):
    # No comment reaches Hive's driver output: the names must come from what the statements return.
    plan = copy_of(staged, tmp_path, share=0.1)
    rewrite_staged(plan, "P000002,1,0", "P000002,2,0")
    run_script(spark, (JOBS_DIR / HOURLY_STEPS[2].script).read_text(), plan)  # the verdicts: recorded, no error
    script = "\n".join(line for line in (JOBS_DIR / HOURLY_STEPS[3].script).read_text().splitlines()
                       if not line.lstrip().startswith("--") or line.lstrip().startswith("-- assert:"))
    with pytest.raises(QualityCheckFailed) as failed:
        run_script(spark, script, plan)
    assert failed.value.checks == (AGGREGATES_ADD_UP, QUARANTINED_SHARE)
    # each with the value it found and its limit
    assert str(failed.value) == (
        f"data-quality check failed: {AGGREGATES_ADD_UP} (found 7 visits and cart additions, limit exactly the 6"
        f" distinct entries); {QUARANTINED_SHARE} (found a share of 0.1429, 1 of 7 records, limit at most 0.1)")


def staging_tables(spark) -> set[str]:
    return {r.tableName for r in spark.sql("SHOW TABLES IN clickstream LIKE 'hourly_staging_*'").collect()}


def test_the_runs_staging_tables_are_dropped_whatever_the_outcome(spark, staged, tmp_path):
    passing = copy_of(staged, tmp_path / "passing")
    run_checks(spark, passing)
    failing = copy_of(staged, tmp_path / "failing", share=0.1)
    with pytest.raises(QualityCheckFailed) as failed:
        run_checks(spark, failing)
    assert failed.value.checks == (QUARANTINED_SHARE,)
    left = staging_tables(spark)
    for plan in (passing, failing):
        assert plan["STAGING_TABLE"] not in left
        assert plan["STAGING_TABLE"] + "_raw_rows" not in left


def test_checks_that_die_mid_script_leave_no_staging_tables_in_the_local_runner(spark, raw, tmp_path, monkeypatch):
    from jobs import hourly_local  # noqa: PLC0415

    whole_script, run_ids = hourly_local.run_script, []

    def dying(spark, script, variables):  # the checks' script dies once its staging tables exist
        if "INSERT OVERWRITE TABLE clickstream.hourly_check_results_v2" in script:
            whole_script(spark, script[:script.index("-- A check whose inputs are missing")], variables)
            run_ids.append(variables["RUN_ID"])
            raise RuntimeError("the connection to HiveServer2 was lost")
        return whole_script(spark, script, variables)

    monkeypatch.setattr(hourly_local, "run_script", dying)
    with pytest.raises(RuntimeError, match="HiveServer2"):
        run(spark, raw, tmp_path, HOUR_14, run_id="died")
    assert run_ids == ["died"]
    assert not {t for t in staging_tables(spark) if "_died" in t}
    assert not (tmp_path / "curated").exists()


def test_entries_added_to_the_hour_after_the_aggregate_do_not_fail_its_checks(spark, kafka_frame, tmp_path):
    root = tmp_path / "raw"
    entries = [("2026-11-21T08:05:00.000Z", "P000004", False), ("2026-11-21T08:06:00.000Z", "P000004", True)]
    valid, _ = parse(kafka_frame([json.dumps(make_entry(t, p, c)).encode() for t, p, c in entries]))
    valid.write.partitionBy("dt", "hr").parquet(str(root / "events"))
    (root / "quarantine").mkdir()
    plan = hour_plan(parse_hour("2026-11-21T08"), "late", str(root / "events"), str(root / "quarantine"),
                     str(tmp_path / "staging"), 0.2)
    for step in HOURLY_STEPS[:2]:
        run_script(spark, (JOBS_DIR / step.script).read_text(), plan)
    # The streaming job writes a late entry of the hour between the aggregate and the checks.
    late, _ = parse(kafka_frame([json.dumps(make_entry("2026-11-21T08:59:00.000Z", "P000004", False)).encode()]))
    late.write.mode("append").partitionBy("dt", "hr").parquet(str(root / "events"))
    spark.sql("REFRESH TABLE clickstream.weblog_raw_v1")  # the checks run as a new job on Dataproc
    assert spark.sql("SELECT COUNT(*) AS n FROM clickstream.weblog_raw_v1 WHERE dt = '2026-11-21' AND hr = '08'"
                     ).first().n == 3
    checked = checked_files(plan, staged_files(plan))
    run_checks(spark, plan)
    names = publish(plan, tmp_path / "curated", checked)
    assert read_published(tmp_path / "curated", names) == {("2026-11-21 08:00:00", "P000004", 1, 1, "late")}


def test_the_staged_csv_is_plain_text_when_the_cluster_compresses_output(spark, staged, tmp_path):
    plan = {**staged, "STAGING_DIR": str(tmp_path / "s"), "STAGED_CSV_DIR": str(tmp_path / "s" / "hourly_activity"),
            "RAW_ROWS_DIR": str(tmp_path / "s" / "_reconciliation" / "raw_rows")}
    spark.conf.set("hive.exec.compress.output", "true")  # a cluster default the aggregate must override
    try:
        run_script(spark, (JOBS_DIR / HOURLY_STEPS[1].script).read_text(), plan)
    finally:
        spark.conf.set("hive.exec.compress.output", "false")
    data = [p for p in Path(plan["STAGED_CSV_DIR"]).iterdir() if p.name.startswith("part-") and p.stat().st_size]
    assert data and all(not p.name.endswith((".deflate", ".gz", ".snappy")) for p in data)
    assert "2026-11-26 14:00:00,P000001,3,2,staged" in "".join(p.read_text() for p in data)


def test_a_script_run_with_a_variable_left_unsubstituted_fails_at_its_first_statement(spark, raw, tmp_path):
    plan = hour_plan(parse_hour("2026-11-26T17"), "unset", str(raw / "events"), str(raw / "quarantine"),
                     str(tmp_path / "staging"), 0.2)
    for step in HOURLY_STEPS:
        without_hour = {k: v for k, v in plan.items() if k != "HR"}
        with pytest.raises(ScriptAssertionFailed) as failed:
            run_script(spark, (JOBS_DIR / step.script).read_text(), without_hour)
        assert failed.value.assertion == "the script variables are substituted", step.script
    assert not (raw / "events" / "dt=2026-11-26" / "hr=17").exists()
    assert not Path(plan["STAGING_DIR"]).exists()


def test_nothing_is_published_when_a_check_fails(spark, raw, tmp_path):
    with pytest.raises(QualityCheckFailed) as failed:
        run(spark, raw, tmp_path, HOUR_14, max_quarantine_share=0.0)
    assert failed.value.checks == (QUARANTINED_SHARE,)
    assert not (tmp_path / "curated").exists()


def test_publish_skips_markers_empty_files_and_every_file_under_a_hidden_folder(tmp_path):
    plan = hour_plan(parse_hour(HOUR_14), "r1", "/raw", "/q", str(tmp_path / "staging"))
    staged = Path(plan["STAGED_CSV_DIR"])
    (staged / ".hive-staging_hive_x").mkdir(parents=True)
    (staged / ".hive-staging_hive_x" / "000000_0").write_text("2026-11-26 14:00:00,P000009,9,9,r1\n")
    Path(plan["RAW_ROWS_DIR"]).mkdir(parents=True)
    (Path(plan["RAW_ROWS_DIR"]) / "000000_0").write_text("1\n")
    (staged / "_SUCCESS").write_text("")
    (staged / ".part-00000.crc").write_text("x")
    (staged / "part-00001").write_text("")
    (staged / "part-00000").write_text("2026-11-26 14:00:00,P000001,1,0,r1\n")
    curated = tmp_path / "curated"
    assert publish(plan, curated, checked_files(plan, staged_files(plan))) == [
        "hourly/dt=2026-11-26/hr=14/run_id=r1/part-00000.csv"]
    assert [p.read_text() for p in curated.rglob("*.csv")] == ["2026-11-26 14:00:00,P000001,1,0,r1\n"]


def test_publish_refuses_when_nothing_was_staged_and_keeps_the_earlier_run(tmp_path):
    curated = tmp_path / "curated"
    earlier = curated / "hourly/dt=2026-11-26/hr=14/run_id=20261126T150000000000Z/part-00000.csv"
    earlier.parent.mkdir(parents=True)
    earlier.write_text("2026-11-26 14:00:00,P000001,1,0,20261126T150000000000Z\n")
    plan = hour_plan(parse_hour(HOUR_14), "20261126T160000000000Z", "/raw", "/q", str(tmp_path / "staging"))
    Path(plan["STAGED_CSV_DIR"]).mkdir(parents=True)
    (Path(plan["STAGED_CSV_DIR"]) / "_SUCCESS").write_text("")
    (Path(plan["STAGED_CSV_DIR"]) / "part-00000").write_text("")
    with pytest.raises(NothingStaged):
        publish(plan, curated, checked_files(plan, staged_files(plan)))
    assert earlier.is_file()


def staged_hour(tmp_path: Path, run_id: str = "r1") -> dict[str, str]:
    """A run's staging folder as the aggregate leaves it: the CSV and the raw row counts."""
    plan = hour_plan(parse_hour(HOUR_14), run_id, "/raw", "/q", str(tmp_path / "staging"))
    Path(plan["STAGED_CSV_DIR"]).mkdir(parents=True)
    (Path(plan["STAGED_CSV_DIR"]) / "part-00000").write_text(f"2026-11-26 14:00:00,P000001,1,0,{run_id}\n")
    Path(plan["RAW_ROWS_DIR"]).mkdir(parents=True)
    (Path(plan["RAW_ROWS_DIR"]) / "000000_0").write_text("1,1\n")
    return plan


def test_a_data_file_in_the_runs_staging_place_that_the_checks_do_not_read_fails_the_run_by_name(tmp_path):
    plan = staged_hour(tmp_path)
    (Path(plan["STAGING_DIR"]) / "extra.csv").write_text("2026-11-26 14:00:00,P000001,1000000,0,zzzz\n")
    with pytest.raises(StagingChanged, match=r"files the checks do not read: extra\.csv; nothing was published"):
        checked_files(plan, staged_files(plan))


def test_a_file_added_or_rewritten_after_the_checks_read_the_staging_place_fails_publish_by_name(tmp_path):
    plan = staged_hour(tmp_path)
    checked = checked_files(plan, staged_files(plan))
    csv = Path(plan["STAGED_CSV_DIR"])
    (csv / "part-00001").write_text("2026-11-26 14:00:00,P000002,1000000,0,r1\n")
    with pytest.raises(StagingChanged, match=r"changed after its files were pinned for the checks: "
                                             r"hourly_activity/part-00001; nothing was published"):
        publish(plan, tmp_path / "curated", checked)
    (csv / "part-00001").unlink()
    time.sleep(0.01)
    (csv / "part-00000").write_text("2026-11-26 14:00:00,P000001,1000000,0,r1\n")
    with pytest.raises(StagingChanged, match="hourly_activity/part-00000"):
        publish(plan, tmp_path / "curated", checked)
    assert not (tmp_path / "curated").exists()


def test_a_retried_publish_of_the_same_run_makes_no_second_generation(tmp_path):
    plan = staged_hour(tmp_path)
    checked = checked_files(plan, staged_files(plan))
    curated = tmp_path / "curated"
    # An earlier try of this publish copied the file, then failed before it finished.
    target = curated / plan["CURATED_RUN_PREFIX"] / "part-00000.csv"
    target.parent.mkdir(parents=True)
    shutil.copyfile(Path(plan["STAGED_CSV_DIR"]) / "part-00000", target)
    generation = folder_generation(target)
    time.sleep(0.01)
    assert publish(plan, curated, checked) == [f"{plan['CURATED_RUN_PREFIX']}part-00000.csv"]
    assert folder_generation(target) == generation


def test_a_published_name_holding_other_content_is_never_replaced(tmp_path):
    plan = staged_hour(tmp_path)
    checked = checked_files(plan, staged_files(plan))
    target = tmp_path / "curated" / plan["CURATED_RUN_PREFIX"] / "part-00000.csv"
    target.parent.mkdir(parents=True)
    target.write_text("2026-11-26 14:00:00,P000001,1000000,0,r1\n")
    with pytest.raises(AlreadyPublished):
        publish(plan, tmp_path / "curated", checked)
    assert target.read_text() == "2026-11-26 14:00:00,P000001,1000000,0,r1\n"


def planting(tmp_path: Path, after_task: str, name: str):
    """Runs each task, then writes `name` into the run's staging folder after `after_task` (an intruder)."""
    def run_task(task_id, work):
        result = work()
        if task_id == after_task:
            [staging] = (tmp_path / "staging").glob("hourly/dt=*/hr=*/run_id=*")
            (staging / name).write_text("2026-11-26 14:00:00,P000001,1000000,0,zzzz\n")
        return result
    return run_task


@pytest.mark.parametrize(("after_task", "name"), [
    ("aggregate_to_staging", "extra.csv"),  # beside the checked output: the checks never read it
    (CHECK_TASK_ID, "hourly_activity/part-99999"),  # into the checked output, once the checks have read it
])
def test_a_file_planted_in_the_runs_staging_place_fails_the_hour_by_name_and_publishes_nothing(
        spark, raw, tmp_path, after_task, name):
    with pytest.raises(StagingChanged, match=name.replace(".", r"\.")):
        run(spark, raw, tmp_path, HOUR_14, max_quarantine_share=0.5, task=planting(tmp_path, after_task, name))
    assert not (tmp_path / "curated").exists()
