"""The checks that refuse a hostile zip before a byte of it is written (core.archives unpacks after them).

``check_members`` reads the archive's directory and refuses the archive as a whole when one member fails:

- its name is a relative path inside the folder: no absolute path (``/x``, ``C:x``, ``\\\\host``), no
  backslash, no ``..``, ``.`` or empty segment, no control characters, each segment a plain file name;
- it is a regular file or a folder: the zip's external attributes mark no symbolic link, device or pipe;
- no two members have one name, also as a case-insensitive (macOS, Windows) file system compares them,
  and no file is also a folder of another member: nothing unpacked overwrites anything unpacked;
- it is not encrypted, its compression is one zipfile reads, and it does not overlap another member;
- against zip bombs: at most ``MAX_MEMBERS`` members, at most ``MAX_TOTAL_BYTES`` in all and no more
  than the free space (less a margin), and no member over ``RATIO_FLOOR`` bytes that expands more
  than ``MAX_RATIO`` times.

``check_names`` checks a list of names alone (an unpack record's, the catalog's ``members``) and
``name_problem`` one name. ``ArchiveError`` says which member failed and why; a ``Member`` is one file
that passed. Plain Python, nothing written.
"""

from __future__ import annotations

import re
import stat
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

from ofa_manager.core import units
from ofa_manager.core.catalog import check_filename

MAX_MEMBERS = 10_000
MAX_TOTAL_BYTES = 256 * 1024**3
MAX_RATIO = 100  # checkpoints barely compress (about 1.1 times); a bomb expands a thousand times
RATIO_FLOOR = 1024 * 1024  # smaller members may compress as they like (text, empty files)
SPACE_MARGIN = 64 * 1024 * 1024  # left free on the volume after unpacking
_DRIVE = re.compile(r"^[A-Za-z]:")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SUPPORTED = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}


class ArchiveError(ValueError):
    """An archive that is not unpacked, and why (nothing was written at the folder's name)."""


@dataclass(frozen=True)
class Member:
    """One file an archive holds (folders are implied by the paths)."""

    name: str  # relative, '/'-separated, checked
    size: int
    crc: int  # CRC-32 as the zip records it

    def as_json(self) -> dict:
        return {"name": self.name, "size": self.size, "crc32": f"{self.crc:08x}"}


# -- the checks --------------------------------------------------------------------------------------


def name_problem(name: str) -> str | None:
    """Why a member name cannot be unpacked inside the folder (None when it can)."""
    if not name:
        return "has an empty name"
    if _CONTROL.search(name):
        return "has a control character in its name"
    if "\\" in name:
        return "has a backslash in its name (a Windows path)"
    if name.startswith("/") or _DRIVE.match(name):
        return "has an absolute path"
    parts = name.rstrip("/").split("/")  # "/" alone was refused above, as an absolute path
    if any(part == ".." for part in parts):
        return "has '..' in its path (it would land outside the folder)"
    if any(part in ("", ".") for part in parts):
        return "has an empty or '.' segment in its path"
    for part in parts:
        problem = check_filename(part)
        if problem and not part.startswith("."):  # hidden files inside an archive are allowed
            return f"has a path segment that {problem}"
    return None


def _folded(name: str) -> str:
    return unicodedata.normalize("NFC", name).casefold()


def check_names(names: list[str], dirs: frozenset[str] = frozenset()) -> None:
    """Every name safe, none twice (also case-insensitively), no file where another needs a folder."""
    seen: dict[str, str] = {}
    for name in names:
        problem = name_problem(name)
        if problem:
            raise ArchiveError(f"member {name!r} {problem}")
        key = _folded(name)
        if key in seen:
            how = "twice" if seen[key] == name else f"twice (as {seen[key]!r}: one name, case ignored)"
            raise ArchiveError(f"member {name!r} is in the archive {how}: one would overwrite the other")
        seen[key] = name
    for name in names:
        parent = PurePosixPath(name).parent
        while str(parent) != ".":
            other = seen.get(_folded(str(parent)))
            if other is not None:
                raise ArchiveError(f"member {other!r} is a file, and member {name!r} needs it as a folder")
            parent = parent.parent
    for folder in dirs:
        if _folded(folder) in seen:
            raise ArchiveError(f"member {folder!r} is both a file and a folder in the archive")


def _is_dir(info: zipfile.ZipInfo) -> bool:
    return info.filename.endswith("/")


def _file_type(info: zipfile.ZipInfo) -> int | None:
    """The Unix file type in the external attributes, when the zip was made on a system that sets it."""
    return stat.S_IFMT(info.external_attr >> 16) or None  # permissions alone say nothing of the type


def check_members(
    infos: list[zipfile.ZipInfo],
    *,
    free: int | None = None,
    max_total: int = MAX_TOTAL_BYTES,
    max_members: int = MAX_MEMBERS,
    max_ratio: float = MAX_RATIO,
) -> list[Member]:
    """The archive's files, after every check of the module; raises ArchiveError naming the first
    member (or the total) that fails."""
    if len(infos) > max_members:
        raise ArchiveError(f"the archive has {len(infos)} members, more than the {max_members} allowed")
    files, dirs = [], set()
    for info in infos:
        name = info.filename
        kind = _file_type(info)
        if kind == stat.S_IFLNK:
            raise ArchiveError(f"member {name!r} is a symbolic link; links are not unpacked")
        if kind not in (None, stat.S_IFREG, stat.S_IFDIR):
            raise ArchiveError(f"member {name!r} is a special file (a device, pipe or socket)")
        if info.flag_bits & 0x1:
            raise ArchiveError(f"member {name!r} is encrypted")
        if _is_dir(info) or kind == stat.S_IFDIR:
            problem = name_problem(name)
            if problem:
                raise ArchiveError(f"member {name!r} {problem}")
            dirs.add(name.rstrip("/"))
            continue
        if info.compress_type not in _SUPPORTED:
            raise ArchiveError(f"member {name!r} uses compression method {info.compress_type}, not read here")
        if info.file_size > RATIO_FLOOR and info.file_size > max_ratio * max(info.compress_size, 1):
            ratio = info.file_size / max(info.compress_size, 1)
            raise ArchiveError(
                f"member {name!r} expands {ratio:.0f} times ({units.size(info.compress_size)} to "
                f"{units.size(info.file_size)}), more than the {max_ratio:g} allowed: a zip bomb?"
            )
        files.append(info)
    check_names([i.filename for i in files], frozenset(dirs))
    ordered = sorted(infos, key=lambda i: i.header_offset)
    for before, after in zip(ordered, ordered[1:], strict=False):
        if before.header_offset + before.compress_size > after.header_offset:
            raise ArchiveError(f"members {before.filename!r} and {after.filename!r} overlap in the archive")
    total = sum(i.file_size for i in files)
    if total > max_total:
        raise ArchiveError(
            f"the archive unpacks to {units.size(total)}, more than the {units.size(max_total)} allowed"
        )
    if free is not None and total + SPACE_MARGIN > free:
        raise ArchiveError(
            f"the archive unpacks to {units.size(total)}, and only {units.size(free)} is free "
            f"(less a margin of {units.size(SPACE_MARGIN)})"
        )
    return [Member(i.filename, i.file_size, i.CRC) for i in files]
