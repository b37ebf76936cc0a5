"""One hour's plan, without an engine: every script variable the hourly steps read, written out in full, so a
renamed or reformatted variable fails here and not only in the Hive runs."""

from __future__ import annotations

from datetime import UTC, datetime

from dags.weblog_hourly_steps import hour_plan, new_run_id, parse_hour


def test_an_hours_plan_names_every_place_and_limit_its_steps_read():
    plan = hour_plan(parse_hour("2026-11-26T09"), "20261126T100000000000Z", "gs://raw/events/", "gs://raw/quarantine/",
                     "gs://stage/", 0.05, 0.5, {"rows": 120, "quarantined": 3})
    run = "gs://stage/hourly/dt=2026-11-26/hr=09/run_id=20261126T100000000000Z"
    assert plan == {
        "DT": "2026-11-26",
        "HR": "09",
        "HOUR": "2026-11-26 09:00:00",
        "RUN_ID": "20261126T100000000000Z",
        "RAW_LOCATION": "gs://raw/events",
        "QUARANTINE_LOCATION": "gs://raw/quarantine",
        "STAGING_DIR": run,
        "STAGED_CSV_DIR": f"{run}/hourly_activity",
        "RAW_ROWS_DIR": f"{run}/_reconciliation/raw_rows",
        "CHECK_RESULTS_LOCATION": "gs://stage/check_results",
        "STAGING_TABLE": "hourly_staging_2026_11_26_09_20261126T100000000000Z",
        "MAX_QUARANTINE_SHARE": "0.05",
        "MAX_DUPLICATE_SHARE": "0.5",
        "COMMITTED_ROWS": "120",
        "COMMITTED_QUARANTINED": "3",
        "CURATED_PREFIX": "hourly/dt=2026-11-26/hr=09/",
        "CURATED_RUN_PREFIX": "hourly/dt=2026-11-26/hr=09/run_id=20261126T100000000000Z/",
    }


def test_hours_and_run_ids_are_read_and_written_in_utc():
    assert parse_hour("2026-11-26T09") == datetime(2026, 11, 26, 9, tzinfo=UTC)
    assert new_run_id(datetime(2026, 11, 26, 15, 5, 12, 123456, tzinfo=UTC)) == "20261126T150512123456Z"
    assert new_run_id().endswith("Z") and len(new_run_id()) == len("20261126T150512123456Z")
