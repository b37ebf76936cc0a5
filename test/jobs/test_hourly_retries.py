"""The local runner retries the hourly tasks as the DAG does (one policy, dags/weblog_hourly_steps.py): every
step but check_quality twice more, after 5 then 10 minutes, those waits divided by the sandbox's clock factor."""

from __future__ import annotations

import pytest

from dags.weblog_hourly_steps import HOURLY_STEPS, PUBLISH_TASK_ID, retries_of
from jobs.hourly_local import retrying


def failing(times: int):
    calls = []

    def work():
        calls.append(1)
        if len(calls) <= times:
            raise RuntimeError(f"try {len(calls)} failed")
        return "published"

    return work, calls


def test_a_retried_step_waits_5_then_10_minutes_scaled_by_the_clock_and_then_succeeds():
    slept, tries = [], []
    work, calls = failing(2)
    assert retrying(60.0, slept.append, tries)("register_partition", work) == "published"
    assert len(calls) == 3
    assert slept == [5.0, 10.0]  # 300 s and 600 s at 60x
    assert tries == ["register_partition: try 1 failed", "register_partition: try 2 failed"]


def test_a_step_that_fails_every_retry_fails_the_run_after_three_tries():
    slept = []
    work, calls = failing(5)
    with pytest.raises(RuntimeError, match="try 3 failed"):
        retrying(1.0, slept.append)(PUBLISH_TASK_ID, work)
    assert len(calls) == 3
    assert slept == [300.0, 600.0]


def test_a_failed_data_quality_check_is_not_retried():
    slept = []
    work, calls = failing(1)
    with pytest.raises(RuntimeError):
        retrying(1.0, slept.append)("check_quality", work)
    assert (len(calls), slept) == (1, [])


def test_the_policy_covers_every_task_of_the_dag():
    tasks = [s.task_id for s in HOURLY_STEPS] + [PUBLISH_TASK_ID]
    assert {t: retries_of(t) for t in tasks} == {
        "register_partition": 2, "aggregate_to_staging": 2, "compute_check_verdicts": 2, "check_quality": 0,
        "publish": 2}
