"""Checking files against what the catalog expects: hashing, verifying, adopting a hand-placed file."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from ofa_manager.core import units
from ofa_manager.core.catalog import Checkpoint, display_url
from ofa_manager.core.durable import atomic_write_json
from ofa_manager.core.file_status import FileStatus, State
from ofa_manager.core.library_states import LibraryStates
from ofa_manager.core.safe_files import _store_key, open_nofollow, path_kind

HASH_CHUNK = 4 * 1024 * 1024


class LibraryChecks(LibraryStates):
    """A file's sha256 computed and compared: verifying a downloaded or shared-store file, adopting
    one placed by hand, and recording what was proven."""

    def hash_file(
        self,
        path: Path,
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
        crc_out: list[int] | None = None,
    ) -> str | None:
        """sha256 of a file (never read through a link); None when cancelled. With ``crc_out`` its
        CRC-64 (the server's fingerprint, see core.fingerprints) is appended there too."""
        digest = hashlib.sha256()
        crc = 0
        if crc_out is not None:
            from ofa_manager.core.fingerprints import crc64
        done = 0
        buf = bytearray(HASH_CHUNK)
        view = memoryview(buf)
        with open_nofollow(path, "rb") as fh:
            total = os.fstat(fh.fileno()).st_size
            while True:
                if cancelled and cancelled():
                    return None
                n = fh.readinto(buf)
                if not n:
                    break
                digest.update(view[:n])
                if crc_out is not None:
                    crc = crc64(view[:n], crc)
                done += n
                if progress:
                    progress(done, total)
        if crc_out is not None:
            crc_out.append(crc)
        return digest.hexdigest()

    def verify(
        self,
        entry: Checkpoint,
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> FileStatus:
        """Re-hash the local file against what was known before it was found.

        Our file is compared with the catalog's sha256, else with the sha256 computed when it was
        downloaded, and the outcome (ok or corrupt) is recorded. A file that is not ours is taken as
        ours only when it matches a size and sha256 known beforehand (the catalog's, or those recorded
        when ofa-manager downloaded the file at this path); otherwise it stays "not ours", reported
        unverified or not matching, and nothing is written that a later run could take as proof.
        """
        path = self.path(entry)
        if path_kind(path) != "file":
            return self.status(entry)
        with self.lock(entry):
            before = self.status(entry)
            if before.state not in (State.DOWNLOADED, State.CORRUPT, State.FOREIGN):
                return before
            st = os.lstat(path)
            crc: list[int] = []
            digest = self.hash_file(path, progress, cancelled, crc_out=crc)
            if digest is None:
                return self.status(entry)
            after = os.lstat(path)
            if (after.st_size, after.st_mtime_ns, after.st_ino) != (st.st_size, st.st_mtime_ns, st.st_ino):
                now = self.status(entry)
                now.reason = "the file changed while it was being hashed; nothing was recorded"
                return now
            meta = self.read_meta(entry)
            if before.state is State.FOREIGN:
                return self._verify_not_ours(entry, st, digest, meta, before.reason)
            expected = self.expected_sha256(entry)
            expected_size = self.expected_size(entry)
            accepted = before.differs
            if accepted:
                # Kept anyway: held to the bytes that arrived, which the catalog does not vouch for.
                good = digest == meta["sha256"] and st.st_size == meta["size"]
            else:
                good = digest == (expected or meta["sha256"]) and expected_size in (None, st.st_size)
            server_crc = meta.get("server_crc64")
            if not expected and server_crc and crc and not accepted:
                # The server's own fingerprint, known before the file arrived: checked again.
                good = good and f"{crc[0]:016x}" == server_crc
            # A corrupt verdict keeps the hash recorded on arrival, so a second verify cannot bless it.
            if good:
                meta["sha256"] = digest
            state = ("differs" if accepted else "ok") if good else "corrupt"
            meta.update({"state": state, "verified_at": units.timestamp(), "sha256_found": digest})
            self.write_meta(entry, meta)
        return self.status(entry)

    def _verify_not_ours(
        self, entry: Checkpoint, st: os.stat_result, digest: str, meta: dict, why: str
    ) -> FileStatus:
        expected, expected_size = self.expected_sha256(entry), self.expected_size(entry)
        want_size: int | None
        if expected and expected_size is not None:
            want, want_size, whose = expected, expected_size, "the catalog's"
        elif meta.get("catalog_url") == entry.url and self._proof(entry, meta):
            want, want_size, whose = meta["sha256"], meta.get("size"), "the one recorded at download"
        else:
            reason = (
                f"unverified: {why}; no size and sha256 were known for it beforehand, so its hash "
                "proves nothing and nothing was recorded"
            )
            return FileStatus(
                State.FOREIGN, self.path(entry), st.st_size, expected_size, sha256=digest, reason=reason
            )
        if digest == want and st.st_size == want_size:
            if whose == "the catalog's":
                self._record_adopted(entry, st, digest)
            else:
                # The very bytes ofa-manager downloaded (only the time stamp changed): ours again.
                meta.update(
                    {
                        "state": "ok",
                        "verified_at": units.timestamp(),
                        "sha256_found": digest,
                        "mtime_ns": st.st_mtime_ns,
                    }
                )
                self.write_meta(entry, meta)
            return self.status(entry)
        reason = (
            f"{why}; its sha256 {digest} does not match {whose} ({want}), or its size does not; "
            "left as it is, nothing recorded"
        )
        return FileStatus(
            State.FOREIGN, self.path(entry), st.st_size, expected_size, sha256=digest, reason=reason
        )

    def adopt(self, entry: Checkpoint, cancelled: Callable[[], bool] | None = None) -> bool:
        """Take a file found at the final path as ours when it matches the catalog's size and sha256
        (known before it was found); True when adopted. What a server says now is no evidence."""
        path = self.path(entry)
        expected, want_size = self.expected_sha256(entry), self.expected_size(entry)
        if not expected or want_size is None or self.status(entry).state is not State.FOREIGN:
            return False
        if path_kind(path) != "file":
            return False
        st = os.lstat(path)
        if st.st_size != want_size:
            return False
        digest = self.hash_file(path, cancelled=cancelled)
        after = os.lstat(path)
        if digest != expected or (after.st_size, after.st_mtime_ns) != (st.st_size, st.st_mtime_ns):
            return False
        self._record_adopted(entry, st, digest)
        return True

    def _record_adopted(self, entry: Checkpoint, st: os.stat_result, digest: str) -> None:
        now = units.timestamp()
        self.write_meta(
            entry,
            {
                "url": display_url(entry.url),
                "catalog_url": display_url(entry.url),
                "etag": None,
                "size": st.st_size,
                "sha256": digest,
                "state": "ok",
                "downloaded_at": None,
                "adopted_at": now,
                "verified_at": now,
                "sha256_found": digest,
                "mtime_ns": st.st_mtime_ns,
            },
        )

    def verify_store(
        self,
        entry: Checkpoint,
        progress: Callable[[int, int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> tuple[Path | None, str | None, bool | None]:
        """Hash the shared store's copy and record the result in the user's state folder (the store
        is never written): (its path, its sha256, whether it matches the catalog's; None when the
        catalog has no sha256 or nothing was hashed)."""
        found, _why = self.store_file(entry, trust_recorded=False)
        if found is None:
            return None, None, None
        path, st, _ = found
        digest = self.hash_file(path, progress, cancelled)
        if digest is None:
            return path, None, None
        after = os.lstat(path)
        if (after.st_size, after.st_mtime_ns, after.st_ino) != (st.st_size, st.st_mtime_ns, st.st_ino):
            return path, None, None
        hashes = self._store_hashes()
        hashes[_store_key(path, st)] = digest
        atomic_write_json(self._store_hashes_path(), {"version": 1, "sha256": hashes}, durable=False)
        expected = self.expected_sha256(entry)
        return path, digest, (digest == expected) if expected else None
