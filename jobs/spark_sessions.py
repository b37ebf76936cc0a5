"""SparkSessions for the jobs: the cluster's own when launched by spark-submit, else a local one.

Local sessions get the contract's compiled judge (jobs/judge, built by setup), the Kafka connector jars
resolved by scripts/setup.d/40-spark-jars.sh (no download at run time) and, for the hourly steps, Hive
support with an embedded Derby metastore under a warehouse folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pyspark import __version__ as SPARK_VERSION  # the connector jars are resolved for this version
from pyspark.sql import SparkSession


def kafka_jars() -> list[str]:
    cache = Path(os.environ.get("CLICKSTREAM_CACHE", Path.home() / ".cache" / "clickstream-pipeline"))
    jar_dir = Path(os.environ.get("CLICKSTREAM_SPARK_JARS", cache / "spark-jars" / SPARK_VERSION))
    jars = sorted(str(p) for p in jar_dir.glob("*.jar"))
    if not jars:
        raise FileNotFoundError(f"no Kafka connector jars in {jar_dir}: run scripts/setup.d/40-spark-jars.sh")
    return jars


def judge_jar() -> str:
    """The compiled contract judge (jobs/judge), built by scripts/setup.d/45-weblog-judge.sh."""
    jar = Path(__file__).resolve().parent.parent / "build" / "weblog-judge.jar"
    if not jar.exists():
        raise FileNotFoundError(f"no {jar}: run npm run setup (scripts/setup.d/45-weblog-judge.sh builds it)")
    return str(jar)


def class_archive_options() -> list[str]:
    """The JVM option that maps the local Spark driver's class-data archive (scripts/setup.d/80-jvm-class-archives.sh,
    a session's start: 4.9 s to 2.8 s); none before setup has made it, and the JVM starts as before."""
    archive = Path(sys.prefix) / "spark-classes.jsa"  # beside pyspark's jars, in the virtual environment
    return [f"-XX:SharedArchiveFile={archive}"] if archive.exists() else []


def launched_by_spark_submit() -> bool:
    # spark-submit (Dataproc) starts the JVM first and hands Python its gateway port.
    return "PYSPARK_GATEWAY_PORT" in os.environ


def job_session(app_name: str, warehouse: str | None = None, kafka: bool = False) -> SparkSession:
    """The session a job's main uses: the cluster's under spark-submit, otherwise local_session."""
    if launched_by_spark_submit():
        builder = SparkSession.builder.appName(app_name)
        if warehouse is not None:
            builder = builder.enableHiveSupport()
        spark = builder.getOrCreate()
        spark.conf.set("spark.sql.session.timeZone", "UTC")
        return spark
    return local_session(app_name, warehouse=warehouse, kafka=kafka)


def local_session(
    app_name: str,
    warehouse: str | None = None,
    kafka: bool = True,
    master: str = "local[2]",
    shuffle_partitions: int = 2,
) -> SparkSession:
    """A local session. warehouse: folder for the Hive warehouse (Hive support off if None)."""
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        # Local runs stay on the loopback interface.
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", str(shuffle_partitions))
        .config("spark.driver.memory", os.environ.get("CLICKSTREAM_SPARK_DRIVER_MEMORY", "2g"))
        .config("spark.sql.streaming.stopGracefullyOnShutdown", "true")
        # A streaming query writes two small files a batch (its offset and commit logs). Spark's default writes
        # them through Hadoop's FileContext, which on a local disk starts a chmod process for each (Hadoop has no
        # native library here): 40 ms a file. The FileSystem-based manager writes the same file under a temporary
        # name and renames it, which a local disk does atomically: the 3M benchmark's job 0.3-0.8 s faster.
        .config("spark.sql.streaming.checkpointFileManagerClass",
                "org.apache.spark.sql.execution.streaming.FileSystemBasedCheckpointFileManager")
    )
    builder = builder.config("spark.jars", ",".join([judge_jar(), *(kafka_jars() if kafka else [])]))
    if warehouse is not None:
        home = Path(warehouse).resolve()
        home.mkdir(parents=True, exist_ok=True)
        builder = (
            builder.enableHiveSupport()
            .config("spark.sql.warehouse.dir", str(home / "warehouse"))
            # The metastore lives in memory: every hourly run declares its tables and re-adds its
            # partitions (jobs/hourly_register_partition.hql), so nothing needs to outlive the JVM, and
            # several local JVMs never contend for one Derby folder.
            .config("spark.hadoop.javax.jdo.option.ConnectionURL", "jdbc:derby:memory:metastore;create=true")
            .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={home}")
        )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("WARN")
    return spark
