"""Access-log lines as an input: Kafka records of a combined-format topic through the one contract check."""

from __future__ import annotations

import argparse
import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pyspark.sql import functions as F

from jobs import access_log
from jobs.weblog_contract import load_contract
from jobs.weblog_parse import Judging, filed_entry, parse

CONTRACT = load_contract()
NS = CONTRACT.event_id_namespace
UA = "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"


A_YEAR_AHEAD = "26/Nov/2027:14:05:07 +0000"


def line(path: str, method: str = "GET", status: int = 200, ip: str = "203.0.113.9",
         time: str = "26/Nov/2026:14:05:07 +0000", ua: str = UA) -> str:
    return f'{ip} - - [{time}] "{method} {path} HTTP/1.1" {status} 512 "https://shop.example/" "{ua}"'


def defaults() -> access_log.AccessLogSettings:
    return access_log.settings_from(argparse.Namespace(product_url_pattern=None, cart_method=None,
                                                       cart_url_pattern=None, counted_statuses=None))


@pytest.fixture
def shipped(spark):
    """Parses records of an access-log topic (bytes or str values) -> (valid rows, quarantined rows)."""

    def run(values, settings=None):
        received = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
        rows = [(bytearray(v if isinstance(v, bytes) else v.encode()), "weblogs", 0, i, received)
                for i, v in enumerate(values)]
        schema = "value binary, topic string, partition int, offset long, timestamp timestamp"
        frame = spark.createDataFrame(rows, schema)
        valid, bad = parse(access_log.entries_from_access_log(frame, settings or defaults(), CONTRACT), CONTRACT)
        by_offset = lambda r: r.kafka_offset  # noqa: E731
        return sorted(valid.collect(), key=by_offset), sorted(bad.collect(), key=by_offset)

    return run


def job_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    access_log.add_arguments(parser)
    return parser


def job_flags(*argv: str) -> argparse.Namespace:
    return job_parser().parse_args(list(argv))


def test_the_streaming_jobs_flags_choose_the_input_and_its_mapping_each_explained_in_its_help():
    assert {a.dest: a.help for a in job_parser()._actions if a.dest != "help"} == {  # noqa: SLF001 (argparse's table)
        "input_format": "json: contract entries (default); combined: web servers' access-log lines",
        "product_url_pattern": "combined: regex of product-page URLs, named group product_id",
        "cart_method": "combined: HTTP method of an add-to-cart request (default POST)",
        "cart_url_pattern": "combined: regex of add-to-cart URLs, named group product_id",
        "counted_statuses": "combined: statuses that count, e.g. 200-399 (the default)",
    }
    assert vars(job_flags()) == {"input_format": "json", "product_url_pattern": None, "cart_method": None,
                                 "cart_url_pattern": None, "counted_statuses": None}
    given = job_flags("--input-format", "combined", "--product-url-pattern", "^/p/(?<product_id>[0-9]+)$",
                      "--cart-method", "PUT", "--cart-url-pattern", "^/c/(?<product_id>[0-9]+)$",
                      "--counted-statuses", "200,304")
    assert access_log.settings_from(given) == access_log.AccessLogSettings(
        "^/p/(?<product_id>[0-9]+)$", "PUT", "^/c/(?<product_id>[0-9]+)$", ((200, 200), (304, 304)))
    with pytest.raises(SystemExit):
        job_flags("--input-format", "apache")


def test_the_job_reads_json_records_as_they_are_and_counts_each_access_log_line_under_one_kind(spark):
    received = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
    lines = [line("/products/P000001"), line("/products/P000002", status=304), line("/static/app.css"),
             line("/cart/items/P000003", method="POST"), line("/products/P000004", status=500), "not a log line",
             # A visit and a cart add the judge quarantines (a year ahead of Kafka's time) still count as such.
             line("/products/P000005", time=A_YEAR_AHEAD),
             line("/cart/items/P000006", method="POST", time=A_YEAR_AHEAD)]
    source = spark.createDataFrame(
        [(bytearray(v.encode()), "weblogs", 0, i, received) for i, v in enumerate(lines)],
        "value binary, topic string, partition int, offset long, timestamp timestamp")
    assert access_log.records_for_format(source, job_flags(), CONTRACT) is source
    records = access_log.records_for_format(source, job_flags("--input-format", "combined"), CONTRACT)
    judging = Judging(CONTRACT, timedelta(hours=1), None)
    filed = judging.filed(judging.judge(records))
    counts = filed.agg(*access_log.line_counts(), F.count(F.when(filed_entry(), 1)).alias("entries")).collect()[0]
    assert counts.asDict() == {"lines": 8, "visit": 3, "cart_add": 2, "ignored": 2, "malformed": 1, "entries": 3}


def test_visits_and_cart_adds_become_entries_and_everything_else_is_ignored(shipped):
    lines = [
        line("/products/sku-123?ref=home"),
        line("/cart/items/P990001-blue", method="POST", status=201),
        line("/products/P000007", status=304),  # a revalidated page is a visit
        line("/static/app.css"),  # an asset
        line("/products/P000008", status=404),  # status not counted
        line("/products/P000009", method="HEAD"),
        line("/cart/items/P000001"),  # GET of a cart URL is not an add-to-cart
    ]
    valid, bad = shipped(lines)
    assert bad == []
    assert [(r.method, r.url, r.status, r.product_id, r.pid) for r in valid] == [
        ("GET", "/products/sku-123?ref=home", 200, "sku-123", None),
        ("POST", "/cart/items/P990001-blue", 201, "P990001-blue", "P990001-blue"),
        ("GET", "/products/P000007", 304, "P000007", None),
    ]
    first = valid[0]
    assert (first.ip, first.user_agent, first.dt, first.hr) == ("203.0.113.9", UA, "2026-11-26", "14")
    assert first.event_time.replace(tzinfo=UTC) == datetime(2026, 11, 26, 14, 5, 7, tzinfo=UTC)
    assert first.session_id == str(uuid.uuid5(NS, f"session\x00203.0.113.9\x00{UA}"))
    assert valid[1].session_id == first.session_id, "one client and browser: one session"


def test_a_plain_line_is_identified_by_its_kafka_record_so_identical_lines_stay_two_visits(shipped):
    same = line("/products/P000001")
    valid, _ = shipped([same, same])
    assert [r.event_id for r in valid] == [str(uuid.uuid5(NS, f"kafka\x00weblogs\x00{0}\x00{i}")) for i in (0, 1)]
    assert valid[0].event_id != valid[1].event_id


ENVELOPES = {
    "Filebeat": lambda msg, off: {"@timestamp": "2026-11-26T14:05:08.000Z", "message": msg,
                                  "log": {"offset": off, "file": {"path": "/var/log/nginx/access.log"}},
                                  "host": {"name": "web-1"}, "input": {"type": "filestream"}},
    "Vector": lambda msg, off: {"message": msg, "offset": off, "file": "/var/log/nginx/access.log",
                                "host": "web-1", "source_type": "file", "timestamp": "2026-11-26T14:05:08Z"},
    "Fluent Bit": lambda msg, off: {"log": msg, "offset": off, "file": "/var/log/nginx/access.log",
                                    "host": "web-1"},
}


@pytest.mark.parametrize("shipper", ENVELOPES)
def test_a_shippers_envelope_gives_each_line_the_id_of_its_position_in_its_file(shipped, shipper):
    same = line("/products/P000001")
    records = [json.dumps(ENVELOPES[shipper](same, off)) for off in (0, len(same) + 1)]
    valid, bad = shipped([*records, *records])  # the file shipped twice
    assert bad == []
    path = "/var/log/nginx/access.log"
    digest = hashlib.sha256(same.encode()).hexdigest()
    expected = [str(uuid.uuid5(NS, f"file\x00web-1\x00{path}\x00{off}\x00{digest}")) for off in (0, len(same) + 1)]
    assert [r.event_id for r in valid] == expected * 2, "identical lines stay two; a re-shipped line keeps its id"


def test_a_different_line_at_a_reused_offset_after_rotation_gets_a_new_id(shipped):
    before, after = line("/products/P000001"), line("/products/P000002", time="26/Nov/2026:14:35:07 +0000")
    envelope = ENVELOPES["Vector"]
    valid, bad = shipped([json.dumps(envelope(before, 0)), json.dumps(envelope(after, 0)),
                          json.dumps(envelope(before, 0))])  # the first line re-shipped
    assert bad == []
    assert [r.product_id for r in valid] == ["P000001", "P000002", "P000001"]
    assert valid[0].event_id != valid[1].event_id, "copytruncate: a new line at an old offset is a new entry"
    assert valid[0].event_id == valid[2].event_id, "a re-shipped line keeps its id"


def test_two_hosts_shipping_the_same_path_never_share_an_id_and_without_a_host_the_kafka_record_decides(shipped):
    same = line("/products/P000001")
    path = "/var/log/nginx/access.log"
    with_host = [json.dumps({"message": same, "host": host, "file": path, "offset": 0}) for host in ("web-1", "web-2")]
    without_host = [json.dumps({"message": same, "file": path, "offset": 0})] * 2  # two servers, no host field
    valid, bad = shipped([*with_host, *without_host])
    assert bad == []
    ids = [r.event_id for r in valid]
    assert len(set(ids)) == 4, "two servers' lines at the same path and offset are two entries, with or without host"
    assert ids[2:] == [str(uuid.uuid5(NS, f"kafka\x00weblogs\x000\x00{i}")) for i in (2, 3)]


def test_an_envelope_without_a_position_falls_back_to_the_kafka_record(shipped):
    valid, _ = shipped([json.dumps({"log": line("/products/P000001")})])
    assert valid[0].event_id == str(uuid.uuid5(NS, "kafka\x00weblogs\x00" "0\x00" "0"))


def test_an_envelope_missing_any_one_of_host_file_and_offset_falls_back_to_the_kafka_record(shipped):
    full = {"message": line("/products/P000001"), "host": "web-1", "file": "/var/log/nginx/access.log", "offset": 0}
    partial = [{k: v for k, v in full.items() if k != missing} for missing in ("host", "file", "offset")]
    valid, bad = shipped([json.dumps(p) for p in partial])
    assert bad == []
    assert [r.event_id for r in valid] == [str(uuid.uuid5(NS, f"kafka\x00weblogs\x000\x00{i}")) for i in (0, 1, 2)]


def test_ipv6_clients_and_offsets_are_accepted(shipped):
    valid, bad = shipped([line("/products/P000001", ip="2001:db8::7", time="26/Nov/2026:15:05:07 +0100")])
    assert bad == []
    assert (valid[0].ip, valid[0].hr) == ("2001:db8::7", "14")


def test_malformed_records_are_quarantined_with_their_reason_and_original_bytes(shipped):
    good = line("/products/P000001")
    malformed = [
        (b"\xff\xfe" + good.encode(), "not UTF-8"),
        (good[:60], "not an access-log line in the combined format"),
        ("GET /products/P000001", "not an access-log line in the combined format"),
        (json.dumps({"event": "no line here"}), "a JSON record without a message or log field"),
        (line("/products/P000001", time="31/Feb/2026:10:00:00 +0000"), "access-log time is not a valid time"),
        (line("/products/sku,1"), "product_id violates pattern"),
        (line("/products/P000001", ua="x" * 100_000), "entry of 100"),  # over 8 KiB, and no stack overflow
        (line("/products/P000001", ip="not-an-ip"), "ip is not an IPv4 address or an IPv6 address"),
    ]
    valid, bad = shipped([good, *[v for v, _ in malformed]])
    assert len(valid) == 1
    assert len(bad) == len(malformed)
    for row, (value, reason) in zip(bad, malformed, strict=True):
        assert bytes(row.raw_value) == (value if isinstance(value, bytes) else value.encode())
        assert row.reason.startswith(reason), (value, row.reason)


def test_the_settings_choose_which_lines_count(shipped):
    settings = access_log.AccessLogSettings(
        product_url_pattern=r"^/p/(?<product_id>[A-Za-z0-9-]+)\.html$",
        cart_method="GET", cart_url_pattern=r"[?&]add-to-cart=(?<product_id>[^&]+)",
        counted_statuses=access_log.parse_statuses("200,302"))
    valid, _ = shipped([line("/p/mug-2.html"), line("/shop?add-to-cart=mug-2", status=302),
                        line("/p/mug-2.html", status=304), line("/products/P000001")], settings)
    assert [(r.method, r.product_id, r.pid) for r in valid] == [("GET", "mug-2", None), ("POST", "mug-2", "mug-2")]


def test_the_spark_uuid5_equals_pythons(spark):
    from pyspark.sql import functions as F  # noqa: PLC0415

    names = ["", "file\x00web-1\x00/var/log/nginx/access.log\x00123", "kafkamühle ☕", "x" * 500]
    got = [r.id for r in spark.createDataFrame([(n,) for n in names], "n string")
           .select(access_log.uuid5(NS, F.col("n")).alias("id")).collect()]
    assert got == [str(uuid.uuid5(NS, n)) for n in names]


@pytest.mark.parametrize(("text", "ranges"), [("200-399", ((200, 399),)), ("200-299, 304", ((200, 299), (304, 304)))])
def test_counted_statuses_read_as_ranges(text, ranges):
    assert access_log.parse_statuses(text) == ranges


@pytest.mark.parametrize("text", ["", "2xx", "399-200", "200-600", "99"])
def test_counted_statuses_that_are_not_statuses_are_refused(text):
    with pytest.raises(ValueError, match="counted statuses"):
        access_log.parse_statuses(text)


def test_a_cart_method_that_is_not_a_method_is_refused_naming_it():
    given = argparse.Namespace(product_url_pattern=None, cart_method="add-to-cart", cart_url_pattern=None,
                               counted_statuses=None)
    with pytest.raises(ValueError, match="^the cart method must be an HTTP method such as POST, got 'ADD-TO-CART'$"):
        access_log.settings_from(given)


def test_a_pattern_without_the_product_id_group_is_refused():
    assert access_log.product_id_group(r"^/(a)/(?<product_id>x)") == 2
    with pytest.raises(ValueError, match="named group product_id"):
        access_log.product_id_group(r"^/products/([^/]+)")


def test_the_generators_combined_traffic_maps_to_its_ground_truth(spark, tmp_path):
    """The generator's --format combined, read by the streaming job's mapping: its summary, exactly."""
    import subprocess  # noqa: PLC0415

    from conftest import REPO  # noqa: PLC0415

    summary_file = tmp_path / "summary.json"
    generated = subprocess.run(
        ["npx", "tsx", "generator/main.ts", "--stdout", "--format", "combined", "--start", "2026-11-26T14",
         "--hours", "2", "--per-hour", "400", "--seed", "3", "--malformed-rate", "0.05",
         "--summary", str(summary_file)],
        cwd=REPO, capture_output=True, timeout=120, check=True)
    summary = json.loads(summary_file.read_text())
    records = generated.stdout.split(b"\n")[:-1]
    assert len(records) == summary["generated"] == 800
    received = datetime(2026, 11, 26, 16, 0, tzinfo=UTC)
    frame = spark.createDataFrame([(bytearray(v), "weblogs", 0, i, received) for i, v in enumerate(records)],
                                  "value binary, topic string, partition int, offset long, timestamp timestamp")
    valid, bad = parse(access_log.entries_from_access_log(frame, defaults(), CONTRACT), CONTRACT)
    valid.cache()
    per_hour_product = {(f"{r.dt}T{r.hr}:00:00Z", r.product_id, r.visits, r.cart_adds) for r in valid.groupBy(
        "dt", "hr", "product_id").agg(F.count(F.when(F.col("pid").isNull(), 1)).alias("visits"),
                                      F.count("pid").alias("cart_adds")).collect()}
    assert per_hour_product == {(r["hour"], r["product_id"], r["visits"], r["cart_adds"])
                                for r in summary["hourly_products"]}
    assert bad.count() == summary["malformed"] > 0
    assert valid.count() + bad.count() + summary["ignored"] == summary["generated"]
    assert valid.select("event_id").distinct().count() == valid.count()
