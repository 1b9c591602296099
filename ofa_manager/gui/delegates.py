"""Item delegates the checkpoint tree and the downloads list share: progress in a cell, elided paths."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QObject, QRect, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyle, QStyledItemDelegate, QStyleOptionViewItem

# Status texts in colour, for a light and for a dark base: each reads at 4.5:1 or more on its base.
STATUS_COLORS = {
    False: {"bad": "#b3261e", "good": "#1e6b34", "warn": "#8a5300"},
    True: {"bad": "#ff8a80", "good": "#7fd18b", "warn": "#f0b45a"},
}


class StatusColors:
    """The brushes of good, bad and warning texts, for the application's palette as it is now (a dark
    theme gets the light variants, so a failure or a verified file reads on it too)."""

    def __init__(self) -> None:
        self._key: int | None = None
        self._brushes: dict[str, QBrush] = {}

    def __getitem__(self, name: str) -> QBrush:
        palette = QGuiApplication.palette()
        if palette.cacheKey() != self._key:
            dark = palette.color(QPalette.Base).lightness() < 128
            self._brushes = {key: QBrush(QColor(value)) for key, value in STATUS_COLORS[dark].items()}
            self._key = palette.cacheKey()
        return self._brushes[name]


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
        # Centred in the row like the neighbouring cells' text; the row's extra height holds the bar.
        text_rect = QRect(cell.left(), option.rect.top(), cell.width(), option.rect.height() - 1)
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
