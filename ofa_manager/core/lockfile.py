"""Lock files: a catalog of the checkpoints a models folder holds, pinned to their exact bytes.

A lock file is an ordinary catalog (format 1), so ``--catalog ofa.lock.json`` reads it: each entry keeps
its URL, mirrors and file name and gains the ``size`` and ``sha256`` measured when the file was downloaded,
so downloading from it refuses any other bytes and ``verify`` proves a machine holds the same files.
Besides those, each entry carries ``fingerprints``: what the server said of the file (etag,
last-modified) and any further digests the metadata holds (crc64, md5), for a person comparing by hand,
and ``contents``: what a PyTorch checkpoint holds, read from its zip directory and pickle (no tensor data).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from ofa_manager.core.catalog import FORMAT, Catalog, Checkpoint
from ofa_manager.core.file_status import State
from ofa_manager.core.library import Library

# Metadata keys copied into an entry's "fingerprints" when present.
FINGERPRINT_KEYS = ("etag", "last_modified", "crc64", "md5")


def summary(library: Library, entry: Checkpoint) -> dict | None:
    """What the checkpoint file holds (core.claims' summary, the one ``list --json`` shows as
    ``contents``, cached in the metadata); None for a file that is not a readable checkpoint."""
    from ofa_manager.core.claims import inspect_entry

    found = inspect_entry(library, entry)
    if found is None or found.summary.get("error"):
        return None
    return found.summary


class LockError(ValueError):
    """A lock file that cannot be made as asked (nothing was written)."""


def build_lock(library: Library, catalog: Catalog, entries: Iterable[Checkpoint] | None = None) -> dict:
    """The lock catalog of ``entries`` (default: every downloaded one); refuses entries not downloaded."""
    chosen = list(catalog if entries is None else entries)
    statuses = {entry.id: library.status(entry) for entry in chosen}
    if entries is not None:
        missing = [e.id for e in chosen if statuses[e.id].state is not State.DOWNLOADED]
        if missing:
            raise LockError(
                f"not downloaded in {library.root}, so not pinned: {', '.join(missing)} "
                f"(a lock file holds only files that are here and hashed)"
            )
    pinned = [e for e in chosen if statuses[e.id].state is State.DOWNLOADED]
    kept = {e.id for e in pinned}
    rows = []
    for entry in pinned:
        meta = statuses[entry.id].meta or library.read_meta(entry)
        sha = meta.get("sha256") or statuses[entry.id].sha256
        size = meta.get("size")
        if not sha or type(size) is not int:
            raise LockError(f"{entry.id}: its file at {library.path(entry)} has no recorded size and sha256")
        row: dict = {
            "id": entry.id,
            "title": entry.title,
            "group": list(entry.group),
            "url": entry.url,
            "mirrors": list(entry.mirrors),
            "filename": entry.filename,
            "size": size,
            "sha256": sha,
            # A backbone not in the lock cannot be named (the loader wants it to exist).
            "base": entry.base if entry.base in kept else None,
            "params": entry.params,
            "description": entry.description,
        }
        fingerprints = {key: meta[key] for key in FINGERPRINT_KEYS if meta.get(key)}
        if fingerprints:
            row["fingerprints"] = fingerprints
        contents = summary(library, entry)
        if contents:
            row["contents"] = contents
        for key, value in entry.extra.items():  # what the source catalog carried along (params count, …)
            row.setdefault(key, value)
        rows.append(row)
    return {
        "format": FORMAT,
        "title": f"Lock of {catalog.title}",
        "locked_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "entries": rows,
    }
