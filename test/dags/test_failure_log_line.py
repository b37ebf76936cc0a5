"""The DAG's failure callback prints the line the deployed dag-task-failures metric counts (shared pattern in
contract/log-lines.json), with the failed task's id where the metric's label extractor finds it."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pendulum
from conftest import REPO

LINES = json.loads((REPO / "contract" / "log-lines.json").read_text())
FAILED = LINES["dagTaskFailed"]


def test_a_failed_task_prints_the_line_the_failure_metric_counts_naming_the_task(capsys):
    from dags.weblog_hourly import _log_failure  # noqa: PLC0415

    context = {
        "task_instance": SimpleNamespace(task_id="check_quality", try_number=2),
        "data_interval_start": pendulum.datetime(2026, 11, 26, 7, tz="UTC"),
    }
    _log_failure(context)

    printed = [line for line in capsys.readouterr().out.splitlines() if re.search(FAILED["pattern"], line)]
    assert len(printed) == 1
    assert re.search(FAILED["task"], printed[0]).group(1) == "check_quality"


def test_every_task_of_the_dag_reports_its_failure_through_that_callback():
    from dags.weblog_hourly import _log_failure, dag  # noqa: PLC0415

    assert dag.dag_id == LINES["dagId"]
    assert dag.tasks
    assert all(task.on_failure_callback in (_log_failure, [_log_failure]) for task in dag.tasks)
