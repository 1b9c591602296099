"""What other downloads into the same folder still have to write (core/space.py), read from their resume
records: only running ones, rewritten within the last ACTIVE_FOR seconds, with a sane size and ranges."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import sys
import time

from ofa_manager.core import space
from ofa_manager.core.file_status import RECORD_SUFFIX
from ofa_manager.core.space import ACTIVE_FOR, SpaceCheck, held_by_others

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
    record(tmp_path, "other")
    # A name too long for the file system: listing the folder fails (ENAMETOOLONG).
    assert held(tmp_path / ("x" * 300), tmp_path / "own") == 0


def test_odd_sizes_hold_nothing_and_one_byte_is_one_byte(tmp_path):
    own = tmp_path / f"own{RECORD_SUFFIX}"
    record(tmp_path, "text", size="1000", ranges=[])
    record(tmp_path, "bool", size=True, ranges=[])
    record(tmp_path, "negative", size=-5, ranges=[])
    assert held(tmp_path, own) == 0
    record(tmp_path, "one", size=1, ranges=[])
    assert held(tmp_path, own) == 1


def test_a_file_all_written_holds_nothing_and_ranges_past_its_end_add_nothing(tmp_path):
    own = tmp_path / f"own{RECORD_SUFFIX}"
    record(tmp_path, "complete", ranges=[[0, 600], [600, 1000]])  # verifying, about to be renamed
    assert held(tmp_path, own) == 0
    record(tmp_path, "partial", ranges=[[0, 100], [1500, 2500], [400, 400]])
    assert held(tmp_path, own) == 900


def test_records_in_the_folders_per_source_host_count_too(tmp_path):
    own = tmp_path / f"own{RECORD_SUFFIX}"
    host = tmp_path / "mirror.example.org"
    host.mkdir()
    record(host, "other", ranges=[[0, 100]])
    record(tmp_path, "here")
    deeper = host / "deeper"
    deeper.mkdir()
    record(deeper, "too-deep")  # only the folder and its host folders hold records
    assert held(tmp_path, own) == 900 + 700


def test_without_a_time_given_the_clock_decides_what_is_fresh(tmp_path):
    own = tmp_path / f"own{RECORD_SUFFIX}"
    record(tmp_path, "now", updated=time.time())
    record(tmp_path, "long-ago", updated=NOW - 10 * ACTIVE_FOR)
    assert held_by_others(tmp_path, own) == 700


# -- the lock every download checks the free space under (the models folder itself, flock) ---------------


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def locked_by_others(folder) -> bool:
    """True while some other open description holds the folder's flock (a probe of our own)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing drops the probe's own lock
    return False


def test_the_space_check_holds_the_folders_lock_until_it_ends(tmp_path):
    fds = open_fds()
    assert not locked_by_others(tmp_path)
    with SpaceCheck(tmp_path) as check:
        assert isinstance(check, SpaceCheck)
        assert locked_by_others(tmp_path)
    assert not locked_by_others(tmp_path)
    assert open_fds() == fds  # the folder's descriptor is closed again


class _Clock:
    """The space module's clock, whose first sleep lets another holder go (no real waiting decides)."""

    def __init__(self, on_sleep) -> None:
        self.on_sleep = on_sleep
        self.sleeps = 0
        self.monotonic = time.monotonic
        self.time = time.time

    def sleep(self, seconds: float) -> None:
        assert seconds == 0.01  # it polls every 10 ms
        self.sleeps += 1
        if self.sleeps == 1:
            self.on_sleep()


def test_a_second_check_waits_for_the_first_and_then_holds_the_lock(tmp_path, monkeypatch):
    first = [os.open(tmp_path, os.O_RDONLY)]
    fcntl.flock(first[0], fcntl.LOCK_EX)  # another download's check, in this process or another

    def first_ends() -> None:
        os.close(first.pop())

    clock = _Clock(first_ends)
    monkeypatch.setattr(space, "time", clock)
    try:
        with SpaceCheck(tmp_path):
            assert clock.sleeps >= 1  # it waited
            assert locked_by_others(tmp_path)  # and then took the lock
    finally:
        for fd in first:
            os.close(fd)
    assert not locked_by_others(tmp_path)


def test_a_lock_held_too_long_is_given_up_and_the_check_goes_on_alone(tmp_path, monkeypatch):
    monkeypatch.setattr(space, "LOCK_WAIT", 0.0)
    holder = os.open(tmp_path, os.O_RDONLY)
    fcntl.flock(holder, fcntl.LOCK_EX)
    try:
        fds = open_fds()
        with SpaceCheck(tmp_path):
            assert open_fds() == fds  # its own descriptor is closed: it holds nothing
        assert open_fds() == fds
    finally:
        os.close(holder)
    assert not locked_by_others(tmp_path)


def test_a_missing_folder_is_checked_without_a_lock(tmp_path):
    fds = open_fds()
    with SpaceCheck(tmp_path / "missing"):
        assert open_fds() == fds
    assert open_fds() == fds


def test_where_folders_cannot_be_locked_the_check_holds_a_lock_of_this_process(tmp_path, monkeypatch):
    # No fcntl (Windows) cannot exist here: its import is made to fail, as it does there.
    monkeypatch.setitem(sys.modules, "fcntl", None)
    with SpaceCheck(tmp_path):
        assert space._PROCESS_LOCK.locked()
        assert not locked_by_others(tmp_path)  # the folder itself is not locked there
    assert not space._PROCESS_LOCK.locked()


def test_a_folder_whose_file_system_cannot_lock_is_checked_alone(tmp_path, monkeypatch):
    # A file system without flock cannot exist here: flock is made to fail as it does there (ENOLCK).
    def no_locks(fd, operation):
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(fcntl, "flock", no_locks)
    fds = open_fds()
    with SpaceCheck(tmp_path):
        assert open_fds() == fds  # its descriptor is closed: it holds nothing
    assert open_fds() == fds
