"""core/elsewhere.py rule by rule: the process named as the lock's holder (and when none is), the sentence
and the progress shown for another process's download, and the figures read from its files."""

from __future__ import annotations

import fcntl
import json
import struct
import subprocess
import sys

import pytest

from ofa_manager.core import elsewhere
from ofa_manager.core.library import Library
from tests.catalogs import MiB, entry, load, write_catalog

HOLDER = """
import fcntl, sys
fh = open(sys.argv[1], "rb+")
kind = fcntl.LOCK_EX if sys.argv[2] == "write" else fcntl.LOCK_SH
fcntl.lockf(fh, kind, int(sys.argv[3]), int(sys.argv[4]))
print("held", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def holder(tmp_path):
    """Starts another process holding a POSIX lock on a file (a real process: the kernel names it)."""
    procs = []

    def start(path, kind: str = "write", length: int = 0, offset: int = 0) -> subprocess.Popen:
        """The lock on ``length`` bytes from ``offset`` (0: to the end, as a download holds it)."""
        proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(path), kind, str(length), str(offset)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        procs.append(proc)
        assert proc.stdout.readline() == "held\n"
        return proc

    yield start
    for proc in procs:
        proc.stdin.close()
        proc.wait()
        proc.stdout.close()


@pytest.mark.parametrize("kind", ["write", "read"])
def test_the_process_holding_the_lock_is_named(tmp_path, holder, kind):
    lock = tmp_path / ".m.pt.lock"
    lock.write_bytes(b"")
    proc = holder(lock, kind)
    assert elsewhere.lock_holder(lock) == proc.pid
    assert lock.read_bytes() == b""  # only asked, never written


@pytest.mark.parametrize(("length", "offset"), [(1, 0), (10, 100)], ids=["first-byte", "further-on"])
def test_a_lock_on_any_part_of_the_file_names_its_holder(tmp_path, holder, length, offset):
    lock = tmp_path / ".m.pt.lock"
    lock.write_bytes(b"")
    proc = holder(lock, "write", length, offset)
    assert elsewhere.lock_holder(lock) == proc.pid


def test_a_link_at_the_locks_name_is_not_followed(tmp_path, holder):
    # The link leads to a file another process holds locked: what it leads to is not asked about.
    target = tmp_path / "elsewhere.lock"
    target.write_bytes(b"")
    holder(target)
    (tmp_path / ".m.pt.lock").symlink_to(target)
    assert elsewhere.lock_holder(tmp_path / ".m.pt.lock") is None


def kernel_answers(monkeypatch, l_type: int, pid: int) -> None:
    """The kernel's answer to the lock query, as given for a process that cannot be started here (pid 1,
    the largest pid Linux gives)."""
    real = fcntl.fcntl

    def answer(fd, cmd, arg=0):
        if cmd != fcntl.F_GETLK:
            return real(fd, cmd, arg)
        return struct.pack("hhqqi", l_type, 0, 0, 0, pid) + bytes(8)

    monkeypatch.setattr(fcntl, "fcntl", answer)


@pytest.mark.parametrize(
    ("pid", "named"),
    [(1, 1), (2**22, 2**22), (0, None), (-1, None), (2**22 + 1, None)],
)
def test_only_a_pid_linux_can_give_is_named(tmp_path, monkeypatch, pid, named):
    lock = tmp_path / ".m.pt.lock"
    lock.write_bytes(b"")
    kernel_answers(monkeypatch, fcntl.F_WRLCK, pid)
    assert elsewhere.lock_holder(lock) == named
    kernel_answers(monkeypatch, fcntl.F_UNLCK, pid)
    assert elsewhere.lock_holder(lock) is None


def test_a_lock_this_process_holds_names_nobody(tmp_path):
    lock = tmp_path / ".m.pt.lock"
    lock.write_bytes(b"")
    with open(lock, "rb+") as fh:
        fcntl.lockf(fh, fcntl.LOCK_EX)
        assert elsewhere.lock_holder(lock) is None


def test_a_lock_held_by_an_open_file_not_a_process_names_nobody(tmp_path):
    # An open-file-description lock conflicts with the query too, but the kernel gives no process: -1.
    lock = tmp_path / ".m.pt.lock"
    lock.write_bytes(b"")
    with open(lock, "rb+") as fh:
        fcntl.fcntl(fh, fcntl.F_OFD_SETLK, struct.pack("hhqqi", fcntl.F_WRLCK, 0, 0, 0, 0) + bytes(8))
        assert elsewhere.lock_holder(lock) is None


def test_a_folder_at_the_locks_name_names_nobody(tmp_path):
    (tmp_path / ".m.pt.lock").mkdir()
    assert elsewhere.lock_holder(tmp_path / ".m.pt.lock") is None


def test_no_holder_is_named_off_linux(tmp_path, holder, monkeypatch):
    lock = tmp_path / ".m.pt.lock"
    lock.write_bytes(b"")
    holder(lock)
    monkeypatch.setattr(elsewhere.sys, "platform", "darwin")  # another system cannot exist here
    assert elsewhere.lock_holder(lock) is None


def test_the_sentence_names_the_process_when_known():
    assert elsewhere.OtherDownload("m.pt", 4242, 0, None).sentence() == (
        "m.pt is being downloaded by another process (pid 4242)"
    )
    assert (
        elsewhere.OtherDownload("m.pt", None, 0, None).sentence()
        == "m.pt is being downloaded by another process"
    )


@pytest.mark.parametrize(
    ("done", "total", "shown"),
    [
        (0, 6 * MiB, "0 %, 0 Bytes of 6.0 MiB"),
        (3 * MiB, 6 * MiB, "50 %, 3.0 MiB of 6.0 MiB"),
        (6 * MiB - 1, 6 * MiB, "99 %, 6.0 MiB of 6.0 MiB"),  # rounded down: never 100 % before it is
        (6 * MiB, 6 * MiB, "100 %, 6.0 MiB of 6.0 MiB"),
        (7 * MiB, 6 * MiB, "100 %, 7.0 MiB of 6.0 MiB"),  # never past 100 %
        (3 * MiB, None, "3.0 MiB"),
        (3 * MiB, 0, "3.0 MiB"),
    ],
)
def test_the_progress_shown(done, total, shown):
    assert elsewhere.OtherDownload("m.pt", None, done, total).progress() == shown


def library_with(tmp_path, models_dir, record: dict | None, size: int | None = 8 * MiB) -> tuple:
    fields = {"size": size} if size is not None else {}
    catalog = write_catalog(tmp_path / "c.json", [entry("m", "https://example.org/m.pt", **fields)])
    library = Library(models_dir, load(catalog))
    m = library.catalog.get("m")
    library.root.mkdir(parents=True, exist_ok=True)
    library.part_path(m).write_bytes(b"p" * MiB)
    if record is not None:
        library.record_path(m).write_text(json.dumps(record))
    return library, m


def test_another_download_is_told_from_its_files(tmp_path, models_dir, holder):
    record = {"url": "https://example.org/m.pt", "size": 8 * MiB, "ranges": [[0, MiB // 2]]}
    library, m = library_with(tmp_path, models_dir, record)
    library.lock_path(m).write_bytes(b"")
    proc = holder(library.lock_path(m))
    found = elsewhere.other_download(library, m)
    assert found == elsewhere.OtherDownload("m.pt", proc.pid, MiB // 2, 8 * MiB)


def test_the_size_comes_from_the_record_else_the_catalog(tmp_path, models_dir):
    record = {"url": "https://example.org/m.pt", "size": 2 * MiB, "ranges": []}
    library, m = library_with(tmp_path, models_dir, record, size=None)
    assert elsewhere.other_download(library, m) == elsewhere.OtherDownload("m.pt", None, 0, 2 * MiB)
    library.record_path(m).unlink()
    assert elsewhere.other_download(library, m) == elsewhere.OtherDownload("m.pt", None, MiB, None)


def test_without_a_record_the_catalogs_size_and_the_data_on_disk(tmp_path, models_dir):
    library, m = library_with(tmp_path, models_dir, None)
    assert elsewhere.other_download(library, m) == elsewhere.OtherDownload("m.pt", None, MiB, 8 * MiB)
