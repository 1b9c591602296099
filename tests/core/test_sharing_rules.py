"""Rules of core/sharing.py no other test pinned: how the folder lock waits (its clock is a counted stand-in,
so no real waiting decides a result), what it leaves behind when it gives up, and which files moved into a
shared folder take its group and group write (links, other users' files and special files do not)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time

import pytest
from filelock import Timeout

from ofa_manager.core import sharing

ROOT = pytest.mark.skipif(
    os.name != "posix" or os.geteuid() != 0, reason="gives files another owner (root only)"
)


class Clock:
    """sharing's clock: each sleep moves it on by the time asked, at once; a run-away wait fails the test."""

    def __init__(self, on_sleep=None, limit: int = 1000) -> None:
        self.now = 1000.0
        self.slept: list[float] = []
        self.on_sleep = on_sleep
        self.limit = limit

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        assert len(self.slept) < self.limit, "the lock never stopped waiting"
        self.slept.append(seconds)
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep(len(self.slept))


class Holder:
    """Another process holding the POSIX lock of one file until told to let go."""

    def __init__(self, path) -> None:
        code = (
            "import sys, fcntl; f = open(sys.argv[1], 'a+'); fcntl.lockf(f, fcntl.LOCK_EX);"
            " print('held', flush=True); sys.stdin.readline(); fcntl.lockf(f, fcntl.LOCK_UN);"
            " print('free', flush=True); sys.stdin.read()"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-c", code, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout.readline().strip() == "held"

    def let_go(self) -> None:
        self.process.stdin.write("go\n")
        self.process.stdin.flush()
        assert self.process.stdout.readline().strip() == "free"

    def end(self) -> None:
        self.process.communicate("")


@pytest.fixture
def held(tmp_path):
    holder = Holder(tmp_path / ".x.lock")
    yield holder
    holder.end()


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_a_timeout_waits_that_long_in_polls_and_leaves_nothing_open(tmp_path, held, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(sharing, "time", clock)
    fds = open_fds()
    lock = sharing.FolderLock(tmp_path / ".x.lock")
    with pytest.raises(Timeout):
        lock.acquire(timeout=0.12)
    assert clock.slept == pytest.approx([0.05, 0.05, 0.02])  # polls, the last one cut to the deadline
    assert not lock.is_locked and open_fds() == fds
    # The thread gate was let go too: once the other process lets go, this thread gets the lock at once.
    held.let_go()
    with lock.acquire(timeout=0):
        assert lock.is_locked
    assert clock.slept == pytest.approx([0.05, 0.05, 0.02])


def test_a_poll_interval_of_its_own_is_used(tmp_path, held, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(sharing, "time", clock)
    with pytest.raises(Timeout):
        sharing.FolderLock(tmp_path / ".x.lock").acquire(timeout=1.0, poll_interval=0.4)
    assert clock.slept == pytest.approx([0.4, 0.4, 0.2])


def test_without_a_timeout_it_waits_until_the_other_process_lets_go(tmp_path, held, monkeypatch):
    clock = Clock(on_sleep=lambda n: n == 30 and held.let_go())  # 1.5 s on the lock's clock
    monkeypatch.setattr(sharing, "time", clock)
    lock = sharing.FolderLock(tmp_path / ".x.lock")
    with lock.acquire():  # the default: wait for as long as it takes
        assert lock.is_locked
    assert clock.slept == [0.05] * 30


@pytest.mark.parametrize("timeout", [None, -1, -0.5])
def test_none_or_a_negative_timeout_waits_for_ever(tmp_path, held, monkeypatch, timeout):
    clock = Clock(on_sleep=lambda n: n == 3 and held.let_go())
    monkeypatch.setattr(sharing, "time", clock)
    with sharing.FolderLock(tmp_path / ".x.lock").acquire(timeout=timeout):
        pass
    assert clock.slept == [0.05] * 3


def test_not_blocking_gives_up_at_once(tmp_path, held, monkeypatch):
    clock = Clock()
    monkeypatch.setattr(sharing, "time", clock)
    with pytest.raises(Timeout):
        sharing.FolderLock(tmp_path / ".x.lock").acquire(timeout=5, blocking=False)
    assert clock.slept == []


def test_release_counts_down_a_re_entered_lock_and_force_releases_it_all(tmp_path):
    path = tmp_path / ".x.lock"
    lock = sharing.FolderLock(path)
    lock.release()  # not held: nothing happens
    lock.acquire()
    lock.acquire()
    lock.acquire()
    lock.release()
    assert lock.is_locked
    lock.release(force=True)
    assert not lock.is_locked
    probe = "import sys, fcntl; fcntl.lockf(open(sys.argv[1], 'a+'), fcntl.LOCK_EX | fcntl.LOCK_NB)"
    other = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True)
    assert other.returncode == 0, other.stderr  # another process may lock it now
    lock.release()  # released already: nothing happens
    with lock:
        assert lock.is_locked


def test_a_lock_file_that_is_not_a_regular_file_is_refused(tmp_path):
    os.mkfifo(tmp_path / ".x.lock")
    fds = open_fds()
    lock = sharing.FolderLock(tmp_path / ".x.lock")
    with pytest.raises(OSError, match="not a regular file"):
        lock.acquire(timeout=0)
    assert open_fds() == fds and not lock.is_locked
    (tmp_path / ".x.lock").unlink()
    with lock.acquire(timeout=0):  # the thread gate was let go
        assert lock.is_locked


def test_the_lock_file_takes_the_folders_mode(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir(mode=0o755)
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o2775)
    old = os.umask(0o022)
    try:
        for folder in (plain, shared):
            with sharing.FolderLock(folder / ".x.lock"):
                pass
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(plain / ".x.lock").st_mode) == 0o644
    assert stat.S_IMODE(os.stat(shared / ".x.lock").st_mode) == 0o664


def test_the_umask_is_read_without_changing_it(tmp_path):
    old = os.umask(0o027)
    try:
        assert sharing.current_umask() == 0o027
        assert sharing.current_umask() == 0o027
    finally:
        os.umask(old)


# -- files moved into a shared folder ------------------------------------------------------------------


@pytest.fixture
def shared(tmp_path):
    folder = tmp_path / "shared"
    folder.mkdir()
    if os.geteuid() == 0:
        os.chown(folder, 0, 4242)  # any group number: root may give it
    folder.chmod(0o2775)
    return folder


def test_a_link_moved_into_a_shared_folder_is_not_followed(tmp_path, shared):
    target = tmp_path / "elsewhere.pt"
    target.write_bytes(b"data")
    target.chmod(0o600)
    before = os.stat(target)
    (shared / "link.pt").symlink_to(target)
    sharing.share_moved_file(shared / "link.pt")
    after = os.stat(target)
    assert (stat.S_IMODE(after.st_mode), after.st_gid) == (0o600, before.st_gid)


def test_something_that_is_not_a_file_is_left_as_it_is(shared):
    fifo = shared / "pipe.pt"
    os.mkfifo(fifo, 0o600)
    os.chmod(fifo, 0o600)
    sharing.share_moved_file(fifo)
    assert stat.S_IMODE(os.stat(fifo).st_mode) == 0o600
    sharing.share_moved_file(shared / "gone.pt")  # nothing there: nothing happens


@ROOT
def test_another_users_file_keeps_its_group_and_mode(shared):
    theirs = shared / "theirs.pt"
    theirs.write_bytes(b"data")
    os.chown(theirs, 4243, 4243)
    theirs.chmod(0o600)
    sharing.share_moved_file(theirs)
    st = os.stat(theirs)
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (4243, 4243, 0o600)


@ROOT
def test_a_moved_file_already_group_writable_keeps_its_other_bits(shared):
    ours = shared / "ours.pt"
    ours.write_bytes(b"data")
    ours.chmod(0o604)
    sharing.share_moved_file(ours)
    st = os.stat(ours)
    assert st.st_gid == 4242 and stat.S_IMODE(st.st_mode) == 0o664
