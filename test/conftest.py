"""Shared pytest fixtures: one local SparkSession (Hive support, Kafka connector) and one Kafka broker per
test session, because each JVM costs seconds on this machine; plus an isolated Airflow home."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

# Airflow reads its settings when first imported: point it at a throwaway home and at the repo's dags/.
os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="airflow-home-"))
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "dags")


def spark_jvm_env() -> dict[str, str]:
    """The environment for the Spark JVMs the tests start: C1 compiler only, the serial collector and the class-data
    archive, as the sandbox runs them (sandbox/processes/parts.ts); on this small data C2's compile work never pays
    back on 2 cores. (Not for the Kafka broker, which picks its own collector.)"""
    from jobs.spark_sessions import class_archive_options  # noqa: PLC0415 (imports pyspark)

    fast = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", *class_archive_options()]
    return {**os.environ, "JAVA_TOOL_OPTIONS": " ".join(filter(None, [os.environ.get("JAVA_TOOL_OPTIONS"), *fast]))}


@pytest.fixture(scope="session")
def spark(tmp_path_factory, pytestconfig):
    from jobs.spark_sessions import local_session  # noqa: PLC0415

    mutation_run = pytestconfig.pluginmanager.get_plugin("mutation.fast_tests")
    if mutation_run is not None:  # one warm session for every mutant (mutation/fast_tests.py), never stopped
        yield mutation_run.warm_spark(lambda: local_session("mutation-tests", kafka=False, master="local[1]"))
        return
    saved = os.environ.get("JAVA_TOOL_OPTIONS")
    os.environ["JAVA_TOOL_OPTIONS"] = spark_jvm_env()["JAVA_TOOL_OPTIONS"]  # read when pyspark launches the JVM
    try:
        session = local_session("pipeline-tests", warehouse=str(tmp_path_factory.mktemp("hive")), kafka=True)
    finally:
        if saved is None:
            del os.environ["JAVA_TOOL_OPTIONS"]
        else:
            os.environ["JAVA_TOOL_OPTIONS"] = saved
    yield session
    session.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory):
    """A real Kafka broker (sandbox/processes/kafkaBroker.ts) on a free 127.0.0.1 port, stopped after the session."""
    state = tmp_path_factory.mktemp("kafka")
    cli = ["npx", "tsx", "sandbox/processes/kafkaBroker.ts"]
    started = subprocess.run([*cli, "start", "--state-dir", str(state)], cwd=REPO, capture_output=True,
                             text=True, timeout=120, check=False)
    if started.returncode != 0:
        pytest.fail(f"Kafka broker did not start: {started.stderr.strip()}")
    try:
        yield json.loads(started.stdout.strip().splitlines()[-1])["bootstrapServers"]
    finally:
        subprocess.run([*cli, "stop", "--state-dir", str(state)], cwd=REPO, timeout=60, check=False)


def make_entry(event_time: str, product_id: str, cart_add: bool, **overrides) -> dict:
    """A contract-valid entry (a visit, or an add-to-cart when cart_add), with optional overrides."""
    import uuid  # noqa: PLC0415

    entry = {
        "event_id": str(uuid.uuid4()),
        "event_time": event_time,
        "session_id": "s-" + uuid.uuid4().hex[:12],
        "ip": "192.0.2.10",
        "user_agent": "Mozilla/5.0 (X11; Linux x86_64)",
        "method": "POST" if cart_add else "GET",
        "url": "/cart" if cart_add else f"/products/{product_id}",
        "status": 200,
        "product_id": product_id,
        "pid": product_id if cart_add else None,
    }
    entry.update(overrides)
    return entry


@pytest.fixture(scope="session")
def entry_factory():
    return make_entry


@pytest.fixture(scope="session")
def kafka_frame(spark):
    """Builds a DataFrame shaped like Spark's Kafka source from raw values (bytes)."""
    from datetime import UTC, datetime  # noqa: PLC0415

    def build(values: list[bytes], received: datetime | None = None):
        ts = received or datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
        rows = [(bytearray(v), 0, offset, ts) for offset, v in enumerate(values)]
        return spark.createDataFrame(rows, "value binary, partition int, offset long, timestamp timestamp")

    return build
