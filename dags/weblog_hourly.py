"""weblog_hourly: each UTC hour of raw web-log entries, once the streaming job has marked it complete,
becomes the published CSV of hourly visits and cart additions per product.

wait_for_hour_complete -> plan_hour -> register_partition -> aggregate_to_staging -> pin_checked_files
  -> compute_check_verdicts -> check_quality -> publish -> clean_staging, drop_staging_tables
clean_staging and drop_staging_tables are the run's teardowns: after the steps, whether they succeeded or failed,
they delete the run's staging place and drop its staging tables from the metastore.
Every task but check_quality is retried (an unreadable or half-written marker, a Dataproc, Hive or Cloud Storage
error, also while the checks read the hour); check_quality only fails the run on a verdict
compute_check_verdicts recorded, and a failed check fails the same way again.
rerun_late_hours, a branch of its own, clears the finished run of every hour the stream committed late entries
for after that run started (its _LATE notice), within LATE_WINDOW of the hour's end: the scheduler runs it
again and its output replaces the earlier run's (the rule: weblog_hourly_steps.late_reruns).
reconcile_lineage, a branch of its own (it never waits for or holds up the hour), logs one line per curated
object of the last 72 hours whose live generation the loader's lineage table does not hold; a failure of it
fails the run, which the failure callback reports like any task's.
publish copies exactly the generations pin_checked_files listed before the checks read them, each copy made
only if the published name is new (a retried publish makes no second generation); a file added to or
changed in the run's staging place fails the run, by name.
The streaming job marks every hour from the first hour it saw data on, contiguously. An hour with no marker
while the earliest marker is of a later hour is before the stream's first data (the deployment's first hour,
when data starts minutes after `pulumi up`): its run is skipped. Any other hour waits for its marker.
The steps, scripts and their variables come from weblog_hourly_steps (shared with the local runner).
Settings are Airflow variables (Composer sets them as AIRFLOW_VAR_* environment variables), read only
when a task runs: weblog_project_id, weblog_region, weblog_hive_cluster, weblog_scripts_uri,
weblog_raw_bucket, weblog_staging_uri, weblog_curated_bucket, weblog_load_log_table (project.dataset.table),
weblog_bigquery_location, weblog_max_quarantine_share and weblog_max_duplicate_share (optional);
and the environment variable WEBLOG_HOURLY_START (ISO time of the first hour, default 2026-11-01T00Z).
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta

from airflow.decorators import task
from airflow.models.baseoperator import chain
from airflow.models.dag import DAG
from airflow.providers.google.cloud.operators.dataproc import DataprocSubmitJobOperator
from airflow.providers.google.cloud.operators.gcs import GCSDeleteObjectsOperator
from weblog_hourly_steps import (
    CHECK_TASK_ID,
    DEFAULT_MAX_DUPLICATE_SHARE,
    DEFAULT_MAX_QUARANTINE_SHARE,
    HOURLY_STEPS,
    LATE_TASK_ID,
    MAX_ACTIVE_RUNS,
    NOT_RETRIED,
    PIN_TASK_ID,
    PUBLISH_TASK_ID,
    RECONCILE_TASK_ID,
    RECONCILE_WINDOW,
    RETRIES,
    RETRY_DELAY,
    STAGING_TABLES_TEARDOWN,
    VERDICTS_TASK_ID,
    PublishedObject,
    StagedFile,
    checked_files,
    files_to_publish,
    hour_plan,
    late_notice_hour,
    late_notice_prefixes,
    late_reruns,
    new_run_id,
    not_loaded_line,
    objects_without_lineage,
    parse_hour,
    reconcile_prefixes,
    stale_published,
)

# The first hour to process (catch-up starts there); an environment variable, so reading it costs no I/O.
START = datetime.fromisoformat(os.environ.get("WEBLOG_HOURLY_START", "2026-11-01T00:00:00+00:00"))
PLAN = "{{ ti.xcom_pull(task_ids='plan_hour') }}"
MARKERS = "_complete"  # the streaming job's --markers folder in the raw bucket: dt=YYYY-MM-DD/hr=HH/_COMPLETE


def _log_failure(context: dict) -> None:
    # Composer sends task logs to Cloud Logging; this line is what an alert policy matches on.
    ti = context["task_instance"]
    print(f"weblog_hourly failed: task={ti.task_id} hour={context['data_interval_start']} try={ti.try_number}")


def _marker_name(hour: datetime) -> str:
    return f"{MARKERS}/dt={hour:%Y-%m-%d}/hr={hour:%H}/_COMPLETE"


def _split_gcs_uri(uri: str) -> tuple[str, str]:
    bucket, _, prefix = uri.removeprefix("gs://").partition("/")
    return bucket, prefix.strip("/")


def _staged_files(plan: dict[str, str]) -> list[StagedFile]:
    """Every object of the run's staging place, with its generation and CRC32C (what a copy preserves)."""
    from airflow.providers.google.cloud.hooks.gcs import GCSHook  # noqa: PLC0415

    bucket, prefix = _split_gcs_uri(plan["STAGING_DIR"])
    return [StagedFile(blob.name.removeprefix(prefix + "/"), blob.size or 0, str(blob.generation), blob.crc32c)
            for blob in GCSHook().get_conn().bucket(bucket).list_blobs(prefix=prefix + "/")]


with DAG(
    dag_id="weblog_hourly",
    description="Hourly visits and cart additions per product, published for the BigQuery loader",
    schedule="@hourly",
    start_date=START,
    catchup=True,
    max_active_runs=MAX_ACTIVE_RUNS,
    max_active_tasks=6,
    is_paused_upon_creation=False,  # Airflow pauses a new DAG by default; deployed, it must run with no hand step
    render_template_as_native_obj=True,  # the hour's plan travels as a dict to the Dataproc jobs
    user_defined_macros={"gcs_bucket": lambda uri: _split_gcs_uri(uri)[0],
                         "gcs_prefix": lambda uri: _split_gcs_uri(uri)[1]},
    default_args={
        "retries": RETRIES,
        "retry_delay": RETRY_DELAY,
        "retry_exponential_backoff": True,
        "on_failure_callback": _log_failure,
    },
    tags=["clickstream"],
) as dag:
    @task.sensor(mode="reschedule", poke_interval=120, timeout=int(timedelta(hours=6).total_seconds()))
    def wait_for_hour_complete(data_interval_start: datetime | None = None) -> bool:
        """True once the hour's marker exists; skips the run when the stream's first marked hour is later."""
        from airflow.exceptions import AirflowSkipException  # noqa: PLC0415
        from airflow.models import Variable  # noqa: PLC0415
        from airflow.providers.google.cloud.hooks.gcs import GCSHook  # noqa: PLC0415

        raw = GCSHook().get_conn().bucket(Variable.get("weblog_raw_bucket"))
        marker = _marker_name(data_interval_start)
        if raw.blob(marker).exists():
            return True
        # Marker names sort by hour, so the first one listed is the stream's first hour (one object read).
        first = next(iter(raw.list_blobs(prefix=f"{MARKERS}/", match_glob=f"{MARKERS}/dt=*/hr=*/_COMPLETE",
                                         max_results=1)), None)
        if first is not None and first.name > marker:
            raise AirflowSkipException(
                f"weblog_hourly skipped: hour={data_interval_start} is before the stream's first data "
                f"(no marker for it; the first marked hour is {first.name})")
        return False

    @task
    def plan_hour(data_interval_start: datetime | None = None) -> dict[str, str]:
        """A new run id per run (a rerun of the hour publishes under a new one) and every step's variables,
        with what the hour's marker says the stream committed (a quiet hour: 0 and 0)."""
        from airflow.models import Variable  # noqa: PLC0415 (read when the task runs, never at import)
        from airflow.providers.google.cloud.hooks.gcs import GCSHook  # noqa: PLC0415

        raw_bucket = GCSHook().get_conn().bucket(Variable.get("weblog_raw_bucket"))
        marker = raw_bucket.blob(_marker_name(data_interval_start)).download_as_bytes()
        raw = f"gs://{Variable.get('weblog_raw_bucket')}"
        return hour_plan(
            hour=data_interval_start,
            run_id=new_run_id(),
            raw_location=f"{raw}/events",
            quarantine_location=f"{raw}/quarantine",
            staging_root=Variable.get("weblog_staging_uri"),
            max_quarantine_share=float(Variable.get("weblog_max_quarantine_share",
                                                    default_var=DEFAULT_MAX_QUARANTINE_SHARE)),
            max_duplicate_share=float(Variable.get("weblog_max_duplicate_share",
                                                   default_var=DEFAULT_MAX_DUPLICATE_SHARE)),
            marker=json.loads(marker),
        )

    planned = plan_hour()

    def hive_job(step) -> DataprocSubmitJobOperator:
        return DataprocSubmitJobOperator(
            task_id=step.task_id,
            project_id="{{ var.value.weblog_project_id }}",
            region="{{ var.value.weblog_region }}",
            job={
                "placement": {"cluster_name": "{{ var.value.weblog_hive_cluster }}"},
                "hive_job": {
                    "query_file_uri": "{{ var.value.weblog_scripts_uri }}/" + step.script,
                    # Hive configuration, which the scripts' ${hiveconf:NAME} reads (docs/hive-and-spark-sql.md).
                    "properties": PLAN,
                },
            },
            **({"retries": 0} if step.task_id in NOT_RETRIED else {}),
        )

    hive_steps = {step.task_id: hive_job(step) for step in HOURLY_STEPS}
    drop_staging_tables = hive_job(STAGING_TABLES_TEARDOWN)

    @task(task_id=PIN_TASK_ID)
    def pin_checked_files(ti=None) -> list[dict]:
        """The files the checks are about to read, with their generations and checksums."""
        plan = ti.xcom_pull(task_ids="plan_hour")
        return [vars(f) for f in checked_files(plan, _staged_files(plan))]

    @task(task_id=PUBLISH_TASK_ID)
    def publish(ti=None) -> list[str]:
        """Copies the checked generations to the curated bucket as part-NNNNN.csv, then deletes earlier runs'
        objects."""
        plan = ti.xcom_pull(task_ids="plan_hour")
        checked = [StagedFile(**f) for f in ti.xcom_pull(task_ids=PIN_TASK_ID)]
        from airflow.models import Variable  # noqa: PLC0415
        from airflow.providers.google.cloud.hooks.gcs import GCSHook  # noqa: PLC0415
        from google.api_core.exceptions import PreconditionFailed  # noqa: PLC0415

        gcs = GCSHook()
        staging_bucket, staging_prefix = _split_gcs_uri(plan["STAGING_DIR"])
        curated_bucket = Variable.get("weblog_curated_bucket")
        source, destination = gcs.get_conn().bucket(staging_bucket), gcs.get_conn().bucket(curated_bucket)
        # Raises StagingChanged or NothingStaged before anything is copied or deleted.
        names = files_to_publish(plan, checked, _staged_files(plan))
        for staged, target in names:
            blob = source.blob(f"{staging_prefix}/{staged.name}", generation=int(staged.generation))
            try:
                source.copy_blob(blob, destination, target, source_generation=int(staged.generation),
                                 if_generation_match=0)
            except PreconditionFailed:  # published by an earlier try of this run: the same bytes, or a failure
                existing = destination.get_blob(target)
                if existing is None or existing.crc32c != staged.checksum:
                    raise RuntimeError(f"gs://{curated_bucket}/{target} is already published with other content") \
                        from None
        for stale in stale_published(plan, gcs.list(curated_bucket, prefix=plan["CURATED_PREFIX"])):
            gcs.delete(curated_bucket, stale)
        return [target for _, target in names]

    clean_staging = GCSDeleteObjectsOperator(
        task_id="clean_staging",
        bucket_name="{{ gcs_bucket(ti.xcom_pull(task_ids='plan_hour')['STAGING_DIR']) }}",
        prefix="{{ gcs_prefix(ti.xcom_pull(task_ids='plan_hour')['STAGING_DIR']) }}/",
    )

    @task(task_id=RECONCILE_TASK_ID)
    def reconcile_lineage() -> list[str]:
        """Logs every published object the loader has no lineage row for (see objects_without_lineage)."""
        from datetime import UTC  # noqa: PLC0415

        from airflow.models import Variable  # noqa: PLC0415
        from airflow.providers.google.cloud.hooks.bigquery import BigQueryHook  # noqa: PLC0415
        from airflow.providers.google.cloud.hooks.gcs import GCSHook  # noqa: PLC0415
        from google.cloud.bigquery import QueryJobConfig, ScalarQueryParameter  # noqa: PLC0415

        now = datetime.now(UTC)
        bucket, table = Variable.get("weblog_curated_bucket"), Variable.get("weblog_load_log_table")
        curated = GCSHook().get_conn().bucket(bucket)
        published = [PublishedObject(blob.name, str(blob.generation), blob.updated)
                     for prefix in reconcile_prefixes(now) for blob in curated.list_blobs(prefix=prefix)]
        project = table.split(".", 1)[0]
        client = BigQueryHook(use_legacy_sql=False).get_client(project_id=project,
                                                               location=Variable.get("weblog_bigquery_location"))
        # The lineage hour is the object's hour: rows of the window only (the table is partitioned by it).
        job = client.query(
            f"SELECT object, generation FROM `{table}` WHERE bucket = @bucket AND hour >= @since",
            job_config=QueryJobConfig(query_parameters=[
                ScalarQueryParameter("bucket", "STRING", bucket),
                ScalarQueryParameter("since", "TIMESTAMP", now - RECONCILE_WINDOW - timedelta(hours=1)),
            ]))
        loaded = {(row["object"], row["generation"]) for row in job.result()}
        missing = objects_without_lineage(published, loaded, now)
        for obj in missing:
            print(not_loaded_line(bucket, obj))
        return [obj.name for obj in missing]

    @task(task_id=LATE_TASK_ID)
    def rerun_late_hours(dag=None, data_interval_end: datetime | None = None) -> list[str]:
        """Clears the run of every hour with late entries (see late_reruns): the scheduler then runs it again,
        under a new run id, and its output replaces the earlier run's. The window is counted to this run's
        interval end (the pipeline's clock, the same on every retry)."""
        from airflow.models import DagRun, Variable  # noqa: PLC0415
        from airflow.models.taskinstance import clear_task_instances  # noqa: PLC0415
        from airflow.providers.google.cloud.hooks.gcs import GCSHook  # noqa: PLC0415
        from airflow.utils.session import create_session  # noqa: PLC0415
        from airflow.utils.state import State  # noqa: PLC0415

        raw = GCSHook().get_conn().bucket(Variable.get("weblog_raw_bucket"))
        notices = {hour: blob.updated for prefix in late_notice_prefixes(MARKERS, data_interval_end)
                   for blob in raw.list_blobs(prefix=prefix) if (hour := late_notice_hour(blob.name))}
        if not notices:
            return []
        with create_session() as session:
            runs: dict[str, list[DagRun]] = {}
            for run in session.query(DagRun).filter(DagRun.dag_id == dag.dag_id,
                                                     DagRun.data_interval_start.in_([parse_hour(h) for h in notices])):
                runs.setdefault(f"{run.data_interval_start:%Y-%m-%dT%H}", []).append(run)
            # An hour with a run queued or running is left to that run: it reads what the stream committed.
            latest = {hour: max(rs, key=lambda r: r.start_date) for hour, rs in runs.items()
                      if all(r.state in State.finished_dr_states and r.start_date for r in rs)}
            hours = late_reruns({hour: run.start_date for hour, run in latest.items()}, notices, data_interval_end)
            for hour in hours:
                print(f"weblog_hourly rerun: hour={hour} has entries committed after its run {latest[hour].run_id} "
                      "started; the run is cleared for the scheduler to run again")
                clear_task_instances(latest[hour].get_task_instances(session=session), session, dag=dag)
        return hours

    reconcile_lineage()
    rerun_late_hours()
    published = publish()
    pinned = pin_checked_files()
    wait_for_hour_complete() >> planned
    checks = [hive_steps.pop(VERDICTS_TASK_ID), hive_steps.pop(CHECK_TASK_ID)]
    chain(planned, *hive_steps.values(), pinned, *checks, published, [clean_staging, drop_staging_tables])
    # Teardowns: they run once the steps are done whatever their outcome (a failed run leaves no staging files
    # and no staging tables), whenever the plan naming the run's staging place succeeded, and their own outcome
    # never decides the run's.
    clean_staging.as_teardown(setups=planned)
    drop_staging_tables.as_teardown(setups=planned)
