"""Moving a models folder and the durable file operations under it, without Qt (core/relocate, durable)."""

from __future__ import annotations

import errno
import json
import os
import threading

import pytest

from ofa_manager.core import durable, relocate, settings
from ofa_manager.core.relocate import (
    FolderBusyError,
    RelocationError,
    SkipReason,
    every_file_held,
    move_file,
)
from tests.catalogs import MiB
from tests.scenes import library_of


class Progress:
    def __init__(self) -> None:
        self.reports: list[tuple[int, int]] = []

    def __call__(self, done: int, total: int) -> None:
        self.reports.append((done, total))


def test_moving_the_folder_skips_what_is_gone_or_taken_and_clears_stale_copies(tmp_path):
    names = ("kept", "taken", "gone", "partial")
    library = library_of(tmp_path, names)
    kept, taken, gone, partial = (library.catalog.get(name) for name in names)
    library.part_path(partial).write_bytes(b"p" * 200)
    library.record_path(partial).write_text("{}")
    library.path(kept).write_bytes(b"k" * 1000)
    library.write_meta(kept, {"size": 1000})
    library.path(taken).write_bytes(b"t" * 500)
    library.write_meta(taken, {"size": 500})
    library.path(gone).write_bytes(b"g" * 300)
    target = tmp_path / "new"
    target.mkdir()
    (target / "taken.pt").write_bytes(b"someone else's file")
    (target / "partial.pt").write_bytes(b"another file where our partial download would end")
    (target / ".kept.pt.moving").write_bytes(b"a copy a crash left behind")
    (target / ".kept.pt.meta.json").write_text('{"catalog_url": "http://elsewhere/old.pt"}')  # stale
    (target / "kept.pt.part.json").write_text('{"ranges": [[0, 1000]]}')  # stale, with no .part
    (target / ".unrelated.moving").write_bytes(b"not ours to remove")

    progress = Progress()
    original_lock = library.lock

    def lock_then_vanish(e):
        # Another program removes "gone" after the move listed it, before its turn came.
        if e.id == "gone":
            library.path(gone).unlink(missing_ok=True)
        return original_lock(e)

    library.lock = lock_then_vanish
    result = relocate.relocate(library, target, progress=progress)
    assert result.root == target and result.moved == [target / "kept.pt"]
    assert [(s.path, s.reason) for s in result.skipped] == [
        (library.path(taken), SkipReason.NAME_TAKEN),
        (library.part_path(partial), SkipReason.NAME_TAKEN),
    ]
    assert (target / "kept.pt").read_bytes() == b"k" * 1000
    # Its own metadata came along and replaced the stale one; the orphan resume record is gone.
    assert library.read_meta(kept) == {} and json.loads((target / ".kept.pt.meta.json").read_text()) == {
        "size": 1000
    }
    assert not (target / "kept.pt.part.json").exists()
    # A partial download whose file name is taken there stays where it was, with its record.
    assert library.part_path(partial).exists() and library.record_path(partial).exists()
    assert (target / ".unrelated.moving").exists()
    # The taken name keeps its own file; ours stays behind whole, with its metadata.
    assert (target / "taken.pt").read_bytes() == b"someone else's file"
    assert library.path(taken).read_bytes() == b"t" * 500 and library.meta_path(taken).exists()
    assert not (target / ".taken.pt.meta.json").exists() and not (target / ".kept.pt.moving").exists()
    assert progress.reports[-1][0] == progress.reports[-1][1]  # done counts everything, skipped and gone too


def test_a_move_leaves_links_and_folders_at_our_names_where_they_are(tmp_path):
    library = library_of(tmp_path, ("plain", "pinned"))
    plain, pinned = library.catalog.get("plain"), library.catalog.get("pinned")
    outside = tmp_path / "precious.bin"
    outside.write_bytes(b"precious")
    os.symlink(outside, library.part_path(pinned))  # a link where partial data would be
    library.path(pinned).mkdir()  # a folder where the finished file would be
    library.path(plain).write_bytes(b"plain data")
    target = tmp_path / "new"
    target.mkdir()
    os.symlink(tmp_path / "nowhere", target / "plain.pt")  # a dangling link takes the name there
    result = relocate.relocate(library, target)
    assert result.moved == []
    assert sorted((s.path.name, s.reason) for s in result.skipped) == [
        ("pinned.pt", SkipReason.NOT_A_FILE),
        ("pinned.pt.part", SkipReason.NOT_A_FILE),
        ("plain.pt", SkipReason.NAME_TAKEN),
    ]
    assert library.part_path(pinned).is_symlink() and outside.read_bytes() == b"precious"
    assert library.path(pinned).is_dir() and library.path(plain).read_bytes() == b"plain data"
    assert os.readlink(target / "plain.pt") == str(tmp_path / "nowhere")
    assert sorted(os.listdir(target)) == ["plain.pt"]


def test_a_stopped_move_stops_between_checkpoints(tmp_path):
    library = library_of(tmp_path, ("a", "b"))
    for name in ("a", "b"):
        library.path(library.catalog.get(name)).write_bytes(name.encode() * 100)
    progress = Progress()
    said = "stopped before the move was complete; already moved to .*: a.pt"
    with pytest.raises(RelocationError, match=said) as e:
        # The front end stops once the first file is across.
        relocate.relocate(
            library, tmp_path / "new", progress=progress, stopped=lambda: bool(progress.reports)
        )
    assert e.value.stopped and e.value.moved == [tmp_path / "new" / "a.pt"]
    assert (tmp_path / "new" / "a.pt").exists() and library.path(library.catalog.get("b")).exists()


def test_a_failed_move_is_not_taken_for_a_stopped_one(tmp_path):
    library = library_of(tmp_path, ("a",))
    library.path(library.catalog.get("a")).write_bytes(b"a" * 100)
    target = tmp_path / "new"
    target.mkdir()
    os.symlink(tmp_path / "nowhere", library.lock_path(library.catalog.get("a")))  # refused: never followed
    with pytest.raises(RelocationError, match="symbolic link .*already moved to .*: none") as e:
        relocate.relocate(library, target)
    assert not e.value.stopped and e.value.moved == []
    assert library.path(library.catalog.get("a")).read_bytes() == b"a" * 100


def test_every_file_held_refuses_while_another_holder_has_a_lock_and_holds_none(tmp_path):
    library = library_of(tmp_path, ("a", "b"))
    a, b = library.catalog.get("a"), library.catalog.get("b")
    # A download holds its file's lock for as long as it runs; here a thread of its own holds b's (the
    # folder lock excludes other threads as it excludes other processes).
    holding, release = threading.Event(), threading.Event()

    def download() -> None:
        with library.lock(b):
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=download)
    holder.start()
    try:
        assert holding.wait(30)
        with pytest.raises(FolderBusyError, match="another ofa-manager process is using b.pt") as e:
            with every_file_held(library):
                pass
        assert e.value.busy == [library.path(b)]
        # a's lock was let go again: nothing is held after a refusal (another thread can take it).
        taken = []
        probe = threading.Thread(target=lambda: taken.append(_try_lock(library, a)))
        probe.start()
        probe.join(30)
        assert taken == [True]
    finally:
        release.set()
        holder.join(30)
    with every_file_held(library):
        library.path(a).write_bytes(b"a")
        result = relocate.relocate(library, tmp_path / "new", holding=True, lock_wait=0)
    assert result.moved == [tmp_path / "new" / "a.pt"]


def _try_lock(library, entry) -> bool:
    from filelock import Timeout

    lock = library.lock(entry)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return False
    lock.release()
    return True


def test_a_sparse_partial_file_keeps_its_holes_across_volumes(tmp_path, elsewhere):
    source = tmp_path / "big.pt.part"
    with open(source, "wb") as fh:
        fh.truncate(64 * MiB)  # preallocated as downloads do: mostly holes
        fh.seek(8 * MiB)
        fh.write(b"d" * MiB)
    expected = source.read_bytes()
    copied: list[int] = []
    move_file(source, elsewhere / "big.pt.part", copied.append)
    moved = elsewhere / "big.pt.part"
    assert moved.stat().st_size == 64 * MiB and moved.read_bytes() == expected
    if moved.stat().st_blocks:  # where the file system reports its blocks
        assert moved.stat().st_blocks * 512 < 8 * MiB
    assert sum(copied) < 8 * MiB and not source.exists()


def test_a_move_across_volumes_reports_progress_while_it_copies(tmp_path, elsewhere):
    library = library_of(tmp_path, ("big",))
    data = os.urandom(3 * durable.COPY_CHUNK + 5)
    library.path(library.catalog.get("big")).write_bytes(data)
    progress = Progress()
    result = relocate.relocate(library, elsewhere / "models", progress=progress)
    assert result.moved == [elsewhere / "models" / "big.pt"]
    assert (elsewhere / "models" / "big.pt").read_bytes() == data
    assert any(0 < done < total for done, total in progress.reports), progress.reports
    assert progress.reports[-1] == (len(data), len(data))


def test_data_spans_fall_back_to_the_whole_file_when_holes_are_misreported(tmp_path, monkeypatch):
    path = tmp_path / "f"
    path.write_bytes(b"x" * 5000)
    with open(path, "rb") as fh:
        assert durable.data_spans(fh.fileno(), 5000) == [(0, 5000)]
        # A file system that answers SEEK_HOLE with the data's own start (seen on some FUSE mounts) cannot
        # be made here: lseek is replaced to behave so. The copy must not loop; it copies everything.
        real = os.lseek
        monkeypatch.setattr(
            durable.os,
            "lseek",
            lambda fd, pos, how: pos if how == getattr(os, "SEEK_HOLE", -1) else real(fd, pos, how),
        )
        assert durable.data_spans(fh.fileno(), 5000) == [(0, 5000)]


def test_a_stopped_copy_across_volumes_removes_its_temporary_file_and_keeps_the_source(tmp_path, elsewhere):
    source = tmp_path / "big.pt"
    data = os.urandom(3 * durable.COPY_CHUNK + 5)
    source.write_bytes(data)
    copied: list[int] = []
    with pytest.raises(OSError, match="stopped while copying big.pt"):
        move_file(source, elsewhere / "big.pt", copied.append, lambda: len(copied) >= 2)
    assert sum(copied) == 2 * durable.COPY_CHUNK
    assert list(elsewhere.iterdir()) == []
    assert source.read_bytes() == data
    # Uninterrupted, every byte is counted and the file arrives whole, with its time stamps.
    copied.clear()
    mtime = source.stat().st_mtime_ns
    move_file(source, elsewhere / "big.pt", copied.append)
    assert sum(copied) == len(data) and not source.exists()
    assert (elsewhere / "big.pt").read_bytes() == data
    assert (elsewhere / "big.pt").stat().st_mtime_ns == mtime


def test_a_copy_whose_folder_sync_fails_keeps_its_source(tmp_path, elsewhere, monkeypatch):
    source = tmp_path / "big.pt"
    source.write_bytes(b"s" * 5000)

    def failing_sync(folder, *, on_error):
        # A disk that fails to sync cannot be made here; the folder sync is replaced by one that fails.
        assert on_error is durable.OnError.RAISE
        raise OSError(errno.EIO, "the disk failed")

    monkeypatch.setattr(relocate, "sync_folder", failing_sync)
    with pytest.raises(OSError, match="the disk failed"):
        move_file(source, elsewhere / "big.pt")
    assert source.read_bytes() == b"s" * 5000
    assert not (elsewhere / ".big.pt.moving").exists()


def test_the_folder_sync_policy_is_a_parameter(tmp_path):
    missing = tmp_path / "not-there"
    with pytest.raises(FileNotFoundError):
        durable.sync_folder(missing, on_error=durable.OnError.RAISE)
    durable.sync_folder(missing, on_error=durable.OnError.IGNORE)  # a finished download goes on
    durable.sync_folder(tmp_path, on_error=durable.OnError.RAISE)


def test_there_is_one_atomic_json_writer(tmp_path):
    from ofa_manager.core import library, queue

    assert settings.atomic_write_json is durable.atomic_write_json
    assert library.atomic_write_json is durable.atomic_write_json is queue.atomic_write_json
    path = tmp_path / "a" / "x.json"
    durable.atomic_write_json(path, {"k": "ü"})
    assert json.loads(path.read_text(encoding="utf-8")) == {"k": "ü"}
    assert os.listdir(path.parent) == ["x.json"]


def test_a_folder_sync_that_fails_raises_only_when_asked_to(tmp_path, monkeypatch):
    def failing(code: int):
        def fsync(fd: int) -> None:
            raise OSError(code, os.strerror(code))

        return fsync

    # A disk that fails to sync cannot be made here: fsync is replaced by one that fails.
    monkeypatch.setattr(durable.os, "fsync", failing(errno.EIO))
    with pytest.raises(OSError, match=os.strerror(errno.EIO)):
        durable.sync_folder(tmp_path, on_error=durable.OnError.RAISE)
    durable.sync_folder(tmp_path, on_error=durable.OnError.IGNORE)
    # A file system that cannot sync folders at all keeps the rename anyway: not an error.
    monkeypatch.setattr(durable.os, "fsync", failing(errno.EINVAL))
    durable.sync_folder(tmp_path, on_error=durable.OnError.RAISE)
