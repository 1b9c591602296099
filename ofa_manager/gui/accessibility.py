"""Names for the parts of a window that Qt builds without one (overflow buttons, clear buttons)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QLineEdit, QToolBar, QToolButton, QWidget


def name_built_in_parts(window: QWidget) -> None:
    """Give Qt's own helper buttons a name assistive technology can read: a toolbar's overflow button and
    a line edit's clear button come without one."""
    for bar in window.findChildren(QToolBar):
        for button in bar.findChildren(QToolButton, "qt_toolbar_ext_button"):
            button.setAccessibleName(QCoreApplication.translate("Accessibility", "More buttons"))
            button.setToolTip(QCoreApplication.translate("Accessibility", "More buttons"))
    for edit in window.findChildren(QLineEdit):
        if edit.isClearButtonEnabled():
            for button in edit.findChildren(QToolButton):
                if not button.accessibleName() and not button.text():
                    button.setAccessibleName(QCoreApplication.translate("Accessibility", "Clear"))
