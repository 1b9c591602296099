"""The models folder: where each checkpoint's file lives, its state, its metadata and its lock.

``Library`` is built in layers, one module each: names and records (library_paths), states
(library_states), checks (library_checks); here the quarantine of rejected downloads, deleting and
the disk usage."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from ofa_manager.core import footprint, sharing, units
from ofa_manager.core.catalog import Checkpoint, display_url
from ofa_manager.core.durable import atomic_write_json
from ofa_manager.core.file_status import DiskUsage, FileStatus, NotOursError, State
from ofa_manager.core.library_checks import LibraryChecks
from ofa_manager.core.records import _header_text, _web_url
from ofa_manager.core.safe_files import (
    _existing_parent,
    _tree_size,
    _unlink_file,
    describe_kind,
    open_nofollow,
    path_kind,
    place_file,
)

# How long a delete waits for a download of the same file to stop (after a cancel) before it goes ahead.
DELETE_WAIT = 2.0


class Library(LibraryChecks):
    """The models folder for one catalog.

    Invariant: a file at its final path is complete, and verified where a sha256 is known. Data in
    progress lives in ``NAME.part`` with its resume record ``NAME.part.json``; metadata of a finished
    file in ``.NAME.meta.json``; the lock that keeps two processes off one file in ``.NAME.lock``.
    """

    def quarantine(self, entry: Checkpoint, info: dict) -> Path | None:
        """Keep the finished partial file that failed its check as NAME.rejected (replacing an earlier
        rejected copy of ours), with ``info`` (check, expected, found, sha256, url…) beside it; its resume
        record goes. Returns the kept path, or None when the data was discarded instead (a file that is
        not ours, or a link, is at the rejected name). The caller holds the entry's lock."""
        part, kept, sidecar = self.part_path(entry), self.rejected_path(entry), self.rejected_meta_path(entry)
        kind = path_kind(kept)
        if kind not in (None, "file") or path_kind(sidecar) not in (None, "file"):
            self.drop_partial(entry)
            return None
        if kind == "file" and self.read_rejected(entry) is None:
            self.drop_partial(entry)  # somebody else's file at that name is never replaced
            return None
        with open_nofollow(part, "r+b") as fh:
            os.fsync(fh.fileno())
            st = os.fstat(fh.fileno())
        record = {
            **info,
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "catalog_url": display_url(entry.url),
            "rejected_at": units.timestamp(),
        }
        # The sidecar first: a crash before the rename leaves a sidecar that describes no file (ignored).
        atomic_write_json(sidecar, record, mode=sharing.file_mode(sidecar.parent))
        os.replace(part, kept)
        _unlink_file(self.record_path(entry))
        return kept

    def accept_rejected(self, entry: Checkpoint) -> FileStatus:
        """Keep the rejected copy anyway: it becomes the file, marked "differs from the catalog" (never
        verified), without downloading it again. Raises NotOursError when there is no rejected copy or
        the final path is taken by another file."""
        with self.lock(entry):
            info = self.read_rejected(entry)
            kept = self.rejected_path(entry)
            if info is None:
                raise NotOursError(f"{entry.id}: no rejected download is kept ({kept.name})")
            status = self._local_status(entry)
            if status.state in (State.DOWNLOADED, State.FOREIGN):
                raise NotOursError(
                    f"{status.path} is already there ({status.state.value}); the rejected copy {kept} "
                    "was left as it is"
                )
            self.drop_partial(entry)
            st = os.lstat(kept)
            self.write_meta(
                entry,
                {
                    "url": info.get("url") if _web_url(info.get("url")) else display_url(entry.url),
                    "catalog_url": display_url(entry.url),
                    "etag": info.get("etag") if _header_text(info.get("etag")) else None,
                    "size": st.st_size,
                    "sha256": info["sha256"],
                    "verified": False,
                    "verified_by": None,
                    "state": "differs",
                    # The catalog hash it was kept against: a new catalog hash is a new question.
                    "catalog_sha256": self.expected_sha256(entry),
                    "rejected_check": info.get("check"),
                    "rejected_reason": info.get("reason"),
                    "downloaded_at": info.get("downloaded_at")
                    or info.get("rejected_at")
                    or units.timestamp(),
                    "accepted_at": units.timestamp(),
                    "mtime_ns": st.st_mtime_ns,
                },
            )
            try:
                place_file(kept, self.path(entry), replace=status.state is State.CORRUPT)
            except (FileNotFoundError, NotOursError):
                self.forget(entry)
                raise
            _unlink_file(self.rejected_meta_path(entry))
        return self.status(entry)

    def delete_rejected(self, entry: Checkpoint) -> int:
        """Delete the rejected copy and its sidecar; returns the bytes freed. A file at the rejected name
        that the sidecar does not describe is not ours and stays."""
        with self._lock_for_delete(entry):
            return self.drop_rejected(entry)

    def drop_rejected(self, entry: Checkpoint) -> int:
        """delete_rejected for a caller that holds the entry's lock (a download that succeeded)."""
        freed = _unlink_file(self.rejected_path(entry)) if self.read_rejected(entry) is not None else 0
        _unlink_file(self.rejected_meta_path(entry))
        return freed

    def delete(self, entry: Checkpoint, *, partial_only: bool = False, force: bool = False) -> int:
        """Delete the local file (or only the partial data); returns the bytes freed.

        A file that is not ours is deleted only with ``force`` (NotOursError otherwise); links and
        folders at our names never are. A download of the same file holds its lock for as long as it
        runs; the delete waits a moment for one that is stopping, then deletes all the same: the
        download sees its file gone, stops and reports it removed (rather than the delete waiting for
        hours, then taking a finished file).
        """
        with self._lock_for_delete(entry):
            freed = self.drop_partial(entry)
            if partial_only:
                return freed
            path = self.path(entry)
            status = self.status(entry)
            kind = path_kind(path)
            if kind not in (None, "file"):
                raise NotOursError(f"{describe_kind(kind)} is at {path}; ofa-manager leaves it alone")
            if status.state is State.FOREIGN and kind == "file" and not force:
                raise NotOursError(f"{path}: {status.reason}; not deleted (--force deletes it)")
            freed += _unlink_file(path)
            self.forget(entry)
            return freed

    @contextlib.contextmanager
    def _lock_for_delete(self, entry: Checkpoint):
        from filelock import Timeout

        lock = self.lock(entry)
        try:
            lock.acquire(timeout=DELETE_WAIT)
        except Timeout:
            yield  # a running download holds the file; it notices the deletion by itself
            return
        try:
            yield
        finally:
            lock.release()

    def forget(self, entry: Checkpoint) -> None:
        """Drop the metadata of a file that is gone (deleted here or moved to the trash)."""
        _unlink_file(self.meta_path(entry))

    def disk_usage(self) -> DiskUsage:
        statuses = self.statuses()
        downloaded = partial = partial_files = in_stores = rejected = 0
        per_file: dict[str, int] = {}
        counted: set[Path] = set()
        for entry in self.catalog:
            status = statuses[entry.id]
            if status.state is State.IN_STORE and status.path not in counted:
                counted.add(status.path)
                in_stores += status.bytes
            if status.rejected is not None and status.path not in counted:
                rejected += status.rejected["size"]
            if status.path in counted or status.state in (State.REMOTE, State.FOREIGN):
                counted.add(status.path)
                continue  # a file that is not ours is other data
            counted.add(status.path)
            if status.state is State.PARTIAL:
                # A segmented partial file is preallocated to full length: count its data (core.footprint).
                on_disk = status.bytes
                partial += on_disk
                partial_files += footprint.data_on_disk(self.part_path(entry))
            else:
                on_disk = status.bytes
                downloaded += on_disk
            per_file[str(status.path)] = on_disk
        per_entry = {e.id: per_file.get(str(statuses[e.id].path), 0) for e in self.catalog}
        everything = _tree_size(self.root)
        probe = self.root if self.root.exists() else _existing_parent(self.root)
        usage = shutil.disk_usage(probe)
        return DiskUsage(
            downloaded=downloaded,
            partial=partial,
            other=max(0, everything - downloaded - partial_files - rejected),
            free=usage.free,
            total=usage.total,
            per_entry=per_entry,
            per_file=per_file,
            in_stores=in_stores,
            rejected=rejected,
        )
