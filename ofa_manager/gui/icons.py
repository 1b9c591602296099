"""The application icon (from the shipped resources) and the few small icons the window draws itself."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap

from ofa_manager import APP_ID


def app_icon() -> QIcon:
    """The hicolor PNGs (and the SVG) shipped in resources; an empty icon while they are missing."""
    icon = QIcon()
    try:
        from ofa_manager.core.resources import resources_dir

        folder = resources_dir()
    except FileNotFoundError:
        return icon
    for png in sorted((folder / "icons" / "hicolor").glob(f"*/apps/{APP_ID}.png")):
        icon.addFile(str(png))
    svg = folder / f"{APP_ID}.svg"
    if icon.isNull() and svg.is_file():
        icon.addFile(str(svg))
    return icon


def shared_file_icon(size: int = 32) -> QIcon:
    """Two chain links: this checkpoint's file is the same file as other checkpoints'."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.Antialiasing)
    pen = QPen(QColor("#3465a4"), size / 9.0)
    painter.setPen(pen)
    painter.translate(size / 2, size / 2)
    painter.rotate(-45)
    w, h = size * 0.46, size * 0.26
    for dx in (-w * 0.36, w * 0.36):
        path = QPainterPath()
        path.addRoundedRect(QRectF(QPointF(dx - w / 2, -h / 2), QPointF(dx + w / 2, h / 2)), h / 2, h / 2)
        painter.drawPath(path)
    painter.end()
    return QIcon(pixmap)


def dot_icon(color: str, size: int = 16) -> QIcon:
    """A filled circle with a thin outline (so a white one shows): the colour key of a figure."""
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.Antialiasing)
    painter.setPen(QPen(QColor("#888a85"), 1))
    painter.setBrush(QColor(color))
    painter.drawEllipse(QRectF(size * 0.2, size * 0.2, size * 0.6, size * 0.6))
    painter.end()
    return QIcon(pixmap)
