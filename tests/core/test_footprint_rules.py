"""core/footprint.py's count, rule by rule: the data a file holds on disk, what a resume record says
arrived, and the smaller of the two for a partial file."""

from __future__ import annotations

import os
import types

import pytest

from ofa_manager.core import footprint

KiB = 1024


def sparse(path, length: int, data: bytes) -> os.stat_result:
    """A file ``length`` bytes long holding ``data`` at its start and a hole after it."""
    with open(path, "wb") as fh:
        fh.write(data)
        fh.truncate(length)
    return os.lstat(path)


def test_a_sparse_file_counts_its_allocated_blocks_of_512_bytes(tmp_path):
    st = sparse(tmp_path / "f", 1024 * KiB, b"x" * (64 * KiB))
    assert 0 < st.st_blocks * 512 < st.st_size  # the file system kept the hole
    assert footprint.data_on_disk(tmp_path / "f") == st.st_blocks * 512


def test_a_full_file_counts_its_length_not_its_last_block(tmp_path):
    (tmp_path / "f").write_bytes(b"y" * 100)  # one block allocated for 100 bytes
    assert footprint.data_on_disk(tmp_path / "f") == 100


def test_nothing_a_folder_or_a_link_counts_nothing(tmp_path):
    (tmp_path / "data").write_bytes(b"z" * 5000)
    os.symlink(tmp_path / "data", tmp_path / "link")
    (tmp_path / "folder").mkdir()
    assert footprint.data_on_disk(tmp_path / "missing") == 0
    assert footprint.data_on_disk(tmp_path / "missing" / "below") == 0
    assert footprint.data_on_disk(tmp_path / "link") == 0  # never followed
    assert footprint.data_on_disk(tmp_path / "folder") == 0


def test_without_block_counts_the_length_counts(tmp_path, monkeypatch):
    # Systems without st_blocks (Windows) cannot exist here: a stat result without it stands in for theirs.
    st = sparse(tmp_path / "f", 10_000, b"a")
    fields = {name: getattr(st, name) for name in ("st_mode", "st_size")}
    monkeypatch.setattr(footprint.os, "lstat", lambda path: types.SimpleNamespace(**fields))
    assert footprint.data_on_disk(tmp_path / "f") == 10_000


@pytest.mark.parametrize(
    "record",
    [
        {},
        {"size": 100},  # no ranges
        {"size": 100, "ranges": "0-10"},
        {"size": None, "ranges": [[0, 10]]},
        {"size": "100", "ranges": [[0, 10]]},
        {"size": True, "ranges": [[0, 1]]},
        {"size": 0, "ranges": []},
        {"size": 0, "ranges": [[0, 10]]},
        {"size": -5, "ranges": [[0, 10]]},
        {"size": 100, "ranges": [[0, 1, 2]]},
        {"size": 100, "ranges": [(0, 10)]},
        {"size": 100, "ranges": [[0]]},
        {"size": 100, "ranges": [[0, "5"]]},
        {"size": 100, "ranges": [[False, 5]]},
        {"size": 100, "ranges": [[0, 5], [10, True]]},
        {"size": 100, "ranges": [[0, 5.0]]},
    ],
)
def test_a_record_that_cannot_say_counts_as_unknown(record):
    assert footprint.received(record) is None


@pytest.mark.parametrize(
    ("size", "ranges", "arrived"),
    [
        (1, [[0, 1]], 1),  # the smallest file
        (100, [], 0),
        (100, [[0, 10]], 10),
        (100, [[0, 10], [20, 30]], 20),  # ranges add up
        (100, [[5, 10], [50, 51]], 6),
        (100, [[-10, 10]], 10),  # clipped to the file
        (100, [[90, 150]], 10),
        (100, [[200, 300]], 0),  # wholly past the end counts nothing
        (100, [[30, 10]], 0),  # reversed counts nothing
        (100, [[0, 60], [40, 100]], 100),  # overlapping, never more than the file
    ],
)
def test_what_a_record_says_arrived(size, ranges, arrived):
    assert footprint.received({"size": size, "ranges": ranges}) == arrived


def test_a_partial_file_counts_the_smaller_of_its_data_and_its_record(tmp_path):
    part = tmp_path / "m.pt.part"
    part.write_bytes(b"d" * (8 * KiB))
    assert footprint.partial_data(part, {"size": 64 * KiB, "ranges": [[0, 4 * KiB]]}) == 4 * KiB
    assert footprint.partial_data(part, {"size": 64 * KiB, "ranges": [[0, 32 * KiB]]}) == 8 * KiB
    # A record that cannot say (none, damaged) leaves the data on disk.
    assert footprint.partial_data(part, {}) == 8 * KiB
    assert footprint.partial_data(part, {"size": 64 * KiB, "ranges": [[0, "x"]]}) == 8 * KiB
    assert footprint.partial_data(tmp_path / "none.part", {"size": 10, "ranges": [[0, 10]]}) == 0
