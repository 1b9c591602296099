"""Our names on disk: nothing followed, nothing trusted; kinds of paths, no-follow opens, placing, sizes."""

from __future__ import annotations

import errno
import json
import os
import shutil
import stat
import unicodedata
from pathlib import Path

from ofa_manager.core import footprint, sharing
from ofa_manager.core.file_status import NOT_OURS, PART_SUFFIX, REJECTED_SUFFIX, NotOursError, UnsafePathError

# Records and metadata are a few hundred bytes; anything far larger is not one of ours.
MAX_RECORD_BYTES = 1024 * 1024
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_NO_HARD_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.ENOSYS}


def _store_key(path: Path, st: os.stat_result) -> str:
    """A store file's hash is valid for this path, size and modification time only."""
    return f"{path}|{st.st_size}|{st.st_mtime_ns}"


def free_space(path: Path) -> int:
    return shutil.disk_usage(_existing_parent(path)).free


def _existing_parent(path: Path) -> Path:
    path = Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def file_size(path: Path) -> int:
    """A file's size in bytes; 0 when there is no such file."""
    try:
        return path.stat().st_size
    except (FileNotFoundError, NotADirectoryError):
        return 0


def _kind_of(st: os.stat_result) -> str:
    if stat.S_ISREG(st.st_mode):
        return "file"
    if stat.S_ISLNK(st.st_mode):
        return "link"
    if stat.S_ISDIR(st.st_mode):
        return "folder"
    return "other"


def path_kind(path: Path) -> str | None:
    """What is at ``path`` itself (a link is not followed): file, link, folder, other, or None."""
    try:
        return _kind_of(os.lstat(path))
    except (FileNotFoundError, NotADirectoryError):
        return None


def describe_kind(kind: str | None) -> str:
    return {
        "link": "a symbolic link",
        "folder": "a folder",
        "other": "a special file (not a regular file)",
        "file": "a file",
    }.get(kind, "nothing")


def refuse_unsafe(path: Path) -> None:
    """Raise UnsafePathError when something other than a regular file is at ``path``."""
    kind = path_kind(path)
    if kind not in (None, "file"):
        raise UnsafePathError(
            f"{describe_kind(kind)} is at {path} where ofa-manager keeps its own file; it is left alone "
            "(nothing in the models folder is followed through links): move it away"
        )


def refuse_unsafe_folder(path: Path) -> None:
    """Raise UnsafePathError when something other than a folder (a link to one included) is at ``path``."""
    kind = path_kind(path)
    if kind not in (None, "folder"):
        raise UnsafePathError(
            f"{describe_kind(kind)} is at {path} where ofa-manager keeps a folder of its own; it is left "
            "alone (nothing in the models folder is followed through links): move it away"
        )


def open_nofollow(path: Path, mode: str = "rb", *, create: bool = False):
    """Open a regular file unbuffered without following a link at ``path`` ("rb" or "r+b").

    A link, folder or special file raises UnsafePathError (a FIFO is not waited on).
    """
    flags = (os.O_RDWR if mode == "r+b" else os.O_RDONLY) | _O_NOFOLLOW | _O_BINARY | _O_NONBLOCK
    if create:
        flags |= os.O_CREAT
    refuse_unsafe(path)  # where O_NOFOLLOW does not exist (Windows), and for a clear message
    try:
        fd = os.open(path, flags, sharing.file_mode(Path(path).parent) if create else 0o644)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EISDIR, errno.ENXIO):
            refuse_unsafe(path)
        raise
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafePathError(f"{path} is not a regular file; it is left alone")
        if create:
            sharing.share_new_file(fd, Path(path).parent)
        if _O_NONBLOCK and hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, mode, buffering=0)
    except BaseException:
        os.close(fd)
        raise


def read_json_nofollow(path: Path) -> dict | None:
    """A small JSON object from a regular file; None when missing, a link, too big or not JSON.

    NaN and Infinity are refused, as are numbers no record holds.
    """
    try:
        with open_nofollow(path, "rb") as fh:
            data = fh.read(MAX_RECORD_BYTES + 1)
    except OSError:
        return None
    if len(data) > MAX_RECORD_BYTES:
        return None
    try:
        value = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number a record holds")


def _unlink_file(path: Path) -> int:
    """Remove a regular file (never a link or a folder at that name); returns the bytes freed."""
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return 0
    if not stat.S_ISREG(st.st_mode):
        return 0
    try:
        os.unlink(path)
    except FileNotFoundError:
        return 0
    return st.st_size


def place_file(source: Path, final: Path, *, replace: bool) -> None:
    """Move the finished partial file to its final name without ever overwriting another file there.

    ``replace`` is for our own corrupt file, which a new download replaces. Otherwise a hard link
    claims the name only when it is free (and the partial name goes after); where the file system has
    no hard links, the name is checked just before the rename.
    """
    if replace:
        refuse_unsafe(final)
        os.replace(source, final)
        return
    # The source is our own regular partial file; where linkat exists, a link there is still not followed.
    nofollow = {"follow_symlinks": False} if os.link in os.supports_follow_symlinks else {}
    try:
        os.link(source, final, **nofollow)
    except FileExistsError:
        raise NotOursError(f"{final}: {NOT_OURS}; it was left as it is") from None
    except OSError as exc:
        if exc.errno not in _NO_HARD_LINKS:
            raise
        if path_kind(final) is not None:
            raise NotOursError(
                errno.EEXIST, f"{final}: {NOT_OURS}; it was left as it is", str(final)
            ) from None
        os.replace(source, final)
        return
    os.unlink(source)


def _folded(name: str) -> str:
    """A file name as a case-insensitive, normalising file system (macOS, Windows) compares it."""
    return name.casefold() if name.isascii() else unicodedata.normalize("NFC", name).casefold()


def _names_in(folder: Path) -> set[str] | None:
    """Folded names of the files in ``folder`` and the names they start with up to ``.part`` or
    ``.rejected``; None when the folder cannot be listed (then each file is looked at on its own)."""
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return set()
    except OSError:
        return None
    found = set()
    for name in names:
        name = _folded(name)
        found.add(name)
        for suffix in (PART_SUFFIX, REJECTED_SUFFIX):
            if name.endswith(suffix):
                found.add(name[: -len(suffix)])
    return found


def _tree_size(root: Path) -> int:
    """The data on disk of every file under ``root`` (holes of sparse files not counted)."""
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            total += footprint.data_on_disk(os.path.join(dirpath, name))
    return total
