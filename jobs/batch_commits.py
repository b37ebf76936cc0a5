"""Exactly-once output of one micro-batch into two folders (raw and quarantine), keyed by the batch id.

Spark's foreachBatch runs a batch at least once: after a crash, the batch whose offsets Spark logged but
did not commit runs again with the same id and the same offsets. Each batch here goes through three steps:

1. stage: both outputs are written by Spark under <checkpoint>/batches/<id>/{events,quarantine}/ (a folder
   no reader looks at), then the list of final names is written to <checkpoint>/batches/<id>/moves.json;
2. move: each staged file is moved to <sink>/dt=.../hr=.../b<id>-<name> (on GCS a copy and a delete);
3. commit: one small object, <checkpoint>/written/<id>.json, with the files and the batch's figures.

The commit object is written after every move: whole or not at all on GCS; locally a kill can leave it
empty or cut short, which counts as not written. A batch id that has it is done: a replay of it writes
nothing. A batch id without it is undone before it runs again: every final name in its moves.json is
deleted, then its staging folder. So each
batch's files end up in the sinks exactly once, whatever step a crash interrupted, without renaming any
folder (GCS has no atomic folder rename). Readers (Hive, BigQuery, Spark) list the partition folders.

The steps have names (STEPS). For a test against the real job, CLICKSTREAM_CRASH_AT=<step>[:<batch id>] ends
the process at once when a batch reaches that step (os._exit: no clean-up, as a kill), after one line on
stderr naming the step and the batch.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass

from pyspark.sql import DataFrame, SparkSession

from jobs import hadoop_files

# Spark's own checkpoint keeps 100 batches by default: only the latest batch can be replayed.
COMMITS_KEPT = 100

# What a batch has done when it reaches each step, in order (a crash there leaves exactly that behind).
STEPS = (
    "staged",     # both outputs written under the staging folder; no moves.json yet
    "listed",     # moves.json written; nothing moved
    "moving",     # the first staged file moved, the others not
    "moved",      # every staged file moved; no commit record
    "committed",  # the commit record written; the staging folder still there
    "cleaned",    # the staging folder deleted; the record COMMITS_KEPT batches back not yet
    "done",       # write_batch finished; Spark has not logged the batch's commit
)
CRASH_AT_ENV = "CLICKSTREAM_CRASH_AT"
CRASH_EXIT_CODE = 86  # distinct from the job's own failures (1, 2) and from a signal's


@dataclass(frozen=True)
class CrashPoint:
    """Where the process ends itself: a step, in one batch or in the first batch that reaches it."""

    step: str
    batch_id: int | None = None

    def reached(self, step: str, batch_id: int) -> None:
        if step == self.step and self.batch_id in (None, batch_id):
            print(f"{CRASH_AT_ENV}: crashing at step {step} of batch {batch_id}", file=sys.stderr, flush=True)
            os._exit(CRASH_EXIT_CODE)


def crash_point_from(environ: Mapping[str, str]) -> CrashPoint | None:
    """The crash point CLICKSTREAM_CRASH_AT asks for (None when unset); ValueError when it names no step."""
    text = environ.get(CRASH_AT_ENV, "")
    if not text:
        return None
    step, _, batch = text.partition(":")
    if step not in STEPS:
        raise ValueError(f"{CRASH_AT_ENV}={text}: unknown step '{step}', expected one of {', '.join(STEPS)} "
                         "optionally followed by :<batch id>")
    if batch and not batch.isdigit():
        raise ValueError(f"{CRASH_AT_ENV}={text}: the batch id after ':' must be a whole number")
    return CrashPoint(step, int(batch) if batch else None)


@dataclass(frozen=True)
class BatchFigures:
    """What a committed batch wrote: the hour-completion tracker is fed from these."""

    batch_id: int
    rows: int
    quarantined: int
    event_time_min: str | None  # like 2026-11-26T14:03:07.123Z, over the valid entries
    event_time_max: str | None
    files: tuple[str, ...] = ()
    received_max: str | None = None  # the latest Kafka timestamp of its records, same form
    event_hours: tuple[str, ...] = ()  # the UTC hours (YYYY-MM-DDTHH) of its entries


# One output of a batch: its frame, None when it has nothing, or a function giving either when its turn comes.
# A row with no dt is written, but not output: it stays in the staging folder (jobs/weblog_parse.py's
# Judging.filed() passes the records that are no entry through the writer, so that they are counted on its rows).
Output = DataFrame | None | Callable[[], DataFrame | None]
# The partition folder's name Spark (as Hive) gives a row whose partition column is null.
NO_HOUR = "__HIVE_DEFAULT_PARTITION__"
# A batch's figures, or a function giving them once its outputs are written, from the partition folders each
# output wrote ({"events": ("dt=2026-11-26/hr=14", ...)}: what the commit lists anyway).
Figures = BatchFigures | Callable[[dict[str, tuple[str, ...]]], BatchFigures]


class BatchLayout:
    def __init__(self, checkpoint: str, sinks: dict[str, str]):
        self.root = checkpoint.rstrip("/")
        self.sinks = {name: path.rstrip("/") for name, path in sinks.items()}

    def staging(self, batch_id: int) -> str:
        return f"{self.root}/batches/{batch_id}"

    def commit_record(self, batch_id: int) -> str:
        return f"{self.root}/written/{batch_id}.json"


def read_record(spark: SparkSession, path: str) -> dict | None:
    """A commit record's body; None when there is none, or when a kill cut its write short (a local file is
    created empty, then written): that batch is not committed, and is undone and run again."""
    if not hadoop_files.exists(spark, path):
        return None
    try:
        body = json.loads(hadoop_files.read_text(spark, path))
    except json.JSONDecodeError:
        return None
    return body if isinstance(body, dict) and "files" in body else None


def committed(spark: SparkSession, layout: BatchLayout, batch_id: int) -> BatchFigures | None:
    body = read_record(spark, layout.commit_record(batch_id))
    if body is None:
        return None
    return BatchFigures(**{**body, "files": tuple(body["files"]), "event_hours": tuple(body.get("event_hours", ()))})


def undo(spark: SparkSession, layout: BatchLayout, batch_id: int) -> list[str]:
    """Removes what an uncommitted attempt of the batch left (moved files, staging); returns the files."""
    staging = layout.staging(batch_id)
    removed = []
    if hadoop_files.exists(spark, f"{staging}/moves.json"):
        for target in json.loads(hadoop_files.read_text(spark, f"{staging}/moves.json")).values():
            if hadoop_files.exists(spark, target):
                hadoop_files.delete(spark, target)
                removed.append(target)
    hadoop_files.delete(spark, staging)
    return removed


def undo_unfinished(spark: SparkSession, layout: BatchLayout) -> list[str]:
    """At start-up: undoes every batch that has a staging folder but no commit record."""
    removed = []
    ids = {int(p.split("/batches/", 1)[1].split("/", 1)[0])
           for p in hadoop_files.list_files(spark, f"{layout.root}/batches")}
    for batch_id in sorted(ids):
        if committed(spark, layout, batch_id) is None:
            removed += undo(spark, layout, batch_id)
        else:  # committed: only the empty staging folder is left
            hadoop_files.delete(spark, layout.staging(batch_id))
    return removed


def write_batch(spark: SparkSession, layout: BatchLayout, batch_id: int,
                prepare: Callable[[], tuple[Figures, dict[str, Output]]],
                at_step: Callable[[str], None] = lambda step: None) -> BatchFigures:
    """Writes the batch exactly once. prepare() returns its figures and its outputs (sink name ->
    DataFrame partitioned by dt and hr, None when empty; its rows with no dt are not output), each of them or a
    function that gives it once the outputs before it are written (the figures' from the partition folders each
    output wrote); it is not called for a committed batch. at_step(name) runs as the batch reaches each of STEPS
    (where a crash is acted out)."""
    done = committed(spark, layout, batch_id)
    if done is not None:
        return done
    undo(spark, layout, batch_id)
    figures, outputs = prepare()
    staging = layout.staging(batch_id)
    moves: dict[str, str] = {}
    folders: dict[str, tuple[str, ...]] = {}
    for name, output in outputs.items():
        frame = output() if callable(output) else output
        if frame is None:
            continue
        # No _SUCCESS object: the commit record says a batch is whole, and the staging folder is deleted (on Cloud
        # Storage one object write less per output and batch, while the executors wait).
        (frame.write.mode("overwrite").option("mapreduce.fileoutputcommitter.marksuccessfuljobs", "false")
         .partitionBy("dt", "hr").parquet(f"{staging}/{name}"))
        written = set()
        for path, relative in hadoop_files.data_files(spark, f"{staging}/{name}"):
            folder, file_name = relative.rsplit("/", 1) if "/" in relative else ("", relative)
            if folder.startswith(f"dt={NO_HOUR}/"):
                continue  # rows of no hour: not output
            moves[path] = "/".join(p for p in (layout.sinks[name], folder, f"b{batch_id}-{file_name}") if p)
            written.add(folder)
        folders[name] = tuple(sorted(written))
    counted = figures(folders) if callable(figures) else figures
    at_step("staged")
    hadoop_files.write_text(spark, f"{staging}/moves.json", json.dumps(moves))
    at_step("listed")
    for n, (source, target) in enumerate(moves.items()):
        hadoop_files.rename(spark, source, target)
        if n == 0:
            at_step("moving")
    at_step("moved")
    done = BatchFigures(**{**asdict(counted), "batch_id": batch_id, "files": tuple(sorted(moves.values()))})
    hadoop_files.write_text(spark, layout.commit_record(batch_id), json.dumps(asdict(done)))  # the commit
    at_step("committed")
    hadoop_files.delete(spark, staging)
    at_step("cleaned")
    hadoop_files.delete(spark, layout.commit_record(batch_id - COMMITS_KEPT))
    at_step("done")
    return done


def committed_files(spark: SparkSession, layout: BatchLayout) -> set[str]:
    """Every file the kept commit records list."""
    files: set[str] = set()
    for path in hadoop_files.list_files(spark, f"{layout.root}/written"):
        if path.endswith(".json") and (body := read_record(spark, path)) is not None:
            files.update(body["files"])
    return files
