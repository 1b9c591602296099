"""The confirmations the window asks before acting, built from core's plans (core/plan.py).

Each function puts one question through ``ask`` (the window's ``MainWindow.ask``: title, text, button
labels; returns the label clicked or None) and returns what the user chose to do.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QObject

from ofa_manager.core.catalog import Checkpoint
from ofa_manager.core.states import UNFINISHED
from ofa_manager.gui.catalog_words import catalog_text
from ofa_manager.gui.i18n import size_text

if TYPE_CHECKING:
    from ofa_manager.core.plan import DownloadPlan, FileImpact
    from ofa_manager.gui.store import Store

Ask = Callable[..., "str | None"]


class Confirm(QObject):
    """The confirmations' translation context: ``Confirm.tr`` (pyside6-lupdate reads plural forms from
    tr() calls only, not from QCoreApplication.translate)."""

    @staticmethod
    def tr(source: str, disambiguation: str | None = None, n: int = -1) -> str:
        """``source`` in the window's language, under this class's context, without an instance."""
        return QCoreApplication.translate("Confirm", source, disambiguation, n)


def titles(entries: list[Checkpoint]) -> str:
    """Checkpoints by their titles, as the window shows them."""
    return ", ".join(catalog_text(e.title) for e in entries)


def download_choice(ask: Ask, plan: DownloadPlan, root: Path) -> list[Checkpoint] | None:
    """What to queue for Download, after the questions a user should see: backbone, disk space.
    None: nothing (the user cancelled)."""
    chosen = plan.entries
    with_bases = False
    if plan.missing_bases:
        names = titles(plan.missing_bases)
        users = plan.users_of_missing_bases()
        both, only, cancel = (
            Confirm.tr("Queue {names} Too").format(names=names),
            Confirm.tr("Only the Selected"),
            Confirm.tr("Cancel"),
        )
        answer = ask(
            Confirm.tr("Download the backbone too?"),
            Confirm.tr(
                "{users} need(s) the backbone {names}, which is not downloaded or queued.\n\n"
                "Queue {names} as well?",
                "",
                len(users),
            ).format(users=titles(users), names=names),
            [both, only, cancel],
        )
        if answer in (None, cancel):
            return None
        if answer == both:
            chosen = plan.missing_bases + plan.entries
            with_bases = True
    if plan.short_of_space(with_bases=with_bases):
        total = plan.space_needed(with_bases=with_bases)
        anyway = Confirm.tr("Queue Anyway")
        answer = ask(
            Confirm.tr("Not enough disk space"),
            Confirm.tr(
                "These downloads need {needed} (with the ones already queued), but only {free} is free in "
                "{folder}."
            ).format(needed=size_text(total), free=size_text(plan.free), folder=root),
            [anyway, Confirm.tr("Cancel")],
            warning=True,
            default=1,
        )
        if answer != anyway:
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
        lines.append(
            Confirm.tr("• {file} — {size}").format(file=status.path.name, size=size_text(status.bytes))
        )
        if impact.sharing:
            lines.append(
                Confirm.tr("   the same file is used by: {names}").format(names=titles(impact.sharing))
            )
        for broken in impact.breaks:
            lines.append(
                Confirm.tr(
                    "   {backbone} is the backbone of downloaded PETL checkpoints, which will not work "
                    "without it: {names}"
                ).format(backbone=catalog_text(broken.backbone.title), names=titles(broken.dependants))
            )
    move = Confirm.tr("Move to Trash")
    answer = ask(
        Confirm.tr("Move to the trash?"),
        Confirm.tr(
            "Move %n file(s) ({size}) to the desktop trash? In the trash they take their space until it is "
            "emptied.",
            "",
            len(targets),
        ).format(size=size_text(total))
        + "\n\n"
        + "\n".join(lines),
        [move, Confirm.tr("Cancel")],
        warning=True,
        default=1,
    )
    return answer == move


def delete_instead_of_trash(ask: Ask, reason: str, name: str, size: str) -> bool:
    """The trash refused the file (``reason``): delete it permanently instead? ``size`` may be ""."""
    delete = Confirm.tr("Delete Permanently")
    named = Confirm.tr("{name} ({size})").format(name=name, size=size) if size else name
    answer = ask(
        Confirm.tr("The trash cannot take the file"),
        Confirm.tr("{reason}.\n\nDelete {name} permanently instead? This cannot be undone.").format(
            reason=reason, name=named
        ),
        [delete, Confirm.tr("Keep the File")],
        warning=True,
        default=1,
    )
    return answer == delete


def retry_rejected(ask: Ask, rejected: list[Checkpoint]) -> str | None:
    """The last download of these failed its check and was kept: "again", "keep", or None (cancel)."""
    again, keep = Confirm.tr("Download Again"), Confirm.tr("Keep Anyway")
    answer = ask(
        Confirm.tr("Download again?"),
        Confirm.tr(
            "The last download of {names} failed its check and was kept. Downloading again "
            "fetches the whole file once more; Keep Anyway uses the kept copy, marked as differing "
            "from the catalog."
        ).format(names=titles(rejected)),
        [again, keep, Confirm.tr("Cancel")],
        default=2,
    )
    return {again: "again", keep: "keep"}.get(answer or "")


def delete_rejected(ask: Ask, targets: list[Checkpoint], store: Store) -> bool:
    total = sum((s.rejected or {}).get("size", 0) for e in targets if (s := store.status_of(e)) is not None)
    text = Confirm.tr("Delete the rejected copy of {names} ({size})?").format(
        names=titles(targets), size=size_text(total)
    )
    delete = Confirm.tr("Delete")
    answer = ask(
        Confirm.tr("Delete rejected copies?"), text, [delete, Confirm.tr("Cancel")], warning=True, default=1
    )
    return answer == delete


def delete_partial(ask: Ask, targets: list[Checkpoint], store: Store) -> bool:
    total = sum(s.bytes for e in targets if (s := store.status_of(e)) is not None)
    running = [e for e in targets if (i := store.item_for(e)) is not None and i.state in UNFINISHED]
    text = Confirm.tr(
        "Delete the partial data of {names} ({size})? A new download starts from the beginning."
    ).format(names=titles(targets), size=size_text(total))
    if running:
        text += "\n\n" + Confirm.tr("The download of {names} is cancelled first.").format(
            names=titles(running)
        )
    delete = Confirm.tr("Delete")
    answer = ask(
        Confirm.tr("Delete partial files?"), text, [delete, Confirm.tr("Cancel")], warning=True, default=1
    )
    return answer == delete


def move_files(ask: Ask, folder: Path, old: Path) -> bool | None:
    """A new models folder: move the files there (True), leave them (False), or cancel (None)."""
    move, leave, cancel = Confirm.tr("Move Files"), Confirm.tr("Leave Them"), Confirm.tr("Cancel")
    answer = ask(
        Confirm.tr("Move the checkpoints?"),
        Confirm.tr(
            "The models folder becomes {folder}.\n\nMove the checkpoints and partial files from {old} there? "
            "Unfinished downloads follow either way."
        ).format(folder=folder, old=old),
        [move, leave, cancel],
    )
    if answer in (None, cancel):
        return None
    return answer == move


def stop_moving(ask: Ask, moving_to: str, root: str) -> bool:
    """Closing while the files move: close anyway?"""
    close = Confirm.tr("Close Anyway")
    answer = ask(
        Confirm.tr("Stop moving the checkpoints?"),
        Confirm.tr(
            "The checkpoints are being moved to {target}. Closing now stops the move: the files moved so far "
            "stay there, the others stay in {root}, which remains the models folder."
        ).format(target=moving_to, root=root),
        [close, Confirm.tr("Keep Moving")],
        default=1,
        warning=True,
    )
    return answer == close
