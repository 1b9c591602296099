"""How a checkpoint's state and a download's progress read to the user, in short words."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QCoreApplication

from ofa_manager.core import units
from ofa_manager.core.describe import Proof, Word, describe
from ofa_manager.core.file_status import FileStatus, State
from ofa_manager.core.states import GOING, UNFINISHED, ItemState

# Reasons that start with one of these keep only the part before the details, on the row.
_SHORT_PREFIXES = ("sha256 mismatch", "size mismatch", "not enough disk space")


@dataclass(frozen=True)
class EntryState:
    """Everything known about one checkpoint at this moment, gathered for display (never stored)."""

    status: FileStatus | None  # None until the first scan of the models folder
    item: object | None  # the QueueItem of its file, when queued
    verifying: float | None  # fraction hashed while a verification runs
    link_error: str | None  # what the last HEAD probe said, when it failed

    @property
    def queue_state(self) -> ItemState | None:
        item = self.item
        return None if item is None else item.state

    @property
    def on_disk(self) -> bool:
        return self.status is not None and self.status.state in (State.DOWNLOADED, State.CORRUPT)

    @property
    def settled(self) -> bool:
        """On disk and staying: no download is queued or running to replace it (a corrupt file's)."""
        return self.on_disk and self.queue_state not in GOING

    @property
    def partial_left(self) -> bool:
        """Partial data that no download is working on: Resume queues it again (not while it downloads)."""
        status = self.status
        return status is not None and status.state is State.PARTIAL and self.queue_state not in UNFINISHED

    @property
    def verifiable(self) -> bool:
        """Verify may run: our file settled, or a file that is not ours (it may match the catalog)."""
        status = self.status
        not_ours = status is not None and status.state is State.FOREIGN and status.bytes > 0
        return self.settled or (not_ours and self.queue_state not in GOING)


def display_path(path: Path | str) -> str:
    """A path as a user reads it: the home folder as '~'."""
    home = str(Path.home())
    text = str(path)
    return "~" + text[len(home) :] if home != "/" and text.startswith(home + "/") else text


def short_reason(reason: str | None) -> str:
    """The reason a download failed, without the explanation that follows it."""
    text = (reason or "unknown error").strip()
    for prefix in _SHORT_PREFIXES:
        if text.startswith(prefix):
            return prefix
    return text.split("; ")[0]


def progress_text(done: int, total: int | None, speed: float, eta: float | None) -> str:
    """'42 % — 3.1 MiB/s — 2 min left', with the parts that are known."""
    parts = [f"{int(100 * done / total)} %" if total else units.size(done)]
    if speed:
        parts.append(units.rate(speed))
        if eta is not None and total:
            parts.append(f"{units.duration(eta)} left")
    return " — ".join(parts)


def word_text(word: Word) -> str:
    """An entry's state word from core.describe, as the window says it (translatable)."""
    return {
        Word.NOT_DOWNLOADED: QCoreApplication.translate("status", "Not downloaded"),
        Word.PARTIAL: QCoreApplication.translate("status", "Partial"),
        Word.DOWNLOADED: QCoreApplication.translate("status", "Downloaded"),
        Word.VERIFIED: QCoreApplication.translate("status", "Verified"),
        Word.CORRUPT: QCoreApplication.translate("status", "Corrupt"),
        Word.NOT_OURS: QCoreApplication.translate("status", "Not ours"),
        Word.IN_STORE: QCoreApplication.translate("status", "In the shared store"),
        Word.DIFFERS: QCoreApplication.translate("status", "Kept anyway: differs from the catalog"),
    }[word]


def queue_state_text(item) -> str:
    """The state of a queued file, as the downloads list and the tree show it."""
    state = item.state
    if state is ItemState.DOWNLOADING:
        return progress_text(item.done, item.total, item.speed, item.eta)
    if state is ItemState.FAILED:
        return f"Failed: {short_reason(item.error)}"
    return {
        ItemState.QUEUED: "Queued",
        ItemState.WAITING: "Waiting for another program using the file",
        ItemState.CONNECTING: "Connecting",
        ItemState.STALLED: "Stalled, reconnecting",
        ItemState.VERIFYING: "Verifying",
        ItemState.PAUSED: "Paused",
        ItemState.DONE: "Downloaded",
    }.get(state, state.capitalize())


def status_text(state: EntryState) -> str:
    """The status column: Not downloaded · Queued · 42 % — … · Partial (1.2 GiB) · Verified · …"""
    if state.verifying is not None:
        return f"Verifying {int(100 * state.verifying)} %"
    item = state.item
    if item is not None and item.state is not ItemState.DONE:
        return queue_state_text(item)
    status = state.status
    if status is None:
        return "Checking…"
    described = describe(status)
    if described.word is Word.PARTIAL:
        return f"Partial ({units.size(status.bytes)})"
    if described.word is Word.NOT_OURS:
        return QCoreApplication.translate("status", "Not ours: {reason}").format(reason=described.reason)
    if described.word is Word.DIFFERS:
        return QCoreApplication.translate("status", "Kept anyway: differs from the catalog")
    if described.proof is Proof.SERVER_CRC64:
        return QCoreApplication.translate("status", "Verified against the server's CRC-64")
    if described.proof is Proof.SERVER_MD5:
        return QCoreApplication.translate("status", "Verified against the server's MD5")
    if status.rejected is not None and described.word is Word.NOT_DOWNLOADED:
        return rejected_text(status)
    if described.word is Word.NOT_DOWNLOADED and state.link_error:
        return f"Not downloaded — link failed: {state.link_error}"
    return word_text(described.word)


def rejected_text(status: FileStatus) -> str:
    """A download that failed its check and is kept (NAME.rejected)."""
    check = {"sha256": "sha256", "crc64": "CRC-64", "md5": "MD5"}.get(status.rejected.get("check"), "check")
    return QCoreApplication.translate("status", "Rejected: {check} mismatch (kept as {name})").format(
        check=check, name=f"{status.path.name}.rejected"
    )


def status_tooltip(state: EntryState) -> str:
    """The longer story behind the status column: full error, message, hash."""
    lines = [status_text(state)]
    item = state.item
    if item is not None and item.state is ItemState.FAILED and item.error:
        lines.append(f"Reason: {item.error}")
        lines.append("Retry from the context menu, the toolbar or the downloads list.")
    elif item is not None and item.message:
        lines.append(item.message)
    status = state.status
    if status is not None and status.state is State.DOWNLOADED and status.differs:
        lines.append(
            QCoreApplication.translate(
                "status",
                "Kept although it failed its check ({reason}); never shown as verified.",
            ).format(reason=status.meta.get("rejected_reason") or "")
        )
        if status.sha256:
            lines.append(f"sha256 {status.sha256}")
    elif status is not None and status.state is State.DOWNLOADED:
        described = describe(status)
        if described.proof is Proof.CATALOG:
            lines.append("The sha256 matches the catalog.")
        elif described.proof is Proof.ARRIVAL:
            lines.append(f"The sha256 is unchanged since the download (checked {described.checked_at}).")
        elif described.proof in (Proof.SERVER_CRC64, Proof.SERVER_MD5):
            lines.append(
                QCoreApplication.translate(
                    "status", "The catalog has no sha256; the bytes matched the server's own fingerprint."
                )
            )
        else:
            lines.append("Not verified yet: Verify re-hashes the file.")
        if status.sha256:
            lines.append(f"sha256 {status.sha256}")
    elif status is not None and status.state is State.FOREIGN:
        lines.append(
            QCoreApplication.translate(
                "status",
                "ofa-manager did not put this there: it never overwrites, adopts or deletes it. Verify "
                "takes it as the checkpoint only if it matches a size and sha256 known beforehand.",
            )
        )
    elif status is not None and status.state is State.IN_STORE:
        lines.append(
            QCoreApplication.translate(
                "status",
                "Used from {path}. The shared store is read-only: ofa-manager never writes or deletes there.",
            ).format(path=status.store_path)
        )
        if status.verified:
            lines.append(QCoreApplication.translate("status", "Its sha256 matched the catalog."))
    elif status is not None and status.state is State.REMOTE and status.reason:
        lines.append(status.reason[:1].upper() + status.reason[1:] + ".")  # a store's copy not used, and why
    elif status is not None and status.state is State.PARTIAL and status.reason:
        lines.append(
            QCoreApplication.translate("status", "{reason}; the next download starts over.").format(
                reason=status.reason[:1].upper() + status.reason[1:]
            )
        )
    elif status is not None and status.state is State.CORRUPT:
        found = status.meta.get("sha256_found")
        lines.append("The file does not match its hash or size; delete it and download it again.")
        if found:
            lines.append(f"sha256 found {found}")
    if status is not None and status.rejected is not None:
        lines.append(
            QCoreApplication.translate(
                "status",
                "The last download failed its check and was kept, not thrown away: {reason}. Keep Anyway "
                "uses it without downloading again; Delete Rejected Copy frees its space.",
            ).format(reason=status.rejected.get("reason") or "")
        )
    if state.link_error:
        lines.append(f"Link check: {state.link_error}")
    return "\n".join(lines)
