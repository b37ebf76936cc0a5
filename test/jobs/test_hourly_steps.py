"""The hourly steps (the DAG's HiveQL) through Spark SQL with Hive support, on raw data written by the
streaming job's own parse step: exact counts per hour and product, and a failing case for each check."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import make_entry

from dags.weblog_hourly_steps import HOURLY_STEPS, hour_plan, parse_hour
from jobs.hourly_local import JOBS_DIR, QualityCheckFailed, publish, run_hour, run_script
from jobs.weblog_parse import parse

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


def test_a_rerun_replaces_the_hours_published_output(spark, raw, tmp_path):
    first = run(spark, raw, tmp_path, HOUR_14, run_id="20261126T150000000000Z", max_quarantine_share=0.2)
    second = run(spark, raw, tmp_path, HOUR_14, run_id="20261126T160000000000Z", max_quarantine_share=0.2)
    hour_dir = tmp_path / "curated" / "hourly" / "dt=2026-11-26" / "hr=14"
    on_disk = sorted(str(p.relative_to(tmp_path / "curated")) for p in hour_dir.rglob("*") if p.is_file())
    assert first != second
    assert on_disk == second
    assert {r[1:4] for r in read_published(tmp_path / "curated", second)} == EXPECTED[HOUR_14]


@pytest.fixture(scope="module")
def staged(spark, raw, tmp_path_factory) -> dict[str, str]:
    """Register + aggregate hour 14 once; each check test then works on its own copy of the staged CSV."""
    plan = hour_plan(parse_hour(HOUR_14), "staged", str(raw / "events"), str(raw / "quarantine"),
                     str(tmp_path_factory.mktemp("staging")), 0.2)
    for step in HOURLY_STEPS[:2]:
        run_script(spark, (JOBS_DIR / step.script).read_text(), plan)
    return plan


def copy_of(staged: dict[str, str], tmp: Path, share: float = 0.2) -> dict[str, str]:
    plan = {**staged, "STAGING_DIR": str(tmp / "staged-copy"), "MAX_QUARANTINE_SHARE": repr(share),
            "STAGING_TABLE": f"hourly_staging_{tmp.name.replace('-', '_')}"}
    shutil.copytree(staged["STAGING_DIR"], plan["STAGING_DIR"])
    return plan


def rewrite_staged(plan: dict[str, str], old: str, new: str) -> None:
    files = [p for p in Path(plan["STAGING_DIR"]).iterdir() if p.name.startswith("part-") and p.stat().st_size]
    text = "".join(p.read_text() for p in files)
    assert old in text
    for p in files:
        p.unlink()
    (Path(plan["STAGING_DIR"]) / "part-00000").write_text(text.replace(old, new))


def run_checks(spark, plan: dict[str, str]) -> None:
    run_script(spark, (JOBS_DIR / HOURLY_STEPS[2].script).read_text(), plan)


def test_the_staged_output_passes_the_checks_untouched(spark, staged, tmp_path):
    run_checks(spark, copy_of(staged, tmp_path))


def test_check_fails_when_the_raw_partition_is_missing(spark, raw, tmp_path):
    plan = hour_plan(parse_hour("2026-11-26T16"), "empty", str(raw / "events"), str(raw / "quarantine"),
                     str(tmp_path / "staging"), 0.2)
    for step in HOURLY_STEPS[:2]:
        run_script(spark, (JOBS_DIR / step.script).read_text(), plan)
    with pytest.raises(QualityCheckFailed, match="raw partition of the hour exists"):
        run_checks(spark, plan)


def test_check_fails_when_aggregates_do_not_reconcile_with_raw_rows(spark, staged, tmp_path):
    plan = copy_of(staged, tmp_path)
    rewrite_staged(plan, "P000002,1,0", "P000002,2,0")
    with pytest.raises(QualityCheckFailed, match="add up to the raw row count"):
        run_checks(spark, plan)


def test_check_fails_on_a_null_key(spark, staged, tmp_path):
    plan = copy_of(staged, tmp_path)
    rewrite_staged(plan, ",P000002,", r",\N,")
    with pytest.raises(QualityCheckFailed, match="no null keys"):
        run_checks(spark, plan)


def test_check_fails_on_a_negative_count(spark, staged, tmp_path):
    plan = copy_of(staged, tmp_path)
    rewrite_staged(plan, "P000001,3,2", "P000001,-1,6")  # same total, so only this check can fail
    with pytest.raises(QualityCheckFailed, match="no negative"):
        run_checks(spark, plan)


def test_check_fails_when_the_quarantined_share_is_over_the_threshold(spark, staged, tmp_path):
    # 1 quarantined of 7 records in hour 14: a share of 1/7 passes 0.2 and fails 0.1.
    plan = copy_of(staged, tmp_path, share=0.1)
    with pytest.raises(QualityCheckFailed, match="quarantined share"):
        run_checks(spark, plan)


def test_nothing_is_published_when_a_check_fails(spark, raw, tmp_path):
    with pytest.raises(QualityCheckFailed):
        run(spark, raw, tmp_path, HOUR_14, max_quarantine_share=0.0)
    assert not (tmp_path / "curated").exists()


def test_publish_skips_markers_and_empty_files(tmp_path):
    plan = hour_plan(parse_hour(HOUR_14), "r1", "/raw", "/q", str(tmp_path / "staging"))
    staging = Path(plan["STAGING_DIR"])
    staging.mkdir(parents=True)
    (staging / "_SUCCESS").write_text("")
    (staging / ".part-00000.crc").write_text("x")
    (staging / "part-00001").write_text("")
    (staging / "part-00000").write_text("2026-11-26 14:00:00,P000001,1,0,r1\n")
    assert publish(plan, tmp_path / "curated") == ["hourly/dt=2026-11-26/hr=14/run_id=r1/part-00000.csv"]
