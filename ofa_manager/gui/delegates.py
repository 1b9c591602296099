"""Item delegates the checkpoint tree and the downloads list share: progress in a cell, elided paths."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QObject, QRect, QSize, Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

# The parts of a progress text ("42 % — 3.1 MiB/s — 2 min left"); the middle ones go first when narrow.
SEPARATOR = " — "


def fitting_text(text: str, width: int, metrics) -> str:
    """``text`` as it fits ``width``: whole, else without its middle parts (the speed), so the first part
    (how far) and the last (how long) stay whole; cut with an ellipsis only when the first alone is too wide.
    """
    if metrics.horizontalAdvance(text) <= width:
        return text
    parts = text.split(SEPARATOR)
    while len(parts) > 2:
        del parts[-2]
        shorter = SEPARATOR.join(parts)
        if metrics.horizontalAdvance(shorter) <= width:
            return shorter
    if len(parts) == 2 and metrics.horizontalAdvance(parts[0]) <= width:
        return parts[0]
    return metrics.elidedText(parts[0], Qt.ElideRight, width)


class ProgressDelegate(QStyledItemDelegate):
    """Where the model gives a fraction (the PROGRESS role): the text plain, in the palette's text colour
    (the highlighted text colour on a selected row), with a slim bar under it. Else the plain cell.

    The text never sits on the bar, so it reads the same selected or not, in a light or a dark palette;
    the tooltip keeps the full story when the column is too narrow for every part of the text.
    """

    BAR_HEIGHT = 3
    MARGIN = 4

    def __init__(self, role: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.role = role

    def sizeHint(self, option, index: QModelIndex) -> QSize:
        size = super().sizeHint(option, index)
        # Room for the bar under the text, on every row (the rows keep one height).
        return QSize(size.width(), max(size.height(), option.fontMetrics.height() + self.BAR_HEIGHT + 3))

    def paint(self, painter, option, index: QModelIndex) -> None:
        fraction = index.data(self.role)
        if fraction is None or fraction < 0:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text = opt.text
        opt.text = ""
        widget = option.widget
        style = widget.style() if widget else QApplication.style()
        # The cell's own background: selection, alternate rows, hover; the text is drawn here.
        style.drawControl(QStyle.CE_ItemViewItem, opt, painter, widget)
        selected = bool(option.state & QStyle.State_Selected)
        group = QPalette.Normal if option.state & QStyle.State_Active else QPalette.Inactive
        if not option.state & QStyle.State_Enabled:
            group = QPalette.Disabled
        palette = option.palette
        ink = palette.color(group, QPalette.HighlightedText if selected else QPalette.Text)
        fill = ink if selected else palette.color(group, QPalette.Highlight)
        cell = option.rect.adjusted(self.MARGIN, 0, -self.MARGIN, -1)
        bar = QRect(cell.left(), cell.bottom() - self.BAR_HEIGHT + 1, cell.width(), self.BAR_HEIGHT)
        text_rect = QRect(cell.left(), cell.top(), cell.width(), bar.top() - cell.top())
        painter.save()
        track = QColor(ink)
        track.setAlpha(60)
        painter.fillRect(bar, track)
        done = QRect(bar.left(), bar.top(), round(bar.width() * min(1.0, fraction)), bar.height())
        painter.fillRect(done, fill)
        painter.setPen(ink)
        painter.setFont(opt.font)
        shown = fitting_text(text, text_rect.width(), opt.fontMetrics)
        painter.drawText(text_rect, int(Qt.AlignLeft | Qt.AlignVCenter), shown)
        painter.restore()


class MiddleElideDelegate(QStyledItemDelegate):
    """Paths lose their middle, not the file name, when the column is narrow."""

    def initStyleOption(self, option, index: QModelIndex) -> None:
        super().initStyleOption(option, index)
        option.textElideMode = Qt.ElideMiddle
