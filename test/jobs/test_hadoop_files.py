"""The small files the streaming job writes (hour markers, presence objects, late notices, gap records) on a
local file system: whole or not at all, readable by Hadoop's reader, and nothing left beside them."""

import pytest

from jobs import hadoop_files


def test_a_small_file_is_written_in_new_folders_replaced_whole_and_read_back_by_hadoop(spark, tmp_path):
    marker = tmp_path / "_complete" / "dt=2026-11-29" / "hr=07" / "_COMPLETE"
    hadoop_files.write_text(spark, str(marker), '{"rows": 1}')
    hadoop_files.write_text(spark, f"file:{marker}", '{"rows": 12500}')  # a qualified path names the same file
    assert hadoop_files.read_text(spark, str(marker)) == '{"rows": 12500}'
    assert sorted(p.name for p in marker.parent.iterdir()) == ["_COMPLETE"]


def test_a_checksum_file_hadoops_writer_left_does_not_outlive_the_content_it_was_for(spark, tmp_path):
    marker = tmp_path / "_LATE"
    fs, path = hadoop_files._fs_path(spark, str(marker))
    hadoop_files._write(fs, path, '{"batch": 1}')  # Hadoop's own writer: the file and its .crc
    assert (tmp_path / "._LATE.crc").exists()
    hadoop_files.write_text(spark, str(marker), '{"batch": 22}')
    assert hadoop_files.read_text(spark, str(marker)) == '{"batch": 22}'  # the reader checks any checksum
    assert not (tmp_path / "._LATE.crc").exists()


def test_a_write_that_stops_before_its_rename_leaves_the_old_content(spark, tmp_path, monkeypatch):
    marker = tmp_path / "_COMPLETE"
    hadoop_files.write_text(spark, str(marker), "old")

    def killed(*_args):
        raise KeyboardInterrupt

    monkeypatch.setattr(hadoop_files.os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        hadoop_files.write_text(spark, str(marker), "new")
    assert marker.read_text() == "old"


def test_a_local_folder_is_listed_as_hadoops_own_listing_spells_it(spark, tmp_path):
    for name in ("dt=2026-11-29/hr=07/part-0.parquet", "dt=2026-11-29/hr=07/.part-0.parquet.crc",
                 "dt=2026-11-29/hr=08/_PRESENT", "_SUCCESS", "a b/c%d.json"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    (tmp_path / "empty").mkdir()
    fs, path = hadoop_files._fs_path(spark, str(tmp_path))
    hadoop, it = [], fs.listFiles(path, True)
    while it.hasNext():
        hadoop.append(str(it.next().getPath().toString()))
    assert hadoop_files.list_files(spark, str(tmp_path)) == sorted(hadoop)
    assert hadoop_files.list_files(spark, str(tmp_path / "_SUCCESS")) == [f"file:{tmp_path}/_SUCCESS"]
    assert hadoop_files.list_files(spark, str(tmp_path / "absent")) == []


def test_a_local_move_creates_the_target_folder_and_leaves_nothing_at_the_source(spark, tmp_path):
    source = tmp_path / "staging" / "part-0.parquet"
    source.parent.mkdir()
    source.write_text("rows")
    target = tmp_path / "events" / "dt=2026-11-29" / "hr=07" / "b3-part-0.parquet"
    hadoop_files.rename(spark, f"file:{source}", str(target))
    assert target.read_text() == "rows" and not source.exists()
