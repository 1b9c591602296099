"""A checkpoint's state on disk in words, the same for the window and the command line.

The rule for "verified" lives here once: a file is verified when its sha256 was computed and matched
the catalog's, or, for an entry without a catalog sha256, matched the hash taken when it arrived (what
Verify does for such an entry). The window translates the words; the command line prints them.
``wants_file`` says whether Download would do anything for an entry (the window enables the action by
it at start-up, which is why it is here and not with the plans in core/plan.py).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ofa_manager.core.file_status import FileStatus, State
from ofa_manager.core.states import GOING

if TYPE_CHECKING:
    from ofa_manager.core.catalog import Checkpoint
    from ofa_manager.core.plan import Known


class Word(str, enum.Enum):
    """The state of an entry on disk, as a front end names it."""

    NOT_DOWNLOADED = "not downloaded"
    PARTIAL = "partial"
    DOWNLOADED = "downloaded"  # complete, its hash not checked since it arrived
    VERIFIED = "verified"
    CORRUPT = "corrupt"
    NOT_OURS = "not ours"
    IN_STORE = "in the shared store"  # a read-only shared store has it (see Library.store_file)
    DIFFERS = "differs from the catalog"  # a copy that failed its check, kept anyway (never verified)

    def __str__(self) -> str:
        return self.value


class Proof(str, enum.Enum):
    """What a verified file's hash was checked against."""

    CATALOG = "catalog"  # the catalog's sha256
    SERVER_CRC64 = "crc64"  # the CRC-64 the server sent with the file (x-oss-hash-crc64ecma)
    SERVER_MD5 = "md5"  # the MD5 the server sent with the file (a single-part upload's ETag)
    ARRIVAL = "arrival"  # the sha256 taken when it was downloaded (the catalog gives none)


@dataclass(frozen=True)
class Description:
    word: Word
    reason: str = ""  # why it is not ours, or why a partial file's record was not trusted
    proof: Proof | None = None  # for VERIFIED: what the hash matched
    checked_at: str | None = None  # for VERIFIED against the arrival hash: when Verify ran


def verified_by(status: FileStatus) -> Proof | None:
    """What the file's hash was checked against, or None when it was not checked (or did not match)."""
    if status.state is State.IN_STORE:
        # A shared store's copy: verified when Verify hashed it and it matched the catalog's sha256.
        return Proof.CATALOG if status.verified else None
    if status.state is not State.DOWNLOADED or status.differs:
        return None
    if status.verified:
        return Proof.CATALOG
    if status.verified_by in (Proof.SERVER_CRC64.value, Proof.SERVER_MD5.value):
        # Checked on arrival against a fingerprint the server sent before the file was here.
        return Proof(status.verified_by)
    meta = status.meta or {}
    if (
        meta.get("verified_at")
        and meta.get("state") == "ok"
        and meta.get("sha256")
        and meta.get("sha256") == meta.get("sha256_found")
    ):
        return Proof.ARRIVAL
    return None


def describe(status: FileStatus) -> Description:
    """The entry's state in words, with the reason a front end shows beside it."""
    state = status.state
    if state is State.DOWNLOADED and status.differs:
        return Description(Word.DIFFERS, reason=status.reason)
    if state is State.DOWNLOADED:
        proof = verified_by(status)
        if proof is None:
            return Description(Word.DOWNLOADED)
        checked = (status.meta or {}).get("verified_at") if proof is Proof.ARRIVAL else None
        return Description(Word.VERIFIED, proof=proof, checked_at=checked)
    word = {
        State.REMOTE: Word.NOT_DOWNLOADED,
        State.PARTIAL: Word.PARTIAL,
        State.CORRUPT: Word.CORRUPT,
        State.FOREIGN: Word.NOT_OURS,
        State.IN_STORE: Word.IN_STORE,
    }[state]
    return Description(word, reason=status.reason)


def wants_file(known: Known, entry: Checkpoint) -> bool:
    """True when Download would do something for this checkpoint: not here, and not on its way."""
    item = known.item_for(entry)
    if item is not None and item.state in GOING:
        return False
    status = known.status_of(entry)
    return status is None or status.state not in (State.DOWNLOADED, State.IN_STORE)
