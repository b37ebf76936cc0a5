"""Runs Airflow's own scheduler for a bounded number of loops on a freshly parsed DAG folder and prints, as JSON,
the DAG runs it created and the state of each run's tasks. Run as a script, in an AIRFLOW_HOME of its own (the
caller sets the environment: a throwaway SQLite database, the DAG folder, the stack's Composer overrides)."""

from __future__ import annotations

import json
import sys

from airflow.executors.sequential_executor import SequentialExecutor
from airflow.jobs.job import Job, run_job
from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
from airflow.models.dag import DagModel
from airflow.models.dagbag import DagBag
from airflow.models.dagrun import DagRun
from airflow.utils import db
from airflow.utils.session import create_session


def hold(_executor: SequentialExecutor) -> None:
    """The executor takes what the scheduler queues and runs none of it: the tasks would reach Google Cloud."""


def main(dag_folder: str, loops: int) -> None:
    db.initdb(load_connections=False)
    # What the DAG processor does with each file it parses: the DAG and its serialized form into the database.
    DagBag(dag_folder=dag_folder, include_examples=False).sync_to_db()
    SequentialExecutor.sync = hold  # SQLite's one executor, with its running step removed
    runner = SchedulerJobRunner(job=Job(), subdir=dag_folder, num_runs=loops, scheduler_idle_sleep_time=0.2)
    run_job(job=runner.job, execute_callable=runner._execute)
    with create_session() as session:
        report = {
            "paused": {m.dag_id: m.is_paused for m in session.query(DagModel)},
            "runs": [{
                "run_type": r.run_type,
                "state": r.state,
                "data_interval_start": r.data_interval_start.isoformat(),
                "data_interval_end": r.data_interval_end.isoformat(),
                "tasks": {ti.task_id: ti.state for ti in r.get_task_instances(session=session)},
            } for r in session.query(DagRun).order_by(DagRun.data_interval_start)],
        }
    print("SCHEDULER-REPORT " + json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
