"""One command over several files, told as one line once the last result is in (the rows keep the details)."""

from __future__ import annotations

import enum

from PySide6.QtCore import QCoreApplication


class Outcome(enum.Enum):
    """How one file's verification ended."""

    VERIFIED = "verified"
    DIFFERS = "differs"  # does not match its hash or size: corrupt
    NOT_OURS = "not ours"  # a file ofa-manager did not put there, and it does not match
    FAILED = "failed"  # could not be read


class VerifyBatch:
    """The files one Verify started (more join while it runs); says how it went when all are done."""

    def __init__(self) -> None:
        self.pending: set[str] = set()
        self.outcomes: dict[str, Outcome] = {}

    def add(self, key: str) -> None:
        self.pending.add(key)
        self.outcomes.pop(key, None)

    def record(self, key: str, outcome: Outcome) -> bool:
        """Note one result; False when ``key`` is not one of this batch's files."""
        if key not in self.pending:
            return False
        self.pending.discard(key)
        self.outcomes[key] = outcome
        return True

    @property
    def done(self) -> bool:
        return not self.pending

    def summary(self) -> str:
        """'Verified 5 of 6 — 1 differs', with each kind of trouble counted once."""
        total = len(self.outcomes)
        counts = {outcome: 0 for outcome in Outcome}
        for outcome in self.outcomes.values():
            counts[outcome] += 1
        # Each text written out whole, so the translation tools find it.
        verified, differs = counts[Outcome.VERIFIED], counts[Outcome.DIFFERS]
        not_ours, failed = counts[Outcome.NOT_OURS], counts[Outcome.FAILED]
        parts = [QCoreApplication.translate("VerifyBatch", "Verified %n of {total}", "", verified)]
        parts[0] = parts[0].format(total=total)
        if differs:
            parts.append(
                QCoreApplication.translate("VerifyBatch", "%n differs from its hash", "", differs)
                if differs == 1
                else QCoreApplication.translate("VerifyBatch", "%n differ from their hashes", "", differs)
            )
        if not_ours:
            parts.append(
                QCoreApplication.translate("VerifyBatch", "%n is not ours", "", not_ours)
                if not_ours == 1
                else QCoreApplication.translate("VerifyBatch", "%n are not ours", "", not_ours)
            )
        if failed:
            parts.append(QCoreApplication.translate("VerifyBatch", "%n could not be read", "", failed))
        if len(parts) > 1:
            parts.append(QCoreApplication.translate("VerifyBatch", "the rows say which"))
        return " — ".join(parts)


class FileBatch:
    """The files one Move to Trash or Delete started; what they came to, told once all are in.

    ``record(key, size)`` notes one file: its bytes when done, None when it failed (its own line or
    dialog says why). A batch of one file is never made: that file's own line says more.
    """

    def __init__(self, keys: list[str]) -> None:
        self.pending = set(keys)
        self.files = 0
        self.bytes = 0
        self.failed = 0

    def record(self, key: str, size: int | None) -> bool:
        """Note one result; False when ``key`` is not one of this batch's files."""
        if key not in self.pending:
            return False
        self.pending.discard(key)
        if size is None:
            self.failed += 1
        else:
            self.files += 1
            self.bytes += size
        return True

    @property
    def done(self) -> bool:
        return not self.pending
