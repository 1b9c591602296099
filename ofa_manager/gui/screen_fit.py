"""Where the window opens and how big: from the screen it opens on, never larger than that screen."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize

# The size the window asks for on a screen that has room for it.
PREFERRED = QSize(1280, 800)
# On a smaller screen it takes this share of the free area, leaving room for a window frame.
SHARE_W, SHARE_H = 0.96, 0.92


def first_geometry(available: QRect) -> QRect:
    """The window's first place: the preferred size where it fits, else most of the free area; centred."""
    width = min(PREFERRED.width(), int(available.width() * SHARE_W))
    height = min(PREFERRED.height(), int(available.height() * SHARE_H))
    rect = QRect(QPoint(0, 0), QSize(width, height))
    rect.moveCenter(available.center())
    return rect


def clamp_to(rect: QRect, available: QRect) -> QRect:
    """A saved place made to fit ``available``: no larger than it, and moved back inside it whole."""
    width = min(rect.width(), available.width())
    height = min(rect.height(), available.height())
    left = min(max(rect.left(), available.left()), available.right() - width + 1)
    top = min(max(rect.top(), available.top()), available.bottom() - height + 1)
    return QRect(left, top, width, height)
