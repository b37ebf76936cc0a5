"""When the streaming job declares an hour complete, from its committed batches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from jobs.hour_completion import CompletionTracker, earliest_hour, latest_marked_hour


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M").replace(tzinfo=UTC)


def batch(tracker: CompletionTracker, first: str, last: str, now: float, rows: int = 10) -> None:
    """A committed batch of `rows` records whose entries span first..last (YYYY-MM-DDTHH:MM)."""
    tracker.observe_batch(rows, f"{first}:00.000Z", f"{last}:00.000Z", now=now)


def test_an_hour_is_complete_once_the_watermark_passes_its_end_plus_grace():
    tracker = CompletionTracker(grace=timedelta(minutes=10))
    batch(tracker, "2026-11-26T14:00", "2026-11-26T15:09", now=0)
    assert tracker.hours_to_mark(now=1) == []
    batch(tracker, "2026-11-26T15:09", "2026-11-26T15:10", now=2)
    assert tracker.hours_to_mark(now=3) == [at("2026-11-26T14:00")]
    assert tracker.hours_to_mark(now=4) == [], "an hour is marked once"


def test_an_idle_stream_completes_its_latest_hour():
    tracker = CompletionTracker(grace=timedelta(minutes=10), idle=timedelta(seconds=30))
    batch(tracker, "2026-11-26T14:00", "2026-11-26T14:20", now=0)
    assert tracker.hours_to_mark(now=10) == []
    assert tracker.hours_to_mark(now=29) == []
    assert tracker.hours_to_mark(now=31) == [at("2026-11-26T14:00")]


def test_an_available_now_run_completes_its_latest_hour_only_once_drained():
    tracker = CompletionTracker(grace=timedelta(minutes=10), idle=timedelta(0), idle_only_when_drained=True)
    batch(tracker, "2026-11-26T14:00", "2026-11-26T14:20", now=0)
    assert tracker.hours_to_mark(now=5) == [], "a pause between batches is not the end of the topic"
    assert tracker.hours_to_mark(now=6, drained=True) == [at("2026-11-26T14:00")]


def test_hours_already_marked_by_an_earlier_run_are_not_marked_again_and_gaps_are_filled():
    tracker = CompletionTracker(grace=timedelta(0), marked_until=at("2026-11-26T12:00"))
    batch(tracker, "2026-11-26T15:30", "2026-11-26T16:00", now=0)
    assert tracker.hours_to_mark(now=1) == [at("2026-11-26T13:00"), at("2026-11-26T14:00"), at("2026-11-26T15:00")]


def test_a_restart_resumes_after_the_latest_marker_it_finds_and_marks_no_hour_twice():
    markers = "file:/data/markers"
    listed = [
        f"{markers}/dt=2026-11-26/hr=22/_COMPLETE",
        f"{markers}/dt=2026-11-26/hr=23/_COMPLETE",
        f"{markers}/dt=2026-11-27/hr=00/_COMPLETE",
        # Not markers: a late notice and a marker still being written, both of later hours.
        f"{markers}/dt=2026-11-27/hr=03/_LATE",
        f"{markers}/dt=2026-11-27/hr=04/._COMPLETE.partial",
        f"{markers}/offsets/_GAPS",
    ]
    resumed_at = latest_marked_hour(listed, "_COMPLETE")
    assert resumed_at == at("2026-11-27T00:00")
    # The restarted job replays a batch of hours already marked and reads on into new ones.
    tracker = CompletionTracker(grace=timedelta(0), marked_until=resumed_at)
    batch(tracker, "2026-11-26T23:10", "2026-11-27T03:00", now=0)
    assert tracker.hours_to_mark(now=1) == [at("2026-11-27T01:00"), at("2026-11-27T02:00")]
    assert latest_marked_hour(listed[3:], "_COMPLETE") is None, "no marker yet: the job starts from its first hour"


def test_a_first_run_that_ended_before_its_first_marker_has_its_hours_marked_by_the_next_run():
    raw = "gs://raw/events"
    folders = [f"{raw}/dt=2026-11-26/hr=11", f"{raw}/dt=2026-11-26/hr=10", f"{raw}/dt=2026-11-27/hr=00",
               f"{raw}/_checkpoints", f"{raw}/dt=2026-11-25"]
    assert earliest_hour(folders) == at("2026-11-26T10:00")
    assert earliest_hour([f"{raw}/dt=2026-11-25", f"{raw}/hr=03"]) is None
    # The restarted run reads only the last hour's entries: the hours committed before are marked too.
    tracker = CompletionTracker(grace=timedelta(minutes=10), idle=timedelta(0), idle_only_when_drained=True,
                                first_hour=earliest_hour(folders))
    batch(tracker, "2026-11-26T12:40", "2026-11-26T12:59", now=0)
    assert tracker.hours_to_mark(now=1) == [at("2026-11-26T10:00"), at("2026-11-26T11:00")]
    assert tracker.hours_to_mark(now=2, drained=True) == [at("2026-11-26T12:00")]
    # An entry older than the committed hours moves the start back.
    tracker = CompletionTracker(grace=timedelta(0), first_hour=at("2026-11-26T10:00"))
    batch(tracker, "2026-11-26T08:30", "2026-11-26T11:00", now=0)
    assert tracker.hours_to_mark(now=1) == every_hour("2026-11-26T08:00", "2026-11-26T10:00")


def all_marked(tracker: CompletionTracker, now: float) -> list[list[datetime]]:
    """Every call's hours until the tracker has none left, as the streaming job calls it."""
    calls = []
    while hours := tracker.hours_to_mark(now=now):
        calls.append(hours)
    return calls


def every_hour(first: str, last: str) -> list[datetime]:
    hours, hour = [], at(first)
    while hour <= at(last):
        hours.append(hour)
        hour += timedelta(hours=1)
    return hours


def test_a_replay_of_last_week_on_a_first_run_marks_every_hour_from_its_first_entry():
    tracker = CompletionTracker(grace=timedelta(0))
    batch(tracker, "2026-11-19T08:15", "2026-11-26T15:30", now=0)
    calls = all_marked(tracker, now=1)
    assert [hour for hours in calls for hour in hours] == every_hour("2026-11-19T08:00", "2026-11-26T14:00")
    assert all(len(hours) <= tracker.max_hours_per_call for hours in calls)


def test_a_stream_stopped_for_days_marks_every_hour_since_its_last_marker_oldest_first():
    tracker = CompletionTracker(grace=timedelta(0), marked_until=at("2026-11-20T12:00"))
    batch(tracker, "2026-11-26T15:00", "2026-11-26T15:30", now=0)
    calls = all_marked(tracker, now=1)
    assert [len(hours) for hours in calls] == [48, 48, 48, 2]
    assert [hour for hours in calls for hour in hours] == every_hour("2026-11-20T13:00", "2026-11-26T14:00")


def test_committed_batches_mark_hours_by_their_event_time_and_an_idle_stream_its_latest_hour():
    tracker = CompletionTracker(grace=timedelta(minutes=10), idle=timedelta(seconds=30))
    tracker.observe_batch(100, "2026-11-26T13:20:00.000Z", "2026-11-26T15:09:00.000Z", now=0)
    assert tracker.hours_to_mark(now=1) == [at("2026-11-26T13:00")]
    tracker.observe_batch(5, None, None, now=2)  # only rejected records: no event time, but not idle
    tracker.observe_batch(80, "2026-11-26T15:09:00.000Z", "2026-11-26T15:10:00.000Z", now=3)
    assert tracker.hours_to_mark(now=4) == [at("2026-11-26T14:00")]
    assert tracker.hours_to_mark(now=20) == [], "not idle for 30 s yet"
    assert tracker.hours_to_mark(now=40) == [at("2026-11-26T15:00")]


def test_the_idle_clock_counts_from_the_last_batch_with_records_or_in_flight():
    tracker = CompletionTracker(grace=timedelta(minutes=10), idle=timedelta(seconds=30))
    batch(tracker, "2026-11-26T14:00", "2026-11-26T14:20", now=0)
    tracker.observe_batch(0, None, None, now=20)  # an empty batch: the stream is still quiet
    assert tracker.hours_to_mark(now=30) == [at("2026-11-26T14:00")], "quiet for exactly the idle time"

    tracker = CompletionTracker(grace=timedelta(minutes=10), idle=timedelta(seconds=30))
    batch(tracker, "2026-11-26T14:00", "2026-11-26T14:20", now=0)
    batch(tracker, "2026-11-26T14:20", "2026-11-26T14:21", now=25, rows=1)
    assert tracker.hours_to_mark(now=31) == []
    tracker.observe_batch_running(now=40)
    assert tracker.hours_to_mark(now=69) == []
    assert tracker.hours_to_mark(now=70) == [at("2026-11-26T14:00")]


def test_hours_start_on_the_hour_whatever_the_fraction_of_a_second_of_the_entries():
    tracker = CompletionTracker(grace=timedelta(minutes=10))
    tracker.observe_batch(10, "2026-11-26T14:03:07.123Z", "2026-11-26T15:20:59.999Z", now=0)
    assert tracker.hours_to_mark(now=1) == [at("2026-11-26T14:00")]


def test_a_later_batch_of_older_entries_or_receipts_moves_no_watermark_back():
    tracker = CompletionTracker(grace=timedelta(minutes=10))
    received(tracker, "2026-11-26T14:00", "2026-11-26T15:20", at_="2026-11-26T15:20", now=0)
    received(tracker, "2026-11-26T14:10", "2026-11-26T14:20", at_="2026-11-26T15:05", now=1)  # another partition
    assert tracker.hours_to_mark(now=2) == [at("2026-11-26T14:00")]


def test_a_long_batch_in_flight_is_not_an_idle_stream():
    tracker = CompletionTracker(grace=timedelta(minutes=10), idle=timedelta(seconds=10))
    tracker.observe_batch(80_000, "2026-11-26T07:00:00.000Z", "2026-11-26T07:10:00.000Z", now=0)
    tracker.observe_batch_running(now=8)  # the next batch (the rest of hour 07) takes a minute
    assert tracker.hours_to_mark(now=15) == [], "hour 07 is still being written"
    tracker.observe_batch_running(now=14)
    assert tracker.hours_to_mark(now=20) == []
    tracker.observe_batch(400_000, "2026-11-26T07:10:00.000Z", "2026-11-26T07:59:00.000Z", now=60)
    assert tracker.hours_to_mark(now=71) == [at("2026-11-26T07:00")]


def received(tracker: CompletionTracker, first: str, last: str, at_: str, now: float) -> None:
    """A committed batch whose entries span first..last, received by Kafka up to at_."""
    tracker.observe_batch(10, f"{first}:00.000Z", f"{last}:00.000Z", now=now, received_max=f"{at_}:00.000Z")


def test_one_fast_clock_cannot_close_an_hour_before_it_has_ended_plus_grace():
    tracker = CompletionTracker(grace=timedelta(minutes=10))
    # At 14:40 (Kafka's time) one source, 40 minutes fast, sends entries stamped 15:20.
    received(tracker, "2026-11-26T14:00", "2026-11-26T15:20", at_="2026-11-26T14:40", now=0)
    assert tracker.hours_to_mark(now=1) == [], "hour 14 has not ended"
    received(tracker, "2026-11-26T14:55", "2026-11-26T15:50", at_="2026-11-26T15:09", now=2)
    assert tracker.hours_to_mark(now=3) == [], "hour 14 ended 9 minutes ago, under the grace"
    received(tracker, "2026-11-26T15:05", "2026-11-26T15:51", at_="2026-11-26T15:10", now=4)
    assert tracker.hours_to_mark(now=5) == [at("2026-11-26T14:00")]


def test_a_slow_clock_holds_its_hours_until_its_entries_pass_them_too():
    tracker = CompletionTracker(grace=timedelta(minutes=10))
    # Every source 30 minutes slow: received at 15:20, stamped 14:50.
    received(tracker, "2026-11-26T14:10", "2026-11-26T14:50", at_="2026-11-26T15:20", now=0)
    assert tracker.hours_to_mark(now=1) == [], "the entries of hour 14 are still arriving"
    received(tracker, "2026-11-26T14:50", "2026-11-26T15:10", at_="2026-11-26T15:40", now=2)
    assert tracker.hours_to_mark(now=3) == [at("2026-11-26T14:00")]


def test_a_replay_of_old_hours_is_marked_as_its_entries_are_read_not_at_once():
    tracker = CompletionTracker(grace=timedelta(minutes=10))
    received(tracker, "2026-11-19T08:00", "2026-11-19T10:30", at_="2026-11-26T15:00", now=0)
    assert all_marked(tracker, now=1) == [[at("2026-11-19T08:00"), at("2026-11-19T09:00")]]


def test_kafkas_time_moves_on_without_records_only_when_the_stream_is_quiet():
    tracker = CompletionTracker(grace=timedelta(minutes=10), idle=timedelta(seconds=30))
    received(tracker, "2026-11-26T14:00", "2026-11-26T15:20", at_="2026-11-26T14:50", now=0)
    assert tracker.hours_to_mark(now=5, read_until=at("2026-11-26T16:10")) == [], "records are still arriving"
    assert tracker.hours_to_mark(now=31, read_until=at("2026-11-26T16:10")) == [
        at("2026-11-26T14:00"), at("2026-11-26T15:00")]


def test_a_quiet_stream_completes_its_latest_hour_once_kafkas_time_has_moved_past_it_without_records():
    tracker = CompletionTracker(grace=timedelta(seconds=30), idle=timedelta(seconds=10))
    received(tracker, "2026-11-26T14:00", "2026-11-26T14:59", at_="2026-11-26T15:00", now=0)
    assert tracker.hours_to_mark(now=5, read_until=at("2026-11-26T15:00")) == [], "not quiet yet"
    assert tracker.hours_to_mark(now=11, read_until=at("2026-11-26T15:00")) == [], "inside the grace"
    assert tracker.hours_to_mark(now=50, read_until=at("2026-11-26T15:01")) == [at("2026-11-26T14:00")]
