"""The checkpoint tree: groups → sub-groups → checkpoints, over the catalog and the workspace's states."""

from __future__ import annotations

import enum
import re
from pathlib import Path

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QObject, QSortFilterProxyModel, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from ofa_manager.core import units
from ofa_manager.core.catalog import Checkpoint
from ofa_manager.core.library import State
from ofa_manager.gui.icons import shared_file_icon
from ofa_manager.gui.status import ACTIVE, FAILED, status_text, status_tooltip
from ofa_manager.gui.workspace import Workspace

COL_NAME, COL_PARAMS, COL_SIZE, COL_STATUS, COL_LOCATION = range(5)
HEADERS = ("Name", "Parameters", "Size", "Status", "Location")

_PARAMS = re.compile(r"^\s*([\d.]+)\s*([KMB]?)\s*$", re.IGNORECASE)
_PARAM_FACTORS = {"": 1, "k": 1e3, "m": 1e6, "b": 1e9}


class Role(enum.IntEnum):
    """Data the views and the filter ask for besides what is displayed."""

    ENTRY_ID = int(Qt.ItemDataRole.UserRole) + 1  # a checkpoint's id; "" on group rows
    SORT = enum.auto()  # a value that sorts sensibly (bytes, parameters, state order)
    SEARCH = enum.auto()  # every word the search box matches against
    PROGRESS = enum.auto()  # fraction done while downloading or verifying, else None


class Node:
    """One row: a group (``entry`` is None) or a checkpoint. Structure only; states live in the workspace."""

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


def display_path(path: Path) -> str:
    home = str(Path.home())
    text = str(path)
    return "~" + text[len(home):] if home != "/" and text.startswith(home + "/") else text


class CheckpointTreeModel(QAbstractItemModel):
    """Groups and checkpoints from the catalog; every state is read from the workspace when asked."""

    def __init__(self, workspace: Workspace, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        self._root = Node("", None, None)
        self._nodes: dict[str, Node] = {}
        groups: dict[tuple[str, ...], Node] = {}
        for entry in workspace.catalog:
            parent_node = self._root
            for depth in range(len(entry.group)):
                path = entry.group[: depth + 1]
                if path not in groups:
                    groups[path] = parent_node.add(Node(path[-1], None, parent_node))
                parent_node = groups[path]
            self._nodes[entry.id] = parent_node.add(Node(entry.title, entry, parent_node))
        self._shared_icon = shared_file_icon()
        self._bold = QFont()
        self._bold.setBold(True)
        self._colors = {"bad": QBrush(QColor("#b3261e")), "good": QBrush(QColor("#1e6b34")),
                        "warn": QBrush(QColor("#8a5300"))}
        workspace.entries_changed.connect(self._entries_changed)
        workspace.statuses_changed.connect(self._everything_changed)

    # -- structure --------------------------------------------------------------------------------

    def index(self, row: int, column: int, parent: QModelIndex = QModelIndex()) -> QModelIndex:
        if not self.hasIndex(row, column, parent):
            return QModelIndex()
        node = parent.internalPointer() if parent.isValid() else self._root
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

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        if parent.column() > 0:
            return 0
        node = parent.internalPointer() if parent.isValid() else self._root
        return len(node.children)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return len(HEADERS)

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.NoItemFlags
        return Qt.ItemIsEnabled | Qt.ItemIsSelectable

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.DisplayRole):
        if orientation == Qt.Horizontal and role == Qt.DisplayRole and 0 <= section < len(HEADERS):
            return HEADERS[section]
        return None

    def node(self, index: QModelIndex) -> Node | None:
        return index.internalPointer() if index.isValid() else None

    def index_of(self, entry_id: str, column: int = COL_NAME) -> QModelIndex:
        node = self._nodes[entry_id]
        return self.createIndex(node.row, column, node)

    # -- data -------------------------------------------------------------------------------------

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole):
        if not index.isValid():
            return None
        node = index.internalPointer()
        if node.entry is None:
            return self._group_data(node, index.column(), role)
        return self._entry_data(node.entry, index.column(), role)

    def _entry_data(self, entry: Checkpoint, column: int, role: int):
        ws = self.workspace
        if role == Role.ENTRY_ID:
            return entry.id
        if role == Role.SEARCH:
            return " ".join([entry.title, entry.id, *entry.group, entry.filename, entry.params or "",
                             entry.description])
        if column == COL_NAME:
            if role == Qt.DisplayRole:
                return entry.title
            if role == Qt.DecorationRole and ws.catalog.sharing(entry):
                return self._shared_icon
            if role == Qt.ToolTipRole:
                return self._name_tooltip(entry)
            if role == Role.SORT:
                return entry.title.lower()
        elif column == COL_PARAMS:
            if role == Qt.DisplayRole:
                return entry.params or "—"
            if role == Qt.TextAlignmentRole:
                return Qt.AlignRight | Qt.AlignVCenter
            if role == Role.SORT:
                return params_value(entry.params)
        elif column == COL_SIZE:
            size = ws.size_of(entry)
            if role == Qt.DisplayRole:
                return units.size(size)
            if role == Qt.TextAlignmentRole:
                return Qt.AlignRight | Qt.AlignVCenter
            if role == Role.SORT:
                return float(size or 0)
            if role == Qt.ToolTipRole:
                return f"{size:,} bytes" if size is not None else "Size unknown: the server has not said yet"
        elif column == COL_STATUS:
            state = ws.entry_state(entry)
            if role == Qt.DisplayRole:
                return status_text(state)
            if role == Qt.ToolTipRole:
                return status_tooltip(state)
            if role == Qt.ForegroundRole:
                return self._status_color(state)
            if role == Role.PROGRESS:
                return self._progress(state)
            if role == Role.SORT:
                return status_text(state)
        elif column == COL_LOCATION:
            path = self._local_path(entry)
            if role == Qt.DisplayRole:
                return display_path(path) if path is not None else ""
            if role == Qt.ToolTipRole:
                return str(path) if path is not None else f"Will be saved as {ws.library.path(entry)}"
            if role == Role.SORT:
                return str(path or "")
        return None

    def _group_data(self, node: Node, column: int, role: int):
        if role == Role.ENTRY_ID:
            return ""
        if role == Role.SEARCH:
            return node.title
        if role == Qt.FontRole and column == COL_NAME:
            return self._bold
        entries = node.entries()
        if column == COL_NAME and role in (Qt.DisplayRole, Role.SORT):
            return node.title
        if column == COL_SIZE:
            text, total = self._group_size(entries)
            if role == Qt.DisplayRole:
                return text
            if role == Qt.TextAlignmentRole:
                return Qt.AlignRight | Qt.AlignVCenter
            if role == Role.SORT:
                return float(total)
            if role == Qt.ToolTipRole:
                return "Total of the distinct files in this group (shared files counted once)"
        if column == COL_STATUS and role in (Qt.DisplayRole, Role.SORT, Qt.ToolTipRole):
            return self._group_status(entries)
        return "" if role == Qt.DisplayRole else None

    def _group_size(self, entries: list[Checkpoint]) -> tuple[str, int]:
        sizes: dict[str, int | None] = {}
        for entry in entries:
            sizes[self.workspace.key_of(entry)] = self.workspace.size_of(entry)
        known = [s for s in sizes.values() if s is not None]
        unknown = len(sizes) - len(known)
        total = sum(known)
        if not known:
            return "unknown", 0
        text = units.size(total)
        return (f"{text} + {unknown} unknown" if unknown else text), total

    def _group_status(self, entries: list[Checkpoint]) -> str:
        ws = self.workspace
        downloaded = sum(1 for e in entries if (s := ws.status_of(e)) is not None and s.state is State.DOWNLOADED)
        running = sum(1 for e in entries if (i := ws.item_for(e)) is not None and i.state.value in ACTIVE)
        text = f"{downloaded} of {len(entries)} downloaded"
        return f"{text}, {running} downloading" if running else text

    def _name_tooltip(self, entry: Checkpoint) -> str:
        ws = self.workspace
        lines = [f"{entry.title} ({entry.id})"]
        if entry.description:
            lines.append(entry.description)
        if entry.base and entry.base in ws.catalog:
            lines.append(f"Needs the backbone {ws.catalog.get(entry.base).title}.")
        others = ws.catalog.sharing(entry)
        if others:
            lines.append(f"Shares one file ({ws.library.path(entry).name}) with: "
                         + ", ".join(o.title for o in others)
                         + ". It is downloaded and stored once; deleting it removes it for all of them.")
        lines.append(entry.url)
        return "\n".join(lines)

    def _status_color(self, state) -> QBrush | None:
        item_state = state.queue_state
        status = state.status
        if item_state == FAILED or (status is not None and status.state is State.CORRUPT):
            return self._colors["bad"]
        if item_state is not None and item_state != "done":
            return None
        if status is not None and status.state is State.DOWNLOADED and state.verifying is None:
            return self._colors["good"]
        if state.link_error:
            return self._colors["warn"]
        return None

    @staticmethod
    def _progress(state) -> float | None:
        if state.verifying is not None:
            return state.verifying
        item = state.item
        if item is not None and item.state.value in ACTIVE and item.total:
            return min(1.0, item.done / item.total)
        return None

    def _local_path(self, entry: Checkpoint) -> Path | None:
        status = self.workspace.status_of(entry)
        if status is None or status.state is State.REMOTE:
            return None
        if status.state is State.PARTIAL:
            return self.workspace.library.part_path(entry)
        return status.path

    # -- change notification ----------------------------------------------------------------------

    def _entries_changed(self, ids: list[str]) -> None:
        groups: dict[int, Node] = {}
        last = len(HEADERS) - 1
        for entry_id in ids:
            node = self._nodes.get(entry_id)
            if node is None:
                continue
            self.dataChanged.emit(self.createIndex(node.row, COL_SIZE, node),
                                  self.createIndex(node.row, last, node))
            up = node.parent
            while up is not None and up is not self._root:
                groups[id(up)] = up
                up = up.parent
        for group in groups.values():
            self.dataChanged.emit(self.createIndex(group.row, COL_SIZE, group),
                                  self.createIndex(group.row, last, group))

    def _everything_changed(self) -> None:
        last = len(HEADERS) - 1
        pending = [self._root]
        while pending:
            node = pending.pop()
            if not node.children:
                continue
            first, final = node.children[0], node.children[-1]
            self.dataChanged.emit(self.createIndex(first.row, 0, first), self.createIndex(final.row, last, final))
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
