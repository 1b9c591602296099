"""The main window: checkpoint tree, actions, search, downloads panel, disk usage and settings."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QModelIndex, QPoint, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStyle,
    QTabWidget,
    QToolBar,
    QTreeView,
    QWidget,
)

from ofa_manager import APP_NAME
from ofa_manager.core import units
from ofa_manager.core.catalog import Checkpoint
from ofa_manager.core.describe import wants_file
from ofa_manager.core.file_status import State
from ofa_manager.core.hosts import normalise_host
from ofa_manager.core.states import CANCELLABLE, GOING, UNFINISHED, ItemState
from ofa_manager.gui.delegates import MiddleElideDelegate, ProgressDelegate
from ofa_manager.gui.details import DetailsPane
from ofa_manager.gui.disk import DiskPanel
from ofa_manager.gui.downloads import DownloadsPanel
from ofa_manager.gui.status import display_path
from ofa_manager.gui.tree import (
    COL_LOCATION,
    COL_NAME,
    COL_PARAMS,
    COL_SIZE,
    COL_STATUS,
    CheckpointFilter,
    CheckpointTreeModel,
    Role,
)
from ofa_manager.gui.workspace import Workspace

if TYPE_CHECKING:
    from ofa_manager.core.plan import DownloadPlan


class MainWindow(QMainWindow):
    """The window over one models folder.

    Signals:
        first_painted(): the first frame of the window is painted (start-up work waits for this)
    """

    first_painted = Signal()

    def __init__(self, workspace: Workspace) -> None:
        super().__init__()
        self.workspace = workspace
        self._painted = False
        self.setWindowTitle(APP_NAME)
        self.setObjectName("main-window")

        self.model = CheckpointTreeModel(workspace, self)
        self.proxy = CheckpointFilter(self)
        self.proxy.setSourceModel(self.model)
        self.tree = QTreeView(self)
        self.tree.setObjectName("checkpoints")
        self.tree.setModel(self.proxy)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.tree.setContextMenuPolicy(Qt.CustomContextMenu)
        self.tree.setExpandsOnDoubleClick(True)
        self.tree.setItemDelegateForColumn(COL_STATUS, ProgressDelegate(Role.PROGRESS, self.tree))
        self.tree.setItemDelegateForColumn(COL_LOCATION, MiddleElideDelegate(self.tree))
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.tree.doubleClicked.connect(self._double_clicked)
        header = self.tree.header()
        header.setStretchLastSection(True)
        metrics = self.fontMetrics()
        # Room for the text; the name also needs the tree's indentation and the shared-file icon.
        for column, sample, extra in (
            (COL_NAME, "π-Adapter checkpoint on RefCOCO+", 96),
            (COL_PARAMS, "Parameters", 20),
            (COL_SIZE, "2.9 GiB + 1 unknown", 20),
            (COL_STATUS, "42 % — 11.8 MiB/s — 2 min left", 24),
        ):
            header.resizeSection(column, metrics.horizontalAdvance(sample) + extra)
        header.setSectionResizeMode(COL_PARAMS, QHeaderView.Interactive)

        self.downloads = DownloadsPanel(workspace, self)
        self.downloads.show_file.connect(lambda key: self.open_folder([Path(key)]))
        self.downloads.retry_requested.connect(self._retry_downloads)
        self.disk = DiskPanel(workspace, self)
        self.details = DetailsPane(workspace, self)
        # Beside the tree, one tab each: the selected checkpoint's details and the disk usage (both want
        # the full height; stacked they would not fit a 1024×600 screen).
        self.side = QTabWidget(self)
        self.side.setObjectName("side-tabs")
        self.side.setDocumentMode(True)
        self.side.addTab(self.details, self.tr("Details"))
        # Scrolled, so the disk panel's own minimum height does not hold up the splitter below.
        disk_scroll = QScrollArea(self)
        disk_scroll.setObjectName("disk-scroll")
        disk_scroll.setWidgetResizable(True)
        disk_scroll.setFrameShape(QFrame.NoFrame)
        disk_scroll.setWidget(self.disk)
        self.side.addTab(disk_scroll, self.tr("Disk usage"))
        # The tree and the side tabs side by side; the downloads list below them, across the window.
        self.top_splitter = QSplitter(Qt.Horizontal, self)
        self.top_splitter.setObjectName("tree-splitter")
        self.top_splitter.addWidget(self.tree)
        self.top_splitter.addWidget(self.side)
        self.top_splitter.setStretchFactor(0, 1)
        self.top_splitter.setStretchFactor(1, 0)
        self.top_splitter.setChildrenCollapsible(False)
        self.splitter = QSplitter(Qt.Vertical, self)
        self.splitter.setObjectName("main-splitter")
        self.splitter.addWidget(self.top_splitter)
        self.splitter.addWidget(self.downloads)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        self.setCentralWidget(self.splitter)

        self.search = QLineEdit(self)
        self.search.setObjectName("search")
        self.search.setPlaceholderText("Search checkpoints…")
        self.search.setToolTip("Filter by name, id, group or file name (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setMaximumWidth(280)
        self.search.textChanged.connect(self.filter)

        self.actions_by_name: dict[str, QAction] = {}
        self._build_actions()
        self._build_toolbar()
        self.message_label = QLabel(self)
        self.message_label.setObjectName("message")
        self.statusBar().addWidget(self.message_label, 1)
        self.tray = None

        ws = workspace
        ws.message.connect(self.show_message)
        ws.progress_changed.connect(self.update_title)
        ws.items_removed.connect(self.update_title)
        ws.entries_changed.connect(self.update_actions)
        ws.items_inserted.connect(self.update_actions)
        ws.items_removed.connect(self.update_actions)
        ws.statuses_changed.connect(self.update_actions)
        ws.started.connect(self.update_actions)
        # A folder switch or a download process that gave up changes what the actions can do.
        ws.items_reset.connect(self.update_actions)
        ws.folder_changed.connect(self.update_actions)
        ws.item_finished.connect(self._notify)
        ws.trash_failed.connect(self._trash_failed)
        self.tree.selectionModel().selectionChanged.connect(self.update_actions)
        self.tree.selectionModel().selectionChanged.connect(self._show_details)
        self.tree.expandAll()
        self._restore_layout()
        self.update_actions()

    # -- building ---------------------------------------------------------------------------------

    def _build_actions(self) -> None:
        style = self.style()
        spec = (
            (
                "download",
                "Download",
                "Ctrl+D",
                QStyle.SP_ArrowDown,
                self.download_selected,
                "Download the selected checkpoints (resumes partial files)",
            ),
            (
                "pause",
                "Pause",
                "Ctrl+P",
                QStyle.SP_MediaPause,
                lambda: self.workspace.pause(self.selected_entries()),
                "Pause the selected downloads; the data so far is kept",
            ),
            (
                "resume",
                "Resume",
                "Ctrl+R",
                QStyle.SP_MediaPlay,
                lambda: self.workspace.resume(self.selected_entries()),
                "Resume paused downloads and partial files",
            ),
            (
                "cancel",
                "Cancel",
                "Ctrl+.",
                QStyle.SP_DialogCancelButton,
                lambda: self.workspace.cancel(self.selected_entries()),
                "Take the selected downloads off the list; the partial data stays for later",
            ),
            (
                "retry",
                "Retry",
                "Ctrl+Shift+R",
                QStyle.SP_BrowserReload,
                self.retry_selected,
                "Try failed downloads again",
            ),
            (
                "keep_rejected",
                self.tr("Keep Anyway"),
                "",
                QStyle.SP_DialogYesButton,
                lambda: self.workspace.accept_rejected(self.selected_entries()),
                self.tr(
                    "Use the download that failed its check without downloading again; it is marked as "
                    "differing from the catalog, never as verified"
                ),
            ),
            (
                "delete_rejected",
                self.tr("Delete Rejected Copy"),
                "",
                QStyle.SP_DialogDiscardButton,
                self.delete_rejected_selected,
                self.tr("Delete the kept copy of a download that failed its check"),
            ),
            (
                "inspect_rejected",
                self.tr("Inspect"),
                "",
                QStyle.SP_FileDialogContentsView,
                self.inspect_selected,
                self.tr("Show what the kept copy of a download that failed its check holds"),
            ),
            (
                "verify",
                "Verify",
                "Ctrl+Shift+V",
                QStyle.SP_DialogApplyButton,
                self.verify_selected,
                "Re-hash the local files and compare with the known sha256",
            ),
            (
                "open",
                "Open Folder",
                "Ctrl+O",
                QStyle.SP_DirOpenIcon,
                self.open_selected_folder,
                "Open the folder that holds the selected files",
            ),
            (
                "copy",
                "Copy Path",
                "Ctrl+Shift+C",
                QStyle.SP_FileIcon,
                self.copy_paths,
                "Copy the full paths of the selected files",
            ),
            (
                "delete",
                "Delete",
                QKeySequence.Delete,
                QStyle.SP_TrashIcon,
                self.delete_selected,
                "Move the local copies to the desktop trash",
            ),
            (
                "delete_partial",
                "Delete Partial File",
                "Shift+Del",
                QStyle.SP_DialogDiscardButton,
                self.delete_partial_selected,
                "Delete unfinished partial data",
            ),
            (
                "check",
                "Check Links",
                "Ctrl+L",
                QStyle.SP_DriveNetIcon,
                self.check_links,
                "Ask the servers (HEAD) whether the links answer and how big the files are",
            ),
            (
                "settings",
                "Settings",
                "Ctrl+,",
                QStyle.SP_FileDialogDetailedView,
                self.open_settings,
                "Models folder, limits, mirrors, tokens",
            ),
            (
                "refresh",
                "Refresh",
                # Not QKeySequence.Refresh: on some desktops that is Ctrl+R, which is Resume here.
                "F5",
                QStyle.SP_BrowserReload,
                self.workspace.request_scan,
                "Read the models folder again",
            ),
            ("find", "Find", QKeySequence.Find, None, self._focus_search, "Search the checkpoints"),
            (
                "quit",
                "Quit",
                QKeySequence.Quit,
                None,
                self.close,
                "Close the window (downloads resume next time)",
            ),
        )
        for name, text, shortcut, icon, slot, tip in spec:
            action = QAction(text, self)
            action.setObjectName(name)
            action.setShortcut(QKeySequence(shortcut))
            action.setToolTip(f"{tip} ({QKeySequence(shortcut).toString(QKeySequence.NativeText)})")
            if icon is not None:
                action.setIcon(style.standardIcon(icon))
            action.triggered.connect(lambda _=False, s=slot: s())
            if name in ("delete", "delete_partial"):
                # Their keys act on the checkpoint tree only: Delete in the downloads list is that list's.
                action.setShortcutContext(Qt.WidgetWithChildrenShortcut)
                self.tree.addAction(action)
            else:
                self.addAction(action)
            self.actions_by_name[name] = action

    def _build_toolbar(self) -> None:
        bar = QToolBar("Actions", self)
        bar.setObjectName("actions")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        for name in (
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
        ):
            self._add_action(bar, name)
        spacer = QWidget(bar)
        spacer.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Preferred)
        bar.addWidget(spacer)
        bar.addWidget(self.search)
        self.addToolBar(Qt.TopToolBarArea, bar)
        self.toolbar = bar

    def _after_first_paint(self) -> None:
        """What the first look at the window does not need: sorting, the tray icon."""
        from PySide6.QtWidgets import QSystemTrayIcon

        # The indicator first, so enabling sorting keeps the catalog's order until a header is clicked.
        self.tree.header().setSortIndicator(-1, Qt.AscendingOrder)
        self.tree.setSortingEnabled(True)
        if QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(self.windowIcon(), self)
            self.tray.setToolTip(APP_NAME)
            self.tray.activated.connect(lambda *_: self.bring_forward())
            self.tray.show()

    def _restore_layout(self) -> None:
        s = self.workspace.settings
        geometry = QByteArray.fromBase64(s.window_geometry.encode())
        if not (s.window_geometry and self.restoreGeometry(geometry)):
            self.resize(1280, 800)
        if s.window_state:
            self.restoreState(QByteArray.fromBase64(s.window_state.encode()))
        # Both splitters in the one setting: "main;tree", each base64.
        main, _, top = s.splitter_state.partition(";")
        if not (main and self.splitter.restoreState(QByteArray.fromBase64(main.encode()))):
            self.splitter.setSizes([470, 250])
        if not (top and self.top_splitter.restoreState(QByteArray.fromBase64(top.encode()))):
            self.top_splitter.setSizes([self.width() - 320, 320])

    # -- selection --------------------------------------------------------------------------------

    def selected_entries(self) -> list[Checkpoint]:
        """The selected checkpoints; a selected group stands for every checkpoint under it."""
        found: set[str] = set()
        for index in self.tree.selectionModel().selectedRows(COL_NAME):
            node = self.model.node(self.proxy.mapToSource(index))
            if node is not None:
                found.update(entry.id for entry in node.entries())
        # In catalog order, whatever order the rows were picked in.
        return [entry for entry in self.workspace.catalog if entry.id in found]

    def select(self, entry_ids: list[str]) -> None:
        """Select these checkpoints' rows (as a click would)."""
        selection = self.tree.selectionModel()
        selection.clearSelection()
        for entry_id in entry_ids:
            index = self.proxy.mapFromSource(self.model.index_of(entry_id))
            selection.select(index, selection.SelectionFlag.Select | selection.SelectionFlag.Rows)
        if entry_ids:
            first = self.proxy.mapFromSource(self.model.index_of(entry_ids[0]))
            selection.setCurrentIndex(first, selection.SelectionFlag.NoUpdate)

    def _show_details(self, *args) -> None:
        entries = self.selected_entries()
        self.details.show_entry(entries[0] if len(entries) == 1 else None)

    def update_actions(self, *args) -> None:
        ws = self.workspace
        entries = self.selected_entries()
        items = [ws.item_for(e) for e in entries]
        statuses = [ws.status_of(e) for e in entries]
        states = {i.state for i in items if i is not None}
        # A corrupt file whose new copy is queued or downloading is neither verified nor deleted.
        settled = [e for e in entries if ws.entry_state(e).settled]
        verifiable = [e for e in entries if ws.entry_state(e).verifiable]
        partial = [s for s in statuses if s is not None and s.state is State.PARTIAL]
        rejected = [s for s in statuses if s is not None and s.rejected is not None]
        ready = ws.ready
        touch = ws.may_touch_files  # not before the downloads are known, nor during a folder move
        enabled = {
            "download": ready and any(wants_file(ws, e) for e in entries),
            "pause": ready and bool(states & GOING),
            "resume": ready and (bool(states & {ItemState.PAUSED, ItemState.FAILED}) or bool(partial)),
            "cancel": ready and bool(states & (CANCELLABLE)),
            "retry": ready and ItemState.FAILED in states,
            "verify": touch and bool(verifiable),
            "open": bool(entries),
            "copy": bool(entries),
            "delete": touch and bool(settled),
            "delete_partial": touch and bool(partial),
            "keep_rejected": touch and bool(rejected),
            "delete_rejected": touch and bool(rejected),
            "inspect_rejected": bool(rejected),
            "check": True,
        }
        for name, value in enabled.items():
            self.actions_by_name[name].setEnabled(value)

    # -- downloading ------------------------------------------------------------------------------

    def plan_download(self, entries: list[Checkpoint]) -> DownloadPlan:
        """Decide what Download means for these checkpoints, before asking anything."""
        from ofa_manager.core.plan import plan_download  # when asked, not at start-up

        ws = self.workspace
        return plan_download(entries, ws.catalog, ws.library, ws, free=ws.free_bytes(), queued=ws.items())

    def download_selected(self) -> None:
        self.download(self.selected_entries())

    def download(self, entries: list[Checkpoint]) -> bool:
        """Queue these checkpoints after the questions a user should see: backbone, disk space."""
        ws = self.workspace
        if not ws.ready:
            return False
        plan = self.plan_download(entries)
        if not plan.entries:
            self.show_message("Nothing to download: the selected checkpoints are here or already queued")
            return False
        chosen = plan.entries
        with_bases = False
        if plan.missing_bases:
            names = ", ".join(b.title for b in plan.missing_bases)
            users = ", ".join(e.title for e in plan.users_of_missing_bases())
            both, only = f"Queue {names} Too", "Only the Selected"
            answer = self.ask(
                "Download the backbone too?",
                f"{users} need(s) the backbone {names}, which is not downloaded or queued.\n\n"
                f"Queue {names} as well?",
                [both, only, "Cancel"],
            )
            if answer in (None, "Cancel"):
                return False
            if answer == both:
                chosen = plan.missing_bases + plan.entries
                with_bases = True
        if plan.short_of_space(with_bases=with_bases):
            total = plan.space_needed(with_bases=with_bases)
            answer = self.ask(
                "Not enough disk space",
                f"These downloads need {units.size(total)} (with the ones already queued), but only "
                f"{units.size(plan.free)} is free in {ws.library.root}.",
                ["Queue Anyway", "Cancel"],
                warning=True,
                default=1,
            )
            if answer != "Queue Anyway":
                return False
        ws.download(chosen)
        return True

    # -- other actions ----------------------------------------------------------------------------

    def verify_selected(self) -> None:
        started = self.workspace.verify(self.selected_entries())
        if started:
            self.show_message(f"Verifying {started} file(s)…")

    def check_links(self) -> None:
        entries = self.selected_entries() or list(self.workspace.catalog)
        self.workspace.check_links(entries)

    def _file_paths(self, entries: list[Checkpoint]) -> list[Path]:
        """The files the user means: ours, else a shared store's (where the models folder's would be)."""
        library = self.workspace.library
        return list(dict.fromkeys(library.local_or_store_path(e) or library.path(e) for e in entries))

    def copy_paths(self) -> None:
        paths = self._file_paths(self.selected_entries())
        if paths:
            QGuiApplication.clipboard().setText("\n".join(str(p) for p in paths))
            self.show_message(f"Copied {len(paths)} path(s)")

    def open_selected_folder(self) -> None:
        self.open_folder(self._file_paths(self.selected_entries()))

    def open_folder(self, paths: list[Path]) -> None:
        """Open the folder that holds these files in the desktop's file manager."""
        folders = list(dict.fromkeys(p.parent for p in paths)) or [self.workspace.library.root]
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
            if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
                self.show_message(f"No file manager could open {folder}")

    def _double_clicked(self, index: QModelIndex) -> None:
        node = self.model.node(self.proxy.mapToSource(index))
        if node is None or node.entry is None:
            return
        entry = node.entry
        state = self.workspace.entry_state(entry)
        if state.on_disk or (
            state.status is not None and state.status.state in (State.FOREIGN, State.IN_STORE)
        ):
            self.open_folder(self._file_paths([entry]))
        elif state.item is not None and state.item.state is ItemState.FAILED:
            self.retry_entries([entry])
        elif wants_file(self.workspace, entry):
            self.download([entry])

    def _add_action(self, target, name: str | None) -> None:
        """Add a named action to a toolbar or a menu; None adds a separator."""
        if name is None:
            target.addSeparator()
        else:
            target.addAction(self.actions_by_name[name])

    def _context_menu(self, pos: QPoint) -> None:
        from PySide6.QtWidgets import QMenu

        menu = QMenu(self)
        menu.setAttribute(Qt.WA_DeleteOnClose)
        for name in (
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
        ):
            self._add_action(menu, name)
        menu.popup(self.tree.viewport().mapToGlobal(pos))

    def delete_selected(self) -> None:
        """Ask first (size, checkpoints sharing the file, PETL checkpoints needing it), then trash."""
        ws = self.workspace
        entries = self.selected_entries()
        targets = [e for e in ws.one_per_file(entries) if ws.entry_state(e).settled]
        if not targets:
            return
        lines, total = [], 0
        from ofa_manager.core.plan import deletion_impact  # when asked, not at start-up

        for impact in deletion_impact(targets, ws.catalog, ws.library, ws):
            status = ws.status_of(impact.entry)
            total += status.bytes
            lines.append(f"• {status.path.name} — {units.size(status.bytes)}")
            if impact.sharing:
                lines.append(f"   the same file is used by: {', '.join(o.title for o in impact.sharing)}")
            for broken in impact.breaks:
                lines.append(
                    f"   {broken.backbone.title} is the backbone of downloaded PETL checkpoints, which "
                    f"will not work without it: {', '.join(d.title for d in broken.dependants)}"
                )
        answer = self.ask(
            "Move to the trash?",
            f"Move {len(targets)} file(s) to the desktop trash, freeing {units.size(total)}?\n\n"
            + "\n".join(lines),
            ["Move to Trash", "Cancel"],
            warning=True,
            default=1,
        )
        if answer == "Move to Trash":
            ws.trash(targets)

    def _trash_failed(self, ids: list[str], reason: str) -> None:
        ws = self.workspace
        entries = [ws.catalog.get(i) for i in ids if i in ws.catalog]
        if not entries:
            return
        status = ws.status_of(entries[0])
        size = f" ({units.size(status.bytes)})" if status is not None else ""
        answer = self.ask(
            "The trash cannot take the file",
            f"{reason}.\n\nDelete {ws.library.path(entries[0]).name}{size} permanently instead? "
            "This cannot be undone.",
            ["Delete Permanently", "Keep the File"],
            warning=True,
            default=1,
        )
        if answer == "Delete Permanently":
            ws.delete_permanently(entries)
        else:
            self.show_message("Nothing deleted")

    def retry_selected(self) -> None:
        self.retry_entries(self.selected_entries())

    def retry_entries(self, entries: list[Checkpoint]) -> None:
        """Retry failed downloads; where the failed copy was kept (it failed its check), ask first."""
        ws = self.workspace
        rejected = ws.rejected_entries(entries)
        if rejected:
            names = ", ".join(e.title for e in rejected)
            again, keep = self.tr("Download Again"), self.tr("Keep Anyway")
            answer = self.ask(
                self.tr("Download again?"),
                self.tr(
                    "The last download of {names} failed its check and was kept. Downloading again "
                    "fetches the whole file once more; Keep Anyway uses the kept copy, marked as differing "
                    "from the catalog."
                ).format(names=names),
                [again, keep, self.tr("Cancel")],
                default=2,
            )
            if answer == keep:
                ws.accept_rejected(rejected)
                return
            if answer != again:
                return
        ws.retry(entries)

    def inspect_selected(self) -> None:
        """Show the Details tab for the selected row (for a rejected download: what its kept copy holds)."""
        entries = self.selected_entries()
        if entries:
            self.select([entries[0].id])
            self.side.setCurrentWidget(self.details)

    def _retry_downloads(self, keys: list[str]) -> None:
        """The downloads panel's Retry: the same question as the tree's where the failed copy was kept."""
        ws = self.workspace
        self.retry_entries([e for key in keys for e in ws.entries_of(key)[:1]])

    def delete_rejected_selected(self) -> None:
        ws = self.workspace
        targets = ws.rejected_entries(self.selected_entries())
        if not targets:
            return
        total = sum(ws.status_of(e).rejected.get("size", 0) for e in targets)
        text = self.tr("Delete the rejected copy of {names} ({size})?").format(
            names=", ".join(e.title for e in targets), size=units.size(total)
        )
        delete = self.tr("Delete")
        if (
            self.ask(
                self.tr("Delete rejected copies?"), text, [delete, self.tr("Cancel")], warning=True, default=1
            )
            == delete
        ):
            ws.delete_rejected(targets)

    def delete_partial_selected(self) -> None:
        ws = self.workspace
        targets = [
            e
            for e in ws.one_per_file(self.selected_entries())
            if (s := ws.status_of(e)) is not None and s.state is State.PARTIAL
        ]
        if not targets:
            return
        total = sum(ws.status_of(e).bytes for e in targets)
        running = [e.title for e in targets if (i := ws.item_for(e)) is not None and i.state in UNFINISHED]
        text = (
            f"Delete the partial data of {', '.join(e.title for e in targets)} ({units.size(total)})? "
            "A new download starts from the beginning."
        )
        if running:
            text += f"\n\nThe download of {', '.join(running)} is cancelled first."
        if self.ask("Delete partial files?", text, ["Delete", "Cancel"], warning=True, default=1) == "Delete":
            ws.delete_partial(targets)

    # -- settings ---------------------------------------------------------------------------------

    def open_settings(self):
        """Show the settings dialog; returns it (tests answer it like a user would)."""
        from ofa_manager.gui.settings_dialog import SettingsDialog

        ws = self.workspace
        hosts = list(dict.fromkeys(normalise_host(u) for e in ws.catalog for u in (e.url, *e.mirrors)))
        note = ""
        if os.environ.get("OFA_MANAGER_DIR"):
            note = "OFA_MANAGER_DIR is set: at start-up it decides the folder, whatever is chosen here."
        # Store and Remove act on the keyring at once: the downloads learn of each change the keyring
        # takes, even on Cancel and even when the keyring answers after the dialog has closed.
        dialog = SettingsDialog(
            ws.settings,
            ws.library.root,
            hosts,
            self,
            folder_note=note,
            on_tokens=ws.give_tokens,
            sources=[u for e in ws.catalog for u in (e.url, *e.mirrors)],
        )
        dialog.accepted.connect(lambda: self.apply_settings(dialog))
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def apply_settings(self, dialog) -> None:
        ws = self.workspace
        edited = dialog.edited()
        # The folder setting changes only once the switch has happened (see Workspace._finish_move).
        edited.models_dir = ws.settings.models_dir
        folder = dialog.chosen_folder().expanduser()
        if not str(dialog.chosen_folder()).strip() or not folder.is_absolute():
            self.show_message(f"The models folder must be a full path; it stays {ws.library.root}")
            folder = ws.library.root
        change = folder.resolve() != ws.library.root
        if change and (ws.moving or ws.verifying):
            busy = "a folder move" if ws.moving else "a verification"
            self.show_message(
                f"The models folder stays {ws.library.root} while {busy} runs; choose it again after"
            )
            change = False
        move = False
        if change:
            answer = self.ask(
                "Move the checkpoints?",
                f"The models folder becomes {folder}.\n\nMove the checkpoints and partial files from "
                f"{ws.library.root} there? Unfinished downloads follow either way.",
                ["Move Files", "Leave Them", "Cancel"],
            )
            if answer in (None, "Cancel"):
                change = False
            else:
                move = answer == "Move Files"
        if change and ws.claim_folder is not None and not ws.claim_folder(folder.resolve()):
            self.show_message(f"Another ofa-manager window is open on {folder}: it was brought forward")
            change = False
        ws.apply_settings(edited, dialog.changed_tokens)
        if change:
            ws.change_folder(folder, move_files=move)
        self.show_message("Settings saved")

    # -- feedback ---------------------------------------------------------------------------------

    def ask(
        self, title: str, text: str, choices: list[str], *, default: int = 0, warning: bool = False
    ) -> str | None:
        """Ask the user to pick one of ``choices`` (button labels); None when the dialog is dismissed.

        Every confirmation goes through here; the last choice is the one Escape stands for.
        """
        from PySide6.QtWidgets import QMessageBox

        icon = QMessageBox.Icon.Warning if warning else QMessageBox.Icon.Question
        box = QMessageBox(icon, title, text, QMessageBox.StandardButton.NoButton, self)
        buttons = []
        for position, label in enumerate(choices):
            last = position == len(choices) - 1
            role = QMessageBox.ButtonRole.RejectRole if last else QMessageBox.ButtonRole.AcceptRole
            buttons.append(box.addButton(label, role))
        box.setDefaultButton(buttons[default])
        box.setEscapeButton(buttons[-1])
        box.exec()
        clicked = box.clickedButton()
        return choices[buttons.index(clicked)] if clicked in buttons else None

    def show_message(self, text: str) -> None:
        self.message_label.setText(text)
        self.message_label.setToolTip(text)

    def update_title(self, *args) -> None:
        fraction, going = self.workspace.overall_progress()
        if not going:
            self.setWindowTitle(APP_NAME)
            return
        done = f"{int(100 * fraction)} %" if fraction is not None else "…"
        plural = "download" if going == 1 else "downloads"
        self.setWindowTitle(f"{done} — {going} {plural} — {APP_NAME}")

    def _notify(self, item) -> None:
        from PySide6.QtWidgets import QSystemTrayIcon

        if self.tray is None or not self.workspace.settings.notifications:
            return
        if item.state is ItemState.FAILED:
            self.tray.showMessage("Download failed", f"{item.title}: {item.error}", QSystemTrayIcon.Warning)
        else:
            self.tray.showMessage(
                "Download finished", f"{item.title}\n{item.key}", QSystemTrayIcon.Information
            )

    def filter(self, text: str) -> None:
        self.proxy.setFilterFixedString(text.strip())
        self.tree.expandAll()

    def _focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def bring_forward(self) -> None:
        """Show the window on top: a second launch asked for it."""
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    # -- life cycle -------------------------------------------------------------------------------

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if not self._painted:
            self._painted = True
            # Reported once the whole frame (children included) is painted, not when it begins.
            QTimer.singleShot(0, self._first_frame_done)

    def _first_frame_done(self) -> None:
        self.first_painted.emit()
        self._after_first_paint()

    def close_now(self) -> None:
        """Close without asking anything (SIGTERM, or Ctrl+C in the terminal)."""
        self._closing_anyway = True
        self.close()

    def closeEvent(self, event) -> None:
        ws = self.workspace
        if ws.moving and ws.moving_to is not None and not getattr(self, "_closing_anyway", False):
            answer = self.ask(
                "Stop moving the checkpoints?",
                f"The checkpoints are being moved to {display_path(ws.moving_to)}. Closing now stops the "
                f"move: the files moved so far stay there, the others stay in "
                f"{display_path(ws.library.root)}, which remains the models folder.",
                ["Close Anyway", "Keep Moving"],
                default=1,
                warning=True,
            )
            if answer != "Close Anyway":
                event.ignore()
                return
        self.workspace.save_window(
            bytes(self.saveGeometry().toBase64()).decode(),
            bytes(self.saveState().toBase64()).decode(),
            f"{bytes(self.splitter.saveState().toBase64()).decode()};"
            f"{bytes(self.top_splitter.saveState().toBase64()).decode()}",
        )
        self.workspace.close()
        if self.tray is not None:
            self.tray.hide()
        super().closeEvent(event)
