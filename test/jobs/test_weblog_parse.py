"""The streaming job's parse step, on small DataFrames shaped like Kafka's source (no broker needed)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from conftest import REPO, make_entry
from pyspark.sql import functions as F

from jobs.weblog_contract import ContractNotUnderstood, load_contract
from jobs.weblog_parse import DEFAULT_MAX_PAST, QUARANTINE_COLUMNS, Judging, java_pattern, parse, valid_columns

T = "2026-11-26T14:05:00.123Z"


def encode(entry: dict) -> bytes:
    return json.dumps(entry).encode("utf-8")


def test_the_spark_schema_has_exactly_the_contracts_properties():
    schema = json.loads((REPO / "contract" / "weblog-entry.schema.json").read_text())
    contract = load_contract()
    assert contract.names == list(schema["properties"])
    assert set(contract.required) == set(schema["required"])
    assert contract.max_entry_bytes == schema["x-max-entry-bytes"]


def test_a_contract_keyword_the_job_cannot_enforce_is_refused():
    schema = json.loads((REPO / "contract" / "weblog-entry.schema.json").read_text())
    schema["properties"]["status"]["multipleOf"] = 100
    with pytest.raises(ContractNotUnderstood, match="multipleOf"):
        load_contract(json.dumps(schema))


@pytest.mark.parametrize(("field", "keyword", "value"), [("url", "minimum", 5), ("status", "maxLength", 3)])
def test_a_keyword_for_values_of_another_type_is_refused(field, keyword, value):
    schema = json.loads((REPO / "contract" / "weblog-entry.schema.json").read_text())
    schema["properties"][field][keyword] = value
    with pytest.raises(ContractNotUnderstood, match=f"property {field}: {keyword} applies to"):
        load_contract(json.dumps(schema))


def test_valid_entries_keep_their_fields_kafka_metadata_and_utc_hour(spark, kafka_frame):
    visit = make_entry(T, "P000001", cart_add=False)
    cart_add = make_entry("2026-11-26T15:59:59.999Z", "P000002", cart_add=True)
    judged_from = datetime.now(UTC)
    valid, bad = parse(kafka_frame([encode(visit), encode(cart_add)]))
    rows = sorted((r.asDict() for r in valid.collect()), key=lambda r: r["kafka_offset"])
    assert bad.count() == 0
    assert valid.columns == valid_columns(load_contract())
    assert [(r["event_id"], r["pid"], r["method"], r["dt"], r["hr"]) for r in rows] == [
        (visit["event_id"], None, "GET", "2026-11-26", "14"),
        (cart_add["event_id"], "P000002", "POST", "2026-11-26", "15"),
    ]
    assert rows[0]["event_time"].replace(tzinfo=UTC) == datetime(2026, 11, 26, 14, 5, 0, 123000, tzinfo=UTC)
    assert rows[1]["kafka_offset"] == 1 and rows[1]["kafka_partition"] == 0
    # The time the job judged and wrote the batch.
    assert judged_from <= rows[0]["ingest_time"].replace(tzinfo=UTC) <= datetime.now(UTC)


def test_each_batch_has_its_own_ingest_time_yet_runs_the_code_compiled_for_the_first(spark, kafka_frame):
    """A time constant in a batch's plan is written into the code Spark generates: each batch's own would compile
    the judging stage again, twice a batch, while the cores wait."""
    judging = Judging(load_contract(), timedelta(hours=1), DEFAULT_MAX_PAST)
    records = kafka_frame([encode(make_entry(T, "P000001", cart_add=False))])
    compilations = spark.sparkContext._jvm.org.apache.spark.metrics.source.CodegenMetrics.METRIC_COMPILATION_TIME()
    [first] = judging.valid(judging.judge(records)).collect()
    compiled = compilations.getCount()
    [second] = judging.valid(judging.judge(records)).collect()
    assert compilations.getCount() == compiled
    assert second["ingest_time"] > first["ingest_time"]


def test_every_record_is_judged_once_whichever_frame_is_written(spark, kafka_frame):
    """The judge is the costly part of a row: the plan of each frame a writer takes calls it once per record (its only
    argument Spark computes, the Kafka time in microseconds, appears once), even when the optimizer is told to copy
    every projection's expressions into their uses; and filed() holds every record."""
    judging = Judging(load_contract(), timedelta(hours=1), DEFAULT_MAX_PAST)
    judged = judging.judge(kafka_frame([encode(make_entry(T, "P000001", cart_add=False)), b"not json"]))
    spark.conf.set("spark.sql.optimizer.collapseProjectAlwaysInline", "true")
    try:
        for frame in (judging.filed(judged), *judging.split(judged)):
            assert frame._jdf.queryExecution().executedPlan().toString().count("unix_micros(") == 1
    finally:
        spark.conf.unset("spark.sql.optimizer.collapseProjectAlwaysInline")
    filed = judging.filed(judged).collect()
    assert [(r["dt"] is None, r["hr"]) for r in filed] == [(False, T[11:13]), (True, "quarantined")]


def _without(field: str) -> bytes:
    entry = make_entry(T, "P000001", cart_add=False)
    del entry[field]
    return encode(entry)


MALFORMED = [
    (b"\xff\xfe{}", "not UTF-8"),
    (b"this is not json", "not a JSON object"),
    (b"[1, 2, 3]", "not a JSON object"),
    (_without("pid"), "missing field pid"),
    (_without("event_id"), "missing field event_id"),
    (encode(make_entry(T, "P000001", False, status="200")), "status is not an integer"),
    (encode(make_entry(T, "P000001", False, status=200.5)), "status is not an integer"),
    (encode(make_entry(T, "P000001", False, session_id=42)), "session_id is not a string"),
    (encode(make_entry(T, "P000001", False, user_agent={"a": 1})), "user_agent is not a string"),
    (encode(make_entry("2026-02-30T10:00:00.000Z", "P000001", False)), "event_time is not a valid timestamp"),
    (encode(make_entry("26/11/2026 14:00", "P000001", False)), "event_time violates pattern"),
    (encode(make_entry(T, "P000001", False, status=700)), "status violates maximum 599"),
    (encode(make_entry(T, "P000001", False, method="POST")), "method must be GET when pid is null"),
    (encode(make_entry(T, "P000001", True, method="GET")), "method must be POST when pid is set"),
    (encode(make_entry(T, "P000001", True, pid="P000002")), "pid differs from product_id"),
    (encode(make_entry(T, "sku,1", False)), "product_id violates pattern"),
    (encode(make_entry(T, "sku 1", False)), "product_id violates pattern"),
    (encode(make_entry(T, "sku\\N", False)), "product_id violates pattern"),
    (encode(make_entry(T, "sku\u200b1", False)), "product_id violates pattern"),
    # JSON Schema's `$` is the end of the text: no line break before it (Java's `$` allows one).
    (encode(make_entry(T, "P000001\n", False)), "product_id violates pattern"),
    (encode(make_entry(T + "\n", "P000001", False)), "event_time violates pattern"),
    (encode(make_entry(T, "", False)), "product_id violates minLength 1"),
    *[(encode(make_entry(T, formula, True)), "product_id violates pattern")
      for formula in ("=2+5", "@SUM(1+1)", "+cmd|'/Ccalc'!A0", "-2+3")],
    (encode(make_entry(T, "p" * 129, False)), "product_id violates maxLength 128"),
    (encode(make_entry(T, "P000001", False, ip="300.1.1.1")), "ip is not an IPv4 address or an IPv6 address"),
    (encode(make_entry(T, "P000001", False, ip="2001:db8:::1")), "ip is not an IPv4 address or an IPv6 address"),
    (encode(make_entry("2026-11-26T14:05:00.123", "P000001", False)), "event_time violates pattern"),
    (encode(make_entry(T, "P000001", False, event_id="not-a-uuid")), "event_id is not a UUID"),
    (encode(make_entry(T, "P000001", False, referrer="/")), "unexpected fields: referrer"),
    (encode(make_entry(T, "P000001", False, user_agent="x" * 9000)), "over the 8192-byte limit"),
    (encode(make_entry("2026-11-26T18:00:00.000Z", "P000001", False)), "event_time more than 1:00:00 after"),
]


@pytest.mark.parametrize(("pattern", "text", "matches"), [
    ("^a$", "a", True), ("^a$", "a\n", False), ("^a$", "a\r\n", False), ("^a$", "a\u2028", False),
    (r"^a\$$", "a$", True),  # an escaped dollar is a dollar
    (r"^a\\$", "a\\", True),  # an escaped backslash before the end
    ("^[$]$", "$", True),  # a dollar in a class is a dollar
    (r"^[\]$]$", "$", True), (r"^[\]$]$", "]", True),
])
def test_a_patterns_end_is_the_end_of_the_text_as_json_schema_reads_it(spark, pattern, text, matches):
    java = spark.sparkContext._jvm.java.util.regex.Pattern  # the engine of the judge and of Spark's rlike
    assert java.compile(java_pattern(pattern)).matcher(text).find() == matches


def test_each_malformed_entry_is_quarantined_with_its_reason_and_raw_value(spark, kafka_frame):
    good = [encode(make_entry(T, "P000003", cart_add=i % 2 == 0)) for i in range(3)]
    values = [good[0], *[v for v, _ in MALFORMED[:10]], good[1], *[v for v, _ in MALFORMED[10:]], good[2]]
    valid, bad = parse(kafka_frame(values))
    assert valid.count() == 3, "valid neighbours of malformed entries are unaffected"
    assert bad.columns == QUARANTINE_COLUMNS
    quarantined = {bytes(r.raw_value): r for r in bad.collect()}
    assert len(quarantined) == len(MALFORMED)
    for value, reason in MALFORMED:
        assert reason in quarantined[value].reason, (value[:80], quarantined[value].reason)
    # Filed under their event hour where the event time parses within the bounds (T is 14:05), else under
    # the hour Kafka received them (the fixture's records arrive at 15:00 UTC).
    for value, _ in MALFORMED:
        row = quarantined[value]
        expected = "15" if re.search(r"not UTF-8|not a JSON|event_time", row.reason) else "14"
        assert (row.dt, row.hr) == ("2026-11-26", expected), (value[:80], row.reason)


def test_a_replayed_logs_bad_entries_are_filed_under_their_own_hours_not_todays(spark, kafka_frame):
    received = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
    replayed = [encode(make_entry(f"2026-11-{day:02d}T09:30:00Z", "P000001", False, status=42)) for day in (1, 2)]
    _, bad = parse(kafka_frame([*replayed, b"not json"], received=received))
    assert sorted((r.dt, r.hr) for r in bad.collect()) == [("2026-11-01", "09"), ("2026-11-02", "09"),
                                                           ("2026-11-26", "15")]


def test_a_real_sites_ids_times_and_addresses_are_accepted_and_stored_as_utc_milliseconds(spark, kafka_frame):
    entries = [
        make_entry("2026-11-26T13:05:00Z", "sku-123", cart_add=False),
        make_entry("2026-11-26T14:05:00.123456+01:00", "P990001-blue", cart_add=True),
        make_entry("2026-11-26t09:59:59.9999-05:00", "kaffeemühle_2", cart_add=False, ip="2001:db8::7"),
        make_entry("2026-11-27T00:30:00+01:00", "P000001", cart_add=False, ip="::ffff:192.0.2.1"),
    ]
    valid, bad = parse(kafka_frame([encode(e) for e in entries], received=datetime(2026, 11, 27, 0, 0, tzinfo=UTC)))
    assert [r.reason for r in bad.collect()] == []
    rows = sorted(valid.collect(), key=lambda r: r.kafka_offset)
    assert [(r.product_id, r.event_time.replace(tzinfo=UTC), r.dt, r.hr) for r in rows] == [
        ("sku-123", datetime(2026, 11, 26, 13, 5, tzinfo=UTC), "2026-11-26", "13"),
        ("P990001-blue", datetime(2026, 11, 26, 13, 5, 0, 123000, tzinfo=UTC), "2026-11-26", "13"),
        ("kaffeemühle_2", datetime(2026, 11, 26, 14, 59, 59, 999000, tzinfo=UTC), "2026-11-26", "14"),
        ("P000001", datetime(2026, 11, 26, 23, 30, tzinfo=UTC), "2026-11-26", "23"),
    ]


def formats_judged(spark, form: str, samples: list[str]) -> dict[str, bool]:
    """Whether the compiled judge finds each sample of the given format (a one-field program of that rule)."""
    from jobs.weblog_parse import judge_function  # noqa: PLC0415

    program = {"fields": [{"name": "v", "type": "string"}], "times": [], "maxBytes": 8192, "tooLarge": "too large",
               "notUtf8": "not UTF-8", "notAnObject": "not an object",
               "rules": [{"rule": "format", "field": "v", "formats": [form], "reason": "broken"}]}
    judged = judge_function(spark, program)(F.encode(F.to_json(F.struct("v")), "UTF-8"), F.lit(None).cast("long"))
    rows = spark.createDataFrame([(s,) for s in samples], "v string").select("v", judged.reasons.alias("reasons")) \
        .collect()
    assert {r.reasons for r in rows} <= {"", "broken"}
    return {r.v: r.reasons == "" for r in rows}


def test_the_address_formats_agree_with_the_python_standard_library(spark):
    import ipaddress  # noqa: PLC0415

    samples = ["::", "::1", "2001:db8::7", "2001:DB8:0:0:8:800:200C:417A", "fe80::1:2:3:4", "::ffff:192.0.2.1",
               "1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7::", "2001:db8:::1", "1:2:3:4:5:6:7:8:9", "12345::", "::ffff:300.1.1.1",
               "g::1", ":1", "1:", "192.0.2.1", "", "::1\n", "0.0.0.0", "255.255.255.255", "256.1.1.1", "01.2.3.4",
               "1.2.3", "1.2.3.4.5", "1.2.3.4\n", "1..2.3", "1.2.3.", "١.2.3.4", "1.2.3.04", "10.0.0.255"]

    def is_address(text, kind):
        try:
            return isinstance(ipaddress.ip_address(text), kind)
        except ValueError:
            return False

    assert formats_judged(spark, "ipv6", samples) == {s: is_address(s, ipaddress.IPv6Address) for s in samples}
    assert formats_judged(spark, "ipv4", samples) == {s: is_address(s, ipaddress.IPv4Address) for s in samples}


def test_the_uuid_format_is_the_hyphenated_hex_form_only(spark):
    samples = ["3F2504E0-4F89-11D3-9A0C-0305E82C3301", "3f2504e0-4f89-11d3-9a0c-0305e82c3301",
               "3f2504e04f8911d39a0c0305e82c3301", "{3f2504e0-4f89-11d3-9a0c-0305e82c3301}",
               "3f2504e0-4f89-11d3-9a0c-0305e82c330", "3f2504e0-4f89-11d3-9a0c-0305e82c33011",
               "3f2504e0-4f89-11d3-9a0c-0305e82c3301\n", "3f2504g0-4f89-11d3-9a0c-0305e82c3301",
               "3f2504e0-4f89-11d3-9a0c-0305e82c33０1", "3f2504e0_4f89-11d3-9a0c-0305e82c3301", ""]
    pattern = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
    assert formats_judged(spark, "uuid", samples) == {s: pattern.fullmatch(s) is not None for s in samples}


def test_a_non_utc_session_is_refused(spark, kafka_frame):
    frame = kafka_frame([encode(make_entry(T, "P000001", False))])
    spark.conf.set("spark.sql.session.timeZone", "Europe/Paris")
    try:
        with pytest.raises(ValueError, match="UTC"):
            parse(frame)
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")


def test_a_zero_or_reset_clock_is_quarantined_and_last_months_replay_is_not(spark, kafka_frame):
    received = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
    too_old = ["0001-01-01T00:00:00Z", "1899-12-31T23:59:59Z", "1970-01-01T00:00:00Z", "2026-09-25T14:59:59Z"]
    replayed = ["2026-09-25T15:00:00Z", "2026-10-26T15:00:00Z"]  # 62 days before receipt, and last month
    values = [encode(make_entry(t, "P000001", False)) for t in [*too_old, *replayed]]
    valid, bad = parse(kafka_frame(values, received=received))
    assert sorted(r.event_time.replace(tzinfo=UTC).isoformat() for r in valid.collect()) == [
        "2026-09-25T15:00:00+00:00", "2026-10-26T15:00:00+00:00"]
    reasons = {json.loads(bytes(r.raw_value))["event_time"]: r.reason for r in bad.collect()}
    assert set(reasons) == set(too_old)
    assert all(r == "event_time more than 62 days, 0:00:00 before the Kafka timestamp" for r in reasons.values())


NULLABLE = {"pid"}


def test_null_is_never_a_value_of_a_required_field(spark, kafka_frame):
    contract = load_contract()
    required = [name for name in contract.required if name not in NULLABLE]
    assert set(contract.required) - set(required) == NULLABLE, "only pid may be null (a product-page visit)"
    values = [encode({**make_entry(T, "P000001", False), name: None}) for name in required]
    valid, bad = parse(kafka_frame(values))
    assert valid.count() == 0
    reasons = sorted(r.reason for r in bad.collect())
    assert len(reasons) == len(required)
    for name in required:
        assert any(re.search(rf"\b{name} is (null|not an integer)", r) for r in reasons), (name, reasons)


def _breaking(contract, field: str, keyword: str, bound: int):
    """An entry, valid but for one value just past the schema's bound."""
    if keyword in ("minimum", "maximum"):
        return {**make_entry(T, "P000001", False), field: bound - 1 if keyword == "minimum" else bound + 1}
    length = bound - 1 if keyword == "minLength" else bound + 1
    value = ("/" + "a" * (length - 1)) if field == "url" and length else "a" * length
    if field in ("product_id", "pid"):
        return make_entry(T, value, True)
    return {**make_entry(T, "P000001", False), field: value}


BOUNDS = {("session_id", "minLength", 1), ("session_id", "maxLength", 64), ("user_agent", "minLength", 1),
          ("user_agent", "maxLength", 512), ("url", "maxLength", 2048), ("status", "minimum", 100),
          ("status", "maximum", 599), ("product_id", "minLength", 1), ("product_id", "maxLength", 128),
          ("pid", "minLength", 1), ("pid", "maxLength", 128)}


def test_every_bound_of_the_schema_quarantines_the_value_just_past_it(spark, kafka_frame):
    contract = load_contract()
    bounds = {(f.name, k, f.spec[k]) for f in contract.fields for k in ("minLength", "maxLength", "minimum", "maximum")
              if k in f.spec}
    assert bounds == BOUNDS, "a bound added to or removed from the schema gets its case here"
    cases = sorted(bounds)
    valid, bad = parse(kafka_frame([encode(_breaking(contract, *case)) for case in cases]))
    assert valid.count() == 0
    by_offset = {r.kafka_offset: r.reason for r in bad.collect()}
    for offset, (field, keyword, bound) in enumerate(cases):
        reason = by_offset.get(offset, "")
        assert f"{field} violates {keyword} {bound}" in reason, (field, keyword, reason)


def test_a_status_of_42_is_quarantined(spark, kafka_frame):
    valid, bad = parse(kafka_frame([encode(make_entry(T, "P000001", False, status=42))]))
    assert valid.count() == 0
    assert [r.reason for r in bad.collect()] == ["status violates minimum 100"]


def _with(text: str, **fields) -> bytes:
    """A valid entry's JSON with some fields' values written as the given JSON text."""
    entry = make_entry(T, "P000001", cart_add=False)
    body = json.dumps({k: v for k, v in entry.items() if k not in fields})[:-1]
    return (body + "".join(f', "{k}": {v}' for k, v in fields.items()) + "}" + text).encode("utf-8")


# Records no producer should send, each read by the judge as Spark's own from_json, cast and json_object_keys
# read them: any value in a string field, anything in an integer field, repeated keys, quotes, control
# characters, byte order marks, broken and non-UTF-8 text, other roots, and times of every shape.
ODD_RECORDS = [
    _with("", url="5"), _with("", url="1.50"), _with("", url="1e3"), _with("", url="true"), _with("", url="null"),
    _with("", url='{"a": [1, "x", {"b": null}]}'), _with("", url="[1, 2.0]"), _with("", url='"/\\ud800"'),
    _with("", url='"/a\\u00fc\\ud83d\\ude00"'), _with("", url='"/kaffeem\u00fchle \U0001F600"'),
    _with("", status='"200"'), _with("", status="200.0"), _with("", status="2e2"), _with("", status="3000000000"),
    _with("", status="-0"), _with("", status="null"), _with("", status='{"a": 1}'), _with("", status="[]"),
    _with("", status="true"), _with("", status="NaN"), _with("", status="0200"), _with("", status='""'),
    _with("", status="200", **{"extra": '{"deep": [[[{"x": 1}]]]}'}), _with("", url="[1 2]"), _with("", url="@"),
    _with("", url='{"a": "\U0001F600", "b": ["\\ud800"]}'), _with("", url="[" * 1001 + "]" * 1001),
    b'{"url": "/a", "url": "/b", "status": 200, "status": "x", "pid": "p", "pid": null}',
    b"{'url': '/a', 'status': 200}", b'{"url": "/a\tb", "status": 200}', b'{\n  "url": "/a",\n  "status": 200\n}',
    b'\xef\xbb\xbf{"url": "/a", "status": 200}', b'{"url": "/a\x00", "status": 200}', b'{"url": "/\xff", "status": 1}',
    b'{"url": "/a", "status": 200}\xff', b'{"url": "/a"} trailing', b'{"url": "/a"}}', b'{"url": "/a", "status": ',
    b'{"url": "/a" /* note */}', b"[]", b'[{"url": "/a"}]', b'"text"', b"5", b"null", b"", b"   ", b"{}",
    *[_with("", event_time=json.dumps(t)) for t in [
        "2026-11-26T13:05:00.123456789Z", "2026-11-26t13:05:00.5z", "2026-11-26T13:05:00+05:30",
        "2026-11-26T13:05:00-00:00", "2026-11-26T23:59:60Z", "2026-02-30T10:00:00Z", "1969-12-31T23:59:59.9995Z",
        "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z", "2026-11-26T13:05:00Z ", "2026-11-26 13:05:00Z",
        "2026-11-26T13:05:00.1234567", "2026-11-26T13:05Z", "2026-11-26", "T13:05:00Z", "",
        "\uff12\uff10\uff12\uff16-11-26T13:05:00Z", "2026-11-26T13:05:00.1234567890123+01:00", "2026-11-26T24:00:00Z",
        "2026-11-26T13:05:00.123z", "2026-11-26T13:05:00.1234567.1234567Z", "2026-11-26T13:05:00+01:00:00Z"]],
]


def test_the_judge_reads_every_record_as_sparks_own_from_json_cast_and_key_scan_do(spark):
    from jobs.weblog_parse import judge_function, judge_program  # noqa: PLC0415

    contract = load_contract()
    records = spark.createDataFrame([(i, bytearray(r)) for i, r in enumerate(ODD_RECORDS)], "i int, value binary")
    text = F.expr("decode(value, 'UTF-8')")
    spark_entry = F.from_json(text, contract.spark_schema())
    spark_time = F.expr(r"date_trunc('millisecond', to_timestamp(regexp_replace(upper(t), '(\\.[0-9]{6})[0-9]+', "
                        r"'$1')))")
    judged = judge_function(spark, judge_program(contract, None, None))(F.col("value"), F.lit(None).cast("long"))
    rows = (records.select("i", spark_entry.alias("spark"), judged.alias("judged"),
                           F.expr("json_object_keys(decode(value, 'UTF-8'))").alias("keys"))
            .withColumn("t", F.col("spark.event_time"))
            .select("i", "spark", "judged", "keys", F.unix_micros(spark_time).alias("spark_micros"))
            .orderBy("i").collect())
    assert len(rows) == len(ODD_RECORDS)
    for row in rows:
        record = ODD_RECORDS[row.i]
        spark_values = tuple(row.spark) if row.spark is not None else (None,) * len(contract.names)
        assert tuple(row.judged.entry) == spark_values, record
        assert row.judged.event_micros == row.spark_micros, record
        if row.judged.reasons != "not UTF-8":
            assert (row.judged.reasons == "not a JSON object") == (row.keys is None), record
    reasons = {r.judged.reasons for r in rows}
    assert {"not UTF-8", "not a JSON object"} <= reasons  # both kinds of broken record are among them
