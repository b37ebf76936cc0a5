"""Cloud Storage and Dataproc for the DAG's tests, replaced at the network boundary only: the provider's own
GCSHook runs over a storage client backed by a folder per bucket, and submitted Hive jobs run their script
(read from that store, as Dataproc reads gs://) on local Spark SQL through jobs.hourly_local's runner."""

from __future__ import annotations

import base64
import os
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import google_crc32c
from airflow.exceptions import AirflowException
from airflow.providers.google.cloud.hooks.dataproc import DataprocHook
from airflow.providers.google.cloud.hooks.gcs import GCSHook
from google.api_core.exceptions import NotFound, PreconditionFailed
from google.cloud.dataproc_v1 import Job, JobStatus

from jobs.hourly_local import run_script


def _glob_pattern(glob: str) -> re.Pattern:
    """Cloud Storage's match_glob: '**' crosses '/', '*' and '?' do not."""
    parts = re.split(r"(\*\*|\*|\?)", glob)
    table = {"**": ".*", "*": "[^/]*", "?": "[^/]"}
    return re.compile("".join(table.get(part, re.escape(part)) for part in parts) + r"\Z")


class LocalBlob:
    def __init__(self, bucket: LocalBucket, name: str, generation: int | None = None):
        if not name or name.startswith("/") or "//" in name or name.endswith("/"):
            raise ValueError(f"object name {name!r} is not one this store keeps")
        self.bucket, self.name = bucket, name
        self.path = bucket.path / name
        self.pinned_generation = generation

    @property
    def size(self) -> int | None:
        return self.path.stat().st_size if self.path.is_file() else None

    @property
    def generation(self) -> int | None:
        """A new one per write, as Cloud Storage's: the file's modification time in microseconds."""
        return self.path.stat().st_mtime_ns // 1000 if self.path.is_file() else None

    @property
    def updated(self) -> datetime | None:
        """When the live generation was written (the file's modification time)."""
        return datetime.fromtimestamp(self.path.stat().st_mtime, UTC) if self.path.is_file() else None

    @property
    def crc32c(self) -> str | None:
        """Base64 of the big-endian CRC32C, as Cloud Storage reports it."""
        if not self.path.is_file():
            return None
        return base64.b64encode(google_crc32c.value(self.path.read_bytes()).to_bytes(4, "big")).decode()

    def exists(self, retry=None) -> bool:
        return self.path.is_file()

    def download_as_bytes(self, retry=None) -> bytes:
        if not self.path.is_file():
            raise NotFound(f"gs://{self.bucket.name}/{self.name}")
        return self.path.read_bytes()

    def delete(self) -> None:
        if not self.path.is_file():
            raise NotFound(f"gs://{self.bucket.name}/{self.name}")
        self.path.unlink()
        # Cloud Storage has no folders: one disappears with its last object.
        folder = self.path.parent
        while folder != self.bucket.path and not any(folder.iterdir()):
            folder.rmdir()
            folder = folder.parent


@dataclass
class BlobPage:
    blobs: list[LocalBlob]
    next_page_token: str | None
    prefixes: set[str] = field(default_factory=set)

    def __iter__(self):
        return iter(self.blobs)


class LocalBucket:
    copies: ClassVar[list[str]] = []  # every object a copy wrote (each one is a new generation)

    def __init__(self, root: Path, name: str):
        self.name, self.path = name, root / name

    def blob(self, blob_name: str, generation: int | None = None) -> LocalBlob:
        return LocalBlob(self, blob_name, generation)

    def get_blob(self, blob_name: str) -> LocalBlob | None:
        blob = self.blob(blob_name)
        return blob if blob.exists() else None

    def list_blobs(self, max_results=None, page_token=None, prefix=None, delimiter=None, versions=None,
                   match_glob=None, **_) -> BlobPage:
        """In name order, as Cloud Storage lists; a page of max_results names, then a token for the rest."""
        if delimiter or versions:
            raise NotImplementedError("the DAG lists objects without delimiter or versions")
        files = sorted(p.relative_to(self.path).as_posix() for p in self.path.rglob("*") if p.is_file())
        pattern = _glob_pattern(match_glob) if match_glob else None
        names = [n for n in files if n.startswith(prefix or "") and (pattern is None or pattern.match(n))
                 and (page_token is None or n > page_token)]
        page = names[:max_results] if max_results else names
        more = bool(max_results) and len(names) > max_results
        return BlobPage([self.blob(n) for n in page], page[-1] if more else None)

    def copy_blob(self, blob: LocalBlob, destination_bucket: LocalBucket, new_name: str | None = None,
                  source_generation: int | None = None, if_generation_match: int | None = None,
                  **_) -> LocalBlob:
        """Cloud Storage's rewrite: a source generation that is not live is not found; ifGenerationMatch=0
        copies only when the destination name holds no object."""
        if not blob.path.is_file() or source_generation not in (None, blob.generation):
            raise NotFound(f"gs://{self.name}/{blob.name}#{source_generation}")
        target = destination_bucket.blob(new_name or blob.name)
        if if_generation_match is not None and (target.generation or 0) != if_generation_match:
            raise PreconditionFailed(f"gs://{destination_bucket.name}/{target.name}: ifGenerationMatch failed")
        target.path.parent.mkdir(parents=True, exist_ok=True)
        partial = target.path.with_name(f".{target.path.name}.partial")
        partial.write_bytes(blob.path.read_bytes())
        os.replace(partial, target.path)  # an object appears whole or not at all
        self.copies.append(target.name)
        return target


class LocalStorageClient:
    """The part of google.cloud.storage.Client the DAG reaches (through GCSHook or its client)."""

    def __init__(self, root: Path):
        self.root = root

    def bucket(self, bucket_name: str, user_project=None) -> LocalBucket:
        return LocalBucket(self.root, bucket_name)


class LocalGCSHook(GCSHook):
    root: ClassVar[Path]

    def get_conn(self) -> LocalStorageClient:
        return LocalStorageClient(self.root)


@dataclass
class SubmittedJob:
    project_id: str
    region: str
    job: Job
    outcome: Job


_HIVEVAR = re.compile(r"\$\{(?:hivevar:)?([A-Za-z_][A-Za-z0-9_]*)\}")


def substitute_hivevars(script: str, hivevars: dict[str, str]) -> str:
    """${hivevar:NAME} and a bare ${NAME} replaced from the hivevars, as Hive does; an unknown name, and every
    other namespace (${hiveconf:NAME}), stays as written."""
    return _HIVEVAR.sub(lambda m: hivevars.get(m.group(1), m.group(0)), script)


class LocalDataprocHook(DataprocHook):
    """submit_job runs the Hive job's script to its end; wait_for_job reports its outcome as Dataproc does."""

    spark: ClassVar[object]
    root: ClassVar[Path]
    submitted: ClassVar[list[SubmittedJob]] = []

    def submit_job(self, job, project_id, region, request_id=None, retry=None, timeout=None, metadata=()) -> Job:
        job = Job(job)  # the API client builds this message from the dict: field names and types are checked
        bucket, _, name = job.hive_job.query_file_uri.removeprefix("gs://").partition("/")
        script = (self.root / bucket / name).read_text(encoding="utf-8")
        # properties are Hive configuration, read as ${hiveconf:NAME}; script_variables are taken as hivevars,
        # read only as ${hivevar:NAME} or a bare ${NAME} (how Dataproc passes them is not documented: a script
        # must not depend on them). The cluster's GCS connector reads gs://bucket/... from the same store.
        script = substitute_hivevars(script, self.local_paths(job.hive_job.script_variables))
        variables = self.local_paths(job.hive_job.properties)
        job_id = uuid.uuid4().hex
        status = {"state": JobStatus.State.DONE}
        try:
            run_script(self.spark, script, variables)
        except Exception as exc:  # noqa: BLE001 (any failed statement fails the job, as on Dataproc)
            status = {"state": JobStatus.State.ERROR, "details": str(exc)[:2000]}
        outcome = Job(reference={"project_id": project_id, "job_id": job_id}, status=status)
        self.submitted.append(SubmittedJob(project_id, region, job, outcome))
        return outcome

    @classmethod
    def local_paths(cls, settings) -> dict[str, str]:
        return {k: v.replace("gs://", cls.root.as_uri() + "/") for k, v in settings.items()}

    def wait_for_job(self, job_id, project_id, region, wait_time=10, timeout=None) -> None:
        job = next(s.outcome for s in self.submitted if s.outcome.reference.job_id == job_id)
        if job.status.state == JobStatus.State.ERROR:
            raise AirflowException(f"Job failed:\n{job}")
