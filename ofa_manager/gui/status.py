"""How a checkpoint's state and a download's progress read to the user, in short words."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QCoreApplication

from ofa_manager.core.describe import Proof, Word, describe
from ofa_manager.core.file_status import FileStatus, State
from ofa_manager.core.states import GOING, UNFINISHED, ErrorKind, ItemState
from ofa_manager.gui.i18n import (
    SOURCE_LANGUAGE,
    current_language,
    duration_text,
    moment_text,
    percent_text,
    rate_text,
    size_text,
)

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


def short_reason(reason: str | None, kind: ErrorKind | None = None) -> str:
    """Why a download failed, in a few words of the window's language: the engine's usual reasons and
    the server's usual answers ("404 Not Found") translated; any other reason as the engine said it in
    English, or, in another language, the kind of failure (the tooltip keeps the engine's words)."""
    text = (reason or "").strip()
    if not text:
        return QCoreApplication.translate("status", "unknown error")
    for prefix in _SHORT_PREFIXES:
        if text.startswith(prefix):
            return {
                "sha256 mismatch": QCoreApplication.translate("status", "sha256 mismatch"),
                "size mismatch": QCoreApplication.translate("status", "size mismatch"),
                "not enough disk space": QCoreApplication.translate("status", "not enough disk space"),
            }[prefix]
    short = text.split("; ")[0]
    answer = _HTTP_ANSWER.match(short)
    if answer and answer.group(1) in _HTTP_PHRASES:
        return f"{answer.group(1)} {_HTTP_PHRASES[answer.group(1)]()}"
    if current_language() == SOURCE_LANGUAGE:
        return short
    return error_kind_text(kind or ErrorKind.ERROR)


def failure_detail(item) -> str | None:
    """The engine's whole reason for a failure, when it says more than the row does (a server's plain
    answer such as "404 Not Found" says nothing more)."""
    text = (item.error or "").strip()
    return None if not text or _HTTP_ANSWER.match(text) else text


def error_kind_text(kind: ErrorKind) -> str:
    """A kind of failure from core.states, as the window says it (translatable)."""
    return {
        ErrorKind.ERROR: QCoreApplication.translate("status", "error"),
        ErrorKind.DISK: QCoreApplication.translate("status", "the models folder cannot be written"),
        ErrorKind.SPACE: QCoreApplication.translate("status", "not enough disk space"),
        ErrorKind.REMOVED: QCoreApplication.translate("status", "the file was removed during the download"),
        ErrorKind.NOT_OURS: QCoreApplication.translate(
            "status", "a file ofa-manager did not put there is in the way"
        ),
        ErrorKind.NETWORK: QCoreApplication.translate("status", "the server could not be reached"),
        ErrorKind.HTTP: QCoreApplication.translate("status", "the server answered with an error"),
        ErrorKind.INTEGRITY: QCoreApplication.translate(
            "status", "the data does not match the expected file"
        ),
    }[kind]


_HTTP_ANSWER = re.compile(r"^(\d{3}) [A-Za-z][A-Za-z -]*$")
# The answers a checkpoint server usually gives, in the reason phrases the engine reports them with.
_HTTP_PHRASES = {
    "400": lambda: QCoreApplication.translate("status", "Bad Request"),
    "401": lambda: QCoreApplication.translate("status", "Unauthorized"),
    "403": lambda: QCoreApplication.translate("status", "Forbidden"),
    "404": lambda: QCoreApplication.translate("status", "Not Found"),
    "410": lambda: QCoreApplication.translate("status", "Gone"),
    "416": lambda: QCoreApplication.translate("status", "Range Not Satisfiable"),
    "429": lambda: QCoreApplication.translate("status", "Too Many Requests"),
    "500": lambda: QCoreApplication.translate("status", "Internal Server Error"),
    "502": lambda: QCoreApplication.translate("status", "Bad Gateway"),
    "503": lambda: QCoreApplication.translate("status", "Service Unavailable"),
    "504": lambda: QCoreApplication.translate("status", "Gateway Timeout"),
}


def progress_text(done: int, total: int | None, speed: float, eta: float | None) -> str:
    """'42 % — 3.1 MiB/s — 2 min left', with the parts that are known."""
    parts = [percent_text(done / total) if total else size_text(done)]
    if speed:
        parts.append(rate_text(speed))
        if eta is not None and total:
            parts.append(QCoreApplication.translate("status", "{time} left").format(time=duration_text(eta)))
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
        return QCoreApplication.translate("status", "Failed: {reason}").format(
            reason=short_reason(item.error, item.error_kind)
        )
    return item_state_text(state)


def item_state_text(state: ItemState) -> str:
    """A queue state from core.states, as the window says it (translatable)."""
    return {
        ItemState.QUEUED: QCoreApplication.translate("status", "Queued"),
        ItemState.WAITING: QCoreApplication.translate("status", "Waiting for another program using the file"),
        ItemState.CONNECTING: QCoreApplication.translate("status", "Connecting"),
        ItemState.DOWNLOADING: QCoreApplication.translate("status", "Downloading"),
        ItemState.STALLED: QCoreApplication.translate("status", "Stalled, reconnecting"),
        ItemState.VERIFYING: QCoreApplication.translate("status", "Verifying"),
        ItemState.PAUSED: QCoreApplication.translate("status", "Paused"),
        ItemState.DONE: QCoreApplication.translate("status", "Downloaded"),
        ItemState.FAILED: QCoreApplication.translate("status", "Failed"),
    }[state]


def status_text(state: EntryState) -> str:
    """The status column: Not downloaded · Queued · 42 % — … · Partial (1.2 GiB) · Verified · …"""
    if state.verifying is not None:
        return QCoreApplication.translate("status", "Verifying {percent}").format(
            percent=percent_text(state.verifying)
        )
    item = state.item
    if item is not None and item.state is not ItemState.DONE:
        return queue_state_text(item)
    status = state.status
    if status is None:
        return QCoreApplication.translate("status", "Checking…")
    described = describe(status)
    if described.word is Word.PARTIAL:
        return QCoreApplication.translate("status", "Partial ({size})").format(size=size_text(status.bytes))
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
        return QCoreApplication.translate("status", "Not downloaded — link failed: {reason}").format(
            reason=state.link_error
        )
    return word_text(described.word)


def rejected_text(status: FileStatus) -> str:
    """A download that failed its check and is kept (NAME.rejected)."""
    check = {"sha256": "sha256", "crc64": "CRC-64", "md5": "MD5"}.get(status.rejected.get("check")) or (
        QCoreApplication.translate("status", "check")
    )
    return QCoreApplication.translate("status", "Rejected: {check} mismatch (kept as {name})").format(
        check=check, name=f"{status.path.name}.rejected"
    )


def status_tooltip(state: EntryState) -> str:
    """The longer story behind the status column: full error, message, hash."""
    lines = [status_text(state)]
    item = state.item
    if item is not None and item.state is ItemState.FAILED and item.error:
        detail = failure_detail(item)
        if detail:
            lines.append(QCoreApplication.translate("status", "Reason: {reason}").format(reason=detail))
        lines.append(
            QCoreApplication.translate(
                "status", "Retry from the context menu, the toolbar or the downloads list."
            )
        )
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
            lines.append(QCoreApplication.translate("status", "The sha256 matches the catalog."))
        elif described.proof is Proof.ARRIVAL:
            lines.append(
                QCoreApplication.translate(
                    "status", "The sha256 is unchanged since the download (checked {when})."
                ).format(when=moment_text(described.checked_at))
            )
        elif described.proof in (Proof.SERVER_CRC64, Proof.SERVER_MD5):
            lines.append(
                QCoreApplication.translate(
                    "status", "The catalog has no sha256; the bytes matched the server's own fingerprint."
                )
            )
        else:
            lines.append(QCoreApplication.translate("status", "Not verified yet: Verify re-hashes the file."))
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
        lines.append(
            QCoreApplication.translate(
                "status", "The file does not match its hash or size; delete it and download it again."
            )
        )
        if found:
            lines.append(QCoreApplication.translate("status", "sha256 found {sha}").format(sha=found))
    if status is not None and status.rejected is not None:
        lines.append(
            QCoreApplication.translate(
                "status",
                "The last download failed its check and was kept, not thrown away: {reason}. Keep Anyway "
                "uses it without downloading again; Delete Rejected Copy frees its space.",
            ).format(reason=status.rejected.get("reason") or "")
        )
    if state.link_error:
        lines.append(
            QCoreApplication.translate("status", "Link check: {reason}").format(reason=state.link_error)
        )
    return "\n".join(lines)


def exit_reason_text(reason: object) -> str:
    """Why the download process ended (an ExitReason, or its value), as the window says it."""
    value = str(getattr(reason, "value", reason))
    return {
        "exited": QCoreApplication.translate("status", "exited", "the download process"),
        "not responding": QCoreApplication.translate("status", "not responding", "the download process"),
        "incompatible": QCoreApplication.translate("status", "incompatible", "the download process"),
        "pipe closed": QCoreApplication.translate("status", "pipe closed", "the download process"),
        "reader failed": QCoreApplication.translate("status", "reader failed", "the download process"),
    }.get(value, value)
