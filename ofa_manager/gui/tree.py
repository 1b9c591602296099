"""The checkpoint tree: groups → sub-groups → checkpoints, over the catalog and the store's states."""

from __future__ import annotations

import enum
import re
from pathlib import Path

from PySide6.QtCore import (
    QAbstractItemModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QFont
from PySide6.QtWidgets import QApplication, QStyle

from ofa_manager.core.catalog import Checkpoint, display_url
from ofa_manager.core.file_status import State
from ofa_manager.core.states import ACTIVE, ItemState
from ofa_manager.gui.catalog_words import catalog_text
from ofa_manager.gui.contents import ContentsWatcher
from ofa_manager.gui.delegates import StatusColors
from ofa_manager.gui.i18n import size_text
from ofa_manager.gui.icons import shared_file_icon
from ofa_manager.gui.status import display_path, status_text, status_tooltip
from ofa_manager.gui.store import Store

# The invisible root's index: the default parent (a shared value, never modified).
TOP = QModelIndex()
COL_NAME, COL_PARAMS, COL_SIZE, COL_STATUS, COL_LOCATION = range(5)
HEADERS = ("Name", "Parameters", "Size", "Status", "Location")


def header_text(column: int) -> str:
    """A column's title in the window's language."""
    return (
        QCoreApplication.translate("CheckpointTreeModel", "Name"),
        QCoreApplication.translate("CheckpointTreeModel", "Parameters"),
        QCoreApplication.translate("CheckpointTreeModel", "Size"),
        QCoreApplication.translate("CheckpointTreeModel", "Status"),
        QCoreApplication.translate("CheckpointTreeModel", "Location"),
    )[column]


_PARAMS = re.compile(r"^\s*([\d.]+)\s*([KMB]?)\s*$", re.IGNORECASE)
_PARAM_FACTORS = {"": 1, "k": 1e3, "m": 1e6, "b": 1e9}


class Role(enum.IntEnum):
    """Data the views and the filter ask for besides what is displayed."""

    ENTRY_ID = int(Qt.ItemDataRole.UserRole) + 1  # a checkpoint's id; "" on group rows
    SORT = enum.auto()  # a value that sorts sensibly (bytes, parameters, state order)
    SEARCH = enum.auto()  # every word the search box matches against
    PROGRESS = enum.auto()  # fraction done while downloading or verifying, else NO_PROGRESS


# Roles as plain ints: data() runs for every painted cell, and enum lookups there add up.
DISPLAY = int(Qt.ItemDataRole.DisplayRole)
DECORATION = int(Qt.ItemDataRole.DecorationRole)
TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
FONT = int(Qt.ItemDataRole.FontRole)
ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
ACCESSIBLE_TEXT = int(Qt.ItemDataRole.AccessibleTextRole)
ACCESSIBLE_DESCRIPTION = int(Qt.ItemDataRole.AccessibleDescriptionRole)
ENTRY_ID, SORT, SEARCH, PROGRESS = int(Role.ENTRY_ID), int(Role.SORT), int(Role.SEARCH), int(Role.PROGRESS)
# Every role this model answers; the view asks for others (size hint, check state, background…) too.
ANSWERED = frozenset(
    {
        DISPLAY,
        DECORATION,
        TOOLTIP,
        FONT,
        ALIGNMENT,
        FOREGROUND,
        ENTRY_ID,
        SORT,
        SEARCH,
        PROGRESS,
        ACCESSIBLE_TEXT,
        ACCESSIBLE_DESCRIPTION,
    }
)

# Computed once: flags() runs for every row whenever the view lays the tree out.
_GROUP_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_CHECKPOINT_FLAGS = _GROUP_FLAGS | Qt.ItemFlag.ItemNeverHasChildren

# What changes in a row; never the search text, so the filter does not re-check the groups above it.
CHANGING_ROLES = [DISPLAY, TOOLTIP, FOREGROUND, DECORATION, SORT, PROGRESS]
PROGRESS_ROLES = [DISPLAY, TOOLTIP, PROGRESS]

# Custom roles never answer None: delegates and sorting read them back through C++, and PySide6 6.12.0
# loses a reference to None each time, which ends in a crash on Python < 3.12.
NO_PROGRESS = -1.0


class Node:
    """One row: a group (``entry`` is None) or a checkpoint. Structure only; states live in the store."""

    __slots__ = ("title", "entry", "parent", "children", "row")

    def __init__(self, title: str, entry: Checkpoint | None, parent: Node | None) -> None:
        self.title = title
        self.entry = entry
        self.parent = parent
        self.children: list[Node] = []
        self.row = 0

    def add(self, child: Node) -> Node:
        child.row = len(self.children)
        self.children.append(child)
        return child

    def entries(self) -> list[Checkpoint]:
        """This checkpoint, or every checkpoint under this group."""
        if self.entry is not None:
            return [self.entry]
        return [entry for child in self.children for entry in child.entries()]


def params_value(text: str | None) -> float:
    """'470M' → 470e6, for sorting by size of the model."""
    match = _PARAMS.match(text or "")
    if not match:
        return 0.0
    return float(match.group(1)) * _PARAM_FACTORS[match.group(2).lower()]


class CheckpointTreeModel(QAbstractItemModel):
    """Groups and checkpoints from the catalog; every state is read from the store when asked."""

    def __init__(self, store: Store, contents: ContentsWatcher, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.contents = contents
        self._root = Node("", None, None)
        self._nodes: dict[str, Node] = {}
        groups: dict[tuple[str, ...], Node] = {}
        for entry in store.catalog:
            parent_node = self._root
            where = store.catalog.tree_path(entry)  # under its catalog's title when there are several
            for depth in range(len(where)):
                path = where[: depth + 1]
                if path not in groups:
                    groups[path] = parent_node.add(Node(catalog_text(path[-1]), None, parent_node))
                parent_node = groups[path]
            title = catalog_text(entry.title)
            self._nodes[entry.id] = parent_node.add(Node(title, entry, parent_node))
        self._shared_icon = shared_file_icon()
        self._warning_icon = QApplication.style().standardIcon(QStyle.SP_MessageBoxWarning)
        self._bold = QFont()
        self._bold.setBold(True)
        self._right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        self._colors = StatusColors()
        store.entries_changed.connect(self._entries_changed)
        store.entries_progressed.connect(self._entries_progressed)
        store.statuses_changed.connect(self._everything_changed)

    # -- structure --------------------------------------------------------------------------------

    def index(self, row: int, column: int, parent: QModelIndex = TOP) -> QModelIndex:
        # Bounds checked here rather than with hasIndex(), which would call rowCount and columnCount
        # back through Qt: every such round trip waits for the interpreter lock.
        node = parent.internalPointer() if parent.isValid() else self._root
        if not (0 <= row < len(node.children) and 0 <= column < len(HEADERS)) or parent.column() > 0:
            return QModelIndex()
        return self.createIndex(row, column, node.children[row])

    def parent(self, index: QModelIndex | None = None):
        if index is None:
            return QObject.parent(self)  # the QObject owner, as Qt's overload without arguments
        if not index.isValid():
            return QModelIndex()
        up = index.internalPointer().parent
        if up is None or up is self._root:
            return QModelIndex()
        return self.createIndex(up.row, 0, up)

    def rowCount(self, parent: QModelIndex = TOP) -> int:
        if parent.column() > 0:
            return 0
        node = parent.internalPointer() if parent.isValid() else self._root
        return len(node.children)

    def columnCount(self, parent: QModelIndex = TOP) -> int:
        return len(HEADERS)

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.NoItemFlags
        # A checkpoint row never has children: saying so spares the view asking each one for its rows.
        return _GROUP_FLAGS if index.internalPointer().entry is None else _CHECKPOINT_FLAGS

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.DisplayRole):
        if orientation == Qt.Horizontal and role == Qt.DisplayRole and 0 <= section < len(HEADERS):
            return header_text(section)
        return None

    def node(self, index: QModelIndex) -> Node | None:
        return index.internalPointer() if index.isValid() else None

    def index_of(self, entry_id: str, column: int = COL_NAME) -> QModelIndex:
        node = self._nodes[entry_id]
        return self.createIndex(node.row, column, node)

    # -- data -------------------------------------------------------------------------------------

    def data(self, index: QModelIndex, role: int = DISPLAY):
        if role not in ANSWERED or not index.isValid():
            return None
        node = index.internalPointer()
        if role == SORT:
            return self._sort_key(node, index.column())
        if role == PROGRESS:
            if node.entry is None or index.column() != COL_STATUS:
                return NO_PROGRESS
            return self._progress(self.store.entry_state(node.entry))
        if role == ACCESSIBLE_TEXT or role == ACCESSIBLE_DESCRIPTION:
            return self._accessible(index, role)
        if node.entry is None:
            return self._group_data(node, index.column(), role)
        return self._entry_data(node.entry, index.column(), role)

    def _accessible(self, index: QModelIndex, role: int) -> str | None:
        """What assistive technology reads: the cell's full text (the progress delegate may show less of
        it), a word for an empty cell, and the tooltip's longer story as the description."""
        if role == ACCESSIBLE_DESCRIPTION:
            return self.data(index, TOOLTIP)
        text = self.data(index, DISPLAY)
        if text:
            return text
        if index.column() == COL_LOCATION:
            return QCoreApplication.translate("CheckpointTreeModel", "No local file")
        return QCoreApplication.translate("CheckpointTreeModel", "None")

    def _sort_key(self, node: Node, column: int) -> str | float:
        """One type per column, for groups and checkpoints alike."""
        entry = node.entry
        if column == COL_NAME:
            return node.title.lower()
        if column == COL_PARAMS:
            return params_value(entry.params) if entry is not None else 0.0
        if column == COL_SIZE:
            if entry is None:
                return float(self._group_size(node.entries())[1])
            return float(self.store.size_of(entry) or 0)
        if column == COL_STATUS:
            if entry is None:
                return self._group_status(node.entries())
            return status_text(self.store.entry_state(entry))
        if entry is None:
            return ""
        return str(self._local_path(entry) or "")

    def _entry_data(self, entry: Checkpoint, column: int, role: int):
        ws = self.store
        if role == ENTRY_ID:
            return entry.id
        if role == SEARCH:
            return " ".join(
                [
                    entry.title,
                    catalog_text(entry.title),
                    entry.id,
                    *entry.group,
                    entry.filename,
                    entry.params or "",
                    entry.description,
                ]
            )
        if column == COL_NAME:
            if role == DISPLAY:
                return self._nodes[entry.id].title
            if role == DECORATION and ws.catalog.sharing(entry):
                return self._shared_icon
            if role == TOOLTIP:
                return self._name_tooltip(entry)
        elif column == COL_PARAMS:
            if role == DISPLAY:
                return entry.params or "—"
            if role == ALIGNMENT:
                return self._right
        elif column == COL_SIZE:
            if role == ALIGNMENT:
                return self._right
            size = ws.size_of(entry)
            if role == DISPLAY:
                return size_text(size)
            if role == TOOLTIP:
                if size is None:
                    return self.tr("Size unknown: the server has not said yet")
                return self.tr("{bytes} bytes").format(bytes=f"{size:,}")
        elif column == COL_STATUS:
            if role not in (DISPLAY, TOOLTIP, FOREGROUND, DECORATION):
                return None
            if role == DECORATION:
                return self._warning_icon if self.contents.mismatch_of(entry) else None
            state = ws.entry_state(entry)
            if role == DISPLAY:
                return status_text(state)
            if role == TOOLTIP:
                mismatch = self.contents.mismatch_of(entry)
                if mismatch:
                    return QCoreApplication.translate(
                        "CheckpointTreeModel", "{status}\n\nThis file {mismatch}."
                    ).format(status=status_tooltip(state), mismatch=mismatch)
                return status_tooltip(state)
            return self._status_color(state)
        elif column == COL_LOCATION:
            if role not in (DISPLAY, TOOLTIP):
                return None
            path = self._local_path(entry)
            if role == DISPLAY:
                return display_path(path) if path is not None else ""
            if path is not None:
                return str(path)
            return self.tr("Will be saved as {path}").format(path=ws.library.path(entry))
        return None

    def _group_data(self, node: Node, column: int, role: int):
        if role == ENTRY_ID:
            return ""
        if role == SEARCH:
            return node.title
        if column == COL_NAME:
            if role == FONT:
                return self._bold
            return node.title if role == DISPLAY else None
        if column == COL_SIZE:
            if role == ALIGNMENT:
                return self._right
            if role == TOOLTIP:
                return self.tr("Total of the distinct files in this group (shared files counted once)")
            if role == DISPLAY:
                return self._group_size(node.entries())[0]
        if column == COL_STATUS and role in (DISPLAY, TOOLTIP):
            return self._group_status(node.entries())
        return "" if role == DISPLAY else None

    def _group_size(self, entries: list[Checkpoint]) -> tuple[str, int]:
        sizes: dict[str, int | None] = {}
        for entry in entries:
            sizes[self.store.key_of(entry)] = self.store.size_of(entry)
        known = [s for s in sizes.values() if s is not None]
        unknown = len(sizes) - len(known)
        total = sum(known)
        if not known:
            return size_text(None), 0
        text = size_text(total)
        if unknown:
            text = self.tr("{size} + %n unknown", "", unknown).format(size=text)
        return text, total

    def _group_status(self, entries: list[Checkpoint]) -> str:
        ws = self.store
        downloaded = sum(
            1 for e in entries if (s := ws.status_of(e)) is not None and s.state is State.DOWNLOADED
        )
        running = sum(1 for e in entries if (i := ws.item_for(e)) is not None and i.state in ACTIVE)
        text = self.tr("{done} of {total} downloaded").format(done=downloaded, total=len(entries))
        return (
            self.tr("{summary}, {running} downloading").format(summary=text, running=running)
            if running
            else text
        )

    def _name_tooltip(self, entry: Checkpoint) -> str:
        ws = self.store
        lines = [f"{catalog_text(entry.title)} ({entry.id})"]
        if entry.description:
            lines.append(entry.description)
        if entry.base and entry.base in ws.catalog:
            lines.append(
                self.tr("Needs the backbone {title}.").format(
                    title=catalog_text(ws.catalog.get(entry.base).title)
                )
            )
        others = ws.catalog.sharing(entry)
        if others:
            lines.append(
                self.tr(
                    "Shares one file ({file}) with: {others}. It is downloaded and stored once; deleting it "
                    "removes it for all of them."
                ).format(
                    file=ws.library.path(entry).name, others=", ".join(catalog_text(o.title) for o in others)
                )
            )
        lines.append(display_url(entry.url))
        return "\n".join(lines)

    def _status_color(self, state) -> QBrush | None:
        item_state = state.queue_state
        status = state.status
        if item_state is ItemState.FAILED or (status is not None and status.state is State.CORRUPT):
            return self._colors["bad"]
        if item_state is None and status is not None and status.state is State.FOREIGN:
            return self._colors["warn"]
        if item_state is not None and item_state is not ItemState.DONE:
            return None
        present = status is not None and status.state in (State.DOWNLOADED, State.IN_STORE)
        if present and state.verifying is None:
            return self._colors["good"]
        if state.link_error:
            return self._colors["warn"]
        return None

    @staticmethod
    def _progress(state) -> float:
        if state.verifying is not None:
            return state.verifying
        item = state.item
        if item is not None and item.state in ACTIVE and item.total:
            return min(1.0, item.done / item.total)
        return NO_PROGRESS

    def _local_path(self, entry: Checkpoint) -> Path | None:
        status = self.store.status_of(entry)
        if status is None or status.state is State.REMOTE:
            return None
        if status.state is State.PARTIAL:
            return self.store.library.part_path(entry)
        if status.state is State.IN_STORE:
            return status.store_path
        return status.path

    # -- change notification ----------------------------------------------------------------------

    def _entries_changed(self, ids: list[str]) -> None:
        groups: dict[int, Node] = {}
        last = len(HEADERS) - 1
        for entry_id in ids:
            node = self._nodes.get(entry_id)
            if node is None:
                continue
            self.dataChanged.emit(
                self.createIndex(node.row, COL_SIZE, node),
                self.createIndex(node.row, last, node),
                CHANGING_ROLES,
            )
            up = node.parent
            while up is not None and up is not self._root:
                groups[id(up)] = up
                up = up.parent
        for group in groups.values():
            self.dataChanged.emit(
                self.createIndex(group.row, COL_SIZE, group),
                self.createIndex(group.row, last, group),
                CHANGING_ROLES,
            )

    def _entries_progressed(self, ids: list[str]) -> None:
        """Only the status cell shows progress; the rest of the row and the groups stay as they are."""
        for entry_id in ids:
            node = self._nodes.get(entry_id)
            if node is not None:
                cell = self.createIndex(node.row, COL_STATUS, node)
                self.dataChanged.emit(cell, cell, PROGRESS_ROLES)

    def _everything_changed(self) -> None:
        last = len(HEADERS) - 1
        pending = [self._root]
        while pending:
            node = pending.pop()
            if not node.children:
                continue
            first, final = node.children[0], node.children[-1]
            self.dataChanged.emit(
                self.createIndex(first.row, 0, first),
                self.createIndex(final.row, last, final),
                CHANGING_ROLES,
            )
            pending.extend(node.children)


class CheckpointFilter(QSortFilterProxyModel):
    """Sorting by meaningful values and the search box: a group stays while any checkpoint in it matches."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setRecursiveFilteringEnabled(True)
        self.setAutoAcceptChildRows(True)
        self.setFilterCaseSensitivity(Qt.CaseInsensitive)
        self.setFilterRole(Role.SEARCH)
        self.setSortRole(Role.SORT)
        self.setSortCaseSensitivity(Qt.CaseInsensitive)
        # Progress text changes ten times a second; re-sorting on every change would make rows jump.
        self.setDynamicSortFilter(False)
