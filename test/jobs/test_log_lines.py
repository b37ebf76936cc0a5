"""The streaming job's "hour complete" line, which the deployed raw-rows and quarantined-rows metrics count and
read, matches the shared patterns in contract/log-lines.json, and those patterns extract its counts."""

from __future__ import annotations

import json
import logging
import re
from argparse import Namespace
from datetime import UTC, datetime

from conftest import REPO

from jobs import weblog_stream

LINES = json.loads((REPO / "contract" / "log-lines.json").read_text())
HOUR_COMPLETE = LINES["hourComplete"]


def test_a_marked_hour_logs_the_line_the_metrics_count_with_its_rows_and_quarantined(monkeypatch, caplog):
    counts = {"/raw/events": {("2026-11-26", 10): 150}, "/raw/quarantine": {("2026-11-26", 10): 3}}
    monkeypatch.setattr(weblog_stream, "count_by_hour", lambda _spark, sink, _hours: counts[sink])
    written: dict[str, str] = {}
    monkeypatch.setattr(weblog_stream.hadoop_files, "write_text", lambda _s, path, text: written.update({path: text}))
    args = Namespace(raw="/raw/events", quarantine="/raw/quarantine", markers="/raw/_complete")

    with caplog.at_level(logging.INFO, logger="weblog_stream"):
        weblog_stream.write_markers(None, args, [datetime(2026, 11, 26, 10, tzinfo=UTC)])

    lines = [r.getMessage() for r in caplog.records if re.search(HOUR_COMPLETE["pattern"], r.getMessage())]
    assert len(lines) == 1
    assert re.search(HOUR_COMPLETE["rows"], lines[0]).group(1) == "150"
    assert re.search(HOUR_COMPLETE["quarantined"], lines[0]).group(1) == "3"
    assert "/raw/_complete/dt=2026-11-26/hr=10/_COMPLETE" in written


def test_an_hour_with_nothing_quarantined_still_reports_zero_for_the_share():
    line = "hour complete: " + json.dumps({"hour": "2026-11-26T11", "rows": 7, "quarantined": 0})
    assert re.search(HOUR_COMPLETE["quarantined"], line).group(1) == "0"
