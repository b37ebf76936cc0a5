"""The DAG's pin and publish tasks on Cloud Storage (a folder per bucket, test/dags/local_cloud.py): what is
published is exactly the generations listed before the checks read them, each published name is written
once, and anything else in the run's staging place fails the run by name."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from conftest import REPO
from local_cloud import LocalBucket, LocalGCSHook

from dags.weblog_hourly_steps import PIN_TASK_ID, PUBLISH_TASK_ID, hour_plan, parse_hour

STAGING, CURATED = "weblog-dataproc", "weblog-curated"
RUN = "20261126T150512123456Z"
ROW = f"2026-11-26 14:00:00,P000001,3,1,{RUN}\n"


@pytest.fixture(scope="module")
def dag():
    from airflow.models.dagbag import DagBag  # noqa: PLC0415

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AIRFLOW_VAR_WEBLOG_CURATED_BUCKET", CURATED)
        mp.setenv("AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT", json.dumps({"conn_type": "google_cloud_platform"}))
        mp.setattr("airflow.providers.google.cloud.hooks.gcs.GCSHook", LocalGCSHook)
        yield DagBag(dag_folder=str(REPO / "dags"), include_examples=False).dags["weblog_hourly"]


class TaskInstance:
    """What the tasks pull: the hour's plan, and the pinned files once pin_checked_files has run."""

    def __init__(self, plan: dict[str, str]):
        self.xcoms: dict[str, object] = {"plan_hour": plan}

    def xcom_pull(self, task_ids: str):
        return self.xcoms[task_ids]


@pytest.fixture
def staged(tmp_path) -> tuple[dict[str, str], TaskInstance, Path]:
    """A run whose aggregate has staged its CSV and raw row counts."""
    LocalGCSHook.root = tmp_path
    LocalBucket.copies.clear()
    plan = hour_plan(parse_hour("2026-11-26T14"), RUN, "gs://raw/events", "gs://raw/quarantine",
                     f"gs://{STAGING}/hourly-staging")
    staging = tmp_path / STAGING / plan["STAGING_DIR"].removeprefix(f"gs://{STAGING}/")
    (staging / "hourly_activity").mkdir(parents=True)
    (staging / "hourly_activity" / "000000_0").write_text(ROW)
    (staging / "_reconciliation" / "raw_rows").mkdir(parents=True)
    (staging / "_reconciliation" / "raw_rows" / "000000_0").write_text("4,4\n")
    return plan, TaskInstance(plan), staging


def run_task(dag, task_id: str, ti: TaskInstance):
    ti.xcoms[task_id] = dag.get_task(task_id).python_callable(ti=ti)
    return ti.xcoms[task_id]


def published(tmp_path: Path) -> dict[str, str]:
    root = tmp_path / CURATED
    if not root.exists():
        return {}
    return {p.relative_to(root).as_posix(): p.read_text() for p in root.rglob("*") if p.is_file()}


def test_publish_copies_the_pinned_generation_of_each_checked_file(dag, staged, tmp_path):
    plan, ti, _ = staged
    run_task(dag, PIN_TASK_ID, ti)
    assert run_task(dag, PUBLISH_TASK_ID, ti) == [f"{plan['CURATED_RUN_PREFIX']}part-00000.csv"]
    assert published(tmp_path) == {f"{plan['CURATED_RUN_PREFIX']}part-00000.csv": ROW}


def test_a_retried_publish_of_the_same_run_makes_no_second_generation(dag, staged, tmp_path):
    plan, ti, _ = staged
    run_task(dag, PIN_TASK_ID, ti)
    run_task(dag, PUBLISH_TASK_ID, ti)
    target = LocalBucket(tmp_path, CURATED).blob(f"{plan['CURATED_RUN_PREFIX']}part-00000.csv")
    generation = target.generation
    time.sleep(0.01)
    run_task(dag, PUBLISH_TASK_ID, ti)
    assert target.generation == generation
    assert LocalBucket.copies == [target.name]


def test_a_data_file_beside_the_checked_output_fails_the_pin_by_name(dag, staged):
    _, ti, staging = staged
    (staging / "extra.csv").write_text(ROW.replace("3,1", "1000000,0"))
    with pytest.raises(ValueError, match=r"files the checks do not read: extra\.csv") as failed:
        run_task(dag, PIN_TASK_ID, ti)
    assert type(failed.value).__name__ == "StagingChanged"


@pytest.mark.parametrize("change", ["added", "rewritten"])
def test_a_checked_file_added_or_rewritten_after_the_pin_fails_publish_by_name_and_publishes_nothing(
        dag, staged, tmp_path, change):
    _, ti, staging = staged
    run_task(dag, PIN_TASK_ID, ti)
    time.sleep(0.01)
    name = "000001_0" if change == "added" else "000000_0"
    (staging / "hourly_activity" / name).write_text(ROW.replace("3,1", "1000000,0"))
    with pytest.raises(ValueError, match=f"changed after its files were pinned.*hourly_activity/{name}") as failed:
        run_task(dag, PUBLISH_TASK_ID, ti)
    assert type(failed.value).__name__ == "StagingChanged"
    assert published(tmp_path) == {}


def test_a_published_name_holding_other_content_fails_and_is_not_replaced(dag, staged, tmp_path):
    plan, ti, _ = staged
    target = tmp_path / CURATED / f"{plan['CURATED_RUN_PREFIX']}part-00000.csv"
    target.parent.mkdir(parents=True)
    target.write_text("planted\n")
    run_task(dag, PIN_TASK_ID, ti)
    with pytest.raises(RuntimeError, match="is already published with other content"):
        run_task(dag, PUBLISH_TASK_ID, ti)
    assert target.read_text() == "planted\n"


def test_the_checks_run_after_the_pin_and_publish_after_the_checks(dag):
    assert dag.get_task(PIN_TASK_ID).downstream_task_ids == {"compute_check_verdicts"}
    assert dag.get_task("aggregate_to_staging").downstream_task_ids == {PIN_TASK_ID}
    assert dag.get_task(PUBLISH_TASK_ID).upstream_task_ids == {"check_quality"}
