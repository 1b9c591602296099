"""The disk usage panel: a stacked bar of the models folder's volume, the figures, the files by size."""

from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QCoreApplication, QModelIndex, QObject, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGridLayout, QHeaderView, QLabel, QSizePolicy, QTreeView, QVBoxLayout, QWidget

from ofa_manager.gui.i18n import percent_text, size_text
from ofa_manager.gui.icons import dot_icon
from ofa_manager.gui.status import display_path
from ofa_manager.gui.store import Store

# (figure, label, colour): the bar's segments from the left; "rest" is whatever else fills the volume.
SEGMENTS = (
    ("downloaded", "Checkpoints", "#3465a4"),
    ("partial", "Partial files", "#f57900"),
    ("other", "Other data in the folder", "#75507b"),
    ("rest", "Rest of the volume", "#a8aaa5"),
    ("free", "Free", "#ffffff"),
)
# The invisible root's index: the default parent (a shared value, never modified).
TOP = QModelIndex()
COL_FILE, COL_SIZE, COL_SHARE = range(3)


def segment_label(key: str) -> str:
    """The name of one of the bar's segments, in the window's language."""
    return {
        "downloaded": QCoreApplication.translate("DiskPanel", "Checkpoints"),
        "partial": QCoreApplication.translate("DiskPanel", "Partial files"),
        "other": QCoreApplication.translate("DiskPanel", "Other data in the folder"),
        "rest": QCoreApplication.translate("DiskPanel", "Rest of the volume"),
        "free": QCoreApplication.translate("DiskPanel", "Free"),
    }[key]


def figures(usage) -> dict[str, int]:
    """The bar's segments in bytes; they add up to the volume's size."""
    ours = usage.downloaded + usage.partial + usage.other
    rest = max(0, usage.total - usage.free - ours)
    return {
        "downloaded": usage.downloaded,
        "partial": usage.partial,
        "other": usage.other,
        "rest": rest,
        "free": usage.free,
    }


class UsageBar(QWidget):
    """One bar for the whole volume; every non-empty segment stays at least a few pixels wide."""

    MIN_SEGMENT = 3

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)
        # Painted by hand: assistive technology reads its name and, as the description, the figures.
        self.setAccessibleName(self.tr("Disk usage of the models folder's volume"))
        store.usage_changed.connect(self.update)
        store.usage_changed.connect(self._describe)
        self._describe()

    def _describe(self) -> None:
        usage = self.store.usage
        if usage is None:
            self.setAccessibleDescription(self.tr("Not measured yet"))
            return
        values = figures(usage)
        parts = [f"{segment_label(key)}: {size_text(values[key])}" for key, _label, _color in SEGMENTS]
        self.setAccessibleDescription("; ".join(parts))
        self.setToolTip("\n".join(parts))

    def sizeHint(self) -> QSize:
        return QSize(240, 22)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.Antialiasing)
        frame = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        usage = self.store.usage
        if usage is not None and usage.total:
            values = figures(usage)
            widths = {k: frame.width() * v / usage.total for k, v in values.items()}
            for key, value in values.items():
                if value and widths[key] < self.MIN_SEGMENT:
                    widths[key] = self.MIN_SEGMENT
            scale = frame.width() / sum(widths.values())
            x = frame.left()
            for key, _label, color in SEGMENTS:
                width = widths[key] * scale
                painter.fillRect(QRectF(x, frame.top(), width, frame.height()), QColor(color))
                x += width
        painter.setPen(QPen(self.palette().mid().color()))
        painter.setBrush(Qt.NoBrush)
        painter.drawRect(frame)
        painter.end()


class UsageModel(QAbstractTableModel):
    """The files in the models folder by size, each with its share of the checkpoints' total."""

    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        # The rows live in the store: the reset brackets their replacement.
        store.usage_rows_about_to_change.connect(self.beginResetModel)
        store.usage_rows_changed.connect(self.endResetModel)

    def rowCount(self, parent: QModelIndex = TOP) -> int:
        return 0 if parent.isValid() else len(self.store.usage_rows)

    def columnCount(self, parent: QModelIndex = TOP) -> int:
        return 0 if parent.isValid() else 3

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.DisplayRole):
        if orientation == Qt.Horizontal and role == Qt.DisplayRole and 0 <= section < 3:
            return (self.tr("Checkpoint"), self.tr("Size"), self.tr("Share"))[section]
        return None

    def data(self, index: QModelIndex, role: int = Qt.DisplayRole):
        rows = self.store.usage_rows
        if not index.isValid() or not 0 <= index.row() < len(rows):
            return None
        path, size, titles, partial = rows[index.row()]
        column = index.column()
        if role == Qt.DisplayRole:
            if column == COL_FILE:
                name = titles[0] if titles else path
                if len(titles) > 1:
                    name = self.tr("{name} + %n sharing the file", "", len(titles) - 1).format(name=name)
                return self.tr("{name} (partial)").format(name=name) if partial else name
            if column == COL_SIZE:
                return size_text(size)
            if column == COL_SHARE:
                everything = sum(row[1] for row in rows) or 1
                return percent_text(size / everything, rounded=True)
        if role == Qt.ToolTipRole:
            return "\n".join([path, *titles])
        if role == Qt.TextAlignmentRole and column in (COL_SIZE, COL_SHARE):
            return Qt.AlignRight | Qt.AlignVCenter
        return None


class DiskPanel(QWidget):
    """Where the space goes on the models folder's volume; follows downloads and deletes as they happen."""

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.folder = QLabel(self)
        self.folder.setWordWrap(True)
        self.folder.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.bar = UsageBar(store, self)
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        self.figure_labels: dict[str, QLabel] = {}
        for row, (key, _label, color) in enumerate(SEGMENTS):
            dot = QLabel(self)
            dot.setPixmap(dot_icon(color).pixmap(14, 14))
            dot.setAccessibleName(self.tr("Colour of {figure} in the bar").format(figure=segment_label(key)))
            grid.addWidget(dot, row, 0)
            grid.addWidget(QLabel(segment_label(key), self), row, 1)
            value = QLabel("…", self)
            value.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
            grid.addWidget(value, row, 2)
            self.figure_labels[key] = value
        grid.setColumnStretch(1, 1)
        self.model = UsageModel(store, self)
        self.files = QTreeView(self)
        self.files.setObjectName("disk-files")
        self.files.setModel(self.model)
        self.files.setRootIsDecorated(False)
        self.files.setUniformRowHeights(True)
        self.files.setSelectionMode(QTreeView.NoSelection)
        header = self.files.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(COL_FILE, QHeaderView.Stretch)
        header.resizeSection(COL_SIZE, self.fontMetrics().horizontalAdvance(size_text(1023.9 * 2**20)) + 16)
        header.resizeSection(
            COL_SHARE,
            self.fontMetrics().horizontalAdvance(QCoreApplication.translate("UsageModel", "Share")) + 24,
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(QLabel("<b>{}</b>".format(self.tr("Disk usage")), self))
        layout.addWidget(self.folder)
        layout.addWidget(self.bar)
        layout.addLayout(grid)
        layout.addWidget(QLabel("<b>{}</b>".format(self.tr("By size")), self))
        layout.addWidget(self.files, 1)
        store.usage_changed.connect(self.refresh)
        store.folder_changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        usage = self.store.usage
        root = self.store.library.root
        if usage is None:
            self.folder.setText(self.tr("Models folder <b>{folder}</b>").format(folder=display_path(root)))
            for label in self.figure_labels.values():
                label.setText("…")
            return
        self.folder.setText(
            self.tr("Models folder <b>{folder}</b><br>on a volume of {size}").format(
                folder=display_path(root), size=size_text(usage.total)
            )
        )
        values = figures(usage)
        for key, label in self.figure_labels.items():
            label.setText(size_text(values[key]))
        self.figure_labels["free"].setToolTip(
            self.tr("{free} bytes free of {total}").format(free=f"{usage.free:,}", total=f"{usage.total:,}")
        )
