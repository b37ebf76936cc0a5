"""The hourly run's publishing rules without an engine: which staged files the checks read and which are
published, a quiet hour's empty output, the marker's counts as HiveQL literals and the limits a plan accepts.
The Hive runs (test/jobs/test_hourly_steps.py) prove the same rules on real staged output; these pin each rule's
edge, so a changed comparison or name fails in seconds."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from dags.weblog_hourly_steps import (
    NothingStaged,
    StagedFile,
    StagingChanged,
    checked_files,
    committed_count,
    files_to_publish,
    hour_plan,
    is_data_file,
    new_run_id,
    plain_decimal,
    publish_names,
    stale_published,
)

HOUR = datetime(2026, 11, 26, 9, tzinfo=UTC)
RUN = "20261126T100000000000Z"


def plan_for(marker: dict | None = None, run_id: str = RUN) -> dict[str, str]:
    return hour_plan(HOUR, run_id, "gs://r/events", "gs://r/quarantine", "gs://s/staging", marker=marker)


def staged(name: str, size: int = 10) -> StagedFile:
    return StagedFile(name, size, generation="1", checksum="c")


def test_a_markers_counts_become_hiveql_literals_and_anything_but_a_count_is_refused():
    assert committed_count(None, "rows") == "NULL"
    assert committed_count({"rows": 0}, "rows") == "0"
    assert committed_count({"rows": 120}, "rows") == "120"
    for value in (-1, True, "3", 3.0, None):
        with pytest.raises(ValueError, match=rf"the hour's marker field 'rows' is {value!r}, not a count"):
            committed_count({"rows": value}, "rows")


def test_a_plan_refuses_a_share_outside_zero_to_one_naming_it():
    assert plan_for()["MAX_QUARANTINE_SHARE"]
    hour_plan(HOUR, RUN, "r", "q", "s", max_quarantine_share=1, max_duplicate_share=0)
    with pytest.raises(ValueError, match=r"max quarantine share 1\.5 must be between 0 and 1"):
        hour_plan(HOUR, RUN, "r", "q", "s", max_quarantine_share=1.5)
    with pytest.raises(ValueError, match=r"max duplicate share -0\.1 must be between 0 and 1"):
        hour_plan(HOUR, RUN, "r", "q", "s", max_duplicate_share=-0.1)


def test_a_plan_strips_only_the_trailing_slash_of_each_location_and_names_its_table_from_any_run_id():
    plan = hour_plan(HOUR, "manual_rerun.2", "gs://r/events_X/", "gs://r/quarantine_X/", "gs://s/staging_X/")
    assert plan["RAW_LOCATION"] == "gs://r/events_X"
    assert plan["QUARANTINE_LOCATION"] == "gs://r/quarantine_X"
    run = "gs://s/staging_X/hourly/dt=2026-11-26/hr=09/run_id=manual_rerun.2"
    assert (plan["STAGING_DIR"], plan["STAGED_CSV_DIR"]) == (run, f"{run}/hourly_activity")
    assert plan["RAW_ROWS_DIR"] == f"{run}/_reconciliation/raw_rows"
    assert plan["CHECK_RESULTS_LOCATION"] == "gs://s/staging_X/check_results"
    assert plan["STAGING_TABLE"] == "hourly_staging_2026_11_26_09_manual_rerun_2"


def test_shares_are_written_as_plain_decimals():
    assert [plain_decimal(s) for s in (1, 0, 0.3, 0.00005)] == ["1.0", "0.0", "0.3", "0.00005"]


def test_run_ids_are_utc_whatever_the_zone_of_the_time_given_or_the_machine(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        later = datetime(2026, 11, 26, 16, 5, 12, 123456, tzinfo=timezone(timedelta(hours=1)))
        assert new_run_id(later) == "20261126T150512123456Z"
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_checksums_markers_and_work_folders_are_not_data():
    assert is_data_file("hourly_activity/000000_0")
    for name in ("hourly_activity/000000_0.crc", "hourly_activity/_SUCCESS", "hourly_activity/.000000_0.crc",
                 "_temporary/0/000000_0", "hourly_activity/"):
        assert not is_data_file(name), name


def test_the_checks_read_the_staged_csv_and_the_raw_row_counts_and_nothing_else():
    names = ["hourly_activity/000001_0", "hourly_activity/000000_0", "hourly_activity/_SUCCESS",
             "_reconciliation/raw_rows/000000_0", "_reconciliation/raw_rows/_SUCCESS", "_temporary/000000_0",
             "_reconciliation/other/000000_0"]
    checked = checked_files(plan_for(), [staged(n) for n in names])
    assert [f.name for f in checked] == [
        "_reconciliation/raw_rows/000000_0", "hourly_activity/000000_0", "hourly_activity/000001_0"]


def test_data_files_outside_what_the_checks_read_fail_the_run_naming_each():
    files = [staged("hourly_activity/000000_0"), staged("extra.csv"), staged("other/000000_0")]
    with pytest.raises(StagingChanged, match=r"do not read: extra\.csv, other/000000_0; nothing was published"):
        checked_files(plan_for(), files)


def test_a_staging_place_changed_after_pinning_fails_publish_naming_every_changed_file():
    plan = plan_for({"rows": 5, "quarantined": 0})
    pinned = checked_files(plan, [staged("hourly_activity/000000_0"), staged("hourly_activity/000001_0")])
    now = [staged("hourly_activity/000000_0", size=11), staged("hourly_activity/000002_0")]
    with pytest.raises(StagingChanged, match=r"pinned for the checks: hourly_activity/000000_0, "
                                             r"hourly_activity/000001_0, hourly_activity/000002_0; nothing"):
        files_to_publish(plan, pinned, now)


def test_a_quiet_hour_publishes_one_empty_file_and_any_other_hour_needs_a_non_empty_one():
    empty = [("000001_0", 0), ("000000_0", 0), ("_SUCCESS", 0)]
    quiet = plan_for({"rows": 0, "quarantined": 0})
    assert publish_names(quiet, empty) == [("000000_0", f"{quiet['CURATED_RUN_PREFIX']}part-00000.csv")]
    busy = plan_for({"rows": 1, "quarantined": 0})
    assert publish_names(busy, [("000001_0", 0), ("000000_0", 1)]) == [
        ("000000_0", f"{busy['CURATED_RUN_PREFIX']}part-00000.csv")]
    for marker in ({"rows": 0, "quarantined": 2}, {"rows": 5, "quarantined": 0}, None):
        plan = plan_for(marker)
        with pytest.raises(NothingStaged, match=rf"nothing staged under {plan['STAGING_DIR']}: refusing to publish"):
            publish_names(plan, empty)


def test_a_rerun_replaces_the_output_of_runs_that_started_before_it_whatever_their_ids_look_like():
    plan = plan_for(run_id="manual-2")
    prefix = plan["CURATED_PREFIX"] + "run_id="
    existing = [f"{prefix}{run}/part-00000.csv" for run in ("manual", "manual-2", "manual-3")]
    assert stale_published(plan, existing) == [existing[0]]
