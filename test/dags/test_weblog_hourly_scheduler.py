"""The deployed DAG runs by itself: Airflow's real scheduler, with the Airflow settings the stack gives Composer
and Airflow's own default for new DAGs (paused), creates the run of the latest complete hour and queues its
first task, with nobody unpausing anything. Bounded loops, a throwaway SQLite database, no task executed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import REPO

DRIVER = Path(__file__).with_name("scheduler_loops.py")
OVERRIDES = REPO / "stacks" / "airflowConfigOverrides.json"
LOOPS = 6


def composer_overrides_as_env() -> dict[str, str]:
    """Composer's "section-key" overrides, as the AIRFLOW__SECTION__KEY variables Airflow reads."""
    overrides = json.loads(OVERRIDES.read_text())
    return {f"AIRFLOW__{k.split('-', 1)[0].upper()}__{k.split('-', 1)[1].upper()}": v for k, v in overrides.items()}


@pytest.fixture(scope="module")
def scheduled(tmp_path_factory):
    home = tmp_path_factory.mktemp("scheduler-home")
    folder = home / "dags"
    shutil.copytree(REPO / "dags", folder, ignore=shutil.ignore_patterns("__pycache__"))
    this_hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    # The stack sets the DAG's start to the hour of the first `pulumi up`: here, the hour before this one.
    start = this_hour - timedelta(hours=1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(folder),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        # Airflow's default, spelled out: a new DAG is paused unless the DAG itself says otherwise.
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        # The DAG file was parsed just above; the scheduler need not start a parsing process of its own.
        "AIRFLOW__SCHEDULER__STANDALONE_DAG_PROCESSOR": "True",
        "WEBLOG_HOURLY_START": start.isoformat(),
        **composer_overrides_as_env(),
    })
    done = subprocess.run([sys.executable, str(DRIVER), str(folder), str(LOOPS)], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith("SCHEDULER-REPORT "))
    return start, json.loads(line.removeprefix("SCHEDULER-REPORT "))


def test_the_composer_overrides_reach_the_scheduler_as_airflow_settings():
    assert composer_overrides_as_env() == {"AIRFLOW__SCHEDULER__CATCHUP_BY_DEFAULT": "False"}


def test_the_dag_is_not_paused_when_the_scheduler_first_sees_it(scheduled):
    _, report = scheduled
    assert report["paused"] == {"weblog_hourly": False}


def test_the_scheduler_creates_the_run_of_the_latest_complete_hour_and_queues_its_first_task(scheduled):
    start, report = scheduled
    (run,) = report["runs"]
    assert run["run_type"] == "scheduled"
    assert run["state"] == "running"
    assert datetime.fromisoformat(run["data_interval_start"]) == start
    assert datetime.fromisoformat(run["data_interval_end"]) == start + timedelta(hours=1)
    # The three roots: the hour's sensor, and the reconciliation and late reruns, which wait for nothing.
    roots = {"wait_for_hour_complete", "reconcile_lineage", "rerun_late_hours"}
    assert {run["tasks"][task] for task in roots} == {"queued"}
    assert {state for task, state in run["tasks"].items() if task not in roots} == {None}
