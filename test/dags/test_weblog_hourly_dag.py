"""The Composer DAG, loaded by Airflow's own DagBag: imports cleanly, and its graph, schedule and
settings are as specified. The step list is the one the local runner uses (dags/weblog_hourly_steps.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from conftest import REPO

from dags.weblog_hourly_steps import (
    HOURLY_STEPS,
    LATE_WINDOW,
    hour_plan,
    late_notice_hour,
    late_notice_prefixes,
    late_reruns,
    publish_names,
    stale_published,
)

VARIABLES = {
    "AIRFLOW_VAR_WEBLOG_RAW_BUCKET": "raw-bucket",
    "AIRFLOW_VAR_WEBLOG_STAGING_URI": "gs://staging-bucket/staging",
    "AIRFLOW_VAR_WEBLOG_CURATED_BUCKET": "curated-bucket",
    "AIRFLOW_VAR_WEBLOG_MAX_QUARANTINE_SHARE": "0.02",
    "AIRFLOW_VAR_WEBLOG_MAX_DUPLICATE_SHARE": "0.3",
}


@pytest.fixture(scope="module")
def dagbag():
    from airflow.models.dagbag import DagBag  # noqa: PLC0415

    return DagBag(dag_folder=str(REPO / "dags"), include_examples=False)


@pytest.fixture(scope="module")
def dag(dagbag):
    return dagbag.dags["weblog_hourly"]  # get_dag would consult the metadata database


def test_every_dag_file_imports_without_errors(dagbag):
    assert dagbag.import_errors == {}
    assert set(dagbag.dag_ids) == {"weblog_hourly"}


def test_the_tasks_run_in_the_specified_order(dag):
    order = ["wait_for_hour_complete", "plan_hour", "register_partition", "aggregate_to_staging", "pin_checked_files",
             "compute_check_verdicts", "check_quality", "publish", "clean_staging"]
    assert sorted(dag.task_ids) == sorted([*order, "drop_staging_tables", "reconcile_lineage", "rerun_late_hours"])
    for upstream, downstream in zip(order, order[1:], strict=False):
        # The plan names the staging place and tables the teardowns delete: their setup.
        also = {"clean_staging", "drop_staging_tables"} if upstream in {"plan_hour", "publish"} else set()
        assert dag.get_task(upstream).downstream_task_ids == {downstream} | also, upstream
    for branch in ("reconcile_lineage", "rerun_late_hours"):
        assert dag.get_task(branch).upstream_task_ids == dag.get_task(branch).downstream_task_ids == set(), branch


def test_the_staging_place_is_deleted_by_a_teardown_whatever_the_steps_outcome(dag):
    clean = dag.get_task("clean_staging")
    assert clean.is_teardown
    assert clean.trigger_rule == "all_done_setup_success"
    assert [t.task_id for t in dag.tasks if t.is_setup] == ["plan_hour"]
    assert [s.task_id for s in HOURLY_STEPS] == ["register_partition", "aggregate_to_staging",
                                                 "compute_check_verdicts", "check_quality"]


def test_every_step_runs_only_after_all_its_upstream_steps_succeeded(dag):
    # A publish after a failed check would be a task of another rule. The one exception is the teardown that
    # deletes the run's staging place, which runs whatever the steps did once its setup (the plan) succeeded.
    rules = {task.task_id: str(task.trigger_rule) for task in dag.tasks}
    assert rules == {**dict.fromkeys(dag.task_ids, "all_success"), "clean_staging": "all_done_setup_success",
                     "drop_staging_tables": "all_done_setup_success"}


def test_the_staging_tables_are_dropped_by_a_teardown_whatever_the_steps_outcome(dag):
    drop = dag.get_task("drop_staging_tables")
    assert drop.is_teardown
    assert drop.trigger_rule == "all_done_setup_success"
    assert drop.upstream_task_ids == {"plan_hour", "publish"}
    assert drop.job["hive_job"]["query_file_uri"].endswith("/hourly_drop_staging.hql")


def test_the_checks_verdicts_are_retried_and_only_their_assertion_is_not(dag):
    # Computing the verdicts reads the hour's data, where Hive or Cloud Storage can fail; asserting them
    # reads only the verdicts, and a failed check fails the same way again.
    assert dag.get_task("compute_check_verdicts").retries >= 1
    assert dag.get_task("check_quality").retries == 0
    assert dag.get_task("check_quality").upstream_task_ids == {"compute_check_verdicts"}


def test_hourly_with_bounded_catch_up_and_failure_callbacks(dag):
    from airflow.timetables.interval import CronDataIntervalTimetable  # noqa: PLC0415

    assert isinstance(dag.timetable, CronDataIntervalTimetable)
    assert dag.timetable.summary in {"@hourly", "0 * * * *"}
    assert dag.catchup is True
    assert 1 <= dag.max_active_runs <= 5
    for task in dag.tasks:
        assert task.on_failure_callback, task.task_id


def test_a_failed_quality_check_is_not_retried_and_every_other_step_is(dag):
    assert dag.get_task("check_quality").retries == 0
    for task in dag.tasks:
        if task.task_id != "check_quality":
            assert task.retries >= 1, task.task_id


def test_hive_steps_submit_the_shared_scripts_with_the_hours_plan(dag):
    from airflow.providers.google.cloud.operators.dataproc import DataprocSubmitJobOperator  # noqa: PLC0415

    for step in HOURLY_STEPS:
        task = dag.get_task(step.task_id)
        assert isinstance(task, DataprocSubmitJobOperator)
        hive_job = task.job["hive_job"]
        assert hive_job["query_file_uri"].endswith("/" + step.script)
        assert (REPO / "jobs" / step.script).is_file()
        assert "xcom_pull(task_ids='plan_hour')" in hive_job["properties"]
        assert "script_variables" not in hive_job, "the plan is sent once, as Hive configuration"
    assert dag.render_template_as_native_obj is True


def test_the_sensor_gives_its_worker_slot_back_between_pokes_and_gives_up_after_hours(dag):
    sensor = dag.get_task("wait_for_hour_complete")
    assert sensor.mode == "reschedule"
    assert sensor.poke_interval >= 60
    assert 3600 <= sensor.timeout <= 24 * 3600


def test_the_plan_reads_settings_from_airflow_variables_and_the_hours_marker(dag, monkeypatch, tmp_path):
    from local_cloud import LocalGCSHook  # noqa: PLC0415

    for name, value in VARIABLES.items():
        monkeypatch.setenv(name, value)
    marker = tmp_path / "raw-bucket" / "_complete" / "dt=2026-11-26" / "hr=14" / "_COMPLETE"
    marker.parent.mkdir(parents=True)
    marker.write_text(json.dumps({"hour": "2026-11-26T14", "rows": 12, "quarantined": 3}))
    monkeypatch.setenv("AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT", json.dumps({"conn_type": "google_cloud_platform"}))
    LocalGCSHook.root = tmp_path
    monkeypatch.setattr("airflow.providers.google.cloud.hooks.gcs.GCSHook", LocalGCSHook)
    plan = dag.get_task("plan_hour").python_callable(data_interval_start=datetime(2026, 11, 26, 14, tzinfo=UTC))
    assert (plan["COMMITTED_ROWS"], plan["COMMITTED_QUARANTINED"]) == ("12", "3")
    assert plan["RAW_LOCATION"] == "gs://raw-bucket/events"
    assert plan["QUARANTINE_LOCATION"] == "gs://raw-bucket/quarantine"
    assert plan["STAGING_DIR"].startswith("gs://staging-bucket/staging/hourly/dt=2026-11-26/hr=14/run_id=")
    assert plan["MAX_QUARANTINE_SHARE"] == "0.02"
    assert plan["MAX_DUPLICATE_SHARE"] == "0.3"
    assert plan["HOUR"] == "2026-11-26 14:00:00"


def test_publishing_names_files_by_the_contract_and_drops_earlier_runs_only():
    plan = hour_plan(datetime(2026, 11, 26, 9, tzinfo=UTC), "20261126T100000000000Z", "gs://r/events",
                     "gs://r/quarantine", "gs://s/staging")
    staged = [("000001_0", 10), ("000000_0", 12), ("_SUCCESS", 0), ("000002_0", 0)]
    assert publish_names(plan, staged) == [
        ("000000_0", "hourly/dt=2026-11-26/hr=09/run_id=20261126T100000000000Z/part-00000.csv"),
        ("000001_0", "hourly/dt=2026-11-26/hr=09/run_id=20261126T100000000000Z/part-00001.csv"),
    ]
    existing = [
        "hourly/dt=2026-11-26/hr=09/run_id=20261126T090500000000Z/part-00000.csv",
        "hourly/dt=2026-11-26/hr=09/run_id=20261126T100000000000Z/part-00000.csv",
        # a run of the hour that started later but published first: the latest run, kept
        "hourly/dt=2026-11-26/hr=09/run_id=20261126T100500000000Z/part-00000.csv",
    ]
    assert stale_published(plan, existing) == [existing[0]]


def test_run_ids_are_checked_against_the_published_file_contract():
    with pytest.raises(ValueError, match="run id"):
        hour_plan(datetime(2026, 11, 26, 9, tzinfo=UTC), "a/b", "r", "q", "s")


def test_templates_render_the_plan_as_a_dict_and_the_run_staging_prefix(dag):
    plan = hour_plan(datetime(2026, 11, 26, 14, tzinfo=UTC), "R1", "gs://r/events", "gs://r/quarantine",
                     "gs://stage-bucket/staging")

    class TaskInstance:
        def xcom_pull(self, task_ids):
            assert task_ids == "plan_hour"
            return plan

    env = dag.get_template_env()
    render = lambda template: env.from_string(template).render(ti=TaskInstance())  # noqa: E731
    for step in HOURLY_STEPS:  # Hive configuration, what ${hiveconf:NAME} reads (docs/hive-and-spark-sql.md)
        hive_job = dag.get_task(step.task_id).job["hive_job"]
        assert render(hive_job["properties"]) == plan, step.task_id
    clean = dag.get_task("clean_staging")
    assert render(clean.bucket_name) == "stage-bucket"
    assert render(clean.prefix) == "staging/hourly/dt=2026-11-26/hr=14/run_id=R1/"


LATE_RERUNS = json.loads((REPO / "contract" / "late-reruns.json").read_text())


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.parametrize("case", LATE_RERUNS["cases"], ids=[c["says"] for c in LATE_RERUNS["cases"]])
def test_late_entries_rerun_an_hour_by_the_rule_the_sandbox_applies_too(case):
    starts = {hour: utc(t) for hour, t in case["lastRunStarts"].items()}
    notices = {hour: utc(t) for hour, t in case["notices"].items()}
    assert late_reruns(starts, notices, utc(case["now"])) == case["rerun"]
    assert timedelta(hours=LATE_RERUNS["windowHours"]) == LATE_WINDOW


def test_late_notices_are_listed_in_the_day_folders_of_the_window_only():
    now = datetime(2026, 11, 28, 0, 30, tzinfo=UTC)  # an hour starting after 2026-11-25 23:30 may be in the window
    assert late_notice_prefixes("_complete", now) == [
        "_complete/dt=2026-11-25/", "_complete/dt=2026-11-26/", "_complete/dt=2026-11-27/", "_complete/dt=2026-11-28/"]
    # An hour starting at 2026-11-26 00:30 or later: no folder of the 25th.
    assert late_notice_prefixes("_complete", now + timedelta(hours=1))[0] == "_complete/dt=2026-11-26/"
    assert late_notice_hour("_complete/dt=2026-11-26/hr=14/_LATE") == "2026-11-26T14"
    assert late_notice_hour("_complete/dt=2026-11-26/hr=14/_COMPLETE") is None
