"""Moving the models folder to another volume: the free space there is checked before anything moves,
counting the data to copy (not the holes of a preallocated partial file, not what stays behind)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections import namedtuple

import pytest

from ofa_manager.core import relocate
from ofa_manager.core.catalog import load_catalog
from ofa_manager.core.library import Library
from tests.catalogs import entry, write_catalog
from tests.scenes import library_of

Usage = namedtuple("Usage", "total used free")


def volume_with_free(monkeypatch, target_root, free: int) -> None:
    # A volume with exactly this much room cannot be made here: the other volume's free space is what
    # the move reads, so that one figure is set, for that volume only.
    real = shutil.disk_usage

    def disk_usage(path):
        if os.fspath(path).startswith(os.fspath(target_root)):
            return Usage(10 * free + 1, 9 * free + 1, free)
        return real(path)

    monkeypatch.setattr(relocate.shutil, "disk_usage", disk_usage)


def two_files(tmp_path):
    library = library_of(tmp_path, ("a", "b", "taken"))
    a, b, taken = (library.catalog.get(n) for n in ("a", "b", "taken"))
    library.path(a).write_bytes(b"a" * 5000)
    with open(library.part_path(b), "wb") as fh:  # a preallocated partial file: 1 MiB long, 4 KiB of data
        fh.write(b"b" * 4096)
        fh.truncate(1 << 20)
    library.path(taken).write_bytes(b"t" * 100_000)  # its name is taken there: it stays, needs no room
    return library, a, b


def need_of(library):
    return sum(
        relocate.disk_bytes(p)
        for name in ("a", "b")
        for p in (library.path(library.catalog.get(name)), library.part_path(library.catalog.get(name)))
    )


def test_too_little_room_on_the_other_volume_moves_nothing_and_says_what_is_needed(
    tmp_path,
    elsewhere,  # noqa: F811
    monkeypatch,
):
    library, a, b = two_files(tmp_path)
    target = elsewhere / "models"  # made by the move, removed again when it refuses
    need = need_of(library)
    assert need < 20_000  # the holes of the partial file do not count
    volume_with_free(monkeypatch, elsewhere, need - 1)
    with pytest.raises(OSError, match=r"the files need .* and .* has .* free"):
        relocate.relocate(library, target)
    assert not target.exists()
    assert library.path(a).read_bytes() == b"a" * 5000 and library.part_path(b).stat().st_size == 1 << 20


def test_exactly_enough_room_is_enough_and_what_stays_behind_needs_none(
    tmp_path,
    elsewhere,  # noqa: F811
    monkeypatch,
):
    library, a, b = two_files(tmp_path)
    target = elsewhere / "models"
    target.mkdir()
    (target / "taken.pt").write_bytes(b"someone else's")
    volume_with_free(monkeypatch, elsewhere, need_of(library))
    result = relocate.relocate(library, target)
    assert sorted(p.name for p in result.moved) == ["a.pt", "b.pt.part"]
    assert (target / "a.pt").read_bytes() == b"a" * 5000
    assert library.path(library.catalog.get("taken")).read_bytes() == b"t" * 100_000


def test_too_little_room_names_both_figures(
    tmp_path,
    elsewhere,  # noqa: F811
    monkeypatch,
):
    library, _, _ = two_files(tmp_path)
    taken = library.path(library.catalog.get("taken"))
    need = need_of(library) + relocate.disk_bytes(taken)  # nothing is taken in a new folder: all of it moves
    volume_with_free(monkeypatch, elsewhere, need // 2)
    target = elsewhere / "models"
    with pytest.raises(OSError) as info:
        relocate.relocate(library, target)
    assert str(info.value) == (
        f"the files need {relocate.units.size(need)} and {target} has {relocate.units.size(need // 2)} free"
    )


def test_a_new_folder_is_made_with_its_parents(tmp_path):
    library = library_of(tmp_path, ("a",))
    library.path(library.catalog.get("a")).write_bytes(b"a" * 100)
    target = tmp_path / "new" / "deeper" / "models"
    result = relocate.relocate(library, target)
    assert result.moved == [target / "a.pt"] and (target / "a.pt").read_bytes() == b"a" * 100


def test_progress_counts_each_file_once_and_skipped_ones_as_done(tmp_path):
    library = library_of(tmp_path, ("a", "b"))
    library.path(library.catalog.get("a")).write_bytes(b"a" * 5000)
    library.path(library.catalog.get("b")).write_bytes(b"b" * 6000)
    target = tmp_path / "new"
    target.mkdir()
    (target / "b.pt").write_bytes(b"someone else's")  # b's name is taken: b stays, its bytes count as done
    reports = []
    result = relocate.relocate(library, target, progress=lambda done, total: reports.append((done, total)))
    assert result.moved == [target / "a.pt"]
    # a: renamed (5000), then its remainder (none); b: skipped, all of it at once; then the end.
    assert reports == [(5000, 11000), (5000, 11000), (11000, 11000), (11000, 11000)]


def test_moved_names_the_data_not_its_records_and_a_record_alone_stays(tmp_path):
    library = library_of(tmp_path, ("p", "orphan"))
    p, orphan = library.catalog.get("p"), library.catalog.get("orphan")
    library.part_path(p).write_bytes(b"p" * 300)
    library.record_path(p).write_text("{}")
    library.record_path(orphan).write_text("{}")  # a resume record without its partial file
    target = tmp_path / "new"
    result = relocate.relocate(library, target)
    assert result.moved == [target / "p.pt.part"]  # the record came along but is not a checkpoint moved
    assert (target / library.record_path(p).name).exists()
    assert library.record_path(orphan).exists() and not (target / library.record_path(orphan).name).exists()


def host_folder_library(tmp_path):
    """Two checkpoints of one file name from two hosts: each lives in its source host's folder."""
    entries = [entry("a", "http://127.0.0.1:9/x.pt"), entry("b", "http://127.0.0.2:9/x.pt")]
    library = Library(tmp_path / "old", load_catalog([write_catalog(tmp_path / "c.json", entries)]))
    a, b = library.catalog.get("a"), library.catalog.get("b")
    for item, data in ((a, b"a" * 100), (b, b"b" * 200)):
        library.path(item).parent.mkdir(parents=True)
        library.path(item).write_bytes(data)
    return library, a, b


def test_checkpoints_in_source_host_folders_move_into_the_same_folders(tmp_path):
    library, a, b = host_folder_library(tmp_path)
    target = tmp_path / "new"
    result = relocate.relocate(library, target)
    assert result.moved == [target / "127.0.0.1_9" / "x.pt", target / "127.0.0.2_9" / "x.pt"]
    assert [p.read_bytes() for p in result.moved] == [b"a" * 100, b"b" * 200] and result.skipped == []


def test_a_file_or_link_where_a_source_hosts_folder_goes_leaves_its_checkpoint_behind(tmp_path):
    library, a, b = host_folder_library(tmp_path)
    target = tmp_path / "new"
    target.mkdir()
    (target / "127.0.0.1_9").write_bytes(b"someone else's")  # a file at the host folder's name
    elsewhere_folder = tmp_path / "elsewhere"
    elsewhere_folder.mkdir()
    os.symlink(elsewhere_folder, target / "127.0.0.2_9")  # a link there: never followed
    result = relocate.relocate(library, target)
    assert result.moved == []
    assert result.skipped == [
        relocate.Skipped(library.path(a), relocate.SkipReason.NOT_A_FILE),
        relocate.Skipped(library.path(b), relocate.SkipReason.NOT_A_FILE),
    ]
    assert library.path(a).read_bytes() == b"a" * 100 and library.path(b).read_bytes() == b"b" * 200
    assert (target / "127.0.0.1_9").read_bytes() == b"someone else's" and os.listdir(elsewhere_folder) == []


def test_a_move_that_fails_names_every_file_already_moved(tmp_path):
    library = library_of(tmp_path, ("a", "b", "c"))
    for name in ("a", "b", "c"):
        library.path(library.catalog.get(name)).write_bytes(name.encode() * 100)
    os.symlink(tmp_path / "nowhere", library.lock_path(library.catalog.get("c")))  # c cannot be locked
    target = tmp_path / "new"
    with pytest.raises(relocate.RelocationError) as info:
        relocate.relocate(library, target)
    assert str(info.value).endswith(f"; already moved to {target}: a.pt, b.pt")
    assert info.value.moved == [target / "a.pt", target / "b.pt"]


def test_every_busy_file_is_named(tmp_path):
    library = library_of(tmp_path, ("a", "b"))
    holder = hold_locks(library, ["a", "b"])
    try:
        with pytest.raises(relocate.FolderBusyError) as info:
            with relocate.every_file_held(library):
                pass
        assert str(info.value) == "another ofa-manager process is using a.pt, b.pt; stop its downloads first"
    finally:
        release(holder)


def test_a_file_locked_by_another_process_is_waited_for_only_lock_wait(tmp_path):
    library = library_of(tmp_path, ("a",))
    a = library.catalog.get("a")
    library.path(a).write_bytes(b"a" * 100)
    holder = hold_locks(library, ["a"])
    try:
        with pytest.raises(relocate.RelocationError, match="already moved to .*: none"):
            relocate.relocate(library, tmp_path / "new", lock_wait=0.2)
        assert library.path(a).read_bytes() == b"a" * 100
    finally:
        release(holder)


HOLD = """
import sys
from ofa_manager.core.sharing import FolderLock
locks = [FolderLock(path) for path in sys.argv[1:]]
for lock in locks:
    lock.acquire()
print("held", flush=True)
sys.stdin.read()
"""


def hold_locks(library, names) -> subprocess.Popen:
    """Another process (a download) holding these files' locks: POSIX record locks are per process."""
    paths = [str(library.lock_path(library.catalog.get(name))) for name in names]
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, *paths], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "held"
    return holder


def release(holder: subprocess.Popen) -> None:
    holder.stdin.close()
    holder.wait(10)
    holder.stdout.close()


def test_moving_off_a_full_disk_succeeds_though_no_note_can_be_left_there(tmp_path):
    # The old folder on a 1 MiB tmpfs (mounted where this runs as root) that another program fills up
    # while the move finishes: the note saying where the checkpoints went cannot be written, and the
    # move, done by then, still reports what it moved.
    old = tmp_path / "small"
    old.mkdir()
    if (
        shutil.which("mount") is None
        or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(old)], capture_output=True
        ).returncode
    ):
        pytest.skip("no tmpfs can be mounted here")
    try:
        library = Library(
            old / "models", load_catalog([write_catalog(tmp_path / "c.json", [entry("a", "http://h/a.pt")])])
        )
        library.root.mkdir()
        library.path(library.catalog.get("a")).write_bytes(b"a" * 10_000)
        filler = old / "filler"

        def fill(done: int, total: int) -> None:
            with contextlib.suppress(OSError), open(filler, "ab", buffering=0) as fh:
                while True:
                    fh.write(b"f" * 4096)

        target = tmp_path / "new"
        result = relocate.relocate(library, target, progress=fill)
        assert result.moved == [target / "a.pt"] and (target / "a.pt").read_bytes() == b"a" * 10_000
        assert not (library.root / ".ofa-manager-moved.json").exists()
    finally:
        subprocess.run(["umount", "-l", str(old)], check=False)
