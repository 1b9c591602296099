"""What the commands share: exit codes, the catalog and models folder they use, an entry's state in words."""

from __future__ import annotations

import sys
from pathlib import Path

from ofa_manager.core import settings, units
from ofa_manager.core.catalog import (
    Catalog,
    CatalogError,
    Checkpoint,
    load_catalog,
    unknown_id_message,
)
from ofa_manager.core.describe import Proof, Word, describe
from ofa_manager.core.file_status import State
from ofa_manager.core.library import Library
from ofa_manager.core.moved import MARKER_NAME, FolderMoved, read_marker

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# The models folder's checkpoints were moved elsewhere by ofa-manager (the marker in core/moved.py).
EXIT_MOVED = 3


MAX_TIMEOUT = settings.RANGES["timeout"][1]


class UsageError(Exception):
    """A mistake in what the user asked for: printed as one line, exit code 2."""


def _catalog(args) -> Catalog:
    named = getattr(args, "catalog", None)
    if named:
        return load_catalog(named)
    from ofa_manager.core.zoo import default_catalog_paths

    paths = default_catalog_paths()
    try:
        return load_catalog(paths)
    except CatalogError as exc:
        if len(paths) == 1:
            raise
        hint = "; an imported catalog is turned off with `ofa-manager catalog disable NAME`"
        raise CatalogError(f"{exc}{hint}") from None


def _library(args, catalog: Catalog) -> Library:
    folder = getattr(args, "dir", None)
    saved = settings.load()
    root = Path(folder).expanduser() if folder else saved.models_path()
    stores = saved.store_paths() + [Path(d).expanduser() for d in getattr(args, "store", [])]
    moved = read_marker(root)
    if moved is not None:
        raise FolderMovedError(moved)
    library = Library(root, catalog, stores=stores)
    from ofa_manager.core.names import adopt_earlier_names

    for old, new in adopt_earlier_names(library):
        print(f"{old.name} is now {new.relative_to(library.root)} (see README: file names)", file=sys.stderr)
    return library


class FolderMovedError(Exception):
    """The models folder asked for is one whose checkpoints ofa-manager moved elsewhere."""

    def __init__(self, moved: FolderMoved) -> None:
        super().__init__(moved.sentence())
        self.moved = moved

    def explain(self) -> str:
        moved = self.moved
        return (
            f"{moved.sentence()}.\nUse --dir {moved.moved_to} (or set it in Settings); to use "
            f"{moved.folder} again as it is, delete {moved.folder / MARKER_NAME}."
        )


def _select(catalog: Catalog, ids: list[str], *, everything_when_empty: bool = False) -> list[Checkpoint]:
    if not ids:
        return list(catalog) if everything_when_empty else []
    unknown = [i for i in ids if i not in catalog]
    if unknown:
        raise UsageError("; ".join(unknown_id_message(i, catalog.ids()) for i in unknown))
    return [catalog.get(i) for i in dict.fromkeys(ids)]


def _summary(
    catalog: Catalog, library: Library, statuses: dict | None = None, inspections: dict | None = None
) -> str:
    statuses = statuses if statuses is not None else library.statuses()
    lines = [f"{catalog.title} — {len(catalog)} checkpoints, models folder {library.root}"]
    for entry in catalog:
        lines.append(_list_line(entry, statuses[entry.id], catalog))
        found = (inspections or {}).get(entry.id)
        if found is not None and found.mismatch:
            lines.append(f"    ! mismatch: {found.mismatch}")
    return "\n".join(lines)


def _inspections(catalog: Catalog, library: Library, statuses: dict) -> dict:
    """Each present file's contents and each entry's claim against them (cached in the metadata).

    Only entries with a file are looked at (``statuses`` are read once for the whole catalog)."""
    from ofa_manager.core.claims import inspect_entry

    present = (State.DOWNLOADED, State.CORRUPT, State.IN_STORE)
    return {
        entry.id: inspect_entry(library, entry) if statuses[entry.id].state in present else None
        for entry in catalog
    }


def _verified_words(status) -> str:
    """What a finished file was checked against, in words."""
    from ofa_manager.core.fingerprints import VERIFIED_BY

    if status.verified_by in VERIFIED_BY:
        return f"verified against {VERIFIED_BY[status.verified_by]}"
    return "not verified: neither the catalog nor the server gave a fingerprint (its sha256 is recorded)"


def _rejected_words(status) -> str:
    check = status.rejected.get("check")
    what = {"sha256": "sha256", "crc64": "server CRC-64", "md5": "server MD5"}.get(check, "check")
    return f"rejected: {what} mismatch (kept as {status.path.name}.rejected)"


def _list_line(entry: Checkpoint, status, catalog: Catalog) -> str:
    described = describe(status)
    state = str(described.word) if status.state is not State.REMOTE else status.state.value
    if described.word is Word.PARTIAL:
        state = f"partial {units.size(status.bytes)}"
    elif described.word is Word.NOT_OURS:
        state = f"not ours: {described.reason}"
    elif described.proof in (Proof.SERVER_CRC64, Proof.SERVER_MD5):
        state = _verified_words(status)
    elif status.state is State.IN_STORE:
        state = f"in the shared store: {status.store_path}" + (" (verified)" if status.verified else "")
    elif status.state is State.REMOTE and status.reason:
        state = f"remote ({status.reason})"
    if status.state is State.PARTIAL and status.reason:
        state += f" ({status.reason}; the next download starts over)"
    if status.differs:
        state = (
            f"kept anyway, differs from the catalog ({status.meta.get('rejected_reason') or 'not verified'})"
        )
    if status.rejected is not None:
        state += f"; {_rejected_words(status)}"
    size = units.size(status.size) if status.size else "size unknown"
    shared = " (shared file)" if catalog.sharing(entry) else ""
    group = " / ".join(entry.group)
    return f"  {entry.id:<24} {entry.title:<34} {size:>12}  {state}{shared}  [{group}]"


def _say_claims(library: Library, entries: list[Checkpoint], stream=None) -> None:
    """Read the file again and say where it differs from each entry's claim (a warning, not a failure)."""
    from ofa_manager.core.claims import claim_mismatch, inspect_entry

    found = inspect_entry(library, entries[0], refresh=True)
    if found is None:
        return
    for entry in entries:
        mismatch = claim_mismatch(entry.expect, found.summary)
        if mismatch:
            print(f"  warning: {entry.id}: {mismatch}", file=stream or sys.stdout)


def _confirm(question: str, off_terminal: str) -> bool:
    """Ask ``question`` on the terminal: yes only for y or yes, no by default. Off a terminal nobody can
    answer: a usage error saying ``off_terminal`` (which flag answers it), never a hang, never a guess."""
    if not sys.stdin.isatty():
        raise UsageError(off_terminal)
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")
