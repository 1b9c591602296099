"""Item delegates the checkpoint tree and the downloads list share: a progress bar in a cell, elided paths."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QObject, Qt
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionProgressBar


class ProgressDelegate(QStyledItemDelegate):
    """Draws a progress bar where the model gives a fraction (PROGRESS role), else the plain text."""

    def __init__(self, role: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.role = role

    def paint(self, painter, option, index: QModelIndex) -> None:
        fraction = index.data(self.role)
        if fraction is None or fraction < 0:
            super().paint(painter, option, index)
            return
        if option.state & QStyle.State_Selected:
            painter.fillRect(option.rect, option.palette.highlight())
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(2, 3, -2, -3)
        bar.minimum, bar.maximum = 0, 1000
        bar.progress = int(1000 * fraction)
        bar.text = index.data(Qt.DisplayRole) or ""
        bar.textVisible = True
        bar.textAlignment = Qt.AlignCenter
        bar.state = option.state | QStyle.State_Horizontal
        bar.palette = option.palette
        bar.fontMetrics = option.fontMetrics
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawControl(QStyle.CE_ProgressBar, bar, painter, option.widget)


class MiddleElideDelegate(QStyledItemDelegate):
    """Paths lose their middle, not the file name, when the column is narrow."""

    def initStyleOption(self, option, index: QModelIndex) -> None:
        super().initStyleOption(option, index)
        option.textElideMode = Qt.ElideMiddle
