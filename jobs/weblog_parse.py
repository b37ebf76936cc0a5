"""Pure transformations of the streaming job: Kafka records in, contract-valid entries and quarantine out.

parse(raw_df) splits a DataFrame with Kafka's source columns (value, partition, offset, timestamp) into
valid entries and quarantined records. Every rule comes from the contract (jobs.weblog_contract); a
record gets all the reasons that apply, joined by "; ", except that an oversized, non-UTF-8 or non-JSON
record gets that one reason only (nothing else can be judged).
"""

from __future__ import annotations

from datetime import timedelta

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.weblog_contract import FieldRule, WeblogContract, load_contract

# RFC 3339 UTC with milliseconds, as the contract's event_time pattern requires.
EVENT_TIME_FORMAT = "yyyy-MM-dd'T'HH:mm:ss.SSSX"
_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"^{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}$"

KAFKA_COLUMNS = ["kafka_partition", "kafka_offset", "kafka_timestamp", "ingest_time"]
QUARANTINE_COLUMNS = ["raw_value", "reason", *KAFKA_COLUMNS, "dt", "hr"]


def valid_columns(contract: WeblogContract) -> list[str]:
    """Columns of the raw Parquet, in order; dt and hr are the partition columns."""
    return [*contract.names, *KAFKA_COLUMNS, "dt", "hr"]


def parse(
    raw_df: DataFrame,
    contract: WeblogContract | None = None,
    max_future: timedelta | None = timedelta(hours=1),
) -> tuple[DataFrame, DataFrame]:
    """Returns (valid_df, bad_df). max_future: how far event_time may lie after the Kafka record's
    timestamp; a far-future timestamp would otherwise push the watermark and mark real hours complete."""
    contract = contract or load_contract()
    return split(judge(raw_df, contract, max_future), contract)


def judge(raw_df: DataFrame, contract: WeblogContract, max_future: timedelta | None) -> DataFrame:
    """Every record once through the contract's rules: the parsed entry, its Kafka columns and its
    reasons ("" when valid); the raw value is kept only for rejected records. split() makes the outputs,
    so a caller can cache this frame and write both outputs from one evaluation of the rules."""
    if raw_df.sparkSession.conf.get("spark.sql.session.timeZone") != "UTC":
        raise ValueError("parse needs spark.sql.session.timeZone=UTC: partitions are UTC hours")

    judged = (
        raw_df.select(
            F.col("value").alias("raw_value"),
            F.col("partition").alias("kafka_partition"),
            F.col("offset").alias("kafka_offset"),
            F.col("timestamp").alias("kafka_timestamp"),
            F.current_timestamp().alias("ingest_time"),
        )
        .withColumn("text", F.expr("decode(raw_value, 'UTF-8')"))
        .withColumn("entry", F.from_json("text", contract.spark_schema()))
        # An entry written exactly as Spark writes the parsed entry back (the contract's keys in order,
        # compact, each string quoted: what the generator sends) has every key and every type right, so
        # its keys are known without a second parse and its text needs no search for quoted values.
        .withColumn("canonical", F.coalesce(
            F.to_json("entry", {"ignoreNullFields": "false"}) == F.col("text"), F.lit(False)))
        .withColumn("keys", F.when(F.col("canonical"), F.array(*[F.lit(n) for n in contract.names]))
                    .otherwise(F.json_object_keys("text")))
        .withColumn("event_ts", F.to_timestamp("entry.event_time", EVENT_TIME_FORMAT))
        # Every reason that applies, joined; "" for a valid entry (no null-if-empty, which would repeat the rules).
        .withColumn("reasons", _reasons(contract, max_future))
        # A non-deterministic column, used by the filters below, stops the optimizer from pushing them
        # into this projection, which would inline (and so re-evaluate) the JSON parsing once per rule.
        .withColumn("_barrier", F.spark_partition_id())
    )
    return judged.select(
        "entry", "event_ts", *KAFKA_COLUMNS, "reasons", "_barrier",
        F.when(F.col("reasons") != "", F.col("raw_value")).alias("raw_value"),
    )


def split(judged: DataFrame, contract: WeblogContract) -> tuple[DataFrame, DataFrame]:
    """(valid_df, bad_df) from judge()'s frame."""
    kept = F.col("_barrier") >= 0

    valid = judged.where((F.col("reasons") == "") & kept).select(
        *[
            F.col("event_ts").alias(name) if name == "event_time" else F.col(f"entry.{name}").alias(name)
            for name in contract.names
        ],
        *KAFKA_COLUMNS,
        # From the validated text itself, so partitions never depend on a time zone setting.
        F.substring("entry.event_time", 1, 10).alias("dt"),
        F.substring("entry.event_time", 12, 2).alias("hr"),
    )
    bad = judged.where((F.col("reasons") != "") & kept).select(
        "raw_value",
        F.col("reasons").alias("reason"),
        *KAFKA_COLUMNS,
        # A rejected entry has no trustworthy event time: it is filed under the hour Kafka received it.
        F.date_format("kafka_timestamp", "yyyy-MM-dd").alias("dt"),
        F.date_format("kafka_timestamp", "HH").alias("hr"),
    )
    return valid, bad


def _reasons(contract: WeblogContract, max_future: timedelta | None) -> Column:
    size = F.length("raw_value")
    utf8 = F.expr("encode(text, 'UTF-8') = raw_value")  # invalid bytes decode to U+FFFD, so differ
    content = F.concat_ws("; ", *_content_reasons(contract, max_future))
    return (
        F.when(size > contract.max_entry_bytes,
               F.format_string(f"entry of %d bytes is over the {contract.max_entry_bytes}-byte limit", size))
        .when(~utf8, F.lit("not UTF-8"))
        .when(F.col("keys").isNull(), F.lit("not a JSON object"))
        .otherwise(content)
    )


def _content_reasons(contract: WeblogContract, max_future: timedelta | None) -> list[Column]:
    keys = F.col("keys")
    known = F.array(*[F.lit(n) for n in contract.names])
    unexpected = F.array_except(keys, known)
    reasons = [
        F.when(~F.array_contains(keys, name), F.lit(f"missing field {name}")) for name in contract.required
    ]
    reasons.append(F.when(F.size(unexpected) > 0, F.concat(F.lit("unexpected fields: "),
                                                          F.array_join(unexpected, ","))))
    for field in contract.fields:
        reasons.extend(_field_reasons(field))
    for rule in contract.conditionals:
        when_null, target = F.col(f"entry.{rule.when_null_field}"), F.col(f"entry.{rule.field}")
        present = F.array_contains(keys, rule.when_null_field)
        reasons.append(F.when(present & when_null.isNull() & (target != rule.value_if_null),
                              F.lit(f"{rule.field} must be {rule.value_if_null} when {rule.when_null_field} "
                                    "is null")))
        reasons.append(F.when(when_null.isNotNull() & (target != rule.value_otherwise),
                              F.lit(f"{rule.field} must be {rule.value_otherwise} when "
                                    f"{rule.when_null_field} is set")))
    for field, other in contract.equal_when_set:
        reasons.append(F.when(F.col(f"entry.{field}") != F.col(f"entry.{other}"),
                              F.lit(f"{field} differs from {other}")))
    if max_future is not None:
        limit = F.col("kafka_timestamp") + F.expr(f"INTERVAL {int(max_future.total_seconds())} SECONDS")
        reasons.append(F.when(F.col("event_ts") > limit,
                              F.lit(f"event_time more than {max_future} after the Kafka timestamp")))
    return reasons


def _field_reasons(field: FieldRule) -> list[Column]:
    name, spec = field.name, field.spec
    value = F.col(f"entry.{name}")
    present = F.array_contains(F.col("keys"), name)
    reasons: list[Column] = []
    if field.json_type == "string":
        # from_json turns any JSON value into a string, so the type is checked on the text: the
        # value after the key must open a quote (a key inside another string is preceded by a backslash).
        # Inside a JSON string every quote is escaped, so a key opened right after "{" or "," and followed by
        # a quote, written compact or with Python's and Jackson's single spaces, is exactly what the regular
        # expression finds: plain substring searches settle almost every entry, the expression the rest.
        quoted = F.col("canonical")
        for opening in ("{", ",", ", "):
            for colon in (":", ": "):
                quoted = quoted | (F.instr("text", f'{opening}"{name}"{colon}"') > 0)
        quoted = quoted | F.col("text").rlike(rf'(?<!\\)"{name}"\s*:\s*"')
        reasons.append(F.when(present & value.isNotNull() & ~quoted, F.lit(f"{name} is not a string")))
    else:
        # Spark yields null for a mistyped number; for a nullable field, a literal JSON null is fine.
        mistyped = present & value.isNull()
        if field.nullable:
            mistyped = mistyped & ~F.col("text").rlike(rf'(?<!\\)"{name}"\s*:\s*null')
        reasons.append(F.when(mistyped, F.lit(f"{name} is not an integer")))
    if field.json_type == "string" and not field.nullable:
        reasons.append(F.when(present & value.isNull(), F.lit(f"{name} is null")))
    checks = {
        "pattern": value.rlike,
        "enum": value.isin,
        "const": lambda c: value == F.lit(c),
        "minLength": lambda n: F.char_length(value) >= n,
        "maxLength": lambda n: F.char_length(value) <= n,
        "minimum": lambda n: value >= n,
        "maximum": lambda n: value <= n,
    }
    for keyword, check in checks.items():
        if keyword in spec:
            reasons.append(F.when(~check(spec[keyword]), F.lit(f"{name} violates {keyword} {spec[keyword]}")))
    fmt = spec.get("format")
    if fmt == "uuid":
        reasons.append(F.when(~value.rlike(_UUID), F.lit(f"{name} is not a UUID")))
    elif fmt == "ipv4":
        reasons.append(F.when(~value.rlike(_IPV4), F.lit(f"{name} is not an IPv4 address")))
    elif fmt == "date-time":
        reasons.append(F.when(value.isNotNull() & F.to_timestamp(value, EVENT_TIME_FORMAT).isNull(),
                              F.lit(f"{name} is not a valid timestamp")))
    return reasons
