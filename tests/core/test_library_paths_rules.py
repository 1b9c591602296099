"""core/library_paths.py beyond tests/core/test_library_rules.py: what taking a file's lock makes on disk
(the models folder and its parents, a source host's folder set up for the group as the models folder is)
and what it refuses, in words."""

from __future__ import annotations

import os
import stat

import pytest

from ofa_manager.core import sharing
from ofa_manager.core.file_status import UnsafePathError
from ofa_manager.core.library import Library
from tests.catalogs import entry, load, write_catalog


def make(tmp_path, folder: str = "models") -> Library:
    rows = [entry("a", "https://a.org/m.pt"), entry("b", "https://b.org/m.pt")]  # two m.pt: host folders
    return Library(
        tmp_path / folder, load(write_catalog(tmp_path / "c.json", rows)), state_folder=tmp_path / "s"
    )


def test_the_lock_makes_a_models_folder_not_made_yet_with_its_parents(tmp_path):
    library = make(tmp_path, "not/made/yet")
    a = library.catalog.get("a")
    with library.lock(a) as held:
        assert isinstance(held, sharing.FolderLock)
        assert library.root.is_dir() and library.lock_path(a).is_file()
    with library.lock(a):  # the folders are there now: taken again all the same
        pass


def test_a_host_folder_made_by_the_lock_in_a_group_folder_is_a_group_folder(tmp_path):
    library = make(tmp_path)
    library.root.mkdir()
    os.chmod(library.root, 0o2775)
    a = library.catalog.get("a")
    with library.lock(a):
        pass
    mode = os.stat(library.root / "a.org").st_mode
    assert mode & stat.S_ISGID and mode & stat.S_IRWXG == stat.S_IRWXG


def test_a_file_where_the_host_folder_belongs_is_refused_in_words(tmp_path):
    library = make(tmp_path)
    library.root.mkdir()
    (library.root / "a.org").write_bytes(b"mine")
    with pytest.raises(UnsafePathError) as caught:
        library.lock(library.catalog.get("a"))
    assert str(caught.value) == (
        f"a file is at {library.root / 'a.org'} where ofa-manager keeps a folder of its own; it is left "
        "alone (nothing in the models folder is followed through links): move it away"
    )
    assert (library.root / "a.org").read_bytes() == b"mine"


def test_off_posix_the_lock_is_a_lock_file_at_the_locks_name(tmp_path, monkeypatch):
    # Another system (no POSIX record locks) cannot exist here: os.name says it is one, for this call only.
    from filelock import FileLock

    from ofa_manager.core import library_paths

    library = make(tmp_path)
    a = library.catalog.get("a")
    monkeypatch.setattr(library_paths.os, "name", "nt")
    held = library.lock(a)
    monkeypatch.undo()
    assert isinstance(held, FileLock) and held.lock_file == str(library.lock_path(a))
