"""The lineage reconciliation's rules without a warehouse: which published objects count as not loaded, where
they are listed, and the line each one prints (contract/log-lines.json's notLoaded)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from dags.weblog_hourly_steps import (
    NOT_LOADED_LINE,
    PublishedObject,
    not_loaded_line,
    objects_without_lineage,
    reconcile_prefixes,
)

NOW = datetime(2026, 11, 26, 15, 0, tzinfo=UTC)


def published(dt: str, hr: str, updated: datetime, generation: str = "7") -> PublishedObject:
    return PublishedObject(f"hourly/dt={dt}/hr={hr}/run_id=20261126T150000000000Z/part-00000.csv", generation, updated)


def test_an_object_is_not_loaded_when_its_live_generation_has_no_lineage_row_within_the_window_past_the_grace():
    loaded = published("2026-11-26", "10", NOW - timedelta(hours=5))
    rewritten = published("2026-11-26", "09", NOW - timedelta(hours=5), generation="8")
    oldest_in_window = published("2026-11-23", "15", NOW - timedelta(hours=70))  # 72 h before now: its start is in
    before_window = published("2026-11-23", "14", NOW - timedelta(hours=70))
    just_past_grace = published("2026-11-26", "13", NOW - timedelta(hours=1))
    within_grace = published("2026-11-26", "14", NOW - timedelta(minutes=59))
    not_hourly = PublishedObject("hourly/dt=2026-11-26/hr=11/_SUCCESS", "1", NOW - timedelta(hours=4))
    lineage = {(loaded.name, "7"), (rewritten.name, "7")}
    objects = [not_hourly, within_grace, just_past_grace, rewritten, loaded, before_window, oldest_in_window]

    assert objects_without_lineage(objects, lineage, NOW) == [oldest_in_window, rewritten, just_past_grace]


def test_the_window_is_listed_one_day_folder_at_a_time_and_each_miss_prints_one_parsable_line():
    assert reconcile_prefixes(NOW) == [f"hourly/dt=2026-11-{d}/" for d in (23, 24, 25, 26)]
    obj = published("2026-11-26", "09", NOW - timedelta(hours=5))
    line = not_loaded_line("curated", obj)
    assert line.startswith(NOT_LOADED_LINE)
    assert json.loads(line.removeprefix(NOT_LOADED_LINE)) == {
        "bucket": "curated", "object": obj.name, "generation": "7", "published": "2026-11-26T10:00:00+00:00"}
