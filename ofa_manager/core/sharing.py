"""A models folder several users share: the mode of the files created in it, and locks across hosts."""

from __future__ import annotations

import errno
import os
import stat
import threading
import time
from pathlib import Path

# The mode of files ofa-manager creates in a folder the administrator shared with a group (setgid).
SHARED_FILE_MODE = 0o664
_POLL = 0.05
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def is_group_shared(folder: Path) -> bool:
    """True when ``folder`` was set up for a group: the setgid bit, and the group may write in it.

    New files there take the folder's group (the kernel's setgid rule); ofa-manager then makes them
    group-writable as well, whatever the user's umask, because the administrator opted in.
    """
    try:
        st = os.stat(folder)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and bool(st.st_mode & stat.S_ISGID) and bool(st.st_mode & stat.S_IWGRP)


def current_umask() -> int:
    """The process's umask, read without changing it where the system says it (Linux /proc)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode(folder: Path) -> int:
    """The mode for a new file in ``folder``: group-writable in a shared folder, else as the umask says."""
    if is_group_shared(folder):
        return SHARED_FILE_MODE
    return 0o666 & ~current_umask()


def share_new_file(fd: int, folder: Path) -> None:
    """Give a file this process just created in ``folder`` its group write bit when the folder is shared.

    Only the owner may change a file's mode; a file another user created is left as it is.
    """
    if os.name != "posix" or not is_group_shared(folder):
        return
    st = os.fstat(fd)
    if st.st_uid != os.geteuid():
        return
    wanted = (st.st_mode & 0o7777) | 0o660
    if wanted != st.st_mode & 0o7777:
        os.fchmod(fd, wanted)


def make_shared_folder(folder: Path) -> None:
    """Create ``folder`` inside its parent (a models folder); in a folder set up for a group it is set
    up the same way (setgid, group-writable), so the group can keep writing in it."""
    folder.mkdir(exist_ok=True)
    if os.name != "posix" or not is_group_shared(folder.parent):
        return
    st = os.lstat(folder)
    if stat.S_ISDIR(st.st_mode) and st.st_uid == os.geteuid():
        wanted = (st.st_mode & 0o7777) | stat.S_ISGID | stat.S_IRWXG
        if wanted != st.st_mode & 0o7777:
            os.chmod(folder, wanted)


def share_moved_file(path: Path) -> None:
    """Give a file of ours moved into a shared folder the folder's group and the group write bit, as if
    it had been created there (a rename keeps the mode and group it had in the old folder)."""
    folder = Path(path).parent
    if os.name != "posix" or not is_group_shared(folder):
        return
    try:
        fd = os.open(path, os.O_RDONLY | _O_NOFOLLOW | _O_CLOEXEC | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return  # a link or something gone: nothing of ours to share
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
            return
        group = os.stat(folder).st_gid
        if st.st_gid != group:
            try:
                os.fchown(fd, -1, group)
            except PermissionError:
                return  # not a member of the folder's group: its files stay as they were
        share_new_file(fd, folder)
    finally:
        os.close(fd)


class _Gate:
    """This process's hold on one lock file: POSIX locks belong to a process, not to a descriptor."""

    __slots__ = ("fd", "lock")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.fd: int | None = None


_GATES: dict[str, _Gate] = {}
_GATES_LOCK = threading.Lock()


def _gate(path: str) -> _Gate:
    with _GATES_LOCK:
        return _GATES.setdefault(path, _Gate())


class FolderLock:
    """An exclusive lock on one file of the models folder that holds across processes and hosts.

    It is a POSIX record lock (``fcntl.lockf``), which NFS carries to the server (NFSv4 natively,
    NFSv3 through lockd), unlike ``flock``, which some clients keep on the local host. POSIX locks
    belong to the whole process and closing any descriptor of the file drops them, so threads of one
    process first take a per-file thread lock: only the thread that holds it opens the file.

    The interface is the part of ``filelock.FileLock`` ofa-manager uses: ``acquire(timeout=...)``
    (usable as ``with lock.acquire(timeout=...)``), ``release()``, ``with lock:`` and ``is_locked``;
    a timeout raises ``filelock.Timeout``. Re-entrant in the thread that holds it.
    """

    def __init__(self, lock_file: str | os.PathLike) -> None:
        self.lock_file = os.fspath(lock_file)
        self._gate = _gate(os.path.abspath(self.lock_file))
        self._owner: int | None = None
        self._count = 0

    @property
    def is_locked(self) -> bool:
        return self._count > 0

    def acquire(self, timeout: float = -1, poll_interval: float = _POLL, *, blocking: bool = True):
        me = threading.get_ident()
        if self._count and self._owner == me:
            self._count += 1
            return _Held(self)
        if not blocking:
            timeout = 0
        deadline = None if timeout is None or timeout < 0 else time.monotonic() + timeout
        if not self._gate.lock.acquire(timeout=self._left(deadline)):
            raise _timeout(self.lock_file)
        try:
            while not self._try_lock():
                left = self._left(deadline)
                if left == 0:
                    raise _timeout(self.lock_file)
                time.sleep(poll_interval if left < 0 else min(poll_interval, left))
        except BaseException:
            self._gate.lock.release()
            raise
        self._owner, self._count = me, 1
        return _Held(self)

    @staticmethod
    def _left(deadline: float | None) -> float:
        """Seconds left before the deadline: -1 for no deadline (threading's "wait forever")."""
        if deadline is None:
            return -1
        return max(0.0, deadline - time.monotonic())

    def _try_lock(self) -> bool:
        import fcntl

        folder = Path(self.lock_file).parent
        fd = os.open(self.lock_file, os.O_RDWR | os.O_CREAT | _O_NOFOLLOW | _O_CLOEXEC, file_mode(folder))
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise OSError(errno.EINVAL, "not a regular file", self.lock_file)
            share_new_file(fd, folder)
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                os.close(fd)  # this process holds no lock on the file: closing drops nothing
                return False
        except BaseException:
            if self._gate.fd != fd:
                os.close(fd)
            raise
        self._gate.fd = fd
        return True

    def release(self, force: bool = False) -> None:
        if not self._count:
            return
        self._count = 0 if force else self._count - 1
        if self._count:
            return
        import fcntl

        fd, self._gate.fd, self._owner = self._gate.fd, None, None
        try:
            if fd is not None:
                fcntl.lockf(fd, fcntl.LOCK_UN)
                os.close(fd)  # the file stays: a waiter keeps the same inode
        finally:
            self._gate.lock.release()

    def __enter__(self) -> FolderLock:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()


class _Held:
    """What ``acquire`` returns, so that ``with lock.acquire(timeout=...):`` releases at the end."""

    def __init__(self, lock: FolderLock) -> None:
        self.lock = lock

    def __enter__(self) -> FolderLock:
        return self.lock

    def __exit__(self, *exc_info: object) -> None:
        self.lock.release()


def _timeout(path: str) -> Exception:
    """filelock's Timeout, which every caller of the library's locks already catches."""
    from filelock import Timeout

    return Timeout(path)
