"""What ofa-manager knows of a checkpoint's file on this disk: its state, its status, the names beside it."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path

PART_SUFFIX = ".part"
# A download that failed its sha256 or fingerprint check, kept (not thrown away): NAME.rejected, with what
# failed in .NAME.rejected.json. Accepting it adopts it as "differs from the catalog", never verified.
REJECTED_SUFFIX = ".rejected"
RECORD_SUFFIX = ".part.json"
NOT_OURS = "a file ofa-manager did not download is at this path"


class State(str, enum.Enum):
    """Where a checkpoint stands on this disk."""

    REMOTE = "remote"
    PARTIAL = "partial"
    DOWNLOADED = "downloaded"
    CORRUPT = "corrupt"
    # Something at our path that ofa-manager cannot show it wrote (a user's file, a link, a folder): it is
    # never overwritten, adopted, reported as downloaded or deleted without being named (see reason).
    FOREIGN = "not-ours"
    # Not in the models folder but in a shared store (read-only, see Library.stores): present all the
    # same, used from there, never written, adopted or deleted.
    IN_STORE = "in-store"


class UnsafePathError(OSError):
    """A link, a folder or a special file is where ofa-manager keeps one of its own files."""


class NotOursError(OSError):
    """A file ofa-manager cannot show it wrote is where it was asked to delete or replace one."""


@dataclass
class FileStatus:
    """What the library knows about one file (shared by every entry with the same URL)."""

    state: State
    path: Path
    bytes: int  # on disk: the final file, or the partial file
    size: int | None  # expected size, from the catalog, the metadata or the resume record
    verified: bool = False  # the sha256 was computed and matched a known value
    sha256: str | None = None  # as computed over the file on disk, when known
    meta: dict = field(default_factory=dict)
    reason: str = ""  # why a file is not ours, or why its record was not trusted
    store_path: Path | None = None  # the shared store's file, for State.IN_STORE
    # What the file was checked against, known before it arrived: "sha256" (the catalog's), "crc64" or
    # "md5" (the server's own fingerprints, when the catalog has no sha256); None when nothing was.
    verified_by: str | None = None
    # The kept copy of a download that failed its check (see Library.quarantine), when there is one.
    rejected: dict | None = None

    def _differs(self) -> bool:
        """Our file, kept although it does not match the catalog's sha256 or the server's fingerprint."""
        return self.state is State.DOWNLOADED and self.meta.get("state") == "differs"

    # A property made by a call, not by the decorator: the mutation tests (mutmut) leave every decorated
    # function alone, so a @property is never mutated nor measured.
    differs = property(_differs)


@dataclass
class DiskUsage:
    """Bytes in the models folder and on its volume."""

    downloaded: int
    partial: int
    other: int
    free: int
    total: int
    per_entry: dict[str, int]
    per_file: dict[str, int]
    in_stores: int = 0  # bytes used from shared stores: not in the models folder, not on its volume
    rejected: int = 0  # kept copies of downloads that failed their check (NAME.rejected)
