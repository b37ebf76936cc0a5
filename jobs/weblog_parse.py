"""Pure transformations of the streaming job: Kafka records in, contract-valid entries and quarantine out.

parse(raw_df) splits a DataFrame with Kafka's source columns (value, partition, offset, timestamp) into
valid entries and quarantined records; optional columns `rejected` (a reason), `received_value` (the
record as received, kept in quarantine) and `input_kind` ("ignored": a record that is no entry, in neither
output) come from an input format that maps records to entries. Every
rule comes from the contract (jobs.weblog_contract); a record gets all the reasons that apply, joined by
"; ", except that an oversized, non-UTF-8 or non-JSON record gets that one reason only (nothing else can
be judged).
"""

from __future__ import annotations

import functools
from datetime import timedelta

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from jobs.weblog_contract import FieldRule, WeblogContract, load_contract

_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"^{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}$"
# The IPv6 pattern of ajv-formats (the generator's validator), so both validators agree on every address.
_IPV4_IN_6 = r"((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3})"
_H = "[0-9a-f]{1,4}"
_IPV6 = (
    rf"(?i)^((({_H}:){{7}}({_H}|:))|(({_H}:){{6}}(:{_H}|{_IPV4_IN_6}|:))"
    rf"|(({_H}:){{5}}(((:{_H}){{1,2}})|:{_IPV4_IN_6}|:))"
    rf"|(({_H}:){{4}}(((:{_H}){{1,3}})|((:{_H})?:{_IPV4_IN_6})|:))"
    rf"|(({_H}:){{3}}(((:{_H}){{1,4}})|((:{_H}){{0,2}}:{_IPV4_IN_6})|:))"
    rf"|(({_H}:){{2}}(((:{_H}){{1,5}})|((:{_H}){{0,3}}:{_IPV4_IN_6})|:))"
    rf"|(({_H}:){{1}}(((:{_H}){{1,6}})|((:{_H}){{0,4}}:{_IPV4_IN_6})|:))"
    rf"|(:(((:{_H}){{1,7}})|((:{_H}){{0,5}}:{_IPV4_IN_6})|:)))$"
)
_FORMAT_CHECKS = {"uuid": (_UUID, "a UUID"), "ipv4": (_IPV4, "an IPv4 address"), "ipv6": (_IPV6, "an IPv6 address")}

# Optional columns of raw_df: why the record is not an entry (it goes to quarantine), the record as
# received when `value` holds the entry an input format made of it, and what the format made of it.
REJECTED, RECEIVED, INPUT_KIND = "rejected", "received_value", "input_kind"
IGNORED = "ignored"  # an input_kind: no entry and nothing wrong (an access log's asset line), counted only
# What judge() decided for a record: one of VALID (raw), QUARANTINED or IGNORED (neither output).
OUTCOME, VALID, QUARANTINED = "outcome", "valid", "quarantined"
_FROM_INPUT_FORMAT = ((REJECTED, "string"), (RECEIVED, "binary"), (INPUT_KIND, "string"))
# How far before the time Kafka received it an entry's event_time may lie: a replay of last month's logs
# (up to 62 days back) is admitted; a zero or reset clock (year 1, 1899, 1970) is not.
DEFAULT_MAX_PAST = timedelta(days=62)
KAFKA_COLUMNS = ["kafka_partition", "kafka_offset", "kafka_timestamp", "ingest_time"]
QUARANTINE_COLUMNS = ["raw_value", "reason", *KAFKA_COLUMNS, "dt", "hr"]


def valid_columns(contract: WeblogContract) -> list[str]:
    """Columns of the raw Parquet, in order; dt and hr are the partition columns."""
    return [*contract.names, *KAFKA_COLUMNS, "dt", "hr"]


def event_timestamp(text: Column) -> Column:
    """An RFC 3339 date-time (any fraction, Z or any offset, 't'/'z' in either case; the contract's pattern
    has checked the shape) as a UTC timestamp truncated to milliseconds; null for a day or time that does
    not exist. Spark's cast reads the offsets; it keeps at most microseconds, so longer fractions are cut."""
    upper = F.upper(text)
    # A fraction of 7 or more digits makes the text at least 28 characters long; shorter text is left as is.
    six_digits = F.when(F.length(text) >= 28, F.regexp_replace(upper, r"(\.[0-9]{6})[0-9]+", "$1")).otherwise(upper)
    return F.date_trunc("millisecond", F.to_timestamp(six_digits))


def parse(
    raw_df: DataFrame,
    contract: WeblogContract | None = None,
    max_future: timedelta | None = timedelta(hours=1),
    max_past: timedelta | None = DEFAULT_MAX_PAST,
) -> tuple[DataFrame, DataFrame]:
    """Returns (valid_df, bad_df). max_future / max_past: how far event_time may lie after / before the
    Kafka record's timestamp (None: no bound); a zero or reset clock (year 1, 1970) and a clock from the
    future are quarantined instead of filing entries under hours nobody will ever run."""
    contract = contract or load_contract()
    return split(judge(raw_df, contract, max_future, max_past), contract)


def judge(raw_df: DataFrame, contract: WeblogContract, max_future: timedelta | None,
          max_past: timedelta | None = DEFAULT_MAX_PAST, reasons: Column | None = None) -> DataFrame:
    """Every record once through the contract's rules: the parsed entry, its Kafka columns, its input kind,
    its reasons ("" when valid) and its OUTCOME; the record as received is kept only for rejected ones.
    split() makes the outputs. reasons: reasons_column() of the same arguments, for a caller judging batch
    after batch (building it costs a fifth of a second of calls into the JVM)."""
    if raw_df.sparkSession.conf.get("spark.sql.session.timeZone") != "UTC":
        raise ValueError("parse needs spark.sql.session.timeZone=UTC: partitions are UTC hours")

    judged = (
        prepared(raw_df, contract)
        # Every reason that applies, joined; "" for a valid entry (no null-if-empty, which would repeat the rules).
        .withColumn("reasons", F.coalesce(F.col(REJECTED), reasons if reasons is not None
                                         else reasons_column(contract, max_future, max_past)))
        # A non-deterministic column, used by the filters below, stops the optimizer from pushing them
        # into this projection, which would inline (and so re-evaluate) the JSON parsing once per rule.
        .withColumn("_barrier", F.spark_partition_id())
    )
    # The hour a rejected record is filed under: its event hour when its event time parses and lies within
    # the bounds (a replayed log's bad lines count against their own hours), else the hour Kafka received it.
    time_spec = next((f.spec for f in contract.fields if f.name == "event_time"), {})
    in_bounds = F.col("event_ts").isNotNull() & F.col("entry.event_time").rlike(time_spec.get("pattern", ""))
    if max_future is not None:
        in_bounds = in_bounds & (F.col("event_ts") <= F.col("kafka_timestamp") + _interval(max_future))
    if max_past is not None:
        in_bounds = in_bounds & (F.col("event_ts") >= F.col("kafka_timestamp") - _interval(max_past))
    return judged.select(
        "entry", "event_ts", *KAFKA_COLUMNS, "reasons", "_barrier", INPUT_KIND,
        # A valid entry is filed under its event hour: the bounds are judged for rejected records only.
        F.when((F.col("reasons") == "") | in_bounds, F.col("event_ts")).otherwise(F.col("kafka_timestamp"))
        .alias("filed_at"),
        F.when(F.col(INPUT_KIND) == IGNORED, F.lit(IGNORED)).when(F.col("reasons") == "", F.lit(VALID))
        .otherwise(F.lit(QUARANTINED)).alias(OUTCOME),
        F.when(F.col("reasons") != "", F.coalesce(RECEIVED, "raw_value")).alias("raw_value"),
    )


def prepared(raw_df: DataFrame, contract: WeblogContract) -> DataFrame:
    """What the rules read: each record's Kafka columns, its text, the parsed entry, its keys and event_ts."""
    return (
        raw_df.select(
            F.col("value").alias("raw_value"),
            F.col("partition").alias("kafka_partition"),
            F.col("offset").alias("kafka_offset"),
            F.col("timestamp").alias("kafka_timestamp"),
            F.current_timestamp().alias("ingest_time"),
            # An input format that maps records to entries (jobs/access_log.py) may set why a record is not
            # one, and the record as received, which quarantine keeps instead of the mapped entry.
            *[(F.col(c) if c in raw_df.columns else F.lit(None).cast(t)).alias(c) for c, t in _FROM_INPUT_FORMAT],
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
        .withColumn("event_ts", event_timestamp(F.col("entry.event_time")))
    )


def split(judged: DataFrame, contract: WeblogContract) -> tuple[DataFrame, DataFrame]:
    """(valid_df, bad_df) from judge()'s frame; ignored records are in neither."""
    kept = F.col("_barrier") >= 0

    valid = judged.where((F.col(OUTCOME) == VALID) & kept).select(
        *[
            F.col("event_ts").alias(name) if name == "event_time" else F.col(f"entry.{name}").alias(name)
            for name in contract.names
        ],
        *KAFKA_COLUMNS,
        # The UTC hour of the normalised time (the session's time zone is checked to be UTC above).
        F.date_format("event_ts", "yyyy-MM-dd").alias("dt"),
        F.date_format("event_ts", "HH").alias("hr"),
    )
    bad = judged.where((F.col(OUTCOME) == QUARANTINED) & kept).select(
        "raw_value",
        F.col("reasons").alias("reason"),
        *KAFKA_COLUMNS,
        F.date_format("filed_at", "yyyy-MM-dd").alias("dt"),
        F.date_format("filed_at", "HH").alias("hr"),
    )
    return valid, bad


def reasons_column(contract: WeblogContract, max_future: timedelta | None, max_past: timedelta | None) -> Column:
    """Every reason an entry breaks a rule for, joined; "" for a valid entry (over prepared()'s frame)."""
    size = F.length("raw_value")
    utf8 = F.expr("encode(text, 'UTF-8') = raw_value")  # invalid bytes decode to U+FFFD, so differ
    content = F.concat_ws("; ", *content_rules(contract, max_future, max_past))
    return (
        F.when(size > contract.max_entry_bytes,
               F.format_string(f"entry of %d bytes is over the {contract.max_entry_bytes}-byte limit", size))
        .when(~utf8, F.lit("not UTF-8"))
        .when(F.col("keys").isNull(), F.lit("not a JSON object"))
        .otherwise(content)
    )


def content_rules(contract: WeblogContract, max_future: timedelta | None,
                  max_past: timedelta | None) -> list[Column]:
    """One column per rule over prepared()'s frame: its reason when the entry breaks it, else null."""
    known = F.array(*[F.lit(n) for n in contract.names])
    unexpected = F.array_except(F.col("keys"), known)
    reasons = [F.when(~_has_key(name), F.lit(f"missing field {name}")) for name in contract.required]
    # A canonical entry's keys are the contract's: none unexpected.
    reasons.append(F.when(~F.col("canonical") & (F.size(unexpected) > 0),
                          F.concat(F.lit("unexpected fields: "), F.array_join(unexpected, ","))))
    for field in contract.fields:
        reasons.extend(_field_reasons(field))
    for rule in contract.conditionals:
        when_null, target = F.col(f"entry.{rule.when_null_field}"), F.col(f"entry.{rule.field}")
        present = _has_key(rule.when_null_field)
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
        limit = F.col("kafka_timestamp") + _interval(max_future)
        reasons.append(F.when(F.col("event_ts") > limit,
                              F.lit(f"event_time more than {max_future} after the Kafka timestamp")))
    if max_past is not None:
        limit = F.col("kafka_timestamp") - _interval(max_past)
        reasons.append(F.when(F.col("event_ts") < limit,
                              F.lit(f"event_time more than {max_past} before the Kafka timestamp")))
    return reasons


def _has_key(name: str) -> Column:
    """The entry has the key: every canonical entry has each of the contract's (no search of its keys)."""
    return F.col("canonical") | F.array_contains(F.col("keys"), name)


def _interval(length: timedelta) -> Column:
    return F.expr(f"INTERVAL {int(length.total_seconds())} SECONDS")


def _field_reasons(field: FieldRule) -> list[Column]:
    name, spec = field.name, field.spec
    value = F.col(f"entry.{name}")
    present = _has_key(name)
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
    if "date-time" in field.formats:
        # event_time is parsed once, as judge()'s event_ts (parsing it again cost a fifth of the rules' time).
        parsed = F.col("event_ts") if name == "event_time" else event_timestamp(value)
        reasons.append(F.when(value.isNotNull() & parsed.isNull(), F.lit(f"{name} is not a valid timestamp")))
    patterns = [_FORMAT_CHECKS[f] for f in field.formats if f in _FORMAT_CHECKS]
    if patterns:
        matches_none = ~functools.reduce(lambda a, b: a | b, [value.rlike(p) for p, _ in patterns])
        reasons.append(F.when(matches_none, F.lit(f"{name} is not {' or '.join(what for _, what in patterns)}")))
    return reasons
