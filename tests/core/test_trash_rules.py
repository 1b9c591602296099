"""Moving to the trash: the command line's Send2Trash really moves the file, and the file's lock is waited
for only as long as asked."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import filelock
import pytest

from ofa_manager.core.library import Library
from ofa_manager.core.trash import move_to_trash, send2trash_function
from tests.scenes import Trash, one_file_library

DATA = b"our data"


@pytest.fixture
def library(tmp_path) -> Library:
    return one_file_library(tmp_path, DATA)


def test_send2trash_moves_the_file_into_the_users_trash_and_says_so(
    tmp_path, isolated_user_folders, monkeypatch
):
    # The XDG home trash is in XDG_DATA_HOME (a temp folder here); tmp_path shares its volume. Send2Trash
    # reads XDG_DATA_HOME once, when first imported (maybe by an earlier test): it is pointed at this one.
    send2trash = pytest.importorskip("send2trash")
    plat_other = pytest.importorskip("send2trash.plat_other")
    if send2trash.send2trash is not plat_other.send2trash:
        pytest.skip("Send2Trash uses GIO here, which finds the trash on its own")
    data_home = os.fsencode(isolated_user_folders["XDG_DATA_HOME"])
    monkeypatch.setattr(plat_other, "XDG_DATA_HOME", data_home)
    monkeypatch.setattr(plat_other, "HOMETRASH_B", os.path.join(data_home, b"Trash"))
    monkeypatch.setattr(plat_other, "HOMETRASH", os.fsdecode(os.path.join(data_home, b"Trash")))
    path = tmp_path / "model.pt"
    path.write_bytes(DATA)
    where = send2trash_function(path)
    assert where == "the trash (model.pt)"
    assert not path.exists()
    trashed = list((isolated_user_folders["XDG_DATA_HOME"] / "Trash" / "files").iterdir())
    assert [p.read_bytes() for p in trashed] == [DATA]


HOLD = textwrap.dedent(
    """
    import sys
    from ofa_manager.core.sharing import FolderLock
    lock = FolderLock(sys.argv[1])
    lock.acquire()
    print("held", flush=True)
    sys.stdin.read()
    """
)


def test_a_file_locked_by_another_process_is_waited_for_only_lock_wait(library, tmp_path):  # noqa: F811
    a = library.catalog.get("a")
    library.path(a).write_bytes(DATA)
    assert library.adopt(a)
    trash = Trash(tmp_path / "trash")
    # Another process (a download, another window) holds the file's lock; POSIX record locks are per
    # process, so the holder has to be another one.
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(library.lock_path(a))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(filelock.Timeout):
            move_to_trash(library, a, trash, lock_wait=0.2)
        assert trash.taken == [] and library.path(a).read_bytes() == DATA
    finally:
        holder.stdin.close()
        holder.wait(10)
        holder.stdout.close()
    assert move_to_trash(library, a, trash).size == len(DATA)
