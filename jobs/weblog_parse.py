"""Pure transformations of the streaming job: Kafka records in, contract-valid entries and quarantine out.

parse(raw_df) splits a DataFrame with Kafka's source columns (value, partition, offset, timestamp) into
valid entries and quarantined records; optional columns `rejected` (a reason), `received_value` (the
record as received, kept in quarantine) and `input_kind` ("ignored": a record that is no entry, in neither
output) come from an input format that maps records to entries. Every
rule comes from the contract (jobs.weblog_contract); a record gets all the reasons that apply, joined by
"; ", except that an oversized, non-UTF-8 or non-JSON record gets that one reason only (nothing else can
be judged). The rules are written here once, as a program (judge_program), and applied by one compiled
function (jobs/judge, on the session's jars) that reads each record once: its fields as Spark's from_json
reads them, its event time as Spark's cast reads it, and every reason, in a third of from_json's time alone.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.column import _to_java_column, _to_seq

from jobs.weblog_contract import FieldRule, WeblogContract, load_contract

# What each format the judge knows (jobs/judge's WeblogJudge.Format) is called in a reason.
FORMAT_NAMES = {"uuid": "a UUID", "ipv4": "an IPv4 address", "ipv6": "an IPv6 address"}

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
          max_past: timedelta | None = DEFAULT_MAX_PAST, judgement: Column | None = None) -> DataFrame:
    """Every record once through the contract's rules: the parsed entry, its Kafka columns, its input kind,
    its reasons ("" when valid) and its OUTCOME; the record as received is kept only for rejected ones.
    split() makes the outputs. A caller judging batch after batch keeps one Judging instead."""
    return Judging(contract, max_future, max_past, judgement).judge(raw_df)


def split(judged: DataFrame, contract: WeblogContract) -> tuple[DataFrame, DataFrame]:
    """(valid_df, bad_df) from judge()'s frame; ignored records are in neither."""
    return Judging(contract, None, None).split(judged)


class Judging:
    """judge() and split() of one contract and its bounds, for batch after batch: their columns are built once.
    Each column is a call into the JVM (about 0.5 ms), and a batch's frames take about 250 of them: 0.15 s of
    every batch, while the cores wait, when they were built again for each. judgement: judgement_column() of the
    same arguments (built at the first judge() otherwise)."""

    def __init__(self, contract: WeblogContract, max_future: timedelta | None, max_past: timedelta | None,
                 judgement: Column | None = None):
        self.contract, self.max_future, self.max_past = contract, max_future, max_past
        self._judgement = judgement
        self._records: dict[tuple[str, ...], list[Column]] = {}  # the input columns present -> records_columns()

    def judge(self, raw_df: DataFrame) -> DataFrame:
        if raw_df.sparkSession.conf.get("spark.sql.session.timeZone") != "UTC":
            raise ValueError("parse needs spark.sql.session.timeZone=UTC: partitions are UTC hours")
        if self._judgement is None:
            self._judgement = judgement_column(raw_df.sparkSession, self.contract, self.max_future, self.max_past)
        present = tuple(c for c, _ in _FROM_INPUT_FORMAT if c in raw_df.columns)
        if present not in self._records:
            self._records[present] = records_columns(present)
        written_at = batch_time(raw_df.sparkSession, datetime.now(UTC)).alias("ingest_time")
        return (raw_df.select(*self._records[present], written_at).select(*self._judging).select(*self._reading)
                .select(*self._outcome))

    def split(self, judged: DataFrame) -> tuple[DataFrame, DataFrame]:
        return self.valid(judged), self.quarantined(judged)

    def valid(self, judged: DataFrame) -> DataFrame:
        """split()'s first frame: the valid entries in the raw table's columns."""
        return judged.where(self._valid_rows).select(*self._valid)

    def quarantined(self, judged: DataFrame) -> DataFrame:
        return judged.where(self._bad_rows).select(*self._bad)

    def filed(self, judged: DataFrame) -> DataFrame:
        """Every judged record in valid()'s columns, for a writer that also counts what it read: a valid entry under
        its hour, any other record under no hour (dt null) with what it is as its hr (the input format's INPUT_KIND,
        else its OUTCOME), which a batch's commit does not output (jobs/batch_commits.py): the figures can then be
        observed on the very rows the writer takes, with no filter between, so that Spark runs the judging,
        the columns and the write's sort as one piece of generated code (observed before the columns, a second piece
        copied every row once more: 0.09-0.13 s of 500,000 entries in memory, bench/streaming-results.md)."""
        return judged.where(F.col("_barrier") >= 0).select(*self._filed)  # every record: see _judging

    @functools.cached_property
    def _judging(self) -> list[Column]:
        # A non-deterministic column beside the judgement keeps it in a projection of its own: the optimizer
        # neither pushes the filters below into it nor copies it into each of its uses, so each record is judged
        # once.
        return [F.col("*"), self._judgement.alias("judgement"), F.spark_partition_id().alias("_barrier")]

    @functools.cached_property
    def _reading(self) -> list[Column]:
        return [*map(F.col, ["raw_value", *KAFKA_COLUMNS, REJECTED, RECEIVED, INPUT_KIND, "_barrier"]),
                F.col("judgement.entry").alias("entry"),
                F.timestamp_micros("judgement.event_micros").alias("event_ts"),
                # Every reason that applies, joined; "" for a valid entry.
                F.coalesce(REJECTED, "judgement.reasons").alias("reasons")]

    @functools.cached_property
    def _outcome(self) -> list[Column]:
        # The hour a rejected record is filed under: its event hour when its event time parses and lies within
        # the bounds (a replayed log's bad lines count against their own hours), else the hour Kafka received it.
        time_spec = next((f.spec for f in self.contract.fields if f.name == "event_time"), {})
        in_bounds = F.col("event_ts").isNotNull() & F.col("entry.event_time").rlike(
            java_pattern(time_spec.get("pattern", "")))
        if self.max_future is not None:
            in_bounds = in_bounds & (F.col("event_ts") <= F.col("kafka_timestamp") + _interval(self.max_future))
        if self.max_past is not None:
            in_bounds = in_bounds & (F.col("event_ts") >= F.col("kafka_timestamp") - _interval(self.max_past))
        return [
            *map(F.col, ["entry", "event_ts", *KAFKA_COLUMNS, "reasons", "_barrier", INPUT_KIND]),
            # A valid entry is filed under its event hour: the bounds are judged for rejected records only.
            F.when((F.col("reasons") == "") | in_bounds, F.col("event_ts")).otherwise(F.col("kafka_timestamp"))
            .alias("filed_at"),
            F.when(F.col(INPUT_KIND) == IGNORED, F.lit(IGNORED)).when(F.col("reasons") == "", F.lit(VALID))
            .otherwise(F.lit(QUARANTINED)).alias(OUTCOME),
            F.when(F.col("reasons") != "", F.coalesce(RECEIVED, "raw_value")).alias("raw_value"),
        ]

    @functools.cached_property
    def _valid_rows(self) -> Column:
        return (F.col(OUTCOME) == VALID) & (F.col("_barrier") >= 0)

    @functools.cached_property
    def _bad_rows(self) -> Column:
        return (F.col(OUTCOME) == QUARANTINED) & (F.col("_barrier") >= 0)

    @functools.cached_property
    def _valid(self) -> list[Column]:
        return [
            *[F.col("event_ts").alias(name) if name == "event_time" else F.col(f"entry.{name}").alias(name)
              for name in self.contract.names],
            *map(F.col, KAFKA_COLUMNS),
            # The UTC hour of the normalised time (the session's time zone is checked to be UTC above).
            F.date_format("event_ts", "yyyy-MM-dd").alias("dt"),
            F.date_format("event_ts", "HH").alias("hr"),
        ]

    @functools.cached_property
    def _filed(self) -> list[Column]:
        *columns, dt, hr = self._valid
        valid = F.col(OUTCOME) == VALID
        return [*columns, F.when(valid, dt).alias("dt"),
                F.when(valid, hr).otherwise(F.coalesce(INPUT_KIND, OUTCOME)).alias("hr")]

    @functools.cached_property
    def _bad(self) -> list[Column]:
        return [
            F.col("raw_value"),
            F.col("reasons").alias("reason"),
            *map(F.col, KAFKA_COLUMNS),
            F.date_format("filed_at", "yyyy-MM-dd").alias("dt"),
            F.date_format("filed_at", "HH").alias("hr"),
        ]


def filed_entry() -> Column:
    """Whether a row of Judging.filed() is a valid entry (filed under an hour); any other row's hr says what it is."""
    return F.col("dt").isNotNull()


def records_columns(present: tuple[str, ...]) -> list[Column]:
    """What the judge reads of each record: the record as received, its Kafka columns and an input format's
    columns (those not present, null)."""
    return [
        F.col("value").alias("raw_value"),
        F.col("partition").alias("kafka_partition"),
        F.col("offset").alias("kafka_offset"),
        F.col("timestamp").alias("kafka_timestamp"),
        # An input format that maps records to entries (jobs/access_log.py) may set why a record is not
        # one, and the record as received, which quarantine keeps instead of the mapped entry.
        *[(F.col(c) if c in present else F.lit(None).cast(t)).alias(c) for c, t in _FROM_INPUT_FORMAT],
    ]


def batch_time(spark: SparkSession, at: datetime) -> Column:
    """The time a batch is judged and written (the outputs' ingest_time), as the compiled judge's function of no
    argument (WeblogJudge.batchTime): Spark writes a time constant (current_timestamp()) into the code it generates,
    so each batch's own made the judging stage's code new and compiled it again, twice a batch."""
    micros = (at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    function = spark.sparkContext._jvm.clickstream.judge.WeblogJudge.batchTime(micros)
    return Column(function.apply(_to_seq(spark.sparkContext, [], _to_java_column)))


def judgement_column(spark: SparkSession, contract: WeblogContract, max_future: timedelta | None,
                     max_past: timedelta | None) -> Column:
    """Each record of records_columns()'s frame judged: a struct of its entry (the contract's fields), event_micros
    (its event time; null where none reads) and reasons (every rule it breaks, joined; "" for a valid entry)."""
    judged = judge_function(spark, judge_program(contract, max_future, max_past))
    return judged(F.col("raw_value"), F.unix_micros("kafka_timestamp"))


def judge_function(spark: SparkSession, program: dict) -> Callable[..., Column]:
    """The compiled judge (clickstream.judge.WeblogJudge, on the session's jars) applying the program, as a
    function of two columns: the record's value (binary) and its Kafka timestamp in microseconds."""
    function = spark.sparkContext._jvm.clickstream.judge.WeblogJudge.function(json.dumps(program))
    return lambda *columns: Column(function.apply(_to_seq(spark.sparkContext, columns, _to_java_column)))


def judge_program(contract: WeblogContract, max_future: timedelta | None, max_past: timedelta | None) -> dict:
    """The contract's rules, in the order their reasons are joined, each with its reason's text: what the
    compiled judge applies (a rule it does not know stops it at its start)."""
    rules: list[dict] = [{"rule": "missing", "field": name, "reason": f"missing field {name}"}
                         for name in contract.required]
    rules.append({"rule": "unexpected", "reason": "unexpected fields: "})  # followed by the keys, joined by ","
    slots = iter(range(len(contract.fields)))  # each date-time field's place in the program's times
    for field in contract.fields:
        rules.extend(_field_rules(field, slots))
    for rule in contract.conditionals:
        rules.append({"rule": "nullThen", "when": rule.when_null_field, "field": rule.field,
                      "value": rule.value_if_null,
                      "reason": f"{rule.field} must be {rule.value_if_null} when {rule.when_null_field} is null"})
        rules.append({"rule": "setThen", "when": rule.when_null_field, "field": rule.field,
                      "value": rule.value_otherwise,
                      "reason": f"{rule.field} must be {rule.value_otherwise} when {rule.when_null_field} is set"})
    for field, other in contract.equal_when_set:
        rules.append({"rule": "equal", "field": field, "other": other, "reason": f"{field} differs from {other}"})
    if max_future is not None:
        rules.append({"rule": "notAfter", "micros": _micros(max_future),
                      "reason": f"event_time more than {max_future} after the Kafka timestamp"})
    if max_past is not None:
        rules.append({"rule": "notBefore", "micros": _micros(max_past),
                      "reason": f"event_time more than {max_past} before the Kafka timestamp"})
    return {
        "fields": [{"name": f.name, "type": f.json_type} for f in contract.fields],
        # The date-time fields, in the order of the timestamp rules' slots; the event time files the entry.
        "times": [f.name for f in contract.fields if "date-time" in f.formats], "eventTime": "event_time",
        "maxBytes": contract.max_entry_bytes,
        "tooLarge": f"entry of {{bytes}} bytes is over the {contract.max_entry_bytes}-byte limit",
        "notUtf8": "not UTF-8", "notAnObject": "not a JSON object", "rules": rules,
    }


def _interval(length: timedelta) -> Column:
    return F.expr(f"INTERVAL {int(length.total_seconds())} SECONDS")


def _micros(length: timedelta) -> int:
    return int(length.total_seconds()) * 1_000_000


def _field_rules(field: FieldRule, slots: Iterator[int]) -> list[dict]:
    name, spec = field.name, field.spec
    if field.json_type == "string":
        # A string field holds any JSON value's text (as from_json reads it): the value must open a quote.
        rules = [{"rule": "notString", "field": name, "reason": f"{name} is not a string"}]
        if not field.nullable:
            rules.append({"rule": "isNull", "field": name, "reason": f"{name} is null"})
    else:
        # An integer field is null for anything but an integer; for a nullable field, a literal JSON null is fine.
        rules = [{"rule": "notInteger", "field": name, "nullable": field.nullable,
                  "reason": f"{name} is not an integer"}]
    checks = {"pattern": "regex", "enum": "values", "const": "values", "minLength": "limit", "maxLength": "limit",
              "minimum": "limit", "maximum": "limit"}
    for keyword, argument in checks.items():
        if keyword in spec:
            value = [spec[keyword]] if keyword == "const" else spec[keyword]
            if keyword == "pattern":
                value = java_pattern(value)
            rule = "oneOf" if argument == "values" else keyword
            rules.append({"rule": rule, "field": name, argument: value,
                          "reason": f"{name} violates {keyword} {spec[keyword]}"})
    if "date-time" in field.formats:
        rules.append({"rule": "timestamp", "field": name, "slot": next(slots),
                      "reason": f"{name} is not a valid timestamp"})
    formats = [f for f in field.formats if f in FORMAT_NAMES]
    if formats:
        rules.append({"rule": "format", "field": name, "formats": formats,
                      "reason": f"{name} is not {' or '.join(FORMAT_NAMES[f] for f in formats)}"})
    return rules


def java_pattern(pattern: str) -> str:
    """A JSON Schema pattern (ECMA-262) written for Java's regular expressions, which the judge and Spark use, so
    that it matches what it matches for ajv: ECMA's `$` (no multiline flag) is the end of the text only, Java's
    also the place before a final line terminator, which let "P000001\\n" through a product id's pattern (and a
    line break into the published CSV). Each `$` outside a character class becomes Java's `\\z`."""
    out, escaped, in_class = [], False, False
    for c in pattern:
        if escaped:
            escaped = False
        elif c == "\\":
            escaped = True
        elif c == "[":
            in_class = True
        elif c == "]":
            in_class = False
        elif c == "$" and not in_class:
            out.append("\\z")
            continue
        out.append(c)
    return "".join(out)
