"""What other downloads into the same folder still have to write (core/space.py), read from their resume
records: only running ones, rewritten within the last ACTIVE_FOR seconds, with a sane size and ranges."""

from __future__ import annotations

import json

from ofa_manager.core.file_status import RECORD_SUFFIX
from ofa_manager.core.space import ACTIVE_FOR, held_by_others

NOW = 1_800_000_000.0


def record(folder, name, **fields):
    path = folder / f"{name}{RECORD_SUFFIX}"
    values = {"running": True, "updated": NOW, "size": 1000, "ranges": [[0, 300]], "title": "Modèle ü"}
    values.update(fields)
    path.write_text(json.dumps(values, ensure_ascii=False), encoding="utf-8")
    return path


def held(folder, own, now=NOW) -> int:
    return held_by_others(folder, own, now=now)


def test_a_running_download_holds_what_it_has_not_written(tmp_path):
    own = record(tmp_path, "own", size=5000, ranges=[])  # our own record never counts
    record(tmp_path, "other")
    assert held(tmp_path, own) == 700


def test_ranges_are_clipped_to_the_file_and_odd_items_ignored(tmp_path):
    own = tmp_path / f"own{RECORD_SUFFIX}"
    record(tmp_path, "other", ranges=[[-5, 100], [900, 2000], [True, 50], [1, 2, 3], "x"])
    assert held(tmp_path, own) == 1000 - 100 - 100


def test_only_running_fresh_and_sane_records_count(tmp_path):
    own = tmp_path / f"own{RECORD_SUFFIX}"
    record(tmp_path, "paused", running=False)
    record(tmp_path, "stale", updated=NOW - ACTIVE_FOR - 1)
    record(tmp_path, "future", updated=NOW + 1)  # a clock that jumped: not trusted
    record(tmp_path, "no-time", updated="now")
    record(tmp_path, "zero", size=0)
    record(tmp_path, "bool", size=True)
    record(tmp_path, "no-ranges", ranges=None)
    (tmp_path / f"damaged{RECORD_SUFFIX}").write_text("{", encoding="utf-8")
    (tmp_path / f"list{RECORD_SUFFIX}").write_text("[]", encoding="utf-8")
    assert held(tmp_path, own) == 0


def test_the_freshness_window_includes_both_ends(tmp_path):
    own = tmp_path / f"own{RECORD_SUFFIX}"
    record(tmp_path, "just-now", updated=NOW)
    record(tmp_path, "oldest", updated=NOW - ACTIVE_FOR)
    assert held(tmp_path, own) == 2 * 700


def test_a_folder_that_cannot_be_read_holds_nothing(tmp_path):
    assert held(tmp_path / "missing", tmp_path / "own") == 0
