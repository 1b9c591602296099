"""One command over several files, told as one line once the last result is in (the rows keep the details)."""

from __future__ import annotations

import enum

from PySide6.QtCore import QCoreApplication


def counted(context: str, one: str, many: str, n: int) -> str:
    """A count in words with Qt's %n plural form: ``one`` and ``many`` are the English forms, each a
    translatable text of its own (languages with one form translate both alike)."""
    return QCoreApplication.translate(context, one if n == 1 else many, "", n)


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
        context = "VerifyBatch"
        line = counted(context, "Verified %n of {total}", "Verified %n of {total}", counts[Outcome.VERIFIED])
        parts = [line.format(total=total)]
        if counts[Outcome.DIFFERS]:
            parts.append(
                counted(
                    context,
                    "%n differs from its hash",
                    "%n differ from their hashes",
                    counts[Outcome.DIFFERS],
                )
            )
        if counts[Outcome.NOT_OURS]:
            parts.append(counted(context, "%n is not ours", "%n are not ours", counts[Outcome.NOT_OURS]))
        if counts[Outcome.FAILED]:
            parts.append(
                counted(context, "%n could not be read", "%n could not be read", counts[Outcome.FAILED])
            )
        if len(parts) > 1:
            parts.append(QCoreApplication.translate(context, "the rows say which"))
        return " — ".join(parts)
