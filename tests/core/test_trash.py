"""Moving a checkpoint's file to the trash through the function a front end passes in (core/trash.py)."""

from __future__ import annotations

import os

import pytest

from ofa_manager.core.file_status import NotOursError, State
from ofa_manager.core.library import Library
from ofa_manager.core.trash import NoTrashError, move_to_trash
from tests.scenes import Trash, one_file_library

DATA = b"our data"


@pytest.fixture
def library(tmp_path) -> Library:
    return one_file_library(tmp_path, DATA)


def test_only_our_file_goes_to_the_trash_and_its_metadata_with_it(library, tmp_path):
    a = library.catalog.get("a")
    path = library.path(a)
    path.write_bytes(b"the user's own file")
    trash = Trash(tmp_path / "trash")
    assert library.status(a).state is State.FOREIGN
    with pytest.raises(NotOursError, match="not moved to the trash"):
        move_to_trash(library, a, trash)
    assert trash.taken == [] and path.read_bytes() == b"the user's own file"
    path.unlink()
    os.symlink(tmp_path / "elsewhere", path)  # a link at our name is never followed, nor moved
    with pytest.raises(NotOursError, match="symbolic link"):
        move_to_trash(library, a, trash)
    assert trash.taken == [] and path.is_symlink()
    path.unlink()  # gone meanwhile: nothing to move
    with pytest.raises(FileNotFoundError, match="not there any more"):
        move_to_trash(library, a, trash)


def test_a_trash_that_refuses_keeps_the_file_and_its_metadata(library, tmp_path):
    a = library.catalog.get("a")
    path = library.path(a)
    path.write_bytes(DATA)
    assert library.adopt(a)  # matches the published size and sha256: ours
    with pytest.raises(NoTrashError, match="cannot take"):
        move_to_trash(library, a, Trash(tmp_path / "trash", accepts=False))
    assert path.read_bytes() == DATA and library.meta_path(a).exists()
    done = move_to_trash(library, a, Trash(tmp_path / "trash"))
    assert (done.path, done.where, done.size) == (path, str(tmp_path / "trash" / "a.pt"), len(DATA))
    assert not path.exists() and not library.meta_path(a).exists()
    assert (tmp_path / "trash" / "a.pt").read_bytes() == DATA
