"""Moving the models folder to another volume: the free space there is checked before anything moves,
counting the data to copy (not the holes of a preallocated partial file, not what stays behind)."""

from __future__ import annotations

import os
import shutil
from collections import namedtuple

import pytest

from ofa_manager.core import relocate
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
