"""A pytest plugin for mutation runs: leaves out the tests that start an engine (Spark, Kafka, an Airflow run),
which would take a minute per mutant; the logic they cover is judged through the pure functions' own tests."""

from __future__ import annotations

import pytest

ENGINE_FIXTURES = {"spark", "kafka_bootstrap"}  # fixtures that others (staged, raw, ...) build on


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    fast = [i for i in items if not ENGINE_FIXTURES & set(getattr(i, "fixturenames", ()))]
    config.hook.pytest_deselected(items=[i for i in items if i not in fast])
    items[:] = fast
