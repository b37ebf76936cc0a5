"""User-supplied access-log URL patterns cannot stall the stream: patterns outside the linear subset are refused
before the job starts (the examples of contract/url-patterns.json, shared with the config check), lines and URLs
over the contract's limits are quarantined before any pattern runs, and every accepted pattern is timed on Java's
own regex engine (Spark's rlike, in the real JVM) against adversarial URLs of the longest length allowed."""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from jobs import access_log
from jobs.url_patterns import url_pattern_problem
from jobs.weblog_contract import load_contract
from jobs.weblog_parse import parse

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = json.loads((REPO / "contract" / "url-patterns.json").read_text(encoding="utf-8"))
CONTRACT = load_contract()
MAX_URL = next(f.spec["maxLength"] for f in CONTRACT.fields if f.name == "url")
STALLING = "^/products/(?<product_id>.*)-(.*)-(.*)-(.*)/details$"
QUICK_SECONDS = 0.5  # what an accepted pattern may take on the whole adversarial set


def settings(product: str | None = None) -> access_log.AccessLogSettings:
    return access_log.settings_from(argparse.Namespace(product_url_pattern=product, cart_method=None,
                                                       cart_url_pattern=None, counted_statuses=None))


def line(path: str) -> str:
    return f'203.0.113.9 - - [26/Nov/2026:14:05:07 +0000] "GET {path} HTTP/1.1" 200 512 "-" "Mozilla/5.0"'


@pytest.mark.parametrize("pattern", EXAMPLES["accepted"])
def test_the_job_accepts_each_pattern_the_config_check_accepts(pattern):
    assert url_pattern_problem(pattern) is None


@pytest.mark.parametrize(("pattern", "problem"), [(r["pattern"], r["problem"]) for r in EXAMPLES["refused"]])
def test_the_job_refuses_each_pattern_the_config_check_refuses_naming_the_same_problem(pattern, problem):
    assert url_pattern_problem(pattern) == problem


def test_the_pattern_that_stalled_the_stream_is_refused_with_one_sentence_before_the_job_starts():
    with pytest.raises(ValueError) as refused:
        settings(STALLING)
    assert str(refused.value) == (
        f"the URL pattern {STALLING!r} is refused: the repetition of . can also match the - that may follow it, "
        "and another repetition comes later, so a long URL makes the matcher backtrack for seconds")


def adversarial_urls(length: int) -> list[str]:
    """URLs of the given length that make a backtracking matcher try many splits: long runs of one character,
    of separators, and of almost-matching product paths, each ending in a character that fails the match."""
    bodies = ["-", "a", "/", "1", "-a", "a-", "/products/", "/p/", "?", "&", ".", "AB1"]
    return [(("/products/" + body * length)[:length - 1] + "!") for body in bodies]


def java_seconds(spark, pattern: str, urls: list[str]) -> float:
    """Seconds Java's matcher takes to search the URLs, as Spark's rlike does (Matcher.find), in the JVM."""
    compiled = spark.sparkContext._jvm.java.util.regex.Pattern.compile(access_log.spark_pattern(pattern))
    started = time.monotonic()
    for url in urls:
        compiled.matcher(url).find()
    return time.monotonic() - started


def test_every_accepted_pattern_searches_adversarial_urls_of_the_longest_length_in_java_quickly(spark):
    urls = adversarial_urls(MAX_URL)
    slowest = max((java_seconds(spark, p, urls), p) for p in EXAMPLES["accepted"])
    assert slowest[0] < QUICK_SECONDS, slowest


def test_the_timed_trial_does_catch_the_refused_pattern_on_a_short_url(spark):
    # Its time grows as the fourth power of the URL's length: 7.8 s at 371 characters was measured in Spark, and
    # 0.46 s at 160 on a fast run. 210 characters takes about 1.3 s, well over the limit however warm the JIT.
    assert java_seconds(spark, STALLING, [("/products/" + "-" * 210)[:210] + "!"]) > QUICK_SECONDS


@pytest.fixture
def shipped(spark):
    def run(values):
        received = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)
        rows = [(bytearray(v.encode()), "weblogs", 0, i, received) for i, v in enumerate(values)]
        schema = "value binary, topic string, partition int, offset long, timestamp timestamp"
        frame = spark.createDataFrame(rows, schema)
        valid, bad = parse(access_log.entries_from_access_log(frame, settings(), CONTRACT), CONTRACT)
        return valid.collect(), sorted(bad.collect(), key=lambda r: r.kafka_offset)
    return run


def test_lines_and_urls_over_the_contracts_limits_are_quarantined_before_any_pattern_runs(shipped):
    long_url = "/products/P1?" + "a" * MAX_URL
    long_line = line("/products/P2") + " " * CONTRACT.max_entry_bytes
    valid, bad = shipped([line(long_url), long_line, line("/products/P3")])
    assert [r.product_id for r in valid] == ["P3"]
    over_the_limit = f"entry of {len(long_line)} bytes is over the {CONTRACT.max_entry_bytes}-byte limit"
    assert [r.reason for r in bad] == [f"a URL longer than the contract's {MAX_URL} characters", over_the_limit]
