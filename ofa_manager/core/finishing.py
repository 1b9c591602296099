"""A download's last step: the whole file checked against its fingerprints, then placed or kept aside."""

from __future__ import annotations

import os
import time

from ofa_manager.core import fingerprints, units
from ofa_manager.core.catalog import display_url
from ofa_manager.core.durable import OnError, sync_folder
from ofa_manager.core.file_status import NotOursError, State
from ofa_manager.core.safe_files import open_nofollow, place_file
from ofa_manager.core.segments import _Plan
from ofa_manager.core.states import ErrorKind
from ofa_manager.core.transfer_options import DownloadError, Progress
from ofa_manager.core.transfer_state import TransferState


class Finishing(TransferState):
    """The part of a download that ends it: the digest and the server's fingerprints compared, the
    file placed at its final path (complete and verified) or rejected and kept beside it."""

    def _finish(self, plan: _Plan, digest: str) -> None:
        entry, library = self.entry, self.library
        if self._part_removed():
            raise self._removed_error()
        self._emit_state("verifying", force=True)
        part = library.part_path(entry)
        size = plan.size if plan.size is not None else part.stat().st_size
        if part.stat().st_size != size:
            with open_nofollow(part, "r+b") as fh:
                os.ftruncate(fh.fileno(), size)
        if self.expected_sha256 and digest != self.expected_sha256:
            reason = f"sha256 mismatch: expected {self.expected_sha256[:12]}…, got {digest[:12]}…"
            self._reject(reason, check="sha256", expected=self.expected_sha256, found=digest, digest=digest)
        if self.expected_size is not None and size != self.expected_size:
            library.drop_partial(entry)
            raise DownloadError(
                entry.title,
                f"size mismatch: expected {self.expected_size} bytes, got {size}; the bad data was discarded",
                kind=ErrorKind.INTEGRITY,
            )
        server = {} if self.expected_sha256 else self._server
        prints = self._prints  # what the hasher computed besides the sha256 (see _fetch)
        computed_crc = prints.crc if prints is not None else None
        computed_md5 = prints.md5() if prints is not None else None
        verified_by, mismatch = fingerprints.check(server, computed_crc, computed_md5)
        if mismatch:
            check = "crc64" if mismatch.startswith("CRC") else "md5"
            found = f"{computed_crc:016x}" if check == "crc64" else computed_md5
            self._reject(mismatch, check=check, expected=server.get(check), found=found, digest=digest)
        if self.expected_sha256:
            verified_by = "sha256"
        final = library.path(entry)
        # Only our own file, found corrupt, is replaced; anything else that appeared there meanwhile stays.
        current = library.status(entry)
        if current.state is State.FOREIGN:
            raise DownloadError(entry.title, self._not_ours(current), kind=ErrorKind.NOT_OURS)
        with open_nofollow(part, "r+b") as fh:
            os.fsync(fh.fileno())
            written = os.fstat(fh.fileno())
        record = self._record
        # Metadata first: a crash before the rename leaves a complete partial file that the next run
        # hashes and moves; a crash after it leaves a final file that is known to be ours.
        library.write_meta(
            entry,
            {
                "url": display_url(self._url),
                "catalog_url": display_url(entry.url),
                "etag": record.get("etag"),
                "last_modified": record.get("last_modified"),
                "size": size,
                "sha256": digest,
                "verified": bool(self.expected_sha256),
                # What the bytes were checked against, known before they arrived (see fingerprints).
                "verified_by": verified_by,
                "server_crc64": server.get("crc64"),
                "server_md5": server.get("md5"),
                "crc64": f"{computed_crc:016x}" if computed_crc is not None else None,
                "md5": computed_md5,
                "state": "ok",
                "downloaded_at": units.timestamp(),
                # With the size, what tells later that the file at the final path is still this one.
                "mtime_ns": written.st_mtime_ns,
            },
        )
        try:
            place_file(part, final, replace=current.state is State.CORRUPT)
        except FileNotFoundError:
            # Removed (rm) between the check above and here: neither the metadata nor the resume record may
            # outlive it (a removed download leaves nothing behind).
            library.forget(entry)
            library.drop_partial(entry)
            raise self._removed_error() from None
        except NotOursError:
            library.forget(entry)  # the metadata describes our data, which stays in the partial file
            raise
        # Best effort: a rename lost in a crash leaves the complete partial file, which the next run moves.
        sync_folder(final.parent, on_error=OnError.IGNORE)
        library.drop_rejected(entry)  # an earlier rejected copy is superseded by the good one
        try:
            library.record_path(entry).unlink()
        except FileNotFoundError:
            pass
        self._emit(Progress(size, size, 0.0, 0.0, "done", 0, display_url(self._url)), force=True)

    def _reject(self, reason: str, *, check: str, expected, found, digest: str):
        """Keep the finished data that failed its check as NAME.rejected (not thrown away: a wrong
        catalog hash must not cost a second download), then fail as an integrity error."""
        entry = self.entry
        kept = self.library.quarantine(
            entry,
            {
                "check": check,
                "reason": reason,
                "expected": expected,
                "found": found,
                "sha256": digest,
                "url": display_url(self._url),
                "etag": self._record.get("etag"),
                "downloaded_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            },
        )
        if kept is None:
            raise DownloadError(
                entry.title, f"{reason}; the bad data was discarded", kind=ErrorKind.INTEGRITY
            )
        raise DownloadError(
            entry.title,
            f"{reason}; kept as {kept.name} (`ofa-manager accept {entry.id}` keeps it anyway, "
            f"`ofa-manager rm --rejected {entry.id}` deletes it)",
            kind=ErrorKind.INTEGRITY,
        )
