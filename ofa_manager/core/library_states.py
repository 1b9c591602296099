"""The state of each checkpoint's file: ours or not, partial, downloaded, corrupt, or in a shared store."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ofa_manager.core import footprint
from ofa_manager.core.catalog import Checkpoint, display_url, no_cycle_collection
from ofa_manager.core.file_status import NOT_OURS, FileStatus, State
from ofa_manager.core.library_paths import LibraryPaths
from ofa_manager.core.records import _sha256_text
from ofa_manager.core.safe_files import (
    _folded,
    _kind_of,
    _names_in,
    _store_key,
    describe_kind,
    path_kind,
    read_json_nofollow,
)
from ofa_manager.core.settings import state_dir


class LibraryStates(LibraryPaths):
    """What is on disk for each entry, scanned without following links or trusting what is found:
    the state of one file, of the whole catalog at once, and the files of the shared stores."""

    def ownership(self, entry: Checkpoint, st: os.stat_result, meta: dict) -> str:
        """Why the regular file at the final path is not ours ("" when it is).

        Ours means: metadata written when ofa-manager downloaded the file (or adopted it against a
        size and sha256 known beforehand) for this entry's URL, and the file still has the size and
        modification time recorded then.
        """
        if not meta:
            kind = path_kind(self.meta_path(entry))
            if kind not in (None, "file"):
                return f"{NOT_OURS} ({describe_kind(kind)} is where its metadata belongs)"
            return f"{NOT_OURS} (its metadata is damaged)" if kind else NOT_OURS
        other = meta.get("catalog_url")
        # Compared without credentials: files never hold them (see catalog.display_url).
        if not isinstance(other, str) or display_url(other) != display_url(entry.url):
            return f"{NOT_OURS} (downloaded for another link: {display_url(other)})" if other else NOT_OURS
        if not self._proof(entry, meta):
            return NOT_OURS
        if meta.get("size") != st.st_size:
            return (
                f"the file at this path is not the one ofa-manager wrote: its size is {st.st_size} "
                f"bytes, {meta.get('size')} were recorded"
            )
        # Metadata written before the time was recorded (older versions) is taken on the size alone.
        if "mtime_ns" in meta and meta["mtime_ns"] != st.st_mtime_ns:
            return "the file at this path was modified after ofa-manager wrote it"
        return ""

    def _proof(self, entry: Checkpoint, meta: dict) -> bool:
        """Metadata that says ofa-manager itself put the file there after checking it."""
        if isinstance(meta.get("downloaded_at"), str) and meta.get("sha256"):
            return True
        expected = self.expected_sha256(entry)
        return bool(isinstance(meta.get("adopted_at"), str) and expected and meta.get("sha256") == expected)

    def status(self, entry: Checkpoint) -> FileStatus:
        """Where the file stands: the models folder's copy, else a shared store's, else remote."""
        local = self._local_status(entry)
        if not self.stores or local.state not in (State.REMOTE, State.PARTIAL):
            return local
        found, why = self.store_file(entry)
        if found is None:
            if why and local.state is State.REMOTE:
                local.reason = why
            return local
        store_path, st, recorded = found
        return FileStatus(
            State.IN_STORE,
            self.path(entry),
            st.st_size,
            self.expected_size(entry),
            verified=bool(recorded and recorded == self.expected_sha256(entry)),
            sha256=recorded,
            store_path=store_path,
        )

    def _local_status(self, entry: Checkpoint) -> FileStatus:
        path = self.path(entry)
        expected = self.expected_sha256(entry)
        expected_size = self.expected_size(entry)
        if path.parent != self.root and path_kind(path.parent) not in (None, "folder"):
            kind = describe_kind(path_kind(path.parent))
            reason = f"{kind} is at {path.parent.name}; ofa-manager leaves it alone"
            return FileStatus(State.FOREIGN, path, 0, expected_size, reason=reason)
        try:
            st = os.lstat(path)
        except (FileNotFoundError, NotADirectoryError):
            st = None
        if st is not None:
            kind = _kind_of(st)
            if kind != "file":
                reason = f"{describe_kind(kind)} is at this path; ofa-manager leaves it alone"
                return FileStatus(State.FOREIGN, path, 0, expected_size, reason=reason)
            meta = self.read_meta(entry)
            reason = self.ownership(entry, st, meta)
            if reason:
                return FileStatus(State.FOREIGN, path, st.st_size, expected_size, reason=reason)
            size = meta["size"]
            corrupt = meta.get("state") == "corrupt"
            # Kept anyway by the user against this very catalog hash: it differs, it is not corrupt.
            accepted = meta.get("state") == "differs" and meta.get("catalog_sha256") == expected
            if expected and meta["sha256"] != expected and not accepted:
                corrupt = True
            if expected_size is not None and st.st_size != expected_size:
                corrupt = True
            verified = bool(expected and meta["sha256"] == expected and not corrupt)
            verified_by: str | None = None
            if verified:
                verified_by = "sha256"
            elif not expected and not corrupt and meta.get("verified_by") in ("crc64", "md5"):
                verified_by = meta["verified_by"]
            return FileStatus(
                State.CORRUPT if corrupt else State.DOWNLOADED,
                path,
                st.st_size,
                size,
                verified,
                meta.get("sha256"),
                meta,
                verified_by=verified_by,
            )
        part = self.part_path(entry)
        part_kind = path_kind(part)
        rejected = self.read_rejected(entry)
        if part_kind is None:
            return FileStatus(State.REMOTE, path, 0, expected_size, rejected=rejected)
        if part_kind != "file":
            reason = f"{describe_kind(part_kind)} is at {part.name}; ofa-manager leaves it alone"
            return FileStatus(State.FOREIGN, path, 0, expected_size, reason=reason)
        record, reason = self.checked_record(entry)
        size = record.get("size") or expected_size
        return FileStatus(
            State.PARTIAL,
            path,
            footprint.partial_data(part, record),
            size,
            meta=record,
            reason=reason,
            rejected=rejected,
        )

    def statuses(self) -> dict[str, FileStatus]:
        """Status per entry id: the folder is listed once, and only files found in it are looked at."""
        listed: dict[Path, set[str] | None] = {}
        by_url: dict[str, FileStatus] = {}
        result = {}
        with no_cycle_collection():  # thousands of small objects, no cycles among them
            for entry in self.catalog:
                status = by_url.get(entry.url)
                if status is None:
                    path = self._paths[entry.url]
                    if path.parent not in listed:
                        # The folder, or a source host's folder in it (never listed through a link).
                        linked = path_kind(path.parent) == "link"
                        listed[path.parent] = None if linked else _names_in(path.parent)
                    present = listed[path.parent]
                    # (A shared store may still have it: with stores, every state is asked.)
                    if present is not None and not self.stores and _folded(path.name) not in present:
                        # Neither the file nor its partial file (which starts with the same name) is there.
                        status = FileStatus(State.REMOTE, path, 0, self.expected_size(entry))
                    else:
                        status = self.status(entry)
                    by_url[entry.url] = status
                result[entry.id] = status
        return result

    def store_file(
        self, entry: Checkpoint, *, trust_recorded: bool = True
    ) -> tuple[tuple[Path, os.stat_result, str | None] | None, str]:
        """The shared store's copy of this file: (path, its stat, the sha256 recorded at the last
        verify or None), and why a copy found by name was not taken ("" when none was found).

        A file is recognised by its name (the name in the models folder, then the catalog's) and taken
        when it is a regular file (links are not followed) of the catalog's size, and not recorded as
        having another sha256 than the catalog's. Without a known size nothing is taken: the name
        alone proves nothing.
        """
        expected_size, expected = self.expected_size(entry), self.expected_sha256(entry)
        relative = str(self.path(entry).relative_to(self.root))  # with a source host's folder, if any
        names = dict.fromkeys((relative, self.path(entry).name, entry.filename))
        why = ""
        hashes = self._store_hashes() if trust_recorded else {}
        for store in self.stores:
            for name in names:
                candidate = store / name
                try:
                    st = os.lstat(candidate)
                except OSError:
                    continue
                if not stat.S_ISREG(st.st_mode):
                    why = why or f"{describe_kind(_kind_of(st))} is at {candidate} in the shared store"
                    continue
                if expected_size is None:
                    why = why or f"{candidate} in the shared store was not used: no size is known to check it"
                    continue
                if st.st_size != expected_size:
                    why = why or (
                        f"{candidate} in the shared store was not used: it has {st.st_size} bytes, "
                        f"the catalog says {expected_size}"
                    )
                    continue
                recorded = hashes.get(_store_key(candidate, st))
                if recorded and expected and recorded != expected:
                    why = why or (
                        f"{candidate} in the shared store was not used: its sha256 {recorded} does not "
                        f"match the catalog's {expected}"
                    )
                    continue
                return (candidate, st, recorded), ""
        return None, why

    def local_or_store_path(self, entry: Checkpoint) -> Path | None:
        """The file to open, link or copy the path of: ours in the models folder, else the shared
        store's; None when neither is present (a file that is not ours is not offered)."""
        status = self.status(entry)
        if status.state is State.DOWNLOADED:
            return status.path
        if status.state is State.IN_STORE:
            return status.store_path
        return None

    def _store_hashes_path(self) -> Path:
        return (self._state_folder or state_dir()) / "store-hashes.json"

    def _store_hashes(self) -> dict[str, str]:
        data = read_json_nofollow(self._store_hashes_path()) or {}
        hashes = data.get("sha256")
        if not isinstance(hashes, dict):
            return {}
        return {k: v for k, v in hashes.items() if isinstance(k, str) and _sha256_text(v)}
