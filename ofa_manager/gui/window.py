"""The main window: checkpoint tree, actions, search, downloads panel, disk usage and settings."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QModelIndex, QPoint, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from ofa_manager import APP_NAME
from ofa_manager.core.catalog import Checkpoint
from ofa_manager.core.describe import wants_file
from ofa_manager.core.file_status import State
from ofa_manager.core.hosts import normalise_host
from ofa_manager.core.states import ItemState
from ofa_manager.gui import confirm, i18n
from ofa_manager.gui.accessibility import name_built_in_parts
from ofa_manager.gui.actions import (
    CONTEXT_MENU,
    Selection,
    add_actions,
    build_actions,
    enabled_actions,
)
from ofa_manager.gui.catalog_words import catalog_text
from ofa_manager.gui.delegates import MiddleElideDelegate, ProgressDelegate
from ofa_manager.gui.details import DetailsPane
from ofa_manager.gui.disk import DiskPanel
from ofa_manager.gui.downloads import DownloadsPanel
from ofa_manager.gui.i18n import percent_text, size_text
from ofa_manager.gui.moved_notice import MovedNotice
from ofa_manager.gui.status import display_path, short_reason
from ofa_manager.gui.tree import (
    COL_LOCATION,
    COL_NAME,
    COL_PARAMS,
    COL_STATUS,
    CheckpointFilter,
    CheckpointTreeModel,
    Role,
)
from ofa_manager.gui.window_layout import SEARCH_MIN_WIDTH, WindowLayout
from ofa_manager.gui.window_projects import WindowProjects
from ofa_manager.gui.workspace import Workspace

if TYPE_CHECKING:
    from ofa_manager.core.plan import DownloadPlan


class MainWindow(WindowLayout, WindowProjects, QMainWindow):
    """The window over one models folder.

    Signals:
        first_painted(): the first frame of the window is painted (start-up work waits for this)
    """

    first_painted = Signal()

    def __init__(self, workspace: Workspace) -> None:
        super().__init__()
        self.workspace = workspace
        self.store = workspace.store
        self.commands = workspace.commands
        self._painted = False
        # The window's language, when start-up (gui/app.py) has not installed one: a window made directly.
        i18n.install_once(self.store.settings.language)
        self.setWindowTitle(APP_NAME)
        self.setObjectName("main-window")

        self.model = CheckpointTreeModel(self.store, workspace.contents, self)
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
        self._size_columns()
        header.setSectionResizeMode(COL_PARAMS, QHeaderView.Interactive)

        self.downloads = DownloadsPanel(self.store, self.commands, self)
        self.downloads.show_file.connect(lambda key: self.open_folder([Path(key)]))
        self.downloads.retry_requested.connect(self._retry_downloads)
        self.disk = DiskPanel(self.store, self)
        self.details = DetailsPane(self.store, workspace.contents, self)
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
        # Above the tree, a bar that says when this folder's checkpoints were moved elsewhere.
        self.moved_notice = MovedNotice(self.store, self.commands, workspace.bridge, self)
        tree_column = QWidget(self)
        tree_column.setObjectName("tree-column")
        column_layout = QVBoxLayout(tree_column)
        column_layout.setContentsMargins(0, 0, 0, 0)
        column_layout.setSpacing(0)
        column_layout.addWidget(self.moved_notice)
        column_layout.addWidget(self.tree, 1)
        self.top_splitter.addWidget(tree_column)
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
        self.search.setPlaceholderText(self.tr("Search checkpoints…"))
        self.search.setToolTip(self.tr("Filter by name, id, group or file name (Ctrl+F)"))
        self.search.setClearButtonEnabled(True)
        self.search.setMaximumWidth(280)
        self.search.setMinimumWidth(SEARCH_MIN_WIDTH)
        self.search.setAccessibleName(self.tr("Search checkpoints"))
        self.search.textChanged.connect(self.filter)
        # Enter in the tree does what a double-click does; Escape in the search box clears it.
        self.tree.installEventFilter(self)
        self.search.installEventFilter(self)

        self.actions_by_name: dict[str, QAction] = build_actions(self)
        self._build_toolbar()
        self.message_label = QLabel(self)
        self.message_label.setObjectName("message")
        self.statusBar().addWidget(self.message_label, 1)
        self.tray = None

        store = self.store
        store.message.connect(self.show_message)
        store.progress_changed.connect(self.update_title)
        store.items_removed.connect(self.update_title)
        store.entries_changed.connect(self.update_actions)
        store.items_inserted.connect(self.update_actions)
        store.items_removed.connect(self.update_actions)
        store.statuses_changed.connect(self.update_actions)
        store.started.connect(self.update_actions)
        # A folder switch or a download process that gave up changes what the actions can do.
        store.items_reset.connect(self.update_actions)
        store.folder_changed.connect(self.update_actions)
        store.item_finished.connect(self._notify)
        self.commands.trash_failed.connect(self._trash_failed)
        self.tree.selectionModel().selectionChanged.connect(self.update_actions)
        self.tree.selectionModel().selectionChanged.connect(self._show_details)
        self.tree.expandAll()
        self._restore_layout()
        self.update_actions()
        name_built_in_parts(self)

    # -- building ---------------------------------------------------------------------------------

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._painted:
            # The frame brought onto this screen first (a place saved on a larger screen shrinks here), then
            # laid out: the status column takes the room the tree has on this screen.
            self._keep_frame_on_screen()
            self._size_columns(self.tree.viewport().width())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_toolbar()

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

    # -- selection --------------------------------------------------------------------------------

    def selected_entries(self) -> list[Checkpoint]:
        """The selected checkpoints; a selected group stands for every checkpoint under it."""
        found: set[str] = set()
        for index in self.tree.selectionModel().selectedRows(COL_NAME):
            node = self.model.node(self.proxy.mapToSource(index))
            if node is not None:
                found.update(entry.id for entry in node.entries())
        # In catalog order, whatever order the rows were picked in.
        return [entry for entry in self.store.catalog if entry.id in found]

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

    def update_actions(self, *args: object) -> None:
        selection = Selection.of(self.selected_entries(), self.store, self.commands)
        for name, value in enabled_actions(selection).items():
            self.actions_by_name[name].setEnabled(value)

    # -- downloading ------------------------------------------------------------------------------

    def plan_download(self, entries: list[Checkpoint]) -> DownloadPlan:
        """Decide what Download means for these checkpoints, before asking anything."""
        from ofa_manager.core.plan import plan_download  # when asked, not at start-up

        store = self.store
        return plan_download(
            entries, store.catalog, store.library, store, free=store.free_bytes(), queued=store.items()
        )

    def download_selected(self) -> None:
        self.download(self.selected_entries())

    def download(self, entries: list[Checkpoint]) -> bool:
        """Queue these checkpoints after the questions a user should see: backbone, disk space."""
        if not self.commands.ready:
            return False
        plan = self.plan_download(entries)
        if not plan.entries:
            self.show_message(
                self.tr("Nothing to download: the selected checkpoints are here or already queued")
            )
            return False
        chosen = confirm.download_choice(self.ask, plan, self.store.library.root)
        if chosen is None:
            return False
        self.commands.download(chosen)
        return True

    # -- other actions ----------------------------------------------------------------------------

    def verify_selected(self) -> None:
        started = self.commands.verify(self.selected_entries())
        if started:
            self.show_message(self.tr("Verifying %n file(s)…", "", started))

    def check_links(self) -> None:
        entries = self.selected_entries() or list(self.store.catalog)
        self.commands.check_links(entries)

    def _file_paths(self, entries: list[Checkpoint]) -> list[Path]:
        """The files the user means: ours, else a shared store's (where the models folder's would be)."""
        library = self.store.library
        return list(dict.fromkeys(library.local_or_store_path(e) or library.path(e) for e in entries))

    def copy_paths(self) -> None:
        paths = self._file_paths(self.selected_entries())
        if paths:
            QGuiApplication.clipboard().setText("\n".join(str(p) for p in paths))
            self.show_message(self.tr("Copied %n path(s)", "", len(paths)))

    def open_selected_folder(self) -> None:
        self.open_folder(self._file_paths(self.selected_entries()))

    def open_folder(self, paths: list[Path]) -> None:
        """Open the folder that holds these files in the desktop's file manager."""
        folders = list(dict.fromkeys(p.parent for p in paths)) or [self.store.library.root]
        for folder in folders:
            folder.mkdir(parents=True, exist_ok=True)
            if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
                self.show_message(self.tr("No file manager could open {folder}").format(folder=folder))

    def _double_clicked(self, index: QModelIndex) -> None:
        node = self.model.node(self.proxy.mapToSource(index))
        if node is None or node.entry is None:
            return
        entry = node.entry
        state = self.store.entry_state(entry)
        if state.on_disk or (
            state.status is not None and state.status.state in (State.FOREIGN, State.IN_STORE)
        ):
            self.open_folder(self._file_paths([entry]))
        elif state.item is not None and state.item.state is ItemState.FAILED:
            self.retry_entries([entry])
        elif wants_file(self.store, entry):
            self.download([entry])

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if watched is self.tree and key in (Qt.Key_Return, Qt.Key_Enter):
                index = self.tree.currentIndex()
                if index.isValid() and not event.modifiers() & ~Qt.KeypadModifier:
                    self._activate(index)
                    return True
            elif watched is self.search and key == Qt.Key_Escape and self.search.text():
                self.search.clear()
                return True
        return super().eventFilter(watched, event)

    def _activate(self, index: QModelIndex) -> None:
        """Enter on a row: what a double-click does (a group opens or closes)."""
        node = self.model.node(self.proxy.mapToSource(index))
        if node is not None and node.entry is None:
            name = index.siblingAtColumn(COL_NAME)
            self.tree.setExpanded(name, not self.tree.isExpanded(name))
        else:
            self._double_clicked(index)

    def _context_menu(self, pos: QPoint) -> None:

        menu = QMenu(self)
        menu.setAttribute(Qt.WA_DeleteOnClose)
        add_actions(menu, self.actions_by_name, CONTEXT_MENU)
        menu.popup(self.tree.viewport().mapToGlobal(pos))

    def delete_selected(self) -> None:
        """Ask first (size, checkpoints sharing the file, PETL checkpoints needing it), then trash."""
        store = self.store
        targets = [e for e in store.one_per_file(self.selected_entries()) if store.entry_state(e).settled]
        if not targets:
            return
        from ofa_manager.core.plan import deletion_impact  # when asked, not at start-up

        impacts = deletion_impact(targets, store.catalog, store.library, store)
        if confirm.trash(self.ask, targets, impacts, store):
            self.commands.trash(targets)

    def _trash_failed(self, ids: list[str], reason: str) -> None:
        store = self.store
        entries = [store.catalog.get(i) for i in ids if i in store.catalog]
        if not entries:
            return
        status = store.status_of(entries[0])
        size = size_text(status.bytes) if status is not None else ""
        if confirm.delete_instead_of_trash(self.ask, reason, store.library.path(entries[0]).name, size):
            self.commands.delete_permanently(entries)
        else:
            self.show_message(self.tr("Nothing deleted"))

    def retry_selected(self) -> None:
        self.retry_entries(self.selected_entries())

    def retry_entries(self, entries: list[Checkpoint]) -> None:
        """Retry failed downloads; where the failed copy was kept (it failed its check), ask first."""
        rejected = self.store.rejected_entries(entries)
        if rejected:
            answer = confirm.retry_rejected(self.ask, rejected)
            if answer == "keep":
                self.commands.accept_rejected(rejected)
                return
            if answer != "again":
                return
        self.commands.retry(entries)

    def inspect_selected(self) -> None:
        """Show the Details tab for the selected row (for a rejected download: what its kept copy holds)."""
        entries = self.selected_entries()
        if entries:
            self.select([entries[0].id])
            self.side.setCurrentWidget(self.details)

    def _retry_downloads(self, keys: list[str]) -> None:
        """The downloads panel's Retry: the same question as the tree's where the failed copy was kept."""
        self.retry_entries([e for key in keys for e in self.store.entries_of(key)[:1]])

    def delete_rejected_selected(self) -> None:
        targets = self.store.rejected_entries(self.selected_entries())
        if targets and confirm.delete_rejected(self.ask, targets, self.store):
            self.commands.delete_rejected(targets)

    def delete_partial_selected(self) -> None:
        store = self.store
        targets = [
            e
            for e in store.one_per_file(self.selected_entries())
            if (s := store.status_of(e)) is not None and s.state is State.PARTIAL
        ]
        if targets and confirm.delete_partial(self.ask, targets, store):
            self.commands.delete_partial(targets)

    # -- settings ---------------------------------------------------------------------------------

    def open_settings(self):
        """Show the settings dialog; returns it (tests answer it like a user would)."""
        from ofa_manager.gui.settings_dialog import SettingsDialog

        ws = self.store
        hosts = list(dict.fromkeys(normalise_host(u) for e in ws.catalog for u in (e.url, *e.mirrors)))
        note = ""
        if os.environ.get("OFA_MANAGER_DIR"):
            note = self.tr(
                "OFA_MANAGER_DIR is set: at start-up it decides the folder, whatever is chosen here."
            )
        # Store and Remove act on the keyring at once: the downloads learn of each change the keyring
        # takes, even on Cancel and even when the keyring answers after the dialog has closed.
        from ofa_manager.gui.catalogs_page import CatalogsPage

        catalogs = CatalogsPage(ws, self.workspace.bridge, self._asking()[0], ws.settings.disabled_catalogs)
        catalogs.changed.connect(self._catalogs_changed)
        dialog = SettingsDialog(
            ws.settings,
            ws.library.root,
            hosts,
            self,
            folder_note=note,
            on_tokens=self.commands.give_tokens,
            sources=[u for e in ws.catalog for u in (e.url, *e.mirrors)],
            catalogs=catalogs,
        )
        dialog.accepted.connect(lambda: self.apply_settings(dialog))
        dialog.setAttribute(Qt.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def apply_settings(self, dialog) -> None:
        ws = self.store
        edited = dialog.edited()
        # The folder setting changes only once the switch has happened (see FolderChange._finish).
        edited.models_dir = ws.settings.models_dir
        folder = dialog.chosen_folder().expanduser()
        if not str(dialog.chosen_folder()).strip() or not folder.is_absolute():
            self.show_message(
                self.tr("The models folder must be a full path; it stays {folder}").format(
                    folder=ws.library.root
                )
            )
            folder = ws.library.root
        change = folder.resolve() != ws.library.root
        if change and (ws.moving or ws.verifying):
            if ws.moving:
                text = self.tr(
                    "The models folder stays {folder} while a folder move runs; choose it again after"
                )
            else:
                text = self.tr(
                    "The models folder stays {folder} while a verification runs; choose it again after"
                )
            self.show_message(text.format(folder=ws.library.root))
            change = False
        move = False
        if change:
            answer = confirm.move_files(self.ask, folder, ws.library.root)
            if answer is None:
                change = False
            else:
                move = answer
        if change and not self.commands.claim_folder(folder.resolve()):
            self.show_message(
                self.tr("Another ofa-manager window is open on {folder}: it was brought forward").format(
                    folder=folder
                )
            )
            change = False
        self.commands.apply_settings(edited, dialog.changed_tokens)
        if change:
            self.commands.change_folder(folder, move_files=move)
        if edited.language != ws.settings.language:
            self.show_message(
                self.tr("Settings saved; the language changes the next time ofa-manager starts")
            )
        else:
            self.show_message(self.tr("Settings saved"))

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
        fraction, going = self.store.overall_progress()
        if not going:
            self.setWindowTitle(APP_NAME)
            return
        done = percent_text(fraction) if fraction is not None else "…"
        self.setWindowTitle(
            self.tr("{done} — %n download(s) — {app}", "", going).format(done=done, app=APP_NAME)
        )

    def _notify(self, item) -> None:
        from PySide6.QtWidgets import QSystemTrayIcon

        if self.tray is None or not self.store.settings.notifications:
            return
        if item.state is ItemState.FAILED:
            reason = short_reason(item.error, item.error_kind)
            self.tray.showMessage(
                self.tr("Download failed"),
                self.tr("{title}: {reason}").format(title=catalog_text(item.title), reason=reason),
                QSystemTrayIcon.Warning,
            )
        else:
            self.tray.showMessage(
                self.tr("Download finished"),
                self.tr("{title}\n{path}").format(title=catalog_text(item.title), path=item.key),
                QSystemTrayIcon.Information,
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
        store = self.store
        if store.moving and store.moving_to is not None and not getattr(self, "_closing_anyway", False):
            if not confirm.stop_moving(
                self.ask, display_path(store.moving_to), display_path(store.library.root)
            ):
                event.ignore()
                return
        self.commands.save_window(
            bytes(self.saveGeometry().toBase64()).decode(),
            bytes(self.saveState().toBase64()).decode(),
            f"{bytes(self.splitter.saveState().toBase64()).decode()};"
            f"{bytes(self.top_splitter.saveState().toBase64()).decode()}",
        )
        self.workspace.close()
        if self.tray is not None:
            self.tray.hide()
        super().closeEvent(event)
