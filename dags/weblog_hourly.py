"""weblog_hourly: each UTC hour of raw web-log entries, once the streaming job has marked it complete,
becomes the published CSV of hourly visits and cart additions per product.

wait_for_hour_complete -> plan_hour -> register_partition -> aggregate_to_staging -> check_quality
  -> publish -> clean_staging
The steps, scripts and their variables come from weblog_hourly_steps (shared with the local runner).
Settings are Airflow variables (Composer sets them as AIRFLOW_VAR_* environment variables), read only
when a task runs: weblog_project_id, weblog_region, weblog_hive_cluster, weblog_scripts_uri,
weblog_raw_bucket, weblog_staging_uri, weblog_curated_bucket, weblog_max_quarantine_share (optional);
and the environment variable WEBLOG_HOURLY_START (ISO time of the first hour, default 2026-11-01T00Z).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.decorators import task
from airflow.models.baseoperator import chain
from airflow.models.dag import DAG
from airflow.providers.google.cloud.operators.dataproc import DataprocSubmitJobOperator
from airflow.providers.google.cloud.operators.gcs import GCSDeleteObjectsOperator
from airflow.providers.google.cloud.sensors.gcs import GCSObjectExistenceSensor
from weblog_hourly_steps import (
    DEFAULT_MAX_QUARANTINE_SHARE,
    HOURLY_STEPS,
    PUBLISH_TASK_ID,
    hour_plan,
    new_run_id,
    publish_names,
    stale_published,
)

# The first hour to process (catch-up starts there); an environment variable, so reading it costs no I/O.
START = datetime.fromisoformat(os.environ.get("WEBLOG_HOURLY_START", "2026-11-01T00:00:00+00:00"))
PLAN = "{{ ti.xcom_pull(task_ids='plan_hour') }}"
HOUR_PATH = "dt={{ data_interval_start.strftime('%Y-%m-%d') }}/hr={{ data_interval_start.strftime('%H') }}"


def _log_failure(context: dict) -> None:
    # Composer sends task logs to Cloud Logging; this line is what an alert policy matches on.
    ti = context["task_instance"]
    print(f"weblog_hourly failed: task={ti.task_id} hour={context['data_interval_start']} try={ti.try_number}")


def _split_gcs_uri(uri: str) -> tuple[str, str]:
    bucket, _, prefix = uri.removeprefix("gs://").partition("/")
    return bucket, prefix.strip("/")


with DAG(
    dag_id="weblog_hourly",
    description="Hourly visits and cart additions per product, published for the BigQuery loader",
    schedule="@hourly",
    start_date=START,
    catchup=True,
    max_active_runs=3,
    max_active_tasks=6,
    render_template_as_native_obj=True,  # the hour's plan travels as a dict to the Dataproc jobs
    user_defined_macros={"gcs_bucket": lambda uri: _split_gcs_uri(uri)[0],
                         "gcs_prefix": lambda uri: _split_gcs_uri(uri)[1]},
    default_args={
        "retries": 2,
        "retry_delay": timedelta(minutes=5),
        "retry_exponential_backoff": True,
        "on_failure_callback": _log_failure,
    },
    tags=["clickstream"],
) as dag:
    wait_for_hour_complete = GCSObjectExistenceSensor(
        task_id="wait_for_hour_complete",
        bucket="{{ var.value.weblog_raw_bucket }}",
        object=f"_complete/{HOUR_PATH}/_COMPLETE",
        mode="reschedule",
        poke_interval=120,
        timeout=int(timedelta(hours=6).total_seconds()),
    )

    @task
    def plan_hour(data_interval_start: datetime | None = None) -> dict[str, str]:
        """A new run id per run (a rerun of the hour publishes under a new one) and every step's variables."""
        from airflow.models import Variable  # noqa: PLC0415 (read when the task runs, never at import)

        raw = f"gs://{Variable.get('weblog_raw_bucket')}"
        return hour_plan(
            hour=data_interval_start,
            run_id=new_run_id(),
            raw_location=f"{raw}/events",
            quarantine_location=f"{raw}/quarantine",
            staging_root=Variable.get("weblog_staging_uri"),
            max_quarantine_share=float(Variable.get("weblog_max_quarantine_share",
                                                    default_var=DEFAULT_MAX_QUARANTINE_SHARE)),
        )

    planned = plan_hour()

    hive_steps = [
        DataprocSubmitJobOperator(
            task_id=step.task_id,
            project_id="{{ var.value.weblog_project_id }}",
            region="{{ var.value.weblog_region }}",
            job={
                "placement": {"cluster_name": "{{ var.value.weblog_hive_cluster }}"},
                "hive_job": {
                    "query_file_uri": "{{ var.value.weblog_scripts_uri }}/" + step.script,
                    "script_variables": PLAN,
                },
            },
        )
        for step in HOURLY_STEPS
    ]

    @task(task_id=PUBLISH_TASK_ID)
    def publish(ti=None) -> list[str]:
        """Copies the staged CSV to the curated bucket as part-NNNNN.csv, then deletes earlier runs' objects."""
        plan = ti.xcom_pull(task_ids="plan_hour")
        from airflow.models import Variable  # noqa: PLC0415
        from airflow.providers.google.cloud.hooks.gcs import GCSHook  # noqa: PLC0415

        gcs = GCSHook()
        staging_bucket, staging_prefix = _split_gcs_uri(plan["STAGING_DIR"])
        curated_bucket = Variable.get("weblog_curated_bucket")
        staged = [
            (blob.name.removeprefix(staging_prefix + "/"), blob.size or 0)
            for blob in gcs.get_conn().bucket(staging_bucket).list_blobs(prefix=staging_prefix + "/")
        ]
        names = publish_names(plan, staged)
        if not names:
            raise ValueError(f"nothing staged under gs://{staging_bucket}/{staging_prefix}: refusing to publish")
        for name, target in names:
            gcs.copy(staging_bucket, f"{staging_prefix}/{name}", curated_bucket, target)
        for stale in stale_published(plan, gcs.list(curated_bucket, prefix=plan["CURATED_PREFIX"])):
            gcs.delete(curated_bucket, stale)
        return [target for _, target in names]

    clean_staging = GCSDeleteObjectsOperator(
        task_id="clean_staging",
        bucket_name="{{ gcs_bucket(ti.xcom_pull(task_ids='plan_hour')['STAGING_DIR']) }}",
        prefix="{{ gcs_prefix(ti.xcom_pull(task_ids='plan_hour')['STAGING_DIR']) }}/",
    )

    published = publish()
    wait_for_hour_complete >> planned
    chain(planned, *hive_steps, published, clean_staging)
