"""The DAG's reconcile_lineage task against Cloud Storage (a folder per bucket) and the local BigQuery-API server
holding the loader's lineage table: it reports each published object of the window whose live generation has no
lineage row, in the line the stack's alert counts, and nothing else."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import REPO
from google.cloud import bigquery
from local_bigquery import LocalBigQueryHook, create_lineage_table, local_bigquery, local_client
from local_cloud import LocalBlob, LocalGCSHook

from dags.weblog_hourly_steps import RECONCILE_TASK_ID

PROJECT, CURATED = "clickstream-local", "weblog-curated"
TABLE = f"{PROJECT}.clickstream.hourly_activity_loads"
NOT_LOADED = json.loads((REPO / "contract" / "log-lines.json").read_text())["notLoaded"]


@pytest.fixture(scope="module")
def lineage(tmp_path_factory):
    """The lineage table, created from the loader's schema, on a server shared by the module's tests."""
    with local_bigquery(PROJECT, tmp_path_factory.mktemp("gcs")) as endpoint:
        client = local_client(endpoint, PROJECT, "US")
        create_lineage_table(client, TABLE)
        LocalBigQueryHook.endpoint = endpoint
        yield client


@pytest.fixture(scope="module")
def dag(lineage):
    from airflow.models.dagbag import DagBag  # noqa: PLC0415

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIRFLOW_VAR_WEBLOG_CURATED_BUCKET", CURATED)
        mp.setenv("AIRFLOW_VAR_WEBLOG_LOAD_LOG_TABLE", TABLE)
        mp.setenv("AIRFLOW_VAR_WEBLOG_BIGQUERY_LOCATION", "US")
        mp.setenv("AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT", json.dumps({"conn_type": "google_cloud_platform"}))
        mp.setattr("airflow.providers.google.cloud.hooks.gcs.GCSHook", LocalGCSHook)
        mp.setattr("airflow.providers.google.cloud.hooks.bigquery.BigQueryHook", LocalBigQueryHook)
        yield DagBag(dag_folder=str(REPO / "dags"), include_examples=False).dags["weblog_hourly"]


def publish(root: Path, hour: datetime, run_id: str, age: timedelta = timedelta(hours=2)) -> LocalBlob:
    """A published hourly object, written `age` ago."""
    name = f"hourly/dt={hour:%Y-%m-%d}/hr={hour:%H}/run_id={run_id}/part-00000.csv"
    path = root / CURATED / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{hour:%Y-%m-%d %H}:00:00,P000001,3,1,{run_id}\n")
    written = (datetime.now(UTC) - age).timestamp()
    os.utime(path, (written, written))
    return LocalGCSHook().get_conn().bucket(CURATED).blob(name)


def record_load(client: bigquery.Client, blob: LocalBlob, generation: str | None = None) -> None:
    hour = re.search(r"dt=([\d-]+)/hr=(\d\d)", blob.name)
    client.query(
        f"INSERT INTO `{TABLE}` (load_job_id, bucket, object, generation, hour, run_id, output_rows, loaded_at) "
        "VALUES ('job', @bucket, @object, @generation, @hour, 'r', 1, CURRENT_TIMESTAMP())",
        job_config=bigquery.QueryJobConfig(query_parameters=[
            bigquery.ScalarQueryParameter("bucket", "STRING", CURATED),
            bigquery.ScalarQueryParameter("object", "STRING", blob.name),
            bigquery.ScalarQueryParameter("generation", "STRING", generation or str(blob.generation)),
            bigquery.ScalarQueryParameter("hour", "TIMESTAMP", f"{hour[1]} {hour[2]}:00:00+00:00"),
        ])).result()


def test_reports_each_published_generation_without_a_lineage_row_and_only_those(dag, lineage, tmp_path, capsys):
    LocalGCSHook.root = tmp_path
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=5)
    loaded = publish(tmp_path, hour, "20261126T150000000000Z")
    record_load(lineage, loaded)
    never_loaded = publish(tmp_path, hour - timedelta(hours=30), "20261126T150000000000Z")  # past Eventarc's retries
    rewritten = publish(tmp_path, hour - timedelta(hours=1), "20261126T150000000000Z")
    record_load(lineage, rewritten, generation="1")  # lineage of an earlier generation of the name
    publish(tmp_path, hour, "20261126T160000000000Z", age=timedelta(minutes=5))  # the loader may still be at it
    publish(tmp_path, hour - timedelta(hours=80), "20261126T150000000000Z")  # before the window
    (tmp_path / CURATED / "hourly" / "notes.txt").write_text("not a published file")

    reported = dag.get_task(RECONCILE_TASK_ID).python_callable()

    assert reported == sorted([never_loaded.name, rewritten.name])
    lines = [line for line in capsys.readouterr().out.splitlines() if re.search(NOT_LOADED["pattern"], line)]
    assert [json.loads(line.split(": ", 1)[1])["object"] for line in lines] == reported
    assert json.loads(lines[0].split(": ", 1)[1])["generation"] == str(never_loaded.generation)


def test_runs_on_its_own_branch_whatever_the_hour_does(dag):
    task = dag.get_task(RECONCILE_TASK_ID)
    assert task.upstream_task_ids == set() and task.downstream_task_ids == set()
    assert task.on_failure_callback and task.retries >= 1
