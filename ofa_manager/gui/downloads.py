"""The downloads panel: one row per queued file with progress, speed, ETA, connections, state and buttons."""

from __future__ import annotations

import dataclasses
import enum

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QEvent,
    QModelIndex,
    QObject,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionButton,
    QToolBar,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from ofa_manager.core.file_status import State
from ofa_manager.core.states import ACTIVE, CANCELLABLE, ItemState
from ofa_manager.gui.catalog_words import catalog_text
from ofa_manager.gui.commands import Commands
from ofa_manager.gui.delegates import ProgressDelegate, StatusColors
from ofa_manager.gui.i18n import duration_text, percent_text, rate_text, size_text
from ofa_manager.gui.status import failure_detail, item_state_text, queue_state_text
from ofa_manager.gui.store import Store
from ofa_manager.gui.tree import (
    ACCESSIBLE_DESCRIPTION,
    ACCESSIBLE_TEXT,
    ALIGNMENT,
    DISPLAY,
    FOREGROUND,
    NO_PROGRESS,
    TOOLTIP,
)

# The invisible root's index: the default parent (a shared value, never modified).
TOP = QModelIndex()
COL_NAME, COL_PROGRESS, COL_SIZE, COL_SPEED, COL_ETA, COL_CONNECTIONS, COL_STATE, COL_ACTIONS = range(8)
HEADERS = ("Name", "Progress", "Size", "Speed", "Time left", "Conn.", "State", "")


def header_text(column: int) -> str:
    """A column's title in the window's language."""
    return (
        QCoreApplication.translate("DownloadsModel", "Name"),
        QCoreApplication.translate("DownloadsModel", "Progress"),
        QCoreApplication.translate("DownloadsModel", "Size"),
        QCoreApplication.translate("DownloadsModel", "Speed"),
        QCoreApplication.translate("DownloadsModel", "Time left"),
        QCoreApplication.translate("DownloadsModel", "Conn.", "connections"),
        QCoreApplication.translate("DownloadsModel", "State"),
        # The buttons' column is named too: assistive technology reads a header for each column.
        QCoreApplication.translate("DownloadsModel", "Actions"),
    )[column]


def done_of_total(done: float, total: float) -> str:
    """'1.2 GiB of 3.4 GiB'."""
    return QCoreApplication.translate("DownloadsModel", "{done} of {total}").format(
        done=size_text(done), total=size_text(total)
    )


def button_label(action: str) -> str:
    """The text of a row's button, in the window's language."""
    return {
        "pause": QCoreApplication.translate("ButtonsDelegate", "Pause"),
        "resume": QCoreApplication.translate("ButtonsDelegate", "Resume"),
        "cancel": QCoreApplication.translate("ButtonsDelegate", "Cancel"),
        "retry": QCoreApplication.translate("ButtonsDelegate", "Retry"),
        "remove": QCoreApplication.translate("ButtonsDelegate", "Remove"),
        "show": QCoreApplication.translate("ButtonsDelegate", "Show"),
    }[action]


class Role(enum.IntEnum):
    KEY = int(Qt.ItemDataRole.UserRole) + 1  # the file's final path, the queue's key
    PROGRESS = enum.auto()  # fraction done, or NO_PROGRESS when the size is unknown
    ACTIONS = enum.auto()  # the buttons the row offers: a tuple of action names, never None


KEY, PROGRESS, ACTIONS = int(Role.KEY), int(Role.PROGRESS), int(Role.ACTIONS)
ANSWERED = frozenset(
    {DISPLAY, TOOLTIP, ALIGNMENT, FOREGROUND, KEY, PROGRESS, ACTIONS, ACCESSIBLE_TEXT, ACCESSIBLE_DESCRIPTION}
)


def row_actions(item) -> tuple[str, ...]:
    state = item.state
    if state is ItemState.FAILED:
        return ("retry", "remove")
    if state is ItemState.PAUSED:
        return ("resume", "cancel")
    if state is ItemState.DONE:
        return ("show", "remove")
    return ("pause", "cancel")


class DownloadsModel(QAbstractTableModel):
    """The download queue in order; rows are read from the store, which the bridge keeps current."""

    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self._colors = StatusColors()
        self._right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        ws = store
        ws.items_about_to_insert.connect(lambda row: self.beginInsertRows(QModelIndex(), row, row))
        ws.items_inserted.connect(self.endInsertRows)
        ws.items_about_to_remove.connect(lambda row: self.beginRemoveRows(QModelIndex(), row, row))
        ws.items_removed.connect(self.endRemoveRows)
        ws.items_about_to_move.connect(self._about_to_move)
        ws.items_moved.connect(self.endMoveRows)
        ws.items_about_to_reset.connect(self.beginResetModel)
        ws.items_reset.connect(self.endResetModel)
        ws.items_changed.connect(self._rows_changed)
        # A row that has no size of its own shows the tree's (catalog or HEAD probe), which may arrive later.
        ws.entries_changed.connect(self._sizes_changed)
        ws.statuses_changed.connect(self._sizes_changed)

    def _about_to_move(self, row: int, target: int) -> None:
        # Qt counts the destination before the move: moving down lands one past the target row.
        self.beginMoveRows(QModelIndex(), row, row, QModelIndex(), target + 1 if target > row else target)

    def _rows_changed(self, rows: list[int], whole: bool) -> None:
        if rows:
            first, last = (0, len(HEADERS) - 1) if whole else (COL_PROGRESS, COL_STATE)
            self.dataChanged.emit(self.index(rows[0], first), self.index(rows[-1], last))

    def _sizes_changed(self, *args) -> None:
        rows = self.rowCount()
        if rows:
            self.dataChanged.emit(self.index(0, COL_PROGRESS), self.index(rows - 1, COL_SIZE))

    def known_size(self, item) -> int | None:
        """The row's size: the download's own, else the one the tree knows (catalog, disk or probe)."""
        if item.total:
            return item.total
        entries = self.store.entries_of(item.key)
        return self.store.size_of(entries[0]) if entries else None

    def with_partial_data(self, item):
        """A row that is not running and has no progress of its own shows the partial data the tree
        knows (counted as everywhere: core/footprint.py), and the size the tree knows."""
        if item.done or item.state not in (ItemState.PAUSED, ItemState.QUEUED, ItemState.FAILED):
            return item
        entries = self.store.entries_of(item.key)
        status = self.store.status_of(entries[0]) if entries else None
        if status is None or status.state is not State.PARTIAL or not status.bytes:
            return item
        return dataclasses.replace(item, done=status.bytes, total=item.total or self.known_size(item))

    def rowCount(self, parent: QModelIndex = TOP) -> int:
        return 0 if parent.isValid() else self.store.item_count()

    def columnCount(self, parent: QModelIndex = TOP) -> int:
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.DisplayRole):
        if orientation == Qt.Horizontal and role == Qt.DisplayRole and 0 <= section < len(HEADERS):
            return header_text(section)
        return None

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.NoItemFlags
        return Qt.ItemIsEnabled | Qt.ItemIsSelectable

    def key(self, row: int) -> str:
        return self.store.item_at(row).key

    def data(self, index: QModelIndex, role: int = DISPLAY):
        if role not in ANSWERED or not index.isValid() or not 0 <= index.row() < self.store.item_count():
            return None
        column = index.column()
        if role == PROGRESS and column != COL_PROGRESS:
            return NO_PROGRESS
        item = self.with_partial_data(self.store.item_at(index.row()))
        state = item.state
        if role == DISPLAY:
            if column == COL_SIZE and not item.total and not item.done:
                known = self.known_size(item)
                return size_text(known or None)
            return self._text(item, column, state)
        if role == ACCESSIBLE_TEXT or role == ACCESSIBLE_DESCRIPTION:
            return self._accessible(item, column, role)
        if role == KEY:
            return item.key
        if role == PROGRESS:
            return min(1.0, item.done / item.total) if item.total else NO_PROGRESS
        if role == ACTIONS:
            return row_actions(item)
        if role == TOOLTIP:
            if column == COL_NAME:
                names = [catalog_text(e.title) for e in self.store.entries_of(item.key)]
                if not names:
                    return item.key
                return self.tr("{path}\nFile of: {names}").format(path=item.key, names=", ".join(names))
            if column == COL_STATE:
                detail = failure_detail(item) if item.state is ItemState.FAILED else None
                return "\n".join([queue_state_text(item), *filter(None, [detail, item.message])])
            return None
        if role == ALIGNMENT:
            return self._right if column in (COL_SIZE, COL_SPEED, COL_ETA, COL_CONNECTIONS) else None
        if role == FOREGROUND:
            return self._colors["bad"] if column == COL_STATE and state is ItemState.FAILED else None
        return None

    def _accessible(self, item, column: int, role: int) -> str:
        """What assistive technology reads: the buttons drawn on the row by name, a word for an empty cell,
        and the tooltip's longer story (or the progress in full) as the description."""
        labels = [button_label(name) for name in row_actions(item)]
        if column == COL_ACTIONS:
            if role == ACCESSIBLE_TEXT:
                return ", ".join(labels)
            text = QCoreApplication.translate(
                "DownloadsModel", "Buttons of this row: {names}; its context menu offers them too"
            )
            return text.format(names=", ".join(labels))
        if role == ACCESSIBLE_DESCRIPTION:
            if column == COL_PROGRESS:
                return self._text(item, COL_SIZE, item.state)
            index = self.index(self.store.row_of(item.key) or 0, column)
            return self.data(index, TOOLTIP) or ""
        return self._text(item, column, item.state) or QCoreApplication.translate("DownloadsModel", "None")

    @staticmethod
    def _text(item, column: int, state: str) -> str:
        running = state in ACTIVE
        if column == COL_NAME:
            return catalog_text(item.title)
        if column == COL_PROGRESS:
            if item.total:
                return percent_text(item.done / item.total)
            return size_text(item.done) if item.done else ""
        if column == COL_SIZE:
            if state is ItemState.DONE or (item.total and not item.done):
                return size_text(item.total or item.done)
            if item.total:
                return done_of_total(item.done, item.total)
            return size_text(item.done if item.done else None)
        if column == COL_SPEED:
            return rate_text(item.speed) if running and item.speed else ""
        if column == COL_ETA:
            return duration_text(item.eta) if running and item.eta is not None else ""
        if column == COL_CONNECTIONS:
            return str(item.connections) if running and item.connections else ""
        if column == COL_STATE:
            return item_state_text(state) if state is ItemState.DOWNLOADING else queue_state_text(item)
        return ""


class ButtonsDelegate(QStyledItemDelegate):
    """Draws a row's buttons (Pause, Cancel, Retry…) and reports clicks on them.

    Signals:
        clicked(str, str): the row's key and the action whose button was clicked
    """

    clicked = Signal(str, str)
    SPACING = 4

    def button_rects(self, rect: QRect, actions: tuple[str, ...], metrics) -> list[tuple[str, QRect]]:
        rects = []
        x = rect.left() + self.SPACING
        height = min(rect.height() - 4, metrics.height() + 8)
        top = rect.top() + (rect.height() - height) // 2
        for action in actions:
            width = metrics.horizontalAdvance(button_label(action)) + 18
            rects.append((action, QRect(x, top, width, height)))
            x += width + self.SPACING
        return rects

    def paint(self, painter, option, index: QModelIndex) -> None:
        super().paint(painter, option, index)
        style = option.widget.style() if option.widget else QApplication.style()
        actions = index.data(Role.ACTIONS) or ()
        for action, rect in self.button_rects(option.rect, actions, option.fontMetrics):
            button = QStyleOptionButton()
            button.rect = rect
            button.text = button_label(action)
            button.state = QStyle.State_Enabled | QStyle.State_Raised
            button.palette = option.palette
            button.fontMetrics = option.fontMetrics
            style.drawControl(QStyle.CE_PushButton, button, painter, option.widget)

    def sizeHint(self, option, index: QModelIndex) -> QSize:
        rects = self.button_rects(QRect(0, 0, 1000, 30), index.data(Role.ACTIONS) or (), option.fontMetrics)
        width = rects[-1][1].right() + self.SPACING if rects else 0
        return QSize(width, option.fontMetrics.height() + 12)

    def editorEvent(self, event, model, option, index: QModelIndex) -> bool:
        if event.type() == QEvent.MouseButtonRelease and event.button() == Qt.LeftButton:
            for action, rect in self.button_rects(
                option.rect, index.data(Role.ACTIONS) or (), option.fontMetrics
            ):
                if rect.contains(event.position().toPoint()):
                    self.clicked.emit(index.data(Role.KEY), action)
                    return True
        return super().editorEvent(event, model, option, index)


class DownloadsPanel(QWidget):
    """The queue with per-row buttons and buttons for all rows: pause, resume, cancel, move, clear.

    Signals:
        show_file(str): the user wants to see a finished file in its folder
        retry_requested(list): the user wants these failed downloads (keys) tried again; the window
            asks first where a failed copy was kept (it failed its check)
    """

    show_file = Signal(str)
    retry_requested = Signal(list)

    def __init__(self, store: Store, commands: Commands, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.commands = commands
        self.model = DownloadsModel(store, self)
        self.view = QTreeView(self)
        self.view.setObjectName("downloads")
        self.view.setModel(self.model)
        self.view.setRootIsDecorated(False)
        self.view.setUniformRowHeights(True)
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.view.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.view.setMouseTracking(True)
        self.view.setItemDelegateForColumn(COL_PROGRESS, ProgressDelegate(Role.PROGRESS, self.view))
        self.buttons = ButtonsDelegate(self.view)
        self.buttons.clicked.connect(self.act)
        self.view.setItemDelegateForColumn(COL_ACTIONS, self.buttons)
        header = self.view.header()
        header.setStretchLastSection(False)
        # Name and state share the spare width: a failure's reason is what a user reads first.
        header.setSectionResizeMode(COL_NAME, QHeaderView.Stretch)
        header.setSectionResizeMode(COL_STATE, QHeaderView.Stretch)
        metrics = self.fontMetrics()
        big = 1023.9 * 1024 * 1024
        widths = {
            COL_PROGRESS: percent_text(1.0) + "  ",
            COL_SIZE: done_of_total(big, big),
            COL_SPEED: rate_text(1023.9 * 1024 * 1024),
            COL_ETA: duration_text(59 * 60 + 59),
            COL_CONNECTIONS: header_text(COL_CONNECTIONS),
            COL_STATE: item_state_text(ItemState.STALLED) + "  ",
            COL_ACTIONS: f"{button_label('resume')}  {button_label('cancel')}    ",
        }
        for column, sample in widths.items():
            header.resizeSection(column, metrics.horizontalAdvance(sample) + 24)

        title = QLabel("<b>{}</b>".format(self.tr("Downloads")), self)
        self.summary = QLabel(self)
        self.summary.setObjectName("downloads-summary")
        # The summary gives way (and the buttons fold into the toolbar's menu) in a narrow window.
        self.summary.setSizePolicy(QSizePolicy.Ignored, QSizePolicy.Preferred)
        self.toolbar = QToolBar(self.tr("Downloads"), self)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonTextOnly)
        self.tool_buttons: dict[str, QAction] = {}
        for name, text, tip in (
            ("up", self.tr("Move up"), self.tr("Start the selected download earlier")),
            ("down", self.tr("Move down"), self.tr("Start the selected download later")),
            ("pause_all", self.tr("Pause all"), self.tr("Pause every download (partial data is kept)")),
            ("resume_all", self.tr("Resume all"), self.tr("Resume every paused or failed download")),
            (
                "cancel_all",
                self.tr("Cancel all"),
                self.tr("Take every unfinished download off the list (partial data is kept)"),
            ),
            ("clear", self.tr("Clear finished"), self.tr("Remove finished downloads from the list")),
        ):
            action = self.toolbar.addAction(text)
            action.setObjectName(name)
            action.setToolTip(tip)
            action.triggered.connect(lambda _=False, n=name: self.act_on_all(n))
            self.tool_buttons[name] = action
        # The rows' own actions, for the keyboard and the context menu too (the buttons need a mouse).
        # Their keys work in this list only: Delete here never reaches the checkpoint tree's Delete.
        self.row_actions: dict[str, QAction] = {}
        for name, text, keys in (
            ("pause", self.tr("Pause"), ()),
            ("resume", self.tr("Resume"), ()),
            ("retry", self.tr("Retry"), ()),
            ("show", self.tr("Show in Folder"), ()),
            ("up", self.tr("Move Up"), ("Ctrl+Up",)),
            ("down", self.tr("Move Down"), ("Ctrl+Down",)),
            ("remove", self.tr("Take Off the List"), (QKeySequence.Delete,)),
        ):
            action = QAction(text, self.view)
            action.setObjectName(f"row-{name}")
            action.setShortcuts([QKeySequence(k) for k in keys])
            action.setShortcutContext(Qt.WidgetWithChildrenShortcut)
            action.triggered.connect(lambda _=False, n=name: self.act_on_selected(n))
            self.view.addAction(action)
            self.row_actions[name] = action
        self.row_actions["remove"].setToolTip(
            self.tr("Cancel unfinished downloads (their data is kept) or remove rows")
        )
        self.view.setContextMenuPolicy(Qt.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.view.doubleClicked.connect(self._double_clicked)
        bar = QHBoxLayout()
        bar.addWidget(title)
        bar.addWidget(self.summary, 1)
        bar.addWidget(self.toolbar)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.view)
        store.progress_changed.connect(self.update_summary)
        store.items_inserted.connect(self.update_summary)
        store.items_removed.connect(self.update_summary)
        store.items_reset.connect(self.update_summary)
        self.view.selectionModel().selectionChanged.connect(self.update_summary)
        self.update_summary()

    def selected_keys(self) -> list[str]:
        return [index.data(Role.KEY) for index in self.view.selectionModel().selectedRows(COL_NAME)]

    def act(self, key: str, action: str) -> None:
        """A row's button: pause, resume, cancel, retry, remove or show."""
        commands = self.commands
        if not commands.ready:
            return
        if action == "pause":
            commands.pause_key(key)
        elif action == "retry":
            self.retry_requested.emit([key])
        elif action == "resume":
            commands.resume_key(key)
        elif action in ("cancel", "remove"):
            commands.cancel_key(key)
        elif action == "show":
            self.show_file.emit(key)

    def selected_items(self) -> list:
        rows = sorted(index.row() for index in self.view.selectionModel().selectedRows(COL_NAME))
        return [self.store.item_at(row) for row in rows if row < self.store.item_count()]

    def act_on_selected(self, name: str) -> None:
        """One of the rows' actions, on every selected row it applies to (moves keep their order)."""
        if name in ("up", "down"):
            self.act_on_all(name)
            return
        retry = []
        for item in self.selected_items():
            offered = row_actions(item)
            if name == "show":
                if "show" in offered:
                    self.act(item.key, "show")  # one file manager window, for the first finished row
                    return
            elif name == "remove":
                self.act(item.key, "cancel")  # takes any row off: unfinished ones keep their data
            elif name in ("retry", "resume") and "retry" in offered:
                retry.append(item.key)
            elif name in offered:
                self.act(item.key, name)
        if retry:
            self.retry_requested.emit(retry)

    def update_row_actions(self) -> None:
        offered = {name for item in self.selected_items() for name in row_actions(item)}
        self.row_actions["pause"].setEnabled("pause" in offered)
        self.row_actions["resume"].setEnabled(bool(offered & {"resume", "retry"}))
        self.row_actions["retry"].setEnabled("retry" in offered)
        self.row_actions["show"].setEnabled("show" in offered)
        up, down = self.moves()
        self.row_actions["up"].setEnabled(up)
        self.row_actions["down"].setEnabled(down)
        self.row_actions["remove"].setEnabled(bool(offered))

    def moves(self) -> tuple[bool, bool]:
        """Whether Move up and Move down can change anything for the selected rows: only downloads still
        to come (failed ones included) have a place in the order, and only another such row above or
        below is worth passing."""
        rows = {index.row() for index in self.view.selectionModel().selectedRows(COL_NAME)}
        store = self.store
        waiting = [row for row in range(store.item_count()) if store.item_at(row).state in CANCELLABLE]
        chosen = [row for row in waiting if row in rows]
        up = any(other < row for row in chosen for other in waiting)
        down = any(other > row for row in chosen for other in waiting)
        return up, down

    def _double_clicked(self, index: QModelIndex) -> None:
        """A finished row opens its folder (a click on a row's button is the button's, not this)."""
        if index.column() == COL_ACTIONS or not 0 <= index.row() < self.store.item_count():
            return
        item = self.store.item_at(index.row())
        if "show" in row_actions(item):
            self.act(item.key, "show")

    def _context_menu(self, pos) -> None:
        from PySide6.QtWidgets import QMenu

        self.update_row_actions()
        menu = QMenu(self)
        menu.setAttribute(Qt.WA_DeleteOnClose)
        for name in ("pause", "resume", "retry", "show", None, "up", "down", None, "remove"):
            if name is None:
                menu.addSeparator()
            else:
                menu.addAction(self.row_actions[name])
        menu.popup(self.view.viewport().mapToGlobal(pos))

    def button_rect(self, row: int, action: str) -> QRect:
        """Where a row's button is drawn, in viewport coordinates (for keyboard-free clicks and tests)."""
        index = self.model.index(row, COL_ACTIONS)
        rect = self.view.visualRect(index)
        metrics = self.view.fontMetrics()
        for name, button in self.buttons.button_rects(rect, index.data(Role.ACTIONS), metrics):
            if name == action:
                return button
        return QRect()

    def act_on_all(self, name: str) -> None:
        commands = self.commands
        if not commands.ready:
            return
        if name == "pause_all":
            commands.pause_all()
        elif name == "resume_all":
            commands.resume_all()
        elif name == "cancel_all":
            commands.cancel_all()
        elif name == "clear":
            commands.clear_finished()
        elif name in ("up", "down"):
            for key in self.selected_keys():
                commands.move_key(key, -1 if name == "up" else 1)

    def update_summary(self, *args) -> None:
        items = self.store.items()
        running = sum(1 for i in items if i.state in ACTIVE)
        waiting = sum(1 for i in items if i.state is ItemState.QUEUED)
        paused = sum(1 for i in items if i.state is ItemState.PAUSED)
        failed = sum(1 for i in items if i.state is ItemState.FAILED)
        done = sum(1 for i in items if i.state is ItemState.DONE)
        speed = sum(i.speed for i in items if i.state in ACTIVE)
        counts = (
            (running, self.tr("{n} running")),
            (waiting, self.tr("{n} queued")),
            (paused, self.tr("{n} paused")),
            (failed, self.tr("{n} failed")),
            (done, self.tr("{n} finished")),
        )
        parts = [label.format(n=n) for n, label in counts if n]
        if speed:
            parts.append(rate_text(speed))
        self.summary.setText("  ·  ".join(parts) if parts else self.tr("nothing queued"))
        self.update_row_actions()
        up, down = self.moves()
        self.tool_buttons["up"].setEnabled(up)
        self.tool_buttons["down"].setEnabled(down)
        self.tool_buttons["pause_all"].setEnabled(bool(running or waiting))
        self.tool_buttons["resume_all"].setEnabled(bool(paused or failed))
        self.tool_buttons["cancel_all"].setEnabled(bool(running or waiting or paused or failed))
        self.tool_buttons["clear"].setEnabled(bool(done))
