"""Runs the hourly steps (dags/weblog_hourly_steps.py) on Spark SQL with Hive support, for the sandbox
and the tests: the same HiveQL files the DAG submits to Dataproc, then the same publish rule.

    python -m jobs.hourly_local --hour 2026-11-26T14 [--hour ...] --raw DIR --quarantine DIR \
        --staging DIR --curated DIR --warehouse DIR [--run-id ID] [--max-quarantine-share 0.05] \
        [--max-duplicate-share 0.5]
    python -m jobs.hourly_local --serve [--warm-up] [--max-active-runs N] [--clock-factor F] --raw DIR ...
        (hour requests on standard input)

Several --hour values run in one Spark session (JVM start-up is slow). Prints one JSON line per hour:
{"hour", "run_id", "ok", "published": [curated-bucket-relative names], "error", "failed_tries"}. Exits 1 when any
hour failed ("error" names the failed data-quality checks), 0 when all were published.

--serve keeps one Spark session for hour after hour: it prints {"ready": true, "max_active_runs": N} once the
session is up (with --warm-up it then runs one made-up hour in a scratch database, publishing nothing), then
reads one JSON request a line ({"hour": "YYYY-MM-DDTHH", "run_id": optional, "request": optional}) and
answers each with the line above (and the request's "request"), until its input ends. Up to
--max-active-runs hours run at once (the DAG's max_active_runs), so answers come in the order the runs end.
Each step is retried as the DAG retries its task (dags/weblog_hourly_steps.py: retries_of, retry_delay),
the delays divided by --clock-factor (the sandbox's accelerated clock).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import types as T

from dags.weblog_hourly_steps import (
    DEFAULT_MAX_DUPLICATE_SHARE,
    DEFAULT_MAX_QUARANTINE_SHARE,
    HOURLY_STEPS,
    MAX_ACTIVE_RUNS,
    PUBLISH_TASK_ID,
    STAGING_TABLES_TEARDOWN,
    VERDICTS_TASK_ID,
    NothingStaged,
    StagedFile,
    StagingChanged,
    checked_files,
    files_to_publish,
    hour_plan,
    new_run_id,
    parse_hour,
    retries_of,
    retry_delay,
    stale_published,
)
from jobs.weblog_parse import parse
from jobs.weblog_stream import MARKER_NAME, hour_presence_marker

JOBS_DIR = Path(__file__).resolve().parent
# Hive configuration values, the form the scripts use for their variables (see docs/hive-and-spark-sql.md).
_VARIABLE = re.compile(r"\$\{hiveconf:([A-Za-z_][A-Za-z0-9_]*)\}")
FAILED_CHECK_COLUMN = "failed_check"
FAILED_VALUE_COLUMN = "failed_value"


class ScriptAssertionFailed(RuntimeError):
    """An assert_true of a script did not hold (its "-- assert:" line names what it asserts)."""

    def __init__(self, assertion: str, message: str | None = None) -> None:
        super().__init__(message or f"assertion failed: {assertion}")
        self.assertion = assertion


class QualityCheckFailed(ScriptAssertionFailed):
    """A data-quality check of the hour did not hold; nothing was published."""

    def __init__(self, assertion: str, checks: list[str], values: list[str] | None = None) -> None:
        values = values or [""] * len(checks)
        named = [f"{check} ({value})" if value else check for check, value in zip(checks, values, strict=True)]
        super().__init__(assertion, "data-quality check failed: " + "; ".join(named))
        self.checks = tuple(checks)


@dataclass(frozen=True)
class Statement:
    sql: str
    assertion: str | None  # the "-- assert:" line that precedes it, if any


def statements(script: str) -> list[Statement]:
    """Splits a HiveQL file into statements (one ends with ';' at the end of a line)."""
    found, lines, assertion = [], [], None
    for line in script.splitlines():
        stripped = line.strip()
        if stripped.startswith("--"):
            if stripped.startswith("-- assert:"):
                assertion = stripped.removeprefix("-- assert:").strip()
            continue
        lines.append(line)
        if stripped.endswith(";"):
            sql = "\n".join(lines).strip().removesuffix(";")
            found.append(Statement(sql, assertion))
            lines, assertion = [], None
    if "\n".join(lines).strip():
        raise ValueError("the script ends with a statement that has no ';'")
    return found


def substitute(sql: str, variables: dict[str, str]) -> str:
    """${hiveconf:NAME} replaced as Hive does: a name with no value stays as literal text (the scripts' guards
    catch it). Replaced here rather than by Spark's own substitution, which redacts values that look like
    secrets."""
    return _VARIABLE.sub(lambda m: variables.get(m.group(1), m.group(0)), sql)


def run_script(spark: SparkSession, script: str, variables: dict[str, str]) -> None:
    """Runs each statement in order, as a Dataproc Hive job does with the script and its variables. Rows a
    statement returns in a failed_check column are the failed checks' names (with the value found and the limit
    in failed_value), which a failing assert reports."""
    failed_checks: list[str] = []
    failed_values: list[str] = []
    for statement in statements(script):
        try:
            result = spark.sql(substitute(statement.sql, variables))
            rows = result.collect()
        except Exception as exc:
            if statement.assertion is None or "is not true" not in str(exc):
                raise
            if failed_checks:
                raise QualityCheckFailed(statement.assertion, failed_checks, failed_values) from exc
            raise ScriptAssertionFailed(statement.assertion) from exc
        if FAILED_CHECK_COLUMN in result.columns:
            failed_checks += [row[FAILED_CHECK_COLUMN] for row in rows]
            failed_values += [row[FAILED_VALUE_COLUMN] if FAILED_VALUE_COLUMN in result.columns else "" for row in rows]


def first_line(exc: BaseException) -> str:
    """An error in one line: its message's first line, or its type when it has none."""
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


# Runs one task of the hour (task id, the work); the default runs it once.
TaskRunner = Callable[[str, Callable[[], object]], object]


def _once(_task_id: str, work: Callable[[], object]) -> object:
    return work()


def retrying(clock_factor: float = 1.0, sleep: Callable[[float], None] = time.sleep,
             tries: list[str] | None = None) -> TaskRunner:
    """Runs a task as the DAG does: retried retries_of(task) times after retry_delay(n), the delay divided
    by the clock factor. Every failed try is appended to `tries` as "task: error"."""
    def run(task_id: str, work: Callable[[], object]) -> object:
        retry = 0
        while True:
            try:
                return work()
            except Exception as exc:
                if tries is not None:
                    tries.append(f"{task_id}: {first_line(exc)}")
                if retry >= retries_of(task_id):
                    raise
                retry += 1
                sleep(retry_delay(retry).total_seconds() / clock_factor)
    return run


def run_hour(
    spark: SparkSession,
    hour: datetime,
    raw: str,
    quarantine: str,
    staging: str,
    curated: str,
    run_id: str | None = None,
    max_quarantine_share: float = DEFAULT_MAX_QUARANTINE_SHARE,
    max_duplicate_share: float = DEFAULT_MAX_DUPLICATE_SHARE,
    task: TaskRunner = _once,
    markers: str | None = None,
) -> list[str]:
    """Runs every step of one hour and publishes it; returns the curated-relative names published.
    `markers`: the streaming job's marker folder, whose _COMPLETE for the hour says what it committed."""
    plan = hour_plan(hour, run_id or new_run_id(), _absolute(raw), _absolute(quarantine), _absolute(staging),
                     max_quarantine_share, max_duplicate_share, read_marker(markers, hour))
    try:
        checked = run_steps(spark, plan, task)
        return task(PUBLISH_TASK_ID, lambda: publish(plan, Path(curated), checked))
    finally:
        drop_staging_tables(spark, plan, task)


def run_steps(spark: SparkSession, plan: dict[str, str], task: TaskRunner = _once,
              script_for: Callable[[str], str] = lambda script: script) -> list[StagedFile]:
    """Runs every step of the hour's plan in order, each script as script_for() makes it; returns the staged
    files the checks read, pinned just before they ran (the DAG's pin task): what publish may copy."""
    checked: list[StagedFile] = []
    for step in HOURLY_STEPS:
        if step.task_id == VERDICTS_TASK_ID:
            checked = checked_files(plan, staged_files(plan))
        script = script_for((JOBS_DIR / step.script).read_text(encoding="utf-8"))
        task(step.task_id, lambda script=script: run_script(spark, script, plan))
    return checked


def drop_staging_tables(spark: SparkSession, plan: dict[str, str], task: TaskRunner = _once) -> None:
    """The DAG's drop_staging_tables teardown: its failure is reported and never decides the run's outcome."""
    script = (JOBS_DIR / STAGING_TABLES_TEARDOWN.script).read_text(encoding="utf-8")
    try:
        task(STAGING_TABLES_TEARDOWN.task_id, lambda: run_script(spark, script, plan))
    except Exception as exc:  # noqa: BLE001 (a teardown: the run's own outcome stands)
        print(f"error: {STAGING_TABLES_TEARDOWN.task_id} of run {plan['RUN_ID']}: {first_line(exc)}", file=sys.stderr)


def read_marker(markers: str | None, hour: datetime) -> dict | None:
    """The hour's _COMPLETE marker (JSON), or None when there is no marker folder or no marker."""
    if markers is None:
        return None
    path = Path(markers) / f"dt={hour:%Y-%m-%d}" / f"hr={hour:%H}" / MARKER_NAME
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def folder_generation(path: Path) -> str:
    """A folder's stand-in for a Cloud Storage generation: the file's modification time in microseconds."""
    return str(path.stat().st_mtime_ns // 1000)


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()  # noqa: S324 (a checksum, as Cloud Storage's md5Hash)


def staged_files(plan: dict[str, str]) -> list[StagedFile]:
    """Every file of the run's staging folder, with its generation and checksum."""
    staging = Path(plan["STAGING_DIR"])
    return [StagedFile(p.relative_to(staging).as_posix(), p.stat().st_size, folder_generation(p), _md5(p))
            for p in sorted(staging.rglob("*")) if p.is_file()]


def publish(plan: dict[str, str], curated: Path, checked: list[StagedFile]) -> list[str]:
    """Copies the files the checks read (`checked`, pinned before they ran) to the curated folder under the
    run's prefix, then removes earlier runs. Raises StagingChanged or NothingStaged (copying and deleting
    nothing) when the staging folder is not exactly what was checked, or holds nothing to publish."""
    staging = Path(plan["STAGING_DIR"])
    published = []
    for staged, target in files_to_publish(plan, checked, staged_files(plan)):
        _copy_once(staging / staged.name, staged, curated / target)
        published.append(target)
    hour_dir = curated / plan["CURATED_PREFIX"]
    existing = [str(p.relative_to(curated)) for p in hour_dir.rglob("*") if p.is_file()] if hour_dir.exists() else []
    for name in stale_published(plan, existing):
        (curated / name).unlink()
    for folder in sorted(hour_dir.glob("run_id=*")):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    shutil.rmtree(staging)
    return published


class AlreadyPublished(RuntimeError):
    """The published name already holds other content: a published object is never replaced."""


def _copy_once(source: Path, pinned: StagedFile, destination: Path) -> None:
    """Cloud Storage's copy with ifGenerationMatch=0 and the source generation pinned: the object appears
    whole, once. A retried publish finds it there with the same checksum and makes no new generation."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(f".{destination.name}.partial")
    shutil.copyfile(source, partial)
    try:
        if folder_generation(source) != pinned.generation or _md5(partial) != pinned.checksum:
            raise StagingChanged(f"{pinned.name} changed after the checks read it; nothing more was published")
        os.link(partial, destination)  # fails if the name exists: the loader never sees an object replaced
    except FileExistsError:
        if _md5(destination) != pinned.checksum:
            raise AlreadyPublished(f"{destination} is already published with other content") from None
    finally:
        partial.unlink(missing_ok=True)


def _absolute(path: str) -> str:
    return path if "://" in path else str(Path(path).resolve())


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--hour", action="append", default=[], type=parse_hour, help="UTC hour YYYY-MM-DDTHH")
    p.add_argument("--serve", action="store_true", help="read hour requests from standard input (see above)")
    p.add_argument("--clock-factor", type=float, default=1.0,
                   help="with --serve: how much faster than the wall clock the retry delays run")
    p.add_argument("--max-active-runs", type=int, default=MAX_ACTIVE_RUNS,
                   help="with --serve: how many hours run at once (the DAG's max_active_runs)")
    p.add_argument("--warm-up", action="store_true",
                   help="with --serve: run a made-up hour in a scratch database before reading the first request")
    p.add_argument("--raw", required=True, help="the streaming job's raw (events) folder")
    p.add_argument("--quarantine", required=True, help="the streaming job's quarantine folder")
    p.add_argument("--staging", required=True, help="staging folder of the hourly runs")
    p.add_argument("--markers", default=None, help="the streaming job's hour markers folder (dt=/hr=/_COMPLETE)")
    p.add_argument("--curated", required=True, help="the curated bucket folder (hourly/dt=/hr=/run_id=/...)")
    p.add_argument("--warehouse", required=True, help="folder of the Hive warehouse and Derby metastore")
    p.add_argument("--run-id", default=None, help="default: the start time, e.g. 20261126T150512123456Z")
    p.add_argument("--max-quarantine-share", type=float, default=DEFAULT_MAX_QUARANTINE_SHARE)
    p.add_argument("--max-duplicate-share", type=float, default=DEFAULT_MAX_DUPLICATE_SHARE,
                   help="share of the hour's raw rows that may repeat an event_id (each counts once)")
    args = p.parse_args(argv)
    if not args.hour and not args.serve:
        p.error("give --hour (one or more) or --serve")
    if args.clock_factor <= 0:
        p.error("--clock-factor must be > 0")
    if args.max_active_runs < 1:
        p.error("--max-active-runs must be at least 1")
    return args


def hour_result(spark: SparkSession, args: argparse.Namespace, hour: datetime, run_id: str,
                task: TaskRunner = _once, tries: list[str] | None = None) -> dict:
    """One hour's run as the JSON line the runner prints."""
    result = {"hour": hour.strftime("%Y-%m-%dT%H"), "run_id": run_id}
    try:
        published = run_hour(spark, hour, args.raw, args.quarantine, args.staging, args.curated,
                             run_id, args.max_quarantine_share, args.max_duplicate_share, task, args.markers)
        result.update(ok=True, published=published)
    except (ScriptAssertionFailed, NothingStaged, StagingChanged, AlreadyPublished) as exc:
        result.update(ok=False, published=[], error=str(exc))
        print(f"error: hour {result['hour']}: {exc}; nothing was published", file=sys.stderr)
    if tries is not None:
        result["failed_tries"] = list(tries)
    return result


def serve(spark: SparkSession, args: argparse.Namespace) -> int:
    # The metastore's first use costs tens of seconds: paid before the first hour is asked for, not during it.
    spark.sql("SHOW DATABASES").collect()
    print(json.dumps({"ready": True, "max_active_runs": args.max_active_runs}), flush=True)
    if args.warm_up:  # while no hour is asked for yet; a request sent meanwhile waits on standard input
        warm_up(spark, Path(args.staging) / WARM_UP_FOLDER)
    answering = threading.Lock()

    def answer(request: dict) -> None:
        run_id = request.get("run_id") or new_run_id()
        tries: list[str] = []
        try:
            result = hour_result(spark, args, parse_hour(request["hour"]), run_id,
                                 retrying(args.clock_factor, tries=tries), tries)
        except Exception as exc:  # a step that failed every retry: the run failed, the worker goes on
            print(f"error: hour {request['hour']}: {exc}", file=sys.stderr)
            result = {"hour": request["hour"], "run_id": run_id, "ok": False, "published": [],
                      "error": first_line(exc), "failed_tries": tries}
        if "request" in request:  # answers come in the order runs end: the asker matches them by this
            result["request"] = request["request"]
        with answering:
            print(json.dumps(result), flush=True)

    # Hours run side by side in the one session, at most --max-active-runs at once, as the DAG's runs do.
    with ThreadPoolExecutor(max_workers=args.max_active_runs, thread_name_prefix="hour") as runs:
        for line in sys.stdin:
            if line.strip():
                runs.submit(answer, json.loads(line))
    return 0


WARM_UP_DATABASE = "hourly_warm_up"
WARM_UP_FOLDER = "_warm_up"  # below the staging root, beside the runs' folders
_DATABASE = re.compile(r"\bclickstream\b")
WARM_UP_ROWS = 20


def warm_up(spark: SparkSession, scratch: Path) -> bool:
    """Runs one made-up hour through every step and the check of what would be published, in a database and a
    scratch folder of its own that it removes, and publishes nothing: the first real hour then finds Spark's
    generated code compiled and the metastore's statements prepared (about 8 s of its run otherwise). What a
    killed warm-up left is removed by the next. Its outcome decides nothing: a failure is reported on stderr
    and serving goes on. True when every step ran."""
    hour = datetime(2000, 1, 1, 0, tzinfo=UTC)
    try:
        shutil.rmtree(scratch, ignore_errors=True)
        spark.sql(f"DROP DATABASE IF EXISTS {WARM_UP_DATABASE} CASCADE").collect()
        _made_up_hour(spark, scratch, hour)
        plan = hour_plan(hour, new_run_id(), str(scratch / "raw"), str(scratch / "quarantine"),
                         str(scratch / "staging"), marker={"rows": WARM_UP_ROWS, "quarantined": 0})
        checked = run_steps(spark, plan, script_for=_in_warm_up_database)
        files_to_publish(plan, checked, staged_files(plan))
        return True
    except Exception as exc:  # noqa: BLE001 (a warm-up: the hours that follow are judged on their own)
        print(f"error: the warm-up hour failed, the first hour pays Spark's first-use costs: {first_line(exc)}",
              file=sys.stderr)
        return False
    finally:
        spark.sql(f"DROP DATABASE IF EXISTS {WARM_UP_DATABASE} CASCADE").collect()
        shutil.rmtree(scratch, ignore_errors=True)


def _in_warm_up_database(script: str) -> str:
    return _DATABASE.sub(WARM_UP_DATABASE, script)


def _made_up_hour(spark: SparkSession, root: Path, hour: datetime) -> None:
    """WARM_UP_ROWS raw rows of the hour as the streaming job lays them out, each value made from its column's
    type (no entry is judged: the hourly steps count, they do not validate), and an empty quarantine hour."""
    records = spark.createDataFrame([], "value binary, partition int, offset bigint, timestamp timestamp")
    schema = parse(records)[0].schema  # the raw table's columns and types, from the job's own definition
    partition = {"dt": hour.strftime("%Y-%m-%d"), "hr": hour.strftime("%H")}
    made_up = {T.StringType(): lambda name, i: f"{name}-{i}", T.IntegerType(): lambda _n, i: i,
               T.LongType(): lambda _n, i: i, T.TimestampType(): lambda _n, i: hour + timedelta(seconds=i)}
    rows = [tuple(partition.get(f.name) or made_up[f.dataType](f.name, i) for f in schema.fields)
            for i in range(WARM_UP_ROWS)]
    spark.createDataFrame(rows, schema).write.partitionBy("dt", "hr").parquet(str(root / "raw"))
    for sink in ("raw", "quarantine"):
        presence = Path(hour_presence_marker(str(root / sink), partition["dt"], partition["hr"]))
        presence.parent.mkdir(parents=True, exist_ok=True)
        presence.write_text("")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from jobs.spark_sessions import local_session  # noqa: PLC0415 (keeps --help fast)

    spark = local_session("weblog-hourly", warehouse=args.warehouse, kafka=False)
    if args.serve:
        return serve(spark, args)
    failed = 0
    for hour in args.hour:
        result = hour_result(spark, args, hour, args.run_id or new_run_id())
        failed += not result["ok"]
        print(json.dumps(result), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
