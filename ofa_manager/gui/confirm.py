"""The confirmations the window asks before acting, built from core's plans (core/plan.py).

Each function puts one question through ``ask`` (the window's ``MainWindow.ask``: title, text, button
labels; returns the label clicked or None) and returns what the user chose to do.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication

from ofa_manager.core import units
from ofa_manager.core.catalog import Checkpoint
from ofa_manager.core.states import UNFINISHED

if TYPE_CHECKING:
    from ofa_manager.core.plan import DownloadPlan, FileImpact
    from ofa_manager.gui.store import Store

Ask = Callable[..., "str | None"]


def tr(text: str) -> str:
    """Translated in the window's context: these strings were the window's, and stay its."""
    return QCoreApplication.translate("MainWindow", text)


def download_choice(ask: Ask, plan: DownloadPlan, root: Path) -> list[Checkpoint] | None:
    """What to queue for Download, after the questions a user should see: backbone, disk space.
    None: nothing (the user cancelled)."""
    chosen = plan.entries
    with_bases = False
    if plan.missing_bases:
        names = ", ".join(b.title for b in plan.missing_bases)
        users = ", ".join(e.title for e in plan.users_of_missing_bases())
        both, only = f"Queue {names} Too", "Only the Selected"
        answer = ask(
            "Download the backbone too?",
            f"{users} need(s) the backbone {names}, which is not downloaded or queued.\n\n"
            f"Queue {names} as well?",
            [both, only, "Cancel"],
        )
        if answer in (None, "Cancel"):
            return None
        if answer == both:
            chosen = plan.missing_bases + plan.entries
            with_bases = True
    if plan.short_of_space(with_bases=with_bases):
        total = plan.space_needed(with_bases=with_bases)
        answer = ask(
            "Not enough disk space",
            f"These downloads need {units.size(total)} (with the ones already queued), but only "
            f"{units.size(plan.free)} is free in {root}.",
            ["Queue Anyway", "Cancel"],
            warning=True,
            default=1,
        )
        if answer != "Queue Anyway":
            return None
    return chosen


def trash(ask: Ask, targets: list[Checkpoint], impacts: list[FileImpact], store: Store) -> bool:
    """Move to the trash? Size, checkpoints sharing the file, PETL checkpoints needing it."""
    lines, total = [], 0
    for impact in impacts:
        status = store.status_of(impact.entry)
        if status is None:  # the targets are settled files: each has a status
            continue
        total += status.bytes
        lines.append(f"• {status.path.name} — {units.size(status.bytes)}")
        if impact.sharing:
            lines.append(f"   the same file is used by: {', '.join(o.title for o in impact.sharing)}")
        for broken in impact.breaks:
            lines.append(
                f"   {broken.backbone.title} is the backbone of downloaded PETL checkpoints, which "
                f"will not work without it: {', '.join(d.title for d in broken.dependants)}"
            )
    answer = ask(
        "Move to the trash?",
        tr(
            "Move {count} file(s) ({size}) to the desktop trash? In the trash they take their space "
            "until it is emptied."
        ).format(count=len(targets), size=units.size(total))
        + "\n\n"
        + "\n".join(lines),
        ["Move to Trash", "Cancel"],
        warning=True,
        default=1,
    )
    return answer == "Move to Trash"


def delete_instead_of_trash(ask: Ask, reason: str, name: str, size: str) -> bool:
    """The trash refused the file: delete it permanently instead?"""
    answer = ask(
        "The trash cannot take the file",
        f"{reason}.\n\nDelete {name}{size} permanently instead? This cannot be undone.",
        ["Delete Permanently", "Keep the File"],
        warning=True,
        default=1,
    )
    return answer == "Delete Permanently"


def retry_rejected(ask: Ask, rejected: list[Checkpoint]) -> str | None:
    """The last download of these failed its check and was kept: "again", "keep", or None (cancel)."""
    names = ", ".join(e.title for e in rejected)
    again, keep = tr("Download Again"), tr("Keep Anyway")
    answer = ask(
        tr("Download again?"),
        tr(
            "The last download of {names} failed its check and was kept. Downloading again "
            "fetches the whole file once more; Keep Anyway uses the kept copy, marked as differing "
            "from the catalog."
        ).format(names=names),
        [again, keep, tr("Cancel")],
        default=2,
    )
    return {again: "again", keep: "keep"}.get(answer or "")


def delete_rejected(ask: Ask, targets: list[Checkpoint], store: Store) -> bool:
    total = sum((s.rejected or {}).get("size", 0) for e in targets if (s := store.status_of(e)) is not None)
    text = tr("Delete the rejected copy of {names} ({size})?").format(
        names=", ".join(e.title for e in targets), size=units.size(total)
    )
    delete = tr("Delete")
    return ask(tr("Delete rejected copies?"), text, [delete, tr("Cancel")], warning=True, default=1) == delete


def delete_partial(ask: Ask, targets: list[Checkpoint], store: Store) -> bool:
    total = sum(s.bytes for e in targets if (s := store.status_of(e)) is not None)
    running = [e.title for e in targets if (i := store.item_for(e)) is not None and i.state in UNFINISHED]
    text = (
        f"Delete the partial data of {', '.join(e.title for e in targets)} ({units.size(total)})? "
        "A new download starts from the beginning."
    )
    if running:
        text += f"\n\nThe download of {', '.join(running)} is cancelled first."
    return ask("Delete partial files?", text, ["Delete", "Cancel"], warning=True, default=1) == "Delete"


def move_files(ask: Ask, folder: Path, old: Path) -> bool | None:
    """A new models folder: move the files there (True), leave them (False), or cancel (None)."""
    answer = ask(
        "Move the checkpoints?",
        f"The models folder becomes {folder}.\n\nMove the checkpoints and partial files from "
        f"{old} there? Unfinished downloads follow either way.",
        ["Move Files", "Leave Them", "Cancel"],
    )
    if answer in (None, "Cancel"):
        return None
    return answer == "Move Files"


def stop_moving(ask: Ask, moving_to: str, root: str) -> bool:
    """Closing while the files move: close anyway?"""
    answer = ask(
        "Stop moving the checkpoints?",
        f"The checkpoints are being moved to {moving_to}. Closing now stops the "
        f"move: the files moved so far stay there, the others stay in "
        f"{root}, which remains the models folder.",
        ["Close Anyway", "Keep Moving"],
        default=1,
        warning=True,
    )
    return answer == "Close Anyway"
