"""When an hour of raw data is complete, judged from the streaming job's committed batches.

An hour is complete when the time its entries were received has passed the hour's end plus the grace
period: the largest Kafka timestamp the job has committed (the broker's LogAppendTime), minus the grace,
and the largest committed event_time, minus the grace, must both have passed it. Event times alone would
let one source whose clock runs fast (by less than the future bound) close an hour that has not ended;
receipt time alone would close the hours of a replay before its entries are read.
One query writes a batch's entries and its quarantined records
and commits both at once, so an hour's marker implies both are written. Optionally, when no batch has
arrived for `idle` (processing time), the hour of the latest entry is complete too: the stream is
quiet, nothing more is coming for now; a batch still being written is not quiet.

No entry is too late. Every hour from the first one committed (or the one after the last marker) up to the
watermark is marked, however far back: a replay of last week or a stream stopped for days gets all its
hours marked, oldest first, so no hourly run waits for a marker that cannot come. Entries for an hour
already marked (late entries) are still written, to the partition of their own hour; they are counted by
the next run of that hour (a rerun of the hourly DAG), not by the run that has already published it. The
hourly reconciliation compares the published counts with the raw rows present when the check ran.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

HOUR = timedelta(hours=1)


def hour_start(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


def parse_spark_time(text: str) -> datetime:
    """Batch figures give times like 2026-11-26T14:03:07.123Z."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


def partition_hour(path: str) -> datetime | None:
    """The hour of a path below a partition folder .../dt=YYYY-MM-DD/hr=HH/...; None for any other path."""
    parts = dict(p.split("=", 1) for p in path.split("/") if p.startswith(("dt=", "hr=")))
    if not {"dt", "hr"} <= set(parts):
        return None
    return datetime.strptime(f"{parts['dt']}T{parts['hr']}", "%Y-%m-%dT%H").replace(tzinfo=UTC)


def partition_hours(paths: Iterable[str]) -> Iterator[datetime]:
    """The hours of the paths that lie below a partition folder; the others are skipped."""
    return (hour for hour in map(partition_hour, paths) if hour is not None)


def latest_marked_hour(paths: list[str], marker_name: str) -> datetime | None:
    """The start of the latest hour with a marker among the listed files (.../dt=YYYY-MM-DD/hr=HH/<marker_name>),
    where a restarted job resumes marking; None when no hour has one yet."""
    return max(partition_hours(path for path in paths if path.endswith(f"/{marker_name}")), default=None)


def earliest_hour(folders: list[str]) -> datetime | None:
    """The start of the earliest hour among partition folders (.../dt=YYYY-MM-DD/hr=HH); None when none is one."""
    return min(partition_hours(folders), default=None)


@dataclass
class CompletionTracker:
    grace: timedelta
    idle: timedelta | None = None
    # Bounds one call's work (marker writes, one count query); the remaining hours follow on the next call.
    max_hours_per_call: int = 48
    marked_until: datetime | None = None  # start of the last hour already marked (by any run)
    # Before the first marker: the earliest hour already committed (by a run that ended before marking it),
    # from which marking starts even when this run's batches hold only later hours.
    first_hour: datetime | None = None
    # An --available-now run: a pause between its batches is not a quiet stream, so the idle rule waits for
    # the drained signal (else the latest hour could be marked, with part of its rows, between two batches).
    idle_only_when_drained: bool = False
    _settled_max: datetime | None = None
    _received_max: datetime | None = None
    _last_rows_at: float | None = None

    def observe_batch(self, rows: int, event_time_min: str | None, event_time_max: str | None, now: float,
                      received_max: str | None = None) -> None:
        """A committed batch: `rows` records (entries and quarantined ones), its entries' event-time range
        and the latest Kafka timestamp of its records (None: the receipt bound is off, e.g. an accelerated
        sandbox clock, whose event times run ahead of Kafka's by design)."""
        if rows > 0:  # an empty batch is a quiet stream's (a batch with no event time cannot mark an hour)
            self._last_rows_at = now
        if received_max is not None:
            received = parse_spark_time(received_max)
            self._received_max = received if self._received_max is None else max(self._received_max, received)
        if event_time_max is not None:
            first = hour_start(parse_spark_time(event_time_min))
            self.first_hour = first if self.first_hour is None else min(self.first_hour, first)
            latest = parse_spark_time(event_time_max)
            self._settled_max = latest if self._settled_max is None else max(self._settled_max, latest)

    def observe_batch_running(self, now: float) -> None:
        """A batch with entries is being written: however long it takes, the stream is not quiet."""
        self._last_rows_at = now

    def hours_to_mark(self, now: float, drained: bool = False, read_until: datetime | None = None) -> list[datetime]:
        """Starts of the oldest hours (at most max_hours_per_call) that became complete and are not yet
        marked; marks them as done. Call until it returns [] to get them all. read_until: a time (Kafka's
        clock) before which every record has been read, when the stream is quiet or drained: Kafka's time
        then moves on without records."""
        if self._settled_max is None:
            return []
        idle_for = None if self._last_rows_at is None or self.idle_only_when_drained else now - self._last_rows_at
        quiet = self.idle is not None and (drained or (idle_for is not None and idle_for >= self.idle.total_seconds()))
        # A quiet stream: its latest hour too. Otherwise the hours the watermark has passed.
        last = hour_start(self._settled_max) if quiet else hour_start(self._settled_max - self.grace) - HOUR
        if self._received_max is not None:  # nothing is complete before it has been received, plus the grace
            received = max(self._received_max, read_until) if quiet and read_until is not None else self._received_max
            last = min(last, hour_start(received - self.grace) - HOUR)
        first = self.marked_until + HOUR if self.marked_until is not None else self.first_hour
        if first is None:
            return []
        hours = []
        while first <= last and len(hours) < self.max_hours_per_call:
            hours.append(first)
            first += HOUR
        if hours:
            self.marked_until = hours[-1]
        return hours
