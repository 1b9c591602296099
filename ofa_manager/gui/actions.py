"""The window's actions: what each one is called and does, where it shows, and when it is enabled.

The toolbar and the tree's context menu both read the actions made here; ``enabled_actions`` is the
one rule for enabling them, a predicate per action over the selection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QStyle

from ofa_manager.core.archive_records import is_archive
from ofa_manager.core.catalog import Checkpoint
from ofa_manager.core.describe import wants_file
from ofa_manager.core.file_status import FileStatus, State
from ofa_manager.core.states import CANCELLABLE, GOING, ItemState

if TYPE_CHECKING:
    from ofa_manager.gui.commands import Commands
    from ofa_manager.gui.store import Store
    from ofa_manager.gui.window import MainWindow

# Where the actions show, in order; None is a separator.
TOOLBAR: tuple[str | None, ...] = (
    "download",
    "pause",
    "resume",
    "cancel",
    "retry",
    None,
    "verify",
    "check",
    None,
    "open",
    "delete",
    None,
    "settings",
)
CONTEXT_MENU: tuple[str | None, ...] = (
    "download",
    "pause",
    "resume",
    "cancel",
    "retry",
    None,
    "verify",
    "check",
    None,
    "open",
    "copy",
    None,
    "delete",
    "delete_partial",
    "inspect_rejected",
    "keep_rejected",
    "delete_rejected",
    None,
    "link_into",
    "export_lock",
    "unpack",
)
# The toolbar's "Project" menu: putting checkpoints where a project expects them, catalogs, lock files.
PROJECT_MENU: tuple[str | None, ...] = (
    "check_project",
    "link_into",
    None,
    "add_catalog",
    "export_lock",
)
# Their keys act on the checkpoint tree only: Delete in the downloads list is that list's.
TREE_ONLY = ("delete", "delete_partial")


@dataclass(frozen=True)
class Selection:
    """What the enabling rules look at: the selected checkpoints and what is known of them now."""

    entries: list[Checkpoint]
    states: set[ItemState]  # the queue states of their downloads
    statuses: list[FileStatus | None]
    settled: list[Checkpoint]  # on disk and not being replaced
    verifiable: list[Checkpoint]
    wanted: bool  # Download would do something for at least one
    ready: bool  # the downloads can be changed
    touch: bool  # local files may be verified or deleted
    partial_left: bool = False  # partial data no download works on (Resume queues it again)
    archives: list[Checkpoint] = field(default_factory=list)  # downloaded .zip entries (Unpack: one)

    @classmethod
    def of(cls, entries: list[Checkpoint], store: Store, commands: Commands) -> Selection:
        items = [store.item_for(e) for e in entries]
        statuses = [store.status_of(e) for e in entries]
        return cls(
            entries=entries,
            states={i.state for i in items if i is not None},
            statuses=statuses,
            # A corrupt file whose new copy is queued or downloading is neither verified nor deleted.
            settled=[e for e in entries if store.entry_state(e).settled],
            verifiable=[e for e in entries if store.entry_state(e).verifiable],
            wanted=any(wants_file(store, e) for e in entries),
            archives=[
                e
                for e, status in zip(entries, statuses, strict=True)
                if is_archive(e) and status is not None and status.state is State.DOWNLOADED
            ],
            ready=commands.ready,
            # not before the downloads are known, nor during a folder move
            touch=commands.may_touch_files,
            partial_left=any(store.entry_state(e).partial_left for e in entries),
        )

    @property
    def partial(self) -> bool:
        return any(s is not None and s.state is State.PARTIAL for s in self.statuses)

    @property
    def rejected(self) -> bool:
        return any(s is not None and s.rejected is not None for s in self.statuses)


# The enabling rule of each action that depends on the selection; the others are always enabled.
ENABLED_WHEN: dict[str, Callable[[Selection], bool]] = {
    "download": lambda s: s.ready and s.wanted,
    "pause": lambda s: s.ready and bool(s.states & GOING),
    # Not for a download that runs: its partial file is the one it is writing.
    "resume": lambda s: s.ready and (bool(s.states & {ItemState.PAUSED, ItemState.FAILED}) or s.partial_left),
    "cancel": lambda s: s.ready and bool(s.states & CANCELLABLE),
    "retry": lambda s: s.ready and ItemState.FAILED in s.states,
    "verify": lambda s: s.touch and bool(s.verifiable),
    "open": lambda s: bool(s.entries),
    "copy": lambda s: bool(s.entries),
    "delete": lambda s: s.touch and bool(s.settled),
    "delete_partial": lambda s: s.touch and s.partial,
    "keep_rejected": lambda s: s.touch and s.rejected,
    "delete_rejected": lambda s: s.touch and s.rejected,
    "inspect_rejected": lambda s: s.rejected,
    "check": lambda s: True,
    # Links are made from the files (none while a folder move runs); one not here is offered for download.
    "link_into": lambda s: s.touch and bool(s.entries),
    # The selected checkpoints, or every downloaded one when none is selected.
    "export_lock": lambda s: s.touch,
    # One downloaded zip at a time: its question lists what it holds.
    "unpack": lambda s: s.touch and len(s.entries) == 1 and len(s.archives) == 1,
}


def enabled_actions(selection: Selection) -> dict[str, bool]:
    return {name: rule(selection) for name, rule in ENABLED_WHEN.items()}


def _specs(self: MainWindow) -> tuple[tuple[str, str, Any, Any, Callable[[], object], str], ...]:
    """(name, text, shortcut, icon, slot, tooltip) of each action; ``self`` is the window."""
    commands = self.commands
    return (
        (
            "download",
            QCoreApplication.translate("MainWindow", "Download"),
            "Ctrl+D",
            QStyle.StandardPixmap.SP_ArrowDown,
            self.download_selected,
            QCoreApplication.translate(
                "MainWindow", "Download the selected checkpoints (resumes partial files)"
            ),
        ),
        (
            "pause",
            QCoreApplication.translate("MainWindow", "Pause"),
            "Ctrl+P",
            QStyle.StandardPixmap.SP_MediaPause,
            lambda: commands.pause(self.selected_entries()),
            QCoreApplication.translate("MainWindow", "Pause the selected downloads; the data so far is kept"),
        ),
        (
            "resume",
            QCoreApplication.translate("MainWindow", "Resume"),
            "Ctrl+R",
            QStyle.StandardPixmap.SP_MediaPlay,
            lambda: commands.resume(self.selected_entries()),
            QCoreApplication.translate("MainWindow", "Resume paused downloads and partial files"),
        ),
        (
            "cancel",
            QCoreApplication.translate("MainWindow", "Cancel"),
            "Ctrl+.",
            QStyle.StandardPixmap.SP_DialogCancelButton,
            lambda: commands.cancel(self.selected_entries()),
            QCoreApplication.translate(
                "MainWindow", "Take the selected downloads off the list; the partial data stays for later"
            ),
        ),
        (
            "retry",
            QCoreApplication.translate("MainWindow", "Retry"),
            "Ctrl+Shift+R",
            QStyle.StandardPixmap.SP_BrowserReload,
            self.retry_selected,
            QCoreApplication.translate("MainWindow", "Try failed downloads again"),
        ),
        (
            "keep_rejected",
            QCoreApplication.translate("MainWindow", "Keep Anyway"),
            "",
            QStyle.StandardPixmap.SP_DialogYesButton,
            lambda: commands.accept_rejected(self.selected_entries()),
            QCoreApplication.translate(
                "MainWindow",
                "Use the download that failed its check without downloading again; it is marked as "
                "differing from the catalog, never as verified",
            ),
        ),
        (
            "delete_rejected",
            QCoreApplication.translate("MainWindow", "Delete Rejected Copy"),
            "",
            QStyle.StandardPixmap.SP_DialogDiscardButton,
            self.delete_rejected_selected,
            QCoreApplication.translate(
                "MainWindow", "Delete the kept copy of a download that failed its check"
            ),
        ),
        (
            "inspect_rejected",
            QCoreApplication.translate("MainWindow", "Inspect"),
            "",
            QStyle.StandardPixmap.SP_FileDialogContentsView,
            self.inspect_selected,
            QCoreApplication.translate(
                "MainWindow", "Show what the kept copy of a download that failed its check holds"
            ),
        ),
        (
            "verify",
            QCoreApplication.translate("MainWindow", "Verify"),
            "Ctrl+Shift+V",
            QStyle.StandardPixmap.SP_DialogApplyButton,
            self.verify_selected,
            QCoreApplication.translate(
                "MainWindow", "Re-hash the local files and compare with the known sha256"
            ),
        ),
        (
            "open",
            QCoreApplication.translate("MainWindow", "Open Folder"),
            "Ctrl+O",
            QStyle.StandardPixmap.SP_DirOpenIcon,
            self.open_selected_folder,
            QCoreApplication.translate("MainWindow", "Open the folder that holds the selected files"),
        ),
        (
            "copy",
            QCoreApplication.translate("MainWindow", "Copy Path"),
            "Ctrl+Shift+C",
            QStyle.StandardPixmap.SP_FileIcon,
            self.copy_paths,
            QCoreApplication.translate("MainWindow", "Copy the full paths of the selected files"),
        ),
        (
            "delete",
            QCoreApplication.translate("MainWindow", "Delete"),
            QKeySequence.StandardKey.Delete,
            QStyle.StandardPixmap.SP_TrashIcon,
            self.delete_selected,
            QCoreApplication.translate("MainWindow", "Move the local copies to the desktop trash"),
        ),
        (
            "delete_partial",
            QCoreApplication.translate("MainWindow", "Delete Partial File"),
            "Shift+Del",
            QStyle.StandardPixmap.SP_DialogDiscardButton,
            self.delete_partial_selected,
            QCoreApplication.translate("MainWindow", "Delete unfinished partial data"),
        ),
        (
            "check",
            QCoreApplication.translate("MainWindow", "Check Links"),
            "Ctrl+L",
            QStyle.StandardPixmap.SP_DriveNetIcon,
            self.check_links,
            QCoreApplication.translate(
                "MainWindow", "Ask the servers (HEAD) whether the links answer and how big the files are"
            ),
        ),
        (
            "settings",
            QCoreApplication.translate("MainWindow", "Settings"),
            "Ctrl+,",
            QStyle.StandardPixmap.SP_FileDialogDetailedView,
            self.open_settings,
            QCoreApplication.translate("MainWindow", "Models folder, limits, mirrors, tokens"),
        ),
        (
            "refresh",
            QCoreApplication.translate("MainWindow", "Refresh"),
            # Not QKeySequence.Refresh: on some desktops that is Ctrl+R, which is Resume here.
            "F5",
            QStyle.StandardPixmap.SP_BrowserReload,
            commands.refresh,
            QCoreApplication.translate("MainWindow", "Read the models folder again"),
        ),
        (
            "find",
            QCoreApplication.translate("MainWindow", "Find"),
            QKeySequence.StandardKey.Find,
            None,
            self._focus_search,
            QCoreApplication.translate("MainWindow", "Search the checkpoints"),
        ),
        (
            "check_project",
            QCoreApplication.translate("MainWindow", "Check a Project Folder…"),
            "",
            QStyle.StandardPixmap.SP_DirLinkIcon,
            self.check_project_folder,
            QCoreApplication.translate(
                "MainWindow",
                "Read a project's shell scripts for the checkpoints they load, see what is there, and link "
                "what the catalog has",
            ),
        ),
        (
            "link_into",
            QCoreApplication.translate("MainWindow", "Link into Project Folder…"),
            "",
            QStyle.StandardPixmap.SP_FileLinkIcon,
            self.link_selected,
            QCoreApplication.translate(
                "MainWindow", "Put links to the selected checkpoints into a project's folder"
            ),
        ),
        (
            "add_catalog",
            QCoreApplication.translate("MainWindow", "Add Catalog…"),
            "",
            QStyle.StandardPixmap.SP_FileDialogNewFolder,
            self.add_catalog,
            QCoreApplication.translate(
                "MainWindow", "Import a checkpoint list (Markdown or HTML, a file or an address) as a catalog"
            ),
        ),
        (
            "export_lock",
            QCoreApplication.translate("MainWindow", "Export Lock File…"),
            "",
            QStyle.StandardPixmap.SP_DialogSaveButton,
            self.export_lock_file,
            QCoreApplication.translate(
                "MainWindow",
                "Pin the selected (or all) downloaded checkpoints to their exact bytes in a lock file",
            ),
        ),
        (
            "unpack",
            QCoreApplication.translate("MainWindow", "Unpack"),
            "",
            QStyle.StandardPixmap.SP_DirOpenIcon,
            self.unpack_selected,
            QCoreApplication.translate(
                "MainWindow", "Check the downloaded archive and unpack it into a folder beside it"
            ),
        ),
        (
            "quit",
            QCoreApplication.translate("MainWindow", "Quit"),
            QKeySequence.StandardKey.Quit,
            None,
            self.close,
            QCoreApplication.translate("MainWindow", "Close the window (downloads resume next time)"),
        ),
    )


def build_actions(window: MainWindow) -> dict[str, QAction]:
    """Make the window's actions (with shortcuts, icons and tooltips) and add them to the window."""
    style = window.style()
    actions: dict[str, QAction] = {}
    for name, text, shortcut, icon, slot, tip in _specs(window):
        action = QAction(text, window)
        action.setObjectName(name)
        action.setShortcut(QKeySequence(shortcut))
        keys = QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(
            QCoreApplication.translate("MainWindow", "{tip} ({keys})").format(tip=tip, keys=keys)
            if keys
            else tip
        )
        if icon is not None:
            action.setIcon(style.standardIcon(icon))
        action.triggered.connect(lambda _=False, s=slot: s())
        if name in TREE_ONLY:
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            window.tree.addAction(action)
        else:
            window.addAction(action)
        actions[name] = action
    return actions


def add_actions(target: Any, actions: dict[str, QAction], names: tuple[str | None, ...]) -> None:
    """Add named actions to a toolbar or a menu, in order; None adds a separator."""
    for name in names:
        if name is None:
            target.addSeparator()
        else:
            target.addAction(actions[name])
