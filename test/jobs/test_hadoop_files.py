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
