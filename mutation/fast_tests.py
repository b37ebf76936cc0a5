"""A pytest plugin for mutation runs: leaves out the tests that start an engine (Kafka, an Airflow run, the hourly
steps' Hive scripts), which would take a minute per mutant; the logic they cover is judged through the pure
functions' own tests.

Spark is the exception for the access-log mapping (jobs/access_log.py), which is nothing but Spark column
expressions: its own tests (SPARK_SEAM) run on one warm local session, started once in mutmut's parent process and
inherited by every forked mutant, so a mutant costs its queries, not a JVM start. Each fork opens its own
connections to the JVM (the parent's sockets are never shared) and cancels what a timed-out fork left running.
Whole-stage code generation is off in that session: on a few dozen rows, compiling the mapping's expressions
would cost more than evaluating them, and the interpreted path computes the same values.
"""

from __future__ import annotations

import os
import threading
from collections import deque

import pytest

ENGINE_FIXTURES = {"spark", "kafka_bootstrap"}  # fixtures that others (staged, raw, ...) build on
SPARK_SEAM = {"test/jobs/test_access_log.py"}  # judged on the warm session: only Spark reaches their module

_warm: dict[str, object] = {}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    def fast(item: pytest.Item) -> bool:
        engines = ENGINE_FIXTURES & set(getattr(item, "fixturenames", ()))
        return not engines or (engines == {"spark"} and item.nodeid.split("::", 1)[0] in SPARK_SEAM)

    kept = [i for i in items if fast(i)]
    config.hook.pytest_deselected(items=[i for i in items if i not in kept])
    items[:] = kept


def warm_spark(start):
    """The session start() creates, once per mutmut run; in a forked mutant, the same JVM on new connections."""
    if "session" not in _warm:
        session = start()
        session.conf.set("spark.sql.codegen.wholeStage", "false")
        session.conf.set("spark.sql.codegen.factoryMode", "NO_CODEGEN")
        _warm.update(session=session, pid=os.getpid())
    session = _warm["session"]
    if _warm["pid"] != os.getpid():
        client = session.sparkContext._gateway._gateway_client  # noqa: SLF001 (py4j: no public reset)
        client.deque = deque()
        if hasattr(client, "thread_connection"):  # pinned-thread mode (pyspark's default)
            client.thread_connection = threading.local()
        session.sparkContext.cancelAllJobs()
        _warm["pid"] = os.getpid()
    return session
