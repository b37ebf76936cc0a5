"""The hourly steps, defined once for the Composer DAG and the local runner (jobs/hourly_local.py).

Which HiveQL script runs, with which variables, in which order, and how staged files are published:
    register_partition -> aggregate_to_staging -> (pin the staged files) compute_check_verdicts
      -> check_quality -> publish, then drop_staging_tables whatever the outcome
Pure Python with no Airflow import: it sits beside the DAG in the Composer dags folder (on sys.path
there) and the local runner imports it as dags.weblog_hourly_steps.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

HIVE_DATABASE = "clickstream"
RUN_ID_PATTERN = re.compile(r"^[0-9A-Za-z_.-]+$")
DEFAULT_MAX_QUARANTINE_SHARE = 0.05
# Every entry delivered twice (a whole log re-shipped once) still publishes; more means a replay loop.
DEFAULT_MAX_DUPLICATE_SHARE = 0.5


# The checks are two steps: one reads the hour's data and records a verdict per check (retried like every
# step that reads data), the other fails the run on a failed verdict (never retried: it would fail the same way).
VERDICTS_TASK_ID = "compute_check_verdicts"
CHECK_TASK_ID = "check_quality"
# How many hours run at once: the DAG's max_active_runs, and the local worker's threads (jobs/hourly_local.py).
MAX_ACTIVE_RUNS = 3


@dataclass(frozen=True)
class HourlyStep:
    task_id: str
    script: str  # file name in jobs/


HOURLY_STEPS: tuple[HourlyStep, ...] = (
    HourlyStep("register_partition", "hourly_register_partition.hql"),
    HourlyStep("aggregate_to_staging", "hourly_aggregate.hql"),
    HourlyStep(VERDICTS_TASK_ID, "hourly_checks.hql"),
    HourlyStep(CHECK_TASK_ID, "hourly_check_verdicts.hql"),
)
# The run's teardown in the metastore: drops the staging tables of the checks, whatever the steps' outcome.
STAGING_TABLES_TEARDOWN = HourlyStep("drop_staging_tables", "hourly_drop_staging.hql")
# Lists the run's staging place just before the checks read it: publish copies exactly these generations.
PIN_TASK_ID = "pin_checked_files"
PUBLISH_TASK_ID = "publish"

# The retry policy of the hourly run's tasks, applied by Airflow in the DAG and by the local runner's worker.
RETRIES = 2
RETRY_DELAY = timedelta(minutes=5)
# A failed data-quality check fails the same way again: only the steps where a retry can help are retried.
NOT_RETRIED = frozenset({CHECK_TASK_ID})


def retries_of(task_id: str) -> int:
    return 0 if task_id in NOT_RETRIED else RETRIES


def retry_delay(retry: int) -> timedelta:
    """The wait before the given retry (1, 2, ...): RETRY_DELAY doubled each time, as Airflow's
    retry_exponential_backoff does (without its jitter)."""
    return RETRY_DELAY * 2 ** (retry - 1)


def parse_hour(text: str) -> datetime:
    """'YYYY-MM-DDTHH' (UTC) -> the hour's start."""
    return datetime.strptime(text, "%Y-%m-%dT%H").replace(tzinfo=UTC)


# Late entries: the streaming job writes <markers>/dt=/hr=/_LATE when it commits entries for an hour it had
# already marked complete. The hour runs again by itself when that notice is newer than the start of the hour's
# latest finished run, within LATE_WINDOW of the hour's end (contract/late-reruns.json holds the cases; the
# sandbox's scheduler, sandbox/schedule/scheduler.ts lateReruns, applies the same rule).
LATE_TASK_ID = "rerun_late_hours"
LATE_WINDOW = timedelta(hours=48)
LATE_NOTICE = re.compile(r"(?:^|/)dt=(\d{4}-\d{2}-\d{2})/hr=(\d{2})/_LATE$")


def late_reruns(last_run_starts: Mapping[str, datetime], notices: Mapping[str, datetime], now: datetime,
                window: timedelta = LATE_WINDOW) -> list[str]:
    """Hours ('YYYY-MM-DDTHH') to run again, oldest first: the hour's late-entry notice was written after its
    latest finished run started (`last_run_starts`; an hour with no finished run is left to the run it has or
    will have), and the hour ended at most `window` before `now`."""
    return sorted(
        hour for hour, written in notices.items()
        if hour in last_run_starts and written > last_run_starts[hour]
        and now - (parse_hour(hour) + timedelta(hours=1)) <= window
    )


def late_notice_hour(name: str) -> str | None:
    """The hour of a late-entry notice's object name, or None for any other object."""
    named = LATE_NOTICE.search(name)
    return f"{named[1]}T{named[2]}" if named else None


def late_notice_prefixes(markers: str, now: datetime, window: timedelta = LATE_WINDOW) -> list[str]:
    """The markers' day folders that can hold a notice of an hour within the window (one listing each)."""
    first = (now - window - timedelta(hours=1)).date()
    return [f"{markers}/dt={first + timedelta(days=d):%Y-%m-%d}/" for d in range((now.date() - first).days + 1)]


def new_run_id(now: datetime | None = None) -> str:
    """Sorts in the order runs started, e.g. 20261126T150512123456Z."""
    return (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def hour_plan(
    hour: datetime,
    run_id: str,
    raw_location: str,
    quarantine_location: str,
    staging_root: str,
    max_quarantine_share: float = DEFAULT_MAX_QUARANTINE_SHARE,
    max_duplicate_share: float = DEFAULT_MAX_DUPLICATE_SHARE,
    marker: dict | None = None,
) -> dict[str, str]:
    """The script variables of every step of one hour's run (also where it stages and publishes). `marker`:
    the hour's _COMPLETE marker (the rows and quarantined records the stream committed for it); without it
    an hour with no raw rows cannot pass its checks."""
    if not RUN_ID_PATTERN.match(run_id):
        raise ValueError(f"run id {run_id!r} must match {RUN_ID_PATTERN.pattern}")
    for name, share in (("quarantine", max_quarantine_share), ("duplicate", max_duplicate_share)):
        if not 0 <= share <= 1:
            raise ValueError(f"max {name} share {share} must be between 0 and 1")
    dt, hr = hour.strftime("%Y-%m-%d"), hour.strftime("%H")
    staging_prefix = f"hourly/dt={dt}/hr={hr}/run_id={run_id}"
    return {
        "DT": dt,
        "HR": hr,
        "HOUR": hour.strftime("%Y-%m-%d %H:00:00"),
        "RUN_ID": run_id,
        "RAW_LOCATION": raw_location.rstrip("/"),
        "QUARANTINE_LOCATION": quarantine_location.rstrip("/"),
        "STAGING_DIR": f"{staging_root.rstrip('/')}/{staging_prefix}",
        # Inside STAGING_DIR: the CSV to publish, and the aggregate's raw row counts, under a '_' folder so it
        # is never published (not its own name: Hadoop's input formats cannot read a location named '_*').
        "STAGED_CSV_DIR": f"{staging_root.rstrip('/')}/{staging_prefix}/hourly_activity",
        "RAW_ROWS_DIR": f"{staging_root.rstrip('/')}/{staging_prefix}/_reconciliation/raw_rows",
        # Beside the runs' staging folders, so the check results of every run outlive its clean-up.
        "CHECK_RESULTS_LOCATION": f"{staging_root.rstrip('/')}/check_results",
        # Hive table names allow letters, digits and underscores only.
        "STAGING_TABLE": "hourly_staging_" + re.sub(r"[^0-9A-Za-z_]", "_", f"{dt}_{hr}_{run_id}"),
        "MAX_QUARANTINE_SHARE": plain_decimal(max_quarantine_share),
        "MAX_DUPLICATE_SHARE": plain_decimal(max_duplicate_share),
        "COMMITTED_ROWS": committed_count(marker, "rows"),
        "COMMITTED_QUARANTINED": committed_count(marker, "quarantined"),
        "CURATED_PREFIX": curated_hour_prefix(dt, hr),
        "CURATED_RUN_PREFIX": f"{curated_hour_prefix(dt, hr)}run_id={run_id}/",
    }


def committed_count(marker: dict | None, field: str) -> str:
    """A marker's count as a HiveQL literal: NULL when there is no marker (every check that needs it fails)."""
    if marker is None:
        return "NULL"
    value = marker.get(field)
    if type(value) is not int or value < 0:
        raise ValueError(f"the hour's marker field {field!r} is {value!r}, not a count")
    return str(value)


def plain_decimal(share: float) -> str:
    """0.00005, never 5e-05: Hive reads an exponent as a DOUBLE, and its strict type checks refuse to compare
    a BIGINT with one; a plain decimal literal is a DECIMAL, which they accept."""
    return format(Decimal(repr(float(share))), "f")  # a float's repr always has a point or an exponent


def curated_hour_prefix(dt: str, hr: str) -> str:
    return f"hourly/dt={dt}/hr={hr}/"


class NothingStaged(ValueError):
    """The run staged no data file: publishing would only delete the hour's earlier output."""


def is_data_file(name: str) -> bool:
    """Hive and Spark leave markers (_SUCCESS), checksums (.crc) and work folders (.hive-staging_hive_*,
    _temporary) beside the data: any name with a part starting with '_' or '.' is not data."""
    parts = name.split("/")
    return bool(parts[-1]) and not any(p.startswith(("_", ".")) for p in parts) and not name.endswith(".crc")


def is_quiet_hour(plan: dict[str, str]) -> bool:
    """The stream committed no entry and no quarantined record for the hour (its marker says 0 and 0)."""
    return plan.get("COMMITTED_ROWS") == "0" and plan.get("COMMITTED_QUARANTINED") == "0"


def publish_names(plan: dict[str, str], staged: list[tuple[str, int]]) -> list[tuple[str, str]]:
    """(staged name, published name) for the run's non-empty data files, named part-NNNNN.csv in order; a
    quiet hour publishes one of its empty data files, so the hour is loaded with zero rows. Raises
    NothingStaged when there is none, before the caller has deleted anything."""
    files = sorted(name for name, size in staged if size > 0 and is_data_file(name))
    if not files and is_quiet_hour(plan):
        files = sorted(name for name, _ in staged if is_data_file(name))[:1]
    if not files:
        raise NothingStaged(f"nothing staged under {plan['STAGING_DIR']}: refusing to publish")
    return [(name, f"{plan['CURATED_RUN_PREFIX']}part-{i:05d}.csv") for i, name in enumerate(files)]


@dataclass(frozen=True)
class StagedFile:
    """An object of the run's staging place: its name under STAGING_DIR, size, generation and checksum."""

    name: str
    size: int
    generation: str
    checksum: str


class StagingChanged(ValueError):
    """The run's staging place holds a data file the checks do not read, or changed after it was pinned."""


def _staged_csv_folder(plan: dict[str, str]) -> str:
    return plan["STAGED_CSV_DIR"].removeprefix(plan["STAGING_DIR"]).strip("/") + "/"


def _read_by_checks(plan: dict[str, str], name: str) -> bool:
    """The checks read the staged CSV's data files and the aggregate's raw row counts (a '_' folder)."""
    counts = plan["RAW_ROWS_DIR"].removeprefix(plan["STAGING_DIR"]).strip("/") + "/"
    return is_data_file(name) or (name.startswith(counts) and is_data_file(name.removeprefix(counts)))


def checked_files(plan: dict[str, str], staged: list[StagedFile]) -> list[StagedFile]:
    """The files the checks read, pinned before they run. A data file anywhere else in the run's staging
    place fails the run, by name: only what the checks read may be published."""
    csv_folder = _staged_csv_folder(plan)
    foreign = sorted(f.name for f in staged if is_data_file(f.name) and not f.name.startswith(csv_folder))
    if foreign:
        raise StagingChanged(f"the run's staging place {plan['STAGING_DIR']} holds files the checks do not read: "
                             f"{', '.join(foreign)}; nothing was published")
    return sorted((f for f in staged if _read_by_checks(plan, f.name)), key=lambda f: f.name)


def files_to_publish(plan: dict[str, str], checked: list[StagedFile],
                     staged_now: list[StagedFile]) -> list[tuple[StagedFile, str]]:
    """(checked file, published name) for the non-empty data files the checks read, named part-NNNNN.csv in
    order. Raises StagingChanged, naming the files, when what is staged now is not exactly what was pinned
    (a file added, removed or rewritten), and NothingStaged when there is nothing to publish; both before
    the caller has copied or deleted anything."""
    now = {f.name: f for f in checked_files(plan, staged_now)}
    pinned = {f.name: f for f in checked}
    changed = sorted(n for n in now.keys() | pinned.keys() if now.get(n) != pinned.get(n))
    if changed:
        raise StagingChanged(f"the run's staging place {plan['STAGING_DIR']} changed after its files were pinned "
                             f"for the checks: {', '.join(changed)}; nothing was published")
    csv_folder = _staged_csv_folder(plan)
    names = publish_names(plan, [(f.name, f.size) for f in checked if f.name.startswith(csv_folder)])
    return [(pinned[staged], target) for staged, target in names]


def stale_published(plan: dict[str, str], existing: list[str]) -> list[str]:
    """Objects of earlier runs of the hour: a rerun replaces the hour's published output. Only runs that
    started before this one: a later run of the hour that happened to publish first is the latest and stays
    (the loader may not have read its objects yet)."""
    runs = plan["CURATED_PREFIX"] + "run_id="
    return [
        name for name in existing
        if name.startswith(runs) and name.removeprefix(runs).split("/", 1)[0] < plan["RUN_ID"]
    ]


# The reconciliation of published objects with the loader's lineage: Eventarc retries an event for 24 hours
# and then drops it, so a window of 72 looks past its give-ups; an object published less than an hour ago may
# simply not be loaded yet.
RECONCILE_TASK_ID = "reconcile_lineage"
RECONCILE_WINDOW = timedelta(hours=72)
RECONCILE_GRACE = timedelta(hours=1)
PUBLISHED_OBJECT = re.compile(r"^hourly/dt=(\d{4}-\d{2}-\d{2})/hr=(\d{2})/run_id=[0-9A-Za-z_.-]+/part-\d{5}\.csv$")
# contract/log-lines.json's notLoaded: one line per published object whose live generation has no lineage row.
NOT_LOADED_LINE = "published object not loaded: "


@dataclass(frozen=True)
class PublishedObject:
    name: str
    generation: str
    updated: datetime


def reconcile_prefixes(now: datetime) -> list[str]:
    """The curated bucket's day folders that can hold an hour of the window (listing each is one request)."""
    first = (now - RECONCILE_WINDOW).date()
    days = (now.date() - first).days
    return [f"hourly/dt={first + timedelta(days=d):%Y-%m-%d}/" for d in range(days + 1)]


def objects_without_lineage(published: list[PublishedObject], loaded: set[tuple[str, str]],
                            now: datetime) -> list[PublishedObject]:
    """Published hourly objects of the window, older than the grace, whose live generation has no lineage row
    (never delivered, delivered while the loader was down past Eventarc's retries, or rejected)."""
    since = now - RECONCILE_WINDOW
    missing = []
    for obj in published:
        named = PUBLISHED_OBJECT.match(obj.name)
        if named is None:
            continue
        hour = parse_hour(f"{named[1]}T{named[2]}")
        if hour >= since and obj.updated <= now - RECONCILE_GRACE and (obj.name, obj.generation) not in loaded:
            missing.append(obj)
    return sorted(missing, key=lambda o: o.name)


def not_loaded_line(bucket: str, obj: PublishedObject) -> str:
    return NOT_LOADED_LINE + json.dumps({"bucket": bucket, "object": obj.name, "generation": obj.generation,
                                         "published": obj.updated.isoformat()})
