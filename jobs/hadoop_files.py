"""File operations through Hadoop's FileSystem, so the same code works on gs:// (Dataproc) and local paths."""

from __future__ import annotations

import functools
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from pyspark.sql import SparkSession


@functools.cache
def _jvm_class(jvm, name: str):
    """A JVM class, looked up once per JVM: each lookup is a round trip per part of its name (about 1 ms)."""
    return functools.reduce(getattr, name.split("."), jvm)


def _fs_path(spark: SparkSession, path: str):
    hpath = _jvm_class(spark.sparkContext._jvm, "org.apache.hadoop.fs.Path")(path)
    return hpath.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration()), hpath


def _local(fs, hpath) -> Path:
    """The file on this machine's disk behind a path of the local file system (scheme "file"): Python writes,
    lists and moves those itself, as Hadoop's local file system costs a call into the JVM per step and starts a
    chmod process for each file it creates."""
    return Path(str(fs.makeQualified(hpath).toUri().getPath()))


def qualified(spark: SparkSession, path: str) -> str:
    """The path as list_files spells the files below it (scheme included, e.g. file:/tmp/x or gs://b/x)."""
    fs, hpath = _fs_path(spark, path)
    return str(fs.makeQualified(hpath).toString())


def exists(spark: SparkSession, path: str) -> bool:
    fs, hpath = _fs_path(spark, path)
    return bool(fs.exists(hpath))


def write_text(spark: SparkSession, path: str, text: str) -> None:
    """Writes (replaces) a small file in one piece: a reader (the scheduler, the hourly run, a restart) sees
    the old content or the new, never an empty or half-written file."""
    fs, hpath = _fs_path(spark, path)
    scheme = fs.getScheme()
    if scheme == "gs":  # a Cloud Storage object appears whole when its upload completes
        _write(fs, hpath, text)
        return
    # Elsewhere a created file is visible while it is written: write a hidden sibling, then rename it over
    # the target, which a local file system does atomically.
    if scheme == "file":
        # By Python itself: Hadoop's local file system takes about 40 ms for the same (a checksum file, a
        # permission set on each new file, a rename through its FileContext), three times per hour marked.
        target = _local(fs, hpath)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        partial.write_text(text, encoding="utf-8")
        # A checksum file Hadoop's writer left beside the target would no longer match it.
        target.with_name(f".{target.name}.crc").unlink(missing_ok=True)
        os.replace(partial, target)
        return
    jvm = spark.sparkContext._jvm
    partial = jvm.org.apache.hadoop.fs.Path(hpath.getParent(), f".{hpath.getName()}.partial")
    _write(fs, partial, text)
    fs.delete(jvm.org.apache.hadoop.fs.Path(hpath.getParent(), f"..{hpath.getName()}.partial.crc"), False)
    context = jvm.org.apache.hadoop.fs.FileContext.getFileContext(spark.sparkContext._jsc.hadoopConfiguration())
    overwrite = spark.sparkContext._gateway.new_array(jvm.org.apache.hadoop.fs.Options.Rename, 1)
    overwrite[0] = jvm.org.apache.hadoop.fs.Options.Rename.OVERWRITE
    context.rename(fs.makeQualified(partial), fs.makeQualified(hpath), overwrite)


def _write(fs, hpath, text: str) -> None:
    out = fs.create(hpath, True)
    try:
        out.write(bytearray(text.encode("utf-8")))
    finally:
        out.close()


def read_text(spark: SparkSession, path: str) -> str:
    fs, hpath = _fs_path(spark, path)
    stream = fs.open(hpath)
    try:
        jvm = spark.sparkContext._jvm
        return str(jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8"))
    finally:
        stream.close()


def list_files(spark: SparkSession, path: str) -> list[str]:
    """Every file below path (recursively), as full path strings; [] when path does not exist."""
    fs, hpath = _fs_path(spark, path)
    if fs.getScheme() == "file":
        # By Python itself: through Hadoop each file costs four calls into the JVM (about 2 ms), and a batch's
        # staging folder lists two dozen files while the cores wait.
        root, local = str(fs.makeQualified(hpath).toString()).rstrip("/"), _local(fs, hpath)
        if local.is_file():
            return [root]
        # Hadoop's local file system hides the checksum files it writes beside each file (".NAME.crc").
        return sorted(f"{root}/{(Path(folder) / name).relative_to(local).as_posix()}"
                      for folder, _, names in os.walk(local) for name in names
                      if not (name.startswith(".") and name.endswith(".crc")))
    if not fs.exists(hpath):
        return []
    found, it = [], fs.listFiles(hpath, True)
    while it.hasNext():
        found.append(str(it.next().getPath().toString()))
    return found


# Spark reads no file or folder named from these as data (markers, checksums, unfinished writes).
HIDDEN_PREFIXES = ("_", ".")
# A glob for the data files of one folder.
DATA_FILE = f"[!{''.join(HIDDEN_PREFIXES)}]*"


def data_files(spark: SparkSession, folder: str) -> list[tuple[str, str]]:
    """(path, path relative to folder) of each file below folder that Spark reads as data: none with a part of
    its relative path named from HIDDEN_PREFIXES."""
    root = qualified(spark, folder).rstrip("/") + "/"
    found = []
    for path in list_files(spark, folder):
        relative = path.removeprefix(root)
        if not any(part.startswith(HIDDEN_PREFIXES) for part in relative.split("/")):
            found.append((path, relative))
    return found


def list_folders(spark: SparkSession, pattern: str) -> list[str]:
    """The folders matching a glob pattern (e.g. gs://b/events/dt=*/hr=*), as full path strings."""
    fs, hpath = _fs_path(spark, pattern)
    return [str(status.getPath().toString()) for status in (fs.globStatus(hpath) or []) if status.isDirectory()]


def delete(spark: SparkSession, path: str) -> None:
    fs, hpath = _fs_path(spark, path)
    fs.delete(hpath, True)


def rename(spark: SparkSession, source: str, target: str) -> None:
    """Moves one file (on GCS: a copy, then a delete of the source), creating the target's folder."""
    fs, src = _fs_path(spark, source)
    _, dst = _fs_path(spark, target)
    if fs.getScheme() == "file":  # by Python itself, as list_files: a batch moves a dozen files or more
        local = _local(fs, dst)
        local.parent.mkdir(parents=True, exist_ok=True)
        os.replace(_local(fs, src), local)
        return
    fs.mkdirs(dst.getParent())
    if not fs.rename(src, dst):
        raise OSError(f"could not move {source} to {target}")


def parquet_rows(spark: SparkSession, paths: list[str]) -> list[int]:
    """The rows of each Parquet file, from its footer (the row groups' counts): no data read, no Spark job;
    a few footers at once (on Cloud Storage each is a round trip)."""
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    path_class = _jvm_class(jvm, "org.apache.hadoop.fs.Path")
    input_file = _jvm_class(jvm, "org.apache.parquet.hadoop.util.HadoopInputFile")
    reader_class = _jvm_class(jvm, "org.apache.parquet.hadoop.ParquetFileReader")

    def rows(path: str) -> int:
        reader = reader_class.open(input_file.fromPath(path_class(path), conf))
        try:
            return int(reader.getRecordCount())
        finally:
            reader.close()

    return list(_FOOTER_READERS.map(rows, paths))


# Threads kept for the process: each Python thread talks to the JVM over a connection of its own.
_FOOTER_READERS = ThreadPoolExecutor(max_workers=8, thread_name_prefix="parquet-footers")


def glob_files(spark: SparkSession, pattern: str) -> list[str]:
    """The files matching a glob pattern (e.g. gs://b/events/dt={2026-11-26}/hr={10,11}/[!_.]*), as full paths:
    one listing for many folders."""
    fs, hpath = _fs_path(spark, pattern)
    return [str(status.getPath().toString()) for status in (fs.globStatus(hpath) or []) if status.isFile()]
