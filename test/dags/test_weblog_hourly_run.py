"""weblog_hourly run by Airflow itself (dag.test on Airflow 2.10.5), hour by hour, every templated field
rendered by Airflow. Only the network is replaced (test/dags/local_cloud.py): buckets are folders, and each
submitted Hive job runs its HiveQL, read from the DAG bucket's hql/ folder, on local Spark SQL."""

from __future__ import annotations

import json
import logging
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import local_cloud
import pytest
from conftest import REPO, make_entry
from local_bigquery import LocalBigQueryHook, create_lineage_table, local_bigquery, local_client
from local_cloud import LocalBlob, LocalDataprocHook, LocalGCSHook

from dags.weblog_hourly_steps import HOURLY_STEPS, LATE_TASK_ID, RECONCILE_TASK_ID, STAGING_TABLES_TEARDOWN
from jobs.weblog_parse import parse

RAW, STAGING, CURATED, DAG_BUCKET = "weblog-raw", "weblog-dataproc", "weblog-curated", "weblog-composer"
SETTINGS = {  # as the stack sets them on Composer (index.ts)
    "AIRFLOW_VAR_WEBLOG_PROJECT_ID": "weblog-project",
    "AIRFLOW_VAR_WEBLOG_REGION": "europe-west1",
    "AIRFLOW_VAR_WEBLOG_HIVE_CLUSTER": "weblog-hive",
    "AIRFLOW_VAR_WEBLOG_SCRIPTS_URI": f"gs://{DAG_BUCKET}/dags/hql",
    "AIRFLOW_VAR_WEBLOG_RAW_BUCKET": RAW,
    "AIRFLOW_VAR_WEBLOG_STAGING_URI": f"gs://{STAGING}/hourly-staging",
    "AIRFLOW_VAR_WEBLOG_CURATED_BUCKET": CURATED,
    "AIRFLOW_VAR_WEBLOG_MAX_QUARANTINE_SHARE": "0.2",
    "AIRFLOW_VAR_WEBLOG_LOAD_LOG_TABLE": "weblog-project.clickstream.hourly_activity_loads",
    "AIRFLOW_VAR_WEBLOG_BIGQUERY_LOCATION": "europe-west1",
    # Composer's default connection, with no key: the stand-ins never ask for credentials.
    "AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT": json.dumps({"conn_type": "google_cloud_platform"}),
}

# The deployment's first hour is 13:00; data starts at 14:05, so the stream marks 14:00 and 15:00.
FIRST_DAG_HOUR, HOUR_14, HOUR_15, HOUR_16 = (datetime(2026, 11, 26, h, tzinfo=UTC) for h in (13, 14, 15, 16))
ENTRIES = (  # (event_time, product, add-to-cart)
    [("2026-11-26T14:05:00.000Z", "P000001", False), ("2026-11-26T14:20:00.000Z", "P000001", False),
     ("2026-11-26T14:59:59.999Z", "P000001", True), ("2026-11-26T14:30:00.000Z", "P000002", False),
     ("2026-11-26T14:31:00.000Z", "P000002", True)]
    + [("2026-11-26T15:00:00.000Z", "P000002", True), ("2026-11-26T15:45:00.000Z", "P000002", True)]
    + [("2026-11-26T15:10:00.000Z", "P000003", False)] * 3
)
# Worked by hand from ENTRIES: (product, visits, cart additions); hour 15 also has 1 malformed record of 6.
EXPECTED = {
    HOUR_14: {("P000001", 2, 1), ("P000002", 1, 1)},
    HOUR_15: {("P000002", 0, 2), ("P000003", 3, 0)},
}


def hour_folder(hour: datetime) -> str:
    return f"dt={hour:%Y-%m-%d}/hr={hour:%H}"


def write_marker(root: Path, hour: datetime, rows: int, quarantined: int) -> None:
    """The streaming job's _COMPLETE marker: the raw rows and quarantined records it committed for the hour."""
    marker = root / RAW / "_complete" / hour_folder(hour) / "_COMPLETE"
    marker.parent.mkdir(parents=True)
    marker.write_text(json.dumps({"hour": f"{hour:%Y-%m-%dT%H}", "rows": rows, "quarantined": quarantined}))


@pytest.fixture(scope="module")
def buckets(spark, kafka_frame, tmp_path_factory) -> Path:
    """The buckets as a deployment leaves them: HiveQL where the stack uploads it, raw Parquet from the
    streaming job's own parse, and its markers for 14:00 and 15:00."""
    root = tmp_path_factory.mktemp("buckets")
    shutil.copytree(REPO / "jobs", root / DAG_BUCKET / "dags" / "hql", ignore=shutil.ignore_patterns("*.py", "__*"))
    values = [json.dumps(make_entry(t, p, c)).encode() for t, p, c in ENTRIES] + [b"not json"]
    valid, bad = parse(kafka_frame(values, received=datetime(2026, 11, 26, 15, 0, tzinfo=UTC)))
    valid.write.partitionBy("dt", "hr").parquet(str(root / RAW / "events"))
    bad.write.partitionBy("dt", "hr").parquet(str(root / RAW / "quarantine"))
    for hour, rows, quarantined in ((HOUR_14, 5, 0), (HOUR_15, 5, 1)):
        write_marker(root, hour, rows, quarantined)
    (root / STAGING).mkdir()
    (root / "weblog-raw-before-any-marker").mkdir()
    return root


@pytest.fixture(scope="module")
def lineage(buckets):
    """The local BigQuery-API server with the loader's (empty) lineage table, which reconcile_lineage reads."""
    with local_bigquery("weblog-project", buckets) as endpoint:
        create_lineage_table(local_client(endpoint, "weblog-project"), SETTINGS["AIRFLOW_VAR_WEBLOG_LOAD_LOG_TABLE"])
        LocalBigQueryHook.endpoint = endpoint
        yield endpoint


@pytest.fixture(scope="module")
def dag(spark, buckets, lineage):
    from airflow.models.dagbag import DagBag  # noqa: PLC0415
    from airflow.utils import db  # noqa: PLC0415

    db.initdb(load_connections=False)  # the metadata database in the session's throwaway AIRFLOW_HOME
    LocalGCSHook.root = LocalDataprocHook.root = buckets
    LocalDataprocHook.spark = spark
    with pytest.MonkeyPatch.context() as mp:
        for name, value in SETTINGS.items():
            mp.setenv(name, value)
        mp.setattr("airflow.providers.google.cloud.hooks.gcs.GCSHook", LocalGCSHook)
        mp.setattr("airflow.providers.google.cloud.operators.gcs.GCSHook", LocalGCSHook)
        mp.setattr("airflow.providers.google.cloud.operators.dataproc.DataprocHook", LocalDataprocHook)
        mp.setattr("airflow.providers.google.cloud.hooks.bigquery.BigQueryHook", LocalBigQueryHook)
        dag = DagBag(dag_folder=str(REPO / "dags"), include_examples=False).dags["weblog_hourly"]
        # A failed try is retried at once (minutes on Composer): dag.test would otherwise sit out 5 + 10 minutes
        # of retry delay for each failing step, which the suite's timeout cannot end (the DagBag's import
        # timeout takes over SIGALRM).
        for task in dag.tasks:
            mp.setattr(task, "retry_delay", timedelta(0))
            mp.setattr(task, "retry_exponential_backoff", False)
        yield dag


def run_hour(dag, hour: datetime) -> dict:
    """One run of the hour, as the scheduler's run for it (data interval [hour, hour + 1h)); its task instances."""
    LocalDataprocHook.submitted.clear()
    run = dag.test(execution_date=hour + timedelta(hours=1))
    assert run.data_interval_start == hour
    return {ti.task_id: ti for ti in run.get_task_instances()}


def objects(buckets: Path, bucket: str, prefix: str = "") -> dict[str, bytes]:
    root = buckets / bucket
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.relative_to(root).as_posix().startswith(prefix)}


def published_rows(buckets: Path, hour: datetime) -> dict[str, set[tuple]]:
    """Published objects of the hour -> their rows (hour, product, visits, cart additions, run id)."""
    return {
        name: {(h, p, int(v), int(c), r) for h, p, v, c, r in (line.split(",") for line in data.decode().splitlines())}
        for name, data in objects(buckets, CURATED, f"hourly/{hour_folder(hour)}/").items()
    }


def expected_rows(hour: datetime, run_id: str) -> set[tuple]:
    return {(f"{hour:%Y-%m-%d %H}:00:00", p, v, c, run_id) for p, v, c in EXPECTED[hour]}


@pytest.fixture(scope="module")
def first_runs(dag) -> dict[datetime, dict]:
    """The two consecutive hours the stream marked, each run once; the plan and Hive jobs of each."""
    runs = {}
    for hour in (HOUR_14, HOUR_15):
        tis = run_hour(dag, hour)
        runs[hour] = {"tis": tis, "plan": tis["plan_hour"].xcom_pull(task_ids="plan_hour"),
                      "jobs": list(LocalDataprocHook.submitted)}
    return runs


def test_two_consecutive_hours_publish_exactly_their_rows_and_leave_no_staging(buckets, first_runs):
    for hour, run in first_runs.items():
        assert {t: ti.state for t, ti in run["tis"].items()} == dict.fromkeys(run["tis"], "success"), hour
        run_id = run["plan"]["RUN_ID"]
        assert published_rows(buckets, hour) == {
            f"hourly/{hour_folder(hour)}/run_id={run_id}/part-00000.csv": expected_rows(hour, run_id)}
        staging_prefix = run["plan"]["STAGING_DIR"].removeprefix(f"gs://{STAGING}/")
        assert staging_prefix.startswith(f"hourly-staging/hourly/{hour_folder(hour)}/run_id={run_id}")
        assert objects(buckets, STAGING, staging_prefix) == {}
        assert not (buckets / STAGING / staging_prefix).exists()


def test_each_hive_step_is_submitted_with_its_rendered_script_cluster_and_the_hours_plan(first_runs):
    run = first_runs[HOUR_15]
    assert [job.job.hive_job.query_file_uri for job in run["jobs"]] == [
        f"gs://{DAG_BUCKET}/dags/hql/{step.script}" for step in (*HOURLY_STEPS, STAGING_TABLES_TEARDOWN)]
    for job in run["jobs"]:
        assert (job.project_id, job.region) == ("weblog-project", "europe-west1")
        assert job.job.placement.cluster_name == "weblog-hive"
        assert dict(job.job.hive_job.properties) == run["plan"]
        assert not job.job.hive_job.script_variables
    assert run["plan"]["RAW_LOCATION"] == f"gs://{RAW}/events"
    assert run["plan"]["HOUR"] == "2026-11-26 15:00:00"


def test_a_rerun_of_an_hour_replaces_the_earlier_runs_published_objects(dag, buckets, first_runs):
    earlier = first_runs[HOUR_14]["plan"]["RUN_ID"]
    assert set(published_rows(buckets, HOUR_14)) == {f"hourly/{hour_folder(HOUR_14)}/run_id={earlier}/part-00000.csv"}
    tis = run_hour(dag, HOUR_14)
    run_id = tis["plan_hour"].xcom_pull(task_ids="plan_hour")["RUN_ID"]
    assert run_id > earlier
    assert published_rows(buckets, HOUR_14) == {
        f"hourly/{hour_folder(HOUR_14)}/run_id={run_id}/part-00000.csv": expected_rows(HOUR_14, run_id)}


def test_an_hour_before_the_streams_first_data_is_skipped_with_a_log_line(dag, buckets, monkeypatch, caplog):
    caplog.set_level(logging.INFO)
    sensor = dag.get_task("wait_for_hour_complete")
    monkeypatch.setattr(sensor, "poke_interval", 1)  # a sensor that waited instead would fail in seconds
    monkeypatch.setattr(sensor, "timeout", 2)
    tis = run_hour(dag, FIRST_DAG_HOUR)
    # The reconciliation and the late reruns do not depend on the hour.
    assert {t: ti.state for t, ti in tis.items()} == {
        **dict.fromkeys(tis, "skipped"), RECONCILE_TASK_ID: "success", LATE_TASK_ID: "success"}
    assert LocalDataprocHook.submitted == []
    assert objects(buckets, CURATED, f"hourly/{hour_folder(FIRST_DAG_HOUR)}/") == {}
    assert ("weblog_hourly skipped: hour=2026-11-26 13:00:00+00:00 is before the stream's first data "
            f"(no marker for it; the first marked hour is _complete/{hour_folder(HOUR_14)}/_COMPLETE)") in caplog.text


def test_a_failing_quality_check_publishes_nothing_and_is_not_retried(dag, buckets, monkeypatch, capsys):
    # 1 of hour 15's 6 records is quarantined: a share over 0.1.
    monkeypatch.setenv("AIRFLOW_VAR_WEBLOG_MAX_QUARANTINE_SHARE", "0.1")
    curated_before = objects(buckets, CURATED)
    tis = run_hour(dag, HOUR_15)
    assert {t: ti.state for t, ti in tis.items()} == {
        "wait_for_hour_complete": "success", "plan_hour": "success", "register_partition": "success",
        "aggregate_to_staging": "success", "pin_checked_files": "success", "compute_check_verdicts": "success",
        "check_quality": "failed", "publish": "upstream_failed", "clean_staging": "success",
        "drop_staging_tables": "success", RECONCILE_TASK_ID: "success", LATE_TASK_ID: "success"}
    assert tis["check_quality"].try_number == 1
    assert tis["check_quality"].get_dagrun().state == "failed"
    [check] = [job for job in LocalDataprocHook.submitted if job.job.hive_job.query_file_uri.endswith(
        "/hourly_check_verdicts.hql")]
    assert "quarantined share" in check.outcome.status.details
    assert objects(buckets, CURATED) == curated_before
    # The failed run leaves no staging files: the teardown deleted its staging place.
    staging_dir = tis["plan_hour"].xcom_pull(task_ids="plan_hour")["STAGING_DIR"]
    assert objects(buckets, STAGING, staging_dir.removeprefix(f"gs://{STAGING}/")) == {}
    assert "weblog_hourly failed: task=check_quality hour=2026-11-26 15:00:00+00:00 try=1" in capsys.readouterr().out


def test_a_quiet_hour_runs_without_waiting_and_publishes_one_file_with_zero_rows(dag, buckets, monkeypatch):
    quiet = HOUR_16 + timedelta(hours=1)  # no entry; the stream went on and marked it with 0 rows and 0 quarantined
    write_marker(buckets, quiet, 0, 0)
    sensor = dag.get_task("wait_for_hour_complete")
    monkeypatch.setattr(sensor, "poke_interval", 1)  # a sensor that waited would fail in seconds
    monkeypatch.setattr(sensor, "timeout", 2)
    tis = run_hour(dag, quiet)
    assert {t: ti.state for t, ti in tis.items()} == dict.fromkeys(tis, "success")
    run_id = tis["plan_hour"].xcom_pull(task_ids="plan_hour")["RUN_ID"]
    assert objects(buckets, CURATED, f"hourly/{hour_folder(quiet)}/") == {
        f"hourly/{hour_folder(quiet)}/run_id={run_id}/part-00000.csv": b""}


@pytest.mark.parametrize("raw_bucket", [RAW, "weblog-raw-before-any-marker"],
                         ids=["after the last marked hour", "before any hour is marked"])
def test_an_hour_whose_marker_never_comes_waits_then_fails_with_the_alert_line(
        dag, buckets, monkeypatch, capsys, raw_bucket):
    from airflow.models.taskreschedule import TaskReschedule  # noqa: PLC0415
    from airflow.utils.session import create_session  # noqa: PLC0415

    monkeypatch.setenv("AIRFLOW_VAR_WEBLOG_RAW_BUCKET", raw_bucket)
    sensor = dag.get_task("wait_for_hour_complete")
    monkeypatch.setattr(sensor, "poke_interval", 1)  # seconds instead of minutes and hours
    monkeypatch.setattr(sensor, "timeout", 2)
    tis = run_hour(dag, HOUR_16)
    assert tis["wait_for_hour_complete"].state == "failed"
    assert {tis[t].state for t in tis if t not in {"wait_for_hour_complete", RECONCILE_TASK_ID, LATE_TASK_ID}} == {
        "upstream_failed"}
    assert tis[RECONCILE_TASK_ID].state == tis[LATE_TASK_ID].state == "success"
    with create_session() as session:
        assert session.scalars(TaskReschedule.stmt_for_task_instance(tis["wait_for_hour_complete"])).all()
    assert "weblog_hourly failed: task=wait_for_hour_complete hour=2026-11-26 16:00:00+00:00 try=1" in \
        capsys.readouterr().out


def test_a_marker_read_half_written_is_retried_and_the_hour_then_runs(dag, buckets, monkeypatch):
    hour = HOUR_16 + timedelta(hours=2)  # a quiet hour, whose marker the first read sees cut short
    write_marker(buckets, hour, 0, 0)
    marker = f"_complete/{hour_folder(hour)}/_COMPLETE"
    reads = []
    whole_read = LocalBlob.download_as_bytes

    def half_visible_once(blob, retry=None):
        data = whole_read(blob, retry)
        if blob.name != marker:
            return data
        reads.append(blob.name)
        return data[: len(data) // 2] if len(reads) == 1 else data

    monkeypatch.setattr(LocalBlob, "download_as_bytes", half_visible_once)
    plan = dag.get_task("plan_hour")
    monkeypatch.setattr(plan, "retry_delay", timedelta(0))  # minutes on Composer
    monkeypatch.setattr(plan, "retry_exponential_backoff", False)
    tis = run_hour(dag, hour)
    assert len(reads) == 2
    assert tis["plan_hour"].try_number == 2
    assert {t: ti.state for t, ti in tis.items()} == dict.fromkeys(tis, "success")


def test_late_entries_for_a_published_hour_clear_its_run_for_the_scheduler_to_run_again(dag, buckets, first_runs,
                                                                                          capsys):
    from airflow.models.dagrun import DagRun  # noqa: PLC0415
    from airflow.utils.session import create_session  # noqa: PLC0415

    def run_of(hour: datetime) -> DagRun:
        with create_session() as session:
            run = session.query(DagRun).filter(DagRun.dag_id == dag.dag_id, DagRun.data_interval_start == hour).one()
            return run, {ti.task_id: ti.state for ti in run.get_task_instances(session=session)}

    def write_late_notice(hour: datetime, written: datetime) -> None:
        notice = buckets / RAW / "_complete" / hour_folder(hour) / "_LATE"
        notice.write_text(json.dumps({"hour": f"{hour:%Y-%m-%dT%H}"}))
        os.utime(notice, (written.timestamp(), written.timestamp()))

    run_14, _ = run_of(HOUR_14)
    run_15, states_15 = run_of(HOUR_15)
    assert run_14.state == "success"
    write_late_notice(HOUR_14, run_14.start_date + timedelta(seconds=1))  # committed after the run started
    write_late_notice(HOUR_15, run_15.start_date - timedelta(seconds=1))  # already read by the run
    tis = run_hour(dag, FIRST_DAG_HOUR)  # any later run of the DAG: here one of the cheapest, a skipped hour
    assert tis[LATE_TASK_ID].state == "success"
    assert tis[LATE_TASK_ID].xcom_pull(task_ids=LATE_TASK_ID) == ["2026-11-26T14"]
    cleared, states_14 = run_of(HOUR_14)
    assert (cleared.run_id, cleared.state) == (run_14.run_id, "queued")  # what the scheduler starts next
    assert set(states_14.values()) == {None}
    assert run_of(HOUR_15)[0].state == run_15.state
    assert run_of(HOUR_15)[1] == states_15
    assert (f"weblog_hourly rerun: hour=2026-11-26T14 has entries committed after its run {run_14.run_id} started"
            in capsys.readouterr().out)


def dying_verdicts(monkeypatch, times: int) -> list[str]:
    """The checks' script dies after creating the run's staging tables, before recording a verdict (a Tez or
    HiveServer2 error), the first `times` times it is submitted; the list collects each death."""
    deaths: list[str] = []
    whole_script = local_cloud.run_script

    def run_script(spark, script, variables):
        if "INSERT OVERWRITE TABLE clickstream.hourly_check_results_v2" in script and len(deaths) < times:
            whole_script(spark, script[:script.index("-- A check whose inputs are missing")], variables)
            deaths.append(variables["RUN_ID"])
            raise RuntimeError("java.io.IOException: the connection to HiveServer2 was lost")
        return whole_script(spark, script, variables)

    monkeypatch.setattr(local_cloud, "run_script", run_script)
    return deaths


def staging_tables(spark, plan: dict) -> set[str]:
    return {r.tableName for r in spark.sql(f"SHOW TABLES IN clickstream LIKE '{plan['STAGING_TABLE']}*'").collect()}


def test_an_infrastructure_error_while_the_checks_read_the_hour_is_retried_and_the_hour_publishes(
        dag, spark, buckets, monkeypatch):
    deaths = dying_verdicts(monkeypatch, times=1)
    verdicts = dag.get_task("compute_check_verdicts")
    monkeypatch.setattr(verdicts, "retry_delay", timedelta(0))  # minutes on Composer
    monkeypatch.setattr(verdicts, "retry_exponential_backoff", False)
    tis = run_hour(dag, HOUR_14)
    assert len(deaths) == 1
    assert tis["compute_check_verdicts"].try_number == 2
    assert {t: ti.state for t, ti in tis.items()} == dict.fromkeys(tis, "success")
    plan = tis["plan_hour"].xcom_pull(task_ids="plan_hour")
    assert published_rows(buckets, HOUR_14) == {
        f"hourly/{hour_folder(HOUR_14)}/run_id={plan['RUN_ID']}/part-00000.csv": expected_rows(HOUR_14, plan["RUN_ID"])}
    assert staging_tables(spark, plan) == set()


def test_checks_that_die_mid_script_on_their_last_try_leave_no_staging_tables_or_files(
        dag, spark, buckets, monkeypatch, capsys):
    deaths = dying_verdicts(monkeypatch, times=1)
    monkeypatch.setattr(dag.get_task("compute_check_verdicts"), "retries", 0)  # its last try
    curated_before = objects(buckets, CURATED)
    tis = run_hour(dag, HOUR_15)
    assert len(deaths) == 1
    assert tis["compute_check_verdicts"].state == "failed"
    assert tis["check_quality"].state == tis["publish"].state == "upstream_failed"
    assert tis["clean_staging"].state == tis["drop_staging_tables"].state == "success"
    plan = tis["plan_hour"].xcom_pull(task_ids="plan_hour")
    assert staging_tables(spark, plan) == set()
    assert objects(buckets, STAGING, plan["STAGING_DIR"].removeprefix(f"gs://{STAGING}/")) == {}
    assert objects(buckets, CURATED) == curated_before
    assert "weblog_hourly failed: task=compute_check_verdicts hour=2026-11-26 15:00:00+00:00 try=1" in \
        capsys.readouterr().out
