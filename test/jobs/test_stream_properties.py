"""Property: whatever a producer sends, the running streaming job takes it. Hypothesis throws arbitrary JSON,
arbitrary bytes and arbitrary field values (dates at the calendar's edges, huge numbers, odd Unicode, deep
nesting) at one real job reading a real broker; after every example the same process is still running, and
the rows in raw plus the records in quarantine equal the records sent, exactly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from datetime import UTC, datetime, timedelta

import pytest
from conftest import REPO, make_entry
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from test_weblog_stream import job_command, job_env, produce, visible_parquet

NOW = datetime.now(UTC)
FIELDS = ["event_id", "event_time", "session_id", "ip", "user_agent", "method", "url", "status", "product_id", "pid"]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-2**80, max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
edge_times = st.sampled_from([
    "0001-01-01T00:00:00Z", "1899-12-31T23:59:59.999999999Z", "1900-01-01T00:00:00Z", "1970-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z", "2026-02-29T00:00:00Z", "2026-12-31T23:59:60Z", "2026-01-01T00:00:00+99:99",
    "2026-13-01T00:00:00Z", "0000-00-00T00:00:00Z",
    (NOW - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    (NOW + timedelta(minutes=59)).strftime("%Y-%m-%dT%H:%M:%S-23:59"),
    (NOW - timedelta(minutes=30)).strftime("%Y-%m-%dt%H:%M:%S.123456789+14:00"),
])
odd_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=()), max_size=40) | st.sampled_from([
    "\u0000", "\ufeff", "\u202e", "é" * 200, "\U0001F600" * 100, "=2+5", "\\N", "a,b", "\ud7ff", "x" * 9000])
field_values = json_values | edge_times | odd_text | st.sampled_from(
    [2**31, -2**31 - 1, 2**63, -2**63 - 1, 10**30, 1e308, -0.0, 99, 100, 599, 600])


@st.composite
def entries_with_one_odd_field(draw) -> bytes:
    entry = make_entry((NOW - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ"), "P000001", draw(st.booleans()))
    entry[draw(st.sampled_from(FIELDS))] = draw(field_values)
    return json.dumps(entry, ensure_ascii=draw(st.booleans())).encode("utf-8", "surrogatepass")


records = st.one_of(
    entries_with_one_odd_field(),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=64),
    st.integers(min_value=1, max_value=3000).map(lambda n: b"[" * n + b"]" * n),  # deep nesting
    st.just(json.dumps(make_entry(NOW.strftime("%Y-%m-%dT%H:%M:%SZ"), "P000002", False)).encode()),
)


def committed_records(root) -> int:
    """Entries plus quarantined records of every batch the job has committed (its commit objects)."""
    written = root / "_checkpoints" / "written"
    total = 0
    for path in written.glob("*.json") if written.exists() else []:
        try:
            body = json.loads(path.read_text())
        except json.JSONDecodeError:  # being written now (a local file is created, then filled)
            continue
        total += body["rows"] + body["quarantined"]
    return total


@pytest.fixture(scope="module")
def running_job(spark, kafka_bootstrap, tmp_path_factory):
    root = tmp_path_factory.mktemp("property-bucket")
    topic = "weblogs-property-" + root.name.replace("_", "-")
    first = make_entry(NOW.strftime("%Y-%m-%dT%H:%M:%SZ"), "P1", False)
    produce(spark, kafka_bootstrap, topic, [json.dumps(first).encode()])
    command = job_command(kafka_bootstrap, topic, root, "--trigger-seconds", "1", "--poll-seconds", "1")
    command[command.index("--max-future-seconds") + 1] = "3600"
    log_path = root.parent / f"{root.name}-job.log"
    with log_path.open("wb") as log:
        job = subprocess.Popen(command, cwd=REPO, env=job_env(), stdout=subprocess.DEVNULL, stderr=log,
                               start_new_session=True)
    state = {"root": root, "topic": topic, "job": job, "log": log_path, "sent": 1}
    try:
        wait_for_commits(state)
        yield state
    finally:
        os.killpg(job.pid, signal.SIGTERM)
        try:
            job.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(job.pid, signal.SIGKILL)
            job.wait(timeout=30)


def wait_for_commits(state: dict, within: float = 120) -> None:
    deadline = time.monotonic() + within
    while committed_records(state["root"]) < state["sent"]:
        assert state["job"].poll() is None, f"the job stopped: {state['log'].read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"not committed in time: {state['log'].read_text()[-3000:]}"
        time.sleep(0.3)


@settings(max_examples=4, deadline=None, database=None, phases=(Phase.explicit, Phase.generate),
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(batch=st.lists(records, min_size=1, max_size=25))
def test_whatever_is_sent_the_job_keeps_running_and_raw_plus_quarantine_equals_sent(spark, kafka_bootstrap,
                                                                                     running_job, batch):
    produce(spark, kafka_bootstrap, running_job["topic"], batch)
    running_job["sent"] += len(batch)
    wait_for_commits(running_job)
    assert committed_records(running_job["root"]) == running_job["sent"]
    assert running_job["job"].poll() is None, "the same job process is still running"


def test_after_every_example_raw_rows_plus_quarantined_records_are_exactly_the_records_sent(spark, running_job):
    assert running_job["sent"] > 1, "the property test ran first and sent its examples"
    root = running_job["root"]
    counted = sum(spark.read.parquet(*files).count()
                  for files in (visible_parquet(root / "events"), visible_parquet(root / "quarantine")) if files)
    assert counted == running_job["sent"]
    assert running_job["job"].poll() is None, "the job that took every example is still running: no restart"
