"""The models folder's names: each checkpoint's path, the files beside it, its metadata and resume record."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from ofa_manager.core import footprint, names, sharing
from ofa_manager.core.catalog import Catalog, Checkpoint, no_cycle_collection
from ofa_manager.core.durable import atomic_write_json
from ofa_manager.core.file_status import PART_SUFFIX, RECORD_SUFFIX, REJECTED_SUFFIX
from ofa_manager.core.records import _int, _sha256_text, meta_problem, record_problem
from ofa_manager.core.safe_files import (
    _unlink_file,
    describe_kind,
    file_size,
    path_kind,
    read_json_nofollow,
    refuse_unsafe,
    refuse_unsafe_folder,
)

if TYPE_CHECKING:
    from filelock import FileLock


class LibraryPaths:
    """The models folder's names for one catalog: one path a URL, the partial file, the resume record,
    the metadata and the lock beside it, and what the catalog expects of each file."""

    def __init__(
        self,
        root: Path | str,
        catalog: Catalog,
        stores: Iterable[Path | str] = (),
        state_folder: Path | None = None,
    ) -> None:
        self.root = Path(root).expanduser().resolve()
        self.catalog = catalog
        with no_cycle_collection():
            self._paths = self._assign_paths(catalog)
        # Read-only folders (an administrator's copy, often on NFS) whose files count as present.
        resolved = (Path(s).expanduser().resolve() for s in stores)
        self.stores = [s for s in dict.fromkeys(resolved) if s != self.root]
        self._state_folder = state_folder

    def _assign_paths(self, catalog: Catalog) -> dict[str, Path]:
        """One path per URL; different URLs never share a path, even with the same file name (see
        core/names.py: the published name, in a folder per source host where names collide)."""
        wanted: dict[str, str] = {}
        for entry in catalog:
            wanted.setdefault(entry.url, entry.filename)
        paths, self._earlier = names.assign(self.root, wanted)
        return paths

    def earlier_paths(self, entry: Checkpoint) -> list[Path]:
        """Where earlier versions kept this entry's file, when that differs from its path now."""
        return self._earlier.get(entry.url, [])

    def path(self, entry: Checkpoint) -> Path:
        return self._paths[entry.url]

    def part_path(self, entry: Checkpoint) -> Path:
        path = self.path(entry)
        return path.with_name(path.name + PART_SUFFIX)

    def record_path(self, entry: Checkpoint) -> Path:
        path = self.path(entry)
        return path.with_name(path.name + RECORD_SUFFIX)

    def meta_path(self, entry: Checkpoint) -> Path:
        path = self.path(entry)
        return path.with_name(f".{path.name}.meta.json")

    def rejected_path(self, entry: Checkpoint) -> Path:
        path = self.path(entry)
        return path.with_name(path.name + REJECTED_SUFFIX)

    def rejected_meta_path(self, entry: Checkpoint) -> Path:
        path = self.path(entry)
        return path.with_name(f".{path.name}{REJECTED_SUFFIX}.json")

    def lock_path(self, entry: Checkpoint) -> Path:
        path = self.path(entry)
        return path.with_name(f".{path.name}.lock")

    def lock(self, entry: Checkpoint) -> FileLock | sharing.FolderLock:
        """A lock on this file across processes, threads and (on NFS) hosts.

        A POSIX record lock where the system has them (see sharing.FolderLock), filelock elsewhere.
        Raises UnsafePathError when a link or a folder is at the lock's name: opening it would write
        through the link.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        lock_path = self.lock_path(entry)
        if lock_path.parent != self.root:  # a source host's folder (core/names.py): never a link
            refuse_unsafe_folder(lock_path.parent)
            sharing.make_shared_folder(lock_path.parent)
        refuse_unsafe(lock_path)
        if os.name == "posix":
            return sharing.FolderLock(lock_path)
        # Imported here: only downloads, deletes and moves lock, and the window draws before any of them.
        from filelock import FileLock

        return FileLock(str(lock_path))

    def sharing(self, entry: Checkpoint) -> list[Checkpoint]:
        return self.catalog.sharing(entry)

    def one_per_file(self, entries: Iterable[Checkpoint]) -> list[Checkpoint]:
        """The first of these entries for each distinct file, in their order."""
        first: dict[str, Checkpoint] = {}
        for entry in entries:
            first.setdefault(entry.url, entry)  # one path per URL, and one URL per path
        return list(first.values())

    def files(self) -> dict[Path, list[Checkpoint]]:
        """Every distinct file and the entries that use it, in catalog order."""
        result: dict[Path, list[Checkpoint]] = {}
        for entry in self.catalog:
            result.setdefault(self.path(entry), []).append(entry)
        return result

    def read_meta(self, entry: Checkpoint) -> dict:
        """The finished file's metadata, or {} when there is none or it is damaged (never followed
        through a link)."""
        meta = read_json_nofollow(self.meta_path(entry))
        return meta if meta is not None and meta_problem(meta) is None else {}

    def write_meta(self, entry: Checkpoint, meta: dict) -> None:
        path = self.meta_path(entry)
        refuse_unsafe(path)
        atomic_write_json(path, meta, mode=sharing.file_mode(path.parent))

    def read_record(self, entry: Checkpoint) -> dict:
        """The resume record, or {} when it is missing, damaged or does not fit the partial file."""
        record, _reason = self.checked_record(entry)
        return record

    def checked_record(self, entry: Checkpoint) -> tuple[dict, str]:
        """The resume record after validation, and why it was discarded ("" when it was not)."""
        path = self.record_path(entry)
        kind = path_kind(path)
        if kind is None:
            return {}, ""
        if kind != "file":
            return {}, f"{describe_kind(kind)} is at {path.name}"
        record = read_json_nofollow(path)
        if record is None:
            return {}, f"its resume record {path.name} was discarded: it is not a readable record"
        part = self.part_path(entry)
        part_length = file_size(part) if path_kind(part) == "file" else None
        problem = record_problem(record, self.expected_size(entry), self.expected_sha256(entry), part_length)
        if problem:
            return {}, f"its resume record {path.name} was discarded: {problem}"
        return record, ""

    def write_record(self, entry: Checkpoint, record: dict) -> None:
        path = self.record_path(entry)
        refuse_unsafe(path)
        # Not fsynced: it is rewritten every second, and a kill -9 keeps the page cache anyway.
        atomic_write_json(path, record, durable=False, mode=sharing.file_mode(path.parent))

    def obstacles(self, entry: Checkpoint) -> list[str]:
        """Links, folders and special files at the names ofa-manager uses for this file, described.

        Nothing is followed or written through them, and they are left where they are.
        """
        found = []
        folder = self.path(entry).parent
        if folder != self.root and path_kind(folder) not in (None, "folder"):
            found.append(f"{describe_kind(path_kind(folder))} is at {folder}")
        own = (self.path(entry), self.part_path(entry), self.record_path(entry))
        for path in (*own, self.meta_path(entry), self.lock_path(entry)):
            kind = path_kind(path)
            if kind not in (None, "file"):
                found.append(f"{describe_kind(kind)} is at {path}")
        return found

    def drop_partial(self, entry: Checkpoint) -> int:
        """Remove the partial file and its record; returns the bytes freed, counted as the dialogs and
        `du` count them (``partial_bytes``). Links and folders at those names are left alone."""
        freed = self.partial_bytes(entry)
        for path in (self.part_path(entry), self.record_path(entry)):
            _unlink_file(path)
        return freed

    def partial_bytes(self, entry: Checkpoint) -> int:
        """What the partial file counts for everywhere: its data on disk (see core.footprint)."""
        part = self.part_path(entry)
        if path_kind(part) != "file":
            return 0
        return footprint.partial_data(part, self.read_record(entry))

    def expected_size(self, entry: Checkpoint) -> int | None:
        if entry.size is not None:
            return entry.size
        for candidate in self.sharing(entry):
            if candidate.size is not None:
                return candidate.size
        return None

    def expected_sha256(self, entry: Checkpoint) -> str | None:
        if entry.sha256:
            return entry.sha256
        for candidate in self.sharing(entry):
            if candidate.sha256:
                return candidate.sha256
        return None

    def read_rejected(self, entry: Checkpoint) -> dict | None:
        """What is known about the kept copy of a download that failed its check (its sidecar), or None
        when there is none, or the file at NAME.rejected is not the one the sidecar describes."""
        info = read_json_nofollow(self.rejected_meta_path(entry))
        if info is None or not _sha256_text(info.get("sha256")) or not _int(info.get("size")):
            return None
        try:
            st = os.lstat(self.rejected_path(entry))
        except OSError:
            return None
        if (
            not stat.S_ISREG(st.st_mode)
            or st.st_size != info["size"]
            or info.get("mtime_ns") != st.st_mtime_ns
        ):
            return None
        return info
