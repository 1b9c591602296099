"""Rules of core/sharing.py no other test pinned: how the folder lock waits (its clock is a counted stand-in,
so no real waiting decides a result), what it leaves behind when it gives up, and which files moved into a
shared folder take its group and group write (links, other users' files and special files do not)."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import threading
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
    with pytest.raises(OSError) as info:
        lock.acquire(timeout=0)
    assert (info.value.errno, info.value.strerror) == (errno.EINVAL, "not a regular file")
    assert info.value.filename == str(tmp_path / ".x.lock")
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


def test_without_proc_the_umask_is_read_by_setting_it_back(monkeypatch):
    # A system without /proc cannot exist here: opening its status file is made to fail, as it does there.
    def no_proc(*args, **kwargs):
        raise FileNotFoundError("/proc/self/status")

    monkeypatch.setattr(sharing, "open", no_proc, raising=False)
    old = os.umask(0o027)
    try:
        assert sharing.current_umask() == 0o027
        assert sharing.current_umask() == 0o027  # and it is still what it was
    finally:
        os.umask(old)


# -- folders made inside a shared folder -----------------------------------------------------------------


def test_a_folder_made_in_a_shared_folder_is_shared_the_same_way(tmp_path, shared):
    old = os.umask(0o022)
    try:
        sharing.make_shared_folder(shared / "host.example")
        sharing.make_shared_folder(shared / "host.example")  # there already: no harm
        plain = tmp_path / "plain"
        plain.mkdir(mode=0o755)
        sharing.make_shared_folder(plain / "host.example")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(shared / "host.example").st_mode) == 0o2775
    assert stat.S_IMODE(os.stat(plain / "host.example").st_mode) == 0o755


def test_a_folder_already_shared_is_left_as_it_is(shared):
    folder = shared / "host.example"
    folder.mkdir()
    folder.chmod(0o3777)  # more than asked for: nothing is taken away
    sharing.make_shared_folder(folder)
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o3777


def test_a_link_at_the_folders_name_is_not_followed(tmp_path, shared):
    target = tmp_path / "target"
    target.mkdir(mode=0o700)
    target.chmod(0o700)
    (shared / "host.example").symlink_to(target)
    sharing.make_shared_folder(shared / "host.example")
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o700


@ROOT
def test_another_users_folder_keeps_its_mode(shared):
    folder = shared / "host.example"
    folder.mkdir()
    os.chown(folder, 4243, 4243)
    folder.chmod(0o755)
    sharing.make_shared_folder(folder)
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o755


def test_a_new_file_in_a_shared_folder_gets_group_write(tmp_path, shared):
    for folder, expected in ((shared, 0o660), (tmp_path, 0o600)):
        path = folder / "new.pt"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.fchmod(fd, 0o600)
            sharing.share_new_file(fd, folder)
        finally:
            os.close(fd)
        assert stat.S_IMODE(os.stat(path).st_mode) == expected, folder


@ROOT
def test_a_new_file_of_another_user_keeps_its_mode(shared):
    path = shared / "theirs.pt"
    path.write_bytes(b"")
    os.chown(path, 4243, 4243)
    path.chmod(0o600)
    fd = os.open(path, os.O_RDONLY)
    try:
        sharing.share_new_file(fd, shared)
    finally:
        os.close(fd)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_a_folder_is_shared_only_with_setgid_and_group_write(tmp_path):
    cases = {0o2775: True, 0o2770: True, 0o2755: False, 0o0775: False}
    for mode, expected in cases.items():
        folder = tmp_path / f"m{mode:o}"
        folder.mkdir()
        folder.chmod(mode)
        assert sharing.is_group_shared(folder) is expected, oct(mode)
    a_file = tmp_path / "file"
    a_file.write_bytes(b"")
    a_file.chmod(0o2775)
    assert sharing.is_group_shared(a_file) is False
    assert sharing.is_group_shared(tmp_path / "missing") is False


def test_the_umask_is_read_from_proc_without_setting_it(monkeypatch):
    # os.umask is wrapped (the real call still runs) to see whether the mask was set to read it: setting it,
    # even for a moment, would change the mode of a file another thread creates meanwhile.
    calls = []
    real = os.umask

    def umask(mask):
        calls.append(mask)
        return real(mask)

    old = real(0o027)
    monkeypatch.setattr(os, "umask", umask)
    try:
        assert sharing.current_umask() == 0o027
    finally:
        real(old)
    assert calls == []


@ROOT
def test_a_plain_folder_gives_a_moved_file_neither_its_group_nor_group_write(tmp_path):
    plain = tmp_path / "plain"
    plain.mkdir()
    os.chown(plain, 0, 4242)
    plain.chmod(0o755)  # its group may not write: not shared
    moved = plain / "x.pt"
    moved.write_bytes(b"data")
    os.chown(moved, 0, 0)
    moved.chmod(0o600)
    sharing.share_moved_file(moved)
    st = os.stat(moved)
    assert (st.st_gid, stat.S_IMODE(st.st_mode)) == (0, 0o600)


# -- the lock between threads of one process -------------------------------------------------------------


def in_thread(action):
    """What ``action()`` returned or raised, run in another thread."""
    outcome = []

    def run():
        try:
            outcome.append(action())
        except Exception as exc:  # noqa: BLE001 - handed back to the test
            outcome.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return outcome[0]


def test_locks_of_two_files_are_held_at_once_by_one_thread_and_by_two(tmp_path):
    a, b = sharing.FolderLock(tmp_path / ".a.lock"), sharing.FolderLock(tmp_path / ".b.lock")
    with a.acquire(timeout=0), b.acquire(timeout=0):
        assert a.is_locked and b.is_locked
    with a.acquire(timeout=0):

        def lock_b():
            with b.acquire(timeout=0):
                return "held"

        assert in_thread(lock_b) == "held"
    assert not a.is_locked and not b.is_locked


def test_the_same_lock_object_is_not_re_entered_from_another_thread(tmp_path):
    path = tmp_path / ".x.lock"
    lock = sharing.FolderLock(path)
    with lock.acquire(timeout=0) as held:
        assert held is lock
        with lock.acquire(timeout=0) as again:  # re-entered in this thread
            assert again is lock
        assert lock.is_locked
        refused = in_thread(lambda: lock.acquire(timeout=0.1))
        assert isinstance(refused, Timeout) and refused.lock_file == str(path)
        assert lock.is_locked
    assert not lock.is_locked


def test_one_file_named_two_ways_is_one_lock(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with sharing.FolderLock(".x.lock"):
        refused = in_thread(lambda: sharing.FolderLock(tmp_path / ".x.lock").acquire(timeout=0))
        assert isinstance(refused, Timeout)
        probe = "import sys, fcntl; fcntl.lockf(open(sys.argv[1], 'a+'), fcntl.LOCK_EX | fcntl.LOCK_NB)"
        other = subprocess.run([sys.executable, "-c", probe, str(tmp_path / ".x.lock")], capture_output=True)
        assert other.returncode != 0  # still held: the other thread's try dropped nothing


def test_without_a_timeout_a_thread_waits_for_another_however_long_it_holds(tmp_path):
    path = tmp_path / ".x.lock"
    first = sharing.FolderLock(path)
    first.acquire()
    waiting = threading.Event()
    result = []

    def second():
        waiting.set()
        with sharing.FolderLock(path).acquire():
            result.append("acquired")

    thread = threading.Thread(target=second)
    thread.start()
    waiting.wait()
    # Held for longer than any poll or default: the wait is not cut short (this sleep cannot fail the rule).
    time.sleep(1.5)
    first.release()
    thread.join()
    assert result == ["acquired"]


def test_the_timeout_names_the_lock_file(tmp_path, held):
    with pytest.raises(Timeout) as info:
        sharing.FolderLock(tmp_path / ".x.lock").acquire(timeout=0)
    assert info.value.lock_file == str(tmp_path / ".x.lock")


def test_a_link_at_the_lock_files_name_is_not_followed(tmp_path):
    target = tmp_path / "elsewhere"
    (tmp_path / ".x.lock").symlink_to(target)
    with pytest.raises(OSError):
        sharing.FolderLock(tmp_path / ".x.lock").acquire(timeout=0)
    assert not target.exists()
